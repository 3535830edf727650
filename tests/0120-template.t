#!/bin/sh
# corp-template, and instances through corp-task create --template:
# unique per (template, period), due in the assignee's zone.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add team --tz Europe/Kyiv >/dev/null
corp-user add ann --unit team >/dev/null
corp-user add boss --unit team >/dev/null
ok "add" corp-template add --title "Monthly report" --schedule monthly \
    --due "31 18:00" --assignee ann --initiator boss
is "$(printf '%s' "$out" | jq -c '[.template_id, .schedule, .due_rule,
    .assignee, .initiator, .active]')" '[1,"monthly","31 18:00","ann","boss",true]' \
    "template JSON"
is_rc 65 "bad due rule" corp-template add --title x --schedule weekly \
    --due "31 18:00" --unit team --initiator boss
is_rc 65 "bad schedule" corp-template add --title x --schedule yearly \
    --due "1 00:00" --unit team --initiator boss
is_rc 64 "no assignee" corp-template add --title x --schedule daily \
    --due 09:00 --initiator boss
ok "instance" corp-task create --as boss --template 1 --period 2026-02
is "$(printf '%s' "$out" | jq -c '[.title, .assignee, .assignee_unit,
    .initiator, .due_at, .period_key, .template_id]')" \
    '["Monthly report","ann","team","boss","2026-02-28T16:00:00Z","2026-02",1]' \
    "clamped to Feb 28, 18:00 in Kyiv"
is "$(sql "SELECT dedupe_key FROM events")" "tpl:1:2026-02" "dedupe key tpl:{t}:{period}"
before=$(sql .dump)
is_rc 79 "a second instance of the period" corp-task create --as boss \
    --template 1 --period 2026-02
is_rc 65 "a bad period" corp-task create --as boss --template 1 --period 2026-W05
is_rc 77 "not the initiator" corp-task create --as ann --template 1 --period 2026-03
is "$(sql .dump)" "$before" "refusals wrote nothing"
ok "set" corp-template set 1 --due "15 09:00" --title "Report"
ok "deactivate" corp-template deactivate 1
is_rc 79 "no instance of an inactive template" corp-task create --as boss \
    --template 1 --period 2026-03
is "$(corp-template list | jq -s length)" 0 "list hides inactive"
is "$(corp-template list --all | jq -r .title)" "Report" "list --all"
ok "show" corp-template show 1
is_rc 67 "show unknown" corp-template show 5
done_testing
