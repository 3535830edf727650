# tests/acl-oracle.sh -- the visibility rules of DESIGN 3 written a second
# time, independently of lib/visibility.c, as recursive SQL that SQLite and
# PostgreSQL both run (through sql_at of tests/lib.sh).  oracle DB prints
# "task|user|role" lines at business time $now.  oracle DB QUERY judges
# the rows of QUERY instead of the tasks: (id, state, initiator_user_id,
# assignee_user_id, assignee_org_unit_id), e.g. each event's own values.
oracle() {
	sql_at "$1" <<SQL
WITH RECURSIVE
judged(id, state, initiator_user_id, assignee_user_id,
       assignee_org_unit_id) AS (${2:-SELECT id, state, initiator_user_id,
  assignee_user_id, assignee_org_unit_id FROM tasks}),
live(uid) AS (SELECT id FROM users WHERE active = 1),
scope(task, unit) AS (
  SELECT id, assignee_org_unit_id FROM judged WHERE state <> 'DRAFT'
  UNION
  SELECT s.task, o.parent_id FROM scope s JOIN org_units o ON o.id = s.unit
  WHERE o.parent_id IS NOT NULL),
execs(task, uid) AS (
  SELECT id, assignee_user_id FROM judged
  WHERE state <> 'DRAFT' AND assignee_user_id IS NOT NULL
  UNION
  SELECT t.id, u.id FROM judged t, users u
  WHERE t.state <> 'DRAFT' AND t.assignee_user_id IS NULL
  AND u.org_unit_id = t.assignee_org_unit_id AND u.active = 1),
own(task, uid, role) AS (
  SELECT task, uid, 'executor' FROM execs
  UNION
  SELECT id, initiator_user_id, 'initiator' FROM judged
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
  WHERE o.uid IN (SELECT uid FROM live) AND d.revoked_at IS NULL
  AND d.valid_from <= $now AND $now < d.valid_until
  UNION
  SELECT t.id, u.id, 'admin' FROM judged t JOIN users u ON u.is_admin = 1)
SELECT task || '|' || uid || '|' || role FROM every
WHERE uid IN (SELECT uid FROM live);
SQL
}

