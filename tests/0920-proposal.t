#!/bin/sh
# corp-proposal: edit while pending, approve (a task through the domain's
# path: the admin as initiator, the assignee or --assignee/--unit, --due),
# approve twice, reject, merge, decisions refused while running or in a
# wrong state, admin required, counters after every step, proposals
# topic events.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
corp-user add nounit >/dev/null
t0=1772359200
msg() {
	jq -cn --argjson m "$1" --argjson d "$2" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}
counters() {
	corp-analysis show 1 | jq -c '[.proposals_total, .proposals_pending,
	    .proposals_approved, .proposals_rejected, .proposals_merged]'
}
counters_ok() {
	is "$(corp-db check 2>&1 | grep analysis_counters)" \
	    '{"check":"analysis_counters","severity":"error","ok":true,"problems":0}' \
	    "counters equal a count of the proposals ($1)"
}
{
	msg 1 "$t0" "@bob please fix the login page"
	msg 2 $((t0 + 1)) "надо обновить документацию"
	msg 3 $((t0 + 2)) "we must renew the certificate"
	msg 4 $((t0 + 3)) "todo: order more coffee beans"
	msg 5 $((t0 + 4)) "someone must water the plants"
} | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis start 1 --as admin >/dev/null
is "$(counters)" "[5,5,0,0,0]" "five pending proposals"

ok "show" corp-proposal show 1
is "$out" '{"proposal_id":1,"run_id":1,"batch":1,"status":"pending","title":"@bob please fix the login page","description":"@bob please fix the login page","assignee":"bob","due_at":null,"messages":[1],"task_id":null,"decided_by":null,"decided_at":null,"reason":null,"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z"}' \
    "the proposal line"
is_rc 67 "show of an unknown proposal" corp-proposal show 99

# edit while pending
is_rc 77 "edit needs an admin" corp-proposal edit 2 --as bob --title x
ok "edit" corp-proposal edit 2 --as admin --title "Update the docs" \
    --assignee bob --due 2026-03-10T18:00:00Z --description "the API part"
is "$(printf '%s' "$out" | jq -c '{title, description, assignee, due_at}')" \
    '{"title":"Update the docs","description":"the API part","assignee":"bob","due_at":"2026-03-10T18:00:00Z"}' \
    "edited"
is_rc 67 "edit with an unknown assignee" corp-proposal edit 2 --as admin --assignee zed
is_rc 65 "edit to an empty title" corp-proposal edit 2 --as admin --title ""
is_rc 64 "edit of nothing" corp-proposal edit 2 --as admin

# approve
is_rc 77 "approve needs an admin" corp-proposal approve 1 --as bob
is_rc 67 "approve as an unknown login" corp-proposal approve 1 --as zed
is "$(sql "SELECT count(*) FROM tasks")" 0 "refusals created no task"
ok "approve" corp-proposal approve 1 --as admin
is "$(printf '%s' "$out" | jq -c '{status, task_id, decided_by, decided_at}')" \
    '{"status":"approved","task_id":1,"decided_by":"admin","decided_at":"2026-03-01T12:00:00Z"}' \
    "approved, linked to its task"
is "$(corp-task show 1 | jq -c '{title, state, initiator, assignee, assignee_unit}')" \
    '{"title":"@bob please fix the login page","state":"OPEN","initiator":"admin","assignee":"bob","assignee_unit":"team"}' \
    "the task: the deciding admin as initiator, the proposal's assignee"
is "$(corp-event list --task 1 | jq -r .event_type)" TASK_CREATED \
    "created through the domain's path (TASK_CREATED)"
is "$(counters)" "[5,4,1,0,0]" "counters after approve"
is_rc 79 "approve twice" corp-proposal approve 1 --as admin
like "$err" "proposal 1 is already approved" "says so"
is "$(sql "SELECT count(*) FROM tasks")" 1 "approve twice: one task"
ok "approve with the edited due" corp-proposal approve 2 --as admin
is "$(corp-task show 2 | jq -c '{title, assignee, due_at}')" \
    '{"title":"Update the docs","assignee":"bob","due_at":"2026-03-10T18:00:00Z"}' \
    "the edited fields reach the task"
is_rc 79 "edit after the decision" corp-proposal edit 2 --as admin --title y
is_rc 65 "approve without an assignee or unit" corp-proposal approve 3 --as admin
like "$err" "has no assignee" "says why"
is_rc 65 "approve with a user that has no unit" corp-proposal approve 3 \
    --as admin --assignee nounit
is "$(corp-proposal show 3 | jq -r .status)" pending "still pending after 65"
ok "approve with --unit and --due" corp-proposal approve 3 --as admin \
    --unit team --due 2026-03-20T09:00:00Z
is "$(corp-task show 3 | jq -c '{assignee, assignee_unit, due_at}')" \
    '{"assignee":null,"assignee_unit":"team","due_at":"2026-03-20T09:00:00Z"}' \
    "--unit and --due override"
counters_ok "after approvals"

# reject, merge
is_rc 64 "reject needs a reason" corp-proposal reject 4 --as admin
ok "reject" corp-proposal reject 4 --as admin --reason "not a task"
is "$(printf '%s' "$out" | jq -c '{status, reason, task_id}')" \
    '{"status":"rejected","reason":"not a task","task_id":null}' "rejected"
is_rc 79 "reject twice" corp-proposal reject 4 --as admin --reason again
is_rc 79 "approve a rejected one" corp-proposal approve 4 --as admin --unit team
is_rc 67 "merge into an unknown task" corp-proposal merge 5 --as admin --task 99
ok "merge" corp-proposal merge 5 --as admin --task 1
is "$(printf '%s' "$out" | jq -c '{status, task_id}')" \
    '{"status":"merged","task_id":1}' "merged, the link stored"
is "$(sql "SELECT count(*) FROM tasks")" 3 "merge creates no task"
is "$(counters)" "[5,0,3,1,1]" "counters after every decision"
counters_ok "after reject and merge"
is "$(corp-event list --topic proposals | jq -c '[.event_type, .payload.proposal_id, .payload.task_id, .payload.proposals_pending, .actor_user_id]' | tr '\n' ' ')" \
    '["approved",1,1,4,1] ["approved",2,2,3,1] ["approved",3,3,2,1] ["rejected",4,null,1,1] ["merged",5,1,0,1] ' \
    "proposals topic events with the ids and counts"

# what moves the run: an explicit review; decisions do not
is "$(corp-analysis show 1 | jq -r .status)" completed \
    "decisions leave the run completed"
corp-analysis review 1 --as admin >/dev/null
ok "close" corp-analysis close 1 --as admin
is "$(printf '%s' "$out" | jq -c '{status, accuracy}')" \
    '{"status":"closed","accuracy":0.8}' "accuracy = (approved + merged) / total"

# never while running; allowed in a failed run
cat >"$T/stall" <<'SH'
#!/bin/sh
b=$(jq .batch)
STALL=$CORP_DATA_DIR/../stalled	# a proposer gets only corp's CORP_DATA_DIR
if [ "$b" = 2 ]; then echo $$ >"$STALL"; exec sleep 300; fi
echo '{"title":"from the first batch"}'
SH
chmod 700 "$T/stall"
export STALL="$T/stalled"
printf 'stall=%s\n' "$T/stall" >"$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
msg 6 $((t0 + 700)) "a message in the second window" | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis start 2 --as admin --proposer exec:stall --lease 5m \
    >/dev/null 2>&1 &
worker=$!
_pids="$_pids $worker"
wait_file "$STALL" 120 "$worker" || bail "the stalled proposer never ran"
is_rc 79 "approve while the run is running" corp-proposal approve 6 --as admin --unit team
like "$err" "run 2 is running" "says so"
is_rc 79 "reject while running" corp-proposal reject 6 --as admin --reason x
kill -9 "$worker"
kill "$(cat "$STALL")" 2>/dev/null
wait "$worker" 2>/dev/null
export CORP_NOW=2026-03-01T12:06:00Z
ok "approve in a failed run (worker lost)" corp-proposal approve 6 --as admin --unit team
is "$(corp-analysis show 2 | jq -c '{status, error, proposals_total, proposals_approved, proposals_pending}')" \
    '{"status":"failed","error":"worker lost","proposals_total":1,"proposals_approved":1,"proposals_pending":0}' \
    "the decision's command failed the lost run first, then decided"
counters_ok "at the end"
done_testing
