#!/bin/sh
# What names nothing is 67, never an empty success (op-review rough
# edges): requeue --id / --event of a row or event that does not exist,
# corp-event list --task of a task that does not exist; and explain says
# in a sentence why a user who is not a recipient has nothing.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$*"; }
q corp-org add ops --title Ops
q corp-user add boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --unit ops
q corp-org add far --title Far
q corp-user add zed --unit far
q corp-bind add --user ann --channel file --address ann
q corp-settings notify set --event-type TASK_CREATED --role executor --channel file
q corp-task create --as boss --title "Ship it" --assignee ann
q corp-event route

run corp-deliver requeue --id 99999
is "$rc:$out:$err" "67::corp-deliver: delivery 99999: not found" "requeue --id of no row: 67"
run corp-deliver requeue --event 99999
is "$rc:$out:$err" "67::corp-deliver: event 99999: not found" "requeue --event of no event: 67"
run corp-deliver requeue --event 1
is "$rc:$out" '0:{"requeued":2}' "requeue --event of an event that has rows (file, telegram): 0"
run corp-deliver requeue --id 1
is "$rc:$out" '0:{"requeued":1}' "requeue --id of a row: 0"

run corp-event list --task 7 --as ann
is "$rc:$out:$err" "67::corp-event: task 7: not found" "list --task of no task: 67"
run corp-event list --task 7
is "$rc" 67 "without --as too"
run corp-event list --task 1 --as ann
is "$rc:$(printf '%s\n' "$out" | jq -r .event_type)" "0:TASK_CREATED" "list --task of a task: its events"

run corp-deliver explain --event 1 --user zed
is "$rc" 0 "explain for a user who is not a recipient: 0"
is "$(printf '%s\n' "$out" | jq -c '[.roles, .decisions, .why]')" \
    '[null,[],"zed is not a viewer of event 1: not a recipient, so no route decision and no row"]' \
    "says why there is nothing: not a viewer"
run corp-deliver explain --event 1 --user ann
is "$(printf '%s\n' "$out" | jq -c '[.roles, .why]')" '[["executor"],null]' \
    "a recipient: why is null"
q corp-task create --as boss --title "Later" --assignee ann
run corp-deliver explain --event 2 --user ann
is "$(printf '%s\n' "$out" | jq -r .why)" "event 2 is not routed yet" "an event not routed yet says so"
done_testing
