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
is "$(sql "SELECT lease_token FROM deliveries WHERE id IN (1, 2)" | tr '\n' ' ')" "x y " \
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
# ANALYZE takes of a big queue (SQLite: faked, this one has 8 rows, where
# a scan is rightly cheapest; PostgreSQL: made below).
strings -n 8 "$(command -v corp-deliver)" | grep -E \
    '^UPDATE deliveries (INDEXED BY [a-z_]+ )?SET .*(lease_expiries \+ 1|user_inactive|expired_unbound)' \
    > "$T/sql"
is "$(wc -l < "$T/sql" | tr -d ' ')" 4 "4 housekeeping statements found in the binary"
if pg_mode; then
	# PostgreSQL: a big queue, ANALYZEd (its statistics cannot be faked):
	# 1000 more users with 30 rows each, half of them PENDING; each
	# statement's plan with its values, and the generic plan that a
	# long-running claimer (corp-deliver run) may settle on.
	ok "a big queue" sql "INSERT INTO users (login, name, created_at,
	    updated_at) SELECT 'big' || i, 'Big' || i, 0, 0
	    FROM generate_series(1, 1000) i;
	INSERT INTO events (event_type, occurred_at, trace_id, dedupe_key)
	    SELECT 'TASK_CREATED', 0, 'big:' || i, 'big:' || i
	    FROM generate_series(1, 30) i;
	INSERT INTO deliveries (event_id, user_id, channel, role, roles,
	    priority, template, status, created_at, updated_at)
	    SELECT e.event_id, u.id, 'telegram', 'executor', 'executor', 'p2p',
	    'task_created', CASE WHEN e.event_id % 2 = 0 THEN 'PENDING'
	    ELSE 'SENT' END, 0, 0 FROM events e CROSS JOIN users u
	    WHERE e.trace_id LIKE 'big:%' AND u.login LIKE 'big%';
	ANALYZE"
	plans() {
		while IFS= read -r q; do
			q=$(printf '%s' "$q" | sed 's/INDEXED BY [a-z_]* //')
			case $q in
			*expired_unbound*)
				types="BIGINT, BIGINT, TEXT"
				vals="1767607200, 1767002400, 'telegram'" ;;
			*)
				types="TEXT, BIGINT, BIGINT"
				vals="'telegram', 1767607200, 5" ;;
			esac
			sql "PREPARE q ($types) AS
			    $(printf '%s' "$q" | sed 's/?\([0-9]\)/$\1/g');
			EXPLAIN EXECUTE q ($vals);
			SET plan_cache_mode = force_generic_plan;
			EXPLAIN EXECUTE q ($vals)"
		done < "$T/sql"
	}
	p=$(plans)
	is "$(printf '%s\n' "$p" | grep -c '^Update on deliveries')" 8 \
	    "8 plans (4 statements, with values and generic)"
	unlike "$p" 'Seq Scan on deliveries|deliveries_status' \
	    "no table scan, no walk of the queue"
else
	plans() {
		while IFS= read -r q; do
			sql "EXPLAIN QUERY PLAN $q"
		done < "$T/sql"
	}
	unlike "$(plans)" 'SCAN deliveries$|deliveries_status' \
	    "no table scan, no walk of the queue"
	sql "ANALYZE; DELETE FROM sqlite_stat1 WHERE tbl = 'deliveries';
	INSERT INTO sqlite_stat1 VALUES ('deliveries', NULL, '1000000'),
	    ('deliveries', 'deliveries_status', '1000000 500000 500000'),
	    ('deliveries', 'deliveries_user', '1000000 100 50'),
	    ('deliveries', 'sqlite_autoindex_deliveries_1',
	    '1000000 100 1 1')"
	unlike "$(plans)" 'SCAN deliveries$|deliveries_status' \
	    "the same with ANALYZE's statistics of a big queue"
fi
done_testing
