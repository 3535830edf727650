#!/bin/sh
# Migration 0024 (issue 18): the IN-list CHECKs left on the tables route
# and the ack write per row -- deliveries' priority, route_decisions'
# decision, delivery_counters' result -- are equalities, as 0023 made
# deliveries' status: SQLite ran each IN list of three or more constants
# as an ephemeral table built for every row written.  Each CHECK accepts
# exactly the values it accepted, on both backends; route's statements
# build no ephemeral table; a database at 0023 with rows migrates with
# every row, index and foreign key as it was.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

# A queue with rows of two priorities, decisions of several kinds and
# counters of several results: routed (ann muted on telegram, an urgent
# email setting for executors, bob alone bound on email), then 3 rows
# SENT and 1 FAILED.
printf '{"login":"bob","channel":"email","address":"bob@example.org"}\n' |
    corp-bind import >/dev/null || bail "bind"
corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email --enabled --priority urgent --template task_created \
    >/dev/null || bail "notify set"
corp-settings mute --user ann --channel telegram >/dev/null || bail "mute"
fixture_tasks 2
corp-event route >/dev/null || bail "route"
corp-deliver pending --channel telegram --limit 3 | ack_all sent |
    corp-deliver ack >/dev/null
corp-deliver pending --channel telegram --limit 1 |
    jq -c '. + {result: "failed", error: "refused"}' |
    corp-deliver ack >/dev/null
is "$(sql "SELECT count(DISTINCT priority) || ' ' || count(*) FROM deliveries")
$(sql "SELECT group_concat(d, ' ') FROM (SELECT DISTINCT decision AS d
    FROM route_decisions ORDER BY d) AS x")
$(sql "SELECT group_concat(r, ' ') FROM (SELECT result || ':' || n AS r
    FROM delivery_counters ORDER BY r) AS x")" \
    "2 8
created disabled muted_channel no_bind
dead_lettered:1 failed:1 sent:3" \
    "the queue: two priorities, four decisions, three counters"

# ---- the constraints ---------------------------------------------------
if pg_mode; then
	# PostgreSQL keeps 0003's, 0017's and 0018's CHECKs: they accept
	# the same values and are evaluated in place.
	is "$(sql "SELECT conrelid::regclass || ': ' || pg_get_constraintdef(oid)
	    FROM pg_constraint WHERE contype = 'c' AND conrelid IN
	    ('deliveries'::regclass, 'route_decisions'::regclass,
	    'delivery_counters'::regclass) AND (pg_get_constraintdef(oid)
	    LIKE '%priority%' OR pg_get_constraintdef(oid) LIKE '%decision%'
	    OR pg_get_constraintdef(oid) LIKE '%result%') ORDER BY 1" |
	    sed 's/::text//g; s/ COLLATE "C"//g')" \
	    "deliveries: CHECK ((priority = ANY (ARRAY['urgent', 'p2p', 'broadcast'])))
delivery_counters: CHECK ((result = ANY (ARRAY['sent', 'retried', 'held', 'unbound', 'failed', 'dead_lettered'])))
route_decisions: CHECK ((decision = ANY (ARRAY['created', 'muted_channel', 'muted_type', 'disabled', 'self', 'no_bind', 'refused', 'fallback', 'digested'])))" \
	    "the three CHECKs as they were"
else
	s=$(sql "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name IN
	    ('deliveries', 'route_decisions', 'delivery_counters')")
	like "$s" "CHECK \\(priority = 'urgent' OR priority = 'p2p'" \
	    "deliveries' CHECK on priority: equalities"
	like "$s" "CHECK \\(decision = 'created'" \
	    "route_decisions' CHECK on decision: equalities"
	like "$s" "CHECK \\(result = 'sent' OR result = 'retried'" \
	    "delivery_counters' CHECK on result: equalities"
	# Two constants are compared in place (tests/bench/PROFILE 12):
	# readiness keeps its IN list.
	is "$(printf '%s\n' "$s" | grep -o '[a-z_]* IN (' | tr '\n' ' ')" \
	    "readiness IN ( " "  no IN list left but readiness' two values"
fi

# verdicts TABLE COLUMN VALUE...: each VALUE written into COLUMN of a copy
# of the database, "VALUE:ok" or "VALUE:refused" for each (refused only
# by a CHECK: any other error is printed as it is).
# SQL write on purpose: values no corp command writes, to see which the
# CHECK refuses; on a copy, so that the accepted ones leave no trace.
verdicts() {
	_t=$1 _c=$2
	shift 2
	_db=$(copydb "$(curdb)") || bail "no copy of the database"
	_k=0
	for _v in "$@"; do
		_k=$((_k + 1))
		case $_t in
		deliveries) _q="UPDATE deliveries SET priority = '$_v'
		    WHERE id = 1" ;;
		route_decisions) _q="UPDATE route_decisions SET decision = '$_v'
		    WHERE event_id = $ev1 AND user_id = $ann
		    AND channel = 'telegram'" ;;
		delivery_counters) _q="INSERT INTO delivery_counters (channel,
		    result, n) VALUES ('check$_k', '$_v', 1)" ;;
		esac
		if _e=$(sql_at "$_db" "$_q" 2>&1); then
			printf '%s:ok ' "$_v"
		else
			case $_e in
			*"CHECK constraint failed"*|*"violates check constraint"*)
				printf '%s:refused ' "$_v" ;;
			*)	printf '%s:error(%s) ' "$_v" "$_e" ;;
			esac
		fi
	done
	rmdb "$_db"
}
ev1=$(sql "SELECT min(event_id) FROM route_decisions")
# Every value the CHECK took, then near misses: case, a blank, empty,
# another word.
prio="urgent p2p broadcast"
dec="created muted_channel muted_type disabled self no_bind refused
    fallback digested"
res="sent retried held unbound failed dead_lettered"
expect() {	# expect VALUE...: each accepted, then the misses refused
	for _v in "$@"; do printf '%s:ok ' "$_v"; done
	printf '%s:refused ' "$(printf '%s' "$1" | tr a-z A-Z)" "$2 " "" other
}
check_values() {	# check_values TABLE COLUMN VALUES
	# shellcheck disable=SC2086
	is "$(verdicts "$1" "$2" $3 "$(printf '%s' "${3%% *}" | tr a-z A-Z)" \
	    "$(printf '%s' "$3" | awk '{ print $2 }') " "" other)" \
	    "$(expect $3)" "$1.$2 takes exactly the values it took"
}
check_values deliveries priority "$prio"
check_values route_decisions decision "$(echo $dec)"
check_values delivery_counters result "$res"
is "$(sql "SELECT count(*) || ' ' || count(DISTINCT priority) FROM deliveries")" \
    "8 2" "the database itself unchanged"

# ---- route's statements --------------------------------------------------
# Every statement of the binaries that writes a row of the three tables,
# EXPLAINed: none builds an ephemeral table.  The digest's INSERT ...
# RETURNING id keeps one, RETURNING's own (lib/queue.c).
# ephemerals DB FILE: "COUNT STATEMENT-HEAD" for each statement of FILE.
ephemerals() {
	while IFS= read -r _q; do
		_x=$(sql_at "$1" "EXPLAIN $_q" 2>&1) || _x=ERROR
		case $_x in
		ERROR) printf 'ERROR %.60s\n' "$_q" ;;
		*) printf '%s %.60s\n' "$(printf '%s\n' "$_x" |
		    grep -c OpenEphemeral)" "$_q" ;;
		esac
	done < "$2"
}
if if_sqlite "EXPLAIN of the writes"; then
	for b in corp-event corp-deliver corp-deliver-run; do
		# not SQL: a pattern of the statements found in the binaries
		# (whole statements: a migration's text is there line by line)
		strings -n 8 "$(command -v $b)" | grep -E \
		    '^(INSERT INTO (deliveries|route_decisions|delivery_counters) |UPDATE route_decisions SET)'
	done | grep -E ' VALUES | SET ' | sort -u > "$T/writes"
	grep -v RETURNING "$T/writes" > "$T/rowwrites"
	grep RETURNING "$T/writes" > "$T/retwrites"
	n=$(wc -l < "$T/rowwrites" | tr -d ' ')
	ok "the writes found ($n; route's four INSERTs among them)" \
	    test "$n" -ge 6
	is "$(ephemerals "$(curdb)" "$T/rowwrites" | grep -v '^0 ')" "" \
	    "none builds an ephemeral table"
	is "$(ephemerals "$(curdb)" "$T/retwrites" | cut -c1-2 | sort -u)" "1 " \
	    "an INSERT ... RETURNING: RETURNING's own alone"
fi

# ---- 0023 -> 0024 with rows --------------------------------------------
# The database as 0023 left it: made by this corp, then put back to what
# corp before 0024 wrote (no corp tool can make it: each migrates on
# open).  SQLite: the three tables' text, taken from an empty database
# this corp migrated to 23, and user_version; PostgreSQL: the version
# alone (0024 changes nothing else there).
old=$(copydb "$(curdb)") || bail "no copy of the database"
if pg_mode; then
	# SQL write on purpose: the schema version corp before 0024 left.
	sql_at "$old" "UPDATE corp_schema SET version = 23"
else
	mkdir -m 700 "$T/m23"
	: > "$T/m23/corp.db"
	CORP_DATA_DIR="$T/m23" corp-db migrate --to 23 >/dev/null ||
	    bail "migrate --to 23"
	# SQL write on purpose: the schema text corp before 0024 left,
	# written back the way 0024 writes it (the sqlite3 CLI is not in
	# defensive mode).
	sql_at "$old" "ATTACH '$T/m23/corp.db' AS m23;
	    PRAGMA writable_schema = ON;
	    UPDATE main.sqlite_schema AS t SET sql = (SELECT s.sql
	    FROM m23.sqlite_schema s WHERE s.type = 'table'
	    AND s.name = t.name) WHERE type = 'table'
	    AND name IN ('deliveries', 'route_decisions', 'delivery_counters');
	    PRAGMA writable_schema = OFF; PRAGMA user_version = 23;"
	schema() {
		sql_at "$1" "SELECT type || ' ' || name || ' ' || tbl_name ||
		    ': ' || sql FROM sqlite_schema ORDER BY type, name"
	}
	is "$(schema "$old")" "$(schema "$T/m23/corp.db")" \
	    "the database at 23 has the schema 0023 leaves"
	is "$(ephemerals "$old" "$T/rowwrites" | grep -c '^1 ')" \
	    "$(wc -l < "$T/rowwrites" | tr -d ' ')" \
	    "  where each of those writes builds one ephemeral table"
fi

# What must come through: every row of every table, every index (its
# text, and on SQLite its root page: nothing is rebuilt) and the foreign
# keys.
rows() {
	if pg_mode; then
		sql_at "$1" .dump | grep -v '^corp_schema	'
	else
		# not SQL: the rows' lines of the dump, read
		sql_at "$1" .dump | grep '^INSERT INTO'
	fi
}
edited="'deliveries', 'route_decisions', 'delivery_counters'"
objects() {
	if pg_mode; then
		sql_at "$1" "SELECT indexname || ': ' || indexdef FROM pg_indexes
		    WHERE schemaname = current_schema() ORDER BY indexname"
		sql_at "$1" "SELECT conrelid::regclass || ' ' || conname || ': '
		    || pg_get_constraintdef(oid) FROM pg_constraint
		    WHERE connamespace = current_schema()::regnamespace
		    ORDER BY 1"
	else
		sql_at "$1" "SELECT type || ' ' || name || ' ' || rootpage ||
		    ': ' || coalesce(sql, '') FROM sqlite_schema
		    WHERE name NOT IN ($edited) ORDER BY type, name"
		sql_at "$1" "SELECT name || ' ' || rootpage FROM sqlite_schema
		    WHERE name IN ($edited) ORDER BY name"
		sql_at "$1" "SELECT m.name || ' ' || f.\"from\" || ' -> ' ||
		    f.\"table\" || '(' || f.\"to\" || ')' FROM sqlite_schema m,
		    pragma_foreign_key_list(m.name) f
		    WHERE m.type = 'table' ORDER BY 1"
	fi
}
rows "$old" > "$T/rows.before"
objects "$old" > "$T/objects.before"
ok "rows before ($(wc -l < "$T/rows.before" | tr -d ' ') lines)" \
    test -s "$T/rows.before"

CORP_DB=$old run corp-db migrate
is "$rc:$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "0:[23,24]" "corp-db migrate: 23 -> 24"
is "$err" "" "  says nothing on stderr"
if if_sqlite "the migrated schema"; then
	# ... which is the schema of a new database, entry for entry.
	mkdir -m 700 "$T/m24"
	CORP_DATA_DIR="$T/m24" corp-db init >/dev/null || bail "init"
	is "$(schema "$old")" "$(schema "$T/m24/corp.db")" \
	    "the migrated schema is a new database's"
	is "$(ephemerals "$old" "$T/rowwrites" | grep -v '^0 ')" "" \
	    "  no ephemeral table in the writes"
	is "$(sql_at "$old" "PRAGMA integrity_check")" ok "integrity_check ok"
	is "$(sql_at "$old" "PRAGMA foreign_key_check")" "" \
	    "foreign_key_check finds nothing"
fi
rows "$old" > "$T/rows.after"
objects "$old" > "$T/objects.after"
if cmp -s "$T/rows.before" "$T/rows.after"; then
	pass "every row of every table as it was"
else
	fail "every row of every table as it was" \
	    "$(diff "$T/rows.before" "$T/rows.after" | head -20)"
fi
if cmp -s "$T/objects.before" "$T/objects.after"; then
	pass "every index, constraint and foreign key as it was"
else
	fail "every index, constraint and foreign key as it was" \
	    "$(diff "$T/objects.before" "$T/objects.after" | head -20)"
fi
CORP_DB=$old run corp-db check
is "$rc" 0 "corp-db check clean on the migrated database"

# The queue goes on: a new task routed (rows, decisions), everything
# PENDING drained (counters), each row SENT once.
export CORP_DB="$old"
corp-task create --as boss --title "Task 3" --unit sales >/dev/null ||
    bail "create"
corp-event route >/dev/null || bail "route after the migration"
corp-deliver pending --channel telegram --limit 100 | ack_all sent |
    corp-deliver ack >/dev/null
is "$(sql "SELECT status || ':' || count(*) FROM deliveries
    WHERE channel = 'telegram' GROUP BY status ORDER BY status" |
    tr '\n' ' ')$(sql "SELECT count(*) FROM route_decisions")
$(sql "SELECT group_concat(r, ' ') FROM (SELECT result || ':' || n AS r
    FROM delivery_counters ORDER BY r) AS x")" \
    "FAILED:1 SENT:8 30
dead_lettered:1 failed:1 sent:8" \
    "after the migration: routed, drained, counted"
check_values deliveries priority "$prio"
check_values route_decisions decision "$(echo $dec)"
check_values delivery_counters result "$res"
done_testing
