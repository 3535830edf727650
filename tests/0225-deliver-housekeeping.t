#!/bin/sh
# The housekeeping every claim runs first (DESIGN 5): poison rows, rows
# of inactive users, held rows past hold_max_age -- what each does, and
# that none of them walks the queue (each claim must stay O(batch)).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

for t in 1 2; do
	fixture_task "$t" 10 NULL 2
	fixture_event TASK_CREATED "$t" 1 10 NULL 2
done
corp-event route >/dev/null
is "$(sql "SELECT count(*) FROM deliveries")" 8 "8 rows: boss, ann, bob, sam x 2"

# Poison: the 4th expiry returns the row, the 5th fails it.
sql "UPDATE deliveries SET lease_expiries = 3, lease_token = 'x',
    lease_until = 1 WHERE id = 1;
UPDATE deliveries SET lease_expiries = 4, lease_token = 'y',
    lease_until = 1 WHERE id = 2"
corp-deliver pending --channel telegram --peek >/dev/null
is "$(sql "SELECT lease_token FROM deliveries WHERE id IN (1, 2) ORDER BY id" | tr '\n' ' ')" "x y " \
    "peek runs no housekeeping"
corp-deliver pending --channel telegram --limit 1 > "$T/p"
is "$(sql "SELECT id, status, lease_expiries, coalesce(error, '-') FROM deliveries
    WHERE id IN (1, 2) ORDER BY id" | tr '\n' ' ')" \
    "1|PENDING|4|- 2|FAILED|5|lease expired 5 times " \
    "4th expiry: back to PENDING; 5th: FAILED"
is "$(sql "SELECT count(*) FROM deliveries WHERE id = 2 AND lease_token IS NOT NULL")" 0 \
    "the failed row holds no lease"
sql "UPDATE deliveries SET lease_token = NULL, lease_until = NULL, worker = NULL
    WHERE status = 'PENDING'"

# An inactive user's unleased rows fail when claimed; others stay.
sql "UPDATE users SET active = 0 WHERE id = 12"
corp-deliver pending --channel telegram --limit 1 >/dev/null
is "$(sql "SELECT user_id, status, coalesce(error, '-') FROM deliveries
    WHERE id <> 2 ORDER BY id" | tr '\n' ' ')" \
    "10|PENDING|- 12|FAILED|user_inactive 14|PENDING|- 10|PENDING|- 11|PENDING|- 12|FAILED|user_inactive 14|PENDING|- " \
    "bob's rows FAILED user_inactive, nobody else's"
sql "UPDATE deliveries SET lease_token = NULL, lease_until = NULL, worker = NULL
    WHERE status = 'PENDING'"

# Held rows past hold_max_age (7d) fail expired_unbound at a claim.
sql "UPDATE deliveries SET readiness = 'waiting_bind', waiting_since = 0
    WHERE id = 4"
sql "UPDATE deliveries SET readiness = 'waiting_bind',
    waiting_since = strftime('%s', '2026-01-05T09:00:00') WHERE id = 5"
corp-deliver pending --channel telegram --limit 1 >/dev/null
is "$(sql "SELECT id, status, coalesce(error, '-') FROM deliveries
    WHERE id IN (4, 5) ORDER BY id" | tr '\n' ' ')" \
    "4|FAILED|expired_unbound 5|PENDING|- " "held 7d+: FAILED; held 1h: waits"

# The plans: no housekeeping statement scans deliveries or walks every
# PENDING row (deliveries_status), without statistics and with those
# ANALYZE takes of a big queue (faked: this one has 8 rows, where a scan
# is rightly cheapest).  SQLite's planner: EXPLAIN QUERY PLAN and
# sqlite_stat1.
if if_sqlite "EXPLAIN QUERY PLAN and sqlite_stat1 are SQLite's planner"; then
	strings -n 8 "$(command -v corp-deliver)" | grep -E \
	    '^UPDATE deliveries (INDEXED BY [a-z_]+ )?SET .*(lease_expiries \+ 1|user_inactive|expired_unbound)' \
	    > "$T/sql"
	is "$(wc -l < "$T/sql" | tr -d ' ')" 4 "4 housekeeping statements found in the binary"
	plans() {
		while IFS= read -r q; do
			sql "EXPLAIN QUERY PLAN $q"
		done < "$T/sql"
	}
	unlike "$(plans)" 'SCAN deliveries$|deliveries_status' "no table scan, no walk of the queue"
	sql "ANALYZE; DELETE FROM sqlite_stat1 WHERE tbl = 'deliveries';
	INSERT INTO sqlite_stat1 VALUES ('deliveries', NULL, '1000000'),
	    ('deliveries', 'deliveries_status', '1000000 500000 500000'),
	    ('deliveries', 'deliveries_user', '1000000 100 50'),
	    ('deliveries', 'sqlite_autoindex_deliveries_1', '1000000 100 1 1')"
	unlike "$(plans)" 'SCAN deliveries$|deliveries_status' \
	    "the same with ANALYZE's statistics of a big queue"
fi
done_testing
