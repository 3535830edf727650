#!/bin/sh
# Figure 1: drain -- lease + ack of 32 000 routed deliveries with a no-op
# sender, synchronous FULL and NORMAL, 1 and 2 workers, against the
# one-row-per-transaction queue of goqite and plainjob (baseline-queue.py)
# and against the machine's limit: ref-drain.c, a minimal C batch queue
# on the same schema, rows and PRAGMAs.
. "$CORP_SRC/tests/bench/lib.sh"

queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"

# one SYNC WORKERS LIMIT BATCH
one() {
	set -- "$1" "$2" "$3" "$4" $(baseline_rate "$1" "$2")
	use_template "$BT/drain-template" "$BT/f1-db" "$1"
	ms=$(drain ack "$3" "$4" "$DRAIN_ROWS" "$2") || exit 1
	v=$(rate "$DRAIN_ROWS" "$ms")
	note "drain sync=$1 workers=$2 limit=$3 batch=$4: $DRAIN_ROWS rows in $ms ms"
	# Figure 9 compares PostgreSQL with this one (FULL, 1 worker,
	# corp's defaults): kept for it.
	[ "$1/$2/$3" = full/1/100 ] && echo "$v" > "$BT/corp-drain-full-1-100"
	S=$(echo "$1" | tr a-z A-Z)
	if [ "$1" = full ]; then tgt='>=20'; else tgt=-; fi
	lab="label=${S},_${2}_worker$([ "$2" = 1 ] || echo s),_limit_$3/$4"
	record "1 drain" "$v" rows/s "goqite/plainjob (python3)" "$5" "$tgt" \
	    "$lab synchronous=$1 workers=$2 rows=$DRAIN_ROWS pending_limit=$3 ack_batch=$4 ms=$ms baseline_rows=$6"
	# The share of the machine's limit: ref-drain claiming and acking
	# as many rows per transaction as corp's pending --limit.  One
	# worker: a second SQLite writer adds no commits per second.
	[ "$2" = 1 ] || return 0
	if r=$(ref_rate "$1" "$3"); then
		set -- "$@" $r
		ra=$(ref_rate "$1" "$3" -a | cut -d' ' -f1)
		if [ "$1" = full ]; then tgt='>=0.5'; else tgt=-; fi
		record "1 drain" "$v" rows/s "C ref-drain (limit)" "$7" "$tgt" \
		    "$lab synchronous=$1 workers=1 rows=$DRAIN_ROWS pending_limit=$3 ack_batch=$4 ref_batch=$3 ref_with_attempts_rows_per_s=$ra"
	else
		skipped "1 drain vs C ref-drain" "ref-drain.c did not build"
	fi
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
