#!/bin/sh
# The visibility function against an oracle written here, independently
# (recursive SQL through the sqlite3 CLI), over random org trees, users,
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
cp "$CORP_DATA_DIR/corp.db" "$T/empty.db"

# The rules of DESIGN 3, in SQL of their own.
oracle() {
	sqlite3 -batch -noheader "$1" <<SQL
WITH RECURSIVE
live(uid) AS (SELECT id FROM users WHERE active = 1),
scope(task, unit) AS (
  SELECT id, assignee_org_unit_id FROM tasks WHERE state <> 'DRAFT'
  UNION
  SELECT s.task, o.parent_id FROM scope s JOIN org_units o ON o.id = s.unit
  WHERE o.parent_id IS NOT NULL),
execs(task, uid) AS (
  SELECT id, assignee_user_id FROM tasks
  WHERE state <> 'DRAFT' AND assignee_user_id IS NOT NULL
  UNION
  SELECT t.id, u.id FROM tasks t, users u
  WHERE t.state <> 'DRAFT' AND t.assignee_user_id IS NULL
  AND u.org_unit_id = t.assignee_org_unit_id AND u.active = 1),
own(task, uid, role) AS (
  SELECT task, uid, 'executor' FROM execs
  UNION
  SELECT id, initiator_user_id, 'initiator' FROM tasks
  WHERE initiator_user_id IS NOT NULL
  UNION
  SELECT s.task, o.head_user_id, 'supervisor' FROM scope s
  JOIN org_units o ON o.id = s.unit
  WHERE o.head_user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM execs e WHERE e.task = s.task
                  AND e.uid = o.head_user_id)),
every(task, uid, role) AS (
  SELECT * FROM own
  UNION
  SELECT o.task, d.deputy_id, 'deputy:' || o.role FROM own o
  JOIN delegations d ON d.principal_id = o.uid
  WHERE o.uid IN live AND d.revoked_at IS NULL
  AND d.valid_from <= $now AND $now < d.valid_until
  UNION
  SELECT t.id, u.id, 'admin' FROM tasks t JOIN users u ON u.is_admin = 1)
SELECT task || '|' || uid || '|' || role FROM every WHERE uid IN live;
SQL
}

rows=0
deputies=0
i=0
while [ "$i" -lt "$cases" ]; do
	d="$T/c/$i"
	db="$T/case.db"
	cp "$T/empty.db" "$db"
	if ! CORP_DB=$db corp-user import < "$d/users.jsonl" > /dev/null ||
	    ! sqlite3 -batch "$db" < "$d/setup.sql"; then
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
	for u in $(cat "$d/sample"); do
		uid=$(sqlite3 "$db" "SELECT id FROM users WHERE login = '$u'")
		w=$(printf '%s\n' "$want" | awk -F'|' -v u="$uid" \
		    '$2 == u { print $1 }' | sort -un)
		g=$(CORP_DB=$db corp-task list --as "$u" |
		    sed -n 's/^{"task_id":\([0-9]*\),.*/\1/p')
		[ "$g" = "$w" ] || bad="$bad $u(got [$g] want [$w])"
	done
	is "$bad" "" "case $i: list --as for a sample of users"
	i=$((i + 1))
done
# Guard against a vacuous run: the cases must exercise the rules.
[ "$rows" -gt $((cases * 5)) ] && pass "relations are not trivial ($rows rows)" ||
    fail "relations are trivial ($rows rows)"
[ "$deputies" -gt 0 ] && pass "deputies occur ($deputies rows)" ||
    fail "no deputy row in any case"
done_testing
