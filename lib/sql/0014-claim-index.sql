-- 0014-claim-index: run's claim (by priority) walks an index in its own
-- order (issue 18, lever 2).  The claim takes ready PENDING rows of one
-- channel by priority (urgent, p2p, broadcast), then event_id, user_id
-- (corp-deliver.1 "run").  Through deliveries_ready (event order) it had
-- to read and sort every such row of the channel on each claim: O(queue).
-- The CHECK on priority allows three values whose byte order, descending,
-- is that rank (urgent > p2p > broadcast; PostgreSQL's columns are
-- COLLATE "C"), so "priority DESC, event_id, user_id" is the claim's
-- order and this index serves it: a claim reads its batch and stops.
-- not_before is in the index so rows not yet due are passed over
-- without reading the table.
CREATE INDEX deliveries_priority ON deliveries(channel, priority DESC,
    event_id, user_id, not_before)
    WHERE status = 'PENDING' AND readiness = 'ready';

PRAGMA user_version = 14;
