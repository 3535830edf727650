#!/bin/sh
# contrib/: corp-pipeline's lock (and a stale holder), quiet success,
# exit precedence and counts with stub stages; the scripts
# shellcheck-clean; the systemd units and the crontab checked.  Its
# behaviour with the real tools end to end is 0265-corp-pipeline.t.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
P="$CORP_SRC/contrib/corp-pipeline"

if command -v shellcheck >/dev/null; then
	ok "shellcheck contrib scripts" shellcheck "$P" \
	    "$CORP_SRC/contrib/corp-telegram-bot" "$CORP_SRC/contrib/demo"
else
	skip "shellcheck is not installed"
fi

ok "a cycle on an empty database" "$P" --channel file --send-opt "--out=$T/out"
is "$out$err" "" "quiet on success: not a word (it printed 8 'exit 0' lines)"

# Another cycle holds the lock: silent exit 0 -- unless it has held it
# longer than --stale: 75, naming it.
exec 5>>"$CORP_DATA_DIR/corp-pipeline.lock"
flock -n 5
ok "a cycle while another holds the lock" "$P"
is "$out$err" "" "silently"
touch -d '2 hours ago' "$CORP_DATA_DIR/corp-pipeline.lock"
is_rc 75 "a holder older than --stale (1h): 75" "$P"
like "$err" "^corp-pipeline: another cycle has held $CORP_DATA_DIR/corp-pipeline.lock for [0-9]+s \\(longer than --stale 1h\\): pid [0-9]+ since 20[0-9-]+T[0-9:]+Z$" \
    "names the lock, the age and the holder"
ok "--stale 3h: still young" "$P" --stale 3h
is "$out$err" "" "silently"
is_rc 64 "--stale needs a duration" "$P" --stale soon
exec 5>&-
# Usage errors: 64, the reason and the synopsis on stderr (corp.7).
for a in "--bogus" "--mode rnu" "--max-rounds 0" "--stale 0s"; do
	# shellcheck disable=SC2086
	run "$P" $a
	is "$rc:$out:$(printf '%s\n' "$err" | sed -n 2p | cut -c1-31)" \
	    "64::usage: corp-pipeline [-q | -v] " "$a: 64, the synopsis on stderr"
done
# The lock is 0600 whatever the umask, as every file corp makes.
rm -f "$CORP_DATA_DIR/corp-pipeline.lock"
(umask 000; "$P" >/dev/null 2>&1)
is "$(stat -c %a "$CORP_DATA_DIR/corp-pipeline.lock")" 600 "a new lock is 0600 under umask 000"

# A symbolic link planted as the lock would make a cycle write the file
# it points to (as root: any file): refused (77), the target untouched.
L="$CORP_DATA_DIR/corp-pipeline.lock"
printf 'precious\n' >"$T/victim"
mv "$L" "$T/lock.keep"
ln -s "$T/victim" "$L"
is_rc 77 "a lock that is a symbolic link is refused" "$P"
is "$err" "corp-pipeline: $L: a symbolic link or not a regular file; remove it (the cycle makes its lock itself)" \
    "naming it and the fix"
is "$(cat "$T/victim")" precious "the link's target is untouched"
ln -s "$T/nowhere" "$T/dangling"
is_rc 77 "--lock naming a dangling link" "$P" --lock "$T/dangling"
ok "no file was created where it points" test ! -e "$T/nowhere"
mkfifo "$T/fifo"
is_rc 77 "--lock naming a FIFO" "$P" --lock "$T/fifo"
rm "$L"
mv "$T/lock.keep" "$L"
ok "the lock file itself is used again" "$P"
like "$(cat "$L")" "^pid [0-9]+ since 20[0-9-]+T[0-9:]+Z *\$" \
    "holding the holder's pid and start"
is "$(wc -c <"$L")" 64 "one fixed-width line, written over in place"

# A misspelt --channel: the tools' refusal once, and 64.
run "$P" --channel telgram
is "$rc" 64 "a channel corp does not deliver on: 64"
is "$err" "corp-cursor: unknown channel 'telgram' (did you mean 'telegram'?)
corp-pipeline: channel telgram: exit 64
corp-pipeline: sent 0 retry 0 failed 0 held 0" "one refusal, not a pipe of usage errors"

# Exit precedence 1 > 64 > 65 > 77 > 67 > 78 > 79 > 75 > 3 > 0 with stub
# stages (the script's own logic, whatever the tools do).
mkdir "$T/bin"
stub() {	# stub NAME STATUS
	printf '#!/bin/sh\ncat >/dev/null 2>&1 </dev/null; exit %s\n' "$2" > "$T/bin/$1"
	chmod +x "$T/bin/$1"
}
prec() {	# prec "SCHED EVENT" EXPECTED NAME
	set -- $1 "$2" "$3"
	stub corp-sched "$1"
	stub corp-event "$2"
	PATH="$T/bin:$PATH" run "$P" --channel file
	is "$rc" "$3" "$4"
}
prec "75 79" 79 "79 outranks 75"
prec "77 65" 65 "65 outranks 77"
prec "67 77" 77 "77 outranks 67"
prec "78 67" 67 "67 outranks 78"
prec "79 78" 78 "78 outranks 79 (the operator's cause)"
prec "65 64" 64 "64 outranks 65"
prec "78 75" 78 "78 outranks 75"
prec "3 78" 78 "78 outranks 3"
prec "0 3" 3 "3 outranks 0"
prec "2 64" 1 "an unknown status counts as 1, which outranks all"
prec "0 0" 0 "all clean: 0"
is "$err" "" "all clean: quiet"
prec "0 75" 75 "a stage's 75"
is "$err" "corp-pipeline: route: exit 75
corp-pipeline: sent 0 retry 0 failed 0 held 0" \
    "a failed stage: its line, then the summary"
rm -f "$T/bin/corp-sched" "$T/bin/corp-event"

# The pipe's counts come from what ack stored.  A wrapper around the
# real corp-send stands for the stages that hold a line for a
# configuration error (corp-fmt, corp-send: issue 15 item 8) and for a
# server that refuses one chat: ann's lines are held (two causes), bob's
# sent, eve's refused for good.
corp-org add sales --title Sales >/dev/null || bail "org"
for u in ann bob eve; do
	corp-user add $u --unit sales >/dev/null &&
	    corp-bind add --user $u --channel file --address $u >/dev/null ||
	    bail "user $u"
done
corp-settings config set default_channel file >/dev/null &&
    corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel file >/dev/null || bail "settings"
for t in ann:A1 ann:A2 bob:B1 eve:E1; do
	corp-task create --as admin --title "${t#*:}" --assignee "${t%:*}" \
	    >/dev/null || bail "task $t"
done
mkdir "$T/wrap"
cat > "$T/wrap/corp-send" <<'SH'
#!/bin/sh
jq -c 'if .login == "ann" then . + {result: "retry", attempted: false,
    retry_after: 60, error_class: "config", error: (if .event.title == "A1"
    then "no catalog key task_created (en)" else
    "placeholder {payload.room} has no value" end)}
  elif .login == "eve" then . + {result: "failed", error: "chat not found"}
  else . end' | "$CORP_BUILD/bin/corp-send" "$@"
SH
chmod +x "$T/wrap/corp-send"
PATH="$T/wrap:$PATH" run "$P" --channel file --send-opt "--out=$T/out"
is "$rc" 78 "rows held for a configuration error: 78 (outranks 3)"
is "$err" "corp-pipeline: file: held 1: no catalog key task_created (en)
corp-pipeline: file: held 1: placeholder {payload.room} has no value
corp-pipeline: sent 1 retry 0 failed 1 held 2" \
    "one line per cause, then the summary of what ack stored"
is "$(sql "SELECT u.login, d.status, d.attempts, CAST(d.held_since IS NULL AS INTEGER)
    FROM deliveries d JOIN users u ON u.id = d.user_id ORDER BY d.id" | tr '\n' ' ')" \
    "ann|PENDING|0|0 ann|PENDING|0|0 bob|SENT|1|1 eve|FAILED|1|1 " \
    "ann's rows held (no attempt), bob's sent, eve's in the dead-letter queue"
PATH="$T/wrap:$PATH" run "$P" --channel file --send-opt "--out=$T/out"
is "$rc:$out$err" "0:" "the next minute, the held rows not yet due: quiet, 0"
export CORP_NOW=+2m
PATH="$T/wrap:$PATH" run "$P" --channel file --send-opt "--out=$T/out"
is "$rc:$err" "78:corp-pipeline: file: held 1: no catalog key task_created (en)
corp-pipeline: file: held 1: placeholder {payload.room} has no value
corp-pipeline: sent 0 retry 0 failed 0 held 2" "two minutes on: held again, 78 again"
export CORP_NOW=+4m
run "$P" --channel file --send-opt "--out=$T/out"
is "$rc:$err" "0:" \
    "the configuration fixed: sent, 0, silent (README: silent when all is well)"
unset CORP_NOW

# -v prints the summary even when all is well (op-review 13), after
# each stage's exit status, 0 included (issue 21 item 3); --version.
run "$P" -v --channel file --send-opt "--out=$T/out"
is "$rc:$(printf '%s\n' "$err" | tail -1)" "0:corp-pipeline: sent 0 retry 0 failed 0 held 0" "-v: the summary of an idle cycle"
is "$(printf '%s\n' "$err" | grep -c ': exit 0$')" 10 "-v: each of the 10 stages' exit 0"
run "$P" --version
is "$rc:$out" "0:corp-pipeline $(corp-db --version | sed 's/^corp-db //')" \
    "--version: corp-pipeline VERSION, 0"

# A usage error a stage prints passes through whole: two stages' synopses
# share lines, none of them dropped (the dedup keeps messages, not lines).
mkdir -p "$T/use"
printf '#!/bin/sh\ncat >/dev/null\necho "corp-send: unknown option --x" >&2\necho "usage: corp-send x" >&2\necho "common options: --db PATH" >&2\necho "corp-send: unknown option --x" >&2\necho "usage: corp-send x" >&2\necho "common options: --db PATH" >&2\nexit 64\n' > "$T/use/corp-send"
printf '#!/bin/sh\necho "corp-fmt: unknown option --y" >&2\necho "usage: corp-fmt y" >&2\necho "common options: --db PATH" >&2\ncat\nexit 64\n' > "$T/use/corp-fmt"
chmod +x "$T/use/corp-send" "$T/use/corp-fmt"
q() { "$@" >/dev/null || bail "$*"; }
q corp-task create --as admin --title "For the synopsis" --assignee bob
PATH="$T/use:$PATH" run "$P" --channel file
is "$(printf '%s\n' "$err" | grep -v '^corp-pipeline: ' | sort)" "common options: --db PATH
common options: --db PATH
corp-fmt: unknown option --y
corp-send: unknown option --x
usage: corp-fmt y
usage: corp-send x" "each message once, with every line of its synopsis"

is_rc 64 "bad option" "$P" --mode sideways

# contrib/crontab mails only on failure: every job keeps its output and
# prints it, with the exit status, only when it exits non-zero (cron
# mails what a job prints).  Run its corp-pipeline job as cron would,
# with a stand-in corp-pipeline that talks and exits as told.
C="$CORP_SRC/contrib/crontab"
job=$(grep '^\* \* \* \* \*  out=$(corp-pipeline ' "$C" | sed 's/^\([^ ]* \)\{5\} *//')
printf '#!/bin/sh\necho "corp-pipeline: sent 3 retry 0 failed 0 held 0" >&2\nexit ${STATUS:-0}\n' \
    > "$T/bin/corp-pipeline"
chmod +x "$T/bin/corp-pipeline"
is "$(STATUS=0 PATH="$T/bin:$PATH" sh -c "$job")" "" "crontab: a cycle that exits 0 mails nothing"
is "$(STATUS=78 PATH="$T/bin:$PATH" sh -c "$job")" "corp-pipeline: sent 3 retry 0 failed 0 held 0
corp-pipeline: exit 78" "a cycle that exits 78: its output and the status"
is "$(grep -Ev '^(#|$|[A-Z_]+=)' "$C" | grep -cv ') || { s=$?; echo "$out"; echo "[a-z -]*: exit $s"; }$')" 0 \
    "every job in the crontab follows that rule"
is "$(grep -Ev '^(#|$)' "$C" | grep -c '%')" 0 "no % (a newline to cron) in a job"

if command -v systemd-analyze >/dev/null; then
	mkdir "$T/units"
	for u in corp-pipeline.service corp-pipeline.timer corp-route.service \
	    corp-deliver@.service; do
		sed "s|/usr/local/bin/corp-pipeline|$P|; s|/usr/local/bin/|$CORP_BUILD/bin/|" \
		    "$CORP_SRC/contrib/$u" > "$T/units/$u"
	done
	cp "$T/units/corp-deliver@.service" "$T/units/corp-deliver@telegram.service"
	run systemd-analyze verify --man=no "$T/units/corp-pipeline.service" \
	    "$T/units/corp-pipeline.timer" "$T/units/corp-route.service" \
	    "$T/units/corp-deliver@telegram.service"
	is "$rc:$(printf '%s' "$err" | grep -v 'Failed to \|systemd-journald\|lacks both\|/dev/console' )" "0:" \
	    "systemd-analyze verify clean"
else
	skip "systemd-analyze is not available"
fi
done_testing
