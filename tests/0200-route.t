#!/bin/sh
# corp-event route: recipients, decisions, rows, watermark (DESIGN 4).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

fixture_task 1 10 11 2
fixture_event TASK_CREATED 1 10 10 11 2
ok "route" corp-event route
is "$(printf '%s' "$out" | jq -c '[.events, .recipients, .rows, .decisions.created, .decisions.self, .decisions.disabled, .watermark]')" \
    "[1,4,1,1,1,2,1]" "summary: boss self, ann created, sam and admin disabled"
is "$(sql "SELECT user_id, roles FROM event_recipients ORDER BY user_id" | tr '\n' ' ')" \
    "1|admin 10|initiator,supervisor 11|executor 14|supervisor " \
    "recipients with roles from the one visibility function"
is "$(sql "SELECT user_id, channel, decision, coalesce(role,'-') FROM route_decisions ORDER BY user_id" | tr '\n' ' ')" \
    "1|telegram|disabled|- 10|telegram|self|initiator 11|telegram|created|executor 14|telegram|disabled|- " \
    "one decision per recipient and channel"
is "$(sql "SELECT user_id, channel, role, priority, template, status, readiness FROM deliveries")" \
    "11|telegram|executor|p2p|task_created|PENDING|ready" "one row, for created"

ok "route again" corp-event route
is "$(printf '%s' "$out" | jq -c '[.events, .rows]')" "[0,0]" "nothing twice"
sql "UPDATE route_state SET watermark = 0"
ok "route with the watermark reset" corp-event route
is "$(sql "SELECT count(*) FROM deliveries")" 1 "unique keys: no second row"

# A unit task: every active direct member is executor; sam is head of
# sales but also a member, so executor, not supervisor.
fixture_task 2 10 NULL 2
sql "UPDATE users SET active = 0 WHERE login = 'bob'"
fixture_event TASK_CREATED 2 1 10 NULL 2
ok "route a unit task" corp-event route
is "$(sql "SELECT user_id, roles FROM event_recipients WHERE event_id = 2 ORDER BY user_id" | tr '\n' ' ')" \
    "1|admin 10|initiator,supervisor 11|executor 14|executor " \
    "members are executors; inactive bob gets nothing; the head member is no supervisor"
is "$(sql "SELECT group_concat(user_id) FROM (SELECT user_id FROM deliveries
    WHERE event_id = 2 ORDER BY user_id) AS d")" "10,11,14" \
    "admin acted: boss (initiator) gets it too"
sql "UPDATE users SET active = 1 WHERE login = 'bob'"

# TASK_ASSIGNED reaches the previous executor.
fixture_event TASK_ASSIGNED 1 10 10 12 2 11 2
ok "route an assignment" corp-event route
is "$(sql "SELECT user_id || ':' || roles FROM event_recipients WHERE event_id = 3 AND user_id IN (11, 12) ORDER BY user_id" | tr '\n' ' ')" \
    "11:previous_executor 12:executor " "previous executor and new executor"
is "$(sql "SELECT user_id || ':' || role || ':' || template FROM deliveries WHERE event_id = 3 ORDER BY user_id" | tr '\n' ' ')" \
    "11:previous_executor:task_assigned 12:executor:task_assigned " "rows for both"

# no bind: not the default channel -> no_bind; default channel -> waits.
sql "INSERT INTO notification_settings VALUES ('TASK_CREATED', 'executor', 'email', 1, 'p2p', 'task_created', 0)"
fixture_task 3 10 13 1
fixture_event TASK_CREATED 3 10 10 13 1
ok "route to a user with no binds" corp-event route
is "$(sql "SELECT channel || ':' || decision FROM route_decisions WHERE event_id = 4 AND user_id = 13 ORDER BY channel" | tr '\n' ' ')" \
    "email:no_bind telegram:created " "no_bind off the default channel; held on it"
is "$(sql "SELECT readiness, CAST(waiting_since IS NOT NULL AS INTEGER) FROM deliveries WHERE event_id = 4 AND user_id = 13")" \
    "waiting_bind|1" "the row waits for a bind"

# Mutes.
sql "INSERT INTO user_mutes VALUES (11, 'event_type', 'TASK_DUE_CHANGED'), (12, 'channel', 'telegram')"
fixture_event TASK_DUE_CHANGED 1 10 10 11 2
fixture_event TASK_DUE_CHANGED 1 10 10 12 2
ok "route muted" corp-event route
is "$(sql "SELECT user_id || ':' || decision FROM route_decisions WHERE event_id IN (5, 6) AND user_id IN (11, 12) ORDER BY event_id" | tr '\n' ' ')" \
    "11:muted_type 12:muted_channel " "muted type and muted channel"

# Quiet hours: 22:00-07:00 in Europe/Kyiv; 10:00Z is 12:00 there (outside).
sql "INSERT INTO user_prefs VALUES (11, 1320, 420); UPDATE users SET tz = 'Europe/Kyiv' WHERE id = 11"
CORP_NOW=2026-01-05T21:00:00Z fixture_event TASK_CANCELLED 1 10 10 11 2
CORP_NOW=2026-01-05T21:00:00Z run corp-event route
is "$(sql "SELECT datetime(not_before, 'unixepoch') FROM deliveries WHERE event_id = 7 AND user_id = 11")" \
    "2026-01-06 05:00:00" "23:00 Kyiv is quiet: not before 07:00 Kyiv (05:00Z)"
# Across the spring DST change (2026-03-29 03:00 -> 04:00 in Kyiv).
fixture_event TASK_CANCELLED 1 10 10 11 2
CORP_NOW=2026-03-28T22:00:00Z run corp-event route
is "$(sql "SELECT datetime(not_before, 'unixepoch') FROM deliveries WHERE event_id = 8 AND user_id = 11")" \
    "2026-03-29 04:00:00" "on the DST night 07:00 Kyiv is 04:00Z (UTC+3)"
# urgent ignores quiet hours.
sql "UPDATE notification_settings SET priority = 'urgent' WHERE event_type = 'TASK_CANCELLED' AND role = 'executor'"
fixture_event TASK_CANCELLED 1 10 10 11 2
CORP_NOW=2026-01-05T21:00:00Z run corp-event route
is "$(sql "SELECT not_before, priority FROM deliveries WHERE event_id = 9 AND user_id = 11")" \
    "0|urgent" "urgent ignores quiet hours"

# notify_self.
sql "UPDATE notification_settings SET notify_self = 1 WHERE event_type = 'TASK_CANCELLED' AND role = 'initiator'"
fixture_event TASK_CANCELLED 1 10 10 11 2
run corp-event route
is "$(sql "SELECT decision FROM route_decisions WHERE event_id = 10 AND user_id = 10")" created \
    "notify_self lets the actor have it"

# Emitted events: explicit recipients intersected with the task's viewers.
sql "INSERT INTO notification_settings VALUES ('doc_signed', 'reviewer', 'telegram', 1, 'p2p', 'doc_signed', 0)"
sql "INSERT INTO events (event_type, occurred_at, task_id, trace_id, dedupe_key, source, recipients)
    VALUES ('doc_signed', 1767225600, 1, 'tr', 'emit:x:1', 'x', '[{\"user_id\":11,\"role\":\"reviewer\"},{\"user_id\":13,\"role\":\"reviewer\"}]')"
ok "route an emitted event" corp-event route
is "$(printf '%s' "$out" | jq -c '[.refused, .decisions.refused, .rows]')" "[1,1,1]" \
    "eve is not a viewer of task 1: refused"
is "$(sql "SELECT user_id || ':' || decision FROM route_decisions WHERE event_id = 11 ORDER BY user_id" | tr '\n' ' ')" \
    "11:created 13:refused " "decisions"
is "$(sql "SELECT count(*) FROM deliveries WHERE event_id = 11 AND user_id = 13")" 0 "no row for eve"
# A task-less emitted event goes only to its explicit recipients.
sql "INSERT INTO events (event_type, occurred_at, trace_id, dedupe_key, source, recipients, payload, actor_user_id)
    VALUES ('booking_created', 1767225600, 'tb', 'emit:b:1', 'b', '[{\"user_id\":11,\"role\":\"client\"},{\"user_id\":12,\"role\":\"specialist\"},{\"user_id\":1,\"role\":\"admin\"}]', '{\"initiated_by\":\"admin\"}', 1)"
ok "route a booking" corp-event route
is "$(sql "SELECT user_id || ':' || decision || ':' || coalesce(role, '-') FROM route_decisions WHERE event_id = 12 ORDER BY user_id" | tr '\n' ' ')" \
    "1:self:admin 11:created:client 12:muted_channel:specialist " \
    "seed 003 matrix: the acting admin is self (bob muted telegram above)"

# Topic events are never routed.
sql "INSERT INTO events (event_type, topic, occurred_at, trace_id, dedupe_key) VALUES ('run_started', 'analysis_runs', 0, 't', 'topic:1')"
ok "route past a topic event" corp-event route
is "$(printf "%s" "$out" | jq -c "[.events, .recipients, .watermark]")" "[0,0,13]" "skipped, watermark moved"

# --dry-run writes nothing.
fixture_event TASK_CREATED 1 10 10 11 2
sql .dump > "$T/before.sql"
ok "dry run" corp-event route --dry-run
is "$(printf '%s\n' "$out" | tail -1 | jq -c '[.dry_run, .rows]')" "[true,1]" "reports what it would do"
like "$out" '"decision":"created"' "prints each decision"
sql .dump > "$T/after.sql"
ok "dry run wrote nothing" cmp "$T/before.sql" "$T/after.sql"

# hold_max_age expires waiting rows.
CORP_NOW=2026-02-01T00:00:00Z run corp-event route
is "$(sql "SELECT status, error FROM deliveries WHERE event_id = 4 AND user_id = 13")" \
    "FAILED|expired_unbound" "held past hold_max_age (7d): expired_unbound"

is_rc 64 "route takes no arguments" corp-event route extra
ok "corp-db check clean" corp-db check
done_testing
