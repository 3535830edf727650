#!/bin/sh
# The time of a loop's log lines (issue 21 item 3; corp.7 Errors): the
# long-running loops (corp-deliver run, corp-event route/tail --follow,
# corp-api, corp-analysis start, corp-tg poll) start each line with an
# RFC 3339 UTC time in milliseconds, of the fake clock when CORP_NOW is
# set, once the loop began; to the journal the level instead, no time.
# One-shot tools and the usage errors of a loop keep their lines as
# they were.  corp-pipeline counts run's timed summary line.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z

ann_on_file
task() {
	corp-task create --as admin --title "$1" --assignee ann >/dev/null ||
	    bail "task"
}

# run: the summary with the fake clock's time, exactly.
task One
corp-event route >/dev/null || bail "route"
run corp-deliver run --channel file --until-empty --out "$T/out"
is "$rc:$err" "0:2026-01-05T10:00:00.000Z corp-deliver: file: sent 1 retry 0 failed 0 held 0" \
    "run's summary: the fake clock's time, milliseconds, UTC"
# The journal: the level, no time.
task Two
corp-event route >/dev/null
: >"$T/j"
JOURNAL_STREAM=$(stat -c %d:%i "$T/j") corp-deliver run --channel file \
    --until-empty --out "$T/out" >/dev/null 2>>"$T/j"
is "$(cat "$T/j")" "<6>corp-deliver: file: sent 1 retry 0 failed 0 held 0" \
    "to the journal: <6>, no time (journald stamps it)"
# The real clock, shifted by a +DURATION CORP_NOW: milliseconds too.
task Three
corp-event route >/dev/null
before=$(date -u +%s)
run env CORP_NOW=+1h corp-deliver run --channel file --until-empty --out "$T/out"
after=$(date -u +%s)
like "$err" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z corp-deliver: file: sent 1 retry 0 failed 0 held 0$' \
    "CORP_NOW=+1h: RFC 3339 with milliseconds"
t=$(date -u -d "$(printf '%s' "$err" | cut -c1-19)Z" +%s)
ok "CORP_NOW=+1h: the real time plus an hour" \
    test "$t" -ge $((before + 3600 - 1)) -a "$t" -le $((after + 3600 + 1))

# Before the loop starts (a usage error), and one-shot tools: no time.
run corp-deliver run --channel file --bogus
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-deliver: unknown option --bogus" \
    "run's usage error: no time"
run corp-task show 999
is "$rc:$err" "67:corp-task: task 999: not found" "a one-shot tool: no time"
run corp-event route -v
is "$rc:$(printf '%s\n' "$err" | head -1)" "0:corp-event: database $(corp-db status | jq -r .path) ($(pg_mode && echo PostgreSQL || echo SQLite))" \
    "route without --follow is one-shot: no time"

# route --follow is a loop: its lines are timed (the -v lines here),
# until SIGTERM.
task Four
bg corp-event route --follow -v >/dev/null 2>"$T/follow.err"
_i=0
while [ "$_i" -lt 400 ] && ! grep -q "route: events" "$T/follow.err"; do
	_i=$((_i + 1))
	sleep 0.05
done
kill -TERM "$bgpid"
wait "$bgpid"
like "$(head -1 "$T/follow.err")" '^2026-01-05T10:00:00\.000Z corp-event: database .* \((SQLite|PostgreSQL)\)$' \
    "route --follow: the database line, timed"
like "$(grep 'route: events' "$T/follow.err")" '^2026-01-05T10:00:00\.000Z corp-event: route: events 1 recipients [0-9]+ rows 1 watermark [0-9]+$' \
    "route --follow: the batch's counts, timed"

# corp-pipeline --mode run: run's timed summary is counted, not passed on.
task Five
run "$CORP_SRC/contrib/corp-pipeline" -v --mode run --channel file
is "$rc" 0 "corp-pipeline --mode run exits 0"
like "$err" "^corp-pipeline: sent 2 retry 0 failed 0 held 0\$" \
    "the pipeline counts run's timed summary (Four and Five)"
unlike "$err" "corp-deliver: file: sent" "run's own summary is not repeated"
done_testing
