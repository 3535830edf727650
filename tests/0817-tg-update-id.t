#!/bin/sh
# An update whose update_id is missing or not a non-negative integer (a
# string "8", -4, 1.5) is a poison update like any other (sec-review-12a
# item 3): refused, reported, an ingestion.failed written, the link
# codes anywhere in it burnt; poll's offset moves past the batch
# (corp-tg.1 Poison updates).  Before, such an update was counted
# "ignored" and a code posted in a group with it could later bind.
# The webhooks (cgi, corp-api) refuse it with 400 by the same rule.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777017:AAupdate-id-token'
export FAKE_TG_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
for u in ann bob cy dee; do corp-user add $u --lang en >/dev/null; done
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr"
API="http://127.0.0.1:$port"
# upd FAKEID ID TEXT [CHAT [TYPE]]: a message update; FAKEID is the
# fake server's own number, ID the update_id as served (raw JSON).
upd() {
	jq -cn --argjson f "$1" --argjson u "$2" --arg text "$3" \
	    --argjson c "${4:-4001}" --arg t "${5:-private}" \
	    '{fake_id: $f, update_id: $u, message: {message_id: $f,
	    date: 1767607200, text: $text,
	    chat: {id: $c, type: $t, title: "G", first_name: "F"},
	    from: {id: 4001, is_bot: false, first_name: "F"}}}'
}
unused() {	# unused LOGIN: how many of the user's codes can still bind
	sql "SELECT count(*) FROM tg_codes c JOIN users u ON u.id = c.user_id
	    WHERE u.login = '$1' AND used_at IS NULL AND superseded_at IS NULL"
}
poll() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
}
offset() {
	jq -c 'select(.method == "getUpdates") | .offset' "$T/tg.log" |
	    tail -1
}
failed() {
	corp-event tail --topic messages |
	    jq -c 'select(.event_type == "ingestion.failed") | .payload'
}
W='corp-tg: telegram: an update without a usable update_id refused and skipped: "update_id": expected a non-negative integer'

# ---- the bot's first poll: no offset stored yet ------------------
bob=$(corp-bind code --user bob | jq -r .code)
ann=$(corp-bind code --user ann | jq -r .code)
upd 8 '"8"' "hi @x /start $bob" -1001 supergroup >> "$T/updates"
upd 9 -4 "/start $ann" >> "$T/updates"
poll
is "$rc" 65 "only unusable ids and no offset stored: 65"
is "$(printf '%s\n' "$err" | tr '\n' '|')" \
    "$W|$W|corp-tg: telegram: getUpdates: no update of the answer has a usable update_id and no offset is stored yet: no offset can pass them (see corp-tg(1) CAVEATS)|" \
    "each refusal reported, then why poll stops"
is "$(unused bob):$(unused ann)" "0:0" \
    "the code in the group update and the one in the private update are burnt"
is "$(failed)" \
'{"update_id":null,"reason":"\"update_id\": expected a non-negative integer"}
{"update_id":null,"reason":"\"update_id\": expected a non-negative integer"}' \
    "one ingestion.failed each, update_id null"
is "$(sql "SELECT count(*) FROM tg_messages"):$(sql "SELECT count(*) FROM
    tg_updates"):$(sql "SELECT count(*) FROM tg_offsets")" "0:0:0" \
    "nothing stored, no offset"
poll
is "$rc" 65 "met again: 65 again"
is "$(failed | wc -l | tr -d ' ')" 2 \
    "  the same updates: no second ingestion.failed (keyed by content)"

# ---- a usable id after them carries the offset past them -------
: > "$T/updates"
cyc=$(corp-bind code --user cy | jq -r .code)
upd 20 1.5 "/start $cyc" -1002 group >> "$T/updates"
upd 21 21 "hello" >> "$T/updates"
poll
is "$rc" 0 "a batch with a usable id: exit 0"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .ignored, .refused]')" \
    "[2,1,0,1]" "1.5 refused (not ignored), 21 handled"
is "$err" "$W" "the refusal reported"
is "$(unused cy)" 0 "the code in the update with id 1.5 is burnt"
is "$(sql "SELECT next_offset FROM tg_offsets")" 22 \
    "the offset past the usable id"
# Later, cy's burnt code from a private chat does not bind.
upd 22 22 "/start $cyc" 4005 >> "$T/updates"
poll
is "$(sql "SELECT count(*) FROM binds b JOIN users u ON u.id = b.user_id
    WHERE u.login IN ('ann', 'bob', 'cy')")" 0 \
    "a burnt code binds nobody later"
is "$(offset)" 22 "asked with offset 22"

# ---- a batch of unusable ids only, an offset stored -------------
# The offset moves by the number of updates answered: no update
# outside the batch lies below it, so nothing is lost and poll goes on.
deec=$(corp-bind code --user dee | jq -r .code)
upd 23 '"x"' "/start $deec" -1003 supergroup >> "$T/updates"
upd 24 null "no id" >> "$T/updates"
poll
is "$rc" 0 "no usable id, but an offset stored: exit 0"
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "[2,0,2]" "both refused"
is "$(unused dee)" 0 "the code burnt"
is "$(sql "SELECT next_offset FROM tg_offsets")" 25 \
    "the offset moved past both: 23 + 2"
poll
is "$(printf '%s' "$out" | jq -c '[.polled, .refused]'):$(offset)" \
    "[0,0]:25" "they do not come back"
is "$(failed | wc -l | tr -d ' ')" 5 "five ingestion.failed in all"

# ---- process: an operator's spool file with such an id ---------
spool="$CORP_DATA_DIR/spool/telegram"
mkdir -p "$spool"
chmod 700 "$CORP_DATA_DIR/spool" "$spool"
eve=$(corp-bind code --user ann | jq -r .code)
upd 30 '"30"' "/start $eve" -1004 supergroup | jq -c 'del(.fake_id)' \
    > "$spool/30.json"
chmod 600 "$spool/30.json"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc" 65 "process: the refused update makes it exit 65"
is "$(printf '%s' "$out" | jq -c '[.spooled, .handled, .ignored, .refused]')" \
    "[1,0,0,1]" "refused, not ignored"
is "$(printf '%s\n' "$err" | head -1)" "$W" "reported"
is "$(ls "$spool" | tr '\n' ' ')" "30.json.bad " "set aside as .bad"
is "$(unused ann)" 0 "its code burnt"

# ---- the webhooks: 400, the same rule ---------------------------
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-S\n' > "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
rm -f "$spool"/*
for id in '"8"' -4 1.5 null; do
	upd 1 "$id" "x" | jq -c 'del(.fake_id)' > "$T/body"
	REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c < "$T/body") \
	    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-S \
	    run_in "$T/body" corp-tg cgi
	like "$out" '^Status: 400 ' "cgi: update_id $id: 400"
done
is "$(ls -A "$spool" | grep -vc '^refused-')" 0 \
    "nothing spooled as an update (only bytes, for their codes: 0819)"

# ---- corp-msg import (a history, not ingestion): skipped as before --
upd 1 '"8"' "old" | jq -c 'del(.fake_id)' > "$T/hist"
run corp-msg import "$T/hist"
is "$rc:$err" "65:corp-msg: $T/hist:1: not a Telegram Update object (no integer update_id)" \
    "corp-msg import skips it with a warning (65, as every bad line)"
done_testing
