#!/bin/sh
# Figure 10: run's claim at scale -- the instructions corp_queue_claim
# executes per message in one corp-deliver run round (--once --batch 100,
# callgrind) with 1 000 000 PENDING rows (quick mode: 200 000) against
# 1 000 PENDING rows; and beside it the wall time of that round.
. "$CORP_SRC/tests/bench/lib.sh"

if ! corp_has_run; then
	skipped "10 run claim at scale" "corp-deliver run does not exist yet"
	exit 0
fi
if [ "$BENCH" = full ]; then events=1000; runs=20; else events=200; runs=10; fi
big=$((events * DRAIN_USERS))
# 1 000 rows: one event routed by corp to 1 000 users; the big queue is
# the same with SQL copies of that event in route's layout (grow_queue).
routed_queue "$BT/f10-small" 1 "$DRAIN_USERS"
use_template "$BT/f10-small" "$BT/f10-big" normal
grow_queue "$events"
[ "$(pending_count)" = "$big" ] || die "f10: expected $big PENDING rows"

nginx_start || { skipped "10 run claim at scale" "no nginx"; exit 0; }
trap nginx_stop EXIT
export CORP_TELEGRAM_API="http://127.0.0.1:$NGINX_PORT"
export CORP_TELEGRAM_TOKEN=123:bench CORP_RATE_LIMIT=off
# corp-deliver-run is what corp-deliver run executes (cmd/corp-deliver.c
# exec_run); called directly so that valgrind measures it, not the exec.
round="corp-deliver-run $(run_args) --once --batch 100"

# cg_round Q: one round under callgrind on queue Q (small or big);
# prints "CLAIM TOTAL": corp_queue_claim's inclusive instructions
# (callgrind_annotate --inclusive) and the whole process's, each per
# message claimed.
cg_round() {
	use_template "$BT/f10-$1" "$BT/f10-cg" full
	tot=$(callgrind_ir "$BT/f10-$1.cg" $round) || die "f10: callgrind failed"
	claimed=$(sed -n 's/.*"claimed":\([0-9]*\).*/\1/p' \
	    "$BT/f10-$1.cg.stdout")
	[ "${claimed:-0}" -gt 0 ] || die "f10: the round claimed nothing"
	cl=$(callgrind_annotate --inclusive=yes "$BT/f10-$1.cg" 2>/dev/null |
	    awk '/[^a-z_]corp_queue_claim[ ]/ { gsub(",", "", $1); print $1
	    exit }')
	[ -n "$cl" ] || die "f10: no corp_queue_claim in the profile"
	awk -v c="$cl" -v t="$tot" -v n="$claimed" \
	    'BEGIN { printf "%.0f %.0f\n", c / n, t / n }'
}
if have_valgrind; then
	set -- $(cg_round small) $(cg_round big)
	claim_small=$1 total_small=$2 claim_big=$3 total_big=$4
	[ -n "$claim_big" ] || exit 1
	note "instructions per message: claim $claim_big on $big rows, $claim_small on $DRAIN_USERS; whole run $total_big and $total_small"
	record "10 run claim at scale" "$claim_big" instr/msg \
	    "the same on 1000 rows" "$claim_small" '<=1.5' \
	    "label=${big}_PENDING,_claim_instructions tool=callgrind batch=100 pending=$big whole_run_instr_per_msg=$total_big whole_run_instr_per_msg_1000=$total_small"
else
	skipped "10 run claim at scale (instructions)" "valgrind unavailable"
fi

# Wall time of the same round; the rows it sent are put back PENDING
# between runs (not timed), so every run claims from the same backlog.
have hyperfine || apt_install hyperfine || true
if have hyperfine; then
	reset="UPDATE deliveries SET status = 'PENDING', sent_at = NULL, provider_message_id = NULL, attempts = 0 WHERE status = 'SENT'"
	# wall_round Q: mean ms of the round on queue Q.
	wall_round() {
		use_template "$BT/f10-$1" "$BT/f10-wall" full
		hyperfine -N --style none --warmup 1 --runs "$runs" \
		    --prepare "sqlite3 $BT/f10-wall/corp.db \"$reset\"" \
		    --export-json "$BT/f10.json" "$round" >/dev/null 2>&1 ||
		    die "f10: hyperfine failed"
		"$PY" -c 'import json, sys
print("%.3f" % (json.load(open(sys.argv[1]))["results"][0]["mean"] * 1000))' "$BT/f10.json"
	}
	wall_small=$(wall_round small) && wall_big=$(wall_round big) || exit 1
	note "one round (100 messages): $wall_big ms on $big rows, $wall_small ms on $DRAIN_USERS ($runs runs)"
	record "10 run claim at scale" "$wall_big" ms "the same on 1000 rows" \
	    "$wall_small" - \
	    "label=${big}_PENDING,_one_round_wall tool=hyperfine runs=$runs batch=100 pending=$big"
else
	skipped "10 run claim at scale (wall)" "hyperfine unavailable"
fi
