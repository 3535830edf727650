#!/bin/sh
# corp-task: create, show, list filters, reports, viewers, --as.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add team --head admin >/dev/null
corp-user add ann --unit team >/dev/null
corp-user add bob --unit team >/dev/null
corp-user add eve >/dev/null
ok "create" corp-task create --as admin --title T1 --description D \
    --assignee ann --due 2026-02-01T00:00:00Z
is "$(printf '%s' "$out" | jq -c '[.task_id, .state, .version, .event_id,
    .assignee_unit, .overdue]')" '[1,"OPEN",1,1,"team",true]' "transition output"
corp-task create --as ann --title T2 --unit team >/dev/null
corp-task create --as ann --title T3 --unit team --draft >/dev/null
is "$(corp-task list | jq -s -c 'map(.task_id)')" "[1,2,3]" "list"
is "$(corp-task list --state DRAFT | jq -s -c 'map(.task_id)')" "[3]" "--state"
is "$(corp-task list --assignee ann | jq -s -c 'map(.task_id)')" "[1]" "--assignee"
is "$(corp-task list --initiator ann | jq -s -c 'map(.task_id)')" "[2,3]" "--initiator"
is "$(corp-task list --overdue | jq -s -c 'map(.task_id)')" "[1]" "--overdue"
is "$(corp-task list --as bob | jq -s -c 'map(.task_id)')" "[2]" \
    "--as: bob executes the unit's task, not ann's, not the draft"
is "$(corp-task list --as eve | jq -s length)" 0 "--as: a stranger sees none"
is "$(corp-task list --as admin | jq -s -c 'map(.task_id)')" "[1,2,3]" \
    "--as admin: all"
is_rc 77 "show --as a stranger" corp-task show 1 --as eve
is_rc 77 "show a draft --as a unit member" corp-task show 3 --as bob
ok "show --as the executor" corp-task show 1 --as ann
is_rc 67 "show unknown" corp-task show 42
corp-task submit 1 --as ann --text "done" --link https://x/1 --file f.pdf >/dev/null
ok "reports" corp-task reports 1 --as admin
is "$(printf '%s' "$out" | jq -c '[.version, .author, .text, .link, .file, .status]')" \
    '[1,"ann","done","https://x/1","f.pdf","submitted"]' "report JSON"
ok "viewers" corp-task viewers 1
is "$(printf '%s\n' "$out" | jq -r '"\(.user_id) \(.role)"' | tr '\n' ,)" \
    "1 admin,1 initiator,1 supervisor,2 executor," "viewers of one task"
is_rc 67 "viewers of an unknown task" corp-task viewers 9
ok "set-due none clears" corp-task set-due 1 --as admin --due none
is "$(printf '%s' "$out" | jq .due_at)" null "cleared"
is_rc 64 "create needs an assignee" corp-task create --as admin --title x
is_rc 64 "create needs --as" corp-task create --title x --unit team

# 15.15: refusals in the order of corp-task.1 -- 65, then 67, then 77,
# then 79 -- whatever the lookups meet first.
corp-user add zed --unit team >/dev/null
corp-user deactivate zed >/dev/null
is_rc 67 "a stranger assigning to an unknown login: not found first" \
    corp-task assign 2 --as eve --assignee nosuch
is "$err" "corp-task: user 'nosuch': not found" "names the login"
is_rc 67 "an unknown unit before the stranger's 77" \
    corp-task assign 2 --as eve --unit nounit
is "$err" "corp-task: unit 'nounit': not found" "names the unit"
is_rc 65 "an inactive assignee (65) before an unknown actor and task (67)" \
    corp-task assign 42 --as nobody --assignee zed
is "$err" "corp-task: user 'zed' is inactive" "invalid input first"
is_rc 67 "an unknown task before the stranger's 77" \
    corp-task set-due 42 --as eve --due none
is "$err" "corp-task: task 42: not found" "names the task"
is_rc 67 "an inactive actor naming an unknown login: 67 before 77" \
    corp-task create --as zed --title x --assignee nosuch
is_rc 77 "an inactive actor otherwise: 77" \
    corp-task create --as zed --title x --unit team
corp-task cancel 2 --as ann >/dev/null || bail "cancel failed"
is_rc 67 "an admin assigning a cancelled task to an unknown login: 67" \
    corp-task assign 2 --as admin --assignee nosuch
is "$err" "corp-task: user 'nosuch': not found" "not the state's 79"
is_rc 77 "a stranger on a cancelled task: 77 before 79" \
    corp-task assign 2 --as eve --assignee bob
is_rc 79 "an admin on a cancelled task: 79" \
    corp-task assign 2 --as admin --assignee bob
is "$err" "corp-task: task 2 is CANCELLED: assign is not allowed from that state" \
    "says why"
is "$(corp-task show 2 | jq -c '[.state, .version, .assignee]')" \
    '["CANCELLED",2,null]' "nothing written by any of them"
ok "corp-db check" corp-db check
done_testing
