#!/bin/sh
# Figure 9: PostgreSQL drain -- lease + ack of routed deliveries
# (pending|nosend|ack, corp-deliver's default batches) with 1, 2 and 4
# workers on a throw-away PostgreSQL cluster (tests/pg/cluster, Unix
# socket, fsync and synchronous_commit on), against figure 1's drain on
# SQLite with synchronous=FULL and 1 worker in the same run (DESIGN 9's
# scale-out promise: more workers on PostgreSQL should pass one SQLite
# writer); and against ref-drain-pg.c, the minimal C batch queue on the
# same PostgreSQL schema with as many workers (PostgreSQL's limit here).
# Then the drain an operator runs: corp-deliver run --concurrency 1, 2, 4
# --until-empty into figure 4's nginx stub, against run on SQLite FULL
# with 1 worker; issue 18's aim (>= 1x with 4 workers) is on these rows.
. "$CORP_SRC/tests/bench/lib.sh"

have psql || { skipped "9 pg drain" "psql missing"; exit 0; }
sock=$(sh "$CORP_SRC/tests/pg/cluster" start --watch $$ --durable \
    2>"$BT/f9-cluster.err") || {
	skipped "9 pg drain" "no PostgreSQL cluster: $(tail -1 "$BT/f9-cluster.err")"
	exit 0
}
trap 'sh "$CORP_SRC/tests/pg/cluster" stop "$sock" >/dev/null 2>&1' EXIT
# Quick mode routes 16 events (16 000 rows): a PostgreSQL drain of
# corp's pipe runs at a third of SQLite's speed here, and the rate of a
# drain does not depend on the length of the queue (a claim walks an
# index in order).
if [ "$BENCH" = full ]; then events=$DRAIN_EVENTS; else events=16; fi
rows=$((events * DRAIN_USERS))
psqlq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$sock" "$@"; }

# The template database, made as routed_queue makes the SQLite one:
# corp-db init, corp-org add, corp-user import, the binds with SQL (see
# routed_queue), corp-task create per event, corp-event route.
psqlq -d postgres -c "CREATE DATABASE benchtpl" || die "f9: createdb"
(
	export CORP_DB="postgresql:///benchtpl?host=$sock"
	export CORP_DATA_DIR="$BT/f9-data"
	mkdir -p "$CORP_DATA_DIR" && chmod 700 "$CORP_DATA_DIR"
	corp-db init --admin admin >/dev/null || die "f9: corp-db init"
	corp-org add bench --title Bench >/dev/null || die "f9: corp-org add"
	awk -v n="$DRAIN_USERS" 'BEGIN { for (i = 0; i < n; i++)
	    printf "{\"login\":\"u%d\",\"name\":\"User %d\",\"lang\":\"en\",\"unit\":\"bench\"}\n", i, i }' |
	    corp-user import >/dev/null || die "f9: corp-user import"
	psqlq -d benchtpl -c "INSERT INTO binds (user_id, channel, address,
	    active, created_at, updated_at) SELECT id, 'telegram',
	    CAST(5000 + id AS TEXT), 1, 1767607200, 1767607200 FROM users
	    WHERE login LIKE 'u%'" >/dev/null || die "f9: binds"
	i=1
	while [ "$i" -le "$events" ]; do
		corp-task create --as admin --title "Quarterly report $i" \
		    --description "Figures for the quarter, part $i" \
		    --unit bench --due 2026-01-09T18:00:00Z >/dev/null ||
		    die "f9: corp-task create"
		i=$((i + 1))
	done
	corp-event route >/dev/null || die "f9: corp-event route"
) || exit 1
psqlq -d benchtpl -c "VACUUM ANALYZE" || die "f9: vacuum"
[ "$(psqlq -d benchtpl -c "SELECT count(*) FROM deliveries
    WHERE status = 'PENDING' AND readiness = 'ready'")" = "$rows" ] ||
    die "f9: expected $rows ready rows"

# pg_db: a fresh copy of the template; CORP_DB and name set.  The count
# lives in a file: pg_db also runs in command substitutions.
pg_db() {
	n=$(($(cat "$BT/f9.n" 2>/dev/null || echo 0) + 1))
	echo "$n" > "$BT/f9.n"
	name=bench$n
	psqlq -d postgres -c "CREATE DATABASE $name TEMPLATE benchtpl" ||
	    die "f9: createdb $name"
	export CORP_DB="postgresql:///$name?host=$sock"
	export CORP_DATA_DIR="$BT/f9-data"
}

pg_pending() {
	psql -X -q -A -t -h "$sock" -d "$name" -c \
	    "SELECT count(*) FROM deliveries WHERE status = 'PENDING'"
}

# pg_drain WORKERS: ms to drain, as drain() does for SQLite.
pg_drain() {
	per=$(( (rows + 100 * $1 - 1) / (100 * $1) ))
	t0=$(now_ns)
	pids=
	w=0
	while [ "$w" -lt "$1" ]; do
		(
			i=0
			while :; do
				corp-deliver pending --channel telegram \
				    --limit 100 | nosend |
				    corp-deliver ack --batch 256 >/dev/null ||
				    exit 1
				i=$((i + 1))
				[ "$i" -ge "$per" ] || continue
				[ "$(pg_pending)" = 0 ] && exit 0
				[ "$i" -gt $((per + 2000)) ] && exit 1
			done
		) &
		pids="$pids $!"
		w=$((w + 1))
	done
	bad=0
	for p in $pids; do wait "$p" || bad=1; done
	ms=$(ms_since "$t0")
	[ "$bad" = 0 ] || die "f9: a PostgreSQL worker failed"
	chk=$(psql -X -q -A -t -h "$sock" -d "$name" -c "SELECT
	    (SELECT count(*) FROM deliveries WHERE status <> 'SENT') +
	    (SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
	    WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1) x)")
	[ "$chk" = 0 ] || die "f9: $chk rows not SENT exactly once"
	echo "$ms"
}

# SQLite FULL, 1 worker, corp's defaults: figure 1's figure when it ran
# in this run, else measured here the same way.
if [ -s "$BT/corp-drain-full-1-100" ]; then
	sv=$(cat "$BT/corp-drain-full-1-100")
else
	queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
	use_template "$BT/drain-template" "$BT/f9-db" full
	sq=$(drain ack 100 256 "$DRAIN_ROWS" 1) || exit 1
	sv=$(rate "$DRAIN_ROWS" "$sq")
	unset CORP_DATA_DIR
fi
pgv=$(psqlq -d postgres -c 'SHOW server_version' | cut -d' ' -f1)

# ref_pg WORKERS [-a]: rows/s of WORKERS ref-drain-pg at once on a fresh
# copy, batches of 100.
ref_pg() {
	pg_db
	rt=$(now_ns)
	rpids=
	w=0
	: > "$BT/f9-ref.out"
	while [ "$w" -lt "$1" ]; do
		"$BT/bin/ref-drain-pg" ${2:-} "postgresql:///$name?host=$sock" \
		    100 >> "$BT/f9-ref.out" &
		rpids="$rpids $!"
		w=$((w + 1))
	done
	for p in $rpids; do wait "$p" || die "f9: ref-drain-pg failed"; done
	rms=$(ms_since "$rt")
	acked=$(awk '{ s += $1 } END { print s }' "$BT/f9-ref.out")
	[ "$acked" = "$rows" ] || die "f9: ref-drain-pg acked $acked of $rows"
	note "ref-drain-pg workers=$1 ${2:-}: $acked rows in $rms ms"
	rate "$acked" "$rms"
}

for w in 1 2 4; do
	pg_db
	pm=$(pg_drain "$w") || exit 1
	pv=$(rate "$rows" "$pm")
	note "pg drain workers=$w: $rows rows in $pm ms (SQLite FULL 1 worker: $sv rows/s)"
	# No aim on the pipe: each batch of 100 pays two process start-ups
	# and two PostgreSQL connections (PROFILE section 8), which is not
	# how an operator drains PostgreSQL; the aim is on the run rows.
	lab="label=${w}_worker$([ "$w" = 1 ] || echo s),_limit_100/256"
	record "9 drain on PostgreSQL (pipe)" "$pv" rows/s "SQLite FULL, 1 worker" \
	    "$sv" - "$lab ms=$pm workers=$w rows=$rows pending_limit=100 ack_batch=256 postgresql=$pgv fsync=on"
	[ "$w" = 2 ] && continue
	if [ -x "$BT/bin/ref-drain-pg" ]; then
		rv=$(ref_pg "$w") && ra=$(ref_pg "$w" -a) || exit 1
		record "9 drain on PostgreSQL (pipe)" "$pv" rows/s \
		    "C ref-drain-pg, $w worker$([ "$w" = 1 ] || echo s)" "$rv" - \
		    "$lab workers=$w rows=$rows ref_batch=100 ref_with_attempts_rows_per_s=$ra postgresql=$pgv fsync=on"
	else
		skipped "9 drain on PostgreSQL vs ref-drain-pg" "ref-drain-pg.c did not build (libpq headers?)"
	fi
done

# The drain an operator runs (cron, systemd): corp-deliver run
# --concurrency K --until-empty, one process tree, one PostgreSQL
# connection per worker for the whole loop, into figure 4's nginx stub
# of the Bot API (README: why that transport); against the same run on
# SQLite with synchronous=FULL and 1 worker, in this run.  Each run is
# timed whole (start-up and fork included) and must leave every row SENT
# exactly once.
if ! corp_has_run; then
	skipped "9 drain on PostgreSQL (run)" "corp-deliver run does not exist"
	exit 0
fi
nginx_start || {
	skipped "9 drain on PostgreSQL (run)" "no nginx (apt-get install nginx-light)"
	exit 0
}
trap 'nginx_stop; sh "$CORP_SRC/tests/pg/cluster" stop "$sock" >/dev/null 2>&1' EXIT
export CORP_TELEGRAM_API="http://127.0.0.1:$NGINX_PORT"
export CORP_TELEGRAM_TOKEN=123:bench CORP_RATE_LIMIT=off

# run_drain K ROWS CHECK: ms of corp-deliver run --concurrency K
# --until-empty on the current database; CHECK prints the rows not SENT
# exactly once afterwards.
run_drain() {
	rt=$(now_ns)
	corp-deliver run $(run_args) --concurrency "$1" --until-empty \
	    >"$BT/f9-run.out" 2>"$BT/f9-run.err" ||
	    die "f9: run --concurrency $1 exited $?: $(head -c 300 "$BT/f9-run.err")"
	rms=$(ms_since "$rt")
	bad=$($3)
	[ "$bad" = 0 ] || die "f9: run --concurrency $1: $bad of $2 rows not SENT exactly once"
	echo "$rms"
}
SENT_ONCE="SELECT (SELECT count(*) FROM deliveries WHERE status <> 'SENT') +
    (SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
    WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1) x)"
sq_check() { sql "$SENT_ONCE"; }
pg_check() { psql -X -q -A -t -h "$sock" -d "$name" -c "$SENT_ONCE"; }

# SQLite FULL, 1 worker: the routed queue of figure 1 (32 000 rows; a
# drain's rate does not depend on the queue's length).
queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
unset CORP_DB
use_template "$BT/drain-template" "$BT/f9-run-db" full
sm=$(run_drain 1 "$DRAIN_ROWS" sq_check) || exit 1
srv=$(rate "$DRAIN_ROWS" "$sm")
note "run SQLite FULL --concurrency 1: $DRAIN_ROWS rows in $sm ms"
unset CORP_SYNCHRONOUS
for k in 1 2 4; do
	pg_db
	pm=$(run_drain "$k" "$rows" pg_check) || exit 1
	pv=$(rate "$rows" "$pm")
	note "run PostgreSQL --concurrency $k: $rows rows in $pm ms (SQLite FULL 1: $srv rows/s)"
	if [ "$k" = 4 ]; then tgt='>=1'; else tgt=-; fi
	record "9 drain on PostgreSQL (run)" "$pv" rows/s \
	    "run, SQLite FULL, 1 worker" "$srv" "$tgt" \
	    "label=run_--concurrency_$k ms=$pm workers=$k rows=$rows sqlite_rows=$DRAIN_ROWS sqlite_ms=$sm transport=nginx_stub inflight=1 batch=100 postgresql=$pgv fsync=on"
done
