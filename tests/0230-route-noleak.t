#!/bin/sh
# No leak (DESIGN 4): over random directories (the ACL property
# generator), routing creates a delivery row exactly for the users in
# the viewer set of each event's own values at route time -- plus the
# previous executor of a TASK_ASSIGNED -- and explicit recipients of an
# emitted event outside the task's viewers are refused.  The viewer set
# comes from the independent oracle of tests/acl-oracle.sh.
# Replay a failure: CORP_ACL_SEED=<the seed printed below>.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/acl-oracle.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
seed=${CORP_ACL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cases=$(quick 60 15 20)
echo "# seed $seed, $cases cases (CORP_ACL_SEED=$seed to replay)"
/usr/bin/python3 "$CORP_SRC/tests/acl-gen.py" "$seed" "$cases" "$T/c" "$now" ||
    bail "generator failed"
empty=$(copydb "$(curdb)") || bail "no copy of the empty database"

# everybody: the explicit recipients of the emitted events, every user
# as a watcher (built here: JSON in SQL differs between the backends).
everybody() {
	sql_at "$db" "SELECT id FROM users ORDER BY id" |
	    jq -R -s -c 'split("\n") | map(select(length > 0) |
	    {user_id: tonumber, role: "watcher"})'
}

# Every role enabled and notify_self on, so every viewer must get a row.
events_sql() {
	cat <<SQL
BEGIN;
DELETE FROM notification_settings;
INSERT INTO notification_settings
  SELECT t.v, r.v, 'telegram', 1, 'p2p', lower(t.v), 1
  FROM (SELECT 'TASK_CREATED' v UNION SELECT 'TASK_ASSIGNED'
        UNION SELECT 'note') t,
       (SELECT 'executor' v UNION SELECT 'initiator' UNION SELECT 'supervisor'
        UNION SELECT 'admin' UNION SELECT 'previous_executor'
        UNION SELECT 'watcher') r;
INSERT INTO binds SELECT id, 'telegram', CAST(9000 + id AS TEXT), 1, 0, 0
  FROM users;
INSERT INTO events (event_type, occurred_at, task_id, actor_user_id,
    initiator_user_id, assignee_user_id, assignee_org_unit_id, title,
    trace_id, dedupe_key)
  SELECT 'TASK_CREATED', $now, id, NULL, initiator_user_id, assignee_user_id,
    assignee_org_unit_id, title, 'c' || id, 'c:' || id
  FROM tasks WHERE state <> 'DRAFT';
-- Reassignments: the previous executor is a user, or a whole unit.
INSERT INTO events (event_type, occurred_at, task_id, actor_user_id,
    initiator_user_id, assignee_user_id, assignee_org_unit_id,
    previous_assignee_user_id, previous_assignee_org_unit_id, title,
    trace_id, dedupe_key)
  SELECT 'TASK_ASSIGNED', $now, id, NULL, initiator_user_id, assignee_user_id,
    assignee_org_unit_id,
    CASE WHEN id % 2 = 0 THEN (SELECT max(id) FROM users) END,
    CASE WHEN id % 2 = 1 THEN (SELECT min(id) FROM org_units) END,
    title, 'a' || id, 'a:' || id
  FROM tasks WHERE state <> 'DRAFT';
-- An emitted event naming each task, addressed to everybody.
INSERT INTO events (event_type, occurred_at, task_id, initiator_user_id,
    assignee_user_id, assignee_org_unit_id, title, trace_id, dedupe_key,
    source, recipients)
  SELECT 'note', $now, id, initiator_user_id, assignee_user_id,
    assignee_org_unit_id, title, 'n' || id, 'emit:t:' || id, 't',
    '$(everybody)'
  FROM tasks WHERE state <> 'DRAFT';
COMMIT;
SQL
}

rows=0
refused=0
i=0
while [ "$i" -lt "$cases" ]; do
	d="$T/c/$i"
	# A fresh database per case: a stale -wal of the last one never
	# applies.  SQLite: $empty, checkpointed by copydb and never opened
	# since, copied as it is (one process a case, not three).
	if pg_mode; then
		db=$(copydb "$empty") || bail "no copy of the empty database"
	else
		db=$T/case-$i.db
		cp "$empty" "$db" || bail "no copy of the empty database"
	fi
	if ! CORP_DB=$db corp-user import < "$d/users.jsonl" > /dev/null ||
	    ! sql_at "$db" < "$d/setup.sql" ||
	    ! events_sql | sql_at "$db"; then
		fail "case $i: loading failed (seed $seed)"
		rmdb "$db"
		i=$((i + 1))
		continue
	fi
	# The oracle's relation as a table (no .import: psql has none).
	# SQL write on purpose: the test's own table, none of corp's.
	{
		echo "BEGIN;"
		echo "CREATE TABLE oracle (task INTEGER, uid INTEGER, role TEXT);"
		oracle "$db" | awk -F'|' -v q="'" '{ printf \
		    "INSERT INTO oracle VALUES (%d, %d, %s%s%s);\n",
		    $1, $2, q, $3, q }'
		echo "COMMIT;"
	} | sql_at "$db"
	CORP_DB=$db run corp-event route
	is "$rc" 0 "case $i: route"
	# Allowed: the viewers of the task, plus the previous executors of
	# a TASK_ASSIGNED (the user, else the unit's active members).
	r=$(sql_at "$db" "
CREATE TEMP VIEW allowed(event_id, user_id) AS
  SELECT e.event_id, o.uid FROM events e JOIN oracle o ON o.task = e.task_id
  UNION
  SELECT e.event_id, u.id FROM events e JOIN users u ON u.active = 1
  WHERE e.event_type = 'TASK_ASSIGNED' AND (u.id = e.previous_assignee_user_id
    OR (e.previous_assignee_user_id IS NULL
        AND u.org_unit_id = e.previous_assignee_org_unit_id));
SELECT
 (SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM allowed a
   WHERE a.event_id = d.event_id AND a.user_id = d.user_id)),
 (SELECT count(*) FROM allowed a JOIN events e ON e.event_id = a.event_id
   WHERE e.event_type <> 'note' AND NOT EXISTS (SELECT 1 FROM deliveries d
   WHERE d.event_id = a.event_id AND d.user_id = a.user_id)),
 (SELECT count(*) FROM route_decisions r JOIN events e
   ON e.event_id = r.event_id WHERE e.event_type = 'note'
   AND r.decision = 'refused' AND EXISTS (SELECT 1 FROM allowed a
   WHERE a.event_id = r.event_id AND a.user_id = r.user_id)),
 (SELECT count(*) FROM events e CROSS JOIN users u WHERE e.event_type = 'note'
   AND NOT EXISTS (SELECT 1 FROM allowed a WHERE a.event_id = e.event_id
   AND a.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM route_decisions r
   WHERE r.event_id = e.event_id AND r.user_id = u.id
   AND r.decision = 'refused')),
 (SELECT count(*) FROM deliveries),
 (SELECT count(*) FROM route_decisions WHERE decision = 'refused')")
	IFS='|' read -r c1 c2 c3 c4 c5 c6 <<EOF
$r
EOF
	is "$c1|$c2|$c3|$c4" "0|0|0|0" \
	    "case $i: rows exactly for the allowed users; outsiders refused (seed $seed)"
	rows=$((rows + ${c5:-0}))
	refused=$((refused + ${c6:-0}))
	rmdb "$db"
	i=$((i + 1))
done
[ "$rows" -gt $((cases * 10)) ] && pass "rows are not trivial ($rows)" ||
    fail "rows are trivial ($rows)"
[ "$refused" -gt 0 ] && pass "refusals occur ($refused)" ||
    fail "no explicit recipient was ever refused"
done_testing
