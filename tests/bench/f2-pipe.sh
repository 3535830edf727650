#!/bin/sh
# Figure 2: the whole delivery pipe of DESIGN 1 with a no-op sender:
#   pending --after "$(corp-cursor get)" | nosend | ack | cursor advance
# against the same baseline as figure 1.
. "$CORP_SRC/tests/bench/lib.sh"

queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"

# Quick mode: FULL only.
if [ "$BENCH" = full ]; then syncs="full normal"; else syncs=full; fi
for sync in $syncs; do
	set -- $(baseline_rate "$sync" 1)
	use_template "$BT/drain-template" "$BT/f2-db" "$sync"
	ms=$(drain pipe 100 256 "$DRAIN_ROWS" 1) || exit 1
	v=$(rate "$DRAIN_ROWS" "$ms")
	note "pipe sync=$sync: $DRAIN_ROWS rows in $ms ms"
	[ "$(corp-cursor get --channel telegram)" = "$(sql "SELECT event_id
	    || ':' || user_id FROM deliveries ORDER BY event_id DESC,
	    user_id DESC LIMIT 1")" ] ||
	    die "pipe: the cursor did not reach the last row"
	if [ "$sync" = full ]; then tgt='>=10'; else tgt=-; fi
	record "2 pipe +cursor" "$v" rows/s \
	    "goqite/plainjob (python3)" "$1" "$tgt" \
	    "label=$(echo "$sync" | tr a-z A-Z),_1_worker,_limit_100/256 ms=$ms synchronous=$sync workers=1 rows=$DRAIN_ROWS pending_limit=100 ack_batch=256 baseline_rows=$2"
done
