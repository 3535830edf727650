#!/bin/sh
# Migration 0023 (issue 18): deliveries' CHECK on status is three
# equalities, not an IN list, which SQLite ran as an ephemeral table
# built for every row the ack's UPDATE wrote.  The CHECK still refuses
# any other status; a database at 0022 with rows migrates with every
# row, index and foreign key as it was; a connection open across the
# migration reads the new schema (schema_version moved on).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
in_list="CHECK (status IN ('PENDING', 'SENT', 'FAILED'))"
or_list="CHECK (status = 'PENDING' OR status = 'SENT' OR status = 'FAILED')"

# A queue in every state: SENT with attempts, FAILED, leased, PENDING.
fixture_tasks 3
corp-event route >/dev/null
corp-deliver pending --channel telegram --limit 3 | ack_all sent |
    corp-deliver ack >/dev/null
corp-deliver pending --channel telegram --limit 2 |
    jq -c '. + {result: "failed", error: "refused"}' |
    corp-deliver ack >/dev/null
corp-deliver pending --channel telegram --limit 2 --worker w1 >/dev/null
is "$(sql "SELECT status || ':' || CAST(lease_token IS NOT NULL AS INTEGER)
    || ':' || count(*) FROM deliveries GROUP BY status,
    lease_token IS NOT NULL ORDER BY 1" | tr '\n' ' ')" \
    "FAILED:0:2 PENDING:0:5 PENDING:1:2 SENT:0:3 " \
    "3 SENT, 2 FAILED, 2 leased, 5 PENDING"

# ---- the constraint ---------------------------------------------------
if pg_mode; then
	# PostgreSQL keeps 0003's CHECK: it accepts the same three values
	# and is evaluated in place.
	like "$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint
	    WHERE conrelid = 'deliveries'::regclass AND contype = 'c'
	    AND pg_get_constraintdef(oid) LIKE '%status%'")" \
	    "PENDING.*SENT.*FAILED" "deliveries' CHECK on status"
else
	d=$(sql "SELECT sql FROM sqlite_schema WHERE type = 'table'
	    AND name = 'deliveries'")
	like "$d" "$(printf '%s' "$or_list" | sed 's/[()]/\\&/g')" \
	    "deliveries' CHECK on status: three equalities"
	unlike "$d" "status IN" "  no IN list"
fi

# SQL write on purpose: a status no corp command writes, which the CHECK
# must refuse, on both backends (a table and an insert).
run sql "UPDATE deliveries SET status = 'LOST' WHERE id = 1"
isnt "$rc" 0 "an UPDATE to status LOST is refused"
like "$err" "CHECK constraint failed|violates check constraint" \
    "  by the CHECK"
run sql "UPDATE deliveries SET status = 'sent' WHERE id = 1"
isnt "$rc" 0 "status 'sent' (lower case) is refused"
run sql "INSERT INTO deliveries (event_id, user_id, channel, role, roles,
    priority, template, status, created_at, updated_at) VALUES (1, $eve,
    'email', 'executor', 'executor', 'p2p', 'task_created', '', 0, 0)"
isnt "$rc" 0 "an INSERT with an empty status is refused"
like "$err" "CHECK constraint failed|violates check constraint" \
    "  by the CHECK"
is "$(sql "SELECT status FROM deliveries WHERE id = 1") $(sql "SELECT
    count(*) FROM deliveries")" "SENT 12" "nothing changed"

# The ack's per-row UPDATEs build no ephemeral table any more: the
# statements themselves, from the binary.
if if_sqlite "EXPLAIN of the ack's UPDATEs"; then
	# not SQL: a pattern of the statements found in the binary
	strings -n 8 "$(command -v corp-deliver)" |
	    grep -E '^UPDATE deliveries SET .*status = .*WHERE id = \?1$' |
	    sort -u > "$T/acks"
	n=$(wc -l < "$T/acks" | tr -d ' ')
	ok "the ack's UPDATEs found ($n)" test "$n" -ge 2
	: > "$T/eph"
	while IFS= read -r q; do
		sql "EXPLAIN $q" | grep -q OpenEphemeral &&
		    printf '%s\n' "$q" >> "$T/eph"
	done < "$T/acks"
	is "$(cat "$T/eph")" "" "none opens an ephemeral table"
fi

# ---- 0022 -> 0023 with rows -------------------------------------------
# The database as 0022 left it: made by this corp, then put back to
# what corp before 0023 wrote (no corp tool can make it: each migrates
# on open).  SQLite: the edited tables' text and user_version;
# PostgreSQL: the version alone (0023 changes nothing else there).
old=$(copydb "$(curdb)") || bail "no copy of the database"
if pg_mode; then
	# SQL write on purpose: the schema version corp before 0023 left.
	sql_at "$old" "UPDATE corp_schema SET version = 22"
else
	mkdir -m 700 "$T/m22"
	: > "$T/m22/corp.db"
	CORP_DATA_DIR="$T/m22" corp-db migrate --to 22 >/dev/null ||
	    bail "migrate --to 22"
	# SQL write on purpose: the schema text corp before 0023 left, the
	# text of the tables 0023 and 0024 edit taken from an empty database
	# this corp migrated to 22, written back the way the two write it
	# (the sqlite3 CLI is not in defensive mode).
	sql_at "$old" "ATTACH '$T/m22/corp.db' AS m22;
	    PRAGMA writable_schema = ON;
	    UPDATE main.sqlite_schema AS t SET sql = (SELECT s.sql
	    FROM m22.sqlite_schema s WHERE s.type = 'table'
	    AND s.name = t.name) WHERE type = 'table'
	    AND name IN ('deliveries', 'route_decisions', 'delivery_counters');
	    PRAGMA writable_schema = OFF; PRAGMA user_version = 22;"
	# ... which is what 0022 leaves: that database's schema, entry for
	# entry.
	schema() {
		sql_at "$1" "SELECT type || ' ' || name || ' ' || tbl_name ||
		    ': ' || sql FROM sqlite_schema ORDER BY type, name"
	}
	is "$(schema "$old")" "$(schema "$T/m22/corp.db")" \
	    "the database at 22 has the schema 0022 leaves"
	ok "  and it has the IN list again" sh -c \
	    'sqlite3 "$1" ".schema deliveries" | grep -qF "$2"' sh "$old" \
	    "$in_list"

	# An edit SQLite refuses to read fails the step and changes nothing.
	# No schema corp made gives one: here a copy at 22 gets two last
	# columns (as ALTER TABLE ADD COLUMN appends them) named after the
	# IN list and after the equalities, which 0023's replace makes one
	# name twice.  Without the read-back that text would be committed
	# and no connection could open the file.
	dq() { printf '%s' "$1" | sed "s/'/''/g"; }
	decoy="digest TEXT, \"$or_list\" TEXT, \"$in_list\" TEXT,"
	bad=$(copydb "$old") || bail "no copy of the database"
	# SQL write on purpose: the two columns, a schema the edit breaks.
	sql_at "$bad" "PRAGMA writable_schema = ON;
	    UPDATE sqlite_schema SET sql = replace(sql, 'digest TEXT,',
	    '$(dq "$decoy")') WHERE type = 'table' AND name = 'deliveries';
	    PRAGMA writable_schema = OFF;"
	is "$(sql_at "$bad" "SELECT count(*) FROM pragma_table_info('deliveries')
	    WHERE name LIKE 'CHECK%'")" 2 \
	    "a database at 22 with the two columns opens"
	before=$(schema "$bad")
	CORP_DB=$bad run corp-db migrate
	like "$rc:$err" "^1:corp-db: migration 0023-status-check: malformed database schema \\(deliveries\\) - duplicate column name" \
	    "an edit SQLite refuses: the migration fails (1), says why"
	is "$(sql_at "$bad" "PRAGMA user_version")" 22 "  the database stays at 22"
	is "$(schema "$bad")" "$before" "  its schema as it was"
	is "$(sql_at "$bad" "PRAGMA integrity_check")" ok "  and sound"
	rmdb "$bad"
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
		    WHERE name <> 'deliveries' ORDER BY type, name"
		sql_at "$1" "SELECT name || ' ' || rootpage FROM sqlite_schema
		    WHERE name = 'deliveries'"
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

if if_sqlite "a connection open across the migration"; then
	# A sqlite3 session holds the database open, its schema read, while
	# corp-db migrates: its next statement must see the new schema.
	# Each answer is written to a file, then a marker file after it.
	# (EXPLAIN compiles against the schema the session holds; a query
	# first reads the database's schema_version, and a changed one makes
	# the session read the schema again.)
	mkfifo "$T/fifo"
	bg sh -c 'exec sqlite3 -batch -noheader -cmd ".timeout 30000" "$1" \
	    < "$2" > /dev/null 2>&1' sh "$old" "$T/fifo"
	exec 3>"$T/fifo"
	# not SQL: the statement picked from the binary's, EXPLAINed only
	q=$(grep "^UPDATE deliveries SET status = 'SENT'" "$T/acks")
	ask() {	# ask NAME: EXPLAIN the ack's UPDATE into $T/NAME
		printf 'SELECT count(*) FROM deliveries;\n.once %s\nEXPLAIN %s;\n.once %s\nSELECT 1;\n' \
		    "$T/$1" "$q" "$T/$1.done" >&3
		wait_file "$T/$1.done" 30 "$bgpid" || bail "no answer ($1)"
	}
	ask held.before
	is "$(grep -c OpenEphemeral "$T/held.before")" 1 \
	    "the open session at 22: the IN list's ephemeral table"
	cookie=$(sql_at "$old" "PRAGMA schema_version")
fi

# To 23 alone: 0024 edits other tables' text (tests/0204).
CORP_DB=$old run corp-db migrate --to 23
is "$rc:$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "0:[22,23]" "corp-db migrate --to 23: 22 -> 23"
is "$err" "" "  says nothing on stderr"
if if_sqlite "the open session after the migration"; then
	is "$(sql_at "$old" "PRAGMA schema_version")" $((cookie + 1)) \
	    "schema_version moved on by one"
	ask held.after
	is "$(grep -c OpenEphemeral "$T/held.after")" 0 \
	    "the open session reads the new schema: no ephemeral table"
	exec 3>&-
	wait "$bgpid"
	is "$(sqlite3 "$old" ".schema deliveries" | grep -cF "$or_list")" 1 \
	    "the migrated table has the three equalities"
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

# The queue goes on: the leased rows' lease taken back by the worker's
# ack, the rest drained, each row SENT once.
export CORP_DB="$old"
CORP_NOW=2026-01-05T11:00:00Z corp-deliver pending --channel telegram \
    --limit 100 | ack_all sent | CORP_NOW=2026-01-05T11:00:00Z \
    corp-deliver ack >/dev/null
is "$(sql "SELECT status || ':' || count(*) FROM deliveries GROUP BY status
    ORDER BY status" | tr '\n' ' ')" "FAILED:2 SENT:10 " \
    "drained after the migration: 10 SENT, the 2 FAILED kept"
# SQL write on purpose: the refusal again, on the migrated database.
run sql "UPDATE deliveries SET status = 'LOST' WHERE id = 1"
like "$rc:$err" "^[1-9].*(CHECK constraint failed|violates check constraint)" \
    "the migrated CHECK refuses status LOST"
done_testing
