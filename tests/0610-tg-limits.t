#!/bin/sh
# corp-tg poll against what anyone who can write to the bot controls
# (issue 16, 12 and 13): getUpdates answers of megabytes (within
# Telegram's limits) are read whole, a backlog too large for one answer
# is read with a lower limit, an update that cannot fit alone stops the
# poller loudly; replies are limited per chat and the round that reads
# updates never waits for a reply's pacing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup

TOKEN='777010:AAlimits_Token-x'
export FAKE_TG_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --strict
API="http://127.0.0.1:$port"
bot=$(printf '%s' "$TOKEN" | sha256sum | cut -c1-16)
poll() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    run corp-tg poll --once --allow-http "$@"
}
# The getUpdates calls logged since line $1 of the fake's log.
calls() {
	tail -n +"$1" "$T/tg.log" | jq -c 'select(.method == "getUpdates")
	    | [.limit, (.update_ids | length)]' | tr '\n' ' '
}
logline() { echo $(($(wc -l < "$T/tg.log") + 1)); }
offset() { sql "SELECT next_offset FROM tg_offsets WHERE bot = '$bot'"; }

# long FIRST COUNT CHARS: COUNT group messages, each of CHARS Cyrillic
# characters replying to another message of CHARS characters (the fake
# escapes each as \uXXXX, as JSON allows: 6 bytes a character).
long() {
	jq -cn --argjson first "$1" --argjson n "$2" --argjson c "$3" '
	    ("я" * $c) as $t | range($first; $first + $n) | {update_id: .,
	    message: {message_id: ., date: 1767607200, text: $t,
	    chat: {id: -300, type: "supergroup", title: "Backlog"},
	    from: {id: 9, is_bot: false, first_name: "Fe"},
	    reply_to_message: {message_id: (. + 100000), date: 1767600000,
	        text: $t, chat: {id: -300, type: "supergroup",
	        title: "Backlog"}, from: {id: 8, is_bot: false,
	        first_name: "Ann"}}}}' >> "$T/updates"
}

# ---- 12: answers of megabytes ----------------------------------------
# 100 replies to long messages: about 1.5 MB, more than the 1 MiB that
# used to cut the answer into JSON that never parsed.
long 1 100 1300
l=$(logline)
poll
is "$rc" 0 "100 long updates: poll exits 0"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled]')" "[100,100]" \
    "all 100 read in one answer"
bytes=$(tail -n +"$l" "$T/tg.log" | jq 'select(.method == "getUpdates")
    | .bytes' | head -1)
if [ "$bytes" -gt 1048576 ]; then pass "the answer was over 1 MiB ($bytes)"
else fail "the answer was over 1 MiB" "bytes: $bytes"; fi
is "$(calls "$l")" "[100,100] " "one getUpdates call, limit 100"
is "$(offset)" 101 "the offset moved past them"
is "$(sql "SELECT count(*), min(length(text)) FROM tg_messages")" "100|1300" \
    "every message stored whole"

# A backlog of updates as large as Telegram allows: 100 do not fit in
# one answer (about 4.9 MB); the poller asks for half as many.
long 101 100 4096
l=$(logline)
poll
is "$rc" 0 "a backlog over the cap: poll exits 0"
is "$(calls "$l")" "[100,100] [50,50] " \
    "limit 100 was too large, 50 fitted"
is "$err" "corp-tg: telegram: getUpdates: the answer to limit=100 is larger than 4194304 bytes; asking for 50 at a time" \
    "and says so"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled]')" "[50,50]" \
    "50 handled"
is "$(offset)" 151 "the offset moved past them"
l=$(logline)
poll
is "$(calls "$l"):$(printf '%s' "$out" | jq .handled)" "[100,50] :50" \
    "the rest fits a full request"
is "$(sql "SELECT count(*) FROM tg_messages WHERE length(text) = 4096")" \
    100 "all 100 stored"

# One update that no answer can hold: the poller stops, loudly, and the
# offset stays (nothing is skipped unseen).
long 201 1 400000
l=$(logline)
poll
is "$rc" 65 "an update larger than the cap alone: exit 65"
is "$(calls "$l")" "[100,1] [50,1] [25,1] [12,1] [6,1] [3,1] [1,1] " \
    "asked for fewer down to one"
is "$(printf '%s\n' "$err" | tail -1)" \
    "corp-tg: telegram: getUpdates: the update at offset 201 is larger than 4194304 bytes alone; the poller cannot pass it (see corp-tg(1) CAVEATS)" \
    "names the offset and the cap"
is "$(offset)" 201 "the offset did not move"
is "$(sql "SELECT count(*) FROM tg_messages")" 200 "nothing stored for it"

# The webhook takes what poll reads: a 1.6 MB update is spooled and
# handled, not refused with 413.
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-Secret_2\n' > "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
: > "$T/updates"
long 300 1 400000
tail -n 1 "$T/updates" | tr -d '\n' > "$T/big"
REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c < "$T/big") \
    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-Secret_2 \
    run_in "$T/big" corp-tg cgi
is "$rc:$(printf '%s' "$out" | head -1 | tr -d '\r')" "0:Status: 200 OK" \
    "the CGI spools a $(wc -c < "$T/big")-byte update"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
    run corp-tg process --allow-http
is "$rc:$(printf '%s' "$out" | jq -c '[.spooled, .handled]')" "0:[1,1]" \
    "process handles it"

# ---- 13: replies are limited per chat and never waited for ----------
# Telegram has dropped it meanwhile (here: a new fake).
: > "$T/updates2"
start_fake tg2 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg2.log" \
    --updates "$T/updates2" --strict
# A chat's next slot is W = 1 s / margin after its last send, on the
# real clock.  With the default margin (W = 1.05 s) a round that takes
# longer than that between two replies to one chat (one sendMessage and
# its commit, on a busy machine or under ASan) finds the next slot free
# and rightly sends without waiting, and the counts below flake.  The
# smallest margin makes W 10 s: "one send per chat" is then what a round
# that does not wait sends, while one that waited would send all ten.
export CORP_RATE_MARGIN=0.1
API="http://127.0.0.1:$port"
uid=1000
# cmd CHAT TYPE TEXT COUNT: COUNT updates of TEXT from user 9 in CHAT.
cmd() {
	jq -cn --argjson u "$uid" --argjson c "$1" --arg t "$2" --arg x "$3" \
	    --argjson n "$4" 'range($u; $u + $n) | {update_id: .,
	    message: {message_id: ., date: 1767607200, text: $x,
	    chat: {id: $c, type: $t, title: "T"},
	    from: {id: 9, is_bot: false, first_name: "Fe"}}}' \
	    >> "$T/updates2"
	uid=$((uid + $4))
}
sends() {	# sendMessage calls to chat $1 logged so far, by status
	jq -r 'select(.method == "sendMessage" and .chat_id == '"$1"')
	    | .status' "$T/tg2.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';'
}
outbox() {
	sql "SELECT count(*), sum(CASE WHEN status = 'pending' THEN 1
	    ELSE 0 END) FROM tg_outbox WHERE chat_id = $1"
}
cmd -200 group /start 50
cmd 777 private /start 30
cmd 777 private /stop 20
poll
is "$rc" 0 "100 commands: poll exits 0"
is "$(printf '%s' "$out" | jq -c '[.handled, .replies_sent, .replies_pending]')" \
    "[100,2,18]" "one reply sent per chat, the rest pending"
is "$(outbox -200)" "10|9" "the group gets at most 10 replies an hour"
is "$(outbox 777)" "10|9" "and so does a private chat"
is "$(sql "SELECT key FROM tg_outbox WHERE chat_id = 777 ORDER BY id" |
    sort | uniq -c | tr -s ' ' | tr '\n' ';')" " 10 bot.start.no_code;" \
    "the first ten commands were answered"
is "$(sends -200)$(sends 777)" " 1 200; 1 200;" \
    "one send per chat: the round did not wait for the next slot"
is "$(grep -c '"status":429' "$T/tg2.log")" 0 "and met no 429"

is_rc 64 "poll never waits for a reply's slot: it takes no --max-wait" \
    env CORP_TELEGRAM_TOKEN="$TOKEN" corp-tg poll --once --max-wait 5s
is "$(printf '%s\n' "$err" | head -1)" "corp-tg: poll takes no --max-wait" \
    "says so"

# The next round comes back within a second while replies wait.
l=$(wc -l < "$T/tg2.log")
poll --timeout 25
is "$(tail -n +"$((l + 1))" "$T/tg2.log" | jq -c 'select(.method ==
    "getUpdates") | .timeout')" 1 \
    "with replies pending, the long poll lasts 1 s, not 25"
is "$(sql "SELECT count(*) FROM tg_outbox")" 20 "no new replies queued"

# An hour later (business time) the chat may be answered again.
cmd -200 group /start 1
CORP_NOW=2026-01-05T11:00:01Z poll
is "$(outbox -200 | cut -d'|' -f1)" 11 "an hour later: one more reply"
is "$(sql "SELECT count(*) FROM tg_updates WHERE update_id >= 1000")" 101 \
    "every update handled"
is "$(sql "SELECT count(*) FROM binds")" 0 "and nothing bound"
done_testing
