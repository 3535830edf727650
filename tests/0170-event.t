#!/bin/sh
# corp-event: the event JSON of each transition, list filters and --as,
# show, tail --follow streaming new commits, emit.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add hq --head admin >/dev/null
corp-org add team --parent hq >/dev/null
corp-user add ann --unit team >/dev/null
corp-user add bob --unit team >/dev/null
corp-user add eve >/dev/null

t=$(corp-task create --as admin --title "T" --assignee ann \
    --due 2026-03-05T18:00:00Z | jq .task_id)
corp-task assign "$t" --as admin --assignee bob >/dev/null
corp-task set-due "$t" --as admin --due 2026-03-06T18:00:00Z >/dev/null
corp-task submit "$t" --as bob --text done --link https://x/r >/dev/null
corp-task reject "$t" --as admin --reason "not yet" >/dev/null
corp-task submit "$t" --as bob --text again >/dev/null
corp-task approve "$t" --as admin >/dev/null
t2=$(corp-task create --as ann --title c --unit team | jq .task_id)
corp-task cancel "$t2" --as ann --reason dup >/dev/null

ok "list" corp-event list
is "$(printf '%s\n' "$out" | jq -r '[.event_id, .event_type, .state,
    .task_version] | @tsv')" "1	TASK_CREATED	OPEN	1
2	TASK_ASSIGNED	OPEN	2
3	TASK_DUE_CHANGED	OPEN	3
4	REPORT_SUBMITTED	WAITING_APPROVAL	4
5	REJECTED	OPEN	5
6	REPORT_SUBMITTED	WAITING_APPROVAL	6
7	APPROVED	DONE	7
8	TASK_CREATED	OPEN	1
9	TASK_CANCELLED	CANCELLED	2" "every transition, in order, with versions"
is "$(printf '%s\n' "$out" | sed -n 2p | jq -c '{previous_assignee_user_id,
    previous_assignee_org_unit_id, assignee_user_id, actor_user_id}')" \
    '{"previous_assignee_user_id":2,"previous_assignee_org_unit_id":2,"assignee_user_id":3,"actor_user_id":1}' \
    "TASK_ASSIGNED carries the previous assignee"
is "$(printf '%s\n' "$out" | sed -n 5p | jq -c '{reason, report_id, links}')" \
    '{"reason":"not yet","report_id":1,"links":{"task":"/tasks/1","report":"/tasks/1/report","report_version":"/tasks/1/reports/1"}}' \
    "REJECTED carries reason, report and links"
is "$(printf '%s\n' "$out" | sed -n 3p | jq -r .due_at)" \
    2026-03-06T18:00:00Z "TASK_DUE_CHANGED carries the new due_at"
is "$(printf '%s\n' "$out" | jq -r .dedupe_key 2>/dev/null | sort -u)" null \
    "the dedupe key is not part of the line"
is "$(sql "SELECT group_concat(dedupe_key, ' ') FROM events")" \
    "task:1:v1 task:1:v2 task:1:v3 task:1:v4 task:1:v5 task:1:v6 task:1:v7 task:2:v1 task:2:v2" \
    "dedupe keys task:{id}:v{version}"

is "$(corp-event list --task "$t2" | jq -s length)" 2 "--task"
is "$(corp-event list --type APPROVED | jq -c '[.event_id]')" "[7]" "--type"
is "$(corp-event list --after 7 | jq -s -c 'map(.event_id)')" "[8,9]" "--after"
is "$(corp-event list --limit 2 | jq -s length)" 2 "--limit"
is "$(corp-event list --since 2026-03-01T10:00:00Z --until 2026-03-01T10:00:01Z |
    jq -s length)" 9 "--since/--until"
is "$(corp-event list --as eve | jq -s length)" 0 "--as: a stranger sees nothing"
# Judged on each event's own values: ann was the executor of event 1.
is "$(corp-event list --as ann | jq -s -c 'map(.event_id)')" "[1,8,9]" \
    "--as: ann sees events of her time as executor and her own task"
is "$(corp-event list --as bob | jq -s -c 'map(.event_id)')" \
    "[2,3,4,5,6,7,8,9]" "--as: bob from the assignment on, and the unit's task"
is_rc 77 "show --as a stranger" corp-event show 1 --as eve
ok "show" corp-event show 7 --as bob
is "$(printf '%s' "$out" | jq -c '[.v, .event_type, .actor_user_id]')" \
    '[1,"APPROVED",1]' "show prints the event"
is_rc 67 "show unknown" corp-event show 999
is_rc 67 "list --as unknown" corp-event list --as nobody

# emit: booking events with explicit recipients; refused types; dedupe.
cat > "$T/emit" <<'J'
{"idempotency_key":"b1","source":"booking","event_type":"booking_created","actor":"eve","recipients":[{"user":"ann","role":"client"},{"user":"bob","role":"specialist"}],"payload":{"booking_id":7,"at":"2026-03-02T09:00:00Z"}}
{"idempotency_key":"b1","source":"booking","event_type":"booking_created"}
{"idempotency_key":"x","source":"booking","event_type":"TASK_CREATED"}
{"idempotency_key":"y","source":"booking","event_type":"APPROVED"}
{"idempotency_key":"z","source":"booking","event_type":"booking_done","recipients":[{"user":"nobody","role":"client"}]}
{"idempotency_key":"n1","source":"ci","event_type":"note","task_id":1,"payload":{"k":"v"}}
J
run_in "$T/emit" corp-event emit --new-type note
is "$rc" 65 "emit exits 65 after the bad lines"
is "$out" '{"event_id":10,"dedupe_key":"emit:booking:b1","duplicate":false}
{"event_id":10,"dedupe_key":"emit:booking:b1","duplicate":true}
{"event_id":11,"dedupe_key":"emit:ci:n1","duplicate":false}' "one line per good input"
is "$err" "corp-event: <stdin>:3: event_type TASK_CREATED belongs to the task state machine or the scheduler
corp-event: <stdin>:4: event_type APPROVED belongs to the task state machine or the scheduler
corp-event: <stdin>:5: user 'nobody': not found" "each bad line named"
is "$(sql "SELECT recipients FROM events WHERE event_id = 10")" \
    '[{"user_id":2,"role":"client"},{"user_id":3,"role":"specialist"}]' \
    "recipients stored resolved"
is "$(corp-event list --as ann --after 9 | jq -c '[.event_id, .source, .payload.booking_id]')" \
    '[10,"booking",7]' "a recipient sees a task-less event"
is "$(corp-event list --as eve --after 9 | jq -s length)" 0 \
    "the actor of a task-less event is not a recipient"
is "$(corp-event show 11 | jq -c '[.task_id, .assignee_user_id, .initiator_user_id]')" \
    "[1,3,1]" "an emitted task event carries the task's values"

# tail --follow: streams commits made after it started.
timeout 30 corp-event tail --follow --after 11 --count 2 > "$T/tail" &
tp=$!
_pids="$_pids $tp"
t3=$(corp-task create --as admin --title tail --unit team | jq .task_id)
corp-task cancel "$t3" --as admin >/dev/null
i=0
while [ "$i" -lt 200 ] && [ "$(grep -c . "$T/tail")" -lt 2 ]; do
	i=$((i + 1)); sleep 0.05
done
is "$(jq -s -c 'map(.event_type)' "$T/tail")" '["TASK_CREATED","TASK_CANCELLED"]' \
    "tail --follow saw both commits"
wait "$tp"
is "$?" 0 "tail --count exits 0"
ok "tail without --follow" corp-event tail --after 12
is "$(printf '%s\n' "$out" | jq -s -c 'map(.event_id)')" "[13]" "prints what is there"
is "$(corp-event tail --topic messages | jq -s length)" 0 "--topic filters"
ok "corp-db check" corp-db check

# 15.3: --limit counts the events the viewer sees, not the events read.
# 1100 events for ann, then bob's: a poller at --limit 100 must not
# stall behind ann's; alternating events give bob exactly his --limit.
i=0
while [ "$i" -lt 1100 ]; do
	i=$((i + 1))
	printf '{"idempotency_key":"a%d","source":"lim","event_type":"note","recipients":[{"user":"ann","role":"client"}]}\n' "$i"
done > "$T/many"
printf '{"idempotency_key":"b1","source":"lim","event_type":"note","recipients":[{"user":"bob","role":"client"}]}\n' >> "$T/many"
for i in 2 3 4; do
	printf '{"idempotency_key":"a-b%d","source":"lim","event_type":"note","recipients":[{"user":"ann","role":"client"}]}\n' "$i"
	printf '{"idempotency_key":"b%d","source":"lim","event_type":"note","recipients":[{"user":"bob","role":"client"}]}\n' "$i"
done >> "$T/many"
corp-event emit < "$T/many" > /dev/null || bail "emit of $T/many failed"
last=$(corp-event list | jq -s 'map(.event_id) | max')
is "$last" 1120 "1107 more events"
is "$(corp-event list --as bob --after 13 --limit 100 | jq -s -c 'map(.event_id)')" \
    "[1114,1116,1118,1120]" \
    "--as bob --limit 100 finds bob's events behind 1100 of ann's"
is "$(corp-event list --as bob --after 13 --limit 2 | jq -s -c 'map(.event_id)')" \
    "[1114,1116]" "--limit 2 prints bob's first two"
is "$(corp-event list --as bob --after 1114 --limit 1 | jq -s -c 'map(.event_id)')" \
    "[1116]" "--limit 1 past one of them"
is "$(corp-event list --as ann --after 13 --limit 1101 | jq -s -c 'map(.event_id) | length, max')" \
    "1101
1115" "ann's --limit 1101 skips bob's event 1114"
is "$(corp-event list --as eve --after 13 --limit 5 | jq -s length)" 0 \
    "a viewer who sees none of them gets nothing"
is "$(corp-event list --as admin --after 13 --limit 3 | jq -s -c 'map(.event_id)')" \
    "[14,15,16]" "an admin sees every event"
is "$(corp-event tail --as bob --after 13 | jq -s -c 'map(.event_id)')" \
    "[1114,1116,1118,1120]" "tail --as bob too"

# check finds a tampered sequence and an impossible history.
bad=$(copydb "$(curdb)") || bail "copydb failed"
# SQL write on purpose: the corruptions check must find, on a copy.
if pg_mode; then
	seq="SELECT setval('events_event_id_seq', 1)"
else
	seq="UPDATE sqlite_sequence SET seq = 1 WHERE name = 'events'"
fi
sql_at "$bad" "$seq" "UPDATE events SET state = 'DONE' WHERE event_id = 1" \
    >/dev/null
run corp-db check --db "$bad"
is "$rc" 65 "check fails"
# The counter is named by its backend: sqlite_sequence, else the identity
# sequence of events.
like "$err" "event_sequence: (sqlite_sequence|events sequence) 1 is below max\\(event_id\\)" \
    "names the sequence"
like "$err" "event 2: TASK_ASSIGNED from DONE to OPEN is not a transition" \
    "names the impossible step"
done_testing
