#!/bin/sh
# Figure 5: paced Telegram -- 60 s of corp-deliver run against the
# strict fake Bot API (contrib/fake-telegram-api --strict: 429 beyond 31
# sends in any 1 s or two sends to one chat under 0.9 s apart) with the
# rate limiter on, in messages/s, against what Telegram allows at
# corp's margin (30 msg/s x 0.95).  BENCH=full only; skipped until
# corp-deliver run exists.
. "$CORP_SRC/tests/bench/lib.sh"

if [ "$BENCH" != full ]; then
	skipped "5 paced telegram" "BENCH=full only (60 s)"
	exit 0
fi
if ! corp_has_run; then
	skipped "5 paced telegram" "corp-deliver run does not exist yet"
	exit 0
fi
secs=60
fake="$CORP_SRC/contrib/fake-telegram-api"
export FAKE_TG_TOKEN=123:bench CORP_TELEGRAM_TOKEN=123:bench
unset CORP_RATE_LIMIT CORP_RATE_MARGIN
# 100 chats x 40 events: more than 60 s of work at 30 msg/s.
queue_template "$BT/f5-template" 40 100
use_template "$BT/f5-template" "$BT/f5-db" full
"$PY" "$fake" --port-file "$BT/f5.port" --strict --max-seconds $((secs + 60)) \
    2>"$BT/f5-fake.err" &
fp=$!
i=0
while [ ! -s "$BT/f5.port" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$BT/f5.port" ] || { kill "$fp"; die "f5: the fake did not start"; }
port=$(cat "$BT/f5.port")
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
corp-deliver run $(run_args) >"$BT/f5-run.out" 2>"$BT/f5-run.err" &
rp=$!
sleep "$secs"	# the figure is a fixed 60 s of sending, not a wait for a state
kill -TERM "$rp" 2>/dev/null
wait "$rp" 2>/dev/null
stats=$(curl -sf "http://127.0.0.1:$port/stats") || stats='{}'
kill "$fp" 2>/dev/null
wait "$fp" 2>/dev/null
sent=$(printf '%s' "$stats" | jq -r '.sent // 0')
tm=$(printf '%s' "$stats" | jq -r '.too_many // 0')
note "paced: $sent sent in $secs s, $tm refused with 429"
record "5 paced telegram (run)" "$(rate "$sent" $((secs * 1000)))" \
    msg/s "30 msg/s x 0.95" 28.5 - \
    "label=${secs}_s,_strict_fake,_${tm}_x_429 seconds=$secs chats=100 strict_fake=yes too_many=$tm synchronous=full"
