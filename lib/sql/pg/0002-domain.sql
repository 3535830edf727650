-- PostgreSQL only: a committed insert into events wakes every LISTEN corp
-- (corp-event tail --follow, route --follow).  One notification per
-- statement; PostgreSQL folds equal ones of a transaction into one.
CREATE FUNCTION corp_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('corp', TG_TABLE_NAME);
	RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION corp_notify();
