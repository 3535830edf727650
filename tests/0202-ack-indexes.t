#!/bin/sh
# Migration 0022 (issue 18): deliveries_status and deliveries_user hold
# only the rows their readers ask for (PENDING; FAILED too for
# deliveries_status), so an ack to SENT leaves them instead of rewriting
# them.  The indexes' definitions, the queue's state after a drain, and
# the plans of corp's statements that read through them: each still
# finds its rows through an index, none scans the queue.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

if pg_mode; then
	ok "schema version 22 or later" test \
	    "$(sql "SELECT version FROM corp_schema")" -ge 22
	defs=$(sql "SELECT indexname || ': ' || indexdef FROM pg_indexes
	    WHERE indexname IN ('deliveries_status', 'deliveries_user')
	    ORDER BY indexname")
	like "$defs" "deliveries_status: .*\\(status, channel\\) WHERE .*PENDING.* OR .*FAILED" \
	    "deliveries_status: PENDING or FAILED rows only"
	like "$defs" "deliveries_user: .*\\(user_id, status\\) WHERE .*PENDING" \
	    "deliveries_user: PENDING rows only"
else
	ok "schema version 22 or later" test "$(sql "PRAGMA user_version")" -ge 22
	is "$(sql "SELECT name || ': ' || replace(sql, char(10) || '    ', ' ')
	    FROM sqlite_master WHERE name IN ('deliveries_status',
	    'deliveries_user') ORDER BY name")" \
	    "deliveries_status: CREATE INDEX deliveries_status ON deliveries(status, channel) WHERE status = 'PENDING' OR status = 'FAILED'
deliveries_user: CREATE INDEX deliveries_user ON deliveries(user_id, status) WHERE status = 'PENDING'" \
	    "the two indexes are partial"
fi

# A drain, a dead letter, a mute: what reads through the two indexes
# finds what it found before.
fixture_tasks 2
corp-event route >/dev/null
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" 8 \
    "8 PENDING rows"
corp-deliver pending --channel telegram --limit 3 |
    jq -c '. + {result: "sent", provider_message_id: "p"}' |
    corp-deliver ack >/dev/null
corp-deliver pending --channel telegram --limit 1 |
    jq -c '. + {result: "failed", error: "refused"}' |
    corp-deliver ack >/dev/null
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status
    ORDER BY status" | tr '\n' ' ')" "FAILED|1 PENDING|4 SENT|3 " \
    "3 SENT, 1 FAILED, 4 PENDING"
run corp-deliver dlq
is "$rc" 0 "dlq exits 0"
is "$(printf '%s\n' "$out" | grep -c .)" 1 "dlq: the one dead letter"
pend=$(sql "SELECT user_id FROM deliveries WHERE status = 'PENDING'
    ORDER BY id LIMIT 1")
login=$(sql "SELECT login FROM users WHERE id = $pend")
ok "mute $login on telegram" corp-settings mute --user "$login" \
    --channel telegram
is "$(sql "SELECT count(*) FROM deliveries WHERE user_id = $pend
    AND status = 'PENDING' AND channel = 'telegram'")" 0 \
    "the mute failed $login's PENDING telegram rows"

# The plans (SQLite: EXPLAIN QUERY PLAN of the statements themselves,
# taken from the binaries): every statement that names PENDING or FAILED
# rows of deliveries in its WHERE searches an index (the requeue, which
# takes FAILED rows by any of five filters, and stats, which counts every
# row, read the table whole, as before: left out).
if if_sqlite "plans of SQLite statements"; then
	for b in corp-deliver corp-settings corp-bind corp-user corp-cursor \
	    corp-event corp-db; do
		strings -n 8 "$(command -v "$b")"
	done | grep -E '^(SELECT|UPDATE|DELETE) .*deliveries' |
	    grep -E "status = '(PENDING|FAILED)'" |
	    # not SQL: patterns of statements found in the binaries, EXPLAINed only
	    grep -vE 'FOR UPDATE|ANY\(|::|FILTER \(WHERE|^UPDATE deliveries d |^UPDATE deliveries SET status = .PENDING.' |
	    sort -u > "$T/sql"
	n=$(wc -l < "$T/sql" | tr -d ' ')
	ok "statements found ($n)" test "$n" -ge 10
	: > "$T/scans"
	while IFS= read -r q; do
		p=$(sql "EXPLAIN QUERY PLAN $q") ||
		    echo "no plan: $q" >> "$T/scans"
		printf '%s\n' "$p" | grep -qE \
		    'SCAN (d|deliveries)( USING (COVERING )?INDEX sqlite_autoindex_deliveries_1)?$' &&
		    printf '%s\n  %s\n' "$q" "$p" >> "$T/scans"
	done < "$T/sql"
	is "$(cat "$T/scans")" "" "no statement scans the queue"
fi
done_testing
