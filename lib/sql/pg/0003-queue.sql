-- PostgreSQL only: new or returned deliveries wake idle workers
-- (corp-deliver run) waiting on LISTEN corp.
CREATE TRIGGER deliveries_notify AFTER INSERT OR UPDATE ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION corp_notify();

-- The Telegram limiter shared by every host (DESIGN 9): its times come
-- from the server's clock_timestamp(), the one SQL that reads a clock.
