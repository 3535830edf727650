#!/bin/sh
# corp-fmt: catalogs, lookup order, escaping, dates, the 4096 cut, failed
# lines, pass-through, exit codes.
. "${CORP_SRC:-.}/tests/lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -p "$CORP_DATA_DIR" && chmod 700 "$CORP_DATA_DIR"

is_rc 0 "the shipped catalogs pass check-catalogs" \
    "$CORP_SRC/share/i18n/check-catalogs" -v
like "$out" "3 languages \(en ru uk\).* 0 problems" "three languages, clean"

# The base line, as corp-deliver pending prints it.
cat > "$T/base.json" <<'EOF'
{"delivery_id":5,"lease":"tok","lease_until":"2026-01-05T18:00:00Z","channel":"telegram","address":"12345","user_id":3,"login":"ann","name":"Ann","lang":"en","tz":"Europe/Kyiv","roles":["executor"],"role":"executor","priority":"p2p","template":"task_created","attempt":1,"actor_name":"Bob","assignee_name":"Ann","previous_assignee_name":"Carl","event":{"v":1,"event_id":9,"event_type":"TASK_CREATED","occurred_at":"2026-01-05T10:00:00Z","task_id":7,"report_id":2,"actor_user_id":2,"title":"Monthly report","due_at":"2026-01-31T16:00:00Z","reason":"Numbers missing","period_key":"2026-01","trace_id":"tr-9","links":{"task":"https://corp.example/tasks/7","report":"https://corp.example/tasks/7/report"},"payload":{"service":"Haircut","starts_at":"2026-03-29T09:30:00Z","old_starts_at":"2026-03-28T09:30:00Z","specialist_name":"Dora","client_name":"Eve","booking_id":42}}}
EOF
# line JQ-FILTER: the base line changed by a jq filter.
line() {
	jq -c "$1" "$T/base.json"
}
# fmt JQ-FILTER [OPTIONS]: run corp-fmt on that line ($out, $err, $rc).
fmt() {
	_f=$1
	shift
	line "$_f" > "$T/in"
	run_in "$T/in" corp-fmt "$@"
}

# Every event type in every language, for the generic role and each
# role variant the route defaults use, renders without failure.
for lang in en ru uk; do
	for ev in TASK_CREATED TASK_ASSIGNED TASK_DUE_CHANGED \
	    REPORT_SUBMITTED APPROVED REJECTED TASK_CANCELLED TASK_DUE_SOON \
	    TASK_OVERDUE BOOKING_CREATED BOOKING_CANCELLED \
	    BOOKING_RESCHEDULED BOOKING_DONE; do
		key=$(printf '%s' "$ev" | tr '[:upper:]' '[:lower:]')
		for role in executor initiator supervisor previous_executor \
		    deputy:initiator admin client specialist null; do
			r=$role
			[ "$r" = null ] || r="\"$r\""
			tid=7
			case $ev in BOOKING_*) tid=null;; esac
			line ".lang = \"$lang\" | .template = \"$key\" |
			    .role = $r | .event.event_type = \"$ev\" |
			    .event.task_id = $tid"
		done
	done
done > "$T/all"
run_in "$T/all" corp-fmt
is "$rc" 0 "every event type, language and role: exit 0"
is "$(printf '%s\n' "$out" | jq -s 'length')" \
    "$(wc -l < "$T/all" | tr -d ' ')" "one line out per line in"
is "$(printf '%s\n' "$out" | jq -c 'select(.result or (.text | not)) |
    [.lang, .template, .role, .error]' | head -5)" "" "none failed"
is "$(printf '%s\n' "$out" | jq -s '[.[] | select(.event.task_id) |
    .text | test("\n\n<a href=\"https://corp.example/tasks/7\">[^\n]*#7</a>$")]
    | all')" true "every task message ends with the link line"

# Exact texts.
fmt '.'
is "$(printf '%s' "$out" | jq -r .text)" \
"📋 You have a new task: <b>Monthly report</b>

<a href=\"https://corp.example/tasks/7\">Open task #7</a>" \
    "task_created@executor in English with the link line"
is "$(printf '%s' "$out" | jq -c 'keys_unsorted[-3:]')" \
    '["previous_assignee_name","event","text"]' "text is added at the end"
is "$(printf '%s' "$out" | jq -c 'del(.text)')" "$(line .)" \
    "every other field passes through untouched"

fmt '.lang = "uk" | .role = "initiator" | .template = "rejected"'
is "$(printf '%s' "$out" | jq -r .text)" \
"↩️ Звіт відхилено: <b>Monthly report</b>
Причина: Numbers missing
Відхилив(-ла): Bob

<a href=\"https://corp.example/tasks/7\">Відкрити завдання #7</a>" \
    "no rejected@initiator: the generic key, in Ukrainian"

fmt '.lang = "ru" | .role = "deputy:initiator"'
is "$(printf '%s' "$out" | jq -r .text)" \
"📋 Новая задача (вы получаете её как заместитель): <b>Monthly report</b>

<a href=\"https://corp.example/tasks/7\">Открыть задачу #7</a>" \
    "a deputy role uses the @deputy variant"

# Fallback language.
fmt '.lang = "de"'
like "$(printf '%s' "$out" | jq -r .text)" "^📋 You have a new task" \
    "an unknown language falls back to en"
fmt '.lang = "de"' --fallback-lang ru
like "$(printf '%s' "$out" | jq -r .text)" "^📋 У вас новая задача" \
    "--fallback-lang ru"
fmt '.lang = null' --fallback-lang uk
like "$(printf '%s' "$out" | jq -r .text)" "^📋 У вас нове завдання" \
    "no language: the fallback"
fmt '.lang = "ru_RU"'
like "$(printf '%s' "$out" | jq -r .text)" "^📋 У вас новая задача" \
    "ru_RU finds ru"

# Dates in the user's zone, across the DST change (2026-03-29, Kyiv).
fmt '.template = "task_due_soon" | .event.due_at = "2026-03-29T00:30:00Z"'
like "$(printf '%s' "$out" | jq -r .text)" "Due: 2026-03-29 02:30" \
    "due_at in Kyiv before the change (+02)"
fmt '.template = "task_due_soon" | .event.due_at = "2026-03-29T01:30:00Z"'
like "$(printf '%s' "$out" | jq -r .text)" "Due: 2026-03-29 04:30" \
    "due_at in Kyiv after the change (+03)"
fmt '.template = "task_due_soon" | .tz = null'
like "$(printf '%s' "$out" | jq -r .text)" "Due: 2026-01-31 16:00" \
    "no zone: UTC"

# Booking: .by_WHO variants and payload dates.
bk='.template = "booking_created" | .event.event_type = "BOOKING_CREATED" |
    .event.task_id = null | .event.links = {} | .role = "client"'
fmt "$bk | .event.payload.initiated_by = \"client\""
is "$(printf '%s' "$out" | jq -r .text)" \
"✅ Your booking is confirmed
Service: Haircut
Specialist: Dora
When: 2026-03-29 12:30

ℹ️ Please arrive 5 minutes before your appointment time." \
    "booking_created.by_client@client, payload date in Kyiv (+03), footer"
fmt "$bk | .event.payload.initiated_by = \"admin\" | .lang = \"ru\""
like "$(printf '%s' "$out" | jq -r .text)" "^📅 Для вас создана запись" \
    "booking_created.by_admin@client in Russian"
fmt "$bk | .event.payload.initiated_by = \"specialist\""
like "$(printf '%s' "$out" | jq -r .text)" "^📅 A booking has been made for you" \
    ".by_specialist has no text: KEY@ROLE"
fmt "$bk | .role = \"admin\" | .event.payload.initiated_by = \"client\""
like "$(printf '%s' "$out" | jq -r .text)" "^📅 New booking #42" \
    "KEY.by_WHO@ROLE and KEY.by_WHO missing: KEY@ROLE"
fmt '.template = "booking_done" | .event.event_type = "BOOKING_DONE" |
    .event.task_id = null | .role = "admin" |
    .event.payload.initiated_by = "system" | .lang = "uk"'
like "$(printf '%s' "$out" | jq -r .text)" "^🏁 Прийом за записом №42 завершився" \
    "booking_done.by_system@admin"
unlike "$(printf '%s' "$out" | jq -r .text)" "corp.example" \
    "no link line without a task"

# Hostile values are escaped; the template is not.
fmt '.event.title = "<script>&\"'"'"'</script>" | .actor_name = "<i>x</i>" |
    .template = "task_cancelled" | .role = "initiator" |
    .event.links.task = "https://corp.example/t?a=1&b=\"><script>"'
is "$(printf '%s' "$out" | jq -r .text)" \
"🚫 Task cancelled: <b>&lt;script&gt;&amp;\"'&lt;/script&gt;</b>
Cancelled by &lt;i&gt;x&lt;/i&gt;

<a href=\"https://corp.example/t?a=1&amp;b=&quot;&gt;&lt;script&gt;\">Open task #7</a>" \
    "< > & escaped in text, and \" inside the href"

# E-mail: subject plain, text plain.
fmt '.channel = "email" | .event.title = "A <b> & \"c\"" | .lang = "ru"'
is "$(printf '%s' "$out" | jq -r .subject)" '[#7] Новая задача: A <b> & "c"' \
    "e-mail subject: plain, not escaped"
is "$(printf '%s' "$out" | jq -r .text)" \
"📋 У вас новая задача: A <b> & \"c\"

Открыть задачу #7: https://corp.example/tasks/7" \
    "e-mail text: tags removed, the link written out"
fmt '.channel = "email" | .event.title = "two\nlines"'
is "$(printf '%s' "$out" | jq -r .subject)" "[#7] New task: two lines" \
    "a subject is one line"
fmt '.channel = "webhook"'
like "$(printf '%s' "$out" | jq -r .text)" "<b>Monthly report</b>" \
    "webhook gets the HTML text"
is "$(printf '%s' "$out" | jq 'has("subject")')" false "and no subject"

# The 4096 cut: Cyrillic and emoji, counted in UTF-16; the link line kept.
title=$(python3 -c 'print(" ".join(["слово😀"] * 1000))')
fmt ".event.title = \"$title\""
txt=$(printf '%s' "$out" | jq -r .text)
is "$(printf '%s' "$out" | jq -r '.result // "none"')" none "a long title is not a failure"
is "$(printf '%s' "$txt" | python3 -c '
import re, sys, html
t = sys.stdin.read()
v = html.unescape(re.sub(r"<[^>]*>", "", t))
print(len(v.encode("utf-16-le")) // 2 <= 4096, len(v.encode("utf-16-le")) // 2 > 4080)')" \
    "True True" "cut to at most 4096 UTF-16 units, close to the limit"
like "$txt" '😀…</b>…|слово😀</b>…' "cut after a whole word, tag closed, ellipsis"
is "$(printf '%s' "$txt" | tail -n 1)" \
    '<a href="https://corp.example/tasks/7">Open task #7</a>' "the link line is kept"
is "$(printf '%s' "$txt" | python3 -c '
import sys
t = sys.stdin.read()
print(t.count("<b>") == t.count("</b>"), "\ufffd" not in t)')" "True True" \
    "tags balanced, no broken character"

# A missing key or value: a failed line with a clear message, still printed.
fmt '.template = "no_such_key" | .lang = "ru"'
is "$rc" 0 "a per-line failure does not change the exit code"
is "$(printf '%s' "$out" | jq -c '[.result, .error]')" \
    '["failed","fmt: missing catalog key no_such_key for lang ru or en"]' \
    "missing key: failed, names key and languages"
is "$(printf '%s' "$out" | jq 'has("text")')" false "no blank text"
is "$err" "corp-fmt: delivery 5: fmt: missing catalog key no_such_key for lang ru or en trace=tr-9" \
    "and a stderr line ending with the trace"
fmt '.template = "rejected" | .event.reason = null'
is "$(printf '%s' "$out" | jq -r .error)" \
    "fmt: en:rejected@executor: no value for {reason}" "a null value: failed"
cat > "$T/cat.txt" <<'EOF'
# a test catalog
en:custom | "Custom {task.title} {nope}"
en:other | "<b>{task.title}</b> {{literal}}"
en:task_created@executor | "Overridden: {task.title}"
EOF
fmt '.template = "custom"' --catalog "$T/cat.txt"
is "$(printf '%s' "$out" | jq -r .error)" \
    "fmt: en:custom: unknown placeholder {nope}" "an unknown placeholder: failed"
fmt '.template = "other" | .channel = "email"' --catalog "$T/cat.txt"
is "$(printf '%s' "$out" | jq -r .error)" \
    "fmt: missing catalog key email.subject.other for lang en" \
    "an e-mail line without a subject key: failed"
fmt '.template = "other"' --catalog "$T/cat.txt"
like "$(printf '%s' "$out" | jq -r .text)" "^<b>Monthly report</b> \{literal\}" \
    "--catalog adds keys; {{ }} are braces"
fmt '.' --catalog "$T/cat.txt"
like "$(printf '%s' "$out" | jq -r .text)" "^Overridden: Monthly report" \
    "--catalog overrides the shipped key"

# The data dir overrides the share dir; duplicates within one directory.
mkdir -p "$CORP_DATA_DIR/i18n"
echo 'en:task_created@executor | "From the data dir: {task.title}"' \
    > "$CORP_DATA_DIR/i18n/local.txt"
fmt '.'
like "$(printf '%s' "$out" | jq -r .text)" "^From the data dir: Monthly report" \
    "a key in the data dir overrides the shipped one"
printf '# x\n\nen:task_created@executor | "again {task.title}"\n' \
    > "$CORP_DATA_DIR/i18n/more.txt"
fmt '.'
is "$rc" 65 "a duplicate key within one directory: exit 65"
is "$err" "corp-fmt: $CORP_DATA_DIR/i18n/more.txt:3: duplicate en:task_created@executor (first at $CORP_DATA_DIR/i18n/local.txt:1)" \
    "naming file:line of both"
is "$out" "" "before reading any input"
rm "$CORP_DATA_DIR/i18n/more.txt"
printf 'en:x | not json\n' > "$T/badcat.txt"
fmt '.' --catalog "$T/badcat.txt"
is "$rc:$err" "65:corp-fmt: $T/badcat.txt:1: malformed line: expected {lang}:{key} | \"{text}\"" \
    "a malformed catalog line: 65 with file:line"
printf 'en:x | "unterminated\n' > "$T/badcat.txt"
fmt '.' --catalog "$T/badcat.txt"
like "$rc:$err" "^65:corp-fmt: $T/badcat.txt:1:[0-9]+: text is not a JSON string" \
    "a bad JSON string: 65 with position"
is_rc 1 "a missing --catalog file: exit 1" corp-fmt --catalog "$T/nope.txt"
like "$err" "nope.txt: No such file or directory" "says why"
rm -r "$CORP_DATA_DIR/i18n"

# Non-JSON lines, lines without delivery_id, lines with a result.
{
	line '.delivery_id = 1'
	echo '{"delivery_id": 2, oops}'
	line '.delivery_id = 3 | .result = "retry" | .error = "timeout"'
	line 'del(.delivery_id)'
	echo '[1,2]'
	echo
	line '.delivery_id = 6'
} > "$T/mixed"
run_in "$T/mixed" corp-fmt
is "$rc" 65 "bad input lines: exit 65 after the rest"
is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .result, (.text != null)]')" \
'[1,null,true]
[3,"retry",false]
[null,"failed",false]
[6,null,true]' "the other lines are printed, in order"
is "$(printf '%s\n' "$out" | sed -n 2p)" \
    "$(line '.delivery_id = 3 | .result = "retry" | .error = "timeout"')" \
    "a line with a result passes through untouched"
is "$(printf '%s\n' "$out" | sed -n 3p | jq -r .error)" "missing delivery_id" \
    "a line without delivery_id is failed"
is "$err" "corp-fmt: <stdin>:2:23: string or '}' expected near 'oops'
corp-fmt: <stdin>:4: missing delivery_id trace=tr-9
corp-fmt: <stdin>:5:1: expected a JSON object" "errors name the position"

# Output errors.
line . > "$T/one"
run sh -c 'corp-fmt < "$T/one" > /dev/full'
is "$rc" 1 "stdout to /dev/full: exit 1"
like "$err" "stdout: No space left on device" "with a clear message"
for _ in $(seq 1 2000); do cat "$T/one"; done > "$T/many"
run sh -c '(corp-fmt < "$T/many"; echo "rc=$?" >&2) | head -c 10 >/dev/null'
is "$err" "rc=0" "EPIPE: exit 0, no message"

# Usage.
is_rc 64 "unknown option" corp-fmt --bogus
is_rc 64 "arguments refused" corp-fmt extra
is_rc 0 "--help" corp-fmt --help
like "$out" "^usage: corp-fmt" "--help prints the synopsis"
mkdir "$T/none"
is_rc 1 "no catalogs at all" env CORP_SHARE_DIR="$T/none" corp-fmt
like "$err" "no message catalog" "says so"

done_testing
