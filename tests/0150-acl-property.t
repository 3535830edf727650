#!/bin/sh
# The visibility function against an oracle written here, independently
# (recursive SQL through the sqlite3 CLI, or psql), over random org trees,
# users, delegations around CORP_NOW and tasks in every state.  Compares the
# whole (task, user, role) relation from `corp-task viewers --all` and
# `corp-task list --as U` for a sample of users.
# Replay a failure: CORP_ACL_SEED=<the seed printed below>.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
seed=${CORP_ACL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cases=$(quick 200 50 50)
echo "# seed $seed, $cases cases (CORP_ACL_SEED=$seed to replay)"
/usr/bin/python3 "$CORP_SRC/tests/acl-gen.py" "$seed" "$cases" "$T/c" "$now" ||
    bail "generator failed"
empty=$(copydb "$(curdb)") || bail "no copy of the empty database"

. "$CORP_SRC/tests/acl-oracle.sh"

rows=0
deputies=0
i=0
while [ "$i" -lt "$cases" ]; do
	d="$T/c/$i"
	# A fresh database per case: a stale -wal of the last one never
	# applies.
	db=$(copydb "$empty") || bail "no copy of the empty database"
	if ! CORP_DB=$db corp-user import < "$d/users.jsonl" > /dev/null ||
	    ! sql_at "$db" < "$d/setup.sql"; then
		fail "case $i: loading failed (seed $seed)"
		rmdb "$db"
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
	for u in $(cat "$d/sample"); do
		uid=$(sql_at "$db" "SELECT id FROM users WHERE login = '$u'")
		w=$(printf '%s\n' "$want" | awk -F'|' -v u="$uid" \
		    '$2 == u { print $1 }' | sort -un)
		g=$(CORP_DB=$db corp-task list --as "$u" |
		    sed -n 's/^{"task_id":\([0-9]*\),.*/\1/p')
		[ "$g" = "$w" ] || bad="$bad $u(got [$g] want [$w])"
	done
	is "$bad" "" "case $i: list --as for a sample of users"
	rmdb "$db"
	i=$((i + 1))
done
# Guard against a vacuous run: the cases must exercise the rules.
[ "$rows" -gt $((cases * 5)) ] && pass "relations are not trivial ($rows rows)" ||
    fail "relations are trivial ($rows rows)"
[ "$deputies" -gt 0 ] && pass "deputies occur ($deputies rows)" ||
    fail "no deputy row in any case"
done_testing
