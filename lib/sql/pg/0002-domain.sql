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

-- Event ids as readers see them never go backwards (DESIGN 9,
-- corp-db(1)).  A sequence hands out ids in call order but transactions
-- commit in any order, so a reader could see id N and later find N - 1
-- committed.  Every insert into events first takes the writers' lock
-- (the same transaction-scoped advisory lock as corp_db_begin), before
-- any id is drawn, and holds it to commit: ids are drawn and committed
-- one transaction at a time, whoever inserts (corp, psql, another
-- program).  The identity sequence must keep CACHE 1 (the default): a
-- session's cached ids would be handed out out of order.
CREATE FUNCTION corp_events_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(1129271888);
	RETURN NULL;
END $$;
CREATE TRIGGER events_lock BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION corp_events_lock();
