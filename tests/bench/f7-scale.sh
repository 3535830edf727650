#!/bin/sh
# Figure 7: scale -- the latency of one lease (corp-deliver pending
# --limit 10, a whole invocation) on a queue of 1 000 000 rows, 99 % of
# them SENT (quick mode: 200 000), against the same on a queue of 1 000
# rows, 99 % SENT; and the query plans of every statement a claim runs,
# taken from the corp-deliver binary itself.
. "$CORP_SRC/tests/bench/lib.sh"

if [ "$BENCH" = full ]; then big=1000000; runs=100; else big=200000; runs=40; fi
users=10
# 10 users per event; the last 1 % of the events have PENDING rows.
# One event routed by corp, copied by grow_queue (event-major, as route
# lays rows out) up to the size.
routed_queue "$BT/f7-base" 1 "$users"
use_template "$BT/f7-base" "$BT/f7-small" full
grow_queue 100 99
use_template "$BT/f7-base" "$BT/f7-big" full
grow_queue $((big / users)) $((big / users * 99 / 100))
[ "$(sql "SELECT count(*) FROM deliveries")" = "$big" ] ||
    die "f7: expected $big rows"

echo "  query plans of a claim on $big rows (EXPLAIN QUERY PLAN):"
bin=$(command -v corp-deliver)
strings -n 8 "$bin" | grep -E \
    '^SELECT d\.id, d\.event_id, d\.user_id, d\.channel, d\.role|^UPDATE deliveries (INDEXED BY [a-z_]+ )?SET .*(lease_expiries \+ 1|user_inactive|expired_unbound|lease_token = \?2)' \
    > "$BT/f7-sql" || die "f7: no claim SQL found in $bin"
while IFS= read -r q; do
	printf '    %s\n' "$(printf '%s' "$q" | cut -c1-150)..."
	sql "EXPLAIN QUERY PLAN $q" | sed 's/^/      /'
done < "$BT/f7-sql"

# time_lease DIR: mean ms of one lease, leases given back between runs
# (not timed) so that every run claims the same 10 rows.
time_lease() {
	export CORP_DATA_DIR="$1" CORP_SYNCHRONOUS=full
	reset="UPDATE deliveries SET lease_token = NULL, lease_until = NULL,
	    worker = NULL WHERE lease_token IS NOT NULL"
	if have hyperfine; then
		hyperfine -N --style none --warmup 3 --runs "$runs" \
		    --prepare "sqlite3 $1/corp.db '$reset'" \
		    --export-json "$BT/f7.json" \
		    "corp-deliver pending --channel telegram --limit 10" \
		    >/dev/null 2>&1 || die "f7: hyperfine failed"
		"$PY" -c 'import json, sys
print("%.4f" % (json.load(open(sys.argv[1]))["results"][0]["mean"] * 1000))' "$BT/f7.json"
	else
		_sum=0
		_i=0
		while [ "$_i" -lt "$runs" ]; do
			sql "$reset"
			_t=$(now_ns)
			corp-deliver pending --channel telegram --limit 10 \
			    >/dev/null || die "f7: pending failed"
			_sum=$(awk -v s="$_sum" -v m="$(ms_since "$_t")" \
			    'BEGIN { print s + m }')
			_i=$((_i + 1))
		done
		awk -v s="$_sum" -v n="$runs" 'BEGIN { printf "%.4f", s / n }'
	fi
}
have hyperfine || apt_install hyperfine || note "timing with date(1) instead"
s=$(time_lease "$BT/f7-small")
b=$(time_lease "$BT/f7-big")
note "lease of 10 rows: $b ms on $big rows, $s ms on 1000 rows ($runs runs)"
record "7 lease latency" "$b" ms "the same on 1000 rows" \
    "$s" '<=1.5' "label=${big}_rows,_99%_SENT,_pending_--limit_10 rows=$big sent=99% synchronous=full pending_limit=10 runs=$runs"
