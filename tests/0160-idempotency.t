#!/bin/sh
# --idempotency-key: a retry gets the first answer and writes nothing;
# two processes at once make one task; another request under the same
# key is a conflict.  Racing approve and reject: one wins, one gets 79.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add team --head admin >/dev/null
corp-user add ann --unit team >/dev/null
corp-user add bob --unit team >/dev/null

ok "create with a key" corp-task create --as admin --title T --assignee ann \
    --idempotency-key k1
first=$out
before=$(sql .dump)
ok "the same command again" corp-task create --as admin --title T \
    --assignee ann --idempotency-key k1
is "$out" "$first" "same output"
is "$(sql .dump)" "$before" "nothing written by the retry"
is "$(sql "SELECT count(*) FROM tasks")" 1 "one task"
is "$(sql "SELECT count(*) FROM events")" 1 "one event"
is_rc 79 "same key, different request" corp-task create --as admin \
    --title Other --assignee ann --idempotency-key k1
like "$err" "different create request" "says why"
is "$(sql .dump)" "$before" "the conflict wrote nothing"
ok "same key by another actor is another key" corp-task create --as bob \
    --title T --assignee ann --idempotency-key k1
is "$(sql "SELECT count(*) FROM tasks")" 2 "so a second task"
is "$(sql "SELECT count(*) FROM idempotency")" 2 "two stored answers"

# A refused command stores nothing.
t=$(printf '%s' "$first" | jq .task_id)
is_rc 77 "refused with a key" corp-task approve "$t" --as bob \
    --idempotency-key r1
is "$(sql "SELECT count(*) FROM idempotency WHERE key = 'r1'")" 0 \
    "a refusal stores no answer"

# Transitions: the retry returns the first output, also after the state
# moved on (it is the answer, not a re-run).
ok "submit with a key" corp-task submit "$t" --as ann --text r \
    --idempotency-key s1
sub=$out
ok "submit again with the key" corp-task submit "$t" --as ann --text r \
    --idempotency-key s1
is "$out" "$sub" "same answer"
is "$(sql "SELECT count(*) FROM task_reports")" 1 "one report"

# Keys older than 30 days are pruned: s1, exactly 30 days old, is kept;
# the first write a day later prunes it.
ok "a write 30 days later" env CORP_NOW=2026-03-31T10:00:00Z \
    corp-task create --as admin --title P0 --unit team --idempotency-key p0
is "$(sql "SELECT count(*) FROM idempotency WHERE key = 's1'")" 1 \
    "a 30-day-old key is kept"
ok "a write 31 days later" env CORP_NOW=2026-04-01T10:00:00Z \
    corp-task create --as admin --title P --unit team --idempotency-key p1
is "$(sql "SELECT count(*) FROM idempotency WHERE key = 's1'")" 0 \
    "an old key is pruned"

# Two processes at once with one key: one task, one event, same output.
n=$(quick 10 4)
i=0
while [ "$i" -lt "$n" ]; do
	corp-task create --as admin --title "race $i" --unit team \
	    --idempotency-key "race$i" > "$T/a$i" 2>&1 &
	pa=$!
	corp-task create --as admin --title "race $i" --unit team \
	    --idempotency-key "race$i" > "$T/b$i" 2>&1 &
	pb=$!
	wait "$pa"; ra=$?
	wait "$pb"; rb=$?
	is "$ra:$rb" "0:0" "race $i: both succeed"
	is "$(cat "$T/a$i")" "$(cat "$T/b$i")" "race $i: same output"
	is "$(sql "SELECT count(*) FROM tasks WHERE title = 'race $i'")" 1 \
	    "race $i: one task"
	is "$(sql "SELECT count(*) FROM events e JOIN tasks t ON
	    t.id = e.task_id WHERE t.title = 'race $i'")" 1 "race $i: one event"
	i=$((i + 1))
done

# approve and reject of one task at once: exactly one wins.
i=0
while [ "$i" -lt "$n" ]; do
	t=$(corp-task create --as admin --title "ar $i" --assignee ann |
	    jq .task_id)
	corp-task submit "$t" --as ann --text r >/dev/null
	corp-task approve "$t" --as admin > /dev/null 2>&1 &
	pa=$!
	corp-task reject "$t" --as admin --reason no > /dev/null 2>&1 &
	pb=$!
	wait "$pa"; ra=$?
	wait "$pb"; rb=$?
	case "$ra:$rb" in
	0:79|79:0) pass "approve/reject race $i: one wins ($ra:$rb)" ;;
	*) fail "approve/reject race $i: $ra:$rb" ;;
	esac
	is "$(sql "SELECT count(*) FROM events WHERE task_id = $t AND
	    event_type IN ('APPROVED', 'REJECTED')")" 1 "race $i: one event"
	i=$((i + 1))
done
ok "corp-db check" corp-db check
done_testing
