#!/bin/sh
# Numbers from outside are range-checked and time arithmetic never wraps:
# a Telegram 429 with retry_after 1000000000 or INT64_MAX pauses the
# token at most telegram.max_pause (default 1h; corp-send --max-pause),
# said so in the error; run --until-empty ends against such a 429; an
# ack line's retry_after is bounded before it is added to now.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
NOW=1767607200
TOKEN='557:outside-Numbers-token'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
cat > "$T/script" <<'J'
{"chat_id":1001,"status":429,"retry_after":1000000000}
{"chat_id":1002,"status":429,"retry_after":9223372036854775807}
{"chat_id":1003,"status":429,"retry_after":100}
{"chat_id":1004,"status":429,"retry_after":30.5}
{"chat_id":1005,"status":429,"retry_after":1e300}
{"chat_id":1006,"status":200,"body":{"ok":true,"result":{"message_id":1e300,"chat":{"id":1006}}}}
J
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --script "$T/script"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
mono() { /usr/bin/python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
# The limiter's pause of chat $1 (a 429 pauses the chat, op-review 15),
# in seconds from now (rounded up): the file's monotonic clock, or with
# PostgreSQL the tables' server clock.
paused() {
	if pg_mode; then
		sql "SELECT (pause_until_ms - CAST(extract(epoch FROM
		    clock_timestamp()) * 1000 AS BIGINT) + 999) / 1000
		    FROM rate_limits WHERE key_hash LIKE '%:chat:$1'"
		return
	fi
	_m=$(mono)
	_p=$(jq -r ".chat_pauses[\"$1\"]" "$CORP_DATA_DIR"/ratelimit/telegram-*.json)
	echo $(( (_p - _m + 999) / 1000 ))
}
# A limiter without a pause.  No command resets it: with PostgreSQL the
# test empties its two tables on purpose (they hold no business state).
# SQL write on purpose: the limiter's state reset, as rm -rf does on SQLite.
fresh() {
	rm -rf "$CORP_DATA_DIR/ratelimit"
	if pg_mode; then
		sql "DELETE FROM rate_limit_sends; DELETE FROM rate_limits"
	fi
}
send() { run_in "$T/in" corp-send telegram --allow-http "$@"; }

# --- corp-send ---------------------------------------------------------
dline 1 1001 > "$T/in"
send
is "$(acks | jq -c '[.[0], .[1], .[2], (.[3] | sub(" \\(429: chat 1001 paused until [0-9T:Z-]+\\)$"; "")), .[4], .[5]]')" \
    '[1,"retry",null,"Too Many Requests: retry after 1000000000 (pause capped at 3600s: telegram.max_pause)",false,3600]' \
    "retry_after 1000000000: retry, not attempted, capped at 1h and said so"
p=$(paused 1001)
is "$(( p > 3500 && p <= 3600 ))" 1 "the chat pauses one hour, not until 2057 ($p s)"
dline 2 1001 > "$T/in"
send --max-wait 1s
is "$(acks | jq -c '[.[1], .[4], .[5] > 3500 and .[5] <= 3600]')" \
    '["retry",false,true]' "another sender honours the capped pause"

fresh
dline 3 1002 > "$T/in"
send
is "$(acks | jq -c '.[5]')" 3600 "retry_after INT64_MAX: capped, no wrap"
p=$(paused 1002)
is "$(( p > 3500 && p <= 3600 ))" 1 "the stored pause is an hour ahead ($p s)"

fresh
dline 4 1001 > "$T/in"
send --max-pause 10s
is "$(acks | jq -c '.[3:6]')" '["Too Many Requests: retry after 1000000000 (pause capped at 10s: telegram.max_pause) (429: chat 1001 paused until 2026-01-05T10:00:10Z)",false,10]' \
    "--max-pause sets the cap"
p=$(paused 1001)
is "$(( p > 0 && p <= 10 ))" 1 "and the limiter's pause follows it ($p s)"

fresh
dline 5 1003 > "$T/in"
send
is "$(acks | jq -c '.[3:6]')" '["Too Many Requests: retry after 100 (429: chat 1003 paused until 2026-01-05T10:01:40Z)",false,100]' \
    "a retry_after under the cap is kept as it is"
fresh
dline 6 1004 > "$T/in"
send
is "$(acks | jq -c '.[4:6]')" '[false,31]' "retry_after 30.5 waits 31 s"
fresh
dline 7 1005 > "$T/in"
send
is "$(acks | jq -c '.[4:6]')" '[false,3600]' \
    "retry_after 1e300: the longest, capped at telegram.max_pause"
like "$(acks | jq -r '.[3]')" "pause capped at 3600s" "and said so"
fresh
# Telegram says it went, with a message_id no integer holds: sent (a
# retry would send it twice), the id not kept.
dline 8 1006 > "$T/in"
send
is "$(acks | jq -c '.[1:3]')" '["sent",null]' "ok:true with message_id 1e300: sent, no id"
# The environment: bounded when read (corp.7 ENVIRONMENT).
for m in 1e-20 0.05 0 1.5 nan; do
	CORP_RATE_MARGIN=$m run corp-send telegram --allow-http < /dev/null
	is "$rc:$err" "64:corp-send: CORP_RATE_MARGIN: expected a number in [0.1, 1], got '$m'" \
	    "CORP_RATE_MARGIN=$m is refused"
done
for n in 10000-01-01T00:00:00Z +9000000000000s 9999-12-31T23:59:59-00:01; do
	CORP_NOW=$n run corp-deliver pending --channel telegram
	is "$rc" 64 "CORP_NOW=$n (after 9999) is refused"
done
like "$err" "after 9999-12-31T23:59:59Z" "saying why"
fresh
is_rc 64 "--max-pause over a day is usage" corp-send telegram --max-pause 2d
is_rc 64 "--max-pause must be a duration" corp-send telegram --max-pause x

# --- the setting ---------------------------------------------------------
is "$(corp-settings config get telegram.max_pause)" 1h "telegram.max_pause defaults to 1h"
is_rc 65 "more than a day is refused" corp-settings config set telegram.max_pause 2d
like "$err" "telegram.max_pause: at most 1d" "saying so"
is_rc 65 "not a duration is refused" corp-settings config set telegram.max_pause soon

# --- the queue: run --until-empty against the 429 --------------------------
corp-org add sales >/dev/null
corp-user add ann --name Ann --unit sales >/dev/null
corp-user add bob --name Bob --unit sales >/dev/null
corp-bind add --user ann --channel telegram --address 1001 >/dev/null
corp-bind add --user bob --channel telegram --address 1002 >/dev/null
# bob's row first: INT64_MAX, which once wrapped into the past and made
# the loop claim the row again and again.
corp-task create --as admin --title "One" --assignee bob >/dev/null
corp-task create --as admin --title "Two" --assignee ann >/dev/null
corp-event route >/dev/null
# timeout: should the loop spin, the test fails instead of hanging.
before=$(grep -c '"method":"sendMessage"' "$T/tg.log")
run timeout 30 corp-deliver run --channel telegram --allow-http --until-empty
is "$rc" 0 "run --until-empty ends against retry_after 1e9 and INT64_MAX"
is "$(printf '%s' "$out" | jq -c '[.claimed, .retry, .failed]')" '[2,2,0]' \
    "two claims, two retries, once each"
is "$(sql "SELECT status, attempts, not_before - $NOW FROM deliveries
    ORDER BY id")" "PENDING|0|3600
PENDING|0|3600" "both rows wait one hour, no attempt used"
is "$(( $(grep -c '"method":"sendMessage"' "$T/tg.log") - before ))" 2 \
    "two requests: a 429 pauses its own chat, not the other's"

corp-settings config set telegram.max_pause 10m
fresh
# Rows 1 and 2 wait an hour and would hold ann's next row behind hers
# (corp-deliver.1 Order): cancelled, they hold nothing (and are
# requeued after).
corp-deliver cancel --id 1 >/dev/null && corp-deliver cancel --id 2 >/dev/null ||
    bail "cancel rows 1 and 2"
corp-task create --as admin --title "Three" --assignee ann >/dev/null
corp-event route >/dev/null
run timeout 30 corp-deliver run --channel telegram --allow-http --until-empty
is "$(sql "SELECT not_before - $NOW FROM deliveries WHERE id = 3")" 600 \
    "run caps at the telegram.max_pause setting"
corp-deliver requeue --id 1 >/dev/null && corp-deliver requeue --id 2 >/dev/null ||
    bail "requeue rows 1 and 2"

# --- ack lines: retry_after bounded before the add -------------------------
fresh
corp-task create --as admin --title "Four" --assignee ann >/dev/null
corp-task create --as admin --title "Five" --assignee ann >/dev/null
corp-event route >/dev/null
export CORP_NOW=2026-01-06T10:00:00Z
NOW=1767693600
corp-deliver pending --channel telegram --limit 10 > "$T/p"
is "$(jq -c .delivery_id "$T/p" | tr '\n' ' ')" "1 2 3 4 5 " "five leased rows"
# (jq would round INT64_MAX to a double jansson refuses: sed writes it.)
jq -c 'select(.delivery_id == 4) | . + {result: "retry", attempted: false,
    retry_after: 0, error: "x"}' "$T/p" |
    sed 's/"retry_after":0/"retry_after":9223372036854775807/' > "$T/a"
jq -c 'select(.delivery_id == 5) | . + {result: "retry", attempted: false,
    error: "x"} | .retry_after = 1e300' "$T/p" >> "$T/a"
run_in "$T/a" corp-deliver ack
is "$rc" 0 "acks with huge retry_after are taken"
# Bounded to a year before the add (never wrapped into the past), and a
# held retry (not attempted) waits at most until its hold's end,
# hold_max_age (7 days) after it began (corp-deliver.1 ack;
# sec-review-22c LOW-1).
is "$(sql "SELECT id, status, not_before - $NOW FROM deliveries
    WHERE id IN (4, 5) ORDER BY id")" "4|PENDING|604800
5|PENDING|604800" "bounded, never wrapped into the past: a held retry waits at most hold_max_age"

# A time computed past 9999 (a lease from the last second) saturates.
corp-org add far --head admin >/dev/null
corp-user add zed --unit far >/dev/null
corp-bind add --user zed --channel telegram --address 77 >/dev/null
corp-task create --as admin --title T --assignee zed >/dev/null
corp-event route >/dev/null
is "$(CORP_NOW=9999-12-31T23:59:59Z corp-deliver pending --channel telegram \
    --limit 100 | tail -1 | jq -r .lease_until)" 9999-12-31T23:59:59Z \
    "lease_until saturates at 9999-12-31T23:59:59Z, never year 10000"

# --- the lower end: nothing before 1970-01-01T00:00:01Z (corp.7 CORP_NOW) --
# Year 0 once printed "0-01-01T00:00:00Z", which corp could not read back.
RANGE="(corp's times run 1970-01-01T00:00:01Z..9999-12-31T23:59:59Z)"
# The epoch itself is corp's "no time": it was once stored as no due date.
for d in 0000-01-01T00:00:00Z 0999-06-01T00:00:00Z 1969-12-31T23:59:59Z \
    1970-01-01T00:30:00+01:00 1970-01-01T00:00:00Z; do
	run corp-task create --as admin --title Old --assignee zed --due "$d"
	is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: --due: '$d' is before 1970-01-01T00:00:01Z $RANGE" \
	    "--due $d is refused, naming the value and the range"
done
is "$(sql "SELECT count(*) FROM tasks WHERE title = 'Old'")" 0 "no task made"
run corp-task create --as admin --title Epoch --assignee zed \
    --due 1970-01-01T00:00:01Z
is "$rc:$(printf '%s' "$out" | jq -r .due_at)" 0:1970-01-01T00:00:01Z \
    "the first second after the epoch is taken and printed as given"
id=$(printf '%s' "$out" | jq -r .task_id)
is_rc 64 "set-due refuses 0999 too" corp-task set-due "$id" \
    --due 0999-06-01T00:00:00Z
is_rc 64 "--since before the epoch is refused" corp-event list \
    --since 1969-12-31T00:00:00Z
like "$err" "'1969-12-31T00:00:00Z' is before 1970-01-01T00:00:01Z" "saying why"
# A relative time that lands before the epoch: 100 years back from 2026.
is_rc 64 "--since -36500d (1926) is refused" corp-event list --since -36500d
like "$err" "'-36500d' is before 1970-01-01T00:00:01Z" "saying why"
CORP_NOW=1969-07-20T20:17:40Z run corp-deliver pending --channel telegram
is "$rc" 64 "CORP_NOW=1969 is refused"
like "$err" "before 1970-01-01T00:00:01Z" "saying why"
done_testing
