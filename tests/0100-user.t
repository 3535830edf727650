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
# A language without a catalog or a zone outside the tz database would be
# stored and silently fall back: refused with the closest name (64).
is_rc 64 "a language without a catalog" corp-user set ann --lang english
is "$err" "corp-user: unknown language 'english' (catalogs: en, ru, uk)" \
    "lists the catalogs' languages"
is_rc 64 "a misspelt language" corp-user add zed --lang ukk
is "$err" "corp-user: unknown language 'ukk' (did you mean 'uk'?)" \
    "suggests one"
ok "a region of a catalog's language" corp-user set ann --lang en-GB
is "$(printf '%s' "$out" | jq -r .lang)" en-GB "stored as given"
is_rc 64 "a misspelt zone" corp-user set ann --tz Europe/Kyyv
is "$err" "corp-user: unknown time zone 'Europe/Kyyv' (did you mean 'Europe/Kyiv'?)" \
    "suggests the zone"
is_rc 64 "add with a zone in the wrong case" corp-user add zed --tz utc
is "$err" "corp-user: unknown time zone 'utc' (did you mean 'UTC'?)" \
    "letter case aside"
is "$(sql "SELECT login || ':' || coalesce(lang, '-') || ':' ||
    coalesce(tz, '-') FROM users ORDER BY id" | tr '\n' ' ')" \
    "admin:-:- ann:en-GB:- " "refused values wrote nothing"
printf '%s\n' '{"login":"imp1","lang":"english"}' \
    '{"login":"imp2","tz":"Europe/Kyyv"}' '{"login":"imp3","lang":"ru"}' \
    > "$T/imp"
run_in "$T/imp" corp-user import
is "$rc" 65 "import: an unknown name in a line is invalid input"
is "$err" "corp-user: <stdin>:1: unknown language 'english' (catalogs: en, ru, uk); nothing imported" \
    "the first bad line named; the batch refused whole"
is "$out:$(sql "SELECT count(*) FROM users WHERE login LIKE 'imp%'")" ":0" \
    "nothing imported, not even the good line"
sed -i 1d "$T/imp"
run_in "$T/imp" corp-user import
is "$rc:$err" "65:corp-user: <stdin>:1: unknown time zone 'Europe/Kyyv' (did you mean 'Europe/Kyiv'?); nothing imported" \
    "the next bad line, by its position in this file"
sed -i 1d "$T/imp"
run_in "$T/imp" corp-user import
is "$rc:$(printf '%s\n' "$out" | jq -c '[.line, .login, .result]')" '0:[1,"imp3","created"]' \
    "the mended file is imported"
ok "deactivate" corp-user deactivate ann
is "$(sql "SELECT active FROM users WHERE login = 'ann'")" 0 "inactive"
is "$(corp-user list | jq -r .login | tr '\n' ' ')" "admin imp3 " \
    "list: active users"
is "$(corp-user list --all | jq -r .login | tr '\n' ' ')" "admin ann imp3 " \
    "list --all"
is "$(corp-user list --unit team --all | jq -s length)" 0 "list --unit"
is_rc 67 "show unknown" corp-user show nobody
is_rc 64 "add without a login" corp-user add
done_testing
