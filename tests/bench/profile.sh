#!/bin/sh
# tests/bench/profile.sh -- take again the profiles tests/bench/PROFILE
# summarises, from the bench's own workloads (after make all):
#
#   PATH="$PWD/build/bin:$PATH" sh tests/bench/profile.sh [OUTDIR]
#
# On a copy of the bench's routed drain queue (32 events x 1 000 users,
# synchronous=FULL) it runs each workload once under valgrind's callgrind
# and prints callgrind_annotate's top functions, self and inclusive:
#
#   pending    corp-deliver pending --channel telegram --limit 100
#   ack        corp-deliver ack --batch 256 of those 100 lines, each
#              marked sent by the bench's no-op sender
#   start-up   corp-cursor get; pending --peek --limit 1; sqlite3
#              :memory: 'select 1' (and the shared libraries each loads)
#   run-claim  corp-deliver-run --once --batch 100 into an nginx stub on
#              1 000 and on 200 000 PENDING rows
#   pg-ack     on a throw-away PostgreSQL cluster (fsync on): the same
#              ack, its statements counted from the server's log
#              (log_min_duration_statement=0 through PGOPTIONS) and its
#              round trips with strace -c
#
# The callgrind files stay in OUTDIR (default: a new temp dir, printed)
# for callgrind_annotate or kcachegrind.  Counts are instructions, so a
# loaded machine does not change them.  Nothing here is run by make bench
# or make check.
: "${CORP_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
export CORP_SRC BENCH=quick
. "$CORP_SRC/tests/bench/lib.sh"

for t in valgrind callgrind_annotate corp-deliver corp-deliver-run sqlite3; do
	have "$t" || die "$t missing (apt-get install valgrind; make all)"
done
BT=${1:-$(mktemp -d "${TMPDIR:-/tmp}/corp-profile.XXXXXX")}
mkdir -p "$BT"
export BT RESULTS="$BT/results.tsv"
echo "profiles in $BT"

# top FILE: the 25 most expensive functions, self then inclusive.
top() {
	echo "--- $(basename "$1"): self"
	callgrind_annotate --threshold=99 "$1" 2>/dev/null |
	    sed -n '/^Ir/,$p' | sed -n '1,28p'
	echo "--- $(basename "$1"): inclusive"
	callgrind_annotate --inclusive=yes --threshold=99 "$1" 2>/dev/null |
	    sed -n '/^Ir/,$p' | sed -n '1,28p'
}
cg() {	# OUT CMD...
	_o=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$_o" "$@" \
	    2>"$_o.log" || die "callgrind $*: $(tail -n 3 "$_o.log")"
}

queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
use_template "$BT/drain-template" "$BT/p-db" full

echo "=== pending --limit 100"
cg "$BT/pending.cg" corp-deliver pending --channel telegram --limit 100 \
    > "$BT/pending.out"
top "$BT/pending.cg"
nosend < "$BT/pending.out" > "$BT/acks.in"
echo "  line bytes: $(awk '{ n += length($0) + 1 } END { print n / NR }' "$BT/pending.out") average; event object: $(sed -n '1s/.*"event"://p' "$BT/pending.out" | wc -c) bytes"

echo "=== ack --batch 256 (100 lines)"
cg "$BT/ack.cg" corp-deliver ack --batch 256 < "$BT/acks.in" > /dev/null
top "$BT/ack.cg"

echo "=== start-up"
corp-cursor set --channel telegram 5:500 || die "cursor set"
cg "$BT/startup-cursor.cg" corp-cursor get --channel telegram >/dev/null
cg "$BT/startup-peek.cg" corp-deliver pending --channel telegram --peek \
    --limit 1 >/dev/null
cg "$BT/startup-sqlite3.cg" sqlite3 :memory: 'select 1' >/dev/null
for f in startup-sqlite3 startup-cursor startup-peek; do
	top "$BT/$f.cg"
done
for b in corp-cursor corp-deliver sqlite3; do
	echo "  $b: $(ldd "$(command -v "$b")" | wc -l) shared objects;" \
	    "NEEDED: $(readelf -d "$(command -v "$b")" |
	    sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
done

echo "=== run --once --batch 100 (claim by priority)"
routed_queue "$BT/rc-small" 1 "$DRAIN_USERS"
use_template "$BT/rc-small" "$BT/rc-big" normal
grow_queue 200
nginx_start || die "no nginx"
trap nginx_stop EXIT
export CORP_TELEGRAM_API="http://127.0.0.1:$NGINX_PORT"
export CORP_TELEGRAM_TOKEN=123:bench CORP_RATE_LIMIT=off
for q in small big; do
	use_template "$BT/rc-$q" "$BT/rc-db" full
	cg "$BT/run-$q.cg" corp-deliver-run $(run_args) --once --batch 100 \
	    > /dev/null
	top "$BT/run-$q.cg"
done
nginx_stop
trap - EXIT

if have psql && have strace; then
	echo "=== PostgreSQL ack (100 lines)"
	sock=$(sh "$CORP_SRC/tests/pg/cluster" start --watch $$ --durable) ||
	    die "no PostgreSQL cluster"
	trap 'sh "$CORP_SRC/tests/pg/cluster" stop "$sock" >/dev/null 2>&1' EXIT
	psql -X -q -h "$sock" -d postgres -c "CREATE DATABASE prof" ||
	    die "createdb"
	(
		export CORP_DB="postgresql:///prof?host=$sock"
		export CORP_DATA_DIR="$BT/pg-data"
		mkdir -p "$CORP_DATA_DIR" && chmod 700 "$CORP_DATA_DIR"
		corp-db init --admin admin >/dev/null &&
		corp-org add bench --title Bench >/dev/null &&
		awk 'BEGIN { for (i = 0; i < 1000; i++)
		    printf "{\"login\":\"u%d\",\"unit\":\"bench\"}\n", i }' |
		    corp-user import >/dev/null &&
		psql -X -q -h "$sock" -d prof -c "INSERT INTO binds (user_id,
		    channel, address, active, created_at, updated_at) SELECT id,
		    'telegram', CAST(5000 + id AS TEXT), 1, 1767607200,
		    1767607200 FROM users WHERE login LIKE 'u%'" >/dev/null &&
		corp-task create --as admin --title "Quarterly report" \
		    --unit bench --due 2026-01-09T18:00:00Z >/dev/null &&
		corp-event route >/dev/null &&
		corp-deliver pending --channel telegram --limit 100 |
		    nosend > "$BT/pg-acks.in" || exit 1
		PGOPTIONS="-c log_min_duration_statement=0 -c application_name=profack" \
		    strace -f -c -o "$BT/pg-ack.strace" \
		    corp-deliver ack --batch 256 < "$BT/pg-acks.in" > /dev/null ||
		    exit 1
		cg "$BT/pg-ack.cg" corp-deliver ack --batch 256 \
		    < "$BT/pg-acks.in" > /dev/null
	) || die "PostgreSQL ack failed"
	echo "  syscalls of one ack of 100 lines (strace -c):"
	grep -E 'sendto|recvfrom|poll|write|read|fsync|fdatasync' \
	    "$BT/pg-ack.strace" | sed 's/^/    /'
	echo "  statements the server ran for that ack (its log):"
	sed -n 's/.*duration: [0-9.]* ms  \(statement\|execute [^:]*\): //p' \
	    "$(dirname "$sock")/server.log" | cut -c1-70 | sort | uniq -c |
	    sort -rn | head -n 12
	top "$BT/pg-ack.cg"
fi
