-- 0022-ack-indexes: an ack to SENT leaves the status indexes instead of
-- rewriting them (issue 18).  deliveries_status (status, channel) and
-- deliveries_user (user_id, status) held every row, so each UPDATE to
-- SENT deleted the row's entry and wrote a new one in both (and, on
-- PostgreSQL, whose UPDATE of an indexed column is never HOT, added a
-- new entry to each).  Every statement of corp that reads through them
-- names PENDING (the claims' housekeeping, mutes, quiet hours, binds,
-- cancel, the cursor's watermark) or FAILED (dead letters); what reads
-- SENT rows (purge, check, stats) reads most of the table and scans it.
-- Kept to those rows, they are written when a row leaves PENDING for
-- FAILED and left with one delete when it becomes SENT, and stay small
-- as SENT rows pile up.  SQLite uses a partial index when the query's
-- WHERE holds one side of its OR (status = 'PENDING' implies it).
DROP INDEX deliveries_status;
CREATE INDEX deliveries_status ON deliveries(status, channel)
    WHERE status = 'PENDING' OR status = 'FAILED';
DROP INDEX deliveries_user;
CREATE INDEX deliveries_user ON deliveries(user_id, status)
    WHERE status = 'PENDING';

PRAGMA user_version = 22;
