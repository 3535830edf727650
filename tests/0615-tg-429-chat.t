#!/bin/sh
# A Telegram 429 for one chat pauses that chat only (op-review 15; the
# Bot API's limits are per chat, corp-send.1): corp-tg's replies to other
# chats go out in the same round, the paused chat's reply stays pending;
# through corp-deliver run, another chat's row is sent while the paused
# chat's row says whose pause holds it and until when.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777015:AAchat-429_token'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$*"; }
q corp-settings config set telegram.bot_username corp_test_bot
echo '{"chat_id": 501, "status": 429, "retry_after": 7200}' > "$T/script"
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr" --script "$T/script"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
uid=100
start() {
	uid=$((uid + 1))
	jq -cn --argjson u "$uid" --argjson c "$1" '{update_id: $u, message: {
	    message_id: $u, date: 1767607200, text: "/start",
	    chat: {id: $c, type: "private", first_name: "F"},
	    from: {id: $c, is_bot: false, first_name: "Fe"}}}' >> "$T/updates"
}
sent() { jq -c 'select(.chat_id == '"$1"')' "$T/tr" | wc -l | tr -d ' '; }

# Two strangers write /start: chat 501's reply meets a 429 (2 h).
start 501
start 502
run corp-tg poll --once --allow-http
is "$rc" 0 "poll: 0"
is "$(sql "SELECT chat_id || ' ' || status FROM tg_outbox ORDER BY chat_id" | tr '\n' ',')" \
    "501 pending,502 sent," "the 429 holds chat 501's reply; chat 502's goes out"
start 503
start 501
run corp-tg poll --once --allow-http
is "$(sql "SELECT chat_id || ' ' || status FROM tg_outbox ORDER BY id" | tr '\n' ',')" \
    "501 pending,502 sent,503 sent,501 pending," \
    "the next round: chat 503 is answered, chat 501 still waits for its pause"
is "$(grep -c '"chat_id":501,' "$T/tg.log")" 1 "chat 501 was not tried again during its pause"

# The queue: ann (501) and bob (504) each get a task.
q corp-org add ops --title Ops
q corp-user add boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --unit ops
q corp-user add bob --unit ops
q corp-bind add --user ann --channel telegram --address 501
q corp-bind add --user bob --channel telegram --address 504
q corp-task create --as boss --title "For ann" --assignee ann
q corp-task create --as boss --title "For bob" --assignee bob
q corp-event route
run corp-deliver run --channel telegram --allow-http --until-empty
is "$(sql "SELECT u.login || ' ' || d.status FROM deliveries d JOIN users u ON u.id = d.user_id ORDER BY d.id" | tr '\n' ',')" \
    "ann PENDING,bob SENT," "run: bob's row is sent although ann's chat is paused"
is "$(sent 504)" 1 "bob got his message"
like "$(sql "SELECT error FROM deliveries WHERE status = 'PENDING'")" \
    '^telegram: 429 pause of chat 501 until 2026-01-05T1[01]:[0-9:]+Z \([0-9]+s more\)$' \
    "ann's row names the 429 pause of her chat and its end"
is "$(grep -c '"chat_id":501,' "$T/tg.log")" 1 "and her chat was not tried during the pause"
done_testing
