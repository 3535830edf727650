#!/bin/sh
# -q/--quiet and -v/--verbose, common options of every tool (issue 21
# item 3; corp.7 Verbosity): --quiet drops notices, progress and summary
# lines, never a warning, an error or an exit code; --verbose adds debug
# lines (<7> to the journal) where there is something to say.  The last
# one given counts; corp passes them on; corp-settings' quiet hours are
# --quiet-hours now, and "--quiet HH:MM-HH:MM" says so (64).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z

ann_on_file
db=$(corp-db status | jq -r .path)
kind=SQLite
if pg_mode; then kind=PostgreSQL; fi

# The option machinery: every tool's -h and --cli-spec show them.
for t in corp-task corp-db corp-deliver corp-fmt corp-api corp-tg; do
	like "$($t -h | grep '^common options:')" ' -q \| -v ' "$t -h shows -q | -v"
	is "$($t --cli-spec | jq -c '.common | map(select(. == "quiet" or . == "verbose"))')" \
	    '["quiet","verbose"]' "$t --cli-spec lists quiet and verbose"
done

# --verbose: the database opened, before or after the verb, short or
# long; stdout unchanged.
corp-task list >"$T/plain" 2>"$T/plain.err"
run corp-task -v list
is "$rc:$err" "0:corp-task: database $db ($kind)" "-v: which database was opened"
is "$out" "$(cat "$T/plain")" "-v: stdout as without it"
run corp-task list --verbose
is "$rc:$err" "0:corp-task: database $db ($kind)" "--verbose after the verb"
run corp-task list -v -q
is "$rc:$err" "0:" "the last one counts (-q)"
run corp-task list -q -v
is "$rc:$err" "0:corp-task: database $db ($kind)" "the last one counts (-v)"
run corp-task list
is "$rc:$err" "0:" "no debug line by default"
# To the journal: level 7.
: >"$T/j"
JOURNAL_STREAM=$(stat -c %d:%i "$T/j") corp-task list -v >/dev/null 2>>"$T/j"
is "$(cat "$T/j")" "<7>corp-task: database $db ($kind)" "to the journal: <7>"
# The front door passes them on.
run corp -v task list
is "$rc:$err" "0:corp-task: database $db ($kind)" "corp -v task list"
run corp --quiet -v db status
is "$rc:$err" "0:corp-db: database $db ($kind)" "corp --quiet -v db status"
# Flags: no value.
run corp-task list --verbose=2
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: option --verbose takes no value" \
    "--verbose=2: a usage error"
# A value that is "-v" goes with '='.
run corp-task create --as admin --title=-v --assignee ann
is "$rc:$(printf '%s' "$out" | jq -r .title)" "0:-v" "--title=-v is a title"

# --quiet: warnings and errors stay, exit codes too.
run sh -c 'echo "not json" | corp-deliver ack -q'
is "$rc:$err" "65:corp-deliver: <stdin>:1:3: invalid token near 'not'" \
    "-q: a warning still prints, the exit code stays"
run corp-task show 999 --quiet
is "$rc:$err" "67:corp-task: task 999: not found" "-q: an error still prints"

# run: --quiet drops the summary, --verbose adds the counts per group.
corp-event route >/dev/null || bail "route"
run corp-deliver run --channel file --until-empty --out "$T/out" -q
is "$rc:$err" "0:" "run -q: no summary"
corp-task create --as admin --title "Two" --assignee ann >/dev/null
corp-task create --as admin --title "Three" --assignee ann >/dev/null
corp-event route >/dev/null
run corp-deliver run --channel file --until-empty --out "$T/out" -v --batch 1
is "$rc:$err" "0:2026-01-05T10:00:00.000Z corp-deliver: database $db ($kind)
2026-01-05T10:00:00.000Z corp-deliver: file: claimed 1 sent 1 retry 0 failed 0 unbound 0
2026-01-05T10:00:00.000Z corp-deliver: file: claimed 2 sent 2 retry 0 failed 0 unbound 0
2026-01-05T10:00:00.000Z corp-deliver: file: sent 2 retry 0 failed 0 held 0" \
    "run -v: the database, the counts after each group, the summary"
# route -v: the counts after each batch that moved the watermark.
corp-task create --as admin --title "Four" --assignee ann >/dev/null
run corp-event route -v
like "$err" "^corp-event: database .* \($kind\)
corp-event: route: events 1 recipients 1 rows 1 watermark [0-9]+\$" "route -v: the counts"
run corp-event route --verbose
is "$rc:$err" "0:corp-event: database $db ($kind)" "route -v with nothing to route: no count line"

# corp-db check: the common --quiet keeps its meaning there.
run corp-db check -q
is "$rc:$out" "0:" "corp-db check -q: no lines"

# corp-settings: --quiet-hours; the old spelling is refused with a hint.
run corp-settings prefs set --user ann --quiet 22:00-07:00
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-settings: --quiet takes no value (did you mean --quiet-hours?)" \
    "--quiet HH:MM-HH:MM: did you mean --quiet-hours"
run corp-settings prefs set --user ann --quiet 22:00-07:00 -v
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-settings: --quiet takes no value (did you mean --quiet-hours?)" \
    "a -v after it does not hide the hint"
run corp-settings prefs set --user ann --quiet=22:00-07:00
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-settings: --quiet takes no value (did you mean --quiet-hours?)" \
    "--quiet=HH:MM-HH:MM too"
is "$(corp-settings prefs show --user ann | jq -r .quiet)" null "nothing was set"
run corp-settings prefs set --user ann --quiet-hours 22:00-07:00
is "$rc:$(printf '%s' "$out" | jq -r .quiet)" "0:22:00-07:00" "--quiet-hours sets them"
run corp-settings prefs set --user ann --no-quiet-hours -q
is "$rc:$(printf '%s' "$out" | jq -r .quiet)" "0:null" "--no-quiet-hours clears them (-q beside it is the common one)"
# Elsewhere a word after -q is an operand as ever.
run corp-task show -q 1
is "$(printf '%s' "$out" | jq -r .task_id)" 1 "corp-task show -q 1: 1 is the task"

# corp-pipeline: -v says the summary of an idle cycle, -q (the last
# one given) never.
P=$CORP_SRC/contrib/corp-pipeline
run "$P" -v --channel file
is "$rc" 0 "corp-pipeline -v exits 0"
like "$err" "^corp-pipeline: sent 1 retry 0 failed 0 held 0\$" "corp-pipeline -v: the summary (Four, routed by the cycle)"
run "$P" -v -q --channel file
is "$rc:$err" "0:" "corp-pipeline -v -q: silent"
done_testing
