#!/bin/sh
# Progress and log levels (issue 21 item 3; corp.7 Errors,
# corp-deliver.1 run): with standard error the journal (JOURNAL_STREAM
# names its device and inode) every line carries its syslog level --
# <3> the error a tool exits on, <4> a warning, <6> run's summary --
# and nothing anywhere else (an error at a terminal never gains a
# prefix or a time).  On a terminal (a pty from python3) run shows a
# progress line with count, rate and ETA, cleared at the end; not on a
# file.  The journal is played by a file: what matters is that stderr's
# device and inode are JOURNAL_STREAM's.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z

ann_on_file
tasks() {
	_i=0
	while [ "$_i" -lt "$1" ]; do
		corp-task create --as admin --title "Task $_i" --assignee ann \
		    >/dev/null || bail "task"
		_i=$((_i + 1))
	done
	corp-event route >/dev/null || bail "route"
}
# journal FILE CMD...: CMD with stderr appended to FILE, as the journal.
journal() {
	_f=$1
	shift
	: >>"$_f"
	JOURNAL_STREAM=$(stat -c %d:%i "$_f") "$@" 2>>"$_f"
}

# The error a tool exits on: <3>, the usage's synopsis lines as they are.
journal "$T/j1" corp-task create --as admin --title x --bogus >/dev/null
is "$?" 64 "a usage error exits 64"
is "$(head -1 "$T/j1")" "<3>corp-task: unknown option --bogus" \
    "to the journal: level 3, then the message as ever"
# The same without the journal, or with a JOURNAL_STREAM that is not
# stderr (a service whose stderr was redirected), or a malformed one.
corp-task create --as admin --title x --bogus >/dev/null 2>"$T/e1"
is "$(head -1 "$T/e1")" "corp-task: unknown option --bogus" \
    "not the journal: no prefix, no time"
: >"$T/other"
JOURNAL_STREAM=$(stat -c %d:%i "$T/other") corp-task create --as admin \
    --title x --bogus >/dev/null 2>"$T/e2"
is "$(head -1 "$T/e2")" "corp-task: unknown option --bogus" \
    "JOURNAL_STREAM of another file: no prefix"
JOURNAL_STREAM=junk corp-task create --as admin --title x --bogus \
    >/dev/null 2>"$T/e3"
is "$(head -1 "$T/e3")" "corp-task: unknown option --bogus" \
    "a malformed JOURNAL_STREAM: ignored"
# An error from the library (not found), and one in the environment.
journal "$T/j2" corp-task show 999 >/dev/null
is "$?:$(cat "$T/j2")" "67:<3>corp-task: task 999: not found" "a failure: <3>"
journal "$T/j3" env CORP_NOW=yesterday corp-task list >/dev/null
like "$(cat "$T/j3")" "^<3>corp-task: CORP_NOW: " "an environment error: <3> too"

# run's summary: a notice; a run that failed rows: warnings.
tasks 3
journal "$T/j4" corp-deliver run --channel file --until-empty --out "$T/out" >/dev/null
is "$?" 0 "run exits 0"
is "$(cat "$T/j4")" "<6>corp-deliver: file: sent 3 retry 0 failed 0 held 0" \
    "to the journal: the summary is a notice, no progress line"
corp-deliver run --channel file --until-empty --out "$T/out" >/dev/null 2>"$T/e4"
is "$?:$(cat "$T/e4")" "0:" "an idle run is silent"

# A progress line on a terminal: count of the rows ready at the start,
# rate, ETA, sent/retry/failed/unbound; cleared before the summary.
tasks 4
cat > "$T/ptyrun.py" <<'EOF'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
buf = b""
while True:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    buf += d
p.wait()
sys.stdout.write(buf.decode().replace("\r", "<CR>").replace("\x1b[K", "<EL>"))
sys.exit(p.returncode)
EOF
run python3 "$T/ptyrun.py" corp-deliver run --channel file --until-empty --out "$T/out"
is "$rc" 0 "run on a terminal exits 0"
like "$out" '^<CR><EL>corp-deliver run: file: 4/4 [0-9]+\.[0-9]/s ETA -: sent 4 retry 0 failed 0 unbound 0' \
    "the progress line: done/total, rate, ETA, the results"
like "$out" '<CR><EL>2026-01-05T10:00:00\.000Z corp-deliver: file: sent 4 retry 0 failed 0 held 0<CR>$' \
    "cleared before the summary (a loop's line: its time first)"
# Not a terminal: no progress line.
tasks 2
corp-deliver run --channel file --until-empty --out "$T/out" >/dev/null 2>"$T/e5"
is "$(cat "$T/e5")" "2026-01-05T10:00:00.000Z corp-deliver: file: sent 2 retry 0 failed 0 held 0" \
    "stderr a file: the summary only, with its time"

# corp-event route on a terminal: after each batch, events done of
# those past the watermark at the start, rate, ETA, rows; cleared.
_i=0
while [ "$_i" -lt 30 ]; do
	corp-task create --as admin --title "Fan $_i" --assignee ann \
	    >/dev/null || bail "task"
	_i=$((_i + 1))
done
run python3 "$T/ptyrun.py" corp-event route --batch 10
is "$rc" 0 "route on a terminal exits 0"
like "$out" '^<CR><EL>corp-event route: 10/30 [0-9]+\.[0-9]/s ETA [0-9hms]+: rows 10<CR><EL>corp-event route: 20/30 [0-9]+\.[0-9]/s ETA [0-9hms]+: rows 20<CR><EL>corp-event route: 30/30 [0-9]+\.[0-9]/s ETA -: rows 30<CR><EL>$' \
    "a line per batch, then cleared"
corp-task create --as admin --title "Fan 31" --assignee ann >/dev/null || bail "task"
corp-event route > "$T/r.out" 2> "$T/r.err"
is "$?:$(cat "$T/r.err"):$(jq -c '[.events, .rows]' "$T/r.out")" "0::[1,1]" \
    "not a terminal: no progress line, the summary on stdout as ever"
corp-deliver run --channel file --until-empty --out "$T/out" >/dev/null 2>&1

# corp-pipeline: a stage's exit 0 only with -v; to the journal, levels.
P="$CORP_SRC/contrib/corp-pipeline"
tasks 1
run "$P" --channel file --send-opt "--out=$T/out"
is "$rc:$err" "0:" "corp-pipeline: all sent, silent: no exit 0 lines"
tasks 1
run "$P" -v --channel file --send-opt "--out=$T/out"
is "$rc" 0 "corp-pipeline -v exits 0"
is "$(printf '%s\n' "$err" | tr '\n' '|')" \
    "corp-pipeline: instances: exit 0|corp-pipeline: due: exit 0|corp-pipeline: route: exit 0|corp-pipeline: prune: exit 0|corp-pipeline: pending file: exit 0|corp-pipeline: fmt file: exit 0|corp-pipeline: send file: exit 0|corp-pipeline: ack file: exit 0|corp-pipeline: tee file: exit 0|corp-pipeline: advance file: exit 0|corp-pipeline: sent 1 retry 0 failed 0 held 0|" \
    "-v: each stage's exit 0, then the summary"
tasks 1
journal "$T/j5" "$P" -v --channel file --send-opt "--out=$T/out"
is "$?" 0 "corp-pipeline -v to the journal exits 0"
is "$(grep -c '^<6>corp-pipeline: [a-z ]*: exit 0$' "$T/j5"):$(tail -1 "$T/j5")" \
    "10:<6>corp-pipeline: sent 1 retry 0 failed 0 held 0" \
    "to the journal: the stages' 0 and the summary are notices"
journal "$T/j6" "$P" --channel nosuch
is "$?" 64 "an unknown channel: 64"
is "$(grep '^<3>corp-pipeline:' "$T/j6")" "<3>corp-pipeline: channel nosuch: exit 64" \
    "a failed stage: an error"
like "$(cat "$T/j6")" "<3>corp-cursor: unknown channel 'nosuch'" \
    "the tool that refused says its own level"
done_testing
