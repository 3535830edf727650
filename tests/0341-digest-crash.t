#!/bin/sh
# A digest's close is one transaction (corp-settings.1 "Digests"): a
# route that fails at any write of its closing pass leaves the digest
# open and no row, or closed with its one row, never half; the next pass
# makes exactly one row.  The test VFS (CORP_TEST_VFS) fails the Nth
# write of the process, for every N the fault-free pass makes.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
sqlite_only "the fault VFS (CORP_TEST_VFS) is SQLite's"
use_test_bins	# the programs with the fault VFS
setup
export CORP_SYNCHRONOUS=full	# fault tests run as production does
unset CORP_TEST_VFS
fixture_company
export CORP_NOW=2026-01-05T10:10:00Z
q() { "$@" >/dev/null || bail "$* failed"; }
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel telegram --digest 1h
q corp-task create --as boss --title "One" --assignee ann
q corp-task create --as boss --title "Two" --assignee ann
q corp-event route
# state DB: ann's digest rows | open digests | closed digests
state() {
	sqlite3 "$1" "SELECT (SELECT count(*) FROM deliveries WHERE user_id =
	    $ann AND template = 'digest') || '|' || (SELECT count(*) FROM
	    digests WHERE closed_at IS NULL) || '|' || (SELECT count(*) FROM
	    digests WHERE closed_at IS NOT NULL AND delivery_id IS NOT NULL)"
}
sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$(curdb)" "$T/base.db" || bail "copy"
is "$(state "$T/base.db")" "0|1|0" "before the hour: one open digest, no row"
export CORP_NOW=2026-01-05T11:00:00Z
cp "$T/base.db" "$T/ref.db"
CORP_DB="$T/ref.db" CORP_TEST_VFS="count:$T/count" corp-event route \
    >/dev/null 2>&1
is "$?" 0 "the fault-free pass succeeds"
is "$(state "$T/ref.db")" "1|0|1" "and closes the digest into one row"
max=$(awk '{ for (i = 1; i < NF; i++) if ($i == "write") print $(i + 1) }' \
    "$T/count")
bad="" n=1
while [ "$n" -le "$max" ]; do
	rm -f "$T/f.db" "$T/f.db-wal" "$T/f.db-shm"
	cp "$T/base.db" "$T/f.db"
	CORP_DB="$T/f.db" CORP_TEST_VFS="write:$n:EIO" corp-event route \
	    >/dev/null 2>&1
	s=$(state "$T/f.db")
	case $s in
	"0|1|0"|"1|0|1") ;;
	*) bad="$bad write $n: $s;" ;;
	esac
	CORP_DB="$T/f.db" corp-event route >/dev/null 2>&1 ||
	    bad="$bad write $n: the next pass failed;"
	s=$(state "$T/f.db")
	[ "$s" = "1|0|1" ] || bad="$bad write $n: after the next pass $s;"
	n=$((n + 1))
done
is "$bad" "" "every failed write ($max): all or nothing, then exactly one row"
done_testing
