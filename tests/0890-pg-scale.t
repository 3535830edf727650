#!/bin/sh
# PostgreSQL scale-out (DESIGN 9, issue 11): several workers on several
# connections drain one queue with no row sent twice and no user leased
# by two workers at once; event ids as readers see them never go
# backwards under concurrent writers; tail --follow wakes on NOTIFY.
# Only under make check-pg: SQLite has one writer by construction, and
# its own concurrency tests are 0220, 0710 and 0870.
. "${CORP_SRC:-.}/tests/lib.sh"
pg_mode || { echo "1..0 # SKIP PostgreSQL only (make check-pg)"; exit 0; }
setup
export CORP_NOW=2026-01-05T10:00:00Z
ROWS=$(quick 100000 20000)
USERS=1000
WORKERS=4

# 1. ROWS deliveries on the file channel for USERS users (tests/load.sh:
# users and binds imported, ROWS / USERS events emitted to all, routed).
. "$CORP_SRC/tests/load.sh"
load_init
LOAD_CHANNEL=file LOAD_ADDRESS='"f" + ($i | tostring)'
load_queue $((ROWS / USERS)) "$USERS"
unset LOAD_CHANNEL LOAD_ADDRESS
sql "ANALYZE" >/dev/null
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" \
    "$ROWS" "$ROWS rows PENDING"

# A watcher on its own connection: every few milliseconds, any user
# leased under two live tokens at once is written down.
cat > "$T/watch.sql" <<EOF
SELECT user_id || ' ' || string_agg(DISTINCT lease_token, ' ')
    FROM deliveries WHERE lease_token IS NOT NULL
    AND lease_until >= 1767607200 GROUP BY user_id, channel
    HAVING count(DISTINCT lease_token) > 1;
EOF
: > "$T/overlaps"
: > "$T/watching"
(
	n=0
	while [ -e "$T/watching" ]; do
		sql_at "$(curdb)" < "$T/watch.sql" >> "$T/overlaps" 2>&1
		n=$((n + 1))
	done
	echo "$n" > "$T/watches"
) &
watcher=$!

# WORKERS workers, each one process on one connection, until empty.
pids=
for w in $(seq 1 $WORKERS); do
	corp-deliver run --channel file --out "$T/out.$w" --until-empty \
	    --worker "w$w" --batch 100 > "$T/run.$w" 2> "$T/err.$w" &
	pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
rm -f "$T/watching"
wait "$watcher"
is "$fails" 0 "$WORKERS workers drained the queue and exited 0"
for w in $(seq 1 $WORKERS); do
	[ -s "$T/err.$w" ] && _diag "worker $w: $(head -3 "$T/err.$w")"
done

is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|$ROWS" "every row SENT"
cat "$T"/out.* > "$T/all"
is "$(wc -l < "$T/all")" "$ROWS" "$ROWS lines written, no more"
is "$(jq -r .delivery_id "$T/all" | sort -u | wc -l)" "$ROWS" \
    "0 double sends: every delivery_id once"
is "$(sql "SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
    WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1) x")" 0 \
    "one stored 'sent' attempt per row"
used=0
for w in $(seq 1 $WORKERS); do
	[ -s "$T/out.$w" ] && used=$((used + 1))
done
is "$used" "$WORKERS" "all $WORKERS workers took part"
is "$(cat "$T/overlaps")" "" "no user leased by two workers at once"
like "$(cat "$T/watches")" '^[0-9]+$' "the watcher ran ($(cat "$T/watches") looks)"
# Per user, rows went out in event order (one lease per user at a time).
is "$(jq -r '[.user_id, .event_id] | @tsv' "$T/all" | sort -s -k1,1n |
    awk '$1 == u && $2 < e { bad++ } { u = $1; e = $2 }
    END { print bad + 0 }')" 0 "per user, events in order within a file" 
ok "corp-db check passes after the drain" corp-db check

# 2. Event ids never go backwards for a reader: WRITERS processes emit
# events at once while tail --follow reads; a commit of an id below one
# already seen would be skipped by the reader's cursor.
WRITERS=4
PER=$(quick 150 40)
base=$(sql "SELECT coalesce(max(event_id), 0) FROM events")
corp-event tail --follow --count $((WRITERS * PER)) --after "$base" \
    > "$T/tail" 2> "$T/tail.err" &
tailpid=$!
wpids=
for w in $(seq 1 $WRITERS); do
	(
		i=0
		while [ $i -lt $PER ]; do
			printf '{"idempotency_key":"%s","source":"w%s","event_type":"order.probe","payload":{"w":%s}}\n' \
			    "$i" "$w" "$w"
			i=$((i + 1))
		done | corp-event emit --new-type order.probe > /dev/null
	) &
	wpids="$wpids $!"
done
wfail=0
for p in $wpids; do wait "$p" || wfail=$((wfail + 1)); done
is "$wfail" 0 "$WRITERS concurrent writers succeeded"
# The tail stops by itself at --count; bounded wait for it.
i=0
while kill -0 "$tailpid" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill "$tailpid" 2>/dev/null
is "$(wc -l < "$T/tail")" $((WRITERS * PER)) \
    "tail --follow saw every event: none committed below one it had seen"
is "$(jq -r .event_id "$T/tail" | sort -n -c 2>&1 && echo sorted)" sorted \
    "in increasing id order"
is "$(sql "SELECT count(*) FROM events WHERE event_id > $base")" \
    $((WRITERS * PER)) "all of them stored"

# 3. The mechanism: while a transaction that inserted an event is open,
# no other transaction can draw an event id (it waits for the lock; with
# a 1 s busy timeout it gives up with 75 and stores nothing).
mkfifo "$T/hold"
( sql_at "$(curdb)" < "$T/hold" > /dev/null 2>&1 ) &
holder=$!
exec 7> "$T/hold"
printf "BEGIN;\nINSERT INTO events (event_type, occurred_at, trace_id, dedupe_key) VALUES ('held', 0, 'h', 'held:1');\n" >&7
# wait (bounded) until the holder's insert is in and waiting
i=0
until [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
    AND granted")" -ge 1 ] || [ $i -gt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
before=$(sql "SELECT count(*) FROM events")
printf '{"idempotency_key":"b1","source":"blocked","event_type":"order.blocked"}\n' > "$T/b1"
CORP_BUSY_TIMEOUT=1s run_in "$T/b1" corp-event emit --new-type order.blocked
is "$rc" 75 "a second writer waits for the first and gives up with 75"
like "$err" 'busy' "and says the database is busy"
is "$(sql "SELECT count(*) FROM events")" "$before" "nothing stored by it"
printf 'COMMIT;\n' >&7
exec 7>&-
wait "$holder"
ok "once the first commits, the second goes through" \
    corp-event emit --new-type order.blocked < "$T/b1"
is "$(sql "SELECT count(*) FROM events WHERE event_type = 'order.blocked'
    AND event_id > (SELECT event_id FROM events WHERE dedupe_key = 'held:1')")" \
    1 "with an id above the held one"

# 4. A lost connection: the server ends a follower's session; it exits
# 75 (try again) and says so, as when the server is down at start.
corp-event tail --follow > "$T/t4" 2> "$T/t4.err" &
follower=$!
i=0
until [ "$(sql "SELECT count(*) FROM pg_stat_activity
    WHERE application_name = 'corp-event'")" = 1 ] || [ $i -gt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(sql "SELECT count(*) FROM pg_stat_activity
    WHERE application_name = 'corp-event'")" 1 \
    "pg_stat_activity names the tool"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE application_name = 'corp-event'" > /dev/null
i=0
while kill -0 "$follower" 2>/dev/null && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
wait "$follower"
is "$?" 75 "tail --follow exits 75 when its connection is lost"
like "$(cat "$T/t4.err")" 'connection to the database failed|terminat' \
    "and says the connection went"
sock=$(printf '%s' "$CORP_DB" | sed 's/.*host=//')
run env CORP_DB="postgresql:///nosuchdb?host=$sock" corp-event list
is "$rc" 67 "a database that does not exist: 67"
like "$err" 'does not exist.*corp-db init' "with what to do"
run env CORP_DB="postgresql:///x?host=$T/nowhere" corp-event list
is "$rc" 75 "no server: 75 (try again)"
like "$err" 'cannot connect' "says it cannot connect"

# 5. Only claimable rows wake idle workers: a claim that finds nothing
# notifies nobody (two idle workers would otherwise wake each other for
# ever), a row made PENDING again does.
listen() {
	printf 'LISTEN corp;\n\\! %s\nSELECT 1;\n' "$1" | sql_at "$(curdb)" 2>&1
}
is "$(listen "corp-deliver pending --channel file")" 1 \
    "an empty claim wakes nobody"
printf '%s\n' '{"idempotency_key":"last","source":"load","event_type":"job","recipients":[{"user":"u0","role":"member"}]}' |
    corp-event emit >/dev/null && corp-event route >/dev/null &&
    corp-deliver pending --channel file |
    jq -c '. + {result: "failed", error: "x"}' | corp-deliver ack >/dev/null ||
    bail "a FAILED row failed"
id=$(sql "SELECT id FROM deliveries WHERE status = 'FAILED'")
like "$(listen "corp-deliver requeue --id $id >/dev/null")" \
    'notification "corp"' "a requeued row wakes the listeners"

done_testing
