-- 0006-held: rows held by retries that never reached their server (an
-- outage, a configuration error) fail once held longer than
-- hold_max_age (corp-deliver.1, ack).

-- When the row's current run of "attempted": false retries began: set
-- by the first such ack, kept by the next ones, cleared by any ack of
-- an attempt (sent, failed, unbound, an attempted retry) and by
-- requeue.  NULL when the row is not held.
ALTER TABLE deliveries ADD COLUMN held_since INTEGER;

PRAGMA user_version = 9;
