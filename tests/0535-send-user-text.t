#!/bin/sh
# User text never shapes a protocol field (issue 16.11): on Telegram a
# text with CR, LF, quotes, "&chat_id=" and JSON look-alikes reaches the
# Bot API as that text, in the JSON body, to the bound chat and no
# other, with the parameters corp chose; an address carrying a line
# break is refused before any request.  (The e-mail Subject: 0530; exec
# arguments: 0540.)
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
TOKEN='777002:AAuser-text'
export FAKE_TG_TOKEN="$TOKEN"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --transcript "$T/tg.out"
hostile=$(printf 'Report\r\nchat_id: 1\r\n\r\n&chat_id=1&parse_mode=Markdown "}, {"chat_id": 1, "text": "x" \\u0041')
{
	dline 1 42 "$hostile"
	dline 2 "42
43" "second"
	dline 3 "42&chat_id=1" "third"
} > "$T/in"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    CORP_RATE_LIMIT=off run_in "$T/in" corp-send telegram --allow-http
is "$(acks | jq -c '.[0:2] + .[3:5]' | tr '\n' ' ')" \
    '[1,"sent",null,true] [2,"failed","address is not a private chat id (a positive integer)",false] [3,"failed","address is not a private chat id (a positive integer)",false] ' \
    "the text goes as it is; an address with a line break or a parameter does not go"
is "$(jq -c '[.chat_id, .message_id]' "$T/tg.out")" '[42,1]' \
    "one message, to the bound chat only"
is "$(jq -r .text "$T/tg.out")" "$hostile" "its text is exactly the user's text"
is "$(grep -c '"method":"sendMessage"' "$T/tg.log")" 1 "one request in all"
is "$(jq -c 'select(.method == "sendMessage") | [.chat_id, .parse_mode,
    .link_preview_disabled, .text == $t]' --arg t "$hostile" "$T/tg.log")" \
    '[42,"HTML",true,true]' "with corp's parameters, none from the text"

done_testing
