#!/bin/sh
# Mixed contention (issue 10): 8 processes (make torture: 16) on one
# database for 10 s (30 s) while a producer emits events: corp-event
# route loops, corp-deliver pending | sender | ack pipes (the sender an
# awk no-op: mostly sent, sometimes retry or failed) and corp-deliver
# requeue --all-failed loops, each until a deadline (no sleep decides
# anything).  No row is sent twice, no process exits non-zero or says
# busy/locked, every row is PENDING, SENT or FAILED, every event routed
# has its recipients' rows, corp-db check is clean.
#
# CONTENTION_PROCS and CONTENTION_SECONDS override 8 and 10.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
procs=${CONTENTION_PROCS:-8}
secs=${CONTENTION_SECONDS:-10}
users=12
i=0
while [ $i -lt $users ]; do
	corp-user add "u$i" --name "U$i" > /dev/null || bail "corp-user add"
	i=$((i + 1))
done
corp-user list --all | jq -c 'select(.login | startswith("u")) |
    {login, channel: "telegram", address: (5000 + .user_id | tostring)}' |
    corp-bind import > /dev/null || bail "corp-bind import"
deadline=$(( $(date +%s) + secs ))
alive() { [ "$(date +%s)" -lt "$deadline" ]; }

# note WHO RC: a non-zero exit is kept in $T/fail.WHO.
note() { [ "$2" = 0 ] || echo "exit $2" >> "$T/fail.$1"; }

# The producer: 4 events per corp-event emit, 2 or 3 recipients each.
producer() {
	n=0
	while alive; do
		j=0
		while [ $j -lt 4 ]; do
			a=$(( (n * 4 + j) % users )) b=$(( (n * 4 + j + 5) % users ))
			extra=""
			[ $((j % 2)) = 0 ] && extra=",{\"user\":\"u$(( (a + 1) % users ))\",\"role\":\"watcher\"}"
			printf '{"idempotency_key":"p%d-%d","source":"load","event_type":"booking_created","recipients":[{"user":"u%d","role":"client"},{"user":"u%d","role":"specialist"}%s],"payload":{"n":%d}}\n' \
			    $n $j $a $b "$extra" $n
			j=$((j + 1))
		done | corp-event emit --new-role watcher >> "$T/emitted" 2>> "$T/err.producer"
		note producer $?
		n=$((n + 1))
	done
}

# A no-op sender: 80 % sent, 10 % retry, 10 % failed.
sender() {
	awk 'BEGIN { srand() } {
		r = rand()
		if (r < 0.8) add = "\"result\":\"sent\",\"provider_message_id\":\"p\""
		else if (r < 0.9) add = "\"result\":\"retry\",\"error\":\"chaos\""
		else add = "\"result\":\"failed\",\"error\":\"chaos\""
		sub(/}$/, "," add "}")
		print
		fflush()
	}'
}

worker() {
	w=$1
	role=$((w % 4))
	while alive; do
		case $role in
		0)	corp-event route > /dev/null 2>> "$T/err.$w"
			note "$w" $? ;;
		3)	corp-deliver requeue --all-failed > /dev/null 2>> "$T/err.$w"
			note "$w" $? ;;
		*)	{ corp-deliver pending --channel telegram --limit 20 \
			    2>> "$T/err.$w"; note "$w" $?; } | sender |
			    { corp-deliver ack > /dev/null 2>> "$T/err.$w"
			    note "$w" $?; } ;;
		esac
		echo x >> "$T/rounds.$role"
	done
}

producer &
pids=$!
w=0
while [ $w -lt "$procs" ]; do
	worker $w &
	pids="$pids $!"
	w=$((w + 1))
done
for p in $pids; do wait "$p"; done
: > "$T/all.err"
for f in "$T"/err.* "$T"/fail.*; do
	[ -e "$f" ] || continue
	sed "s|^|${f##*/}: |" "$f" >> "$T/all.err"
done
is "$(grep -ci 'busy\|locked' "$T/all.err")" 0 "no process said busy or locked"
is "$(cat "$T/all.err")" "" "every process exited 0 with a quiet stderr"
r() { wc -l < "$T/rounds.$1" 2>/dev/null || echo 0; }
ev=$(sql "SELECT count(*) FROM events")
echo "# $procs processes, ${secs} s: $ev events, route $(r 0), pipes $(($(r 1) + $(r 2))), requeue $(r 3) rounds"
ok "work was done: events and every kind of round" test "$ev" -gt 0 -a \
    "$(r 0)" -gt 0 -a "$(r 1)" -gt 0 -a "$(r 3)" -gt 0
is "$(jq -s 'map(select(.duplicate == false)) | length' "$T/emitted")" "$ev" \
    "every emitted event stored once"

is "$(sql "SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
    WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) > 1) AS dup")" 0 \
    "0 double sends: no row has two stored sent attempts"
is "$(sql "SELECT count(*) FROM deliveries d WHERE (status = 'SENT') <>
    EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id
    AND a.stored = 'sent')")" 0 "a row is SENT exactly when a sent ack was stored"
is "$(sql "SELECT count(*) FROM deliveries WHERE status NOT IN
    ('PENDING', 'SENT', 'FAILED')")" 0 "every row is PENDING, SENT or FAILED"
is "$(sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL")" 0 \
    "every lease was acked"
echo "# rows: $(sql "SELECT status, count(*) FROM deliveries GROUP BY 1 ORDER BY 1" | tr '\n' ' ')"

# Every event up to the watermark routed: its recipients stored, a
# decision for each on telegram, a row for each "created" decision (a
# watcher's is "disabled" by the default settings) and no other row.
routed() {
	sql "SELECT count(*) FROM events e WHERE e.event_id <= (SELECT
	    max(watermark) FROM route_state) AND (
	    json_array_length(e.recipients) <> (SELECT count(*) FROM
	        event_recipients r WHERE r.event_id = e.event_id) OR
	    json_array_length(e.recipients) <> (SELECT count(*) FROM
	        route_decisions x WHERE x.event_id = e.event_id AND
	        x.channel = 'telegram') OR
	    (SELECT count(*) FROM route_decisions x WHERE x.event_id =
	        e.event_id AND x.decision = 'created') <> (SELECT count(*)
	        FROM deliveries d JOIN route_decisions x USING (event_id,
	        user_id, channel) WHERE d.event_id = e.event_id AND
	        x.decision = 'created') OR
	    (SELECT count(*) FROM deliveries d WHERE d.event_id = e.event_id)
	        <> (SELECT count(*) FROM route_decisions x WHERE x.event_id =
	        e.event_id AND x.decision = 'created'))"
}
is "$(routed)" 0 "every event routed has its recipients and their rows"
ok "a last route" corp-event route
is "$(sql "SELECT CAST(max(watermark) = (SELECT max(event_id) FROM events) AS INTEGER) FROM route_state")" 1 \
    "then every event is routed"
is "$(routed)" 0 "with its recipients and their rows"
ok "corp-db check clean" corp-db check
done_testing
