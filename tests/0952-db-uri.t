#!/bin/sh
# A database name that looks like a URI (corp.7 "CORP_DB"): a PostgreSQL
# scheme in any case is PostgreSQL (RFC 3986: schemes are
# case-insensitive); any other SCHEME://, one with a blank before it, and
# SCHEME:...@ are refused (64) without echoing what follows the scheme.
# Before (sec-review-17a finding 4) each was a SQLite file name and
# "no database here" printed it, password included.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
PW=pgpass123
nowhere="host=$T/nowhere"

# dbrun DESC RC SPEC: the spec given with --db and as CORP_DB, both
# exiting RC, the password in neither's output.
dbrun() {
	is_rc "$2" "$1 (--db)" corp-db check --db "$3"
	unlike "$out$err" "$PW" "  the password is not printed"
	_e1=$(printf '%s\n' "$err" | sed 's/^corp-db: --db: //')
	is_rc "$2" "$1 (CORP_DB)" env CORP_DB="$3" corp-db check
	unlike "$out$err" "$PW" "  the password is not printed"
	_e2=$(printf '%s\n' "$err" | sed 's/^corp-db: CORP_DB: //')
}

dbrun "a blank before a PostgreSQL URI" 64 \
    " postgresql://postgres:$PW@127.0.0.1:5432/corp17"
is "$_e1" "a blank before the URI postgresql://...: remove it" \
    "  named, not echoed"
is "$_e2" "$_e1" "  the same from CORP_DB"
dbrun "another scheme" 64 "mysql://root:$PW@db.example/corp"
is "$_e1" "mysql://...: not a URI corp knows; a PostgreSQL database is postgresql://... or postgres://... (in any case), a SQLite database a file name" \
    "  the scheme named, nothing after it"
is "$_e2" "$_e1" "  the same from CORP_DB"
dbrun "file:// is no file name" 64 "file://u:$PW@host/x.db"
dbrun "a user part without the slashes" 64 \
    "postgresql:postgres:$PW@127.0.0.1/corp17"
is "$_e1" "postgresql:...@...: looks like a URI with a user part; a PostgreSQL database is postgresql://USER@HOST/DB" \
    "  named, not echoed"
dbrun "a long scheme is not echoed" 64 \
    "$(head -c 40 /dev/zero | tr '\0' s)://u:$PW@h/d"
is "$_e1" "SCHEME://...: not a URI corp knows; a PostgreSQL database is postgresql://... or postgres://... (in any case), a SQLite database a file name" \
    "  SCHEME in its place"

# The PostgreSQL scheme in another case is PostgreSQL: with --db its
# password is refused as in lower case, from CORP_DB it is used (the
# server is not there: no file name, no password printed).
for s in POSTGRESQL Postgresql POSTGRES; do
	is_rc 64 "$s:// with a password on the command line" corp-db check \
	    --db "$s://postgres:$PW@/corp17?$nowhere"
	is "$err" "corp-db: --db: the secret password in the connection string is refused, since the command line is visible to every user; set CORP_DB in the environment or use a PostgreSQL passfile (PGPASSFILE)" \
	    "  refused as postgresql:// is"
	run env CORP_DB="$s://postgres:$PW@/corp17?$nowhere" corp-db check
	isnt "$rc" 67 "$s:// from CORP_DB: not a SQLite file"
	like "$err" "^corp-db: postgresql://postgres@/corp17\\?host=$T/nowhere: " \
	    "  named as PostgreSQL, without the password"
done

# What stays a file name.
is_rc 67 "file:NAME with an @ is still a file name" \
    env CORP_DB="file:x@y.db" corp-user list
is "$err" "corp-user: file:x@y.db: no database here; run corp-db init" \
    "  as before"
is_rc 67 "a name with a colon and no @ is a file name" \
    env CORP_DB="$T/a:b.db" corp-user list

if pg_mode; then
	up=$(printf '%s' "$CORP_DB" | sed 's|^postgresql://|POSTGRESQL://|')
	isnt "$up" "$CORP_DB" "(the test database's URI, in upper case)"
	is_rc 0 "POSTGRESQL:// opens the test database" \
	    corp-user list --db "$up"
	is "$(printf '%s\n' "$out" | jq -r .login)" admin "  its user"
else
	skip "the test database in another case: PostgreSQL only"
fi
done_testing
