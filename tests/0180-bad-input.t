#!/bin/sh
# Bad input to every JSON-reading command (corp-user import, corp-event
# emit) and to text options: malformed lines, unknown fields, wrong
# types, huge values, SQL metacharacters, NUL and control characters.
# Each is refused as invalid input or stored and shown verbatim.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add team >/dev/null

big=$(head -c 70000 /dev/zero | tr '\0' a)
# Each bad line after a good one: the batch is refused whole, naming
# the bad line (the second) and writing nothing.
/usr/bin/python3 - "$T/bad" "$T/users" "$big" <<'PY'
import json, sys
bad = [
    'not json',
    '{"login":"x","name":"N"',
    '[1,2]',
    '{"login":"u2","nmae":"typo"}',
    '{"login":5}',
    '{"login":"u3","is_admin":"yes"}',
    '{"login":"u4","name":"' + sys.argv[3] + '"}',
    '{"login":"u5","name":"a\\u0000b"}',
    '{"login":"u6","unit":"nounit"}',
    '{"login":"u7","tz":"Mars/Base"}',
    # hostile: SQL in a login
    '{"login":"Robert\'); DROP TABLE users;--"}',
    # hostile end
    '{"login":"ok3","name":"dup","name":"dup2"}',
]
good = [
    '{"login":"ok1","name":"Ok"}',
    # hostile: SQL and control characters in a name
    '{"login":"ok2","name":"Robert\'); DROP TABLE users;-- \\t\\u0001\\u001b[31m"}',
    # hostile end
    '{"login":"ok4","lang":"en-GB","tz":"Europe/Kyiv","unit":"team","active":false}',
]
open(sys.argv[1], "w").write("\n".join(bad) + "\n")
open(sys.argv[2], "w").write("\n".join(good) + "\n\n")
PY
codes=""
lines=""
i=1
while [ "$i" -le 12 ]; do
	{ head -1 "$T/users"; sed -n "${i}p" "$T/bad"; } > "$T/one"
	run_in "$T/one" corp-user import
	codes="$codes $rc"
	lines="$lines $(printf '%s\n' "$err" | sed -n 's/^corp-user: <stdin>:\([0-9]*\):.*; nothing imported$/\1/p')"
	[ -z "$out" ] || fail "bad line $i: printed $out"
	i=$((i + 1))
done
is "$codes" " 65 65 65 65 65 65 65 65 67 65 65 65" \
    "import: each bad line refuses the batch (67: a unit that does not exist; a duplicate key is bad)"
is "$lines" " 2 2 2 2 2 2 2 2 2 2 2 2" "each named by its line, the batch refused whole"
is "$(sql "SELECT count(*) FROM users")" 1 "users table intact, nothing imported"
run_in "$T/users" corp-user import
is "$rc" 0 "import: the good lines"
is "$(printf '%s\n' "$out" | jq -r .login)" "ok1
ok2
ok4" "each imported, the blank line ignored"
# hostile: the name shown as stored
is "$(corp-user show ok2 | jq -r .name)" \
    "$(printf 'Robert'"'"'); DROP TABLE users;-- \t\001\033[31m')" \
    "SQL metacharacters and control characters stored and shown verbatim"
# hostile end
run_in "$T/users" corp-user import
is "$rc:$(printf '%s\n' "$out" | jq -r .result | sort -u)" "0:unchanged" \
    "import is idempotent by login"

# Text options: UTF-8, limits, verbatim control characters.
is_rc 65 "a title over 1000 bytes" corp-task create --as admin \
    --title "$(head -c 1001 /dev/zero | tr '\0' t)" --unit team
is_rc 65 "invalid UTF-8 in a title" corp-task create --as admin \
    --title "$(printf 'a\377b')" --unit team
is_rc 65 "a report over 64 KiB" sh -c 'corp-task submit 1 --as admin --text "$1"' sh "$big"
is_rc 65 "an empty title" corp-task create --as admin --title '' --unit team
# not SQL: an injection attempt in a title, data that corp must store
title=$(printf "x'; DELETE FROM tasks; --\t\033[0m\001")
ok "control characters in a title" corp-task create --as admin \
    --title "$title" --unit team
is "$(printf '%s' "$out" | jq -r .title)" "$title" "stored and shown verbatim"
is "$(sql "SELECT count(*) FROM tasks")" 1 "and nothing deleted"
is_rc 64 "a non-number task id" corp-task approve "1; DROP" --as admin
is_rc 64 "a huge task id" corp-task approve 99999999999999999999999 --as admin
is_rc 64 "a bad --due" corp-task create --as admin --title x --unit team \
    --due tomorrow
is_rc 65 "a bad login" corp-user add "a b"
is_rc 65 "a bad zone" corp-user add zed --tz "../../etc/passwd"

# emit
/usr/bin/python3 - "$T/emit" "$big" <<'PY'
import json, sys
lines = [
    '{"idempotency_key":"g1","source":"s","event_type":"ok_event","payload":{"t":"\\u0001\\u001b","q":"\'; DROP TABLE events;--"}}',
    '{"idempotency_key":"g2","source":"s","event_type":"e","extra":1}',
    '{"idempotency_key":7,"source":"s","event_type":"e"}',
    '{"idempotency_key":"g3","source":"s","event_type":"e","payload":[1]}',
    '{"idempotency_key":"g4","source":"s","event_type":"e","recipients":{"user":"admin"}}',
    '{"idempotency_key":"g5","source":"s","event_type":"e","recipients":[{"user":"admin"}]}',
    '{"idempotency_key":"g6","source":"s","event_type":"e","task_id":-1}',
    '{"idempotency_key":"g7","source":"s","event_type":"e","task_id":424242}',
    '{"idempotency_key":"g8","source":"a b","event_type":"e"}',
    '{"idempotency_key":"' + sys.argv[2][:300] + '","source":"s","event_type":"e"}',
    '{"idempotency_key":"g9","source":"s","event_type":"task_overdue"}',
    '{"idempotency_key":"g10","source":"s","event_type":"e\\u0000"}',
    '{"idempotency_key":"g11","source":"s","event_type":"e","task_id":1.5}',
    '{',
    '{"idempotency_key":"g12","source":"s","event_type":"e","payload":{"n":123456789012345678901234567890}}',
]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
before=$(sql "SELECT count(*) FROM events")
run_in "$T/emit" corp-event emit --new-type e --new-type ok_event
is "$rc" 65 "emit: exit 65 after the bad lines"
is "$(printf '%s\n' "$out" | jq -r .dedupe_key | tr '\n' ' ')" \
    "emit:s:g1 " "only the good line is written"
is "$(printf '%s\n' "$err" | sed -n 's/^corp-event: <stdin>:\([0-9]*\):.*/\1/p' | sort -n | tr '\n' ' ')" \
    "2 3 4 5 6 7 8 9 10 11 12 13 14 15 " "every bad line is reported by number"
is "$(sql "SELECT count(*) - $before FROM events")" 1 "one event"
is "$(corp-event list --type ok_event | jq -r .payload.q)" \
    "'; DROP TABLE events;--" "payload stored verbatim"
ok "corp-db check" corp-db check
done_testing
