#!/bin/sh
# One visibility function for every path (DESIGN 3, issue 16 review 1):
# an event about a DRAFT -- a producer's emitted event included -- is
# judged by the task's state now, so it reaches nobody the draft is
# hidden from: not route (a named recipient who cannot see the task is
# 'refused'), not corp-event list --as, not show --as, not explain.
# The same events about a task that is not a draft reach its executor.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add sales --title S --head admin >/dev/null
corp-user add ann --unit sales --lang en >/dev/null
corp-user add bob --unit sales --lang en >/dev/null
corp-settings config set default_channel file >/dev/null
corp-bind add --user bob --channel file --address bob >/dev/null
corp-bind add --user ann --channel file --address ann >/dev/null
corp-settings notify set --event-type booking_created --role client \
    --channel file >/dev/null
corp-settings notify set --event-type booking_created --role executor \
    --channel file >/dev/null

d=$(corp-task create --as ann --title "SECRET draft" --assignee bob --draft |
    jq .task_id)
o=$(corp-task create --as ann --title "open task" --assignee bob |
    jq .task_id)
run corp-task show "$d" --as bob
is "$rc" 77 "bob cannot see the draft"

# emit TASK KEY [RECIPIENTS]
emit() {
	printf '{"idempotency_key":"%s","source":"shop","event_type":"booking_created","task_id":%s,%s"payload":{"service":"x","starts_at":"2026-12-08T10:00:00Z","specialist_name":"s"}}\n' \
	    "$2" "$1" "${3:+\"recipients\":$3,}" | corp-event emit | jq .event_id
}
named='[{"user":"bob","role":"client"},{"user":"ann","role":"client"}]'
dn=$(emit "$d" d-named "$named")	# the draft, bob and ann named
dx=$(emit "$d" d-none)			# the draft, nobody named
on=$(emit "$o" o-named "$named")	# an open task, the same names
ox=$(emit "$o" o-none)

ok "route" corp-event route
dec() {
	sql "SELECT r.event_id, u.login, r.decision FROM route_decisions r
	    JOIN users u ON u.id = r.user_id WHERE r.event_id IN ($1)
	    AND r.channel = 'file'
	    ORDER BY r.event_id, u.login"
}
is "$(dec "$dn, $dx")" "$dn|ann|created
$dn|bob|refused
$dx|admin|disabled
$dx|ann|disabled" "draft: the named bob is refused, unnamed bob not asked"
is "$(dec "$on, $ox")" "$on|ann|created
$on|bob|created
$ox|admin|disabled
$ox|ann|disabled
$ox|bob|created" "open task: bob gets both"
is "$(sql "SELECT count(*) FROM deliveries d JOIN users u ON u.id = d.user_id
    WHERE u.login = 'bob' AND d.event_id IN ($dn, $dx)")" 0 \
    "no delivery row for bob about the draft"
run corp-deliver explain --event "$dn" --user bob
is "$(printf '%s\n' "$out" | jq -c '[.roles, [.decisions[].decision],
    (.deliveries | length)]')" '[null,["refused","refused"],0]' \
    "explain: bob holds no role and was refused (file and telegram)"

is "$(corp-event list --as bob | jq -s -c 'map(.event_id)')" \
    "[1,$on,$ox]" "list --as bob: nothing about the draft"
is "$(corp-event list --as ann | jq -s -c 'map(.event_id)')" \
    "[1,$dn,$dx,$on,$ox]" "list --as ann: the draft's initiator sees them"
run corp-event show "$dn" --as bob
is "$rc" 77 "show --as bob: the named draft event is hidden"
like "$err" "not visible" "... and says so"
run corp-event show "$dx" --as bob
is "$rc" 77 "show --as bob: the unnamed draft event too"
ok "show --as bob: the open task's event" corp-event show "$on" --as bob
ok "show --as ann: the draft's event" corp-event show "$dn" --as ann

# Once the draft is opened, the task is bob's: its events are, too.
corp-task open "$d" --as ann >/dev/null || fail "open the draft"
is "$(corp-event list --as bob --task "$d" | jq -s -c 'map(.event_id)')" \
    "[$dn,$dx,$((ox + 1))]" "opened: the earlier events are visible now"
done_testing
