-- 0021-claim-held: rows of one user stay in order across retries
-- (sec-review-11 finding 2).  A claim passes over a row while an earlier
-- row of its user and channel is PENDING and not yet due (lib/queue.c
-- CLAIM_HELD): this index holds each (channel, user)'s ready PENDING
-- rows by not_before, so the check reads only the user's rows not yet
-- due (none in a drain) instead of every PENDING row of the user.
CREATE INDEX deliveries_user_due ON deliveries(channel, user_id,
    not_before) WHERE status = 'PENDING' AND readiness = 'ready';

PRAGMA user_version = 21;
