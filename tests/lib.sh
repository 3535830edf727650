# tests/lib.sh -- a small TAP helper for corp's shell tests.
#
#   . "${CORP_SRC:-.}/tests/lib.sh"
#   setup                      # fresh $T, CORP_DATA_DIR, database, admin
#   run corp-db status         # sets $rc, $out (stdout), $err (stderr)
#   is "$rc" 0 "status exits 0"
#   is_rc 65 "bad input" corp-x ...   # run + check exit code
#   like "$err" 'regex' "names the line"
#   done_testing
#
# Counting, not hand-counted plans; a failing check shows what it got and
# does not stop the ones after it.  Each test gets its own temporary data
# dir, removed at exit together with any process started by bg.
#
# PostgreSQL (make check-pg): CORP_TEST_PG names the socket directory of
# a throw-away cluster (tests/pg/cluster).  setup (or testdb) then creates
# a fresh database for the test and exports CORP_DB as its libpq URI,
# postgresql:///NAME?host=$CORP_TEST_PG (no user: the role named after
# the caller, root under make check-pg); every database a test creates
# is dropped at exit (CORP_PG_KEEP=1: kept).  sql reads it with psql,
# the SQLite functions the tests use coming from tests/pg/compat.sql.
# A test, or a part of one, that only makes sense with SQLite says so:
#
#   sqlite_only REASON         # first thing: the whole file is skipped
#   if if_sqlite REASON; then ...; fi    # a block: one skip line instead
#
# HACKING lists the tests so tagged, and why.
set -u
# The fixtures' files (exec.conf, catalogs, secrets) get the modes an
# operator's would, whatever the caller's umask: corp refuses
# configuration that group or others may write (corp.7 SECURITY).
umask 022
: "${CORP_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
export CORP_SRC
export LC_ALL=C.UTF-8
export CORP_SYNCHRONOUS=normal
unset CORP_NOW CORP_DB CORP_TELEGRAM_TOKEN CORP_TELEGRAM_API CORP_TZ \
    CORP_ADMIN_POLICY CORP_RATE_LIMIT CORP_BUSY_TIMEOUT \
    PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS
_n=0
_fail=0
_pids=""
T=$(mktemp -d "${TMPDIR:-/tmp}/corp-test.XXXXXX")
export T
# The prefix of this test's PostgreSQL databases: t_FILE_PID_N.
_pgdb=t_$(basename "$0" .t | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' '_' |
    cut -c1-40)_$$
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do wait "$p" 2>/dev/null; done
	if pg_mode && [ "${CORP_PG_KEEP:-}" != 1 ]; then
		printf '%s\n' "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)',
		    datname) FROM pg_database WHERE left(datname,
		    length('$_pgdb') + 1) = '${_pgdb}_'" '\gexec' |
		    _pgadmin -f - >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap _cleanup EXIT

# Fresh data dir and database with one admin, "admin".
setup() {
	export CORP_DATA_DIR="$T/data"
	mkdir -p "$CORP_DATA_DIR" && chmod 700 "$CORP_DATA_DIR"
	testdb
	corp-db init --admin admin >/dev/null || bail "corp-db init failed"
}

# use_test_bins: the test builds of the programs first on PATH, the
# ones with the fault VFS (CORP_TEST_VFS; make check builds them in
# $CORP_BUILD/test/bin, make install never ships them).
use_test_bins() {
	PATH="$CORP_BUILD/test/bin:$PATH"
	export PATH
}

# pg_mode: true under make check-pg.
pg_mode() {
	[ -n "${CORP_TEST_PG:-}" ]
}

# sqlite_only REASON: under make check-pg, skip the whole test (call it
# before the first check).
sqlite_only() {
	pg_mode || return 0
	if [ "$_n" -eq 0 ]; then
		echo "1..0 # SKIP sqlite-only: $*"
		exit 0
	fi
	skip "sqlite-only: $*"
	done_testing
}

# if if_sqlite REASON; then ...; fi: the block runs with SQLite only;
# under make check-pg it counts as one skipped check.
if_sqlite() {
	pg_mode || return 0
	skip "sqlite-only: $*"
	return 1
}

# The databases.  A database is named the way CORP_DB names it: a file
# (SQLite) or a postgresql:// URI.
#
#   testdb         the test's database: with SQLite CORP_DATA_DIR/corp.db
#                  (CORP_DB stays unset), under check-pg a fresh database
#                  exported as CORP_DB (setup calls it)
#   curdb          prints the current one: $CORP_DB, else the default file
#   newdb          prints a new empty one (SQLite: a file not made yet)
#   copydb DB      prints a new one holding a copy of DB (nobody may be
#                  connected to DB, nor write to it, meanwhile)
#   restoredb DB   makes the current database a copy of DB again
#   rmdb DB        removes DB
testdb() {
	pg_mode || return 0
	CORP_DB=$(newdb) || bail "could not create a PostgreSQL database"
	export CORP_DB
}

curdb() {
	echo "${CORP_DB:-$CORP_DATA_DIR/corp.db}"
}

newdb() {
	_name=$(_dbname)
	if pg_mode; then
		_pgtmpl=corp_tmpl_$(cksum <"$CORP_SRC/tests/pg/compat.sql" |
		    cut -d' ' -f1)
		_pgadmin -c "CREATE DATABASE \"$_name\" TEMPLATE $_pgtmpl" \
		    >/dev/null 2>&1 || {
			_pgtemplate &&
			    _pgadmin -c "CREATE DATABASE \"$_name\" TEMPLATE $_pgtmpl" \
			    >/dev/null
		} || return 1
		_pguri "$_name"
	else
		echo "$T/$_name.db"
	fi
}

# _pgtemplate: the cluster's template of a new test database, template1
# plus tests/pg/compat.sql, named after compat.sql's checksum (a cluster
# kept with CORP_PG_KEEP=1 sees edits): loaded once per run, not once per
# database.  The first test that needs it makes it under a name of its
# own and renames it into place, so a test beside it never copies half of
# one; when another was quicker, its template serves and ours goes.
_pgtemplate() {
	_t=${_pgtmpl}_$$
	_pgadmin -c "DROP DATABASE IF EXISTS $_t" -c "CREATE DATABASE $_t" \
	    >/dev/null && psql -X -q -v ON_ERROR_STOP=1 -d "$(_pguri "$_t")" \
	    -f "$CORP_SRC/tests/pg/compat.sql" >/dev/null || return 1
	_pgadmin -c "ALTER DATABASE $_t RENAME TO $_pgtmpl" >/dev/null 2>&1 ||
	    _pgadmin -c "DROP DATABASE IF EXISTS $_t" >/dev/null
}

copydb() {
	_name=$(_dbname)
	case $1 in
	postgres*:*)
		_pgadmin -c "CREATE DATABASE \"$_name\" TEMPLATE \"$(_pgname "$1")\"" \
		    >/dev/null || return 1
		_pguri "$_name" ;;
	*)
		[ -f "$1" ] || return 1
		sqlite3 -cmd ".timeout 30000" "$1" "PRAGMA wal_checkpoint(TRUNCATE)" \
		    >/dev/null && cp "$1" "$T/$_name.db" || return 1
		echo "$T/$_name.db" ;;
	esac
}

restoredb() {
	_to=$(curdb)
	case $_to in
	postgres*:*)
		_pgadmin -c "DROP DATABASE IF EXISTS \"$(_pgname "$_to")\" WITH (FORCE)" \
		    -c "CREATE DATABASE \"$(_pgname "$_to")\" TEMPLATE \"$(_pgname "$1")\"" \
		    >/dev/null ;;
	*)
		rm -f "$_to-wal" "$_to-shm" && cp "$1" "$_to" ;;
	esac
}

rmdb() {
	case $1 in
	postgres*:*)
		_pgadmin -c "DROP DATABASE IF EXISTS \"$(_pgname "$1")\" WITH (FORCE)" \
		    >/dev/null ;;
	*)
		rm -f "$1" "$1-wal" "$1-shm" ;;
	esac
}

# A new name: t_FILE_PID_N (SQLite: the file $T/t_FILE_PID_N.db).
_dbname() {
	_k=$(($(cat "$T/.dbn" 2>/dev/null || echo 0) + 1))
	echo "$_k" >"$T/.dbn"
	echo "${_pgdb}_$_k"
}

_pguri() {
	echo "postgresql:///$1?host=$CORP_TEST_PG"
}

_pgname() {
	_u=${1#*://}
	_u=${_u#*/}
	echo "${_u%%\?*}"
}

# _pgadmin PSQL-ARGS...: as the cluster's superuser, on its postgres
# database.
_pgadmin() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$CORP_TEST_PG" -d postgres "$@"
}

bail() {
	echo "Bail out! $*"
	exit 255
}

_diag() {
	printf '%s\n' "$@" | sed 's/^/#   /'
}

pass() {
	_n=$((_n + 1))
	echo "ok $_n - $1"
}

fail() {
	_n=$((_n + 1))
	_fail=$((_fail + 1))
	echo "not ok $_n - $1"
	shift
	[ $# -gt 0 ] && _diag "$@"
	return 0
}

# run CMD...: stdout in $out, stderr in $err, status in $rc.
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

# run_in FILE CMD...: like run with stdin from FILE.
run_in() {
	_in=$1
	shift
	"$@" <"$_in" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:      $1" "expected: $2"
	fi
}

isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3" "got unexpected: $1"
	fi
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "got:      $1" "expected to match: $2"
	fi
}

unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		fail "$3" "got:      $1" "expected not to match: $2"
	else
		pass "$3"
	fi
}

# is_rc CODE NAME CMD...: run and check the exit status.
is_rc() {
	_want=$1
	_name=$2
	shift 2
	run "$@"
	if [ "$rc" = "$_want" ]; then
		pass "$_name"
	else
		fail "$_name" "exit $rc, expected $_want" "stdout: $out" \
		    "stderr: $err"
	fi
}

# ok NAME CMD...: the command exits 0.
ok() {
	_name=$1
	shift
	is_rc 0 "$_name" "$@"
}

# sql QUERY...: read the database with the sqlite3 CLI (an independent
# view); the queries, else stdin; .dump for the whole content.
# PostgreSQL: psql, printing as the sqlite3 CLI does ("|" between
# columns, no header, NULL as nothing); each statement commits on its
# own, the first error stops; after an INSERT, the sequences move past
# the largest id, as SQLite's next rowid would; .dump is pg_dump's schema
# and then every row, table by table, in a stable order.
sql() {
	sql_at "$(curdb)" "$@"
}

# sql_at DB QUERY...: sql on another database.
sql_at() {
	_db=$1
	shift
	case $_db in
	postgres*:*) ;;
	*)
		sqlite3 -batch -noheader -cmd ".timeout 30000" "$_db" "$@"
		return ;;
	esac
	if [ $# = 1 ] && [ "$1" = .dump ]; then
		_pgdump "$_db"
		return
	fi
	for _q in "$@"; do
		case $_q in
		.*) echo "sql: $_q: no such command with PostgreSQL" >&2
		    return 1 ;;
		esac
	done
	if [ $# = 0 ]; then
		{ printf '%s ' "$_pg_pre"; cat; echo ";"; echo "$_pg_sync"; } |
		    _psql "$_db"
	else
		_sync=
		case $* in
		*[Ii][Nn][Ss][Ee][Rr][Tt]*) _sync=$_pg_sync ;;
		esac
		{ printf '%s ' "$_pg_pre"; printf '%s\n;\n' "$@"; echo "$_sync"; } |
		    _psql "$_db"
	fi
}

# The sql helper's sessions see the SQLite functions of tests/pg/compat.sql
# after everything else (one line before the caller's first, so psql's
# line numbers are the caller's); sync_sequences follows the inserts.
_pg_pre='DO $$BEGIN PERFORM set_config('"'search_path'"', current_setting('"'search_path'"') || '"', sqlite_compat'"', false); END$$;'
_pg_sync='DO $$BEGIN PERFORM sqlite_compat.sync_sequences(); END$$;'

_psql() {
	psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$1" -f -
}

# _pgdump DB: the schema (pg_dump, without the compatibility functions and
# the random \restrict key of recent versions), then each table's rows in
# a stable order ("TABLE<tab>ROW").  Sequence values are left out: they
# move even in a transaction that rolls back.
_pgdump() {
	pg_dump -d "$1" --schema-only --no-owner --no-privileges \
	    --exclude-schema=sqlite_compat | grep -Ev '^\\(un)?restrict ' &&
	_psql "$1" <<'SQL'
SELECT format('SELECT %L || chr(9) || t::text FROM %I.%I t ORDER BY t::text',
    tablename, schemaname, tablename)
FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema',
    'sqlite_compat') ORDER BY schemaname, tablename
\gexec
SQL
}

# Start a background process that is killed at exit; its pid in $bgpid.
bg() {
	"$@" &
	bgpid=$!
	_pids="$_pids $bgpid"
}

# wait_file PATH [SECONDS [PID]]: bounded poll until PATH exists,
# non-empty; with PID, fails as soon as PID is gone (a server that died
# writes no file), so SECONDS can be a generous last resort.
wait_file() {
	_i=0
	_max=$(( ${2:-20} * 20 ))
	while [ ! -s "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -gt "$_max" ] && return 1
		[ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && [ ! -s "$1" ] &&
		    return 1
		sleep 0.05
	done
	return 0
}

skip() {
	_n=$((_n + 1))
	echo "ok $_n # skip $1"
}

done_testing() {
	echo "1..$_n"
	[ "$_fail" -eq 0 ] || exit 1
	exit 0
}

# quick N SAN [PG]: a loop count, N, or SAN in sanitizer builds (slower),
# or PG under check-pg when given (a loop that creates a database per
# round: CREATE DATABASE costs what a file copy does not).
quick() {
	if [ -n "${3:-}" ] && pg_mode; then echo "$3"
	elif [ "${CORP_SANITIZE:-}" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# ann_on_file: unit sales, user ann in it bound to the file channel (the
# default channel), TASK_CREATED to executors on file: each task created
# for ann routes to one row on the file channel.
ann_on_file() {
	corp-org add sales --title Sales >/dev/null || bail "org"
	corp-user add ann --name Ann --unit sales >/dev/null || bail "user"
	corp-bind add --user ann --channel file --address ann >/dev/null ||
	    bail "bind"
	corp-settings config set default_channel file >/dev/null ||
	    bail "default_channel"
	corp-settings notify set --event-type TASK_CREATED --role executor \
	    --channel file >/dev/null || bail "setting"
}
