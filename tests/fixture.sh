# tests/fixture.sh -- a small company loaded straight into the database
# with the sqlite3 CLI, for tests of routing and the queue.
#
#   root (head boss) -> sales (head sam) -> [ann, bob]; eve has no unit
#   admin is user 1 (corp-db init --admin admin)
fixture_company() {
	sql "
INSERT INTO org_units (id, name, title, created_at, updated_at)
    VALUES (1, 'root', 'Root', 0, 0), (2, 'sales', 'Sales', 0, 0);
UPDATE org_units SET parent_id = 1 WHERE id = 2;
INSERT INTO users (id, login, name, org_unit_id, created_at, updated_at)
    VALUES (10, 'boss', 'Boss', 1, 0, 0), (11, 'ann', 'Ann', 2, 0, 0),
    (12, 'bob', 'Bob', 2, 0, 0), (13, 'eve', 'Eve', NULL, 0, 0),
    (14, 'sam', 'Sam', 2, 0, 0);
UPDATE org_units SET head_user_id = 10 WHERE id = 1;
UPDATE org_units SET head_user_id = 14 WHERE id = 2;
INSERT INTO binds (user_id, channel, address, active, created_at, updated_at)
    VALUES (10, 'telegram', '1010', 1, 0, 0), (11, 'telegram', '1011', 1, 0, 0),
    (12, 'telegram', '1012', 1, 0, 0), (14, 'telegram', '1014', 1, 0, 0);
"
}

# fixture_task ID INITIATOR ASSIGNEE_USER|NULL UNIT
fixture_task() {
	sql "INSERT INTO tasks (id, title, state, initiator_user_id,
	    assignee_user_id, assignee_org_unit_id, created_at, updated_at)
	    VALUES ($1, 'Task $1', 'OPEN', $2, $3, $4, 0, 0)"
}

# fixture_event TYPE TASK ACTOR INITIATOR ASSIGNEE_USER|NULL UNIT [PREV_USER PREV_UNIT]
fixture_event() {
	sql "INSERT INTO events (event_type, occurred_at, task_id, actor_user_id,
	    initiator_user_id, assignee_user_id, assignee_org_unit_id,
	    previous_assignee_user_id, previous_assignee_org_unit_id, title,
	    trace_id, dedupe_key) VALUES ('$1', 1767225600, $2, $3, $4, $5, $6,
	    ${7:-NULL}, ${8:-NULL}, 'Task $2', lower(hex(randomblob(8))),
	    'fx:' || lower(hex(randomblob(8))))"
}

# A test sender: every line acked with the given result.
ack_all() {
	jq -c --arg r "${1:-sent}" '. + {result: $r, provider_message_id: "p\(.delivery_id)"}'
}
