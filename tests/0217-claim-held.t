#!/bin/sh
# Rows of one user stay in order across a retry (corp-deliver.1 "Order",
# sec-review-11 finding 2): a row is not claimable while an earlier row
# (priority, then event) of its user and channel is PENDING and not yet
# due.  One chat has three rows; the fake Bot API answers the first
# sendMessage 429 (retry_after 2); the row's backoff (30 s) is longer
# than the chat's pause, and rows 2 and 3 wait for it: the chat gets
# 1, 2, 3, through run and through pending | send | ack.  Other users
# are not held; a higher-priority row is not held by a lower one; a row
# sent to the DLQ or cancelled holds nothing.  The clock is CORP_NOW;
# nothing here asserts timing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777217:AAheld-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off
T0=2026-01-06T12:00:00Z

printf '{"login":"u%d","name":"U%d"}\n' 0 0 1 1 > "$T/users"
run_in "$T/users" corp-user import
is "$rc" 0 "users imported"
corp-bind add --user u0 --channel telegram --address 5000 >/dev/null ||
    bail "bind u0"
corp-bind add --user u1 --channel telegram --address 5001 >/dev/null ||
    bail "bind u1"
empty=$(copydb "$(curdb)") || bail "copydb"

# emit R USER K...: one booking_created per K for USER ("SR.K").
emit() {
	r=$1 u=$2
	shift 2
	for k in "$@"; do
		printf '{"idempotency_key":"h%s-%s-%s","source":"held","event_type":"booking_created","recipients":[{"user":"%s","role":"client"}],"payload":{"service":"S%s.%s","specialist_name":"Sam","starts_at":"2026-01-06T10:00:00Z"}}\n' \
		    "$r" "$u" "$k" "$u" "$r" "$k"
	done | CORP_NOW=$T0 corp-event emit > /dev/null &&
	    CORP_NOW=$T0 corp-event route > /dev/null
}

# wire LOG: "CHAT K" per sendMessage the fake answered 200, in order.
wire() {
	jq -r 'select(.method == "sendMessage" and .status == 200) |
	    "\(.chat_id) \(.text | capture("S[0-9a-z]+\\.(?<k>[0-9]+)").k)"' "$1"
}

# deliver AT [ARGS...]: one corp-deliver run at 2026-01-06T12:AT.
deliver() {
	at=$1
	shift
	run env CORP_NOW="2026-01-06T12:${at}Z" CORP_TELEGRAM_API="$API" \
	    corp-deliver run --channel telegram --allow-http --until-empty "$@"
}

# 1. run, the reviewer's case: 429 (retry_after 2) on the first message
# of chat 5000; its later lines in the claim are given back unsent, not
# sent once the chat's pause ends.
printf '%s\n' '{"chat_id":5000,"count":1,"status":429,"retry_after":2}' \
    > "$T/script1"
start_fake tg1 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg1.log" \
    --script "$T/script1"
API="http://127.0.0.1:$port"
emit a u0 1 2 3
deliver 00:00 --inflight 1
is "$rc" 0 "429: run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry, .released]')" \
    "[3,0,1,2]" "429: row 1 retries, rows 2 and 3 are given back unsent"
is "$(sql "SELECT id, status, attempts,
    CASE WHEN lease_token IS NULL THEN 1 ELSE 0 END FROM deliveries
    ORDER BY id" | tr '\n' ' ')" \
    "1|PENDING|0|1 2|PENDING|0|1 3|PENDING|0|1 " "429: all three PENDING, unleased"
deliver 00:10 --inflight 1
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|3" "429: every row SENT"
is "$(wire "$T/tg1.log" | tr '\n' ' ')" "5000 1 5000 2 5000 3 " \
    "429: the chat got 1, 2, 3"

# 2. The claim holds: a 500 on chat 5000's first message (backoff 30 s);
# run again at the same time, rows 2 and 3 are due and the chat is not
# paused, but row 1 is not yet due: they wait for it (before, they went out ahead of it).
# Chat 5001 (another user) is not held.  --inflight 4 this time.
restoredb "$empty"
printf '%s\n' '{"chat_id":5000,"count":1,"status":500}' > "$T/script2"
start_fake tg2 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg2.log" \
    --script "$T/script2"
API="http://127.0.0.1:$port"
emit b u0 1 2 3
emit b u1 1 2
deliver 00:00 --inflight 4
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry, .released]')" \
    "[5,2,1,2]" "500: row 1 retries, 2 and 3 given back, chat 5001 sent"
is "$(sql "SELECT id, status, attempts,
    CASE WHEN not_before > 0 THEN 1 ELSE 0 END FROM deliveries
    WHERE user_id = (SELECT id FROM users WHERE login = 'u0') ORDER BY id" |
    tr '\n' ' ')" "1|PENDING|1|1 2|PENDING|0|0 3|PENDING|0|0 " \
    "500: row 1 waits 30 s, rows 2 and 3 are due"
deliver 00:00 --inflight 4
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent]')" "[0,0]" \
    "500: rows 2 and 3 are held behind row 1"
run env CORP_NOW=2026-01-06T12:00:00Z corp-deliver pending --channel telegram
is "$rc.$out" "0." "500: pending's claim holds them too"
deliver 01:00 --inflight 4
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|5" "500: every row SENT once row 1 is due"
is "$(wire "$T/tg2.log" | grep '^5000' | tr '\n' ' ')" \
    "5000 1 5000 2 5000 3 " "500: chat 5000 got 1, 2, 3"
is "$(wire "$T/tg2.log" | grep '^5001' | tr '\n' ' ')" \
    "5001 1 5001 2 " "500: chat 5001 got 1, 2 at once"

# 2b. The claim alone: row 1 is claimed and retries (500) before rows
# 2 and 3 exist; then they are due, row 1 is not: neither claim takes
# them (before, both did and the chat got 2, 3 ahead of 1).
restoredb "$empty"
printf '%s\n' '{"chat_id":5000,"count":1,"status":500}' > "$T/script2b"
start_fake tg2b "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg2b.log" \
    --script "$T/script2b"
API="http://127.0.0.1:$port"
emit e u0 1
deliver 00:00
is "$(printf '%s' "$out" | jq -c '[.claimed, .retry]')" "[1,1]" \
    "claim: row 1 retries"
emit e u0 2 3
deliver 00:00
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent]')" "[0,0]" \
    "claim: run's claim holds rows 2 and 3 behind row 1"
run env CORP_NOW=2026-01-06T12:00:00Z corp-deliver pending --channel telegram
is "$rc.$out" "0." "claim: pending's claim holds them too"
deliver 01:00
is "$(wire "$T/tg2b.log" | tr '\n' ' ')" "5000 1 5000 2 5000 3 " \
    "claim: the chat got 1, 2, 3"
# The check (lib/queue.c CLAIM_HELD) reads a range of deliveries_user_due
# (migration 0021): the user's rows not yet due.
if_sqlite "the query plan is SQLite's" && {
	like "$(sql "EXPLAIN QUERY PLAN SELECT 1 FROM deliveries y
	    INDEXED BY deliveries_user_due WHERE y.channel = 'telegram' AND y.user_id = 1
	    AND y.status = 'PENDING' AND y.readiness = 'ready'
	    AND y.not_before > 5 AND (y.priority > 'p2p'
	    OR (y.priority = 'p2p' AND y.event_id < 9))")" \
	    "USING INDEX deliveries_user_due \\(channel=\\? AND user_id=\\? AND not_before>\\?\\)" \
	    "claim: the hold check is a range of deliveries_user_due"
}

# 3. A row that fails (cancel) holds nothing: row 1 waits, is cancelled,
# and rows 2 and 3 go.
restoredb "$empty"
printf '%s\n' '{"chat_id":5000,"count":1,"status":500}' > "$T/script3"
start_fake tg3 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg3.log" \
    --script "$T/script3"
API="http://127.0.0.1:$port"
emit c u0 1 2 3
deliver 00:00
deliver 00:00
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent]')" "[0,0]" \
    "cancel: rows 2 and 3 held behind row 1"
first=$(sql "SELECT min(id) FROM deliveries")
run env CORP_NOW=2026-01-06T12:00:00Z corp-deliver cancel --id "$first"
is "$rc.$out" '0.{"cancelled":1}' "cancel: row 1 cancelled"
deliver 00:00
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent]')" "[2,2]" \
    "cancel: rows 2 and 3 go"
is "$(wire "$T/tg3.log" | tr '\n' ' ')" "5000 2 5000 3 " \
    "cancel: the chat got 2, 3"

# 4. The pipe, pending | fmt | send | ack: the same order.
restoredb "$empty"
printf '%s\n' '{"chat_id":5000,"count":1,"status":429,"retry_after":2}' \
    > "$T/script4"
start_fake tg4 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg4.log" \
    --script "$T/script4"
API="http://127.0.0.1:$port"
emit d u0 1 2 3
for at in 00 05 40; do
	CORP_NOW="2026-01-06T12:00:${at}Z" CORP_TELEGRAM_API="$API" sh -c '
	    corp-deliver pending --channel telegram | corp-fmt |
	    corp-send telegram --allow-http 2>/dev/null |
	    corp-deliver ack >/dev/null' || bail "pipe at $at"
done
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|3" "pipe: every row SENT"
is "$(wire "$T/tg4.log" | tr '\n' ' ')" "5000 1 5000 2 5000 3 " \
    "pipe: the chat got 1, 2, 3"

done_testing
