#!/bin/sh
# Injected faults on files that are not the database (DESIGN 10): the
# LD_PRELOAD interposer tests/fault/preload.c fails the Nth write, fsync,
# open or rename on a matching path, for every N the command makes, of
# corp-cursor set and advance and of corp-send file.  Each run exits 0
# or 1 with the errno text; the cursor file is the old one or the new
# one, never torn; the outbox holds only whole lines, and no sent ack is
# printed for a line the outbox did not fsync.  A disk that fills up in
# the middle of a line leaves no part of it (issue 16.9).  A full stdout
# (/dev/full) is an error too.
. "${CORP_SRC:-.}/tests/lib.sh"
setup

so="${CORP_BUILD:-$CORP_SRC/build}/test/corp-fault.so"
if [ "${CORP_SANITIZE:-}" = 1 ]; then
	skip "LD_PRELOAD interposer: the ASan runtime must be loaded first (SANITIZE=1)"
	skip_all=1
elif [ ! -f "$so" ]; then
	fail "the interposer is built" "no $so (make check builds it)"
	skip_all=1
fi

cur="$CORP_DATA_DIR/bot_deliveries_cursor_telegram.json"
ackline() {
	printf '{"delivery_id":%d,"lease":"x","channel":"telegram","user_id":%d,"event":{"event_id":%d},"result":"sent","stored":"%s"}\n' \
	    "$1$2" "$2" "$1" "$3"
}
{ ackline 5 11 sent; ackline 7 12 retry; ackline 9 1 unchanged; } >"$T/acks"
for i in 1 2 3; do
	printf '{"delivery_id":%d,"lease":"L","channel":"file","address":"x","text":"m%d"}\n' "$i" "$i"
done >"$T/lines"

# fsweep NAME PATHSUB CHECK STDIN CMD...: every N of every op.
fsweep() {
	_name=$1 _sub=$2 _chk=$3 _in=$4
	shift 4
	prep_$_name
	CORP_FAULT_PATH="$_sub" CORP_FAULT_COUNT="$T/count" LD_PRELOAD="$so" \
	    "$@" <"$_in" >/dev/null 2>&1
	is "$?" 0 "$_name: the fault-free run succeeds"
	for op in write fsync open rename; do
		max=$(awk -v op="$op" '$1 == op { print $2 }' "$T/count")
		bad="" runs=0 fails=0 n=1
		while [ "$n" -le "$max" ]; do
			runs=$((runs + 1))
			prep_$_name
			CORP_FAULT="$op:$n" CORP_FAULT_PATH="$_sub" LD_PRELOAD="$so" \
			    "$@" <"$_in" >"$T/f.out" 2>"$T/f.err"
			frc=$?
			why=""
			case $frc in
			0) ;;
			1) fails=$((fails + 1))
			   grep -q 'Input/output error' "$T/f.err" ||
			       why="exit 1 without the errno text: $(cat "$T/f.err")" ;;
			*) why="exit $frc: $(cat "$T/f.err")" ;;
			esac
			[ -z "$why" ] && why=$($_chk "$frc")
			[ -n "$why" ] && bad="$bad
$op:$n: $why"
			n=$((n + 1))
		done
		if [ -z "$bad" ]; then
			pass "$_name: $op faults 1..$max ($runs runs, $fails failed cleanly)"
		else
			fail "$_name: $op faults 1..$max" "$bad"
		fi
	done
}

# The cursor is the old value or the new one, a whole file, and no
# temporary file is left.
cursor_is() {
	got=$(corp-cursor get 2>&1)
	case " $* " in
	*" $got "*) ;;
	*) echo "cursor is '$got', expected one of: $*"; return ;;
	esac
	[ "$(ls "$CORP_DATA_DIR" | grep -c '\.tmp\.')" = 0 ] ||
	    echo "temporary files left: $(ls "$CORP_DATA_DIR")"
}

prep_set() { corp-cursor set 3:4; }
chk_set() {
	if [ "$1" = 0 ]; then cursor_is 8:9; else cursor_is 3:4 8:9; fi
}
prep_advance() { corp-cursor set 3:4; }
chk_advance() {
	if [ "$1" = 0 ]; then cursor_is 7:12; else cursor_is 3:4 7:12; fi
}
prep_file() { rm -f "$T/outbox"; }
# outbox_whole FILE: every line is a whole JSON line, none twice.
outbox_whole() {
	[ -s "$1" ] || return 0
	[ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] ||
	    { echo "the outbox ends inside a line"; return; }
	jq -e . "$1" >/dev/null 2>&1 ||
	    { echo "the outbox holds a torn line: $(cat "$1")"; return; }
	[ "$(jq -r .delivery_id "$1" | sort | uniq -d)" = "" ] ||
	    echo "a line twice in the outbox"
}
chk_file() {
	why=$(outbox_whole "$T/outbox")
	[ -n "$why" ] && { echo "$why"; return; }
	# Every sent ack names a line that is in the outbox, fsynced (also
	# when a later line failed and the stage exits 1); a line acked
	# retry is not there, not even in part.
	[ -s "$T/f.out" ] || return 0
	[ "$(jq -r 'select(.result == "sent") | .delivery_id' "$T/f.out")" = \
	    "$(jq -r .delivery_id "$T/outbox" 2>/dev/null)" ] ||
	    echo "sent acks $(jq -r 'select(.result == "sent") | .delivery_id' \
	    "$T/f.out" | tr '\n' ' ')but the outbox holds $(jq -r \
	    .delivery_id "$T/outbox" 2>/dev/null | tr '\n' ' ')"
	[ "$(jq -r 'select(.result != "sent") | .result' "$T/f.out" |
	    sort -u)" = "$([ "$1" = 0 ] || echo retry)" ] ||
	    echo "unexpected results: $(jq -c '[.delivery_id, .result]' "$T/f.out")"
}

if [ -z "${skip_all:-}" ]; then
	fsweep set bot_deliveries_cursor_telegram chk_set /dev/null \
	    corp-cursor set 8:9
	fsweep advance bot_deliveries_cursor_telegram chk_advance "$T/acks" \
	    corp-cursor advance
	fsweep file "$T/outbox" chk_file "$T/lines" \
	    corp-send file --out "$T/outbox"

	# A disk that fills up half way through line 2: line 2 is cut back
	# out, so the outbox stays whole lines; 2 and 3 are retry, not
	# attempted; the stage exits 1 with the errno text.
	prep_file
	run env CORP_FAULT=write:2:short CORP_FAULT_PATH="$T/outbox" \
	    LD_PRELOAD="$so" corp-send file --out "$T/outbox" <"$T/lines"
	is "$rc" 1 "a full disk mid-line exits 1"
	like "$err" "outbox: write: No space left on device" "with the errno text"
	is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .result, .attempted]' |
	    tr '\n' ' ')" '[1,"sent",true] [2,"retry",false] [3,"retry",false] ' \
	    "line 1 sent; the torn one and the rest retry"
	is "$(cat "$T/outbox")" "$(head -1 "$T/lines")" \
	    "the outbox holds line 1, whole, and nothing of line 2"
	# The retry appends after whole lines: jq reads every one.
	sed -n '2,3p' "$T/lines" > "$T/retry"
	run_in "$T/retry" corp-send file --out "$T/outbox"
	is "$rc:$(jq -r .delivery_id "$T/outbox" | tr '\n' ' ')" "0:1 2 3 " \
	    "after the retry the outbox reads as three whole lines"

	# The directory fsync after the rename counts too.
	corp-cursor set 3:4
	run env CORP_FAULT=fsync:2 CORP_FAULT_PATH="$CORP_DATA_DIR" \
	    LD_PRELOAD="$so" corp-cursor set 8:9
	is "$rc" 1 "a failed directory fsync is a failure"
	like "$err" "fsync directory: Input/output error" "and says which fsync"
	run env CORP_FAULT=write:1:ENOSPC CORP_FAULT_PATH=bot_deliveries \
	    LD_PRELOAD="$so" corp-cursor set 8:9
	like "$err" "No space left on device" "ENOSPC names itself"
fi

# stdout on a full disk: exit 1 with the errno text, for every tool that
# prints.
corp-cursor set 3:4
run sh -c 'corp-cursor get >/dev/full'
is "$rc" 1 "corp-cursor get > /dev/full exits 1"
like "$err" "No space left on device" "with the errno text"
run sh -c "corp-send file --out '$T/outbox2' <'$T/lines' >/dev/full"
is "$rc" 1 "corp-send file > /dev/full exits 1"
like "$err" "stdout: No space left on device" "with the errno text"
run sh -c "corp-deliver stats >/dev/full"
is "$rc" 1 "corp-deliver stats > /dev/full exits 1"

done_testing
