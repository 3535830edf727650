#!/bin/sh
# corp-api's topics over WebSocket (corp-api.1 "Topics over WebSocket"),
# with node's WebSocket (tests/tools/ws.mjs) and a client that never
# reads (tests/tools/ws_stall.py): the auth frame and its failures
# (4401: bad, revoked, missing within 10 s, another frame first), the
# protocol and path, subscribe and its errors, exact frames after the
# commit in event-id order, visibility (a non-admin gets no topic
# event), since= replay after a reconnect, a never-reading client
# dropped at --ws-max-pending while another keeps receiving, and 200 idle
# clients that block nobody.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
. "$CORP_SRC/tests/ws-lib.sh"
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
ADMIN=$(corp-user token add admin --name ws | jq -r .token)
BOB=$(corp-user token add bob | jq -r .token)
OLD=$(corp-user token add admin --name revoked | jq -r .token)
corp-user token revoke 3 >/dev/null
t0=1772359200
msg() {
	jq -cn --argjson m "$1" --argjson d "$2" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}

# (--peer-conns: the 200 idle clients below are one address.)
bg corp-api --listen 127.0.0.1:0 --ws-max-pending 16384 --peer-conns 1000 \
    >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"
U="ws://127.0.0.1:$(jq .port "$T/ready")/ws"
AUTH='{"type":"auth","token":"'"$ADMIN"'"}'
ALL='"topics":["messages","analysis_runs","proposals"]'

# A client that says nothing: closed at the auth deadline (10 s), in the
# background while the rest goes on.
ws "$U" 0 >"$T/silent" &
silent=$!

# the upgrade: protocol corp.v1 on /ws only
is "$(ws --raw "$U")" '{"error":true}' "an upgrade without corp.v1: refused"
is "$(ws "${U%/ws}/api/me" 0 "$AUTH")" '{"error":true}' \
    "an upgrade on another path: refused"
# authentication
is "$(ws "$U" 0 '{"type":"auth","token":"corp_x"}')" \
    '{"close":4401,"reason":"malformed token"}' "a bad token: 4401"
is "$(ws "$U" 0 '{"type":"auth","token":"'"$OLD"'"}')" \
    '{"close":4401,"reason":"token revoked"}' "a revoked token: 4401"
is "$(ws "$U" 0 '{"type":"subscribe","topics":["messages"]}')" \
    '{"close":4401,"reason":"expected {\"type\":\"auth\",\"token\":TOKEN} first"}' \
    "another frame first: 4401"
is "$(ws "$U" 0 'nonsense')" \
    '{"close":4401,"reason":"expected {\"type\":\"auth\",\"token\":TOKEN} first"}' \
    "not JSON first: 4401"
# subscribe's errors keep the connection
is "$(ws "$U" 5 "$AUTH" '{"type":"subscribe","topics":["mesages"]}' \
    '{"type":"subscribe","topics":[]}' '{"type":"subscribe","topics":["proposals"],"since":-1}' \
    '{"type":"subscribe","topics":["proposals"],"from":1}' '{"type":"ping"}')" \
'{"type":"error","error":"subscribe: unknown topic '"'mesages'"' (did you mean '"'messages'"'?)"}
{"type":"error","error":"subscribe: \"topics\" must be a non-empty array of topics"}
{"type":"error","error":"subscribe: \"since\" must be an event id (0: from now on)"}
{"type":"error","error":"subscribe: unknown field \"from\""}
{"type":"pong"}' "bad subscriptions: error frames, the connection stays"
is "$(ws "$U" 2 "$AUTH" '{"type":"auth","token":"x"}' '{"x":1')" \
'{"type":"error","error":"already authenticated as admin"}
{"type":"error","error":"frame: line 1 column 6: '"'}'"' expected near end of file"}' \
    "a second auth, a broken frame: error frames"

# live: the admin sees message and run events after their commit, bob
# (no admin) none of them
last=$(sql "SELECT coalesce(max(event_id), 0) FROM events")
ws "$U" 7 "$AUTH" "{\"type\":\"subscribe\",$ALL}" >"$T/a" &
a=$!
ws "$U" 2 "{\"type\":\"auth\",\"token\":\"$BOB\"}" \
    "{\"type\":\"subscribe\",$ALL}" >"$T/b" &
b=$!
wait_file "$T/a" 30 $a
wait_file "$T/b" 30 $b
is "$(cat "$T/a")" \
    "{\"type\":\"subscribed\",$ALL,\"last_id\":$last}" "subscribed: from now on"
is "$(cat "$T/b")" \
    "{\"type\":\"subscribed\",$ALL,\"last_id\":$last}" "bob subscribed too"
{
	msg 1 "$t0" "@bob please fix the login page"
	msg 2 $((t0 + 1)) "we must renew the certificate"
} | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis start 1 --as admin >/dev/null
wait $a
is "$(tail -n +2 "$T/a" | jq -c '[.id, .topic, .type]')" \
"[$((last + 1)),\"messages\",\"message.updated\"]
[$((last + 2)),\"messages\",\"message.updated\"]
[$((last + 3)),\"analysis_runs\",\"run_started\"]
[$((last + 4)),\"analysis_runs\",\"proposals_created\"]
[$((last + 5)),\"analysis_runs\",\"progress_updated\"]
[$((last + 6)),\"analysis_runs\",\"run_completed\"]" \
    "the admin's frames: every event of its topics, in id order"
is "$(sed -n 2p "$T/a")" \
    "{\"id\":$((last + 1)),\"topic\":\"messages\",\"type\":\"message.updated\",\"data\":$(corp-event show $((last + 1)) | jq -c .payload)}" \
    "a frame: id, topic, type and the event's payload as data"
is "$(tail -n +2 "$T/a" | jq -c .data)" \
    "$(corp-event list --after "$last" | jq -c .payload)" \
    "each frame's data is its event's payload"
# bob's next frame after the admin got every event: the pong to his ping
ws "$U" 2 "{\"type\":\"auth\",\"token\":\"$BOB\"}" \
    "{\"type\":\"subscribe\",$ALL,\"since\":$((last + 1))}" '{"type":"ping"}' >"$T/b2"
is "$(cat "$T/b2")" \
    "{\"type\":\"subscribed\",$ALL,\"last_id\":$((last + 1))}
{\"type\":\"pong\"}" "bob (not an admin) gets no topic event, replay included"
kill $b 2>/dev/null
wait $b 2>/dev/null

# reconnect with since: what was missed, in order, then the new ones
mid=$((last + 2))
ws "$U" 6 "$AUTH" "{\"type\":\"subscribe\",$ALL,\"since\":$mid}" >"$T/r" &
r=$!
wait_file "$T/r" 30 $r
corp-proposal approve 1 --as admin >/dev/null
wait $r
is "$(cat "$T/r")" \
"{\"type\":\"subscribed\",$ALL,\"last_id\":$mid}
$(tail -n 4 "$T/a")
$(corp-event list --after $((last + 6)) --topic proposals | jq -c '{id: .event_id, topic, type: .event_type, data: .payload}')" \
    "since: the missed frames exactly as sent live, then the new one"
is "$(ws "$U" 2 "$AUTH" "{\"type\":\"subscribe\",\"topics\":[\"proposals\"],\"since\":$((last + 1))}" |
    jq -c '[.type, .id]')" \
"[\"subscribed\",null]
[\"approved\",$(corp-event list --topic proposals | jq .event_id)]" \
    "one topic: only its events"

# 200 idle clients, a client that never reads and one that reads: the
# never-reading one is dropped at --ws-max-pending (16384 bytes here),
# the reader gets every frame, the idle ones stay open.
port=$(jq .port "$T/ready")
mkfifo "$T/idle.in" "$T/stall.in"
ws --idle 200 "$U" "$ADMIN" <"$T/idle.in" >"$T/idle" &
idle=$!
exec 7>"$T/idle.in"
wait_file "$T/idle" 60 $idle
is "$(cat "$T/idle")" '{"idle":200}' "200 idle clients subscribed"
python3 "$CORP_SRC/tests/tools/ws_stall.py" 127.0.0.1 "$port" "$ADMIN" \
    <"$T/stall.in" >"$T/stall" &
stall=$!
exec 8>"$T/stall.in"
wait_file "$T/stall" 30 $stall
N=3000
ws "$U" $((N + 1)) "$AUTH" '{"type":"subscribe","topics":["messages"]}' \
    >"$T/reader" &
reader=$!
wait_file "$T/reader" 30 $reader
jq -cn --argjson n $N --argjson d $t0 'range(100; 100 + $n) as $m |
    {update_id: $m, message: {message_id: $m, date: $d,
     chat: {id: -9, type: "group", title: "G"},
     from: {id: 7, first_name: "Ann", username: "ann"},
     text: "message \($m)"}}' | corp-msg import >/dev/null
wait $reader
is "$(tail -n +2 "$T/reader" | jq -s --argjson n $N \
    '[.[].data.message_id] == [range(100; 100 + $n)]')" true \
    "the reader got all $N frames, in order"
i=0
while ! grep -q 'dropped admin' "$T/api.log" && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
like "$(grep 'GET /ws' "$T/api.log")" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z corp-api: 127\.0\.0\.1 "GET /ws" dropped admin: more than 16384 bytes of frames unread$' \
    "the never-reading client was dropped, and logged"
echo go >&8
wait $stall
is "$(cat "$T/stall")" "ready
closed" "its connection was closed"
exec 8>&-
echo >&7
i=0
while [ "$(tail -n 1 "$T/idle")" = '{"idle":200}' ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(tail -n 1 "$T/idle")" '{"open":200}' "the 200 idle clients are still open"
exec 7>&-
wait $idle

wait $silent
is "$(cat "$T/silent")" \
    '{"close":4401,"reason":"no {\"type\":\"auth\"} frame within 10 s"}' \
    "no auth frame within 10 s: 4401"

kill "$api_pid"
wait "$api_pid"
done_testing
