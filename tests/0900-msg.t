#!/bin/sh
# corp-msg: import of Update objects through the one Telegram handler
# (once per (chat, message id); edits keep history), list filters, show,
# message.updated topic events, and tail --follow --after resuming
# without loss while events are being written.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z

# upd UPDATE_ID KIND MESSAGE_ID DATE_UNIX TEXT [EDIT_DATE]
upd() {
	jq -cn --argjson u "$1" --arg k "$2" --argjson m "$3" \
	    --argjson d "$4" --arg t "$5" --argjson e "${6:-null}" \
	    '{update_id: $u, ($k): ({message_id: $m, date: $d,
	      chat: {id: -100, type: "group", title: "Team"},
	      from: {id: 7, is_bot: false, first_name: "Ann", last_name: "Lee",
	             username: "ann"}, text: $t}
	      + (if $e == null then {} else {edit_date: $e} end))}'
}
# 2026-03-01T10:00:00Z
t0=1772359200
{
	upd 1 message 10 "$t0" "first message here"
	upd 2 message 11 $((t0 + 60)) "second one, from ann"
	upd 1 message 10 "$t0" "first message here"
} >"$T/a.jsonl"
ok "import" corp-msg import "$T/a.jsonl"
is "$out" '{"handled":2,"duplicates":1,"invalid":0}' "the repeated update is a duplicate"
is "$(sql "SELECT count(*) FROM tg_messages")" 2 "the same update ingested twice: one message"
# The same message in a new update (another capture of it): still once.
upd 3 message 10 "$t0" "first message here" >"$T/b.jsonl"
ok "import the message again under a new update id" corp-msg import "$T/b.jsonl"
is "$(sql "SELECT count(*) FROM tg_messages WHERE message_id = 10")" 1 \
    "once per (chat, message id) whichever update carries it"

upd 4 edited_message 10 "$t0" "first message, edited" $((t0 + 100)) |
    corp-msg import >/dev/null
upd 5 edited_message 10 "$t0" "first message, edited twice" $((t0 + 200)) |
    corp-msg import >/dev/null
ok "show" corp-msg show -- -100 10
is "$(printf '%s' "$out" | jq -c '{text, edits, edit_date, history: [.history[].text]}')" \
    '{"text":"first message, edited twice","edits":2,"edit_date":"2026-03-01T10:03:20Z","history":["first message here","first message, edited"]}' \
    "an edit updates the text and keeps the history"
is "$(sql "SELECT count(*) FROM tg_message_edits")" 2 "two history rows"
# An older edit arriving late changes nothing.
upd 6 edited_message 10 "$t0" "stale edit" $((t0 + 150)) | corp-msg import >/dev/null
is "$(corp-msg show -- -100 10 | jq -r .text)" "first message, edited twice" \
    "an older edit arriving late is ignored"

ok "list" corp-msg list
is "$(printf '%s\n' "$out" | sed -n 1p)" \
    '{"id":1,"chat_id":-100,"message_id":10,"chat_type":"group","chat_title":"Team","from_id":7,"from_username":"ann","from_name":"Ann Lee","date":"2026-03-01T10:00:00Z","edit_date":"2026-03-01T10:03:20Z","text":"first message, edited twice","reply_to_message_id":null,"entities":null,"edits":2}' \
    "the message line"
is "$(corp-msg list --text second | jq -s -c 'map(.message_id)')" "[11]" "--text"
is "$(corp-msg list --author ann | jq -s length)" 2 "--author by username"
is "$(corp-msg list --author 7 | jq -s length)" 2 "--author by id"
is "$(corp-msg list --author bob | jq -s length)" 0 "--author: nobody"
is "$(corp-msg list --since 2026-03-01T10:00:30Z | jq -s -c 'map(.message_id)')" \
    "[11]" "--since"
is "$(corp-msg list --until 2026-03-01T10:01:00Z | jq -s -c 'map(.message_id)')" \
    "[10]" "--until excludes its instant"
is "$(corp-msg list --chat 5 | jq -s length)" 0 "--chat"
is_rc 67 "show of an unknown message" corp-msg show -- -100 99
is_rc 64 "usage" corp-msg show 1

echo '{"update_id":7,' >"$T/bad.jsonl"
echo '{"no":"update"}' >>"$T/bad.jsonl"
upd 8 message 12 $((t0 + 120)) "after the bad lines" >>"$T/bad.jsonl"
is_rc 65 "bad lines: 65 after the rest" corp-msg import "$T/bad.jsonl"
like "$err" "bad.jsonl:1" "names the line"
is "$(sql "SELECT count(*) FROM tg_messages")" 3 "the good line after them stored"

ok "message.updated events" corp-event list --topic messages
is "$(printf '%s\n' "$out" | jq -c '[.event_type, .topic, .task_id, .payload.message_id, .payload.edited]' | tr '\n' ' ')" \
    '["message.updated","messages",null,10,false] ["message.updated","messages",null,11,false] ["message.updated","messages",null,10,true] ["message.updated","messages",null,10,true] ["message.updated","messages",null,12,false] ' \
    "one event per stored or changed message, none for duplicates"
corp-user add eve >/dev/null
is "$(corp-event list --topic messages --as eve | jq -s length)" 0 \
    "topic events: not visible to a non-admin"
is "$(corp-event list --topic messages --as admin | jq -s length)" 5 \
    "visible to admins"
ok "route" corp-event route
is "$(sql "SELECT count(*) FROM deliveries")" 0 "topic events are never routed"

# tail --follow --after resumes without loss while a writer imports.
last=$(sql "SELECT max(event_id) FROM events")
n=$(quick 60 30)
i=0
while [ "$i" -lt "$n" ]; do
	upd $((100 + i)) message $((100 + i)) $((t0 + 300 + i)) "bulk message $i"
	i=$((i + 1))
done >"$T/bulk.jsonl"
# The writer: one update per import, so the events come in many commits.
(
	while IFS= read -r l; do
		printf '%s\n' "$l" | corp-msg import >/dev/null || exit 1
	done <"$T/bulk.jsonl"
) &
writer=$!
_pids="$_pids $writer"
# The reader stops after 7 events, resumes with --after the last id seen.
: >"$T/seen"
after=$last
got=0
rounds=0
while [ "$got" -lt "$n" ] && [ "$rounds" -lt 100 ]; do
	rounds=$((rounds + 1))
	want=$((n - got))
	[ "$want" -gt 7 ] && want=7
	timeout 60 corp-event tail --follow --topic messages --after "$after" \
	    --count "$want" >"$T/part" || break
	cat "$T/part" >>"$T/seen"
	got=$(wc -l <"$T/seen")
	after=$(tail -n 1 "$T/part" | jq .event_id)
done
wait "$writer"
is "$got" "$n" "the reader saw $n events over $rounds resumptions"
is "$(jq .event_id "$T/seen" | sort -n | uniq | wc -l)" "$n" "each id once"
is "$(jq -s -c 'map(.event_id)' "$T/seen")" \
    "$(sql "SELECT json_group_array(event_id) FROM (SELECT event_id FROM events WHERE topic = 'messages' AND event_id > $last ORDER BY event_id) AS e")" \
    "the union is every event written, in order"
done_testing
