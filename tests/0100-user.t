#!/bin/sh
# corp-user: add, set, show, list, deactivate; zones; exit codes.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add team --tz Europe/Kyiv >/dev/null
ok "add" corp-user add ann --name "Ann A" --lang uk --unit team
is "$(printf '%s' "$out" | jq -c '[.login, .name, .lang, .tz, .zone, .unit,
    .is_admin, .active]')" '["ann","Ann A","uk",null,"Europe/Kyiv","team",false,true]' \
    "user JSON; the zone comes from the unit"
is_rc 79 "add twice" corp-user add ann
is_rc 67 "add into an unknown unit" corp-user add bob --unit nowhere
ok "set tz" corp-user set ann --tz America/New_York --admin
is "$(printf '%s' "$out" | jq -c '[.tz, .zone, .is_admin]')" \
    '["America/New_York","America/New_York",true]' "own zone wins"
ok "clear tz" corp-user set ann --no-tz --no-unit --no-admin
is "$(printf '%s' "$out" | jq -c '[.zone, .unit]')" '["UTC",null]' \
    "no zone anywhere: UTC"
is "$(CORP_TZ=Asia/Tokyo corp-user show ann | jq -r .zone)" Asia/Tokyo \
    "then CORP_TZ"
is_rc 67 "set unknown" corp-user set nobody --name x
is_rc 65 "bad language" corp-user set ann --lang "e n"
ok "deactivate" corp-user deactivate ann
is "$(sql "SELECT active FROM users WHERE login = 'ann'")" 0 "inactive"
is "$(corp-user list | jq -r .login)" admin "list: active users"
is "$(corp-user list --all | jq -r .login | tr '\n' ' ')" "admin ann " \
    "list --all"
is "$(corp-user list --unit team --all | jq -s length)" 0 "list --unit"
is_rc 67 "show unknown" corp-user show nobody
is_rc 64 "add without a login" corp-user add
done_testing
