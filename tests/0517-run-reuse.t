#!/bin/sh
# corp-deliver run reuses per sender what does not change from line to
# line (issue 18: the sendMessage URL, the body's template, the libcurl
# handle's options, the outage file's path): a line's body must still be
# its own.  Lines with and without buttons alternate in one run: each
# card with buttons carries its reply_markup, and no line after it
# inherits one; chats and texts are each line's own, in claim order.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z CORP_RATE_LIMIT=off
D=$CORP_DATA_DIR
TOKEN='777517:AAreuse-Test_token'
FAKE_TG_TOKEN=$TOKEN start_fake tg "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tg.log" --transcript "$T/tr"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
q() { "$@" > /dev/null || fail "$*"; }
mkdir -m 700 "$D/secrets"
printf '%s\n' "$TOKEN" > "$D/secrets/telegram_token"
chmod 600 "$D/secrets/telegram_token"

q corp-org add ops --title Operations
q corp-user add olga --name Olga
q corp-user add max --name Max
q corp-bind add --user olga --channel telegram --address 7001
q corp-bind add --user max --channel telegram --address 7002
# emit B1 B2: for each booking a booking_done card for olga (admin: with
# buttons), then a booking_created for max (specialist: none), routed.
emit() {
	for b in "$@"; do
		for ev in "booking_done olga admin" \
		    "booking_created max specialist"; do
			set -- $ev
			jq -cn --argjson b "$b" --arg t "$1" --arg u "$2" \
			    --arg r "$3" '{idempotency_key: "b-\($b)-\($t)",
			    source: "booking", event_type: $t,
			    recipients: [{user: $u, role: $r}],
			    payload: {booking_id: $b, initiated_by: "system",
			        client_name: "Eve", specialist_name: "Kate",
			        service: "Consultation",
			        starts_at: "2026-03-02T08:00:00Z"}}' |
			    q corp-event emit
		done
	done
	q corp-event route
}

for k in 1 4; do
	: > "$T/tg.log"
	: > "$T/tr"
	if [ "$k" = 1 ]; then emit 41 42; else emit 43 44; fi
	run corp-deliver run --channel telegram --allow-http --until-empty \
	    --inflight $k
	is "$rc" 0 "run --inflight $k exits 0"
	is "$(printf '%s' "$out" | jq -c '[.claimed, .sent]')" '[4,4]' \
	    "run --inflight $k sends the 4 lines"
	# chat and the labels of its buttons (the actions are signed per
	# delivery), by chat
	is "$(jq -c 'select(.method == "sendMessage") | [.chat_id,
	    (.reply_markup.inline_keyboard // [] | map(map(.text)))]' \
	    "$T/tg.log" | jq -sc 'sort_by(.[0])')" \
	    '[[7001,[["Yes","No"]]],[7001,[["Yes","No"]]],[7002,[]],[7002,[]]]' \
	    "--inflight $k: each admin card has its buttons, no other line any"
	b=$([ "$k" = 1 ] && echo 41 || echo 43)
	is "$(jq -sc 'map(select(.chat_id == 7001) | .text |
	    test("#'"$b"' "))' "$T/tr")" '[true,false]' \
	    "--inflight $k: chat 7001 got booking $b, then the next (each line its own text)"
	is "$(jq -sc 'map(select(.chat_id == 7002) | .text |
	    test("New booking"))' "$T/tr")" '[true,true]' \
	    "--inflight $k: chat 7002 got its two booking texts"
	if [ "$k" = 1 ]; then
		is "$(jq -sc 'map(.chat_id)' "$T/tr")" '[7001,7002,7001,7002]' \
		    "--inflight 1: in claim order (event, user)"
	fi
done
done_testing
