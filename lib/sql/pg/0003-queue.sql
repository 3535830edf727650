-- PostgreSQL only: new or returned deliveries wake idle workers
-- (corp-deliver run) waiting on LISTEN corp.
CREATE TRIGGER deliveries_notify AFTER INSERT OR UPDATE ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION corp_notify();
