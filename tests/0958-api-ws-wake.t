#!/bin/sh
# corp-api's WebSocket wake-ups (corp-api.1 "Topics over WebSocket", GET
# /api/ops/ws): on SQLite a poll of the log at every tick; on PostgreSQL
# LISTEN/NOTIFY, so an idle server reads the log at no tick, a change
# committed by another process and one committed by corp-api itself (a
# session hears no notification of its own) both reach a subscriber,
# and a dropped connection is polled through, then listened on again.
# Behaviour, not timing: ticks and reads are counted by corp-api, every
# wait is a bounded poll.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
. "$CORP_SRC/tests/ws-lib.sh"
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
ADMIN=$(corp-user token add admin --name ws | jq -r .token)
t0=1772359200
msg() {
	jq -cn --argjson m "$1" --argjson d "$2" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}
msg 1 "$t0" "@bob please fix the login page" | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis start 1 --as admin >/dev/null

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"
P=$(jq .port "$T/ready")
U="ws://127.0.0.1:$P/ws"
AUTH='{"type":"auth","token":"'"$ADMIN"'"}'
# ops FIELD: GET /api/ops/ws's field
ops() {
	curl -s --max-time 60 -H "Authorization: Bearer $ADMIN" \
	    "http://127.0.0.1:$P/api/ops/ws" | jq -r ".$1"
}
# ticks_past N: bounded poll until N ticks more than now have run
ticks_past() {
	_goal=$(( $(ops ticks) + $1 )) _i=0
	while [ "$(ops ticks)" -lt "$_goal" ] && [ $_i -lt 1200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ "$(ops ticks)" -ge "$_goal" ]
}
if pg_mode; then WAKE=notify; else WAKE=poll; fi

is "$(curl -s -H "Authorization: Bearer $ADMIN" \
    "http://127.0.0.1:$P/api/ops/ws" | jq -c 'del(.wake)')" \
    '{"clients":0,"ticks":0,"notifications":0,"log_reads":0}' \
    "no subscriber: no tick counted, no read of the log"

# a subscriber that waits for one message frame
ws "$U" 2 "$AUTH" '{"type":"subscribe","topics":["messages"]}' >"$T/a" &
a=$!
wait_file "$T/a" 30 $a
is "$(ops clients) $(ops wake)" "1 $WAKE" "one client; wake-ups by $WAKE"

# idle: ten ticks with a subscriber
# ops FIELD... read at once: tick and read counts of one moment
set -- $(ops 'log_reads, .ticks')
r0=$1 k0=$2
ok "ten ticks ran" ticks_past 10
set -- $(ops 'log_reads, .ticks')
r1=$1 k1=$2
if pg_mode; then
	is "$((r1 - r0))" 0 \
	    "PostgreSQL, idle: no read of the log in $((k1 - k0)) ticks"
else
	is "$((r1 - r0))" "$((k1 - k0))" "SQLite: one read of the log per tick"
fi

# a change by another process reaches the subscriber
msg 2 $((t0 + 1)) "another one" | corp-msg import >/dev/null
wait $a
is "$(tail -n 1 "$T/a" | jq -c '[.type, .data.message_id]')" \
    '["message.updated",2]' "another process's commit: a frame"
if pg_mode; then
	is "$(ops notifications)" 1 "heard as one notification"
fi

# a change by corp-api itself (PUT approve) reaches a subscriber too
ws "$U" 2 "$AUTH" '{"type":"subscribe","topics":["proposals"]}' >"$T/b" &
b=$!
wait_file "$T/b" 30 $b
is "$(curl -s -X PUT -H "Authorization: Bearer $ADMIN" -H "Content-Length: 0" \
    "http://127.0.0.1:$P/api/proposals/1/approve" | jq -c .status)" \
    '"approved"' "approved over HTTP"
wait $b
is "$(tail -n 1 "$T/b" | jq -c '[.type, .data.proposal_id]')" \
    '["approved",1]' "corp-api's own commit: a frame"

if pg_mode; then
	# The connection drops (terminated on purpose: a fault): corp-api
	# logs it, connects again, listens again; a change made meanwhile
	# still reaches the subscriber.
	ws "$U" 2 "$AUTH" '{"type":"subscribe","topics":["messages"]}' \
	    >"$T/c" &
	c=$!
	wait_file "$T/c" 30 $c
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	    WHERE datname = current_database() AND pid <> pg_backend_pid()" \
	    >/dev/null
	msg 3 $((t0 + 2)) "while away" | corp-msg import >/dev/null
	wait $c
	is "$(tail -n 1 "$T/c" | jq -c '[.type, .data.message_id]')" \
	    '["message.updated",3]' "a drop: the frame still comes"
	i=0
	while ! grep -q 'connected again' "$T/api.log" && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	like "$(grep websocket "$T/api.log")" \
	    'corp-api: websocket: .*: polling the log until reconnected
corp-api: websocket: connected again: listening$' \
	    "the drop and the return are logged"
	is "$(ops wake)" notify "listening again"
	ws "$U" 0 "$AUTH" '{"type":"subscribe","topics":["messages"]}' \
	    >"$T/d" &
	d=$!
	wait_file "$T/d" 30 $d
	r0=$(ops log_reads)
	ticks_past 10
	is "$(( $(ops log_reads) - r0 ))" 0 "idle again: no read of the log"
	kill $d
	wait $d 2>/dev/null
else
	skip "PostgreSQL: a dropped connection"
fi

kill "$api_pid"
wait "$api_pid"
done_testing
