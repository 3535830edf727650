#!/bin/sh
# The queue under concurrency: repeated pipes deliver each row exactly
# once in order; two pipes and then 8 processes at once never send a
# row twice, never serve one user from two leases, never surface BUSY.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
. "$CORP_SRC/tests/load.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
load_init

load() { load_queue "$@"; }

# One worker: pipes until the queue has nothing PENDING (bounded).
worker() {
	i=0
	while [ $i -lt 5000 ]; do
		n=$(corp-deliver pending --channel telegram --limit "$1" |
		    ack_all | corp-deliver ack | wc -l) || return 1
		if [ "$n" = 0 ]; then
			[ "$(sql "SELECT count(*) FROM deliveries
			    WHERE status = 'PENDING'")" = 0 ] && return 0
			# the rest is leased by the other workers: poll, do
			# not spin (a spinning worker takes the CPU that the
			# holders need to ack)
			sleep 0.05
		fi
		i=$((i + 1))
	done
	return 1
}

exactly_once() {
	sql "SELECT
	    (SELECT count(*) FROM deliveries WHERE status <> 'SENT'),
	    (SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
	        WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1)
	        AS twice),
	    (SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM
	        delivery_attempts a WHERE a.delivery_id = d.id AND a.stored = 'sent'))"
}

# 1. Repeated pipes, one at a time: every row once, in order.
load 60 5
n=0
: > "$T/acks"
while [ $n -lt 60 ]; do
	corp-deliver pending --channel telegram --limit 7 | ack_all |
	    corp-deliver ack >> "$T/acks"
	n=$((n + 1))
done
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" 0 \
    "43 runs of 7 drained 300 rows; the rest found nothing"
is "$(exactly_once)" "0|0|0" "repeated pipes: all 300 rows SENT, each exactly once"
is "$(jq -c '[.event.event_id, .user_id]' "$T/acks" | sort -c -t, -k1.2n -k2n 2>&1 && jq -s 'length' "$T/acks")" \
    300 "in (event_id, user_id) order across the runs"

# 2. Two pipes at once, sampling that no user has two live tokens.
load 50 40
bg worker 13
p1=$bgpid
bg worker 17
p2=$bgpid
viol=0
s=0
while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do
	v=$(sql "SELECT count(*) FROM (SELECT user_id FROM deliveries
	    WHERE lease_token IS NOT NULL GROUP BY channel, user_id
	    HAVING count(DISTINCT lease_token) > 1) AS two" 2>/dev/null || echo 0)
	viol=$((viol + v))
	s=$((s + 1))
	[ $s -gt 20000 ] && break
	# a sample every 20 ms or so, not a loop that takes a core from
	# the pipes it watches
	sleep 0.02
done
wait $p1; r1=$?
wait $p2; r2=$?
is "$r1:$r2" "0:0" "both pipes finished"
is "$(exactly_once)" "0|0|0" "two pipes: 2000 rows, each SENT exactly once"
is "$viol" 0 "no user leased under two tokens at once ($s samples)"

# 3. Contention: 8 processes leasing and acking at once.
events=$(quick 100 25)
load "$events" 200
pids=""
k=0
while [ $k -lt 8 ]; do
	( worker 100 ) 2>> "$T/err8" &
	pids="$pids $!"
	k=$((k + 1))
done
fail8=0
for p in $pids; do wait "$p" || fail8=$((fail8 + 1)); done
is "$fail8" 0 "8 workers finished"
is "$(exactly_once)" "0|0|0" "8 workers: $((events * 200)) rows, each SENT exactly once"
is "$(cat "$T/err8")" "" "no error surfaced (no SQLITE_BUSY)"
ok "corp-db check clean" corp-db check

# PostgreSQL: a claim tries the per-user advisory locks of its candidate
# rows only; tried on every row the planner scans, it would hold a lock
# per (channel, user) of the whole table until its commit, and every
# other claim would find those users taken.  The claim's own statement,
# from the binary, in a transaction left open to count its locks.
if pg_mode; then
	load 2 300
	sql "ANALYZE"
	# two statements start so: by event (?6 = 0), by priority (?6 = 1)
	strings -n 8 "$(command -v corp-deliver)" | grep -E '^WITH c AS' |
	    sed 's/?\([0-9]*\)/$\1/g' > "$T/claims"
	is "$(wc -l < "$T/claims")" 2 "two claim statements in the binary"
	for by in 0 1; do
		# the by-priority one names ?6 = 1 (in the binary's order)
		if [ $by = 1 ]; then
			q=$(grep 'AS INTEGER) = 1' "$T/claims")
		else
			q=$(grep -v 'AS INTEGER) = 1' "$T/claims")
		fi
		is "$(sql "PREPARE q (TEXT, BIGINT, BIGINT, BIGINT, BIGINT,
		    BIGINT, TEXT, TEXT, BIGINT, TEXT) AS $q;
		BEGIN;
		EXECUTE q ('telegram', 1767607200, 0, 0, 7, $by, NULL, 'tok',
		    1767607320, 'w');
		SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		    AND pid = pg_backend_pid();
		ROLLBACK")" 7 "a claim of 7 rows (by $by) locks 7 users, not all 300"
	done
fi
done_testing
