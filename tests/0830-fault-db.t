#!/bin/sh
# Injected database faults (DESIGN 10): the test VFS (CORP_TEST_VFS,
# tests/fault/faultvfs.c, in the test builds) fails the Nth write, sync or open, for every N a
# command makes, of route, a lease, an ack and two transitions (corp-bind
# add, corp-settings config set; corp-task is not on main yet).  Each
# run exits 0, 1 with the errno text, or 75; the database checks clean
# afterwards and holds either the state before or the state after the
# command (never half of it); what a command printed is what is stored;
# and a rerun without the fault reaches the fault-free result.
#
# Quick settings: 3 tasks, leases of 4 rows, EIO and ENOSPC
# (FAULT_TASKS, FAULT_LIMIT, FAULT_ERRNOS); make torture raises them.
. "${CORP_SRC:-.}/tests/lib.sh"
sqlite_only "the fault VFS (CORP_TEST_VFS) and the busy lock are SQLite's"
use_test_bins	# the programs with the fault VFS
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_SYNCHRONOUS=full	# fault tests run as production does
export CORP_NOW=2026-01-05T10:00:00Z
unset CORP_TEST_VFS
errnos=${FAULT_ERRNOS:-EIO ENOSPC}

fixture_tasks "${FAULT_TASKS:-3}"

# base NAME: snapshot the database as the starting point of a sweep.
base() {
	sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp "$CORP_DATA_DIR/corp.db" "$T/base-$1.db"
}

# state DB QUERY: what a command is supposed to change, as text.
state() {
	sqlite3 -batch -noheader "$1" "$2" | tr '\n' ' '
}

# The per-command checks of printed lines against the database.
check_out_none() { return 0; }
check_out_lease() {
	# every printed line's lease is stored on its row
	[ -s "$T/f.out" ] || return 0
	jq -r '"\(.delivery_id) \(.lease)"' "$T/f.out" | while read -r id l; do
		got=$(sqlite3 -batch -noheader "$1" \
		    "SELECT lease_token FROM deliveries WHERE id = $id")
		[ "$got" = "$l" ] || { echo "line $id printed lease $l, stored '$got'"; return 1; }
	done
}
check_out_ack() {
	# every printed "stored" is what the row holds
	[ -s "$T/f.out" ] || return 0
	jq -r '"\(.delivery_id) \(.stored)"' "$T/f.out" | while read -r id s; do
		got=$(sqlite3 -batch -noheader "$1" \
		    "SELECT status || ':' || (lease_token IS NULL) FROM deliveries WHERE id = $id")
		case "$s:$got" in
		sent:SENT:1|failed:FAILED:1|retry:PENDING:1|unchanged:*) ;;
		*) echo "line $id printed stored=$s, row is $got"; return 1 ;;
		esac
	done
}

# sweep NAME QUERY CHECK STDIN CMD...: run CMD on a copy of base-NAME
# once per fault, for every write, sync and open it makes.
sweep() {
	_name=$1 _q=$2 _chk=$3 _in=$4
	shift 4
	cp "$T/base-$_name.db" "$T/ref.db"
	CORP_DB="$T/ref.db" CORP_TEST_VFS="count:$T/count" "$@" \
	    <"$_in" >"$T/ref.out" 2>"$T/ref.err"
	is "$?" 0 "$_name: the fault-free run succeeds"
	before=$(state "$T/base-$_name.db" "$_q")
	after=$(state "$T/ref.db" "$_q")
	isnt "$after" "$before" "$_name: and changes the database"
	for op in write sync open; do
		max=$(awk -v op="$op" '{ for (i = 1; i < NF; i++) if ($i == op) print $(i + 1) }' "$T/count")
		bad="" runs=0 fails=0
		for e in $errnos; do
			[ "$op" != write ] && [ "$e" != EIO ] && continue
			n=1
			while [ "$n" -le "$max" ]; do
				runs=$((runs + 1))
				rm -f "$T/f.db" "$T/f.db-wal" "$T/f.db-shm"
				cp "$T/base-$_name.db" "$T/f.db"
				CORP_DB="$T/f.db" CORP_TEST_VFS="$op:$n:$e" "$@" \
				    <"$_in" >"$T/f.out" 2>"$T/f.err"
				frc=$?
				why=""
				case $frc in
				0) ;;
				1) fails=$((fails + 1))
				   grep -Eq '(Input/output error|No space left on device)' "$T/f.err" ||
				       why="exit 1 without the errno text: $(cat "$T/f.err")" ;;
				75) fails=$((fails + 1)) ;;
				*) why="exit $frc: $(cat "$T/f.err")" ;;
				esac
				if [ -z "$why" ] && ! CORP_DB="$T/f.db" corp-db check >/dev/null 2>"$T/f.chk"; then
					why="corp-db check: $(cat "$T/f.chk")"
				fi
				s=$(state "$T/f.db" "$_q")
				if [ -z "$why" ] && [ "$s" != "$before" ] && [ "$s" != "$after" ]; then
					why="half a change: $s"
				fi
				if [ -z "$why" ] && [ "$frc" = 0 ] && [ "$s" != "$after" ]; then
					why="exit 0 but not stored: $s"
				fi
				if [ -z "$why" ]; then
					why=$($_chk "$T/f.db")
				fi
				if [ -z "$why" ] && [ "$frc" != 0 ]; then
					CORP_DB="$T/f.db" "$@" <"$_in" >/dev/null 2>&1
					s=$(state "$T/f.db" "${RERUN_Q:-$_q}")
					[ "$s" = "$(state "$T/ref.db" "${RERUN_Q:-$_q}")" ] ||
					    why="a rerun reached $s"
				fi
				[ -n "$why" ] && bad="$bad
$op:$n:$e: $why"
				n=$((n + 1))
			done
		done
		if [ -z "$bad" ]; then
			pass "$_name: $op faults 1..$max ($runs runs, $fails failed cleanly)"
		else
			fail "$_name: $op faults 1..$max" "$bad"
		fi
	done
}

: >"$T/empty"

# route ------------------------------------------------------------------
base route
sweep route "SELECT watermark FROM route_state;
    SELECT event_id, user_id, channel, status, readiness FROM deliveries ORDER BY 1, 2, 3;
    SELECT count(*) FROM route_decisions; SELECT count(*) FROM event_recipients" \
    check_out_none "$T/empty" corp-event route
corp-event route >/dev/null

# a lease ------------------------------------------------------------------
base lease
sweep lease "SELECT id, status, lease_token IS NOT NULL FROM deliveries ORDER BY id" \
    check_out_lease "$T/empty" corp-deliver pending --channel telegram --limit "${FAULT_LIMIT:-4}"

# an ack -------------------------------------------------------------------
corp-deliver pending --channel telegram --limit "${FAULT_LIMIT:-4}" --worker w1 >"$T/leased"
jq -c 'if .delivery_id == 2 then . + {result: "retry", error: "HTTP 500"}
    elif .delivery_id == 3 then . + {result: "failed", error: "HTTP 400"}
    else . + {result: "sent", provider_message_id: "m\(.delivery_id)"} end' \
    "$T/leased" >"$T/acks"
base ack
# A commit whose WAL fsync failed may still be visible (it exits 1: the
# safe direction); the rerun then records its lines again as unchanged.
RERUN_Q="SELECT id, status, attempts, lease_token IS NULL, coalesce(error, '') FROM deliveries ORDER BY id" \
sweep ack "SELECT id, status, attempts, lease_token IS NULL, coalesce(error, '') FROM deliveries ORDER BY id;
    SELECT count(*) FROM delivery_attempts" \
    check_out_ack "$T/acks" corp-deliver ack
unset RERUN_Q

# transitions ----------------------------------------------------------------
base bind
sweep bind "SELECT user_id, channel, address, active FROM binds ORDER BY 1, 2;
    SELECT id, readiness FROM deliveries ORDER BY id" \
    check_out_none "$T/empty" corp-bind add --user eve --channel telegram --address 1013
base config
sweep config "SELECT key, value FROM config ORDER BY key" \
    check_out_none "$T/empty" corp-settings config set base_url https://corp.example

# busy: a writer holding the lock past the busy timeout is 75, not 1.
mkfifo "$T/hold"
bg sh -c "sqlite3 -cmd '.timeout 30000' '$CORP_DATA_DIR/corp.db' 'BEGIN IMMEDIATE; SELECT 1;' '.shell cat $T/hold' 'COMMIT;' >/dev/null"
i=0
until [ "$(sqlite3 "$CORP_DATA_DIR/corp.db" 'PRAGMA busy_timeout=0; BEGIN IMMEDIATE; ROLLBACK;' 2>&1 | grep -c locked)" = 1 ] || [ $i -gt 200 ]; do
	i=$((i + 1)); sleep 0.05
done
is_rc 75 "a busy database is 75" env CORP_BUSY_TIMEOUT=1s \
    corp-settings config set base_url https://busy.example
like "$err" "database is busy" "and says so"
# Bounded: should the lock holder have died, opening the fifo must not
# hang.
timeout 20 sh -c 'echo >"$1"' sh "$T/hold" ||
    fail "the lock holder went away"
wait "$bgpid"

# The spec is checked.
is_rc 64 "a bad CORP_TEST_VFS is a usage error" \
    env CORP_TEST_VFS=bogus corp-db status
like "$err" "CORP_TEST_VFS: expected" "says what it expects"

done_testing
