#!/bin/sh
# Host clock against the PostgreSQL server's (sec-review-22c MEDIUM-1;
# corp-deliver.1 Locking): leases are timed by each host's clock, so at
# its first claim on PostgreSQL a process compares the host's real clock
# with clock_timestamp() and warns once past 5 s.  The skew is faked for
# the program alone by an LD_PRELOAD shim of time(3) (CORP_NOW is a
# test clock and is not compared; nothing is written by SQL).  SQLite
# has no server clock: the file is skipped there.
. "${CORP_SRC:-.}/tests/lib.sh"
if ! pg_mode; then
	echo "1..0 # SKIP postgresql-only: the server's clock"
	exit 0
fi
if [ "${CORP_SANITIZE:-}" = 1 ]; then
	echo "1..0 # SKIP LD_PRELOAD shim: the ASan runtime must be loaded first (SANITIZE=1)"
	exit 0
fi
setup
cat > "$T/skew.c" <<'C'
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>
/* time(3), SKEW seconds off the real clock. */
time_t
time(time_t *t)
{
	struct timespec ts;
	const char *o = getenv("SKEW");
	time_t r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = ts.tv_sec + (o != NULL ? atol(o) : 0);
	if (t != NULL)
		*t = r;
	return r;
}
C
${CC:-cc} -shared -fPIC -o "$T/skew.so" "$T/skew.c" || bail "cc failed for the shim"

ann_on_file
for k in 1 2 3; do
	corp-task create --as admin --title "Task $k" --assignee ann >/dev/null ||
	    bail "task $k"
done
corp-event route >/dev/null || bail "route"
routed=$(copydb "$(curdb)") || bail "copydb"

# A host 60 s ahead: one warning naming both clocks and the lease.
SKEW=60 LD_PRELOAD="$T/skew.so" corp-deliver pending --channel file \
    --limit 1 --lease 90s > "$T/p1" 2> "$T/e1"
is "$?:$(wc -l < "$T/p1" | tr -d ' ')" 0:1 "a host 60 s ahead still claims"
like "$(cat "$T/e1")" "^corp-deliver: this host's clock [0-9T:-]*Z differs from the database server's [0-9T:-]*Z by (59|60|61) s \\(leases of 90 s are timed by each host's clock\\): keep the hosts' clocks within a few seconds of the server's \\(NTP\\), or a leased row may be sent twice\$" \
    "... and warns, naming both clocks and the lease"
is "$(wc -l < "$T/e1" | tr -d ' ')" 1 "... one line"

# Behind by a minute: the same.
SKEW=-60 LD_PRELOAD="$T/skew.so" corp-deliver pending --channel file \
    --limit 1 > /dev/null 2> "$T/e2"
like "$(cat "$T/e2")" "differs from the database server's .* by (59|60|61) s \\(leases of 120 s" \
    "a host 60 s behind warns too"

# Within a second or two, and a CORP_NOW far from both: nothing.
CORP_NOW=2030-01-01T00:00:00Z SKEW=0 LD_PRELOAD="$T/skew.so" \
    corp-deliver pending --channel file --limit 1 > /dev/null 2> "$T/e3"
is "$(cat "$T/e3")" "" "clocks agree (CORP_NOW is not compared): no warning"

# One warning per process, however many claims: run, one row a claim.
restoredb "$routed"
SKEW=60 LD_PRELOAD="$T/skew.so" corp-deliver run --channel file \
    --until-empty --batch 1 --out "$T/out" > /dev/null 2> "$T/e4"
is "$?:$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" 0:3 \
    "run sends the three rows, a claim each"
is "$(grep -c "this host's clock" "$T/e4")" 1 "... and warns once"
done_testing
