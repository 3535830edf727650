#!/bin/sh
# No leak (DESIGN 4): over random directories (the ACL property
# generator, built with corp's commands), routing creates a delivery row
# exactly for the users in the viewer set of each event's own values at
# route time -- plus the previous executor of a TASK_ASSIGNED -- and
# explicit recipients of an emitted event outside the task's viewers are
# refused.  The viewer set
# comes from the independent oracle of tests/acl-oracle.sh.
# Replay a failure: CORP_ACL_SEED=<the seed printed below>.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/acl-oracle.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
seed=${CORP_ACL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# A case is built by some 33 runs of corp's commands (acl-gen.py), three
# to four times the CPU of when SQL wrote it: 30 cases, not 60, keep the
# file near twice its old cost.  Each run draws a new seed; CORP_ACL_SEED
# replays one.
cases=$(quick 30 8 10)
echo "# seed $seed, $cases cases (CORP_ACL_SEED=$seed to replay)"
/usr/bin/python3 "$CORP_SRC/tests/acl-gen.py" "$seed" "$cases" "$T/c" "$now" ||
    bail "generator failed"
# Every role enabled with notify_self on, for every type the commands
# of acl-gen.py write and for the emitted "note", so every viewer must get
# a row: set once, in the database each case starts from.  No binds: the
# default channel (telegram) gets a row, held, for an unbound user too.
for type in TASK_CREATED TASK_ASSIGNED REPORT_SUBMITTED APPROVED \
    TASK_CANCELLED note; do
	for role in executor initiator supervisor admin previous_executor \
	    watcher; do
		set -- --event-type "$type" --role "$role" --channel telegram \
		    --enabled --priority p2p --notify-self
		[ "$type" = note ] && set -- "$@" --new-type
		[ "$role" = watcher ] && set -- "$@" --new-role
		corp-settings notify set "$@" > /dev/null ||
		    bail "notify set $type $role failed"
	done
done
empty=$(copydb "$(curdb)") || bail "no copy of the empty database"

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
	# The case's events: those of its tasks' commands, and a "note"
	# per task that is no draft addressed to every user (acl-gen.py).
	if ! CORP_DB=$db sh -e "$d/setup.sh" ||
	    ! CORP_DB=$db corp-event emit < "$d/notes.jsonl" > /dev/null; then
		fail "case $i: loading failed (seed $seed)"
		rmdb "$db"
		i=$((i + 1))
		continue
	fi
	# The oracle's relation for each event's own values (the task's
	# state as it is now, as route reads it), as a table (no .import:
	# psql has none).
	# SQL write on purpose: the test's own table, none of corp's.
	{
		echo "BEGIN;"
		echo "CREATE TABLE oracle (ev INTEGER, uid INTEGER, role TEXT);"
		oracle "$db" "SELECT e.event_id, t.state, e.initiator_user_id,
		    e.assignee_user_id, e.assignee_org_unit_id
		    FROM events e JOIN tasks t ON t.id = e.task_id" |
		    awk -F'|' -v q="'" '{ printf \
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
  SELECT ev, uid FROM oracle
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
