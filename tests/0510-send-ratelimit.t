#!/bin/sh
# corp-send telegram's limiter: two senders of one token at once stay
# under the strict fake's limits; --max-wait; the boot id; the switch.
# Asserts counts, never timing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
TOKEN='555:rate-Limit-token'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --strict \
    --log "$T/tg.log"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
stats() { curl -s "$CORP_TELEGRAM_API/stats"; }

# 40 chats plus 4 messages to one chat, from two senders at once.
# The strict fake times a send when its request arrives, corp when its
# slot comes: a sender held up between the two (a busy machine, ASan)
# lands closer to the next send than the limiter placed it.  At the
# default margin (0.95: W = 1.05 s) that slack is 0.15 s to a chat and
# 0.05 s for all chats together, less than one time slice of a loaded
# machine, and the fake can answer 429.  Margin 0.6 (W = 1.67 s) leaves
# 0.67 s, while two senders that did not share the limiter would still
# break both limits: up to 30 sends each at once, chat 7 twice at once.
for i in $(seq 1 20); do
	[ "$i" = 1 ] || [ "$i" = 11 ] && dline "$((900 + i))" 7
	dline "$i" "$((1000 + i))"
done > "$T/in1"
for i in $(seq 21 40); do
	[ "$i" = 21 ] || [ "$i" = 31 ] && dline "$((900 + i))" 7
	dline "$i" "$((1000 + i))"
done > "$T/in2"
CORP_RATE_MARGIN=0.6 corp-send telegram --allow-http --max-wait 10s \
    < "$T/in1" > "$T/out1" 2> "$T/err1" &
p1=$!
CORP_RATE_MARGIN=0.6 corp-send telegram --allow-http --max-wait 10s \
    < "$T/in2" > "$T/out2" 2> "$T/err2"
rc2=$?
wait "$p1"
rc1=$?
is "$rc1:$rc2" "0:0" "both senders exit 0"
is "$(cat "$T/out1" "$T/out2" | jq -r .result | sort | uniq -c |
    tr -s ' ')" " 44 sent" "all 44 messages sent"
is "$(stats | jq -c '[.sent, .too_many]')" '[44,0]' \
    "the strict fake refused none (too_many 0)"
is "$(grep -c '"chat_id":7,' "$T/tg.log")" 4 "the one chat got its 4"

# A slot further away than --max-wait: retry, not attempted, the wait as
# retry_after.  The slot is W = 1 s / margin after the last send to the
# chat, on the real clock: what is left of it when line 51 asks is W
# less the time line 50's send took.  With margin 0.5 (W = 2 s) a send
# slower than 1 s (a busy machine, ASan) left less than --max-wait, so
# line 51 waited and went out.  At the smallest margin (W = 10 s) the
# send would have to take 9 s; the wait is read from the error and
# retry_after is that wait rounded up.  W also bounds all chats
# together (30 sends per W), so the 44 sends above would hold line 50
# too: a second data directory has a limiter of its own.
mkdir -m 700 "$T/data2"
{ dline 50 8; dline 51 8; dline 52 8; } > "$T/in"
CORP_DATA_DIR="$T/data2" CORP_RATE_MARGIN=0.1 run_in "$T/in" \
    corp-send telegram --allow-http --max-wait 1s
is "$rc" 0 "exit 0"
w2=$(printf '%s\n' "$out" | sed -n 2p | jq -r '.error' | sed 's/[^0-9]//g')
w3=$(printf '%s\n' "$out" | sed -n 3p | jq -r '.error' | sed 's/[^0-9]//g')
is "$(acks)" '[50,"sent","45",null,true,null]
[51,"retry",null,"rate limit: a slot is '"$w2"' ms away, more than --max-wait",false,'"$(( (${w2:-0} + 999) / 1000 ))"']
[52,"retry",null,"rate limit: a slot is '"$w3"' ms away, more than --max-wait",false,'"$(( (${w3:-0} + 999) / 1000 ))"']' \
    "past --max-wait: retry, not attempted, retry_after = the wait"
is "$(( ${w2:-0} > 1000 && ${w2:-0} <= 10000 && ${w3:-0} > 1000 &&
    ${w3:-0} <= ${w2:-0} ))" 1 \
    "the waits are beyond --max-wait and within W ($w2, $w3 ms)"
is "$(stats | jq .sent)" 45 "only the first was sent"

# The file: a window from this boot is honoured, from another boot not.
f=$(ls "$CORP_DATA_DIR"/ratelimit/telegram-*.json)
is "$(jq -r .boot_id "$f")" "$(cat /proc/sys/kernel/random/boot_id)" \
    "the file records the boot id"
jq -c '.pause_until = 9000000000000' "$f" > "$T/f" && cat "$T/f" > "$f"
dline 60 9 > "$T/in"
run_in "$T/in" corp-send telegram --allow-http
is "$(acks | jq -c '.[1:2] + .[4:5]')" '["retry",false]' \
    "a pause recorded in this boot holds"
jq -c '.boot_id = "00000000-0000-0000-0000-000000000000"' "$f" > "$T/f" &&
    cat "$T/f" > "$f"
run_in "$T/in" corp-send telegram --allow-http
is "$(acks | jq -c '.[1]')" '"sent"' "after a reboot the window starts afresh"
is "$(jq -r .boot_id "$f")" "$(cat /proc/sys/kernel/random/boot_id)" \
    "with the new boot id"

# CORP_RATE_LIMIT=off: no pacing at all (the strict fake refuses).
{ dline 70 10; dline 71 10; dline 72 10; } > "$T/in"
CORP_RATE_LIMIT=off run_in "$T/in" corp-send telegram --allow-http
is "$(acks | jq -c '.[1:2] + .[4:6]')" '["sent",true,null]
["retry",false,1]
["retry",false,1]' "off: sent at once, the server's 429 is the only brake"
is "$(stats | jq .too_many)" 2 "the strict fake counted both"

done_testing
