-- PostgreSQL only: rows a worker could claim -- new, or returned PENDING
-- without a lease (a retry, an expired lease, a requeue) -- wake idle
-- workers (corp-deliver run) waiting on LISTEN corp.  Only such rows:
-- a claim's own updates (leases, and housekeeping that finds nothing)
-- must not wake the other idle workers, which would then claim, find
-- nothing and wake the first, for ever.
CREATE FUNCTION corp_notify_claimable() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM changed WHERE status = 'PENDING'
	    AND lease_token IS NULL) THEN
		PERFORM pg_notify('corp', TG_TABLE_NAME);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER deliveries_notify_insert AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION corp_notify_claimable();
CREATE TRIGGER deliveries_notify_update AFTER UPDATE ON deliveries
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION corp_notify_claimable();
