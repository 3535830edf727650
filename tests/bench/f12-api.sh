#!/bin/sh
# Figure 12: corp-api -- requests/s of a read (GET /api/runs/1) and of
# an approve (PUT /api/proposals/ID/approve, each request a different
# pending proposal) against wrk fetching a static file
# (/static/corp.css, served from memory) from the same server, same
# connections.  No aim: the issue asks for the figures.
. "$CORP_SRC/tests/bench/lib.sh"

have corp-api || { skipped "12 api" "corp-api not built"; exit 0; }
have curl || { skipped "12 api" "curl missing"; exit 0; }
have wrk || apt_install wrk || true
have wrk || { skipped "12 api" "wrk unavailable (apt-get install wrk)"; exit 0; }
if [ "$BENCH" = full ]; then n=20000; secs=10; else n=6000; secs=5; fi
conns=4

# A run of n pending proposals, made as an operator makes them: n chat
# messages each naming bob (corp-msg import), one analysis run over
# them with the builtin proposer (corp-analysis create, start): one
# proposal per message, all pending.
fresh_db "$BT/f12" full
corp-org add team --head admin >/dev/null || die "f12: corp-org failed"
corp-user add bob --unit team >/dev/null || die "f12: corp-user failed"
d0=$(date -u -d "$CORP_NOW" +%s)
jq -cn --argjson n "$n" --argjson d "$((d0 - 7200))" 'range(1; 1 + $n) as $m |
    {update_id: $m, message: {message_id: $m, date: $d,
     chat: {id: -9, type: "group", title: "G"},
     from: {id: 7, first_name: "Ann", username: "ann"},
     text: "@bob please fix bug \($m)"}}' | corp-msg import >/dev/null ||
    die "f12: corp-msg import failed"
corp-analysis create --as admin --chat -9 --from 2026-01-05T07:00:00Z \
    --until 2026-01-05T09:00:00Z >/dev/null || die "f12: create failed"
corp-analysis start 1 --as admin >/dev/null || die "f12: start failed"
pend=$(sql "SELECT count(*) FROM proposals WHERE status = 'pending'")
[ "$pend" = "$n" ] || die "f12: $pend pending proposals, not $n"
first=$(sql "SELECT min(id) FROM proposals")
token=$(corp-user token add admin --name bench | jq -r .token)

corp-api --listen 127.0.0.1:0 >"$BT/f12-ready" 2>"$BT/f12-api.log" &
api=$!
trap 'kill $api 2>/dev/null; wait $api 2>/dev/null' EXIT
i=0
while [ ! -s "$BT/f12-ready" ] && [ $i -lt 600 ]; do
	kill -0 $api 2>/dev/null || die "f12: corp-api exited: $(head -c 300 "$BT/f12-api.log")"
	sleep 0.05
	i=$((i + 1))
done
base="http://127.0.0.1:$(jq .port "$BT/f12-ready")"
curl -sf -o /dev/null "$base/static/corp.css" ||
    die "f12: no /static/corp.css (share/www)"

# The token lives in the scripts (the temp dir is 0700), never in argv.
cat > "$BT/f12-read.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
EOF
# Approve: one Lua state (-t1), a counter walking the ids first..last;
# the thread stops when they run out, so no request hits an approved
# proposal.  done() prints the requests, non-2xx answers and duration.
cat > "$BT/f12-approve.lua" <<EOF
local id, last = $((first - 1)), $((first + n - 1))
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
request = function()
	id = id + 1
	if id > last then wrk.thread:stop() end
	return wrk.format(nil, "/api/proposals/" .. id .. "/approve", nil, "{}")
end
done = function(summary, latency, requests)
	io.write(string.format("approve %d %d %d\n", summary.requests,
	    summary.errors.status, summary.duration))
end
EOF

# wrk_rate OUT: requests/s as wrk printed it
wrk_rate() { sed -n 's/^Requests\/sec:[[:space:]]*//p' "$1"; }

wrk -t1 -c$conns -d${secs}s "$base/static/corp.css" >"$BT/f12-static" 2>&1 ||
    die "f12: wrk failed"
st=$(wrk_rate "$BT/f12-static")
note "wrk GET /static/corp.css: $st requests/s"
wrk -t1 -c$conns -d${secs}s -s "$BT/f12-read.lua" "$base/api/runs/1" \
    >"$BT/f12-read" 2>&1 || die "f12: wrk failed"
grep -q 'Non-2xx' "$BT/f12-read" && die "f12: reads failed: $(cat "$BT/f12-read")"
rd=$(wrk_rate "$BT/f12-read")
note "wrk GET /api/runs/1: $rd requests/s"
record "12 api (corp-api)" "$rd" req/s "wrk static file" "$st" - \
    "label=GET_/api/runs/1,_${conns}_connections connections=$conns wrk_seconds=$secs synchronous=full database=sqlite"

wrk -t1 -c$conns -d${secs}s -s "$BT/f12-approve.lua" "$base" \
    >"$BT/f12-approve" 2>&1 || die "f12: wrk failed"
set -- $(sed -n 's/^approve //p' "$BT/f12-approve")
reqs=$1 bad=$2 us=$3
ok=$((reqs - bad))
done_n=$(sql "SELECT count(*) FROM proposals WHERE status = 'approved'")
# wrk counts the requests of connections cut by the stop as errors, not
# as answers: the database says how many approves were made.
[ "$done_n" -ge "$ok" ] || die "f12: $ok 2xx answers but $done_n approved"
ap=$(awk -v n="$done_n" -v us="$us" 'BEGIN { printf "%.1f", n * 1e6 / us }')
note "approve: $done_n proposals approved in $((us / 1000)) ms ($ap/s; wrk: $reqs requests, $bad non-2xx)"
record "12 api (corp-api)" "$ap" req/s "wrk static file" "$st" - \
    "label=PUT_approve,_${conns}_connections approved=$done_n non_2xx=$bad connections=$conns synchronous=full database=sqlite"
