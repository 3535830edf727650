#!/bin/sh
# A chat's space (corp-analysis.1 "Spaces", corp-api.1 "Topics over
# WebSocket"): corp-analysis tie/untie/ties and their refusals; the
# space:UNIT_ID:TOPIC topics carry only the events of the chats tied to
# the unit, to its members and head and to admins; a space one may not
# follow is refused exactly as an unknown topic (no existence leak); an
# event goes out once per connection; untying stops the flow.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
. "$CORP_SRC/tests/ws-lib.sh"
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-org add other >/dev/null
corp-user add bob --unit team >/dev/null
corp-user add carl --unit other >/dev/null
TEAM=$(corp-org show team | jq .org_unit_id)
ADMIN=$(corp-user token add admin | jq -r .token)
BOB=$(corp-user token add bob | jq -r .token)
CARL=$(corp-user token add carl | jq -r .token)
t0=1772359200
# msg ID CHAT TEXT: one Telegram update of a group chat
msg() {
	jq -cn --argjson m "$1" --argjson c "$2" --argjson d "$t0" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: $c, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}

# tie, untie, ties
is "$(corp-analysis tie --chat -9 --unit team --as admin)" \
    "{\"chat_id\":-9,\"unit\":\"team\",\"org_unit_id\":$TEAM,\"tied_by\":\"admin\",\"tied_at\":\"2026-03-01T12:00:00Z\"}" \
    "tie: the tie"
run corp-analysis tie --chat -9 --unit nowhere --as admin
is "$rc $err" "67 corp-analysis: unit 'nowhere': not found" "tie to an unknown unit: 67"
run corp-analysis tie --chat -9 --unit team --as bob
is "$rc $err" "77 corp-analysis: 'bob' is not an active admin" "tie as a non-admin: 77"
run corp-analysis tie --chat x --unit team --as admin
is "$rc" 64 "a chat that is not a number: 64"
corp-analysis tie --chat -11 --unit other --as admin >/dev/null
corp-analysis tie --chat -11 --unit team --as admin >/dev/null
is "$(corp-analysis ties | jq -c '[.chat_id, .unit]')" '[-11,"team"]
[-9,"team"]' "ties: by chat id; tying again moves the chat"
is "$(corp-analysis untie --chat -11 --as admin | jq -c '[.chat_id, .unit]')" \
    '[-11,"team"]' "untie: the tie removed"
run corp-analysis untie --chat -11 --as admin
is "$rc $err" "67 corp-analysis: chat -11: tied to no unit" "untie an untied chat: 67"
is "$(sql "SELECT chat_id, unit_id FROM chat_spaces")" "-9|$TEAM" \
    "the database: one tie"

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"
U="ws://127.0.0.1:$(jq .port "$T/ready")/ws"
auth() { printf '{"type":"auth","token":"%s"}' "$1"; }
SP="space:$TEAM:messages"
TOPICS="(topics: messages, analysis_runs, proposals)"

# refusals: a unit carl does not belong to, a unit that does not exist,
# a malformed space: the same error as any unknown topic
is "$(ws "$U" 4 "$(auth "$CARL")" "{\"type\":\"subscribe\",\"topics\":[\"$SP\"]}" \
    '{"type":"subscribe","topics":["space:999:messages"]}' \
    '{"type":"subscribe","topics":["space:x:messages"]}' \
    "{\"type\":\"subscribe\",\"topics\":[\"space:$TEAM:mesages\"]}" |
    jq -r .error | sed "s/$TEAM/ID/")" \
"subscribe: unknown topic 'space:ID:messages' $TOPICS
subscribe: unknown topic 'space:999:messages' $TOPICS
subscribe: unknown topic 'space:x:messages' $TOPICS
subscribe: unknown topic 'space:ID:mesages' $TOPICS" \
    "a space carl may not follow reads as an unknown topic"

# bob (team) follows the space; admin the flat topic and the space at
# once; carl nothing
ws "$U" 3 "$(auth "$BOB")" \
    "{\"type\":\"subscribe\",\"topics\":[\"messages\",\"$SP\",\"space:$TEAM:proposals\"]}" >"$T/bob" &
b=$!
ws "$U" 3 "$(auth "$ADMIN")" \
    "{\"type\":\"subscribe\",\"topics\":[\"messages\",\"space:0$TEAM:messages\"]}" >"$T/admin" &
a=$!
wait_file "$T/bob" 30 $b
wait_file "$T/admin" 30 $a
is "$(jq -c .topics "$T/bob")" "[\"messages\",\"$SP\",\"space:$TEAM:proposals\"]" \
    "bob subscribed to the space"
is "$(jq -c .topics "$T/admin")" "[\"messages\",\"$SP\"]" \
    "the admin too (the id written canonically)"
{
	msg 1 -10 "@bob not in the space"
	msg 2 -9 "@bob please fix the login page"
} | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T12:00:00Z >/dev/null
corp-analysis start 1 --as admin >/dev/null
corp-proposal approve 1 --as admin >/dev/null
wait $b
is "$(tail -n +2 "$T/bob" | jq -c '[.topic, .type, .data.chat_id]')" \
"[\"$SP\",\"message.updated\",-9]
[\"space:$TEAM:proposals\",\"approved\",-9]" \
    "bob: the tied chat's events only, under the space's name; no flat one"
wait $a
is "$(tail -n +2 "$T/admin" | jq -c '[.topic, .data.chat_id]')" \
'["messages",-10]
["messages",-9]' "the admin: each event once, under the first topic"

# untie: the space carries no more of the chat's events
corp-analysis untie --chat -9 --as admin >/dev/null
ws "$U" 2 "$(auth "$BOB")" "{\"type\":\"subscribe\",\"topics\":[\"$SP\"]}" \
    >"$T/bob2" &
b=$!
wait_file "$T/bob2" 30 $b
msg 3 -9 "after the untie" | corp-msg import >/dev/null
corp-analysis tie --chat -10 --unit team --as admin >/dev/null
msg 4 -10 "a newly tied chat" | corp-msg import >/dev/null
wait $b
is "$(tail -n +2 "$T/bob2" | jq -c '[.topic, .data.message_id]')" \
    "[\"$SP\",4]" "untied: nothing more; a new tie: its chat's events"

# the right to a space is judged before every frame, as the flat topics'
# (sec-review-11): bob moved out of team gets none of its frames on his
# open socket; moved back, he gets them again.  The admin's flat stream
# is the witness that event 6 was read while bob was out.
ws "$U" 3 "$(auth "$BOB")" "{\"type\":\"subscribe\",\"topics\":[\"$SP\"]}" \
    >"$T/bob3" &
b=$!
ws "$U" 4 "$(auth "$ADMIN")" '{"type":"subscribe","topics":["messages"]}' \
    >"$T/admin3" &
a=$!
wait_file "$T/bob3" 30 $b
wait_file "$T/admin3" 30 $a
# lines FILE N: bounded poll until FILE has N lines
lines() {
	_i=0
	while [ "$(wc -l <"$1")" -lt "$2" ]; do
		_i=$((_i + 1))
		[ "$_i" -gt 600 ] && return 1
		sleep 0.05
	done
}
msg 5 -10 "bob is in team" | corp-msg import >/dev/null
lines "$T/bob3" 2 || fail "bob got message 5"
corp-user set bob --unit other >/dev/null
msg 6 -10 "bob is in other" | corp-msg import >/dev/null
lines "$T/admin3" 3 || fail "the admin got message 6"
corp-user set bob --unit team >/dev/null
msg 7 -10 "bob is back" | corp-msg import >/dev/null
wait $b
wait $a
is "$(tail -n +2 "$T/bob3" | jq -c '[.topic, .data.message_id]')" \
    "[\"$SP\",5]
[\"$SP\",7]" "moved out of the unit: no frame of its space; back: again"
is "$(tail -n +2 "$T/admin3" | jq -c .data.message_id | tr '\n' ' ')" \
    "5 6 7 " "the admin saw all three"

kill "$api_pid"
wait "$api_pid"
done_testing
