#!/bin/sh
# The file channel end to end, as an operator sets it up (issue 15: the
# suite walks the operator's path): from corp-db init, with corp's
# commands only -- file as the default channel, binds with corp-bind add
# -- tasks routed and delivered through the pipe of corp(7) and through
# corp-deliver run into DATA_DIR/outbox.jsonl (created 0600, whole lines
# only), checked line by line; the queue through corp-deliver stats,
# explain and dlq.  The likely mistake: a pipe without corp-fmt -- each
# line is failed "not rendered (missing corp-fmt?)", nothing written --
# and its repair: corp-deliver requeue from the dead-letter queue, then
# the right pipe.  An outbox that cannot be written fails the stage (1)
# and every line passes on as retry, leases given back, nothing lost.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
. "$CORP_SRC/tests/e2e-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z
D=$CORP_DATA_DIR
# outbox N: the outbox from its Nth line on.
outbox() {
	tail -n +"$1" "$D/outbox.jsonl" | jq -r '"\(.delivery_id) \(.address) \(.login) \(.role): \(.text)"'
}

q corp-settings config set base_url https://corp.example
q corp-settings config set default_channel file
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel file
q corp-settings notify set --event-type TASK_CREATED --role supervisor \
    --channel file
q corp-org add ops --title Operations
q corp-user add boss --name Boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --name Ann --unit ops
q corp-user add bob --name Bob --unit ops
# The mistakes at bind time: a misspelt channel (64), an address with a
# control character (65); neither writes a bind.
is_rc 64 "a misspelt channel is refused" corp-bind add --user ann \
    --channel fiel --address inbox-ann
is "$err" "corp-bind: unknown channel 'fiel' (did you mean 'file'?)" \
    "with the closest"
is_rc 65 "a tab in the address is refused" corp-bind add --user ann \
    --channel file --address "$(printf 'inbox\tann')"
is "$err" "corp-bind: address: expected 1-2048 printable characters" \
    "saying what an address is"
is "$(corp-bind list)" "" "no bind was written"
for u in boss ann bob; do
	ok "$u's bind" corp-bind add --user $u --channel file --address "inbox-$u"
done

# The mistake: a pipe without corp-fmt.
q corp-task create --as admin --title "Quarterly report" --assignee ann
q corp-event route
run sh -c 'corp-deliver pending --channel file |
    corp-send file | corp-deliver ack >/dev/null'
is "$rc" 0 "the pipe exits 0 (per-line outcomes never change it)"
is "$(printf '%s\n' "$err" | sed 's/ trace=.*//')" "corp-send: delivery 1: failed: not rendered (missing corp-fmt?)
corp-send: delivery 2: failed: not rendered (missing corp-fmt?)" \
    "each line is failed, saying what is missing"
is "$(wc -c < "$D/outbox.jsonl")" 0 "nothing was written"
is "$(dlq_rows)" "boss file not rendered (missing corp-fmt?)
ann file not rendered (missing corp-fmt?)" "both rows are in the dead-letter queue"
ok "the operator requeues them" corp-deliver requeue --channel file \
    --all-failed
is "$out" '{"requeued":2}' "both"

# Through the pipe.
pipe file
is "$rc:$err" "0 0 0 0 0:" "every stage of the pipe exits 0, quietly"
is "$(outbox 1)" "1 inbox-boss boss supervisor: 📋 New task: <b>Quarterly report</b>

<a href=\"https://corp.example/tasks/1\">Open task #1</a>
2 inbox-ann ann executor: 📋 You have a new task: <b>Quarterly report</b>

<a href=\"https://corp.example/tasks/1\">Open task #1</a>" \
    "the outbox holds one line per recipient, with the text for the role"
is "$(stat -c %a "$D/outbox.jsonl")" 600 "created 0600"
is "$(corp-cursor get --channel file)" "1:3" "the cursor moved"
is "$(queue file)" "SENT ready 2" "stats: two sent"
is "$(corp-deliver dlq)" "" "the dead-letter queue is empty again"
is "$(explained 1 ann file)" '["created","inbox-ann","SENT",1,["failed","sent"]]' \
    "explain: ann's row, its failed attempt and the one that went"

# Through corp-deliver run.
q corp-task create --as admin --title "Budget" --assignee bob
q corp-event route
run corp-deliver run --channel file --until-empty
is "$rc" 0 "run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .failed, .held, .dlq]')" \
    "[2,2,0,0,0]" "its summary: two claimed, two sent"
is "$err" "2026-03-02T09:00:00.000Z corp-deliver: file: sent 2 retry 0 failed 0 held 0" \
    "and the line for cron"
is "$(outbox 3)" "3 inbox-boss boss supervisor: 📋 New task: <b>Budget</b>

<a href=\"https://corp.example/tasks/2\">Open task #2</a>
4 inbox-bob bob executor: 📋 You have a new task: <b>Budget</b>

<a href=\"https://corp.example/tasks/2\">Open task #2</a>" \
    "run appended the same lines the pipe would"
is "$(jq -c . "$D/outbox.jsonl" | wc -l)" 4 "whole JSON lines only"
is "$(queue file)" "SENT ready 4" "stats: four sent"
is "$(queue telegram)" "" "and nothing on Telegram"

# The outbox cannot be used (here: a directory in its place, which corp
# refuses as it refuses a link: 77): every line passes on as retry, not
# attempted, held as a configuration error, so the pipe gives the leases
# back at once; nothing is lost, and the next cycle after the repair
# delivers.
q corp-task create --as admin --title "Offsite" --assignee ann
q corp-event route
mv "$D/outbox.jsonl" "$T/outbox.keep"
mkdir "$D/outbox.jsonl"
pipe file
is "$rc" "0 0 77 0 0" "corp-send refuses it (77), the other stages 0"
is "$err" "corp-send: $D/outbox.jsonl: not a regular file; every remaining line passes on as retry" \
    "naming the file"
is "$(corp-deliver stats | jq -r '.queue[] | select(.channel == "file" and
    .status == "PENDING") | "\(.count) rows, \(.leased) leased"')" \
    "2 rows, 0 leased" "both rows wait, their leases given back"
is "$(explained 3 ann file)" '["created","inbox-ann","PENDING",0,["retry"]]' "explain: a retry that used no attempt"
CORP_NOW=2026-03-02T09:05:00Z run corp-deliver run --channel file --until-empty
is "$rc:$err" "77:2026-03-02T09:05:00.000Z corp-deliver: $D/outbox.jsonl: not a regular file; every remaining line passes on as retry
2026-03-02T09:05:00.000Z corp-deliver: file: held 2: $D/outbox.jsonl: not a regular file
2026-03-02T09:05:00.000Z corp-deliver: file: sent 0 retry 0 failed 0 held 2" "run: the same, held, and 77 for cron"
rmdir "$D/outbox.jsonl"
mv "$T/outbox.keep" "$D/outbox.jsonl"
CORP_NOW=2026-03-02T09:30:00Z run corp-pipeline --channel file
is "$rc:$err" "0:" \
    "the outbox back, the next corp-pipeline(1) cycle delivers"
is "$(tail -n +5 "$D/outbox.jsonl" | jq -r '"\(.delivery_id) \(.login) \(.event.title)"')" \
    "5 boss Offsite
6 ann Offsite" "both rows, appended"
is "$(queue file)" "SENT ready 6" "stats: all sent"
done_testing
