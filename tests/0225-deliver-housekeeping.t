#!/bin/sh
# The housekeeping every claim runs first (DESIGN 5): poison rows, rows
# of inactive users, held rows past hold_max_age -- what each does, and
# that none of them walks the queue (each claim must stay O(batch)).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

q() { "$@" >/dev/null || bail "$* failed"; }
fixture_tasks 2
corp-event route >/dev/null
is "$(sql "SELECT count(*) FROM deliveries")" 8 "8 rows: boss, ann, bob, sam x 2"
# at TIME: the rest runs at business time TIME.
at() { export CORP_NOW=$1; }
# release: ack the claimed lines as not sent (attempted:false, due now),
# as a sender that never got to them does: no attempt, no lease left.
release() {
	jq -c '. + {result: "retry", attempted: false, retry_after: 0}' "$1" |
	    corp-deliver ack >/dev/null
}

# Poison: the 4th expiry returns the row, the 5th fails it.  Rows 1 and 2
# are claimed with short leases that their worker never acks, three
# times; then row 1 once with a long lease, and row 2 (whose user is not
# leased) twice more with short ones.
for now in 10:00 10:03 10:06; do
	at 2026-01-05T$now:00Z
	q corp-deliver pending --channel telegram --limit 2 --lease 1m
done
at 2026-01-05T10:09:00Z
q corp-deliver pending --channel telegram --limit 1 --lease 1h
q corp-deliver pending --channel telegram --limit 1 --lease 1m
at 2026-01-05T10:12:00Z
q corp-deliver pending --channel telegram --limit 1 --lease 1m
is "$(sql "SELECT id, lease_expiries FROM deliveries WHERE lease_token IS NOT NULL ORDER BY id" | tr '\n' ' ')" \
    "1|3 2|4 " "row 1 leased after 3 expiries, row 2 after 4"
tokens=$(sql "SELECT lease_token FROM deliveries WHERE id IN (1, 2) ORDER BY id")
at 2026-01-05T11:10:00Z	# both leases have expired
corp-deliver pending --channel telegram --peek >/dev/null
is "$(sql "SELECT lease_token FROM deliveries WHERE id IN (1, 2) ORDER BY id")" "$tokens" \
    "peek runs no housekeeping"
corp-deliver pending --channel telegram --limit 1 > "$T/p"
is "$(sql "SELECT id, status, lease_expiries, coalesce(error, '-') FROM deliveries
    WHERE id IN (1, 2) ORDER BY id" | tr '\n' ' ')" \
    "1|PENDING|4|- 2|FAILED|5|lease expired 5 times " \
    "4th expiry: back to PENDING; 5th: FAILED"
is "$(sql "SELECT count(*) FROM deliveries WHERE id = 2 AND lease_token IS NOT NULL")" 0 \
    "the failed row holds no lease"
release "$T/p"

# An inactive user's unleased rows fail when claimed; others stay.
q corp-user deactivate bob
is "$(sql "SELECT count(*) FROM deliveries WHERE user_id = $bob AND status = 'PENDING'")" 2 \
    "deactivating bob leaves his rows to the next claim"
corp-deliver pending --channel telegram --limit 1 > "$T/p"
is "$(sql "SELECT user_id, status, coalesce(error, '-') FROM deliveries
    WHERE id <> 2 ORDER BY id" | tr '\n' ' ')" \
    "$boss|PENDING|- $bob|FAILED|user_inactive $sam|PENDING|- $boss|PENDING|- $ann|PENDING|- $bob|FAILED|user_inactive $sam|PENDING|- " \
    "bob's rows FAILED user_inactive, nobody else's"
release "$T/p"

# Held rows past hold_max_age (7d) fail expired_unbound at a claim:
# sam's bind deactivated a week ago, boss's an hour ago.
q corp-bind deactivate --user sam --channel telegram
at 2026-01-12T11:00:00Z
q corp-bind deactivate --user boss --channel telegram
at 2026-01-12T12:00:00Z
is "$(sql "SELECT id, status, readiness FROM deliveries WHERE id IN (4, 5) ORDER BY id" | tr '\n' ' ')" \
    "4|PENDING|waiting_bind 5|PENDING|waiting_bind " "both held"
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
	# SQL write on purpose: the planner's statistics of a big queue,
	# which only ANALYZE of one gives (30 000 rows in a fixed layout);
	# only the plans are checked, never these rows.
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
	# SQL write on purpose: the planner's statistics of a big queue,
	# faked (this one has 8 rows)
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
