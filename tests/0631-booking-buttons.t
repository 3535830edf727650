#!/bin/sh
# Seed 003's round trip with contrib/booking-producer (issue 19): the
# producer keeps the booking's status (pending -> confirmed -> done |
# cancelled | no_show), emits booking events through corp-event emit,
# the admin's booking_done card goes out with Yes/No, a press in the
# fake Bot API becomes a booking_action event (corp-tg poll), and the
# producer reads it back with corp-event tail and moves the booking.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z CORP_RATE_LIMIT=off
export BOOKING_STATE="$T/bookings"
D=$CORP_DATA_DIR
P=$CORP_SRC/contrib/booking-producer
TOKEN='777064:AAbooking-Test_token'
: > "$T/updates"
FAKE_TG_TOKEN=$TOKEN start_fake tg "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tg.log" --updates "$T/updates"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
q() { "$@" > /dev/null 2>&1 || fail "$*"; }
mkdir -m 700 "$D/secrets"
printf '%s\n' "$TOKEN" > "$D/secrets/telegram_token"
chmod 600 "$D/secrets/telegram_token"
q corp-user add olga --name Olga
q corp-user add eve --name Eve
q corp-bind add --user olga --channel telegram --address 7001
deliver() { q corp-deliver run --channel telegram --allow-http --until-empty; }
uid=0
# press DATA: olga taps a button of the last card she got.
press() {
	uid=$((uid + 1))
	jq -r 'select(.method == "sendMessage" and .chat_id == 7001) |
	    .message_id' "$T/tg.log" | tail -n 1 > "$T/mid"
	jq -cn --argjson u "$uid" --arg d "$1" --argjson m "$(cat "$T/mid")" \
	    '{update_id: $u, callback_query: {id: "cb\($u)", chat_instance: "c",
	    from: {id: 7001, is_bot: false, first_name: "Olga"}, data: $d,
	    message: {message_id: $m, date: 1772441000, text: "card",
	        chat: {id: 7001, type: "private"}}}}' >> "$T/updates"
	q corp-tg poll --once --allow-http
}
# button LABEL: the callback_data of that button on olga's last card.
button() {
	jq -r --arg l "$1" 'select(.method == "sendMessage" and
	    .chat_id == 7001 and .reply_markup != null) |
	    .reply_markup.inline_keyboard[][] | select(.text == $l) |
	    .callback_data' "$T/tg.log" | tail -n 1
}

run "$P" create 1 eve olga
is "$out" "booking 1: pending" "a booking starts pending"
run "$P" confirm 1
is "$out" "booking 1: confirmed" "confirmed (the producer's own step)"
run "$P" finish 1
is "$out" "booking 1: confirmed" "finished: confirmed until the admin answers"
q corp-event route
deliver
is "$(jq -c 'select(.method == "sendMessage" and .reply_markup != null) |
    .reply_markup.inline_keyboard | map(map(.text))' "$T/tg.log")" \
    '[["Yes","No"]]' "olga's card asks, with Yes and No"
press "$(button Yes)"
run "$P" sync
is "$rc" 0 "sync exits 0"
is "$out" "booking 1: done" "the press came back: done"
run "$P" status 1
is "$out" "booking 1: done" "and stays so"
run "$P" sync
is "$out" "" "a second sync reads nothing new"

# Another booking: the client did not come.
q "$P" create 2 eve olga
q "$P" confirm 2
q "$P" finish 2
q corp-event route
deliver
press "$(button No)"
run "$P" sync
is "$out" "booking 2: no_show" "No: no_show"
# The same card pressed again: corp answers from the first press and
# emits nothing, so the producer sees nothing.
press "$(button Yes)"
run "$P" sync
is "$out" "" "a second press makes no event"
is "$(jq -r 'select(.method == "answerCallbackQuery") | .text' \
    "$T/tg.log" | tail -n 1)" "Already answered: no_show by Olga." \
    "and is answered so"

# Cancelled: pending -> cancelled, and nothing more.
q "$P" create 3 eve olga
run "$P" cancel 3
is "$out" "booking 3: cancelled" "a pending booking can be cancelled"
is_rc 79 "a cancelled booking cannot finish" "$P" finish 3
is "$err" "booking-producer: booking 3 is cancelled: cannot finish it" \
    "saying why"
is_rc 65 "a booking id is a number" "$P" status ../x
is_rc 67 "an unknown booking" "$P" status 9
is "$(corp-event tail | jq -r 'select(.source == "booking") |
    .event_type' | tr '\n' ' ')" \
    "booking_created booking_done booking_created booking_done booking_created booking_cancelled " \
    "the producer's events in corp's log"

done_testing
