#!/bin/sh
# corp-proposal and corp-analysis refuse in corp-task's order -- 65, then
# 67, then 77, then 79 -- whatever their lookups meet first: a non-admin
# naming an unknown proposal, run or assignee learns 67, an admin naming
# an unknown assignee on a decided proposal learns 67, not 79.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
corp-user add zed --unit team >/dev/null
corp-user deactivate zed >/dev/null
t0=1772359200
msg() {
	jq -cn --argjson m "$1" --argjson d "$2" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}
{
	msg 1 "$t0" "@bob please fix the login page"
	msg 2 $((t0 + 1)) "we must renew the certificate"
	msg 3 $((t0 + 2)) "someone must water the plants"
} | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null || bail "create failed"
corp-analysis start 1 --as admin >/dev/null || bail "start failed"
corp-proposal reject 3 --as admin --reason "not a task" >/dev/null ||
    bail "reject failed"
before=$(corp-db status | jq -c .tables)

# 67 before 77: a non-admin naming something unknown.
is_rc 67 "approve of an unknown proposal by a non-admin" \
    corp-proposal approve 99 --as bob
is "$err" "corp-proposal: no proposal 99" "names the proposal"
is_rc 67 "approve to an unknown assignee by a non-admin" \
    corp-proposal approve 1 --as bob --assignee nosuch
is "$err" "corp-proposal: user 'nosuch': not found" "names the login"
is_rc 67 "approve to an unknown unit by a non-admin" \
    corp-proposal approve 1 --as bob --unit nounit
is_rc 67 "merge into an unknown task by a non-admin" \
    corp-proposal merge 1 --as bob --task 42
is "$err" "corp-proposal: no task 42" "names the task"
is_rc 67 "edit of an unknown proposal by a non-admin" \
    corp-proposal edit 99 --as bob --title x
is_rc 67 "edit to an unknown assignee by a non-admin" \
    corp-proposal edit 1 --as bob --assignee nosuch
is_rc 67 "review of an unknown run by a non-admin" \
    corp-analysis review 9 --as bob
is "$err" "corp-analysis: no run 9" "names the run"
is_rc 67 "start of an unknown run by a non-admin" \
    corp-analysis start 9 --as bob

# 65 before 67 and 77: an inactive assignee.
is_rc 65 "an inactive assignee, from a non-admin" \
    corp-proposal approve 1 --as bob --assignee zed
is "$err" "corp-proposal: user 'zed' is inactive" "invalid input first"

# 67 before 79: an admin naming an unknown login on a decided proposal.
is_rc 67 "approve a rejected proposal to an unknown assignee" \
    corp-proposal approve 3 --as admin --assignee nosuch
is "$err" "corp-proposal: user 'nosuch': not found" "not the state's 79"
is_rc 67 "merge a rejected proposal into an unknown task" \
    corp-proposal merge 3 --as admin --task 42

# 77 before 79, and 79 last.
is_rc 77 "a non-admin on a decided proposal" \
    corp-proposal approve 3 --as bob --assignee bob
is "$err" "corp-proposal: 'bob' is not an active admin" "not an admin"
is_rc 79 "an admin on a decided proposal" \
    corp-proposal approve 3 --as admin --assignee bob
is "$err" "corp-proposal: proposal 3 is already rejected" "already decided"
is_rc 77 "a non-admin reviewing a run in the wrong state" \
    corp-analysis close 1 --as bob
is_rc 79 "an admin closing a run that is not reviewed" \
    corp-analysis close 1 --as admin

is "$(corp-db status | jq -c .tables)" "$before" \
    "no refusal wrote anything"
ok "the same approval, done right" corp-proposal approve 1 --as admin
is "$(printf '%s' "$out" | jq -c '[.status, .assignee]')" \
    '["approved","bob"]' "approved"
done_testing
