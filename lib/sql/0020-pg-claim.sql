-- 0020-pg-claim: PostgreSQL only (lib/sql/pg/0020-pg-claim.sql; issue
-- 18): an index for the claim's per-user order check and a notify
-- trigger that costs an UPDATE nothing unless a row becomes claimable.
-- SQLite needs neither: its claim holds the writers' lock and checks no
-- gap, and it has no LISTEN.  This step only moves its version.
PRAGMA user_version = 20;
