#!/bin/sh
# corp-sched: template instances for every started period, catching up
# up to a limit, and due events once per (task, due_at) (DESIGN 7).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-01T00:00:00Z
corp-org add hq --title HQ >/dev/null
corp-org add ops --parent hq --tz Europe/Kyiv >/dev/null
corp-user add boss --unit hq >/dev/null
corp-user add ann --unit ops >/dev/null
corp-org set-head hq boss >/dev/null

ok "a monthly template" corp-template add --title "Monthly report" \
    --schedule monthly --due "5 18:00" --assignee ann --initiator boss \
    --starts 2026-01-01T00:00:00Z
tpl=$(printf '%s' "$out" | jq .template_id)

export CORP_NOW=2026-03-03T12:00:00Z
ok "instances" corp-sched instances
is "$out" '{"templates":1,"created":3,"existing":0,"skipped_old":0,"failed":0}' \
    "January to March: three periods have started"
is "$(sql "SELECT period_key, datetime(due_at, 'unixepoch') FROM tasks ORDER BY id" | tr '\n' ' ')" \
    "2026-01|2026-01-05 16:00:00 2026-02|2026-02-05 16:00:00 2026-03|2026-03-05 16:00:00 " \
    "due on the 5th at 18:00 in the assignee's zone (Kyiv, UTC+2)"
is "$(sql "SELECT count(*), min(CASE WHEN actor_user_id IS NULL THEN 1 ELSE 0 END), min(auto), min(CASE WHEN dedupe_key LIKE 'tpl:$tpl:%' THEN 1 ELSE 0 END) FROM events WHERE event_type = 'TASK_CREATED'")" \
    "3|1|1|1" "each with its TASK_CREATED: no actor, auto, tpl:T:PERIOD"
ok "instances again" corp-sched instances
is "$out" '{"templates":1,"created":0,"existing":3,"skipped_old":0,"failed":0}' "idempotent"
is "$(sql "SELECT count(*) FROM events")" 3 "no new event"

# Due events.
export CORP_NOW=2026-03-05T00:00:00Z
ok "due" corp-sched due
is "$out" '{"due_soon":1,"overdue":2}' "March is due within 24h; January and February are overdue"
is "$(sql "SELECT event_type, period_key FROM events WHERE event_type LIKE 'TASK_DUE%' OR event_type = 'TASK_OVERDUE' ORDER BY event_id" | tr '\n' ' ')" \
    "TASK_DUE_SOON|2026-03 TASK_OVERDUE|2026-01 TASK_OVERDUE|2026-02 " "which events"
is "$(sql "SELECT count(*) FROM events WHERE event_type IN ('TASK_DUE_SOON', 'TASK_OVERDUE') AND (actor_user_id IS NOT NULL OR auto <> 1)")" 0 \
    "scheduler events: actor null, auto true"
ok "due again" corp-sched due
is "$out" '{"due_soon":0,"overdue":0}' "each once per (task, due_at)"
export CORP_NOW=2026-03-06T00:00:00Z
ok "due after March passed" corp-sched due
is "$out" '{"due_soon":0,"overdue":1}' "March now overdue too"

# A new due date may fire again.
march=$(sql "SELECT id FROM tasks WHERE period_key = '2026-03'")
ok "set-due" corp-task set-due "$march" --as boss --due 2026-03-07T12:00:00Z
ok "due with the new date" corp-sched due --soon 48h
is "$out" '{"due_soon":1,"overdue":0}' "DUE_SOON fires again for the new due_at"
export CORP_NOW=2026-03-08T00:00:00Z
ok "and when it passes" corp-sched due
is "$out" '{"due_soon":0,"overdue":1}' "OVERDUE again for the new due_at"

# Overlapping due runs give each event once.
ok "set-due again" corp-task set-due "$march" --as boss --due 2026-03-07T13:00:00Z
corp-sched due > "$T/a" &
corp-sched due > "$T/b"
wait
is "$(sql "SELECT count(*) FROM events WHERE dedupe_key LIKE 'TASK_OVERDUE:$march:%'")" 3 \
    "two concurrent runs: one OVERDUE for the third due date"

# Two schedulers at once give each period once.
export CORP_NOW=2026-06-02T00:00:00Z
corp-sched instances > "$T/a" 2>&1 &
corp-sched instances > "$T/b" 2>&1
wait
is "$(sql "SELECT count(*) FROM tasks")" 6 "overlapping runs: April, May, June once each"
is "$(sql "SELECT count(*) FROM events WHERE event_type = 'TASK_CREATED'")" 6 "and one event each"
is "$(cat "$T/a" "$T/b" | jq -s 'map(.created) | add')" 3 "the runs split the work"

# Catch-up is bounded: a daily template missed for 40 days.
ok "a daily template" corp-template add --title Standup --schedule daily \
    --due "10:00" --unit ops --initiator boss --starts 2026-04-23T00:00:00Z
ok "instances after 40 missed days" corp-sched instances --catch-up 31
is "$(printf '%s' "$out" | jq -c '[.created, .skipped_old]')" "[31,10]" \
    "the newest 31 periods; 10 older ones skipped and counted"
is "$(sql "SELECT min(period_key) FROM tasks WHERE title = 'Standup'")" "2026-05-03" \
    "the oldest kept is 31 days back in Kyiv"

# --until creates periods that start by then.
ok "instances --until" corp-sched instances --until 2026-08-01T00:00:00Z
is "$(sql "SELECT max(period_key) FROM tasks WHERE template_id = $tpl")" "2026-08" \
    "July and August start by the horizon (1 Aug 00:00 Kyiv = 31 Jul 21:00Z)"

# A template whose assignee has no unit is reported; the others go on.
corp-user add lone >/dev/null
ok "a template for a user without a unit" corp-template add --title X \
    --schedule monthly --due "1 09:00" --assignee lone --initiator boss \
    --starts 2026-01-01T00:00:00Z
run corp-sched instances
is "$rc" 65 "instances exits 65 when a template could not be instantiated"
like "$err" "no org unit" "and says why"
is "$(printf "%s" "$out" | jq .failed)" 6 "January to June: six periods failed, counted"

is_rc 64 "bad --soon" corp-sched due --soon soon
is_rc 64 "unknown verb" corp-sched later
ok "corp-db check clean" corp-db check
done_testing
