#!/bin/sh
# corp-deliver run --inflight N (corp-deliver.1, issue 18 lever 6):
# several Bot API requests in flight from one loop, and the rules kept.
# The fake Bot API's log is the wire: per chat the events arrive in
# event order and never two at once ("busy_chat"); answers that come
# back out of order are stored on their own rows (message ids); the
# shared limiter still holds against --strict; a line whose chat is busy
# past its lease is not sent (lease expired); a run killed with SIGKILL
# mid-batch loses nothing, and no row stored as SENT goes out again.
# The fake delays chosen answers (--script delay_ms) so that requests
# overlap; nothing here asserts timing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777016:AAinflight-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off
USERS=6
EVENTS=4

i=0
while [ $i -lt "$USERS" ]; do
	printf '{"login":"u%d","name":"U%d"}\n' $i $i
	i=$((i + 1))
done > "$T/users"
run_in "$T/users" corp-user import
is "$rc" 0 "$USERS users imported"
i=0
while [ $i -lt "$USERS" ]; do
	corp-bind add --user "u$i" --channel telegram --address $((5000 + i)) \
	    >/dev/null || bail "bind u$i"
	i=$((i + 1))
done
empty=$(copydb "$(curdb)") || bail "copydb"

# emit R: EVENTS events for each user; the service names the round, the
# user and the event's rank ("SR.U.K").
emit() {
	k=1
	while [ $k -le $EVENTS ]; do
		u=0
		while [ $u -lt "$USERS" ]; do
			printf '{"idempotency_key":"i%s-%d-%d","source":"inflight","event_type":"booking_created","recipients":[{"user":"u%d","role":"client"}],"payload":{"service":"S%s.%d.%d","specialist_name":"Sam","starts_at":"2026-01-06T10:00:00Z"}}\n' \
			    "$1" $u $k $u "$1" $u $k
			u=$((u + 1))
		done
		k=$((k + 1))
	done | corp-event emit > /dev/null && corp-event route > /dev/null
}

# wire LOG: "CHAT RANK BUSY_CHAT" per sendMessage the fake answered 200.
wire() {
	jq -r 'select(.method == "sendMessage" and .status == 200) |
	    "\(.chat_id) \(.text | capture("S[0-9a-z]+\\.[0-9]+\\.(?<k>[0-9]+)").k) \(.busy_chat)"' \
	    "$1"
}

# 1. Order per chat, one at a time per chat, answers out of order.
# The first message to chat 5000 is answered after 1.5 s: the other
# chats' requests go on meanwhile and their answers come first.
printf '%s\n' '{"chat_id":5000,"count":1,"delay_ms":1500}' \
    '{"chat_id":5003,"count":2,"delay_ms":300}' > "$T/script1"
start_fake tg1 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg1.log" \
    --script "$T/script1"
emit a
run env CORP_TELEGRAM_API="http://127.0.0.1:$port" corp-deliver run \
    --channel telegram --allow-http --until-empty --inflight 4
is "$rc" 0 "run --inflight 4 exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry, .failed]')" \
    "[$((USERS * EVENTS)),$((USERS * EVENTS)),0,0]" "every row claimed and sent"
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|$((USERS * EVENTS))" "every row SENT"
wire "$T/tg1.log" > "$T/wire1"
is "$(wc -l < "$T/wire1" | tr -d ' ')" $((USERS * EVENTS)) \
    "each message once on the wire"
is "$(awk '{ if ($2 != ++seen[$1]) bad[$1] = 1 }
    END { c = 0; for (k in bad) c++; print c }' "$T/wire1")" 0 \
    "every chat got its events in order"
is "$(awk '$3 != 0' "$T/wire1" | wc -l | tr -d ' ')" 0 \
    "never two requests to one chat at once"
# Chat 5000's first request hangs 1.5 s while the others go on: they
# overlap it, and never more than 4 are in flight.
busy=$(jq -s '[.[] | select(.method == "sendMessage") | .busy] | max' \
    "$T/tg1.log")
is "$(( busy >= 1 && busy <= 3 ))" 1 "requests overlapped, at most 4 ($busy + 1)"
# Each row keeps the message id the fake gave its own text, whatever
# order the answers came in.
jq -r 'select(.method == "sendMessage" and .status == 200) |
    "\(.text | capture("S[0-9a-z]+\\.(?<u>[0-9]+)\\.(?<k>[0-9]+)") |
    "\(.u)|\(.k)")|\(.message_id)"' "$T/tg1.log" | sort > "$T/ids.wire"
sql "SELECT substr(u.login, 2) || '|' ||
    (SELECT count(*) FROM deliveries e WHERE e.user_id = d.user_id
     AND e.event_id <= d.event_id) || '|' || d.provider_message_id
    FROM deliveries d JOIN users u ON u.id = d.user_id" | sort > "$T/ids.db"
is "$(cat "$T/ids.db")" "$(cat "$T/ids.wire")" \
    "each row stored the message id of its own answer"

# 2. The shared limiter holds with requests in flight: the strict fake
# (over 31 a second, or a chat again within 0.9 s: 429) refuses none.
# Margin 0.3 (a chat's slots 3.3 s apart, the fake's rule 0.9 s): a busy
# machine (ASan beside another make check) may put one request of a
# chat on the wire late and the next on time; with several in flight
# the wider margin keeps that from reaching the fake's rule.  The fake
# times a request when its thread takes it up, which a starved fake
# does late: corp's next send to a chat also waits W from that chat's
# last answer (corp-send.1, the limiter), so no two reach it closer.
restoredb "$empty"
start_fake tg2 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg2.log" \
    --strict
USERS=6 EVENTS=2
emit b
run env CORP_RATE_LIMIT=on CORP_RATE_MARGIN=0.3 CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    corp-deliver run --channel telegram --allow-http --until-empty \
    --inflight 8 --max-wait 10s
is "$rc" 0 "limited run --inflight 8 exits 0"
is "$(curl -s "http://127.0.0.1:$port/stats" | jq -c '[.sent, .too_many]')" \
    "[$((USERS * 2)),0]" "the strict fake refused none"
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|$((USERS * 2))" "every row SENT"

# 3. The lease deadline: chat 5000's first answer takes 8 s, longer than
# the 6 s lease, so its second line (waiting behind it) starts at least
# 8 s after the claim and is not sent: retry, not attempted, "lease
# expired".  The other chats are not asserted (on a busy machine their
# leases may pass too).  The lease is 6 s, not 1 or 3, so that a loaded
# machine (check-pg beside a make check and two other jobs) still sends
# chat 5000's first line before it runs out; the answer's 8 s only has
# to be longer than the lease.
restoredb "$empty"
printf '%s\n' '{"chat_id":5000,"count":1,"delay_ms":8000}' > "$T/script3"
start_fake tg3 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg3.log" \
    --script "$T/script3"
USERS=6 EVENTS=2
emit c
run env CORP_TELEGRAM_API="http://127.0.0.1:$port" corp-deliver run \
    --channel telegram --allow-http --once --inflight 4 --lease 6s
is "$(jq -r 'select(.method == "sendMessage" and .chat_id == 5000) |
    .text' "$T/tg3.log" | grep -c 'Sc\.0\.')" 1 \
    "chat 5000: only the first line went out"
is "$(sql "SELECT d.status, d.attempts, d.error FROM deliveries d
    JOIN users u ON u.id = d.user_id WHERE u.login = 'u0'
    ORDER BY d.event_id")" "SENT|1|
PENDING|0|lease expired" "the second: retry, not attempted, lease expired"

# 4. SIGKILL mid-batch: the run dies while chat 5000's first request is
# unanswered (held 30 s).  Rows stored as SENT by then never go out
# again; every other row goes out in a later run (after the leases
# expire: CORP_NOW 10 minutes on): at least once, nothing lost.
restoredb "$empty"
printf '%s\n' '{"chat_id":5000,"count":1,"delay_ms":30000}' > "$T/script4"
start_fake tg4 "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg4.log" \
    --script "$T/script4"
USERS=6 EVENTS=4
emit d
CORP_TELEGRAM_API="http://127.0.0.1:$port" corp-deliver run \
    --channel telegram --allow-http --until-empty --inflight 4 \
    > "$T/run4.out" 2> "$T/run4.err" &
rpid=$!
# Bounded poll: the run has stored the other chats' rows (all but chat
# 5000's four) while chat 5000's first request hangs.
n=0
while [ "$n" -lt 600 ]; do
	[ "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" \
	    -ge $(((USERS - 1) * EVENTS)) ] && break
	n=$((n + 1))
	sleep 0.1
done
kill -9 "$rpid" 2>/dev/null || _diag "the run ended early: $(head -5 "$T/run4.err")"
wait "$rpid" 2>/dev/null
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" \
    $(((USERS - 1) * EVENTS)) "killed: the other chats' rows were stored"
sql "SELECT d.id FROM deliveries d WHERE status = 'SENT'" | sort > "$T/acked"
run env CORP_NOW=+10m CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    corp-deliver run --channel telegram --allow-http --until-empty \
    --inflight 4
is "$rc" 0 "the next run (leases expired) exits 0"
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|$((USERS * EVENTS))" "nothing lost: every row SENT"
wire "$T/tg4.log" > "$T/wire4"
is "$(awk '$1 != 5000 { print $1, $2 }' "$T/wire4" | sort | uniq -d |
    wc -l | tr -d ' ')" 0 \
    "no row stored as SENT went out twice"
is "$(awk '$1 == 5000 { print $2 }' "$T/wire4" | tr '\n' ' ')" "1 1 2 3 4 " \
    "chat 5000: the hung one, then its four in order (at least once)"
# (The killed run's request to chat 5000 is still held by the fake.)
is "$(awk '$1 != 5000 && $3 != 0' "$T/wire4" | wc -l | tr -d ' ')" 0 \
    "never two requests to one chat at once"
# 5. No token: each chat's first line is held without a request; the
# later lines of its chat are given back unsent, behind it (corp-deliver.1
# Order); nothing is lost.
restoredb "$empty"
USERS=6 EVENTS=12
emit e
run env -u CORP_TELEGRAM_TOKEN CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    corp-deliver run --channel telegram --allow-http --once --inflight 4
is "$rc" 78 "no token: 78"
is "$(printf '%s' "$out" | jq -c '[.claimed, .retry, .held, .released]')" \
    "[72,6,6,66]" "6 lines held, 66 given back behind them, no request"
is "$(sql "SELECT status, count(*), max(lease_token) FROM deliveries
    GROUP BY status")" "PENDING|72|" "all 72 back in the queue, unleased"
ok "corp-db check clean" corp-db check
done_testing
