-- The claim's gap check (lib/queue.c SQL_CLAIM_PG_GAP) looks, for each
-- row it leased, for an earlier ready PENDING row of the same user and
-- channel: through deliveries_user (user_id, status) it read every
-- PENDING row of the user from the table, O(backlog) per leased row
-- (15 ms a claim at 100 PENDING rows per user).  Here it is a range of
-- this index that holds, in a drain, nothing before the leased row.
CREATE INDEX deliveries_user_ready ON deliveries(channel, user_id, event_id)
    WHERE status = 'PENDING' AND readiness = 'ready';
-- 0003's statement trigger ran a PL/pgSQL function over a transition
-- table of every updated row on every UPDATE of deliveries: each process
-- that leased or acked (a new connection) compiled the function and
-- planned its query (5-15 ms on a loaded machine) to find, for a lease
-- or an ack to SENT, nothing to tell, and every UPDATE kept a copy of its
-- rows for it.  A row trigger whose WHEN picks the rows that became
-- claimable (PENDING without a lease, what the function looked for)
-- calls no function for the others.  pg_notify folds the same
-- notification within a transaction into one, so listeners get what
-- they got before: one 'deliveries' per transaction that made a row
-- claimable.
DROP TRIGGER deliveries_notify_update ON deliveries;
CREATE FUNCTION corp_notify_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('corp', TG_TABLE_NAME);
	RETURN NULL;
END $$;
CREATE TRIGGER deliveries_notify_update AFTER UPDATE ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'PENDING' AND NEW.lease_token IS NULL)
    EXECUTE FUNCTION corp_notify_row();
