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
# edit ID KIND TEXT CHAT TYPE: an edited_message or edited_channel_post.
edit() {
	jq -cn --argjson u "$1" --arg k "$2" --arg text "$3" --argjson c "$4" \
	    --arg t "$5" '{update_id: $u, ($k): {message_id: $u,
	    date: 1767607200, edit_date: 1767607260, text: $text,
	    chat: {id: $c, type: $t}, from: {id: 2020, first_name: "M"}}}'
}
unused() {	# unused LOGIN: how many of the user's codes can still bind
	sql "SELECT count(*) FROM tg_codes c JOIN users u ON u.id = c.user_id
	    WHERE u.login = '$1' AND used_at IS NULL AND superseded_at IS NULL"
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

# An update_id beyond 2^53 - 1 (Telegram's never are) is a poison update
# too: refused and skipped, and the offset moves exactly past it (a
# 64-bit integer, never a double), so the poller is not stopped on every
# run (issue 16, round 3).  On a bot of its own: its offset goes there.
# The ids are written as text: jq would round them through a double.
TOKEN2='777004:AAhuge-token'
: > "$T/updates2"
FAKE_TG_TOKEN="$TOKEN2" start_fake tg2 "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tg2.log" --updates "$T/updates2"
API2="http://127.0.0.1:$port"
poll2() {
	CORP_TELEGRAM_TOKEN="$TOKEN2" CORP_TELEGRAM_API="$API2" \
	    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
}
offset2() {
	grep -o '"offset": *-\{0,1\}[0-9]*' "$T/tg2.log" | tail -1 |
	    sed 's/.*: *//'
}
huge() {	# huge ID TEXT: a private message update, the id as written
	upd 1 "$2" | sed "s/^{\"update_id\":1,/{\"update_id\":$1,/"
}
huge 7 "before" >> "$T/updates2"
huge 9007199254740993 "huge" >> "$T/updates2"
poll2
is "$rc" 0 "an update_id beyond 2^53 - 1: poll goes on (exit 0)"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[2,1,1]" "the other update is handled, that one refused"
is "$err" "corp-tg: telegram: update 9007199254740993 refused and skipped: update 9007199254740993: \"update_id\": 9007199254740993 is beyond 2^53 - 1" \
    "the refusal names the update exactly"
is "$(sql "SELECT CAST(next_offset AS TEXT) FROM tg_offsets
    WHERE next_offset > 1000")" 9007199254740994 \
    "the stored offset is exactly one past it"
poll2
is "$rc" 0 "the next run goes on"
is "$(offset2)" 9007199254740994 "and asks Telegram for the updates after it"
is "$(printf '%s' "$out" | jq -c '[.polled, .refused]')" "[0,0]" \
    "it does not come back"
huge 9223372036854775807 "last" >> "$T/updates2"
poll2
is "$rc" 65 "the largest 64-bit id: no offset can pass it (65)"
is "$err" "corp-tg: telegram: getUpdates: update_id 9223372036854775807 is the largest 64-bit integer: no offset can pass it; Telegram forgets an update after 24 hours (see corp-tg(1) CAVEATS)" \
    "saying so, rather than storing a wrapped offset"
is "$(sql "SELECT count(*) FROM tg_offsets WHERE next_offset < 0")" 0 \
    "no negative offset stored"
kill "$bgpid"
wait "$bgpid" 2>/dev/null

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

# A code seen in a group is burnt also when it comes in an edit, or
# pasted as a deep link in a channel post (review 2 item 1): another
# member cannot bind their own chat with it.
for l in xi yu zoe; do corp-user add $l --lang en >/dev/null; done
xi=$(corp-bind code --user xi | jq -r .code)
yu=$(corp-bind code --user yu | jq -r .code)
: > "$T/updates"
edit 330 edited_message "/start $xi" -100888 supergroup >> "$T/updates"
edit 331 edited_channel_post "https://t.me/corp_test_bot?start=$yu" \
    -100889 channel >> "$T/updates"
upd 332 "/start $xi" 3023 >> "$T/updates"
upd 333 "/start $yu" 3033 >> "$T/updates"
poll
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[4,4,0]" "edits and posts with codes are handled"
is "$(unused xi):$(unused yu)" "0:0" "the codes in the group edit and the channel post are burnt"
is "$(sql "SELECT count(*) FROM binds b JOIN users u ON u.id = b.user_id
    WHERE u.login IN ('xi', 'yu')")" 0 "another chat cannot bind with them"
is "$(sql "SELECT chat_id || ' ' || key FROM tg_outbox WHERE chat_id IN
    (3023, 3033, -100888, -100889) ORDER BY id" | tr '\n' ';')" \
    "3023 bot.start.bad_code;3033 bot.start.bad_code;" \
    "the edits get no answer; the private chats are told the code is not valid"
# An edit in a private chat is never a command: only a new message binds.
zoe=$(corp-bind code --user zoe | jq -r .code)
edit 334 edited_message "/start $zoe" 3024 private >> "$T/updates"
poll
is "$(sql "SELECT count(*) FROM binds b JOIN users u ON u.id = b.user_id
    WHERE u.login = 'zoe'"):$(unused zoe)" "0:1" \
    "an edited /start CODE in a private chat binds nothing, the code stays"
upd 335 "/start $zoe" 3024 >> "$T/updates"
poll
is "$(sql "SELECT b.address FROM binds b JOIN users u ON u.id = b.user_id
    WHERE u.login = 'zoe'")" 3024 "a new message with it binds"
# A code behind a formatted link (a text_link entity shows other words
# than the deep link it opens) is burnt too (review 3 item 2).
corp-user add wu --lang en >/dev/null
wu=$(corp-bind code --user wu | jq -r .code)
jq -cn --arg url "https://t.me/corp_test_bot?start=$wu" '{update_id: 336,
    message: {message_id: 336, date: 1767607200, text: "see here",
    entities: [{type: "text_link", offset: 0, length: 8, url: $url}],
    chat: {id: -100890, type: "supergroup", title: "G"},
    from: {id: 2020, first_name: "M"}}}' >> "$T/updates"
upd 337 "/start $wu" 3043 >> "$T/updates"
poll
is "$(unused wu):$(sql "SELECT count(*) FROM binds b JOIN users u ON
    u.id = b.user_id WHERE u.login = 'wu'")" "0:0" \
    "a code in a group's text_link is burnt; nobody binds with it"

# A private chat with a negative id is refused whatever it says
# (review 2 item 2): a wrong code, a plain text, a callback's message.
upd 340 "/start zzz" -2009 >> "$T/updates"
upd 341 "hello" -2009 >> "$T/updates"
jq -cn '{update_id: 342, callback_query: {id: "cb9", from: {id: 2009,
    first_name: "F"}, data: "x", message: {message_id: 1, date: 1,
    chat: {id: -2009, type: "private"}}}}' >> "$T/updates"
poll
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[3,0,3]" "a private chat with a negative id: all three refused"
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-tg: telegram: update 340 refused and skipped: update 340: \"chat\": a private chat with the id -2009 (a user's id is positive)" \
    "naming the update and the chat"
is "$(sql "SELECT count(*) FROM tg_outbox WHERE chat_id = -2009"):$(sql "SELECT
    count(*) FROM tg_code_failures WHERE chat_id = -2009")" "0:0" \
    "no answer queued, no wrong code counted"
is "$(jq -c 'select(.method == "sendMessage" and .chat_id == -2009)' \
    "$T/tg.log" | wc -l)" 0 "nothing sent to it"
: > "$T/updates"

# Every string of a group's update, at any depth, is looked at, and every
# key (review 4 item 1): a poll's question and options, a keyboard
# button's URL, a quote, a file name, the message replied to, a key; and
# a chat-less "poll" update.  Each code is then tried in a private chat.
gmsg() {	# gmsg ID JQ-EXPR-FOR-MESSAGE-FIELDS (with $c the code)
	jq -cn --argjson u "$1" --arg c "$2" '{update_id: $u,
	    message: ({message_id: $u, date: 1767607200,
	    chat: {id: -100890, type: "supergroup", title: "G"},
	    from: {id: 2020, first_name: "M"}} + ('"$3"'))}'
}
link='("https://t.me/corp_test_bot?start=" + $c)'
i=0
for shape in \
    '{poll: {id: "p", question: ("vote " + $c), options: [{text: "a"}]}}' \
    '{poll: {id: "p", question: "q", options: [{text: "a"}, {text: $c}]}}' \
    '{text: "go", reply_markup: {inline_keyboard: [[{text: "bind", url: '"$link"'}]]}}' \
    '{text: "yes", quote: {text: ("see " + $c), position: 0}}' \
    '{document: {file_id: "f", file_unique_id: "u", file_name: ($c + ".pdf")}}' \
    '{text: "ok", reply_to_message: {message_id: 1, date: 1, text: ("/start " + $c), chat: {id: -100890, type: "supergroup"}}}' \
    '{text: "k", extra: {($c): 1}}'; do
	i=$((i + 1))
	corp-user add "s$i" --lang en >/dev/null
	c=$(corp-bind code --user "s$i" | jq -r .code)
	gmsg $((350 + i)) "$c" "$shape" >> "$T/updates"
	upd $((370 + i)) "/start $c" $((3100 + i)) >> "$T/updates"
done
corp-user add s8 --lang en >/dev/null
c=$(corp-bind code --user s8 | jq -r .code)
jq -cn --arg c "$c" '{update_id: 360, poll: {id: "p8", question: "q",
    options: [{text: ("https://t.me/corp_test_bot?start=" + $c),
    voter_count: 0}], is_closed: true}}' >> "$T/updates"
upd 378 "/start $c" 3108 >> "$T/updates"
poll
is "$rc" 0 "poll exits 0"
is "$(for i in 1 2 3 4 5 6 7 8; do printf '%s ' "$(unused "s$i")"; done)" \
    "0 0 0 0 0 0 0 0 " \
    "codes in poll, option, button URL, quote, file name, reply, key, poll update: burnt"
is "$(sql "SELECT count(*) FROM binds WHERE address LIKE '310_'")" 0 \
    "no private /start binds with them"
is "$(sql "SELECT count(*) FROM tg_outbox WHERE chat_id BETWEEN 3101 AND
    3108 AND key = 'bot.start.bad_code'")" 8 "each got the bad-code answer"
: > "$T/updates"
# A code that touches other base64url characters, or that has characters
# nobody sees inside it, is burnt too (review 5 item 2): "CODE_thanks",
# a file "CODE_screenshot.png", U+200B or U+2060 inside the code, a
# trailing '-'.  Each is then tried in a private chat.
i=0
for shape in \
    '{text: ("hi " + $c + "_thanks")}' \
    '{document: {file_id: "f", file_unique_id: "u", file_name: ($c + "_screenshot.png")}}' \
    '{text: ("/start " + $c[0:7] + "\u200b" + $c[7:])}' \
    '{text: ("code: " + $c[0:11] + "\u2060" + $c[11:15] + "\ufeff\u00ad" + $c[15:])}' \
    '{text: ("see " + $c + "-")}'; do
	i=$((i + 1))
	corp-user add "p$i" --lang en >/dev/null
	c=$(corp-bind code --user "p$i" | jq -r .code)
	gmsg $((380 + i)) "$c" "$shape" >> "$T/updates"
	upd $((390 + i)) "/start $c" $((3200 + i)) >> "$T/updates"
done
# A control: a 22-character base64url word that is no code burns no
# other code, and a code next to it (here: p6's, sent privately) binds.
corp-user add p6 --lang en >/dev/null
c=$(corp-bind code --user p6 | jq -r .code)
gmsg 386 "$c" '{text: "AAAAbbbbCCCCdddd-_0123 and xAAAAbbbbCCCCdddd-_0123x"}' \
    >> "$T/updates"
poll
is "$rc" 0 "poll exits 0"
is "$(for i in 1 2 3 4 5 6; do printf '%s ' "$(unused "p$i")"; done)" \
    "0 0 0 0 0 1 " \
    "codes inside a longer run, a file name, split by U+200B or U+2060, before '-': burnt; p6's kept"
is "$(sql "SELECT count(*) FROM binds WHERE address LIKE '320_'")" 0 \
    "no private /start binds with them"
is "$(sql "SELECT count(*) FROM tg_outbox WHERE chat_id BETWEEN 3201 AND
    3205 AND key = 'bot.start.bad_code'")" 5 "each got the bad-code answer"
: > "$T/updates"
upd 396 "/start $c" 3206 >> "$T/updates"
poll
is "$(sql "SELECT b.address FROM binds b JOIN users u ON u.id = b.user_id
    WHERE u.login = 'p6'")" 3206 \
    "an unrelated code-shaped word in a group burnt nothing: p6 binds"
: > "$T/updates"

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
    "corp-tg: telegram: update 901 refused and skipped: update 901: \"chat\": a private chat with the id -5 (a user's id is positive)" \
    "the refusal names the update"
is "$(ls "$spool" | tr '\n' ' ')" "901.json.bad " \
    "901 set aside as .bad, the good ones gone"
is "$(sql "SELECT u.login || ' ' || b.active FROM binds b JOIN users u
    ON u.id = b.user_id WHERE u.login IN ('ann', 'bob') ORDER BY u.login" |
    tr '\n' ' ')" "ann 0 " \
    "902 (/stop) handled after it; bob not bound"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc:$(printf '%s' "$out" | jq -c .spooled)" "0:0" \
    "the next run does not read it again"

# The same two holes through the webhook (review 2 items 1 and 2).
rm -f "$spool"/*.bad
xi=$(corp-bind code --user xi | jq -r .code)
edit 910 edited_message "/start $xi" -100888 supergroup > "$T/u910"
upd 911 "/start $xi" 3025 > "$T/u911"
upd 912 "/start zzz" -2010 > "$T/u912"
for f in 910 911 912; do cgi "$T/u$f"; done
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc" 65 "process: the negative private chat makes it exit 65"
is "$(printf '%s' "$out" | jq -c '[.spooled, .handled, .refused]')" \
    "[3,2,1]" "the edit and the private /start handled, 912 refused"
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-tg: telegram: update 912 refused and skipped: update 912: \"chat\": a private chat with the id -2010 (a user's id is positive)" \
    "refused whatever the text"
is "$(ls "$spool" | tr '\n' ' ')" "912.json.bad " "912 set aside"
is "$(unused xi):$(sql "SELECT count(*) FROM binds b JOIN users u
    ON u.id = b.user_id WHERE u.login = 'xi'")" "0:0" \
    "the code in the group edit is burnt: 3025 did not bind with it"
# Any string of a group's update through the webhook too (review 4
# item 1): a button's URL and the message replied to.
corp-user add w4 --lang en >/dev/null
yu=$(corp-bind code --user w4 | jq -r .code)
gmsg 920 "$yu" '{text: "go", reply_markup: {inline_keyboard: [[{text: "b",
    url: ("https://t.me/corp_test_bot?start=" + $c)}]]}}' > "$T/u920"
corp-user add z4 --lang en >/dev/null
zu=$(corp-bind code --user z4 | jq -r .code)
gmsg 921 "$zu" '{text: "ok", reply_to_message: {message_id: 1, date: 1,
    text: ("/start " + $c), chat: {id: -100890, type: "supergroup"}}}' \
    > "$T/u921"
upd 922 "/start $yu" 3026 > "$T/u922"
upd 923 "/start $zu" 3027 > "$T/u923"
for f in 920 921 922 923; do cgi "$T/u$f"; done
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc:$(printf '%s' "$out" | jq -c '[.spooled, .handled, .refused]')" \
    "0:[4,4,0]" "process handles the four"
is "$(unused w4):$(unused z4):$(sql "SELECT count(*) FROM binds WHERE
    address IN ('3026', '3027')")" "0:0:0" \
    "webhook: codes in a button URL and a reply are burnt; nobody binds"
is "$(sql "SELECT chat_id || ' ' || key FROM tg_outbox WHERE chat_id IN
    (3025, -2010) ORDER BY id" | tr '\n' ';')" "3025 bot.start.bad_code;" \
    "no answer queued for the negative chat"
# And through the webhook (review 5 item 2): a code in "CODE_thanks" and
# one split by U+2060.
corp-user add w5 --lang en >/dev/null
w5=$(corp-bind code --user w5 | jq -r .code)
gmsg 930 "$w5" '{text: ("hi " + $c + "_thanks")}' > "$T/u930"
corp-user add z5 --lang en >/dev/null
z5=$(corp-bind code --user z5 | jq -r .code)
gmsg 931 "$z5" '{caption: ($c[0:3] + "\u2060" + $c[3:])}' > "$T/u931"
upd 932 "/start $w5" 3028 > "$T/u932"
upd 933 "/start $z5" 3029 > "$T/u933"
for f in 930 931 932 933; do cgi "$T/u$f"; done
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc:$(printf '%s' "$out" | jq -c '[.spooled, .handled, .refused]')" \
    "0:[4,4,0]" "process handles the four"
is "$(unused w5):$(unused z5):$(sql "SELECT count(*) FROM binds WHERE
    address IN ('3028', '3029')")" "0:0:0" \
    "webhook: a code in a longer run and one split by U+2060 are burnt"
is "$(sql "SELECT chat_id || ' ' || key FROM tg_outbox WHERE chat_id IN
    (3028, 3029) ORDER BY id" | tr '\n' ';')" \
    "3028 bot.start.bad_code;3029 bot.start.bad_code;" \
    "each private /start is told the code is not valid"
# An update refused as poison is not honoured, but the codes it carries
# were shown where it was sent: they are burnt, private chat or not, in
# the transaction that skips it (review 6, the LOW): a group message
# with U+0000 after the code, one with the code split by U+0000, a
# private /start CODE with U+0000, a private chat with a negative id;
# then each code is tried in a private chat.  Through poll and through
# the webhook's spool.
: > "$T/updates"
for l in n1 n2 n3 n4 n5; do corp-user add $l --lang en >/dev/null; done
n1=$(corp-bind code --user n1 | jq -r .code)
n2=$(corp-bind code --user n2 | jq -r .code)
n3=$(corp-bind code --user n3 | jq -r .code)
n4=$(corp-bind code --user n4 | jq -r .code)
n5=$(corp-bind code --user n5 | jq -r .code)
gmsg 940 "$n1" '{text: ("see " + $c + " \u0000")}' >> "$T/updates"
gmsg 941 "$n2" '{text: ($c[0:9] + "\u0000" + $c[9:])}' >> "$T/updates"
upd 942 "/start $n3" 3301 | jq -c '.message.text += "\u0000"' \
    >> "$T/updates"
upd 943 "/start $n4" -3302 private >> "$T/updates"
upd 944 "/start $n1" 3311 >> "$T/updates"
upd 945 "/start $n2" 3312 >> "$T/updates"
upd 946 "/start $n3" 3313 >> "$T/updates"
upd 947 "/start $n4" 3314 >> "$T/updates"
poll
is "$rc:$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "0:[8,4,4]" "poll: the four poison updates refused, the others handled"
is "$(for l in n1 n2 n3 n4 n5; do printf '%s ' "$(unused $l)"; done)" \
    "0 0 0 0 1 " "their codes are burnt; n5's, never sent, is kept"
is "$(sql "SELECT count(*) FROM binds WHERE address LIKE '33__'")" 0 \
    "no private /start binds with them"
is "$(sql "SELECT count(*) FROM tg_outbox WHERE chat_id BETWEEN 3311 AND
    3314 AND key = 'bot.start.bad_code'")" 4 "each got the bad-code answer"
is "$(sql "SELECT count(*) FROM tg_updates WHERE update_id BETWEEN 940 AND
    943"):$(sql "SELECT count(*) FROM tg_messages WHERE message_id BETWEEN
    940 AND 943")" \
    "0:0" "nothing else of the refused updates is stored"
gmsg 950 "$n5" '{caption: ("x" + $c + "\u0000")}' > "$T/u950"
upd 951 "/start $n5" 3315 > "$T/u951"
for f in 950 951; do cgi "$T/u$f"; done
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc:$(printf '%s' "$out" | jq -c '[.spooled, .handled, .refused]')" \
    "65:[2,1,1]" "process: the poison update refused (65), the other handled"
is "$(unused n5):$(sql "SELECT count(*) FROM binds WHERE address = '3315'")" \
    "0:0" "webhook: the refused update's code is burnt; nobody binds"
# A code percent-encoded in a deep link (fresh-eyes round 7): the link
# opens with the decoded code, so it is burnt -- every character
# encoded, or one in the middle.
: > "$T/updates"
for l in pe1 pe2; do corp-user add $l --lang en >/dev/null; done
pe1=$(corp-bind code --user pe1 | jq -r .code)
pe2=$(corp-bind code --user pe2 | jq -r .code)
enc=$(printf '%s' "$pe1" | od -An -tx1 | tr -d ' \n' | sed 's/\(..\)/%\1/g')
gmsg 960 "https://t.me/corp_test_bot?start=$enc" '{text: $c}' >> "$T/updates"
a=$(printf %s "$pe2" | cut -c1-10)
m=$(printf %s "$pe2" | cut -c11 | tr -d '\n' | od -An -tx1 | tr -d ' \n')
b=$(printf %s "$pe2" | cut -c12-)
gmsg 961 "t.me/corp_test_bot?start=$a%$m$b" '{text: $c}' >> "$T/updates"
upd 962 "/start $pe1" 3401 >> "$T/updates"
upd 963 "/start $pe2" 3402 >> "$T/updates"
poll
is "$rc:$(unused pe1):$(unused pe2)" "0:0:0" \
    "percent-encoded codes in group deep links are burnt"
is "$(sql "SELECT count(*) FROM binds WHERE address IN ('3401', '3402')")" 0 \
    "nobody binds with them"
done_testing
