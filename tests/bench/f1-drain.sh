#!/bin/sh
# Figure 1: drain -- lease + ack of 32 000 deliveries with a no-op
# sender, synchronous FULL and NORMAL, 1 and 2 workers, against the
# one-row-per-transaction queue of goqite and plainjob (baseline-queue.py)
# on the same PRAGMAs and the same rows.
. "$CORP_SRC/tests/bench/lib.sh"

[ -d "$BT/drain-template" ] ||
    queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"

# one SYNC WORKERS LIMIT BATCH
one() {
	set -- "$1" "$2" "$3" "$4" $(baseline_rate "$1" "$2")
	use_template "$BT/drain-template" "$BT/f1-db" "$1"
	ms=$(drain ack "$3" "$4" "$DRAIN_ROWS" "$2") || exit 1
	v=$(rate "$DRAIN_ROWS" "$ms")
	note "drain sync=$1 workers=$2 limit=$3 batch=$4: $DRAIN_ROWS rows in $ms ms"
	if [ "$1" = full ]; then tgt='>=20'; else tgt=-; fi
	record "1 drain (pending|nosend|ack)" "$v" rows/s \
	    "goqite/plainjob algorithm (python3)" "$5" "$tgt" \
	    "synchronous=$1 workers=$2 rows=$DRAIN_ROWS pending_limit=$3 ack_batch=$4 baseline_rows=$6"
}

for sync in full normal; do
	for w in 1 2; do
		one "$sync" "$w" 100 256	# corp-deliver's defaults
	done
done
# The variant with bigger batches: pending --limit 1000, ack --batch 1000
# (quick mode: FULL, 1 worker).
for sync in full normal; do
	[ "$BENCH" = quick ] && [ "$sync" = normal ] && continue
	for w in 1 2; do
		[ "$BENCH" = quick ] && [ "$w" = 2 ] && continue
		one "$sync" "$w" 1000 1000
	done
done
