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
is "$(corp-msg list | jq -s -c 'map(.id)')" "[1,2,3]" \
    "row ids in order, none skipped (the repeated message drew no id)"

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

# ---- who is stored: not strangers' private chats (issue 16, 15) -------
# priv UPDATE_ID KIND CHAT MESSAGE_ID TEXT: a private message, dated
# 2026-03-02T00:00:00Z.
priv() {
	jq -cn --argjson u "$1" --arg k "$2" --argjson c "$3" \
	    --argjson m "$4" --arg t "$5" '{update_id: $u, ($k): {
	    message_id: $m, date: 1772409600, text: $t,
	    chat: {id: $c, type: "private", first_name: "Sam"},
	    from: {id: $c, is_bot: false, first_name: "Sam"}}}'
}
# cb UPDATE_ID FROM ID: a callback query from a button in FROM's chat.
cb() {
	jq -cn --argjson u "$1" --argjson f "$2" --arg i "$3" \
	    '{update_id: $u, callback_query: {id: $i, data: "done:1",
	    chat_instance: "1", from: {id: $f, is_bot: false,
	    first_name: "Sam"}, message: {message_id: 1, date: 1,
	    chat: {id: $f, type: "private"}}}}'
}
nmsg=$(sql "SELECT count(*) FROM tg_messages")
nev=$(sql "SELECT count(*) FROM events")
{
	priv 500 message 555 1 "hello from a stranger, please store me"
	priv 501 edited_message 555 1 "an edit from a stranger"
	cb 502 555 cb-stranger
} >"$T/stranger.jsonl"
ok "a stranger's private updates" corp-msg import "$T/stranger.jsonl"
is "$out" '{"handled":3,"duplicates":0,"invalid":0}' "are handled"
is "$(sql "SELECT count(*) FROM tg_messages"):$(sql "SELECT count(*)
    FROM tg_callbacks")" "$nmsg:0" "but neither message nor callback is stored"
is "$(sql "SELECT count(*) FROM events")" "$nev" "and no message.updated event"
ok "again" corp-msg import "$T/stranger.jsonl"
is "$out" '{"handled":0,"duplicates":3,"invalid":0}' \
    "their update ids are recorded all the same"
corp-user add sam >/dev/null
corp-bind add --user sam --channel telegram --address 555 >/dev/null
{
	priv 503 message 555 2 "now that sam is bound"
	cb 504 555 cb-bound
} | corp-msg import >/dev/null
is "$(corp-msg list --chat 555 | jq -r .text)" "now that sam is bound" \
    "a bound chat's private message is stored"
is "$(sql "SELECT id, from_id FROM tg_callbacks")" "cb-bound|555" \
    "and its callback query"
corp-bind deactivate --user sam --channel telegram >/dev/null
priv 505 message 555 3 "after a deactivation" | corp-msg import >/dev/null
is "$(corp-msg list --chat 555 | jq -s -c 'map(.message_id)')" "[2,3]" \
    "an inactive bind still holds the chat: stored"

# ---- retention: corp-msg prune, messages.retention --------------------
is_rc 64 "prune --before in the future" corp-msg prune \
    --before 2026-03-01T12:00:01Z
is "$(printf '%s\n' "$err" | head -1)" "corp-msg: --before 2026-03-01T12:00:01Z is in the future (now is 2026-03-01T12:00:00Z)" \
    "is refused, saying so"
is_rc 64 "--before and --older-than together" corp-msg prune \
    --before 2026-01-01T00:00:00Z --older-than 1d
is_rc 64 "a bad --older-than" corp-msg prune --older-than soon
is_rc 65 "messages.retention must be a duration" \
    corp-settings config set messages.retention forever
ok "prune with the default retention (90d)" corp-msg prune
is "$out" '{"before":"2025-12-01T12:00:00Z","messages":0,"edits":0,"events":0,"callbacks":0,"dry_run":false}' \
    "nothing is that old"
total=$(sql "SELECT count(*) FROM tg_messages")
ok "dry run" corp-msg prune --before 2026-03-01T10:01:00Z --dry-run
is "$out" '{"before":"2026-03-01T10:01:00Z","messages":1,"edits":2,"events":3,"callbacks":0,"dry_run":true}' \
    "counts message 10 and its two earlier versions"
is "$(sql "SELECT count(*) FROM tg_messages"):$(sql "SELECT count(*) FROM
    tg_message_edits")" "$total:2" "and deletes nothing"
tev=$(sql "SELECT count(*) FROM events WHERE topic = 'messages'")
ok "prune --before" corp-msg prune --before 2026-03-01T10:01:00Z
is "$out" '{"before":"2026-03-01T10:01:00Z","messages":1,"edits":2,"events":3,"callbacks":0,"dry_run":false}' \
    "message 10 went with its history and its three topic events"
is "$(sql "SELECT count(*) FROM events WHERE topic = 'messages'
    AND dedupe_key LIKE 'msg:-100:10:%'"):$(sql "SELECT count(*) FROM events
    WHERE topic = 'messages'")" "0:$((tev - 3))" \
    "its message.updated events are gone, the others stay"
is_rc 67 "it is gone" corp-msg show -- -100 10
is "$(sql "SELECT count(*) FROM tg_messages"):$(sql "SELECT count(*) FROM
    tg_message_edits")" "$((total - 1)):0" "nothing else went"
ok "prune --older-than" corp-msg prune --older-than 1h59m
is "$(printf '%s' "$out" | jq -c '[.before, .messages]')" \
    '["2026-03-01T10:01:00Z",0]' "a duration back from now"
ok "check after pruning" corp-db check

# contrib/corp-pipeline applies messages.retention each cycle.
corp-settings config set messages.retention 1d
CORP_NOW=2026-03-02T12:30:00Z run "$CORP_SRC/contrib/corp-pipeline" \
    --channel file --send-opt "--out=$T/out"
is "$rc" 0 "a pipeline cycle a day later"
is "$err" "" "quietly (the prune stage shows in what is left)"
is "$(corp-msg list | jq -r '[.chat_id, .message_id] | @tsv' | tr '\t\n' ': ')" \
    "555:2 555:3 " "only what is younger than a day is left"
is "$(sql "SELECT count(*) FROM tg_callbacks")" 0 \
    "callback queries older than a day went too"
done_testing
