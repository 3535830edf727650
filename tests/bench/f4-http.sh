#!/bin/sh
# Figure 4: HTTP send -- corp-deliver run draining routed telegram rows
# into an nginx stub of the Bot API on a loopback port with K connections
# (--inflight K: K requests in flight from one process; --concurrency K
# where run has no --inflight), against wrk POSTing to the same stub with
# the SAME K connections (the HTTP ceiling of K connections), and against
# a curl-per-message loop (what a shell sender does).
. "$CORP_SRC/tests/bench/lib.sh"

if ! corp_has_run; then
	skipped "4 http send" "corp-deliver run does not exist yet"
	exit 0
fi
if [ "$BENCH" = full ]; then events=32; secs=10; curls=500
else events=8; secs=5; curls=200; fi
rows=$((events * DRAIN_USERS))
have curl || { skipped "4 http send" "curl missing"; exit 0; }
nginx_start || { skipped "4 http send" "no nginx (apt-get install nginx-light)"; exit 0; }
trap nginx_stop EXIT
url="http://127.0.0.1:$NGINX_PORT/bot123:bench/sendMessage"
export CORP_TELEGRAM_API="http://127.0.0.1:$NGINX_PORT"
export CORP_TELEGRAM_TOKEN=123:bench CORP_RATE_LIMIT=off
body='{"chat_id":5100,"text":"Task 1","parse_mode":"HTML"}'
have wrk || apt_install wrk || true
cat > "$BT/post.lua" <<LUAEOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUAEOF

if [ "$events" = "$DRAIN_EVENTS" ]; then
	tpl="$BT/drain-template"
else
	tpl="$BT/f4-template"
fi
queue_template "$tpl" "$events" "$DRAIN_USERS"
how=--concurrency
corp-deliver run --help 2>&1 | grep -q -- --inflight && how=--inflight
for k in 1 4 10; do
	# corp-deliver run with K connections until the queue is empty; the
	# process is timed whole (start-up included: a few ms in seconds).
	use_template "$tpl" "$BT/f4-run" full
	t=$(now_ns)
	corp-deliver run $(run_args) "$how" "$k" --until-empty \
	    >"$BT/run.out" 2>"$BT/run.err" ||
	    note "run $how $k exited $?: $(head -c 300 "$BT/run.err")"
	ms=$(ms_since "$t")
	sent=$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")
	note "corp-deliver run $how $k: $sent of $rows rows SENT in $ms ms"
	[ "$sent" = "$rows" ] || die "f4: run left $((rows - sent)) rows unsent"
	v=$(rate "$sent" "$ms")
	if have wrk; then
		wrk -t1 -c"$k" -d"${secs}s" -s "$BT/post.lua" "$url" \
		    > "$BT/wrk.out" 2>&1 || die "f4: wrk failed"
		w=$(sed -n 's/^Requests\/sec:[[:space:]]*//p' "$BT/wrk.out")
		note "wrk -t1 -c$k: $w requests/s"
		record "4 http send (run)" "$v" msg/s "wrk -t1 -c$k" "$w" '>=0.5' \
		    "label=${rows}_rows,_${k}_connection$([ "$k" = 1 ] || echo s) ms=$ms ${how#--}=$k synchronous=full rows=$rows stub=nginx rate_limit=off wrk_seconds=$secs"
	else
		skipped "4 http send (vs wrk -c$k)" "wrk unavailable"
	fi
	[ "$k" = 1 ] && v1=$v
done

# A curl per message, as a shell sender would.
t=$(now_ns)
i=0
while [ "$i" -lt "$curls" ]; do
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
	    --data "$body" "$url" || die "f4: curl failed"
	i=$((i + 1))
done
c=$(rate "$curls" "$(ms_since "$t")")
note "curl loop: $c messages/s"
record "4 http send (run)" "$v1" msg/s "a curl per message" "$c" - \
    "label=${rows}_rows,_1_connection synchronous=full rows=$rows stub=nginx rate_limit=off curls=$curls"
