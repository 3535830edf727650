#!/bin/sh
# contrib/: corp-pipeline's lock, stage lines and exit precedence; the
# scripts shellcheck-clean; the systemd units verified.
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
is "$(printf '%s\n' "$err" | sed 's/: exit.*//' | tr '\n' ',')" \
    "corp-pipeline: instances,corp-pipeline: due,corp-pipeline: route,corp-pipeline: prune,corp-pipeline: pending file,corp-pipeline: fmt file,corp-pipeline: send file,corp-pipeline: ack file,corp-pipeline: advance file," \
    "one line per stage on stderr"

# Another run holds the lock: one line, exit 0.
exec 5>>"$CORP_DATA_DIR/corp-pipeline.lock"
flock -n 5
ok "a run while another holds the lock" "$P"
like "$out" "^corp-pipeline: another run holds .*; nothing to do$" "one line"
is "$(printf '%s\n' "$out" | wc -l)" 1 "exactly one"
exec 5>&-

# Exit precedence 1 > 64 > 65 > 77 > 67 > 79 > 75 > 0 with stub stages.
mkdir "$T/bin"
stub() {	# stub NAME STATUS
	printf '#!/bin/sh\ncat >/dev/null 2>&1 </dev/null; exit %s\n' "$2" > "$T/bin/$1"
	chmod +x "$T/bin/$1"
}
prec() {	# prec "SCHED EVENT" EXPECTED NAME
	set -- $1 "$2" "$3"
	stub corp-sched "$1"
	stub corp-event "$2"
	PATH="$T/bin:$PATH" run "$P" --channel nothing-here
	is "$rc" "$3" "$4"
}
prec "75 79" 79 "79 outranks 75"
prec "77 65" 65 "65 outranks 77"
prec "67 77" 77 "77 outranks 67"
prec "79 67" 67 "67 outranks 79"
prec "65 64" 64 "64 outranks 65"
prec "3 64" 1 "an unknown status counts as 1, which outranks all"
prec "0 0" 0 "all clean: 0"
is_rc 64 "bad option" "$P" --mode sideways

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
