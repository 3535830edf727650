#!/bin/sh
# Figure 4: HTTP send -- corp-deliver run draining telegram rows into an
# nginx stub of the Bot API on a loopback port, against wrk's requests/s
# on the same stub and one connection (the HTTP ceiling), and against a
# curl-per-message loop (what a shell sender does).  Skipped until
# corp-deliver run exists.
. "$CORP_SRC/tests/bench/lib.sh"

if ! corp_has_run; then
	skipped "4 http send" "corp-deliver run does not exist yet"
	exit 0
fi
if [ "$BENCH" = full ]; then rows=32000; else rows=8000; fi
have curl || { skipped "4 http send" "curl missing"; exit 0; }
nginx_start || { skipped "4 http send" "no nginx (apt-get install nginx-light)"; exit 0; }
trap nginx_stop EXIT
url="http://127.0.0.1:$NGINX_PORT/bot123:bench/sendMessage"
export CORP_TELEGRAM_API="http://127.0.0.1:$NGINX_PORT"
export CORP_TELEGRAM_TOKEN=123:bench CORP_RATE_LIMIT=off
body='{"chat_id":5100,"text":"Task 1","parse_mode":"HTML"}'

# corp-deliver run.
queue_template "$BT/f4-template" $((rows / DRAIN_USERS)) "$DRAIN_USERS"
use_template "$BT/f4-template" "$BT/f4-run" full
ms=$(run_until_drained $(run_args))
sent=$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")
note "corp-deliver run: $sent of $rows rows SENT in $ms ms"
[ "$sent" = "$rows" ] || note "run left rows unsent: $(head -c 300 "$BT/run.err")"
v=$(rate "$sent" "$ms")

# wrk on one connection: the most one connection to this stub carries.
have wrk || apt_install wrk || true
if have wrk; then
	cat > "$BT/post.lua" <<LUAEOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUAEOF
	wrk -t1 -c1 -d5s -s "$BT/post.lua" "$url" > "$BT/wrk.out" 2>&1 ||
	    die "f4: wrk failed"
	w=$(sed -n 's/^Requests\/sec:[[:space:]]*//p' "$BT/wrk.out")
	note "wrk -t1 -c1: $w requests/s"
	record "4 http send (corp-deliver run)" "$v" msg/s \
	    "wrk -t1 -c1 POST on the same stub" "$w" - \
	    "synchronous=full rows=$rows stub=nginx rate_limit=off"
else
	skipped "4 http send (vs wrk)" "wrk unavailable"
fi

# A curl per message, as a shell sender would (quick: 500 messages).
n=500
t=$(now_ns)
i=0
while [ "$i" -lt "$n" ]; do
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
	    --data "$body" "$url" || die "f4: curl failed"
	i=$((i + 1))
done
c=$(rate "$n" "$(ms_since "$t")")
note "curl loop: $c messages/s"
record "4 http send (corp-deliver run)" "$v" msg/s \
    "a curl process per message" "$c" - \
    "synchronous=full rows=$rows stub=nginx rate_limit=off"
