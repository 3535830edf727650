#!/bin/sh
# Figure 9: PostgreSQL drain -- lease + ack of the same 32 000 rows as
# figure 1 (pending|nosend|ack, corp-deliver's default batches) with 1, 2
# and 4 workers on a throw-away PostgreSQL cluster (tests/pg/cluster,
# Unix socket, fsync on), against the same drain on SQLite
# (synchronous=FULL) with the same workers in the same run.
. "$CORP_SRC/tests/bench/lib.sh"

have psql || { skipped "9 pg drain" "psql missing"; exit 0; }
sock=$(sh "$CORP_SRC/tests/pg/cluster" start --watch $$ --durable \
    2>"$BT/f9-cluster.err") || {
	skipped "9 pg drain" "no PostgreSQL cluster: $(tail -1 "$BT/f9-cluster.err")"
	exit 0
}
trap 'sh "$CORP_SRC/tests/pg/cluster" stop "$sock" >/dev/null 2>&1' EXIT
n=0

# pg_db: a fresh database loaded like drain-template; CORP_DB set.
pg_db() {
	n=$((n + 1))
	name=bench$n
	psql -X -q -h "$sock" -d postgres -c "CREATE DATABASE $name" ||
	    die "f9: createdb"
	export CORP_DB="postgresql:///$name?host=$sock"
	corp-db init --admin admin >/dev/null || die "f9: corp-db init"
	psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -d "$name" <<EOF >/dev/null ||
INSERT INTO org_units (id, name, title, created_at, updated_at)
    VALUES (2, 'bench', 'Bench', 0, 0);
INSERT INTO users (id, login, name, lang, org_unit_id, created_at, updated_at)
    SELECT 100 + i, 'u' || i, 'User ' || i, 'en', 2, 0, 0
    FROM generate_series(0, $DRAIN_USERS - 1) i;
INSERT INTO binds SELECT id, 'telegram', 5000 + id, 1, 0, 0 FROM users
    WHERE id >= 100;
INSERT INTO events (event_id, event_type, occurred_at, actor_user_id,
    assignee_org_unit_id, title, trace_id, dedupe_key)
    SELECT i, 'TASK_CREATED', 1767600000, 1, 2, 'Task ' || i,
    lpad(to_hex(i), 16, '0'), 'bench:' || i
    FROM generate_series(1, $DRAIN_EVENTS) i;
SELECT setval(pg_get_serial_sequence('events', 'event_id'), $DRAIN_EVENTS);
INSERT INTO deliveries (event_id, user_id, channel, role, roles, priority,
    template, created_at, updated_at)
    SELECT e.event_id, u.id, 'telegram', 'executor', 'executor', 'p2p',
    'task_created', 1767600000, 1767600000
    FROM events e, users u WHERE u.id >= 100;
VACUUM ANALYZE;
EOF
	    die "f9: loading the queue failed"
}

pg_pending() {
	psql -X -q -A -t -h "$sock" -d "$name" -c \
	    "SELECT count(*) FROM deliveries WHERE status = 'PENDING'"
}

# pg_drain WORKERS: ms to drain, as drain() does for SQLite.
pg_drain() {
	per=$(( (DRAIN_ROWS + 100 * $1 - 1) / (100 * $1) ))
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

[ -d "$BT/drain-template" ] ||
    queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
for w in 1 2 4; do
	use_template "$BT/drain-template" "$BT/f9-db" full
	sq=$(drain ack 100 256 "$DRAIN_ROWS" "$w") || exit 1
	sv=$(rate "$DRAIN_ROWS" "$sq")
	pg_db
	pm=$(pg_drain "$w") || exit 1
	pv=$(rate "$DRAIN_ROWS" "$pm")
	unset CORP_DB
	note "pg drain workers=$w: $DRAIN_ROWS rows in $pm ms (SQLite FULL: $sq ms)"
	record "9 drain on PostgreSQL" "$pv" rows/s \
	    "the same drain on SQLite (synchronous=FULL)" "$sv" - \
	    "workers=$w rows=$DRAIN_ROWS pending_limit=100 ack_batch=256 postgresql=$(psql -X -A -t -h "$sock" -d postgres -c 'SHOW server_version' | cut -d' ' -f1) fsync=on"
done
