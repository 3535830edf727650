#!/bin/sh
# corp-event route: recipients, decisions, rows, watermark (DESIGN 4).
# Every event comes from a command: corp-task's transitions, corp-event
# emit, corp-msg import (a topic event).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$* failed"; }
# The last event's id, after the command that wrote it.
last() { sql "SELECT max(event_id) FROM events"; }

q corp-task create --as boss --title "Task 1" --assignee ann
ok "route" corp-event route
is "$(printf '%s' "$out" | jq -c '[.events, .recipients, .rows, .decisions.created, .decisions.self, .decisions.disabled, .watermark]')" \
    "[1,4,1,1,1,2,1]" "summary: boss self, ann created, sam and admin disabled"
is "$(sql "SELECT user_id, roles FROM event_recipients ORDER BY user_id" | tr '\n' ' ')" \
    "1|admin $boss|initiator,supervisor $ann|executor $sam|supervisor " \
    "recipients with roles from the one visibility function"
is "$(sql "SELECT user_id, channel, decision, coalesce(role,'-') FROM route_decisions ORDER BY user_id" | tr '\n' ' ')" \
    "1|telegram|disabled|- $boss|telegram|self|initiator $ann|telegram|created|executor $sam|telegram|disabled|- " \
    "one decision per recipient and channel"
is "$(sql "SELECT user_id, channel, role, priority, template, status, readiness FROM deliveries")" \
    "$ann|telegram|executor|p2p|task_created|PENDING|ready" "one row, for created"

ok "route again" corp-event route
is "$(printf '%s' "$out" | jq -c '[.events, .rows]')" "[0,0]" "nothing twice"
# SQL write on purpose: a watermark set back (as a restore of an older
# route_state would) must not route anything twice
sql "UPDATE route_state SET watermark = 0"
ok "route with the watermark reset" corp-event route
is "$(sql "SELECT count(*) FROM deliveries")" 1 "unique keys: no second row"

# A unit task: every active direct member is executor; sam is head of
# sales but also a member, so executor, not supervisor.  Visibility is
# evaluated at route time: bob, deactivated after the task was made but
# before it was routed, gets nothing.
q corp-task create --as boss --title "Task 2" --unit sales
q corp-user deactivate bob
ok "route a unit task" corp-event route
is "$(sql "SELECT user_id, roles FROM event_recipients WHERE event_id = 2 ORDER BY user_id" | tr '\n' ' ')" \
    "1|admin $boss|initiator,supervisor $ann|executor $sam|executor " \
    "members are executors; inactive bob gets nothing; the head member is no supervisor"
is "$(sql "SELECT group_concat(user_id) FROM (SELECT user_id FROM deliveries WHERE event_id = 2 ORDER BY user_id) d")" \
    "$ann,$sam" "boss acted: self"
q corp-task set-due 2 --as admin --due 2026-01-20T16:00:00Z
ok "route the admin's change" corp-event route
is "$(sql "SELECT group_concat(user_id) FROM (SELECT user_id FROM deliveries WHERE event_id = 3 ORDER BY user_id) d")" \
    "$boss,$ann,$sam" "admin acted: boss (initiator) gets it too"
q corp-user set bob --active

# TASK_ASSIGNED reaches the previous executor.
q corp-task assign 1 --as boss --assignee bob
ev=$(last)
ok "route an assignment" corp-event route
is "$(sql "SELECT user_id || ':' || roles FROM event_recipients WHERE event_id = $ev AND user_id IN ($ann, $bob) ORDER BY user_id" | tr '\n' ' ')" \
    "$ann:previous_executor $bob:executor " "previous executor and new executor"
is "$(sql "SELECT user_id || ':' || role || ':' || template FROM deliveries WHERE event_id = $ev ORDER BY user_id" | tr '\n' ' ')" \
    "$ann:previous_executor:task_assigned $bob:executor:task_assigned " "rows for both"

# no bind: not the default channel -> no_bind; default channel -> waits.
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email --enabled
q corp-task create --as boss --title "Task 3" --assignee eve --unit root
eve_ev=$(last)
ok "route to a user with no binds" corp-event route
is "$(sql "SELECT channel || ':' || decision FROM route_decisions WHERE event_id = $eve_ev AND user_id = $eve ORDER BY channel" | tr '\n' ' ')" \
    "email:no_bind telegram:created " "no_bind off the default channel; held on it"
is "$(sql "SELECT readiness, CASE WHEN waiting_since IS NOT NULL THEN 1 END FROM deliveries WHERE event_id = $eve_ev AND user_id = $eve")" \
    "waiting_bind|1" "the row waits for a bind"

# Mutes: ann (an executor of task 2) mutes due-date changes, bob (task
# 1's executor now) mutes telegram.
q corp-settings mute --user ann --event-type TASK_DUE_CHANGED
q corp-settings mute --user bob --channel telegram
q corp-task set-due 2 --as boss --due 2026-01-21T16:00:00Z
e1=$(last)
q corp-task set-due 1 --as boss --due 2026-01-21T16:00:00Z
e2=$(last)
ok "route muted" corp-event route
is "$(sql "SELECT user_id || ':' || decision FROM route_decisions WHERE (event_id = $e1 AND user_id = $ann) OR (event_id = $e2 AND user_id = $bob) ORDER BY event_id" | tr '\n' ' ')" \
    "$ann:muted_type $bob:muted_channel " "muted type and muted channel"

# Quiet hours: 22:00-07:00 in Europe/Kyiv; 10:00Z is 12:00 there
# (outside).  Four more tasks of ann's, cancelled one by one.
for t in 4 5 6 7; do
	q corp-task create --as boss --title "Task $t" --assignee ann
done
q corp-event route
q corp-user set ann --tz Europe/Kyiv
q corp-settings prefs set --user ann --quiet-hours 22:00-07:00
export CORP_NOW=2026-01-05T21:00:00Z
q corp-task cancel 4 --as boss
ev=$(last)
run corp-event route
is "$(sql "SELECT datetime(not_before, 'unixepoch') FROM deliveries WHERE event_id = $ev AND user_id = $ann")" \
    "2026-01-06 05:00:00" "23:00 Kyiv is quiet: not before 07:00 Kyiv (05:00Z)"
is "$(sql "SELECT status, readiness FROM deliveries WHERE event_id = $eve_ev AND user_id = $eve")" \
    "PENDING|waiting_bind" "eve's row still waits for a bind"
# Across the spring DST change (2026-03-29 03:00 -> 04:00 in Kyiv).
export CORP_NOW=2026-03-28T22:00:00Z
q corp-task cancel 5 --as boss
ev=$(last)
run corp-event route
is "$(sql "SELECT datetime(not_before, 'unixepoch') FROM deliveries WHERE event_id = $ev AND user_id = $ann")" \
    "2026-03-29 04:00:00" "on the DST night 07:00 Kyiv is 04:00Z (UTC+3)"
# hold_max_age expires waiting rows.
is "$(sql "SELECT status, error FROM deliveries WHERE event_id = $eve_ev AND user_id = $eve")" \
    "FAILED|expired_unbound" "held past hold_max_age (7d): expired_unbound"
# urgent ignores quiet hours.
q corp-settings notify set --event-type TASK_CANCELLED --role executor \
    --channel telegram --priority urgent
q corp-task cancel 6 --as boss
ev=$(last)
run corp-event route
is "$(sql "SELECT not_before, priority FROM deliveries WHERE event_id = $ev AND user_id = $ann")" \
    "0|urgent" "urgent ignores quiet hours"

# notify_self.
q corp-settings notify set --event-type TASK_CANCELLED --role initiator \
    --channel telegram --notify-self
q corp-task cancel 7 --as boss
ev=$(last)
run corp-event route
is "$(sql "SELECT decision FROM route_decisions WHERE event_id = $ev AND user_id = $boss")" created \
    "notify_self lets the actor have it"
export CORP_NOW=2026-01-05T10:00:00Z

# Emitted events: explicit recipients intersected with the task's
# viewers (task 2: ann is an executor, eve sees nothing of it).
q corp-settings notify set --event-type doc_signed --role reviewer \
    --channel telegram --new-type --new-role
printf '%s\n' '{"idempotency_key":"1","source":"x","event_type":"doc_signed","task_id":2,"recipients":[{"user":"ann","role":"reviewer"},{"user":"eve","role":"reviewer"}]}' |
    q corp-event emit
ev=$(last)
ok "route an emitted event" corp-event route
is "$(printf '%s' "$out" | jq -c '[.refused, .decisions.refused, .rows]')" "[1,1,1]" \
    "eve is not a viewer of task 2: refused"
is "$(sql "SELECT user_id || ':' || decision FROM route_decisions WHERE event_id = $ev ORDER BY user_id" | tr '\n' ' ')" \
    "$ann:created $eve:refused " "decisions"
is "$(sql "SELECT count(*) FROM deliveries WHERE event_id = $ev AND user_id = $eve")" 0 "no row for eve"
# A task-less emitted event goes only to its explicit recipients.
printf '%s\n' '{"idempotency_key":"1","source":"b","event_type":"booking_created","actor":"admin","recipients":[{"user":"ann","role":"client"},{"user":"bob","role":"specialist"},{"user":"admin","role":"admin"}],"payload":{"initiated_by":"admin"}}' |
    q corp-event emit
ev=$(last)
ok "route a booking" corp-event route
is "$(sql "SELECT user_id || ':' || decision || ':' || coalesce(role, '-') FROM route_decisions WHERE event_id = $ev ORDER BY user_id" | tr '\n' ' ')" \
    "1:self:admin $ann:created:client $bob:muted_channel:specialist " \
    "seed 003 matrix: the acting admin is self (bob muted telegram above)"

# Topic events are never routed: a group message stored by corp-msg
# import is one (messages).
printf '%s\n' '{"update_id":1,"message":{"message_id":1,"date":1767607200,"chat":{"id":-1001,"type":"group","title":"Sales"},"from":{"id":5,"is_bot":false,"first_name":"Ann"},"text":"hello"}}' |
    q corp-msg import
is "$(sql "SELECT topic FROM events WHERE event_id = $(last)")" messages "a topic event"
ok "route past a topic event" corp-event route
is "$(printf "%s" "$out" | jq -c "[.events, .recipients, .watermark]")" "[0,0,$(last)]" "skipped, watermark moved"

# --dry-run writes nothing.
q corp-task create --as boss --title "Task 8" --assignee ann
sql .dump > "$T/before.sql"
ok "dry run" corp-event route --dry-run
is "$(printf '%s\n' "$out" | tail -1 | jq -c '[.dry_run, .rows]')" "[true,1]" "reports what it would do"
like "$out" '"decision":"created"' "prints each decision"
sql .dump > "$T/after.sql"
ok "dry run wrote nothing" cmp "$T/before.sql" "$T/after.sql"

is_rc 64 "route takes no arguments" corp-event route extra
corp-settings config set base_url https://corp.example >/dev/null
ok "corp-db check clean" corp-db check
done_testing
