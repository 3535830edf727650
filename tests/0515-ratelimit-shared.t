#!/bin/sh
# The Telegram limiter of every host.  With PostgreSQL it is two tables of
# the database whose times are the server's clock_timestamp(): two
# corp-send processes with data directories of their own (two hosts)
# pace together under the strict fake's limits, and a 429 pause recorded
# by one holds for a process started after it.  With SQLite the same
# checks run with one data directory (the limiter file is shared by the
# processes of one machine).  Asserts counts and stored values, never
# timing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

setup
TOKEN='556:shared-Limit-token'
HASH=$(printf '%s' "$TOKEN" | sha256sum | cut -c1-16)
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
# Chat 99 answers 429 once, asking for a pause longer than this test.
echo '{"chat_id":99,"count":1,"status":429,"retry_after":300}' > "$T/script"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --strict \
    --log "$T/tg.log" --script "$T/script"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
stats() { curl -s "$CORP_TELEGRAM_API/stats"; }

# The hosts: their own data directories with PostgreSQL; with SQLite the
# limiter is a file, so "two hosts" are two processes of one.
host1=$CORP_DATA_DIR
host2=$CORP_DATA_DIR
if pg_mode; then
	host2=$T/host2
	mkdir -m 700 "$host2"
fi

# 35 chats each plus 2 messages each to one chat, from two hosts at once:
# without one limiter they would send 60 within the first second.
# The strict fake times a send when its request arrives, corp when its
# slot comes: a sender held up between the two (a busy machine, ASan)
# lands closer to the next send than the limiter placed it.  At the
# default margin (0.95: W = 1.05 s) that slack is 0.15 s to a chat and
# 0.05 s for all chats together, less than one time slice of a loaded
# machine, and the fake can answer 429.  Margin 0.6 (W = 1.67 s) leaves
# 0.67 s, while two senders that did not share the limiter would still
# break both limits: up to 30 sends each at once, chat 7 twice at once.
for i in $(seq 1 35); do
	[ "$i" = 1 ] || [ "$i" = 18 ] && dline "$((900 + i))" 7
	dline "$i" "$((1000 + i))"
done > "$T/in1"
for i in $(seq 36 70); do
	[ "$i" = 36 ] || [ "$i" = 53 ] && dline "$((900 + i))" 7
	dline "$i" "$((1000 + i))"
done > "$T/in2"
CORP_DATA_DIR=$host1 CORP_RATE_MARGIN=0.6 corp-send telegram \
    --allow-http --max-wait 10s \
    < "$T/in1" > "$T/out1" 2> "$T/err1" &
p1=$!
CORP_DATA_DIR=$host2 CORP_RATE_MARGIN=0.6 corp-send telegram \
    --allow-http --max-wait 10s \
    < "$T/in2" > "$T/out2" 2> "$T/err2"
rc2=$?
wait "$p1"
rc1=$?
is "$rc1:$rc2" "0:0" "both hosts exit 0"
is "$(cat "$T/out1" "$T/out2" | jq -r .result | sort | uniq -c |
    tr -s ' ')" " 74 sent" "all 74 messages sent"
is "$(stats | jq -c '[.sent, .too_many]')" '[74,0]' \
    "the strict fake refused none (too_many 0)"
is "$(grep -c '"chat_id":7,' "$T/tg.log")" 4 "the one chat got its 4"

if pg_mode; then
	is "$(sql "SELECT key_hash FROM rate_limits")" "telegram-$HASH" \
	    "one row, named by the token's hash"
	is "$(ls -A "$host1" "$host2" | grep -c ratelimit)" 0 \
	    "no limiter file on either host"
	is "$(($(sql "SELECT count(*) FROM rate_limit_sends") < 74))" 1 \
	    "sends older than the window are deleted"
else
	is "$(ls "$host1/ratelimit")" "telegram-$HASH.json" \
	    "one limiter file, named by the token's hash"
fi
is "$(sql .dump | grep -c -F "$TOKEN")" 0 "the token is in no table"

# A 429 on host 1 pauses that chat for every sender of the token: a
# process on host 2 started after it waits for the pause, past
# --max-wait, and sends nothing to that chat; another chat goes on
# (the Bot API's limits are per chat, op-review 15).
dline 80 99 > "$T/in"
CORP_DATA_DIR=$host1 run_in "$T/in" corp-send telegram --allow-http
is "$(acks | jq -c '[.[0], .[1], .[4], .[5]]')" '[80,"retry",false,300]' \
    "host 1: the 429 is retry, not attempted, retry_after 300"
like "$(acks | jq -r '.[3]')" '^Too Many Requests: retry after 300 \(429: chat 99 paused until [0-9T:Z-]+\)$' \
    "the error names the chat's pause and its end"
before=$(stats | jq .sent)
dline 81 99 > "$T/in"
CORP_DATA_DIR=$host2 run_in "$T/in" corp-send telegram --allow-http \
    --max-wait 5s
wait2=$(printf '%s' "$out" | jq -r .error | sed -n \
    's/^telegram: 429 pause of chat 99 until [0-9T:Z-]* (\([0-9]*\)s more)$/\1/p')
is "$(acks | jq -c '[.[0], .[1], .[4]]')" '[81,"retry",false]' \
    "host 2 honours the chat's pause: retry, not attempted"
like "$wait2" '^[0-9]+$' "the pause left is reported, with its end"
is "$(acks | jq '.[5]')" "${wait2:-x}" \
    "retry_after is the pause left in seconds"
is "$((${wait2:-0} > 5 && ${wait2:-0} <= 300))" 1 \
    "the wait is beyond --max-wait and within the pause"
is "$(stats | jq .sent)" "$before" "and nothing was sent"
is "$(grep -c '"chat_id":99,' "$T/tg.log")" 1 "nor even tried (only host 1's request)"
dline 82 100 > "$T/in"
CORP_DATA_DIR=$host2 run_in "$T/in" corp-send telegram --allow-http \
    --max-wait 5s
is "$(acks | jq -c '[.[0], .[1]]')" '[82,"sent"]' "another chat is not paused: sent"
if pg_mode; then
	# The pause is the server's: its end stays ahead of the server's
	# clock by at most 300 s, and host 2 waited for exactly that end.
	now_ms='CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)'
	left=$(sql "SELECT pause_until_ms - $now_ms FROM rate_limits WHERE key_hash LIKE '%:chat:99'")
	is "$((${left:-0} > 0 && ${left:-0} <= ${wait2:-0} * 1000))" 1 \
	    "the stored chat pause is the server's clock plus 300 s ($left ms left)"
	is "$(sql "SELECT max(pause_until_ms) FROM rate_limits WHERE key_hash NOT LIKE '%:chat:%'")" \
	    0 "the token itself is not paused"
fi

# The database is the limiter's: corp-send connects to it for the
# limiter alone; without it the telegram lines pass on as retry, not
# attempted, and the exit status says why.
if pg_mode; then
	dline 82 101 > "$T/in"
	CORP_DB="$(curdb | sed 's,///[^?]*,///t_no_such_db,')" \
	    run_in "$T/in" corp-send telegram --allow-http
	is "$rc" 67 "no such database: exit 67, as every tool"
	is "$(acks | jq -c '[.[0], .[1], .[4]]')" '[82,"retry",false]' \
	    "the line is retry, not attempted"
	like "$(acks | jq -r '.[3]')" '^rate limit: postgresql:///t_no_such_db' \
	    "its error names the limiter and the database"
else
	skip "postgresql-only: the limiter's own database connection"
fi

done_testing
