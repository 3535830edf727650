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
# A fallback no catalog has would hold every line that needs it
# (op-review 10): refused at once, 64, with the closest language.
is_rc 64 "--fallback-lang without a catalog" corp-fmt --fallback-lang de < /dev/null
is "$(printf '%s\n' "$err" | sed -n 1p)" "corp-fmt: --fallback-lang: unknown language 'de' (catalogs: en, ru, uk)" \
    "lists the catalogs' languages"
is_rc 64 "--fallback-lang in the wrong case" corp-fmt --fallback-lang EN < /dev/null
is "$(printf '%s\n' "$err" | sed -n 1p)" "corp-fmt: --fallback-lang: unknown language 'EN' (did you mean 'en'?)" \
    "suggests it"
is_rc 64 "a malformed --fallback-lang" corp-fmt --fallback-lang xx_bogus < /dev/null
is "$(printf '%s\n' "$err" | sed -n 1p)" "corp-fmt: --fallback-lang: 'xx_bogus' is not a language tag" "says why"
printf '%s\n' 'de:task_created | "Neue Aufgabe"' > "$T/de.txt"
ok "a language of a --catalog file" corp-fmt --catalog "$T/de.txt" \
    --fallback-lang de < /dev/null
ok "a region of a catalog's language" corp-fmt --fallback-lang en-GB < /dev/null

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

# set-due --due none: TASK_DUE_CHANGED without a due date renders
# none.due_at (it was "no value for {due_at}", the row lost).
fmt '.template = "task_due_changed" | .event.due_at = null'
is "$(printf '%s' "$out" | jq -r .text | sed -n 2p)" "New due date: none" \
    "a removed due date: none.due_at"
fmt '.template = "task_due_changed" | .event.due_at = null | .lang = "uk"'
is "$(printf '%s' "$out" | jq -r .text | sed -n 2p)" \
    "Новий термін: не встановлено" "in Ukrainian"

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
title=$(/usr/bin/python3 -c 'print(" ".join(["слово😀"] * 1000))')
fmt ".event.title = \"$title\""
txt=$(printf '%s' "$out" | jq -r .text)
is "$(printf '%s' "$out" | jq -r '.result // "none"')" none "a long title is not a failure"
is "$(printf '%s' "$txt" | /usr/bin/python3 -c '
import re, sys, html
t = sys.stdin.read()
v = html.unescape(re.sub(r"<[^>]*>", "", t))
print(len(v.encode("utf-16-le")) // 2 <= 4096, len(v.encode("utf-16-le")) // 2 > 4080)')" \
    "True True" "cut to at most 4096 UTF-16 units, close to the limit"
like "$txt" '😀…</b>…|слово😀</b>…' "cut after a whole word, tag closed, ellipsis"
is "$(printf '%s' "$txt" | tail -n 1)" \
    '<a href="https://corp.example/tasks/7">Open task #7</a>' "the link line is kept"
is "$(printf '%s' "$txt" | /usr/bin/python3 -c '
import sys
t = sys.stdin.read()
print(t.count("<b>") == t.count("</b>"), "\ufffd" not in t)')" "True True" \
    "tags balanced, no broken character"

# Issue 15.2: a long word after a short one is cut between characters,
# not dropped ("Note: " + 5000 x U+6F22 rendered as "<b>Note:</b>..." before).
title=$(/usr/bin/python3 -c 'print("Note: " + "\u6f22" * 5000)')
fmt ".event.title = \"$title\""
txt=$(printf '%s' "$out" | jq -r .text)
is "$(printf '%s' "$txt" | /usr/bin/python3 -c '
import re, sys, html
t = sys.stdin.read()
v = html.unescape(re.sub(r"<[^>]*>", "", t))
body, link = t.rsplit("\n\n", 1)
m = re.fullmatch("📋 You have a new task: <b>Note: (\u6f22+)</b>\u2026", body)
# 4096 = 24 (📋 and the text) + 6 ("Note: ") + 4051 + 1 (…) + 2 + 12 (link)
print(len(v.encode("utf-16-le")) // 2, m is not None and len(m.group(1)), link)')" \
    "4096 4051 <a href=\"https://corp.example/tasks/7\">Open task #7</a>" \
    "CJK title: cut between characters to exactly 4096, the link line kept"
title=$(/usr/bin/python3 -c 'print("See https://files.example/" + "a" * 5000)')
fmt ".event.title = \"$title\""
like "$(printf '%s' "$out" | jq -r .text)" \
    "<b>See https://files.example/a{4000,}</b>…

<a href=\"https://corp.example/tasks/7\">Open task #7</a>\$" \
    "a long URL is cut between characters, not dropped"

# Issue 15.8: a missing key or a placeholder without value is a
# configuration error: the line is held (retry, not attempted, error_class
# config), not failed, and stderr gets one line per cause at the end.
held='{"result":"retry","attempted":false,"retry_after":60,"error_class":"config"}'
# outcome: what corp-fmt did to the line in $out; heldas ERROR: a held one.
outcome() {
	printf '%s' "$out" | jq -c '{result, attempted, retry_after,
	    error_class, error, text}'
}
heldas() {
	printf '%s' "$held" | jq -c --arg e "$1" '. + {error: $e, text: null}'
}
rej_at="$CORP_SHARE_DIR/i18n/en.txt:$(grep -n '^en:rejected@executor ' \
    "$CORP_SRC/share/i18n/en.txt" | cut -d: -f1)"
fmt '.template = "no_such_key" | .lang = "ru"'
is "$rc" 0 "a held line does not change the exit code"
is "$(outcome)" \
    "$(heldas "fmt: missing catalog key no_such_key for lang ru or en")" \
    "missing key: held, names key and languages"
is "$(printf '%s' "$out" | jq -c 'keys_unsorted[-5:]')" \
    '["result","attempted","retry_after","error_class","error"]' \
    "the hold fields are added at the end"
is "$err" "corp-fmt: held 1 line (configuration): fmt: missing catalog key no_such_key for lang ru or en" \
    "and one summary line on stderr"
fmt '.template = "rejected" | .event.reason = null'
is "$(outcome)" \
    "$(heldas "fmt: en:rejected@executor ($rej_at): no value for {reason}")" \
    "a placeholder the event cannot fill: held, names key, file:line, placeholder"
cat > "$T/cat.txt" <<'EOF'
# a test catalog
en:custom | "Custom {task.title} {nope}"
en:other | "<b>{task.title}</b> {{literal}}"
en:task_created@executor | "Overridden: {task.title}"
en:brace | "a { b"
EOF
fmt '.template = "custom"' --catalog "$T/cat.txt"
is "$(outcome)" \
    "$(heldas "fmt: en:custom ($T/cat.txt:2): unknown placeholder {nope}")" \
    "an unknown placeholder: held"
fmt '.template = "brace"' --catalog "$T/cat.txt"
is "$(outcome)" "$(heldas "fmt: en:brace ($T/cat.txt:5): unmatched '{' (write '{{' for a literal brace)")" \
    "an unmatched brace: held"
fmt '.template = "other" | .channel = "email"' --catalog "$T/cat.txt"
is "$(outcome)" \
    "$(heldas "fmt: missing catalog key email.subject.other for lang en")" \
    "an e-mail line without a subject key: held"
fmt '.template = "other"' --catalog "$T/cat.txt"
like "$(printf '%s' "$out" | jq -r .text)" "^<b>Monthly report</b> \{literal\}" \
    "--catalog adds keys; {{ }} are braces"
fmt '.' --catalog "$T/cat.txt"
like "$(printf '%s' "$out" | jq -r .text)" "^Overridden: Monthly report" \
    "--catalog overrides the shipped key"

# A line no catalog can help: failed, one stderr line with the trace.
fmt 'del(.event)'
is "$(printf '%s' "$out" | jq -c '[.result, .error, .attempted]')" \
    '["failed","fmt: no event object",null]' "no event object: failed"
is "$err" "corp-fmt: delivery 5: fmt: no event object" "reported per line"
fmt 'del(.template) | del(.event.event_type)'
is "$(printf '%s' "$out" | jq -c '[.result, .error]')" \
    '["failed","fmt: no template and no event_type"]' "no key at all: failed"
is "$err" "corp-fmt: delivery 5: fmt: no template and no event_type trace=tr-9" \
    "with the trace"

# 50 lines, 45 held for two causes: stderr has two lines, not 45.
{
	for i in $(seq 1 30); do
		line ".delivery_id = $i | .template = \"nokey\""
	done
	for i in $(seq 31 45); do
		line ".delivery_id = $i | .template = \"rejected\" |
		    .event.reason = null"
	done
	for i in $(seq 46 50); do line ".delivery_id = $i"; done
} > "$T/fifty"
run_in "$T/fifty" corp-fmt
is "$rc" 0 "50 lines, 45 held: exit 0"
is "$(printf '%s\n' "$out" | jq -r '.result // "text"' | sort | uniq -c |
    awk '{printf "%s=%s ", $2, $1}')" "retry=45 text=5 " \
    "45 held, 5 rendered, none failed"
is "$err" "corp-fmt: held 30 lines (configuration): fmt: missing catalog key nokey for lang en
corp-fmt: held 15 lines (configuration): fmt: en:rejected@executor ($rej_at): no value for {reason}" \
    "stderr: one line per cause, not one per line"

# Which key wins: a later layer over a more specific key of the same list.
mkdir -p "$CORP_DATA_DIR/i18n"
echo 'en:task_created | "Operator: {task.title}"' \
    > "$CORP_DATA_DIR/i18n/local.txt"
fmt '.'
like "$(printf '%s' "$out" | jq -r .text)" "^Operator: Monthly report" \
    "an operator's task_created wins over the shipped task_created@executor"
fmt '.lang = "ru"'
like "$(printf '%s' "$out" | jq -r .text)" "^📋 У вас новая задача" \
    "but not over the user's own language"
echo 'en:task_created@executor | "Operator, executor: {task.title}"' \
    >> "$CORP_DATA_DIR/i18n/local.txt"
fmt '.'
like "$(printf '%s' "$out" | jq -r .text)" "^Operator, executor: Monthly report" \
    "the operator's own variant wins within the operator's layer"
fmt '.role = "initiator"'
like "$(printf '%s' "$out" | jq -r .text)" "^Operator: Monthly report" \
    "other roles get the operator's generic key"
fmt '.' --catalog "$T/cat.txt"
like "$(printf '%s' "$out" | jq -r .text)" "^Overridden: Monthly report" \
    "--catalog over the data dir"
echo 'en:task_created | "Argument: {task.title}"' > "$T/cat2.txt"
fmt '.' --catalog "$T/cat2.txt"
like "$(printf '%s' "$out" | jq -r .text)" "^Argument: Monthly report" \
    "a --catalog generic key over the data dir's variant"
rm -r "$CORP_DATA_DIR/i18n"

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

# Issue 15.8 through the queue, built as an operator builds it: an
# operator text with a placeholder TASK_CREATED cannot fill holds all 50
# rows PENDING, none attempted or FAILED, and corp-fmt says so once.
setup
export CORP_NOW=2026-01-05T10:00:00Z
corp-org add hq --title HQ > /dev/null
corp-user add ann --name Ann --lang en --unit hq > /dev/null
corp-bind add --user ann --channel telegram --address 4242 > /dev/null
for i in $(seq 1 50); do
	corp-task create --as admin --title "Task $i" --assignee ann > /dev/null
done
corp-event route > /dev/null
mkdir -p "$CORP_DATA_DIR/i18n"
echo 'en:task_created | "New: {task.title}, {reason}"' \
    > "$CORP_DATA_DIR/i18n/local.txt"
run sh -c 'corp-deliver pending --channel telegram 2>&1 | corp-fmt |
    corp-deliver ack > /dev/null'
is "$rc" 0 "the pipe exits 0"
is "$err" "corp-fmt: held 50 lines (configuration): fmt: en:task_created ($CORP_DATA_DIR/i18n/local.txt:1): no value for {reason}" \
    "one stderr line for 50 held rows"
is "$(sql "SELECT status || ' ' || attempts || ' ' || CAST(lease_token IS NULL
    AS INTEGER) || ' ' || (not_before - strftime('%s', '2026-01-05T10:00:00Z'))
    || ' ' || error FROM deliveries GROUP BY status, attempts, lease_token,
    not_before, error")" \
    "PENDING 0 1 60 fmt: en:task_created ($CORP_DATA_DIR/i18n/local.txt:1): no value for {reason}" \
    "all 50 PENDING, no attempt counted, back in 60 s, the cause stored"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" 50 \
    "none FAILED"
# The operator fixes the text; a minute later the rows go out.
echo 'en:task_created | "New: {task.title}"' > "$CORP_DATA_DIR/i18n/local.txt"
export CORP_NOW=2026-01-05T10:01:00Z
run sh -c 'corp-deliver pending --channel telegram | corp-fmt |
    jq -r ".text | split(\"\\n\")[0]" | grep -c "^New: Task [0-9]*$"'
is "$out" 50 "fixed: the operator's text renders on all 50 rows"
is "$err" "" "nothing held"

done_testing
