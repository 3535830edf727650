#!/bin/sh
# The visibility function against an oracle written here, independently
# (recursive SQL through the sql helper), over random org trees, users,
# delegations around CORP_NOW and tasks in every state.  Compares the
# whole (task, user, role) relation from `corp-task viewers --all` and
# `corp-task list --as U` for a sample of users.
# Replay a failure: CORP_ACL_SEED=<the seed printed below>.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
seed=${CORP_ACL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cases=$(quick 200 50)
echo "# seed $seed, $cases cases (CORP_ACL_SEED=$seed to replay)"
/usr/bin/python3 "$CORP_SRC/tests/acl-gen.py" "$seed" "$cases" "$T/c" "$now" ||
    bail "generator failed"
empty=$(copydb "$(curdb)") || bail "copydb failed"

. "$CORP_SRC/tests/acl-oracle.sh"

# fresh: $db is an empty database again, as corp-db init left it.  SQLite:
# a new copy (a new name: a stale -wal of the last one never applies).
# PostgreSQL: a CREATE DATABASE per case would take most of the run, so
# one case database is emptied of what a case writes (users but the admin,
# units, delegations, tasks), its ids starting over as in a new copy.
db=""
# SQL write on purpose: emptying the case database of what the case
# loaded (PostgreSQL), as a fresh copy would be; no state is built here.
fresh() {
	if pg_mode && [ -n "$db" ]; then
		sql_at "$db" "DELETE FROM tasks" "DELETE FROM delegations" \
		    "UPDATE org_units SET head_user_id = NULL" \
		    "DELETE FROM users WHERE id > 1" "DELETE FROM org_units" \
		    "SELECT setval(pg_get_serial_sequence('users', 'id'), 1)" \
		    "SELECT setval(pg_get_serial_sequence(t, 'id'), 1, false)
		    FROM (VALUES ('tasks'), ('delegations'), ('org_units')) v(t)" \
		    >/dev/null || bail "emptying the case database failed"
		return
	fi
	[ -z "$db" ] || rmdb "$db"
	db=$(copydb "$empty") || bail "copydb failed"
}

rows=0
deputies=0
i=0
while [ "$i" -lt "$cases" ]; do
	d="$T/c/$i"
	fresh
	if ! CORP_DB=$db corp-user import < "$d/users.jsonl" > /dev/null ||
	    ! sql_at "$db" < "$d/setup.sql" > /dev/null; then
		fail "case $i: loading failed (seed $seed)"
		i=$((i + 1))
		continue
	fi
	want=$(oracle "$db" | LC_ALL=C sort)
	got=$(CORP_DB=$db corp-task viewers --all | sed \
	    's/^{"task_id":\([0-9]*\),"user_id":\([0-9]*\),"role":"\([^"]*\)"}$/\1|\2|\3/' |
	    LC_ALL=C sort)
	is "$got" "$want" "case $i: the viewer relation (seed $seed)"
	rows=$((rows + $(printf '%s\n' "$want" | grep -c .)))
	deputies=$((deputies + $(printf '%s\n' "$want" | grep -c deputy:)))
	bad=""
	ids=$(sql_at "$db" "SELECT login || '|' || id FROM users")
	for u in $(cat "$d/sample"); do
		uid=$(printf '%s\n' "$ids" | awk -F'|' -v l="$u" \
		    '$1 == l { print $2 }')
		w=$(printf '%s\n' "$want" | awk -F'|' -v u="$uid" \
		    '$2 == u { print $1 }' | sort -un)
		g=$(CORP_DB=$db corp-task list --as "$u" |
		    sed -n 's/^{"task_id":\([0-9]*\),.*/\1/p')
		[ "$g" = "$w" ] || bad="$bad $u(got [$g] want [$w])"
	done
	is "$bad" "" "case $i: list --as for a sample of users"
	i=$((i + 1))
done
rmdb "$db"
# Guard against a vacuous run: the cases must exercise the rules.
[ "$rows" -gt $((cases * 5)) ] && pass "relations are not trivial ($rows rows)" ||
    fail "relations are trivial ($rows rows)"
[ "$deputies" -gt 0 ] && pass "deputies occur ($deputies rows)" ||
    fail "no deputy row in any case"
done_testing
