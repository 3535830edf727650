#!/bin/sh
# corp-db: init, migrate, status, check, backup; modes; exit codes.
. "${CORP_SRC:-.}/tests/lib.sh"

export CORP_DATA_DIR="$T/data"
testdb
latest=$(ls "$CORP_SRC"/lib/sql/[0-9]*.sql | wc -l)

if if_sqlite "a missing database file"; then
	is_rc 67 "a tool on a missing database says not found" corp-db status
	like "$err" "no database here; run corp-db init" "and how to fix it"
fi

umask 000
ok "init creates the database" corp-db init
is "$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "[0,$latest]" "init reports the migration"
is "$(stat -c %a "$CORP_DATA_DIR")" 700 "data dir is 0700"
if if_sqlite "the mode of the database file"; then
	is "$(stat -c %a "$CORP_DATA_DIR/corp.db")" 600 "database is 0600 whatever the umask"
fi
ok "init again is idempotent" corp-db init
is "$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "[$latest,$latest]" "nothing to do the second time"

# -wal and -shm exist while a connection is open: hold one open.
if if_sqlite "the modes of -wal and -shm, WAL mode"; then
	mkfifo "$T/fifo"
	bg sh -c 'exec sqlite3 -cmd ".timeout 30000" "$1" < "$2" > /dev/null' sh "$CORP_DATA_DIR/corp.db" \
	    "$T/fifo"
	exec 3>"$T/fifo"
	echo "SELECT count(*) FROM config;" >&3
	ok "init --admin writes" corp-db init --admin boss
	is "$(stat -c %a "$CORP_DATA_DIR/corp.db-wal")" 600 "-wal is 0600"
	is "$(stat -c %a "$CORP_DATA_DIR/corp.db-shm")" 600 "-shm is 0600"
	exec 3>&-
	wait "$bgpid"
	umask 077
	is "$(sql "PRAGMA journal_mode")" wal "WAL mode"
else
	ok "init --admin writes" corp-db init --admin boss
	umask 077
fi

is "$(sql "SELECT login, is_admin, active FROM users")" "boss|1|1" \
    "init --admin creates an active admin"
ok "init --admin is idempotent" corp-db init --admin boss
is "$(sql "SELECT count(*) FROM users")" 1 "still one user"
sql "UPDATE users SET is_admin = 0, active = 0"
ok "init --admin makes an existing user an active admin" corp-db init --admin boss
is "$(sql "SELECT is_admin, active FROM users")" "1|1" "admin and active again"
is_rc 65 "a bad login is invalid input" corp-db init --admin 'no spaces'

ok "status" corp-db status
is "$(printf '%s' "$out" | jq -r '.schema_version == .latest_version and
    .tables.users == 1 and (.size > 0)')" true "status JSON"

# Migrations from empty and from each earlier version (an empty
# database file; with PostgreSQL an empty database).
v=1
while [ "$v" -lt "$latest" ]; do
	rm -rf "$T/m"; mkdir "$T/m"
	if pg_mode; then
		m=$(newdb)
	else
		CORP_DATA_DIR="$T/m" corp-db init >/dev/null 2>&1
		rm -f "$T/m/corp.db"*
		: > "$T/m/corp.db"
		m="$T/m/corp.db"
	fi
	CORP_DATA_DIR="$T/m" run corp-db migrate --db "$m" --to "$v"
	is "$rc:$(printf '%s' "$out" | jq .schema_version)" "0:$v" \
	    "migrate --to $v from empty"
	CORP_DATA_DIR="$T/m" run corp-db migrate --db "$m"
	is "$rc:$(printf '%s' "$out" | jq -c '[.from_version,.schema_version]')" \
	    "0:[$v,$latest]" "migrate from version $v to $latest"
	CORP_DATA_DIR="$T/m" run corp-db check --db "$m"
	is "$rc" 0 "check clean after migrating from $v"
	pg_mode && rmdb "$m"
	v=$((v + 1))
done

# A newer schema is refused, never "upgraded" down.
if pg_mode; then
	setv="UPDATE corp_schema SET version = 999"
	getv="SELECT version FROM corp_schema"
else
	setv="PRAGMA user_version = 999"
	getv="PRAGMA user_version"
fi
new=$(copydb "$(curdb)")
sql_at "$new" "$setv"
is_rc 79 "a newer schema is refused" corp-db status --db "$new"
like "$err" "schema version 999 is newer than this corp" "says why"
is "$(sql_at "$new" "$getv")" 999 "left as it was"

ok "check on a sound database" corp-db check
is "$(printf '%s\n' "$out" | jq -s 'all(.ok)')" true "every check ok"

# A deliberately corrupted copy: check fails and says what.
if if_sqlite "a corrupted database file; backup writes a SQLite file"; then
	corp-db backup "$T/c.db" >/dev/null
	python3 - "$T/c.db" <<-'PY'
	import sys
	p = sys.argv[1]
	with open(p, 'r+b') as f:
	    f.seek(4096 * 2)
	    f.write(b'\xde\xad\xbe\xef' * 64)
	PY
	run corp-db check --db "$T/c.db"
	isnt "$rc" 0 "check fails on a corrupted copy"
	like "$err" "corrupt|malformed|integrity|Page|page" "and names the problem"

	# backup: consistent, 0600, never overwrites.
	is_rc 0 "backup" corp-db backup "$T/b.db"
	is "$(stat -c %a "$T/b.db")" 600 "backup is 0600"
	is "$(sqlite3 "$T/b.db" "SELECT login FROM users")" boss "backup has the rows"
	is_rc 79 "backup refuses an existing file" corp-db backup "$T/b.db"
	like "$err" "file exists" "says why"
	is_rc 1 "backup into a missing directory fails" corp-db backup "$T/no/b.db"
fi

# Usage and output errors.
is_rc 64 "unknown verb is usage" corp-db frobnicate
like "$err" "unknown command 'frobnicate'" "names it"
is_rc 64 "no verb is usage" corp-db
is_rc 64 "unknown option is usage" corp-db status --bogus
is_rc 0 "--help" corp-db --help
like "$out" "usage: corp-db init" "--help prints the synopsis to stdout"
is_rc 0 "--version" corp-db --version
like "$out" "^corp-db [0-9]" "--version"
run sh -c 'corp-db status > /dev/full'
is "$rc" 1 "status > /dev/full fails"
like "$err" "stdout: No space left on device" "with a clear message"
is_rc 64 "bad CORP_SYNCHRONOUS is usage" env CORP_SYNCHRONOUS=sometimes corp-db status
is_rc 64 "bad --now is usage" corp-db status --now yesterday

# A world-writable data dir is refused.
mkdir -p "$T/ww" && chmod 777 "$T/ww"
is_rc 77 "world-writable data dir refused" env CORP_DATA_DIR="$T/ww" corp-db init
like "$err" "world-writable" "says why"

done_testing
