#!/bin/sh
# Figure 3: fan-out -- corp-event route of one TASK_CREATED event for a
# task assigned to a unit of 10 000 active members, on two channels
# (telegram, and an email setting for executors; everyone bound on both),
# in rows written per second, against the sqlite3 CLI inserting the very
# same rows (event_recipients, route_decisions, deliveries) as separate
# INSERT statements in one transaction.
. "$CORP_SRC/tests/bench/lib.sh"

N=10000
sync=full
fresh_db "$BT/f3-template" "$sync"
sql "
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO org_units (id, name, title, created_at, updated_at)
    VALUES (2, 'big', 'Big unit', 0, 0);
WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u WHERE i + 1 < $N)
INSERT INTO users (id, login, name, lang, org_unit_id, created_at, updated_at)
    SELECT 100 + i, 'm' || i, 'Member ' || i, 'en', 2, 0, 0 FROM u;
INSERT INTO binds SELECT id, 'telegram', 5000 + id, 1, 0, 0 FROM users
    WHERE id >= 100;
INSERT INTO binds SELECT id, 'email', 'm' || id || '@example.org', 1, 0, 0
    FROM users WHERE id >= 100;
INSERT INTO notification_settings (event_type, role, channel, enabled,
    priority, template) VALUES ('TASK_CREATED', 'executor', 'email', 1,
    'p2p', 'task_created');
INSERT INTO tasks (id, title, state, initiator_user_id, assignee_org_unit_id,
    due_at, created_at, updated_at)
    VALUES (1, 'Quarterly report', 'OPEN', 1, 2, 1767780000, 0, 0);
INSERT INTO events (event_type, occurred_at, task_id, task_version, state,
    actor_user_id, initiator_user_id, assignee_org_unit_id, title, due_at,
    trace_id, dedupe_key) VALUES ('TASK_CREATED', 1767600000, 1, 1, 'OPEN',
    1, 1, 2, 'Quarterly report', 1767780000, 'fanout', 'task:1:v1');
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || die "f3: load failed"

# corp: route the event.
use_template "$BT/f3-template" "$BT/f3-corp" "$sync"
t=$(now_ns)
corp-event route >/dev/null || die "f3: corp-event route failed"
ms=$(ms_since "$t")
rows=$(sql "SELECT (SELECT count(*) FROM event_recipients)
    + (SELECT count(*) FROM route_decisions)
    + (SELECT count(*) FROM deliveries)")
parts=$(sql "SELECT (SELECT count(*) FROM event_recipients) || ' recipients, '
    || (SELECT count(*) FROM route_decisions) || ' decisions, '
    || (SELECT count(*) FROM deliveries) || ' deliveries'")
note "route: $parts in $ms ms"
[ "$(sql "SELECT count(*) FROM deliveries")" = $((2 * N)) ] ||
    die "f3: expected $((2 * N)) delivery rows"

# The baseline's script: the rows route wrote, one INSERT each.
{
	echo "PRAGMA synchronous = FULL;"
	echo "PRAGMA foreign_keys = ON;"
	echo "PRAGMA busy_timeout = 30000;"
	echo "BEGIN IMMEDIATE;"
	for tb in event_recipients route_decisions deliveries; do
		sqlite3 -batch "$CORP_DATA_DIR/corp.db" \
		    ".mode insert $tb" "SELECT * FROM $tb"
	done
	echo "UPDATE route_state SET watermark = 1 WHERE id = 1;"
	echo "COMMIT;"
} > "$BT/f3-inserts.sql"

use_template "$BT/f3-template" "$BT/f3-base" "$sync"
t=$(now_ns)
sqlite3 -batch "$CORP_DATA_DIR/corp.db" < "$BT/f3-inserts.sql" >/dev/null ||
    die "f3: the baseline's inserts failed"
bms=$(ms_since "$t")
brows=$(sql "SELECT (SELECT count(*) FROM event_recipients)
    + (SELECT count(*) FROM route_decisions)
    + (SELECT count(*) FROM deliveries)")
[ "$brows" = "$rows" ] || die "f3: baseline wrote $brows rows, corp $rows"
note "sqlite3 CLI: the same $brows rows in $bms ms"
record "3 fan-out route" "$(rate "$rows" "$ms")" rows/s \
    "sqlite3 CLI INSERTs" "$(rate "$brows" "$bms")" '>=1' \
    "label=1_event_to_${N}_users_x_2_channels,_FULL ms=$ms baseline_ms=$bms synchronous=$sync rows=$rows recipients=$((N + 1)) channels=2"
