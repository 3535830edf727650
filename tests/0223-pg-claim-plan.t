#!/bin/sh
# pending's claim on PostgreSQL walks deliveries_ready in the claim's
# order and stops at the batch (issue 18, "PostgreSQL pending sort"):
# the statement that ran ordered by "CASE WHEN (event_id, user_id) <=
# cursor", which no index serves, so every claim read and sorted every
# ready PENDING row of the channel.  The plans are read from EXPLAIN of
# the statements in the binary (their text, not timing), custom and
# generic; the order of the lines is corp-deliver.1's on both backends,
# here at 600 rows, a queue the old statement sorted whole on each
# claim.  Also migration 0020: the claim's gap check walks
# deliveries_user_ready, and a lease calls no notify trigger while a row
# made claimable still wakes a listener.  The ack's batch is read and
# updated through the primary key.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
. "$CORP_SRC/tests/load.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
load_init

# 1. The order: 30 events x 20 users, drained by three pipes of 250
# lines (the first from a cursor in the middle of event 10, which picks
# nothing: every row at or before it comes first, then the rest, which
# is (event_id, user_id) order).
load_queue 30 20
: > "$T/acks"
corp-deliver pending --channel telegram --limit 250 --after 10:12 |
    ack_all | corp-deliver ack >> "$T/acks"
for i in 2 3; do
	corp-deliver pending --channel telegram --limit 250 | ack_all |
	    corp-deliver ack >> "$T/acks"
done
is "$(jq -s 'length' "$T/acks"):$(sql "SELECT count(*) FROM deliveries
    WHERE status = 'PENDING'")" "600:0" "three claims of 250 drained 600 rows"
jq -r '"\(.event.event_id) \(.user_id)"' "$T/acks" > "$T/got"
sql "SELECT event_id, user_id FROM deliveries ORDER BY event_id, user_id" |
    tr '|' ' ' > "$T/want"
is "$(cmp "$T/want" "$T/got" 2>&1)" "" "the lines in (event_id, user_id) order"

if pg_mode; then
	load_queue 30 20
	sql "ANALYZE" >/dev/null
	# The two claim statements, by event (?6 = 0) and by priority.
	strings -n 8 "$(command -v corp-deliver)" | grep -E '^WITH c AS' |
	    sed 's/?\([0-9]*\)/$\1/g' > "$T/claims"
	is "$(wc -l < "$T/claims" | tr -d ' ')" 2 "two claim statements in the binary"
	grep -v 'AS INTEGER) = 1' "$T/claims" > "$T/by-event"
	grep 'AS INTEGER) = 1' "$T/claims" > "$T/by-prio"
	# plan FILE BY AFTER_EVENT AFTER_USER MODE: EXPLAIN of the
	# statement (not run) with the plan cache's MODE.
	plan() {
		sql "SET plan_cache_mode = $5;
		PREPARE q (TEXT, BIGINT, BIGINT, BIGINT, BIGINT, BIGINT, TEXT,
		    TEXT, BIGINT, TEXT) AS $(cat "$1");
		EXPLAIN (COSTS OFF) EXECUTE q ('telegram', 1767607200, $3, $4,
		    100, $2, NULL, 'tok', 1767607320, 'w')"
	}
	for mode in force_custom_plan force_generic_plan; do
		for cur in "0 0" "10 12"; do
			p=$(plan "$T/by-event" 0 $cur $mode)
			like "$p" "Index Scan using deliveries_ready on deliveries" \
			    "by event ($mode, cursor $cur): from deliveries_ready"
			unlike "$p" "Sort" "by event ($mode, cursor $cur): no sort"
			# (the UPDATE may join its 100 ids to a small table
			# as it likes: the candidates are what grows)
			unlike "$(printf '%s\n' "$p" | sed -n '/CTE c$/,/CTE l$/p')" \
			    "Seq Scan" "by event ($mode, cursor $cur): the candidates read no whole table"
		done
		p=$(plan "$T/by-prio" 1 0 0 $mode)
		like "$p" "Index Scan using deliveries_priority on deliveries" \
		    "by priority ($mode): from deliveries_priority"
		unlike "$p" "Sort" "by priority ($mode): no sort"
	done

	# The gap check by event: an earlier row of the user is a range of
	# deliveries_user_ready (0020), not every PENDING row of the user.
	strings -n 8 "$(command -v corp-deliver)" |
	    grep -E "^UPDATE deliveries d SET lease_token = NULL.*x.event_id < d.event_id\\)\$" |
	    sed 's/?\([0-9]*\)/$\1/g' > "$T/gap"
	is "$(wc -l < "$T/gap" | tr -d ' ')" 1 "the gap check by event in the binary"
	p=$(sql "PREPARE g (TEXT, BIGINT, TEXT) AS $(cat "$T/gap");
	    EXPLAIN (COSTS OFF) EXECUTE g ('tok', 1767607200, NULL)")
	like "$p" "Index Scan using deliveries_user_ready on deliveries x" \
	    "the gap check looks for an earlier row in deliveries_user_ready"
	like "$p" "Index Cond: .*event_id < d.event_id" \
	    "... as a range of the index"

	# The ack reads and updates its batch through the primary key, in
	# the custom and the generic plan: "id IN (SELECT ... FROM
	# json_array_elements ...)" was a hash join against a sequential
	# scan of deliveries, the whole queue read twice per ack (issue 18,
	# tests/bench/PROFILE section 9).
	strings -n 8 "$(command -v corp-deliver)" |
	    grep -E '^SELECT id, status, lease_token.* FOR UPDATE$' |
	    sed 's/?\([0-9]*\)/$\1/g' > "$T/ackrows"
	# not SQL: a pattern grep finds in the binary; the statement is only EXPLAINed
	strings -n 8 "$(command -v corp-deliver)" |
	    grep -E '^UPDATE deliveries SET status = CAST\(j.value ->> 1 .*json_array_elements' |
	    sed 's/?\([0-9]*\)/$\1/g' > "$T/ackset"
	is "$(cat "$T/ackrows" "$T/ackset" | wc -l | tr -d ' ')" 2 \
	    "the ack's two statements in the binary"
	for mode in force_custom_plan force_generic_plan; do
		p=$(sql "SET plan_cache_mode = $mode;
		    PREPARE a (TEXT) AS $(cat "$T/ackrows");
		    EXPLAIN (COSTS OFF) EXECUTE a ('[1,2,3]')")
		like "$p" "Index Scan using deliveries_pkey on deliveries" \
		    "the ack's rows through the primary key ($mode)"
		unlike "$p" "Seq Scan on deliveries" "... no scan of the queue ($mode)"
		p=$(sql "SET plan_cache_mode = $mode;
		    PREPARE u (TEXT, BIGINT) AS $(cat "$T/ackset");
		    EXPLAIN (COSTS OFF) EXECUTE u
		    ('[[1,\"SENT\",1,null,null,null,1,\"p\"]]', 1767607200)")
		like "$p" "Index Scan using deliveries_pkey on deliveries" \
		    "the ack's UPDATE through the primary key ($mode)"
		unlike "$p" "Seq Scan on deliveries" "... no scan of the queue ($mode)"
	done

	# A lease calls no trigger function (the statement trigger of 0003
	# compiled its PL/pgSQL in every new connection and copied every
	# updated row for it); the claim runs in a transaction rolled back.
	p=$(sql "PREPARE q (TEXT, BIGINT, BIGINT, BIGINT, BIGINT, BIGINT,
	    TEXT, TEXT, BIGINT, TEXT) AS $(cat "$T/by-event");
	    BEGIN;
	    EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE q ('telegram',
	        1767607200, 0, 0, 7, 0, NULL, 'tok', 1767607320, 'w');
	    ROLLBACK")
	like "$p" "Update on deliveries" "the claim ran under EXPLAIN ANALYZE"
	unlike "$p" "Trigger deliveries_notify" "a lease calls no notify trigger"
	# ... while a row made claimable again (a retry) still notifies a
	# listener, and a lease and an ack to SENT do not: psql LISTENs and
	# prints what arrived after each of its queries.
	corp-deliver pending --channel telegram --limit 3 > "$T/p1"
	corp-deliver pending --channel telegram --limit 3 > "$T/p2"
	ack_all < "$T/p1" > "$T/sent"
	jq -c '. + {result: "retry", retry_after: 0}' "$T/p2" > "$T/retry"
	out=$(psql -X -q -A -t -d "$CORP_DB" 2>&1 <<EOF
LISTEN corp;
SELECT 'start';
\\! corp-deliver pending --channel telegram --limit 2 >/dev/null
SELECT 'leased';
SELECT 'leased';
\\! corp-deliver ack < "$T/sent" >/dev/null
SELECT 'sent';
SELECT 'sent';
\\! corp-deliver ack < "$T/retry" >/dev/null
SELECT 'retried';
SELECT 'retried';
EOF
)
	is "$(printf '%s\n' "$out" | sed -n 's/^Asynchronous notification "corp" with payload "\([a-z]*\)".*/\1/p' |
	    tr '\n' ' ')" "deliveries " "one notification, for the retry"
	# (psql prints a notification after the output of the query that
	# received it)
	is "$(printf '%s\n' "$out" | awk '/^Asynchronous/ { print prev }
	    { prev = $0 }' | sort -u)" \
	    "retried" "... after the retry's ack, not the lease's or the sent ack's"
fi
done_testing
