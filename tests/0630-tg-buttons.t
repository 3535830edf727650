#!/bin/sh
# Buttons that act (issue 19; corp-fmt.1 "Buttons", corp-tg.1 "BUTTONS"):
# a card's buttons from the catalog, signed by corp-send per delivery
# and action; a press read by corp-tg poll becomes the producer's
# booking_action event or a task transition as the pressing user, is
# answered (answerCallbackQuery) and the card edited to show the outcome
# without its keyboard -- once.  Refused: a forged or malformed token, a
# replayed or second press, a press from another chat, a transition the
# presser may not make, an expired card; a poison callback is skipped.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z CORP_RATE_LIMIT=off
D=$CORP_DATA_DIR
TOKEN='777063:AAbuttons-Test_token'
: > "$T/updates"
FAKE_TG_TOKEN=$TOKEN start_fake tg "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tg.log" --transcript "$T/tr" --updates "$T/updates"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
q() { "$@" > /dev/null || fail "$*"; }
mkdir -m 700 "$D/secrets"
printf '%s\n' "$TOKEN" > "$D/secrets/telegram_token"
chmod 600 "$D/secrets/telegram_token"

q corp-settings config set base_url https://corp.example
q corp-org add ops --title Operations
q corp-user add boss --name Boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --name Ann --unit ops
q corp-user add olga --name Olga
q corp-user add max --name Max
q corp-bind add --user olga --channel telegram --address 7001
q corp-bind add --user max --channel telegram --address 7002
q corp-bind add --user boss --channel telegram --address 7003
q corp-bind add --user ann --channel telegram --address 7004

# ---- corp-fmt: the buttons of the catalog on the line ----------------
# Seed 003: the admin's booking_done card asks "did the client come?".
jq -cn '{idempotency_key: "b-42-done", source: "booking",
    event_type: "booking_done", recipients: [{user: "olga", role: "admin"}],
    payload: {booking_id: 42, initiated_by: "system", client_name: "Eve",
        specialist_name: "Kate", service: "Consultation",
        starts_at: "2026-03-02T08:00:00Z"}}' | q corp-event emit
q corp-event route
run sh -c 'corp-deliver pending --channel telegram | corp-fmt'
is "$rc" 0 "corp-fmt formats the card"
is "$(printf '%s' "$out" | jq -c .buttons)" \
    '[[{"text":"Yes","action":"done"},{"text":"No","action":"no_show"}]]' \
    "with the shipped buttons, unsigned (corp-fmt links no libcrypto)"
# Other channels get no buttons; a malformed entry holds the line.
mkdir -p "$D/i18n"
printf '%s\n' 'en:buttons.booking_done.by_system@admin | "Yes=done|No"' \
    > "$D/i18n/bad.txt"
# (each look a lease later: corp-deliver pending leases the row 2 min)
export CORP_NOW=2026-03-02T09:03:00Z
run sh -c 'corp-deliver pending --channel telegram | corp-fmt'
is "$(printf '%s' "$out" | jq -c '[.result, .error_class, .error]')" \
    "[\"retry\",\"config\",\"fmt: en:buttons.booking_done.by_system@admin ($D/i18n/bad.txt:1): button \\\"No\\\": expected LABEL=ACTION\"]" \
    "a button without an action holds the line, naming the entry"
printf '%s\n' 'en:buttons.booking_done.by_system@admin | "Yes=Done!"' \
    > "$D/i18n/bad.txt"
export CORP_NOW=2026-03-02T09:06:00Z
run sh -c 'corp-deliver pending --channel telegram | corp-fmt'
like "$(printf '%s' "$out" | jq -r .error)" \
    'button "Yes=Done!": the action must be 1-20 of a-z 0-9 _' \
    "an action that is no word holds it too"
rm "$D/i18n/bad.txt"
export CORP_NOW=2026-03-02T09:10:00Z

# ---- corp-send: the keyboard, each action signed ---------------------
run corp-deliver run --channel telegram --allow-http --until-empty
is "$rc" 0 "the card goes out"
is "$(stat -c %a "$D/secrets/tg-button.key")" 600 \
    "the signing key was made, 0600"
kb=$(jq -c 'select(.method == "sendMessage") | .reply_markup' "$T/tg.log")
is "$(printf '%s' "$kb" | jq -r '.inline_keyboard[0] | map(.text) | join(" ")')" \
    "Yes No" "the labels"
yes=$(printf '%s' "$kb" | jq -r '.inline_keyboard[0][0].callback_data')
no=$(printf '%s' "$kb" | jq -r '.inline_keyboard[0][1].callback_data')
like "$yes" '^1\.done\.[A-Za-z0-9_-]{22}$' "callback_data: delivery, action, MAC"
like "$no" '^1\.no_show\.[A-Za-z0-9_-]{22}$' "one per action"
is "$(printf '%s' "$no" | wc -c)" 32 "well within Telegram's 64 bytes"
mid=$(jq -r 'select(.method == "sendMessage") | .message_id' "$T/tg.log")
card=$(jq -r 'select(.method == "sendMessage") | .text' "$T/tg.log")

# ---- presses ----------------------------------------------------------
uid=100
# press FROM DATA [CHAT MSGID]: a callback_query update for getUpdates.
press() {
	uid=$((uid + 1))
	jq -cn --argjson u "$uid" --argjson f "$1" --arg d "$2" \
	    --argjson c "${3:-$1}" --argjson m "${4:-$mid}" --arg t "$card" \
	    '{update_id: $u, callback_query: {id: "cb\($u)",
	    from: {id: $f, is_bot: false, first_name: "F"},
	    chat_instance: "ci", data: $d,
	    message: {message_id: $m, date: 1772441000, text: $t,
	        chat: {id: $c, type: "private", first_name: "F"}}}}' \
	    >> "$T/updates"
}
poll() {
	run corp-tg poll --once --allow-http
}
# what: the answers and edits of the last poll, one line each.
: > "$T/seen"
what() {
	jq -c 'select(.method == "answerCallbackQuery" or
	    .method == "editMessageText") | if .method ==
	    "answerCallbackQuery" then ["answer", .callback_query_id, .text]
	    else ["edit", .chat_id, .message_id, .reply_markup] end' \
	    "$T/tg.log" > "$T/now"
	tail -n +"$(($(wc -l < "$T/seen") + 1))" "$T/now"
	cp "$T/now" "$T/seen"
}
actions() {
	corp-event tail | jq -c 'select(.event_type | test("_action$")) |
	    [.event_type, .actor_user_id, .payload.action, .payload.delivery_id,
	    .payload.event, .payload.event_payload.booking_id]'
}

press 7001 "$yes"
poll
is "$rc" 0 "corp-tg takes the press"
is "$(what)" '["answer","cb101","✅ done"]
["edit",7001,1,null]' "answered, and the card edited with no keyboard"
is "$(jq -r 'select(.method == "editMessageText") | .text' "$T/tg.log")" \
    "$(printf '%s\n\n✅ done by Olga' "$card")" \
    "the card's text, then who did what"
olga=$(sql "SELECT id FROM users WHERE login = 'olga'")
ann=$(sql "SELECT id FROM users WHERE login = 'ann'")
boss=$(sql "SELECT id FROM users WHERE login = 'boss'")
is "$(actions)" "[\"booking_action\",$olga,\"done\",1,1,42]" \
    "one booking_action event, as olga, naming the delivery and the card's event"
is "$(sql "SELECT delivery_id, action, user_id, chat_id, callback_id
    FROM tg_button_presses")" \
    "1|done|$olga|7001|cb101" \
    "the press is recorded"

# The same press again (a new update: Telegram would send one per tap),
# the other button, and a replay of the very same update.
press 7001 "$yes"
press 7001 "$no"
tail -n 1 "$T/updates" | jq -c '.update_id = 101' >> "$T/updates"
poll
is "$(what)" '["answer","cb102","Already answered: done by Olga."]
["answer","cb103","Already answered: done by Olga."]' \
    "a second press of either button is answered from the first, no edit"
is "$(actions | wc -l)" 1 "and made no event"

# Forged and malformed callback_data.
mac=${yes##*.}
press 7001 "1.no_show.$mac"
press 7001 "1.done.AAAAAAAAAAAAAAAAAAAAAA"
press 7001 "2.done.$mac"
press 7001 "hello"
press 7001 ""
press 7001 "01.done.$mac"
poll
is "$(what | jq -r '.[2]' | sort | uniq -c | sed 's/^ *//')" \
    "6 ⚠️ This button is not valid." "each refused as not valid"
is "$(actions | wc -l)" 1 "nothing acted"
# Every press is answered, whatever it carries (corp-tg.1): ids that are
# no integers (555.0, a string; sec-review-10 item 6) are refused as
# not valid, and answered.
for f in '555.0' '"7001"' 'null'; do
	uid=$((uid + 1))
	printf '{"update_id":%d,"callback_query":{"id":"cb%d","from":{"id":%s,"is_bot":false,"first_name":"F"},"chat_instance":"ci","data":"%s","message":{"message_id":4.0,"date":1772441000,"text":"x","chat":{"id":7001.0,"type":"private","first_name":"F"}}}}\n' \
	    "$uid" "$uid" "$f" "$yes" >> "$T/updates"
done
poll
is "$(printf '%s' "$out" | jq -c '[.handled, .refused]')" '[3,0]' \
    "presses whose ids are no integers are handled"
is "$(what)" "[\"answer\",\"cb$((uid - 2))\",\"⚠️ This button is not valid.\"]
[\"answer\",\"cb$((uid - 1))\",\"⚠️ This button is not valid.\"]
[\"answer\",\"cb$uid\",\"⚠️ This button is not valid.\"]" \
    "each answered: not valid, nothing edited"
is "$(actions | wc -l)" 1 "nothing acted"

# A press from another chat: max's (bound), a stranger's, and olga's
# token under a card shown in another chat.
press 7002 "$yes"
press 9999 "$yes"
press 7001 "$yes" 7002
poll
is "$(what | jq -r '.[2]' | sort | uniq -c | sed 's/^ *//')" \
    "3 🔒 This button is not for this chat." "refused: not the card's chat"
is "$(sql "SELECT count(*) FROM tg_button_presses")" 1 "nothing recorded"

# ---- a task transition -------------------------------------------------
printf '%s\n' \
    'en:buttons.report_submitted@initiator | "Approve=approve|Reject=reject"' \
    'en:buttons.task_created@executor | "Approve=approve\nNote=noted"' \
    > "$D/i18n/buttons.txt"
chmod 600 "$D/i18n/buttons.txt"
q corp-task create --as boss --title "Quarterly report" --assignee ann
q corp-event route
q corp-deliver run --channel telegram --allow-http --until-empty 2>/dev/null
q corp-task submit 1 --as ann --text "attached"
q corp-event route
q corp-deliver run --channel telegram --allow-http --until-empty 2>/dev/null
# card CHAT: the last card sent to chat: "MSGID DATA..." of its buttons.
cardof() {
	jq -r --argjson c "$1" 'select(.method == "sendMessage" and
	    .chat_id == $c) | [.message_id, (.reply_markup.inline_keyboard[][]
	    | .callback_data)] | join(" ")' "$T/tg.log" | tail -n 1
}
set -- $(cardof 7004)
annmid=$1 annapprove=$2 annnote=$3
set -- $(cardof 7003)
bossmid=$1 approve=$2
is "$(jq -c --argjson m "$annmid" 'select(.message_id == $m and
    .method == "sendMessage") | .reply_markup.inline_keyboard | map(map(.text))' \
    "$T/tg.log")" '[["Approve"],["Note"]]' "a newline starts a row"

# ann may not approve her own task: corp-task's check, not the button's.
press 7004 "$annapprove" 7004 "$annmid"
poll
is "$(what)" "[\"answer\",\"cb$uid\",\"🔒 You may not do that.\"]" \
    "ann's approve is refused as corp-task --as ann would be"
is "$(corp-task show 1 | jq -r .state)" WAITING_APPROVAL "the task did not move"
is_rc 77 "as on the command line" corp-task approve 1 --as ann

# A press that carries no message, only inline_message_id (fresh-eyes
# round 9): buttons are only on cards corp sent to a chat, so it is on
# no card of ours, refused like a foreign card, even from the right user.
uid=$((uid + 1))
jq -cn --argjson u "$uid" --arg d "$approve" '{update_id: $u,
    callback_query: {id: "cb\($u)", from: {id: 7003, is_bot: false,
    first_name: "F"}, chat_instance: "ci", data: $d,
    inline_message_id: "AAA"}}' >> "$T/updates"
poll
is "$(what)" "[\"answer\",\"cb$uid\",\"🔒 This button is not for this chat.\"]" \
    "a press with only inline_message_id: refused, nothing edited"
is "$(corp-task show 1 | jq -r .state)" WAITING_APPROVAL "and nothing acted"

press 7003 "$approve" 7003 "$bossmid"
poll
is "$(what)" "[\"answer\",\"cb$uid\",\"✅ approve\"]
[\"edit\",7003,$bossmid,null]" "boss's approve is answered and the card edited"
is "$(corp-task show 1 | jq -c '[.state, .version]')" '["DONE",3]' \
    "the task is DONE"
is "$(corp-event tail | jq -c 'select(.event_type == "APPROVED") |
    [.actor_user_id, .task_id, .state]')" "[$boss,1,\"DONE\"]" \
    "approved by boss, in the event log"
is "$(jq -r 'select(.method == "editMessageText") | .text' "$T/tg.log" |
    tail -n 1 | tail -n 1)" "✅ approve by Boss" "the outcome on the card"
# A button that names no transition on a task card: the producer's way.
press 7004 "$annnote" 7004 "$annmid"
poll
is "$(what | jq -c '.[0:3]')" "[\"answer\",\"cb$uid\",\"✅ noted\"]
[\"edit\",7004,$annmid]" "answered and edited"
is "$(actions | tail -n 1 | jq -c '.[0:3]')" "[\"task_action\",$ann,\"noted\"]" \
    "an action that is no task verb is an event, as ann"

# ---- the webhook: corp-tg cgi spools, process acts and answers ---------
mkdir -p "$D/secrets"
printf 'hook-Secret_9\n' > "$D/secrets/telegram_webhook_secret"
chmod 600 "$D/secrets/telegram_webhook_secret"
q corp-task create --as boss --title "Second report" --assignee ann
q corp-event route
q corp-deliver run --channel telegram --allow-http --until-empty 2>/dev/null
q corp-task submit 2 --as ann --text "attached"
q corp-event route
q corp-deliver run --channel telegram --allow-http --until-empty 2>/dev/null
set -- $(cardof 7003)
# This card's token carried onto the chat's earlier card (a modified
# client; fresh-eyes round 8): refused, the other card left alone.
press 7003 "$3" 7003 "$bossmid"
poll
is "$(what)" "[\"answer\",\"cb$uid\",\"🔒 This button is not for this chat.\"]" \
    "a token on another card of the same chat: refused, nothing edited"
is "$(corp-task show 2 | jq -r .state)" WAITING_APPROVAL "and nothing acted"
press 7003 "$3" 7003 "$1"
tail -n 1 "$T/updates" > "$T/hook.json"
sed -i '$d' "$T/updates"	# it comes through the webhook, not getUpdates
REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c < "$T/hook.json") \
    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-Secret_9 \
    run_in "$T/hook.json" corp-tg cgi
is "$rc" 0 "the webhook spools the press"
is "$(corp-task show 2 | jq -r .state)" WAITING_APPROVAL "the CGI acts on nothing"
run corp-tg process --allow-http
is "$rc" 0 "process handles it"
is "$(what)" "[\"answer\",\"cb$uid\",\"✅ reject\"]
[\"edit\",7003,$1,null]" "answered and edited"
is "$(corp-task show 2 | jq -c '[.state, .version]')" '["OPEN",3]' \
    "rejected: back to OPEN, as boss"
is "$(corp-task reports 2 | jq -r .text)" attached "ann's report stands"
is "$(corp-event tail --task 2 | jq -r 'select(.event_type == "REJECTED") |
    .reason')" "(with a Telegram button)" "the reason says where it came from"

# ---- history: corp-msg import stores presses, never acts ----------------
q corp-task submit 2 --as ann --text "again"
q corp-event route
q corp-deliver run --channel telegram --allow-http --until-empty 2>/dev/null
set -- $(cardof 7003)
press 7003 "$2" 7003 "$1"
tail -n 1 "$T/updates" > "$T/hist.json"
sed -i '$d' "$T/updates"
run corp-msg import "$T/hist.json"
is "$rc" 0 "corp-msg import takes the press"
is "$(corp-task show 2 | jq -r .state)" WAITING_APPROVAL "but does not approve"
is "$(sql "SELECT count(*) FROM tg_outbox WHERE update_id = $uid")" 0 \
    "nor answers"
is "$(sql "SELECT count(*) FROM tg_callbacks WHERE update_id = $uid")" 1 \
    "it is stored"

# ---- expiry ------------------------------------------------------------
jq -cn '{idempotency_key: "b-43-done", source: "booking",
    event_type: "booking_done", recipients: [{user: "olga", role: "admin"}],
    payload: {booking_id: 43, initiated_by: "system", client_name: "Eve",
        specialist_name: "Kate", service: "Consultation",
        starts_at: "2026-03-02T08:00:00Z"}}' | q corp-event emit
q corp-event route
q corp-deliver run --channel telegram --allow-http --until-empty 2>/dev/null
set -- $(cardof 7001)
press 7001 "$2" 7001 "$1"
CORP_NOW=2026-04-02T09:00:00Z poll
is "$(what | jq -r '.[2]')" "⌛ This button has expired." \
    "a card's buttons live 30 days"

# ---- user text in a label (sec-review-10 item 2) ------------------------
# The entry is split as the catalog wrote it, then each label filled in:
# a title holding "|", "=" or a newline stays its label's text, adding
# no button and changing no action; controls become spaces, a long
# label is cut; never a configuration error that would hold the line.
printf '%s\n' \
    'en:buttons.task_created@executor | "Open {task.title}=open|Cancel=cancel\n{task.title}=noted"' \
    > "$D/i18n/buttons.txt"
long=$(printf 'é%.0s' $(seq 1 40))
for t in 'a=approve|Evil=reject' "$(printf 'x\ny\rz\\|w\tv')" "$long" \
    "$(printf '\342\200\256evorppA')" "$(printf ' \n ')"; do
	q corp-task create --as boss --title "$t" --assignee ann
done
q corp-event route
run sh -c 'corp-deliver pending --channel telegram | corp-fmt'
is "$rc" 0 "corp-fmt formats the cards"
is "$(printf '%s\n' "$out" | jq -c 'select(.buttons != null) |
    [.result // "ok", .buttons]')" \
"[\"ok\",[[{\"text\":\"Open a=approve|Evil=reject\",\"action\":\"open\"},{\"text\":\"Cancel\",\"action\":\"cancel\"}],[{\"text\":\"a=approve|Evil=reject\",\"action\":\"noted\"}]]]
[\"ok\",[[{\"text\":\"Open x y z\\\\|w v\",\"action\":\"open\"},{\"text\":\"Cancel\",\"action\":\"cancel\"}],[{\"text\":\"x y z\\\\|w v\",\"action\":\"noted\"}]]]
[\"ok\",[[{\"text\":\"Open $(printf 'é%.0s' $(seq 1 28))…\",\"action\":\"open\"},{\"text\":\"Cancel\",\"action\":\"cancel\"}],[{\"text\":\"$(printf 'é%.0s' $(seq 1 30))…\",\"action\":\"noted\"}]]]
[\"ok\",[[{\"text\":\"Open ?evorppA\",\"action\":\"open\"},{\"text\":\"Cancel\",\"action\":\"cancel\"}],[{\"text\":\"?evorppA\",\"action\":\"noted\"}]]]
[\"ok\",[[{\"text\":\"Open\",\"action\":\"open\"},{\"text\":\"Cancel\",\"action\":\"cancel\"}],[{\"text\":\"noted\",\"action\":\"noted\"}]]]" \
    "each title stays in its labels: the same buttons and actions, controls as spaces, a bidi override as ?, cut at 64 bytes, an empty label its action"
export CORP_NOW=2026-03-02T09:14:00Z	# past corp-deliver pending's lease
run corp-deliver run --channel telegram --allow-http --until-empty
is "$rc:$(printf '%s' "$out" | jq -c '[.sent, .held]')" '0:[5,0]' \
    "and they go out, none held"
is "$(jq -c 'select(.method == "sendMessage" and .chat_id == 7004 and
    .reply_markup != null) |
    .reply_markup.inline_keyboard | map(map(.callback_data | split(".")[1]))' \
    "$T/tg.log" | tail -n 5 | sort -u)" '[["open","cancel"],["noted"]]' \
    "each card signed open, cancel and noted, whatever its title"

# ---- poison --------------------------------------------------------------
uid=$((uid + 1)); pu=$uid
printf '{"update_id":%d,"callback_query":{"id":"cbp","from":{"id":7001,"is_bot":false,"first_name":"F"},"chat_instance":"ci","data":"1.done\\u0000x"}}\n' \
    "$uid" >> "$T/updates"
press 7001 "junk"
poll
is "$rc" 0 "a poison callback does not stop the poller"
is "$(printf '%s' "$out" | jq -c '[.handled, .refused]')" '[1,1]' \
    "it is refused, the next update handled"
like "$err" "update $pu refused and skipped" "and named"
is "$(what | jq -r '.[1]')" "cb$uid" "only the good one is answered"
is "$(grep -c secret_seen "$T/tg.log")" 0 "the bot token never leaked"
# (-F -e: a base64url key may begin with '-')
is "$(sql .dump | grep -c -F -e "$(cat "$D/secrets/tg-button.key")")" 0 \
    "nor the button key"

done_testing
