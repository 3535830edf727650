#!/bin/sh
# The exec channel end to end, as an operator sets it up (issue 15: the
# suite walks the operator's path): from corp-db init, with corp's
# commands and the documented files only -- exec.conf naming the
# commands (mode 0600), binds that pick one, exec as the default channel
# -- tasks routed and delivered through the pipe of corp(7) and through
# corp-deliver run; what each command received on its standard input
# checked line by line, its first output line kept as the provider id;
# the queue through corp-deliver stats, explain and dlq.  The likely
# mistakes: exec.conf written with the default umask (0644: refused, 77)
# and a misspelt command name (65, "did you mean"); a command that fails
# goes to the dead-letter queue with its first line of standard error;
# the repair (the command fixed, corp-deliver requeue, the next
# corp-pipeline(1) cycle).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
. "$CORP_SRC/tests/e2e-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z
D=$CORP_DATA_DIR
mkdir -m 700 "$T/bin"
# The commands: one files a ticket, one is a pager that is out of order.
cat > "$T/bin/ticket" <<EOF
#!/bin/sh
line=\$(cat)
printf '%s\n' "\$line" >> "$T/ticket.in"
printf '%s\n' "\$line" | jq -r '"ticket-\(.delivery_id)"'
EOF
cat > "$T/bin/pager" <<'EOF'
#!/bin/sh
cat > /dev/null
echo "pager: no route to the pager network" >&2
exit 1
EOF
chmod 700 "$T/bin/ticket" "$T/bin/pager"
# got N: what the ticket command received from its Nth line on.
got() {
	tail -n +"$1" "$T/ticket.in" | jq -r '"\(.address) \(.login) \(.role) \(.event.title): \(.text)"'
}

q corp-settings config set base_url https://corp.example
q corp-settings config set default_channel exec
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel exec
q corp-org add ops --title Operations
q corp-user add boss --name Boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --name Ann --unit ops
q corp-user add bob --name Bob --unit ops
q corp-user add cyd --name Cyd --unit ops

# The mistake: exec.conf written with the default umask.
cat > "$D/exec.conf" <<EOF
ticket=$T/bin/ticket
pager=$T/bin/pager
EOF
chmod 644 "$D/exec.conf"
is_rc 77 "an exec.conf others may read is refused" corp-bind add --user ann \
    --channel exec --address ticket
is "$err" "corp-bind: $D/exec.conf: mode 644: group or others may use it; chmod 600 it" \
    "naming the file and the fix"
chmod 600 "$D/exec.conf"
is_rc 64 "a misspelt command is refused" corp-bind add --user ann \
    --channel exec --address tiket
is "$err" "corp-bind: exec command 'tiket' is not defined in $D/exec.conf (defined: ticket, pager); did you mean 'ticket'?" \
    "listing the defined ones and the closest"
is "$(corp-bind list --channel exec)" "" "none of that wrote a bind"
ok "ann's ticket" corp-bind add --user ann --channel exec --address ticket
ok "bob's ticket: one command serves many" corp-bind add --user bob \
    --channel exec --address ticket
ok "cyd's pager" corp-bind add --user cyd --channel exec --address pager

# Through the pipe.
q corp-task create --as admin --title "Quarterly report" --assignee ann
q corp-task create --as admin --title "Budget <draft>" --assignee bob
q corp-task create --as admin --title "Hiring plan" --assignee cyd
q corp-event route
pipe exec
is "$rc" "0 0 0 0 0" "every stage of the pipe exits 0"
is "$err" "corp-send: delivery 3: failed: pager: no route to the pager network trace=$(corp-event show 3 | jq -r .trace_id)" \
    "the failure is reported with the command's first line of stderr"
is "$(got 1)" "ticket ann executor Quarterly report: 📋 You have a new task: <b>Quarterly report</b>

<a href=\"https://corp.example/tasks/1\">Open task #1</a>
ticket bob executor Budget <draft>: 📋 You have a new task: <b>Budget &lt;draft&gt;</b>

<a href=\"https://corp.example/tasks/2\">Open task #2</a>" \
    "the ticket command got one line per recipient, naming the user"
is "$(corp-cursor get --channel exec)" "3:5" "the cursor moved"
is "$(queue exec)" "FAILED ready 1, SENT ready 2" "stats: two sent, one failed"
is "$(dlq_rows)" "cyd exec pager: no route to the pager network" \
    "dlq: cyd's row, with the command's reason"
is "$(explained 2 bob exec)" '["created","ticket","SENT",1,["sent"]]' \
    "explain: bob's row was created, bound, sent at the first attempt"
is "$(corp-deliver explain --event 2 --user bob |
    jq -r '.deliveries[0].provider_message_id')" "ticket-2" \
    "the command's first output line is the provider id"

# Through corp-deliver run; a command removed from exec.conf holds its
# rows (78) until it is back.
q corp-task create --as admin --title "Offsite" --assignee ann
q corp-task create --as admin --title "Payroll" --assignee bob
q corp-task create --as admin --title "Party" --assignee cyd
q corp-event route
sed -i '/^pager=/d' "$D/exec.conf"
n=$(($(wc -l < "$T/ticket.in") + 1))
run corp-deliver run --channel exec --until-empty
is "$rc" 78 "run exits 78: a row held for the configuration"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .failed, .held, .dlq]')" \
    "[3,2,0,1,0]" "its summary: three claimed, two sent, one held"
is "$err" "2026-03-02T09:00:00.000Z corp-deliver: exec: held 1: no exec command \"pager\" in $D/exec.conf
2026-03-02T09:00:00.000Z corp-deliver: exec: sent 2 retry 0 failed 0 held 1" \
    "naming the command and the file, then the line for cron"
is "$(got $n | grep -c '^ticket')" 2 "the tickets went"
is "$(explained 6 cyd exec)" '["created","pager","PENDING",0,["retry"]]' \
    "cyd's row waits, no attempt used"
is "$(queue exec)" "FAILED ready 1, PENDING ready 1, SENT ready 4" \
    "stats: four sent, one failed, one held"

# The repair: the pager back in exec.conf and working again; its failed
# row requeued from the dead-letter queue; all out with the next
# corp-pipeline(1) cycle.
echo "pager=$T/bin/pager" >> "$D/exec.conf"
cat > "$T/bin/pager" <<EOF
#!/bin/sh
jq -r '"page-\\(.delivery_id) \\(.login)"' | tee -a "$T/pager.in"
EOF
ok "the operator requeues the failed row" corp-deliver requeue \
    --channel exec --all-failed
is "$out" '{"requeued":1}' "one row"
CORP_NOW=2026-03-02T09:02:00Z run corp-pipeline --channel exec
is "$rc:$err" "0:" \
    "corp-pipeline exits 0, silently"
is "$(cat "$T/pager.in")" "page-3 cyd
page-6 cyd" \
    "the pager got both of cyd's rows, the requeued and the held one"
is "$(corp-deliver dlq)" "" "the dead-letter queue is empty"
is "$(explained 3 cyd exec)" '["created","pager","SENT",1,["failed","sent"]]' \
    "explain: the failed attempt, then the one that went"
is "$(queue exec)" "SENT ready 6" "stats: all sent"
done_testing
