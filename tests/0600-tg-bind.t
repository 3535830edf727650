#!/bin/sh
# Telegram binding: corp-bind code, corp-tg poll/cgi/process against the
# fake Bot API -- codes, /start in private chats and groups, wrong-code
# blocking, /stop and my_chat_member, offsets committed with effects, the
# poll lock and 409, the webhook spool, stored messages with their edit
# history, replies through the outbox, and the token kept out of it all.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup

TOKEN='777002:AAsecret-Bind_token'
export FAKE_TG_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
# alice (uk), bob and carol, none bound; a note for alice on telegram (the
# default channel), routed: her row waits for a bind.
{ printf '%s\n' '{"login":"alice","name":"Alice","lang":"uk"}' \
    '{"login":"bob","name":"Bob"}' '{"login":"carol","name":"Carol"}' |
    corp-user import &&
    corp-settings notify set --event-type note --role member \
    --channel telegram --new-type --new-role &&
    echo '{"idempotency_key":"k1","source":"test","event_type":"note","recipients":[{"user":"alice","role":"member"}],"payload":{"title":"Hi"}}' |
    corp-event emit && corp-event route; } >/dev/null || bail "setup failed"
alice=$(sql "SELECT id FROM users WHERE login = 'alice'")
bob=$(sql "SELECT id FROM users WHERE login = 'bob'")
carol=$(sql "SELECT id FROM users WHERE login = 'carol'")
readiness() {
	sql "SELECT readiness FROM deliveries WHERE user_id = $1"
}
binds() {
	sql "SELECT u.login, b.address, b.active FROM binds b JOIN users u
	    ON u.id = b.user_id ORDER BY u.login" | tr '\n|' '  '
}
is "$(readiness "$alice")" waiting_bind "alice's routed row waits for a bind"
# Every stdout and stderr of corp-tg and corp-bind, to look for the token.
: > "$T/all"
keep() { printf '%s\n%s\n' "$out" "$err" >> "$T/all"; }

# ---- corp-bind code ------------------------------------------------
is_rc 65 "code needs telegram.bot_username" corp-bind code --user alice
is "$err" "corp-bind: telegram.bot_username is not set; set it with: corp-settings config set telegram.bot_username NAME" \
    "and says how to set it"
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
is_rc 67 "an unknown user" corp-bind code --user nobody
is_rc 64 "code takes no --channel" corp-bind code --user alice \
    --channel telegram

ok "a code for alice" corp-bind code --user alice
keep
old=$(printf '%s' "$out" | jq -r .code)
ok "a newer code for alice" corp-bind code --user alice
keep
code=$(printf '%s' "$out" | jq -r .code)
like "$code" '^[A-Za-z0-9_-]{22}$' "22 base64url characters"
isnt "$code" "$old" "codes differ"
is "$(printf '%s' "$out" | jq -c 'keys_unsorted')" \
    '["user","code","expires_at","link"]' "the fields in order"
is "$(printf '%s' "$out" | jq -r '[.user, .expires_at, .link] | @tsv')" \
    "$(printf 'alice\t2026-01-05T10:15:00Z\thttps://t.me/corp_test_bot?start=%s' "$code")" \
    "user, expiry 15 minutes on, the deep link"
hash=$(printf '%s' "$code" | sha256sum | cut -d' ' -f1)
is "$(sql "SELECT user_id, created_at, expires_at, CASE WHEN used_at IS NULL
    THEN 1 END, CASE WHEN superseded_at IS NULL THEN 1 END FROM tg_codes WHERE code_sha256 = '$hash'")" \
    "$alice|$now|$((now + 900))|1|1" "stored as its SHA-256"
is "$(sql "SELECT count(*) FROM tg_codes WHERE superseded_at = $now")" 1 \
    "the older unused code is superseded"
is "$(sql .dump | grep -c -e "$code" -e "$old")" 0 \
    "no code is stored in clear"

# ---- the fake and the poller --------------------------------------
cat > "$T/script" <<'J'
{"chat_id":4242,"status":500,"count":1}
J
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr" --script "$T/script"
API="http://127.0.0.1:$port"
uid=100
# msg CHAT TYPE TEXT [LANG]: a message update appended for getUpdates.
msg() {
	uid=$((uid + 1))
	jq -cn --argjson u "$uid" --argjson c "$1" --arg t "$2" \
	    --arg text "$3" --arg l "${4:-}" '{update_id: $u, message: {
	    message_id: $u, date: 1767607200, text: $text,
	    chat: ({id: $c, type: $t} + (if $t == "private" then
	        {first_name: "F"} else {title: "Team"} end)),
	    from: ({id: (if $c > 0 then $c else 9 end), is_bot: false,
	        first_name: "Fe", last_name: "Lix", username: "felix"} +
	        (if $l != "" then {language_code: $l} else {} end))}}' \
	    >> "$T/updates"
}
member() {
	uid=$((uid + 1))
	jq -cn --argjson u "$uid" --argjson c "$1" --arg s "$2" \
	    '{update_id: $u, my_chat_member: {chat: {id: $c,
	    type: "private"}, from: {id: $c, first_name: "F"}, date: 1,
	    old_chat_member: {status: "member", user: {id: 1}},
	    new_chat_member: {status: $s, user: {id: 1}}}}' >> "$T/updates"
}
poll() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
	keep
}
replies() {
	sql "SELECT chat_id || ' ' || key || ' ' || lang || ' ' || status
	    FROM tg_outbox WHERE id > ${1:-0} ORDER BY id" | tr '\n' ';'
}
last_reply() { sql "SELECT coalesce(max(id), 0) FROM tg_outbox"; }
sent() { jq -r 'select(.chat_id == '"$1"') | .text' "$T/tr" | tail -1; }

# /start with a valid code in a private chat; Telegram says "ru", but
# alice's own language (uk) wins.
msg 501 private "/start $code" ru
poll
is "$rc" 0 "poll --once exits 0"
is "$out" '{"spooled":0,"polled":1,"handled":1,"duplicates":0,"ignored":0,"refused":0,"replies_sent":1,"replies_failed":0,"replies_pending":0}' \
    "the summary"
is "$(binds)" "alice 501 1 " "the chat is bound to alice"
is "$(readiness "$alice")" ready "alice's held row is ready"
is "$(sql "SELECT used_at, used_chat_id FROM tg_codes WHERE
    code_sha256 = '$hash'")" "$now|501" "the code is consumed"
is "$(replies)" "501 bot.start.ok uk sent;" "one reply, sent"
is "$(sent 501)" "✅ Готово, Alice! Тепер сповіщення про завдання надходитимуть у цей чат." \
    "the reply reached the fake in alice's language"
is "$(jq -c 'select(.method == "sendMessage") | [.parse_mode,
    .link_preview_disabled]' "$T/tg.log")" '["HTML",true]' \
    "sent as HTML without previews"
is "$(sql "SELECT count(*) FROM tg_messages")" 0 "commands are not stored"

# The offset moved with the effects: a second poll sees nothing again.
poll
is "$out" '{"spooled":0,"polled":0,"handled":0,"duplicates":0,"ignored":0,"refused":0,"replies_sent":0,"replies_failed":0,"replies_pending":0}' \
    "the second poll gets no update"
is "$(jq -c 'select(.method == "getUpdates") | [.offset, .timeout]' \
    "$T/tg.log" | tail -1)" "[$((uid + 1)),0]" \
    "it asks for offset last+1 with timeout 0"
bot=$(printf '%s' "$TOKEN" | sha256sum | cut -c1-16)
is "$(sql "SELECT bot, next_offset FROM tg_offsets")" "$bot|$((uid + 1))" \
    "the offset is stored under the token's hash"
is "$(binds)" "alice 501 1 " "no repeated effects"
is "$(sql "SELECT count(*) FROM tg_outbox")" 1 "no repeated reply"

# Reused, malformed and superseded codes; an expired one.
r=$(last_reply)
msg 502 private "/start $code" en
msg 502 private "/start abc" en
msg 502 private "/start $old" en
poll
is "$(replies "$r")" \
    "502 bot.start.bad_code en sent;502 bot.start.bad_code en sent;502 bot.start.bad_code en sent;" \
    "a used, a malformed and a superseded code are refused"
is "$(sent 502)" "⚠️ This link is not valid. Please request a new connection link." \
    "with the bad-code text"
is "$(binds)" "alice 501 1 " "nothing bound"

bobcode=$(corp-bind code --user bob | jq -r .code)
r=$(last_reply)
msg 503 private "/start $bobcode" ru
CORP_NOW=2026-01-05T10:16:00Z poll
is "$(replies "$r")" "503 bot.start.expired ru sent;" \
    "16 minutes later the code has expired (in Telegram's language)"
is "$(binds)" "alice 501 1 " "nothing bound"

# From a group: refused, nothing bound, and the code is burnt (every
# member saw it): another chat cannot bind with it.
bobcode=$(corp-bind code --user bob | jq -r .code)
r=$(last_reply)
msg -100123 group "/start $bobcode"
msg -100123 supergroup "/start@corp_test_bot $bobcode"
msg -100123 group "/start@other_bot $bobcode"
poll
is "$(replies "$r")" \
    "-100123 bot.start.group_refused en sent;-100123 bot.start.group_refused en sent;" \
    "/start in a group or supergroup is refused"
is "$(binds)" "alice 501 1 " "nothing bound from a group"
is "$(sql "SELECT text FROM tg_messages WHERE chat_id = -100123")" \
    "/start@other_bot $bobcode" "a command for another bot is an ordinary message"
is "$(sql "SELECT count(*) FROM tg_codes WHERE user_id = $bob AND
    used_at IS NULL AND superseded_at IS NULL")" 0 "the code seen in a group is burnt"
r=$(last_reply)
msg 506 private "/start $bobcode"
poll
is "$(replies "$r")" "506 bot.start.bad_code en sent;" \
    "another chat cannot bind with it"
is "$(binds)" "alice 501 1 " "nothing bound"
bobcode=$(corp-bind code --user bob | jq -r .code)

# A chat bound to alice cannot be taken with bob's code.
r=$(last_reply)
msg 501 private "/start $bobcode"
poll
is "$(replies "$r")" "501 bot.start.bad_code en sent;" \
    "a chat bound to another user is refused like a bad code"
is "$(binds)" "alice 501 1 " "alice keeps the chat"
is "$(sql "SELECT count(*) FROM tg_codes WHERE user_id = $bob AND
    used_at IS NULL AND superseded_at IS NULL")" 1 "bob's code stays usable"

# Five wrong codes within an hour: the chat is ignored for an hour.
r=$(last_reply)
for i in 1 2 3 4 5 6; do msg 504 private "/start wrong$i"; done
msg 504 private "/start $bobcode"
poll
is "$(replies "$r")" \
    "504 bot.start.bad_code en sent;504 bot.start.bad_code en sent;504 bot.start.bad_code en sent;504 bot.start.bad_code en sent;504 bot.rate_limited en sent;" \
    "four bad-code replies, then rate_limited once, then silence"
is "$(sent 504)" "⛔ Too many invalid codes. Please try again in an hour." \
    "the rate-limited text"
is "$(binds)" "alice 501 1 " "even a valid code is ignored while blocked"
is "$(sql "SELECT blocked_until FROM tg_chat_blocks WHERE chat_id = 504")" \
    "$((now + 3600))" "blocked for an hour (business time)"
export CORP_NOW=2026-01-05T10:59:59Z
bobcode=$(corp-bind code --user bob | jq -r .code)
r=$(last_reply)
msg 504 private "/start $bobcode"
poll
is "$(replies "$r")" "" "still silent a second before the hour"
msg 504 private "/start $bobcode"
CORP_NOW=2026-01-05T11:00:00Z poll
is "$(replies "$r")" "504 bot.start.ok en sent;" "accepted again after an hour"
is "$(binds)" "alice 501 1 bob 504 1 " "bob is bound"

# /stop, /start without a code, my_chat_member.
r=$(last_reply)
msg 501 private "/stop"
poll
is "$(binds)" "alice 501 0 bob 504 1 " "/stop deactivates the bind"
is "$(readiness "$alice")" waiting_bind "alice's row waits again"
is "$(replies "$r")" "501 bot.stop.ok uk sent;" "and answers bot.stop.ok"
is "$(sent 501)" "🔕 Сповіщення в цей чат вимкнено. Щоб увімкнути їх знову, надішліть /start." \
    "which tells the user to send /start (corp-tg.1: /start without a code reactivates)"
# Every shipped language says the same (op-review 16): /start, no new link.
bad=
for f in "$CORP_SRC"/share/i18n/*.txt; do
	line=$(grep '^[a-z_]*:bot\.stop\.ok |' "$f")
	case $line in
	*/start*) ;;
	*) bad="$bad $(basename "$f")" ;;
	esac
	case $line in *посилан*|*ссылк*|*link*) bad="$bad $(basename "$f"):link" ;; esac
done
is "$bad" "" "bot.stop.ok names /start in every shipped catalog, and no new link"
r=$(last_reply)
msg 501 private "/start"
poll
is "$(binds)" "alice 501 1 bob 504 1 " "/start without a code reactivates"
is "$(readiness "$alice")" ready "the row is ready again"
is "$(replies "$r")" "501 bot.start.ok uk sent;" "with bot.start.ok"
r=$(last_reply)
member 501 kicked
poll
is "$(binds)" "alice 501 0 bob 504 1 " "kicked deactivates"
is "$(readiness "$alice")" waiting_bind "the row waits"
member 501 member
poll
is "$(binds)" "alice 501 1 bob 504 1 " "member again reactivates"
is "$(readiness "$alice")" ready "the row is ready"
is "$(replies "$r")" "" "chat member changes get no reply"

# An operator's deactivation is not undone by the chat (issue 16, round
# 3): a bare /start, or a block and an unblock, resume only what the chat
# paused itself; the operator's needs a new code.
by() {
	sql "SELECT coalesce(deactivated_by, '-') FROM binds
	    WHERE user_id = $alice AND channel = 'telegram'"
}
is "$(by)" - "an active bind: deactivated by nobody"
ok "the operator deactivates alice's chat" corp-bind deactivate \
    --user alice --channel telegram
is "$(printf '%s' "$out" | jq -c '[.active, .deactivated_by]')" \
    '[false,"operator"]' "deactivate prints who"
r=$(last_reply)
msg 501 private "/start"
poll
is "$(binds)" "alice 501 0 bob 504 1 " "a bare /start does not undo it"
is "$(readiness "$alice")" waiting_bind "the row still waits"
is "$(replies "$r")" "501 bot.start.deactivated uk sent;" \
    "answered bot.start.deactivated, in alice's language"
is "$(sent 501)" "🔒 Сповіщення в цей чат вимкнув адміністратор. Попросіть у нього нове посилання для підключення." \
    "which asks for a new link"
member 501 kicked
member 501 member
poll
is "$(binds)" "alice 501 0 bob 504 1 " "nor does a block and an unblock"
is "$(by)" operator "still the operator's"
msg 501 private "/stop"
msg 501 private "/start"
poll
is "$(binds)" "alice 501 0 bob 504 1 " "nor /stop then /start"
is "$(by)" operator "/stop on it changes nothing"
newcode=$(corp-bind code --user alice | jq -r .code)
msg 501 private "/start $newcode"
poll
is "$(binds)" "alice 501 1 bob 504 1 " "a new code binds again"
is "$(by)" - "active again: deactivated by nobody"
# The operator's word stands over the chat's own pause.
msg 501 private "/stop"
poll
is "$(by)" user "/stop is the user's pause"
ok "the operator deactivates the paused bind" corp-bind deactivate \
    --user alice --channel telegram
is "$(by)" operator "which becomes the operator's"
ok "list shows who" corp-bind list --user alice --channel telegram
is "$(printf '%s' "$out" | jq -c '[.active, .deactivated_by]')" \
    '[false,"operator"]' "corp-bind list says who deactivated"
ok "explain shows who" corp-deliver explain --event 1 --user alice
is "$(printf '%s' "$out" | jq -c '.binds[] | [.channel, .active,
    .deactivated_by]')" '["telegram",false,"operator"]' \
    "corp-deliver explain says who deactivated"
msg 501 private "/start"
poll
is "$(binds)" "alice 501 0 bob 504 1 " "so a bare /start no longer resumes it"
member 501 kicked
poll
is "$(by)" operator "a block does not make it the chat's"
newcode=$(corp-bind code --user alice | jq -r .code)
msg 501 private "/start $newcode"
poll
is "$(binds)" "alice 501 1 bob 504 1 " "a new code, and alice is back"
# A code handed out before the operator's deactivation dies with it
# (fresh-eyes round 6): it cannot turn the bind back on from the chat.
early=$(corp-bind code --user alice | jq -r .code)
ok "the operator deactivates again" corp-bind deactivate \
    --user alice --channel telegram
msg 501 private "/start $early"
poll
is "$(binds)" "alice 501 0 bob 504 1 " \
    "a code issued before the operator's deactivation does not bind"
is "$(by)" operator "the bind stays the operator's"
newcode=$(corp-bind code --user alice | jq -r .code)
msg 501 private "/start $newcode"
poll
is "$(binds)" "alice 501 1 bob 504 1 " "a code issued after it does"

# /start without a code from a stranger; a reply that meets a 5xx stays
# in the outbox and goes out on the next run.
r=$(last_reply)
msg 4242 private "/start" ru
poll
is "$(printf '%s' "$out" | jq -c '[.replies_sent, .replies_pending]')" \
    "[0,1]" "the reply met a 500 and is pending"
is "$(replies "$r")" "4242 bot.start.no_code ru pending;" \
    "bot.start.no_code in Telegram's language, pending"
is "$(sql "SELECT attempts, error FROM tg_outbox WHERE chat_id = 4242")" \
    "1|Internal Server Error" "the attempt is counted"
poll
is "$(replies "$r")" "4242 bot.start.no_code ru sent;" "sent by the next run"
like "$(sent 4242)" "^👋 Здравствуйте!" "the no-code text"

# Other messages are stored once; edits keep the history.
msg -100123 group "status: report is late"
mid=$uid
jq -cn --argjson u $((uid + 1)) --argjson m "$mid" '{update_id: $u,
    edited_message: {message_id: $m, date: 1767607200,
    edit_date: 1767607300, chat: {id: -100123, type: "group",
    title: "Team"}, from: {id: 9, first_name: "Fe"},
    text: "status: report is done", entities: [{type: "bold",
    offset: 0, length: 6}]}}' >> "$T/updates"
jq -cn --argjson u $((uid + 2)) '{update_id: $u, callback_query: {
    id: "cb1", from: {id: 501, first_name: "F"}, data: "done:5",
    message: {message_id: 1, date: 1, chat: {id: 501,
    type: "private"}}}}' >> "$T/updates"
uid=$((uid + 2))
msg 501 private "reply to you"
poll
is "$(sql "SELECT chat_type, chat_title, from_id, from_username,
    from_name, text, edit_date, entities FROM tg_messages WHERE
    message_id = $mid")" \
    'group|Team|9|felix|Fe Lix|status: report is done|1767607300|[{"type":"bold","offset":0,"length":6}]' \
    "the edit updated the text"
is "$(sql "SELECT e.text, coalesce(CAST(e.edit_date AS TEXT), '-'), e.replaced_at FROM
    tg_message_edits e JOIN tg_messages m ON m.id = e.message_row_id
    WHERE m.message_id = $mid")" "status: report is late|-|1767607300" \
    "the previous text is kept"
is "$(sql "SELECT chat_id, message_id, chat_type, from_username,
    from_name, date, text FROM tg_messages WHERE message_id = $uid")" \
    "501|$uid|private|felix|Fe Lix|1767607200|reply to you" \
    "a private message is stored with its sender"
is "$(sql "SELECT json_extract(raw, '\$.update_id') FROM tg_messages WHERE
    message_id = $uid")" "$uid" "with the raw update"
is "$(sql "SELECT id, from_id, chat_id, message_id, data FROM
    tg_callbacks")" "cb1|501|501|1|done:5" "a callback query is stored"

# ---- 409 and the poll lock ----------------------------------------
start_fake conflict "$CORP_SRC/contrib/fake-telegram-api" --conflict
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
keep
is "$rc" 75 "Telegram's 409 exits 75"
like "$err" "^corp-tg: telegram: getUpdates: Conflict: .*another poller, or a webhook" \
    "and says why"
CORP_TELEGRAM_TOKEN="777002:AAwrong" CORP_TELEGRAM_API="$API" \
    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
keep
is "$rc:$err" "77:corp-tg: telegram: getUpdates: bad token (HTTP 401)" \
    "a refused token exits 77"
lock="$CORP_DATA_DIR/tg-poll-$bot.lock"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run flock "$lock" corp-tg poll --once --allow-http
keep
is "$rc" 75 "a second poller while the lock is held exits 75"
is "$err" "corp-tg: another corp-tg poll is running for this bot (DATA_DIR/tg-poll-$bot.lock is held)" \
    "naming the lock"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="https://127.0.0.1:$port" \
    run corp-tg poll --once
keep
is "$rc" 75 "https to a plain fake is a temporary failure"
is_rc 64 "http:// needs --allow-http" env CORP_TELEGRAM_TOKEN="$TOKEN" \
    CORP_TELEGRAM_API="$API" corp-tg poll --once
keep

# ---- the webhook CGI and process ----------------------------------
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-Secret_1\n' > "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
spool="$CORP_DATA_DIR/spool/telegram"
carolcode=$(corp-bind code --user carol | jq -r .code)
jq -cn --arg t "/start $carolcode" '{update_id: 900, message: {
    message_id: 1, date: 1767607200, text: $t, chat: {id: 505,
    type: "private"}, from: {id: 505, first_name: "C",
    language_code: "en"}}}' > "$T/u900"
cgi() {	# cgi BODY SECRET [METHOD]
	REQUEST_METHOD=${3:-POST} CONTENT_LENGTH=$(wc -c < "$1") \
	    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=$2 run_in "$1" corp-tg cgi
	keep
}
cgi "$T/u900" wrong
is "$rc:$(printf '%s' "$out" | head -1 | tr -d '\r')" "77:Status: 403 Forbidden" \
    "a wrong secret token gets 403"
is "$(ls "$spool" 2>/dev/null)" "" "and nothing is spooled"
REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c < "$T/u900") \
    run_in "$T/u900" corp-tg cgi
keep
is "$rc:$(printf '%s' "$out" | head -1 | tr -d '\r')" "77:Status: 403 Forbidden" \
    "a missing secret token gets 403"
cgi "$T/u900" hook-Secret_1 GET
is "$(printf '%s' "$out" | head -1 | tr -d '\r')" "Status: 405 Method Not Allowed" \
    "GET gets 405"
printf '[1,2]' > "$T/notobj"
cgi "$T/notobj" hook-Secret_1
is "$rc:$(printf '%s' "$out" | head -1 | tr -d '\r')" "65:Status: 400 Bad Request" \
    "a body that is not an update object gets 400"
is "$(ls -A "$spool" | sed 's/-[0-9a-f]*$/-HASH/')" "refused-HASH" \
    "and the body is spooled for process to refuse (codes burnt there: tests/0819)"
rm -f "$spool"/refused-*
cgi "$T/u900" hook-Secret_1
is "$rc" 0 "the right secret token: exit 0"
is "$out" "$(printf 'Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok')" \
    "a CGI response with Status: 200"
is "$(ls -A "$spool")" "900.json" "one spool file named by update_id, no temporary left"
if cmp -s "$T/u900" "$spool/900.json"; then pass "the body as received"
else fail "the body as received"; fi
is "$(stat -c %a "$spool/900.json")" 600 "mode 0600"
is "$(binds)" "alice 501 1 bob 504 1 " "cgi binds nothing by itself"
CORP_DB="$T/none.db" cgi "$T/u900" hook-Secret_1
is "$rc:$(test -e "$T/none.db" && echo db)" "0:" \
    "nor opens a database (none is needed)"

process() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run corp-tg process --allow-http
	keep
}
process
is "$rc" 0 "process exits 0"
is "$out" '{"spooled":1,"polled":0,"handled":1,"duplicates":0,"ignored":0,"refused":0,"replies_sent":1,"replies_failed":0,"replies_pending":0}' \
    "process handled the spooled update"
is "$(binds)" "alice 501 1 bob 504 1 carol 505 1 " "process binds carol"
is "$(sql "SELECT used_chat_id FROM tg_codes WHERE user_id = $carol AND
    used_at IS NOT NULL")" 505 "with carol's code"
is "$(ls -A "$spool")" "" "the spool file is gone after the commit"
is "$(sent 505)" "✅ You are now connected, Carol. Task notifications will arrive in this chat." \
    "carol's reply reached the fake"

# The same update again (Telegram retried; or a crash before unlink).
cgi "$T/u900" hook-Secret_1
jq -cn '{update_id: 901, message: {message_id: 7, date: 1, text: "hi",
    chat: {id: 505, type: "private"}, from: {id: 505, first_name: "C"}}}' \
    > "$T/u901"
cgi "$T/u901" hook-Secret_1
cp "$spool/901.json" "$T/u901.copy"
process
is "$(printf '%s' "$out" | jq -c '[.spooled, .handled, .duplicates]')" \
    "[2,1,1]" "update 900 again is a duplicate"
mv "$T/u901.copy" "$spool/901.json"
process
is "$(printf '%s' "$out" | jq -c '[.spooled, .handled, .duplicates]')" \
    "[1,0,1]" "update 901 again is a duplicate"
is "$(sql "SELECT count(*) FROM tg_messages WHERE chat_id = 505")" 1 \
    "one message row"
is "$(sql "SELECT count(*) FROM tg_outbox WHERE chat_id = 505")" 1 \
    "one reply"

# A file in the spool that is not an update is set aside.
printf 'not json' > "$spool/950.json"
jq -cn '{update_id: 951, message: {message_id: 9, date: 1, text: "later",
    chat: {id: 505, type: "private"}, from: {id: 505, first_name: "C"}}}' \
    > "$T/u951"
cgi "$T/u951" hook-Secret_1
process
is "$rc" 65 "a spool file that is not an update: process exits 65"
is "$err" "corp-tg: $spool/950.json: not an update object; renamed to 950.json.bad" \
    "and reports it"
is "$(ls -A "$spool")" "950.json.bad" "it is set aside, the good one is gone"
is "$(sql "SELECT count(*) FROM tg_messages WHERE chat_id = 505")" 2 \
    "the good one is handled"

# poll runs process first; and replies use the shared limiter.
jq -cn '{update_id: 902, message: {message_id: 8, date: 1, text: "/stop",
    chat: {id: 505, type: "private"}, from: {id: 505, first_name: "C"}}}' \
    > "$T/u902"
cgi "$T/u902" hook-Secret_1
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
    run corp-tg poll --once --allow-http
keep
is "$(printf '%s' "$out" | jq -c '[.spooled, .handled, .replies_sent]')" \
    "[1,1,1]" "poll processed the spool first"
is "$(binds)" "alice 501 1 bob 504 1 carol 505 0 " "carol stopped"
if pg_mode; then	# the limiter lives in the database (ratelimit.h)
	is "$(sql "SELECT count(*) > 0 FROM rate_limit_sends
	    WHERE key_hash = 'telegram-$bot'")" t \
	    "the reply went through the shared limiter table"
else
	is "$(test -s "$CORP_DATA_DIR/ratelimit/telegram-$bot.json" &&
	    echo yes)" yes "the reply went through the shared limiter file"
fi

# ---- the token is nowhere ------------------------------------------
is "$(grep -c -F "$TOKEN" "$T/all")" 0 "the token is in no output"
is "$(grep -c -F "$TOKEN" "$T/tg.log" "$T/tr" | grep -vc ':0$')" 0 \
    "nor in the fake's log or transcript"
is "$(grep -c secret_seen "$T/tg.log")" 0 "nor in any request body"
is "$(sql .dump | grep -c -F "$TOKEN")" 0 \
    "nor in the database"
is "$(find "$CORP_DATA_DIR" -name "*$TOKEN*" | wc -l)" 0 "nor in a file name"

done_testing
