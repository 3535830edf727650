#!/bin/sh
# Poison updates (issue 16, review 1 items 4 and 8; 10: codes): one update corp
# cannot take -- U+0000 in a text, a private chat with a negative id, a
# number beyond 2^53 - 1, a date past 9999 -- is refused on its own:
# reported with its update_id, skipped, the others handled, and the
# offset (poll) or the spool (process: the file renamed .bad) moves on.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777003:AApoison-token'
export FAKE_TG_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
corp-user add ann --lang en >/dev/null
corp-user add bob --lang en >/dev/null
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr"
API="http://127.0.0.1:$port"
# upd ID TEXT [CHAT [TYPE [DATE]]]: a message update for getUpdates.
upd() {
	jq -cn --argjson u "$1" --arg text "$2" --argjson c "${3:-4001}" \
	    --arg t "${4:-private}" --argjson d "${5:-1767607200}" \
	    '{update_id: $u, message: {message_id: $u, date: $d, text: $text,
	    chat: {id: $c, type: $t, first_name: "F"},
	    from: {id: 4001, is_bot: false, first_name: "F"}}}'
}
poll() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
}
offsets() {
	jq -c 'select(.method == "getUpdates") | .offset' "$T/tg.log" |
	    tail -1
}

# ---- poll ----------------------------------------------------------
ann=$(corp-bind code --user ann | jq -r .code)
upd 300 "/start $ann" >> "$T/updates"
upd 301 "a" | jq -c '.message.text = "a\u0000b"' >> "$T/updates"
upd 302 "/stop" 4002 >> "$T/updates"
poll
is "$rc" 0 "U+0000 in one update: poll still exits 0"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[3,2,1]" "the other two are handled, one refused"
is "$err" "corp-tg: telegram: update 301 refused and skipped: update 301: \"text\": a string holds U+0000" \
    "the refusal names the update and the reason"
is "$(sql "SELECT u.login FROM binds b JOIN users u ON u.id = b.user_id")" \
    ann "update 300 bound ann's chat"
poll
is "$(offsets)" 303 "the offset moved past the refused update"
is "$(printf '%s' "$out" | jq -c '[.polled, .refused]')" "[0,0]" \
    "and it does not come back"

upd 303 "late" 4001 private 99999999999999 >> "$T/updates"
upd 304 "hi" 4001 >> "$T/updates"
poll
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[2,1,1]" "a date past 9999 is refused, the next one handled"
like "$err" "update 303: \"date\": 99999999999999 is not a time in 1970..9999" \
    "naming the date"
is "$(sql "SELECT count(*) FROM tg_messages WHERE date > 253402300799")" 0 \
    "no such date stored"

upd 9007199254740992 "huge" >> "$T/updates"
poll
is "$rc" 65 "an update_id beyond 2^53 - 1: the poller stops with 65"
is "$err" "corp-tg: telegram: getUpdates: update_id 9007199254740992 is beyond 2^53 - 1; the poller cannot pass it" \
    "saying so, rather than storing a wrapped offset"
is "$(sql "SELECT count(*) FROM tg_offsets WHERE next_offset < 0")" 0 \
    "no negative offset stored"
: > "$T/updates"

# A user's codes die with the account (review 1 item 10).
corp-user add cy --lang en >/dev/null
cy=$(corp-bind code --user cy | jq -r .code)
corp-user deactivate cy >/dev/null
is "$(sql "SELECT count(*) FROM tg_codes c JOIN users u ON u.id = c.user_id
    WHERE u.login = 'cy' AND superseded_at IS NULL")" 0 \
    "deactivate voids the user's unused codes"
upd 310 "/start $cy" 4003 >> "$T/updates"
poll
is "$(sql "SELECT count(*) FROM binds b JOIN users u ON u.id = b.user_id
    WHERE u.login = 'cy'")" 0 "a code issued before deactivation binds nothing"
is "$(sql "SELECT key FROM tg_outbox WHERE chat_id = 4003")" \
    bot.start.bad_code "the chat is told the code is not valid"

# Storage anyone can fill is bounded per chat (review 1 item 12).
is_rc 65 "messages.per_chat_max must be 1..10000000" \
    corp-settings config set messages.per_chat_max 0
corp-settings config set messages.per_chat_max 2 >/dev/null
for i in 320 321 322; do upd $i "spam $i" -300 supergroup >> "$T/updates"; done
upd 323 "ours" -301 group >> "$T/updates"
poll
is "$(sql "SELECT chat_id || ':' || text FROM tg_messages WHERE chat_id IN
    (-300, -301) ORDER BY id" | tr '\n' ' ')" \
    "-300:spam 320 -300:spam 321 -301:ours " \
    "a chat's messages past messages.per_chat_max are not stored"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[4,4,0]" "they are handled (and dropped), not refused"

# ---- a process holding the token leaves no core (review 1 item 11) --
: > "$T/updates"
: > "$T/tg.log"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    bg corp-tg poll --allow-http --timeout 1
grep -q getUpdates "$T/tg.log" 2>/dev/null || wait_file "$T/tg.log" 20
is "$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$bgpid/limits")" \
    "0 0" "RLIMIT_CORE is 0"
if [ "$(id -u)" = 0 ]; then
	skip "PR_SET_DUMPABLE shows only to another user than root"
else
	is "$(stat -c %u "/proc/$bgpid/environ")" 0 \
	    "not dumpable: its /proc files belong to root"
fi
kill "$bgpid"
wait "$bgpid" 2>/dev/null

# ---- process: the spool --------------------------------------------
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-S\n' > "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
spool="$CORP_DATA_DIR/spool/telegram"
cgi() {	# cgi FILE
	REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c < "$1") \
	    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-S run_in "$1" corp-tg cgi
}
bob=$(corp-bind code --user bob | jq -r .code)
upd 900 "hello" 4001 > "$T/u900"
upd 901 "/start $bob" -5 > "$T/u901"
upd 902 "/stop" 4001 > "$T/u902"
for f in 900 901 902; do cgi "$T/u$f"; done
is "$(ls "$spool" | tr '\n' ' ')" "900.json 901.json 902.json " "three spooled"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc" 65 "a private chat with a negative id: process exits 65"
is "$(printf '%s' "$out" | jq -c '[.spooled, .handled, .refused]')" \
    "[3,2,1]" "the other two are handled"
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-tg: telegram: update 901 refused and skipped: telegram address '-5': expected a private chat id, a positive 64-bit integer" \
    "the refusal names the update"
is "$(ls "$spool" | tr '\n' ' ')" "901.json.bad " \
    "901 set aside as .bad, the good ones gone"
is "$(sql "SELECT u.login || ' ' || b.active FROM binds b JOIN users u
    ON u.id = b.user_id ORDER BY u.login" | tr '\n' ' ')" "ann 0 " \
    "902 (/stop) handled after it; bob not bound"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc:$(printf '%s' "$out" | jq -c .spooled)" "0:0" \
    "the next run does not read it again"
done_testing
