#!/bin/sh
# A Bot API answer jansson cannot read (one number beyond a double's
# range, 1e400, anywhere in it) neither duplicates nor wedges
# (sec-review-16b items 1 and 2):
# - sendMessage answered 200 with it is sent (the Bot API answers 200
#   only with ok:true), no id, said in "error"; a retry would resend it;
# - a 429 with retry_after 1e400 pauses the cap, not 1 s;
# - getUpdates with such an update lowers its limit down to one, then
#   refuses that one update from its bytes: its link codes burnt, an
#   ingestion.failed, the offset moved by one; the others are handled;
# - a webhook update refused with 400 (update_id "60", 1e400) is spooled
#   as bytes and corp-tg process burns its codes: a private /start with
#   the code later binds nobody.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
TOKEN='777019:AAunreadable-token'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"

# ---- corp-send: sendMessage and 429 answers -----------------------
cat > "$T/script" <<'J'
{"chat_id":1001,"status":200,"body":"{\"ok\":true,\"result\":{\"message_id\":1e400,\"chat\":{\"id\":1001}}}"}
{"chat_id":1002,"status":200,"body":"{\"ok\":true,\"result\":{\"message_id\":7,\"date\":1,\"chat\":{\"id\":1002,\"first_name\":\"a\\u0000b\"}},\"x\":1e999}"}
{"chat_id":1003,"status":200,"body":"{\"ok\":true,\"result\":{\"message_id\":8,\"chat\":{\"id\":1003,\"first_name\":\"a\\u0000b\"}}}"}
{"chat_id":1004,"status":429,"body":"{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests\",\"parameters\":{\"retry_after\":1e400}}"}
{"chat_id":1005,"status":200,"body":"<html>proxy</html>"}
{"chat_id":1006,"status":400,"body":"{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: a\\u0000b\"}"}
J
start_fake tgs "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tgs.log" \
    --script "$T/script"
SAPI="http://127.0.0.1:$port"
send() {
	dline "$1" "$2" > "$T/in"
	rm -rf "$CORP_DATA_DIR/ratelimit"
	CORP_TELEGRAM_API="$SAPI" run_in "$T/in" corp-send telegram --allow-http
}
N='telegram: the answer (HTTP 200) holds a number or key jansson cannot read; taken as sent, message id unknown'
send 1 1001
is "$rc:$(acks)" "0:[1,\"sent\",null,\"$N\",true,null]" \
    "message_id 1e400: sent, no id, said so (not retry: no duplicate)"
send 2 1002
is "$(acks)" "[2,\"sent\",null,\"$N\",true,null]" \
    "a top-level 1e999 beside U+0000 in a name: sent, no id"
send 3 1003
is "$(acks)" '[3,"sent","8",null,true,null]' \
    "U+0000 in the echoed chat's name alone: read, sent with its id"
send 4 1004
is "$(acks | jq -c '.[1:2] + .[4:6]')" '["retry",false,3600]' \
    "429 with retry_after 1e400: the cap (telegram.max_pause), not 1 s"
like "$(acks | jq -r '.[3]')" "pause capped at 3600s" "and said so"
send 5 1005
is "$(acks | jq -c '.[1:3] + .[4:5]')" '["retry",null,true]' \
    "a 200 that is no JSON at all: retry, as before"
send 6 1006
is "$(acks | jq -c '.[1:4]')" '["failed",null,"Bad Request: a?b"]' \
    "U+0000 in a description: read, a '?', not cut there"

# ---- poll: an unreadable update in the batch ----------------------
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
for u in ann bob boss; do corp-user add $u --lang en >/dev/null; done
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr"
API="http://127.0.0.1:$port"
# upd ID TEXT [CHAT [TYPE]]: a message update.
upd() {
	jq -cn --argjson u "$1" --arg text "$2" \
	    --argjson c "${3:-4001}" --arg t "${4:-private}" \
	    '{update_id: $u, message: {message_id: $u,
	    date: 1767607200, text: $text,
	    chat: {id: $c, type: $t, title: "G", first_name: "F"},
	    from: {id: $c, is_bot: false, first_name: "F"}}}'
}
# raw ID TEXT: the same in a group, with "x":1e400 and the id as fake_id.
raw() {
	upd "$1" "$2" -100 group | jq -c --argjson f "$1" \
	    '{fake_id: $f, fake_raw: (tojson | sub("}$"; ",\"x\":1e400}"))}'
}
unused() {
	sql "SELECT count(*) FROM tg_codes c JOIN users u ON u.id = c.user_id
	    WHERE u.login = '$1' AND used_at IS NULL AND superseded_at IS NULL"
}
bound() {
	sql "SELECT count(*) FROM binds b JOIN users u ON u.id = b.user_id
	    WHERE u.login = '$1'"
}
poll() {
	CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
	    run corp-tg poll --once --allow-http
}
failed() {
	corp-event tail --topic messages |
	    jq -c 'select(.event_type == "ingestion.failed") | .payload'
}
offset() { sql "SELECT next_offset FROM tg_offsets"; }

upd 10 "hello" >> "$T/updates"
poll
is "$rc:$(offset)" "0:11" "a first batch stores offset 11"
bob=$(corp-bind code --user bob | jq -r .code)
upd 11 "hi" >> "$T/updates"
raw 12 "code: $bob thanks" >> "$T/updates"
upd 13 "later" >> "$T/updates"
poll
is "$rc" 0 "an unreadable update in the batch: exit 0, not 75"
is "$(printf '%s\n' "$err" | sed -n 1p)" \
    "corp-tg: telegram: getUpdates: the answer to limit=100 cannot be read (real number overflow near '1e400'); asking for 50 at a time" \
    "the limit is halved, said so"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]'):$(offset)" \
    "[1,1,0]:12" "down to one: update 11 is handled, the offset at 12"
is "$(jq -c 'select(.method == "getUpdates") | .limit' "$T/tg.log" |
    tr '\n' ' ')" "100 100 50 25 12 6 3 1 " "asked for 100, 50 ... 1"
poll
is "$rc" 0 "the unreadable update alone: exit 0"
is "$(printf '%s\n' "$err" | tail -1)" "corp-tg: telegram: getUpdates: the answer to limit=1 cannot be read (real number overflow near '1e400'); the update at offset 12 refused and skipped, its link codes burnt" \
    "refused from its bytes, said so"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]'):$(offset)" \
    "[1,0,1]:13" "counted refused, the offset moved by one"
is "$(unused bob)" 0 "the link code in its bytes is burnt"
is "$(failed)" \
    "{\"update_id\":null,\"reason\":\"telegram: getUpdates: the answer to limit=1 cannot be read (real number overflow near '1e400')\"}" \
    "an ingestion.failed, update_id null"
poll
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]'):$(offset)" \
    "[1,1,0]:14" "update 13 after it is handled"
upd 14 "/start $bob" 4002 >> "$T/updates"
poll
is "$(bound bob)" 0 "later, a private /start with the burnt code binds nobody"
poll
is "$(printf '%s' "$out" | jq -c '.polled')" 0 "the backlog is read"
is "$(jq -c 'select(.method == "getUpdates") | .limit' "$T/tg.log" |
    tail -1)" 100 "and full batches are asked for again"

# ---- the webhooks: a refused update's codes are burnt -------------
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-S\n' > "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
spool="$CORP_DATA_DIR/spool/telegram"
cgi() {
	REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c < "$1") \
	    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-S \
	    run_in "$1" corp-tg cgi
}
boss=$(corp-bind code --user boss | jq -r .code)
upd 60 "code: $boss" -100 group | jq -c '.update_id = "60"' > "$T/b1"
cgi "$T/b1"
like "$out" '^Status: 400 ' "cgi: update_id \"60\": 400, as before"
cgi "$T/b1"
ann=$(corp-bind code --user ann | jq -r .code)
upd 61 "$ann" -100 group | jq -c 'tojson | sub("}$"; ",\"x\":1e400}")' -r \
    > "$T/b2"
cgi "$T/b2"
like "$out" '^Status: 400 ' "cgi: a 1e400 in it: 400"
is "$(ls "$spool" | sed 's/[0-9a-f]\{32\}$/H/' | tr '\n' ' ')" \
    "refused-H refused-H " "both bodies spooled as bytes, once each"
is "$(unused boss):$(unused ann)" "1:1" "the CGI touches no database"
CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off run corp-tg process --allow-http
is "$rc" 65 "process refuses them: 65, as for any poison update"
is "$(printf '%s' "$out" | jq -c '[.spooled, .refused]')" "[0,2]" \
    "counted refused"
is "$(printf '%s\n' "$err" | sed "s|$spool/||; s/[0-9a-f]\{32\}/H/g" | sort)" \
"corp-tg: refused-H: refused by the webhook (update: \"update_id\": expected a non-negative integer), its link codes burnt; renamed to refused-H.bad
corp-tg: refused-H: refused by the webhook (update: 1:217: real number overflow near '1e400'), its link codes burnt; renamed to refused-H.bad" \
    "each said, with why"
is "$(unused boss):$(unused ann)" "0:0" "their codes are burnt"
is "$(ls "$spool" | sed 's/[0-9a-f]\{32\}/H/' | tr '\n' ' ')" \
    "refused-H.bad refused-H.bad " "set aside as .bad"
is "$(failed | wc -l | tr -d ' ')" 3 "an ingestion.failed each"
upd 15 "/start $boss" 4003 >> "$T/updates"
poll
is "$(bound boss)" 0 "a private /start with the admin's code binds nobody"
done_testing
