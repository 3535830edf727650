#!/bin/sh
# corp-db: init, migrate, status, check, backup; modes; exit codes.  On
# both backends (make check-pg: a PostgreSQL database of its own).
. "${CORP_SRC:-.}/tests/lib.sh"

export CORP_DATA_DIR="$T/data"
latest=$(ls "$CORP_SRC"/lib/sql/[0-9]*.sql | wc -l)
testdb

# The schema version, read past corp: user_version, or corp_schema.
version_of() {
	case $1 in
	postgres*:*) sql_at "$1" "SELECT version FROM corp_schema" ;;
	*) sql_at "$1" "PRAGMA user_version" ;;
	esac
}
# SQL write on purpose: a schema version set by hand, the state an
# older or a newer corp leaves, which no command of this one makes.
set_version() {
	case $1 in
	postgres*:*) sql_at "$1" "UPDATE corp_schema SET version = $2" ;;
	*) sql_at "$1" "PRAGMA user_version = $2" ;;
	esac
}

is_rc 67 "a tool on a missing database says not found" corp-db status
# The backends' own words: no file, or a database without corp's schema.
like "$err" "(no database here|no corp schema in this database); run corp-db init" \
    "and how to fix it"

umask 000
ok "init creates the database" corp-db init
is "$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "[0,$latest]" "init reports the migration"
if if_sqlite "modes of the data dir and of the database file"; then
	is "$(stat -c %a "$CORP_DATA_DIR")" 700 "data dir is 0700"
	is "$(stat -c %a "$CORP_DATA_DIR/corp.db")" 600 "database is 0600 whatever the umask"
fi
ok "init again is idempotent" corp-db init
is "$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "[$latest,$latest]" "nothing to do the second time"

if if_sqlite "the -wal and -shm files"; then
	# -wal and -shm exist while a connection is open: hold one open.
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
	is "$(sql "PRAGMA journal_mode")" wal "WAL mode"
else
	ok "init --admin writes" corp-db init --admin boss
fi
umask 077

is "$(sql "SELECT login, is_admin, active FROM users")" "boss|1|1" \
    "init --admin creates an active admin"
ok "init --admin is idempotent" corp-db init --admin boss
is "$(sql "SELECT count(*) FROM users")" 1 "still one user"
ok "boss demoted and deactivated" corp-user set boss --no-admin --inactive
ok "init --admin makes an existing user an active admin" corp-db init --admin boss
is "$(sql "SELECT is_admin, active FROM users")" "1|1" "admin and active again"
is_rc 65 "a bad login is invalid input" corp-db init --admin 'no spaces'

ok "status" corp-db status
is "$(printf '%s' "$out" | jq -r --arg db "$(curdb)" '.schema_version ==
    .latest_version and .tables.users == 1 and (.size > 0) and .path == $db')" \
    true "status JSON"
# wal_size: the -wal file; PostgreSQL's log is the cluster's, not the
# database's: null.
if pg_mode; then w=null; else w=number; fi
is "$(printf '%s' "$out" | jq -r '.wal_size | type')" "$w" "wal_size"
ok "migrate with nothing to do" corp-db migrate
is "$(printf '%s' "$out" | jq -c '[.from_version, .schema_version]')" \
    "[$latest,$latest]" "says so"

# Migrations from empty and from each earlier version.  SQLite: an empty
# file is at version 0.  A PostgreSQL database is at version 0 only
# inside init (other verbs say "run corp-db init"), so there each earlier
# version is where an init stopped: a table in the way of step v+1.
v=1
while pg_mode && [ "$v" -lt "$latest" ]; do
	m=$(newdb)
	f=$(ls "$CORP_SRC"/lib/sql/[0-9]*.sql | sed -n "$((v + 1))p")
	tab=$(sed -n 's/^CREATE TABLE \([a-z_]*\).*/\1/p' "$f" | head -1)
	if [ -z "$tab" ]; then
		# A step that only alters tables has no table to put in its
		# way, so no init stops just before it.
		skip "step $((v + 1)) ($(basename "$f" .sql)) creates no table"
		rmdb "$m"
		v=$((v + 1))
		continue
	fi
	# SQL write on purpose: a table in the way stops init at step v.
	sql_at "$m" "CREATE TABLE $tab (x integer)"
	run env CORP_DB="$m" corp-db init
	like "$rc:$err" "^1:.*migration $(basename "$f" .sql)" \
	    "an init stopped by a table in the way of step $((v + 1))"
	is "$(version_of "$m")" "$v" "left it at version $v"
	sql_at "$m" "DROP TABLE $tab"
	run env CORP_DB="$m" corp-db migrate
	is "$rc:$(printf '%s' "$out" | jq -c '[.from_version,.schema_version]')" \
	    "0:[$v,$latest]" "migrate from version $v to $latest"
	run env CORP_DB="$m" corp-db check
	is "$rc" 0 "check clean after migrating from $v"
	rmdb "$m"
	v=$((v + 1))
done
while ! pg_mode && [ "$v" -lt "$latest" ]; do
	rm -rf "$T/m"; mkdir "$T/m"
	CORP_DATA_DIR="$T/m" corp-db init >/dev/null 2>&1
	rm -f "$T/m/corp.db"*
	: > "$T/m/corp.db"
	CORP_DATA_DIR="$T/m" run corp-db migrate --to "$v"
	is "$rc:$(printf '%s' "$out" | jq .schema_version)" "0:$v" \
	    "migrate --to $v from empty"
	CORP_DATA_DIR="$T/m" run corp-db migrate
	is "$rc:$(printf '%s' "$out" | jq -c '[.from_version,.schema_version]')" \
	    "0:[$v,$latest]" "migrate from version $v to $latest"
	CORP_DATA_DIR="$T/m" run corp-db check
	is "$rc" 0 "check clean after migrating from $v"
	v=$((v + 1))
done

# A newer schema is refused, never "upgraded" down.
new=$(copydb "$(curdb)")
set_version "$new" 999
is_rc 79 "a newer schema is refused" corp-db status --db "$new"
like "$err" "schema version 999 is newer than this corp" "says why"
is "$(version_of "$new")" 999 "left as it was"

ok "check on a sound database" corp-db check
is "$(printf '%s\n' "$out" | jq -s 'all(.ok or .severity == "warning")')" true "every check ok"

if if_sqlite "a database file corrupted on purpose"; then
	# A deliberately corrupted copy: check fails and says what.
	corp-db backup "$T/c.db" >/dev/null
	/usr/bin/python3 - "$T/c.db" <<'PY'
import sys
p = sys.argv[1]
with open(p, 'r+b') as f:
    f.seek(4096 * 2)
    f.write(b'\xde\xad\xbe\xef' * 64)
PY
	run corp-db check --db "$T/c.db"
	isnt "$rc" 0 "check fails on a corrupted copy"
	like "$err" "corrupt|malformed|integrity|Page|page" "and names the problem"
fi

# backup: consistent, 0600, never overwrites.  SQLite: a database file;
# PostgreSQL: pg_dump's custom format, for pg_restore.
is_rc 0 "backup" corp-db backup "$T/b.db"
is "$(printf '%s' "$out" | jq -c --arg db "$(curdb)" '[.path == $db, .backup]')" \
    "[true,\"$T/b.db\"]" "the backup line"
is "$(stat -c %a "$T/b.db")" 600 "backup is 0600"
if pg_mode; then
	ok "pg_restore reads it" pg_restore --list "$T/b.db"
	# Into a database without tests/pg/compat.sql, which the dump holds.
	r=$(_pguri "$(_dbname)")
	_pgadmin -c "CREATE DATABASE \"$(_pgname "$r")\"" >/dev/null
	ok "pg_restore restores it" pg_restore --no-owner -d "$r" "$T/b.db"
	is "$(sql_at "$r" "SELECT login FROM users")" boss "backup has the rows"
	is "$(CORP_DB=$r corp-db check 2>/dev/null | jq -s 'all(.ok or .severity == "warning")')" true \
	    "and checks clean"
else
	is "$(sqlite3 "$T/b.db" "SELECT login FROM users")" boss "backup has the rows"
fi
is "$(ls "$T" | grep -c '^b\.db.')" 0 "no temporary file left"
is_rc 79 "backup refuses an existing file" corp-db backup "$T/b.db"
like "$err" "file exists" "says why"
is_rc 1 "backup into a missing directory fails" corp-db backup "$T/no/b.db"
# SQLite (and pg_dump) reopen FILE by its name after corp-db claimed it:
# whoever may write its directory could swap in their own file and get
# the whole database (sec-review-9 item 2).  FILE's path is walked as
# corp-send file --out's is: a directory others may write is refused,
# unless it is sticky and root's (only an entry's owner may replace it).
mkdir -m 777 "$T/pub"
chmod 777 "$T/pub"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$T/pub"	# the other user's directory
	is_rc 77 "backup into another user's world-writable directory: refused" \
	    corp-db backup "$T/pub/x.db"
	is "$err" "corp-db: $T/pub/x.db: $T/pub: owned by nobody (uid $(id -u nobody)), not by root, who runs corp; chown root $T/pub" \
	    "  naming the directory and the fix"
	chown root "$T/pub"
fi
is_rc 77 "backup into a world-writable directory: refused" \
    corp-db backup "$T/pub/x.db"
is "$err" "corp-db: $T/pub/x.db: $T/pub: world-writable (mode 777); chmod go-w $T/pub" \
    "  naming the directory and the fix"
mkdir "$T/pub/sub"
is_rc 77 "a world-writable directory on the way: refused too" \
    corp-db backup "$T/pub/sub/x.db"
is "$(ls -A "$T/pub" | tr '\n' ' ')" "sub " "  and no file is made there"
mkdir -m 700 "$T/priv"
is_rc 0 "backup into a private directory" corp-db backup "$T/priv/x.db"
is "$(stat -c %a "$T/priv/x.db")" 600 "  0600"
# A sticky directory root owns (as /tmp): pg_dump writes FILE alone, so
# on PostgreSQL it is taken; SQLite writes the copy through FILE-journal
# by name, which another user may have made there first (fresh-eyes
# round 14), so on SQLite it is refused as the database's own is.
if [ "$(id -u)" = 0 ]; then
	mkdir -m 1777 "$T/sticky"
	chmod 1777 "$T/sticky"
	if pg_mode; then
		is_rc 0 "PostgreSQL: backup into a sticky directory root owns (as /tmp)" \
		    corp-db backup "$T/sticky/x.db"
		is "$(stat -c %a:%U "$T/sticky/x.db")" 600:root "  0600, root's"
		ls -A "$T/sticky" | grep -v '^x\.db$' >"$T/sticky.left"
		is "$(cat "$T/sticky.left")" "" "  and nothing beside it"
	else
		is_rc 77 "SQLite: backup into a sticky directory others may write: refused" \
		    corp-db backup "$T/sticky/x.db"
		is "$err" "corp-db: $T/sticky/x.db: $T/sticky: a sticky directory others may make names in (mode 1777): SQLite would use a -wal, -shm or -journal file another user made there first; keep the database in a directory only you (or root) may write (mkdir -m 700 DIR)" \
		    "  naming the directory and the fix"
		is "$(ls -A "$T/sticky")" "" "  and nothing left there"
	fi
else
	skip "a sticky directory root owns needs root"
fi
if pg_mode; then
	# pg_dump gets the connection through its environment, never in
	# argv, which ps shows to every user; a failure leaves no file.
	mkdir "$T/bin"
	{
		echo '#!/bin/sh'
		echo "printf '%s\\n' \"\$@\" >'$T/argv'"
		echo "env | grep '^PG' | sort >'$T/env'"
		echo 'echo "pg_dump: error: no thanks" >&2'
		echo 'exit 1'
	} >"$T/bin/pg_dump"
	chmod +x "$T/bin/pg_dump"
	name=$(_pgname "$CORP_DB")
	pwuri="postgresql://$(id -un):Sekr1tPw@/$name?host=$CORP_TEST_PG"
	PATH="$T/bin:$PATH" CORP_DB=$pwuri run corp-db backup "$T/f.db"
	is "$rc" 1 "a failing pg_dump fails the backup"
	like "$err" "pg_dump: error: no thanks" "pg_dump's own words pass"
	like "$err" "corp-db: backup: pg_dump failed \(exit 1\)" "and ours"
	ok "no file left" test ! -e "$T/f.db"
	is "$(ls "$T" | grep -c '^f\.db')" 0 "nor a temporary one"
	unlike "$(cat "$T/argv")" "Sekr1tPw|$name|$CORP_TEST_PG" \
	    "argv holds no connection parameter"
	like "$(cat "$T/argv")" "^--format=custom" "argv: the format"
	is "$(grep -E '^PG(PASSWORD|DATABASE|HOST|USER)=' "$T/env" | tr '\n' ' ')" \
	    "PGDATABASE=$name PGHOST=$CORP_TEST_PG PGPASSWORD=Sekr1tPw PGUSER=$(id -un) " \
	    "the environment has them"
	is_rc 64 "a password in --db is refused" corp-db backup "$T/g.db" \
	    --db "$pwuri"
	unlike "$err" "Sekr1tPw" "and not shown"
	# pg_dump gets the minimal child environment and the connection,
	# nothing else of corp's: no secret of corp's own (corp.7 SECURITY).
	{
		echo '#!/bin/sh'
		echo "env >'$T/env'"
		echo 'for a; do case $a in --file=*) : >"${a#--file=}" ;; esac; done'
	} >"$T/bin/pg_dump"
	PATH="$T/bin:$PATH" CORP_TELEGRAM_TOKEN=777:AAtoken_Secret \
	    CORP_SMTP_PASSWORD=smtpSecret CORP_OPENAI_KEY=sk-openaiSecret \
	    CORP_TZ=UTC SOME_APP_SECRET=appSecret run corp-db backup "$T/h.db"
	is "$rc" 0 "backup with a pg_dump that records its environment"
	is "$(grep -v -E '^(PATH|HOME|LANG|LC_[A-Z]+|TZ|PG[A-Z]+|PWD|OLDPWD|SHLVL|_)=' \
	    "$T/env")" "" \
	    "pg_dump's environment: PATH, HOME, the locale, TZ and PG* only"
	unlike "$(cat "$T/env")" "Secret|secret" "no secret of corp's reaches it"
	is "$(grep -E '^PG(DATABASE|HOST)=' "$T/env" | tr '\n' ' ')" \
	    "PGDATABASE=$name PGHOST=$CORP_TEST_PG " \
	    "it reaches the database corp uses"
	# The library reports a pg_dump that cannot run; nothing else prints.
	chmod -x "$T/bin/pg_dump"
	run env PATH="$T/bin" "$CORP_BUILD/bin/corp-db" backup "$T/i.db"
	is "$rc:$err" "1:corp-db: backup: cannot run pg_dump: Permission denied" \
	    "a pg_dump that cannot run: one line, from corp-db"
	run env PATH="$T/nowhere" "$CORP_BUILD/bin/corp-db" backup "$T/i.db"
	is "$rc:$err" "1:corp-db: backup: pg_dump: not found (install the PostgreSQL client)" \
	    "none at all: one line, from corp-db"
	ok "no file left" test ! -e "$T/i.db"
fi

# Usage and output errors.
is_rc 64 "unknown verb is usage" corp-db frobnicate
like "$err" "unknown command 'frobnicate'" "names it"
is_rc 64 "no verb is usage" corp-db
is_rc 64 "unknown option is usage" corp-db status --bogus
is_rc 0 "--help" corp-db --help
like "$out" "usage: corp-db init" "--help prints the synopsis to stdout"
like "$out" "corp-db migrate-to postgresql://" "--help has migrate-to"
is_rc 0 "--version" corp-db --version
like "$out" "^corp-db [0-9]" "--version"
run sh -c 'corp-db status > /dev/full'
is "$rc" 1 "status > /dev/full fails"
like "$err" "stdout: No space left on device" "with a clear message"
is_rc 64 "bad CORP_SYNCHRONOUS is usage" env CORP_SYNCHRONOUS=sometimes corp-db status
is_rc 64 "bad --now is usage" corp-db status --now yesterday

# A password on the command line is refused and never shown, also when
# libpq cannot parse the string (its message quotes what it read).
for a in "postgresql://u:Sekr1tPw@h/db" "host=h password=Sekr1tPw" \
    "postgresql://u:Sekr1tPw%zz@h/db" "postgresql://u:Sekr1tPw@[::1/db" \
    "host=h Sekr1tPw"; do
	is_rc 64 "--db $a" corp-db status --db "$a"
	unlike "$err" Sekr1tPw "--db $a: not shown"
	is_rc 64 "migrate-to $a" corp-db migrate-to "$a"
	unlike "$err" Sekr1tPw "migrate-to $a: not shown"
done
like "$err" "bad PostgreSQL connection string: missing \"=\" after \"...\"" \
    "libpq's words are kept, its quotes of the value not"
# Every option libpq treats as a secret, in both forms, not only
# password (sec-review-4 item 3).
for a in "postgresql:///x?sslpassword=Sekr1tPw" \
    "host=/tmp dbname=x sslpassword=Sekr1tPw"; do
	is_rc 64 "--db $a" corp-db status --db "$a"
	is "$err" "corp-db: --db: the secret sslpassword in the connection string is refused, since the command line is visible to every user; set CORP_DB in the environment or use a PostgreSQL passfile (PGPASSFILE)" \
	    "--db $a: names the option, not its value"
	is_rc 64 "migrate-to $a" corp-db migrate-to "$a"
	unlike "$err" Sekr1tPw "migrate-to $a: not shown"
done
like "$err" "migrate-to: the secret sslpassword in the connection string is refused" \
    "migrate-to says so"
# In CORP_DB a password is allowed (the environment is not the process
# list), but a string libpq cannot parse is still 64 and not quoted.
for a in "postgresql://u:Sekr1tPw%zz@h/db" "host=h password=Sekr1tPw bogus=1" \
    "host=h Sekr1tPw"; do
	is_rc 64 "CORP_DB=$a" env CORP_DB="$a" corp-db status
	unlike "$err" Sekr1tPw "CORP_DB=$a: not shown"
done
# A password with an unencoded '/' parses as a port and a database name:
# neither is shown, nor libpq's quote of them.
run env CORP_DB="postgresql://u:Sekr1t/Pw@h/db" corp-db status
is "$rc" 75 "a URI libpq reads otherwise: cannot connect (75)"
unlike "$err" 'Sekr1t|Pw@' "and no piece of the password is shown"
is_rc 64 "migrate-to into what is not PostgreSQL" corp-db migrate-to \
    "postgres:/u:Sekr1tPw@h/db"
like "$err" "the target is not a PostgreSQL database" "says so"
unlike "$err" Sekr1tPw "without echoing it"

# libpq is loaded only for a PostgreSQL database (lib/pg.c): no program
# needs it to start, so a SQLite host without libpq5 runs every tool,
# and a PostgreSQL database without it is a configuration error (78)
# that names the library and its package.
if command -v readelf >/dev/null; then
	for p in "$CORP_BUILD"/bin/corp-*; do
		unlike "$(readelf -d "$p")" "libpq" "${p##*/} does not link libpq"
	done
	# Nor libcrypto (~3 M instructions of relocation) nor libcurl
	# (~9 M) where a tool needs neither (HACKING, rand.h).  corp-user
	# needs libcrypto since its API tokens (random bytes, SHA-256).
	for t in corp-cursor corp-deliver corp-event corp-fmt corp-sched \
	    corp-task corp-org corp-template; do
		unlike "$(readelf -d "$CORP_BUILD/bin/$t")" "libcrypto|libcurl" \
		    "$t links neither libcrypto nor libcurl"
	done
else
	skip "no readelf"
fi
for db in "postgresql://u@h/db" "host=h dbname=db"; do
	run env CORP_TEST_LIBPQ="$T/none/libpq.so.5" CORP_DB="$db" \
	    corp-db status
	is "$rc" 78 "CORP_DB=$db without libpq: a configuration error"
	is "$err" "corp-db: a PostgreSQL database needs libpq, which cannot be loaded: $T/none/libpq.so.5: cannot open shared object file: No such file or directory; install libpq (the Debian package libpq5)" \
	    "names the library and the package"
done
run env CORP_TEST_LIBPQ="$T/none/libpq.so.5" corp-user list \
    --db "postgresql://u@h/db"
is "$rc:$err" "78:corp-user: a PostgreSQL database needs libpq, which cannot be loaded: $T/none/libpq.so.5: cannot open shared object file: No such file or directory; install libpq (the Debian package libpq5)" \
    "--db too, in another tool"
run env CORP_TEST_LIBPQ=libc.so.6 CORP_DB="postgresql://u@h/db" \
    corp-deliver pending --channel telegram --peek
is "$rc:$err" "78:corp-deliver: a PostgreSQL database needs libpq, which cannot be loaded: libc.so.6: no PQbackendPID; install libpq (the Debian package libpq5)" \
    "a library without libpq's functions: the first one missing"
ok "SQLite needs no libpq" env CORP_TEST_LIBPQ="$T/none/libpq.so.5" \
    CORP_DB="$T/nolibpq.db" corp-db init
# The file named is walked as a command's is before it is loaded
# (loading it runs its code): one others may write, or in a directory
# others may write, is refused, 77 (sec-review-21a F8).
mkdir -m 755 "$T/pq"
printf 'int corp_not_libpq;\n' > "$T/pq/x.c"
cc -shared -fPIC -o "$T/pq/libc.so.6" "$T/pq/x.c" ||
    bail "cc failed for a library"
chmod 644 "$T/pq/libc.so.6"
run env CORP_TEST_LIBPQ="$T/pq/libc.so.6" CORP_DB="postgresql://u@h/db" \
    corp-db status
is "$rc:$err" "78:corp-db: a PostgreSQL database needs libpq, which cannot be loaded: $T/pq/libc.so.6: no PQbackendPID; install libpq (the Debian package libpq5)" \
    "CORP_TEST_LIBPQ the operator's: loaded (here without libpq's functions)"
chmod 666 "$T/pq/libc.so.6"
run env CORP_TEST_LIBPQ="$T/pq/libc.so.6" CORP_DB="postgresql://u@h/db" \
    corp-db status
is "$rc:$err" "77:corp-db: CORP_TEST_LIBPQ $T/pq/libc.so.6: $T/pq/libc.so.6: world-writable (mode 666); chmod go-w $T/pq/libc.so.6" \
    "CORP_TEST_LIBPQ others may write: refused (77), never loaded"
chmod 644 "$T/pq/libc.so.6"
chmod 777 "$T/pq"
run env CORP_TEST_LIBPQ="$T/pq/libc.so.6" CORP_DB="postgresql://u@h/db" \
    corp-db status
like "$rc:$err" "^77:corp-db: CORP_TEST_LIBPQ $T/pq/libc.so.6: .*$T/pq: world-writable" \
    "CORP_TEST_LIBPQ in a directory others may write: refused (77)"
chmod 755 "$T/pq"

# A world-writable data dir is refused (the default database is in it).
mkdir -p "$T/ww" && chmod 777 "$T/ww"
is_rc 77 "world-writable data dir refused" \
    env -u CORP_DB CORP_DATA_DIR="$T/ww" corp-db init
like "$err" "world-writable" "says why"

done_testing
