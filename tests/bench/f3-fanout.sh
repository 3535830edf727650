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
# The unit, its members, the email setting and the task (with its
# TASK_CREATED event) and the 20 000 binds (corp-bind import, one
# transaction) are made with corp's own commands.
fresh_db "$BT/f3-template" "$sync"
corp-org add big --title "Big unit" >/dev/null || die "f3: corp-org add"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"login\":\"m%d\",\"name\":\"Member %d\",\"lang\":\"en\",\"unit\":\"big\"}\n", i, i }' |
    corp-user import >/dev/null || die "f3: corp-user import"
corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email --enabled --priority p2p --template task_created \
    >/dev/null || die "f3: corp-settings notify set"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
    printf "{\"login\":\"m%d\",\"channel\":\"telegram\",\"address\":\"%d\"}\n", i, 5000 + i
    printf "{\"login\":\"m%d\",\"channel\":\"email\",\"address\":\"m%d@example.org\"}\n", i, i } }' |
    corp-bind import >/dev/null || die "f3: corp-bind import"
corp-task create --as admin --title "Quarterly report" --unit big \
    --due 2026-01-08T18:00:00Z >/dev/null || die "f3: corp-task create"
sql "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

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
