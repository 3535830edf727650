#!/bin/sh
# Issue 17's house rules, checked on the source tree: one owning module
# per table (lib/OWNERS, tests/tools/owners.py: a lookup or write of a
# table outside its owner fails unless declared; no "pending" line is
# left, and one that comes back fails), and cmd/ never begins a
# transaction (the lib entry point owns it: HACKING CONVENTIONS).
. "${CORP_SRC:-.}/tests/lib.sh"
M="python3 $CORP_SRC/tests/tools/owners.py"

run $M "$CORP_SRC"
is "$rc:$(printf '%s\n' "$out" | grep -E '^(violation|stale|unowned|pending)')" \
    "0:" "lib/ keeps lib/OWNERS"
is "$(grep -c '^pending' "$CORP_SRC/lib/OWNERS")" 0 "lib/OWNERS has no pending line"

# The check itself: a lookup outside the owner is caught, and a pending
# line that no longer matches anything is stale.
mkdir -p "$T/tree/lib/sql"
cp "$CORP_SRC"/lib/sql/*.sql "$T/tree/lib/sql/"
cp "$CORP_SRC/lib/OWNERS" "$T/tree/lib/"
printf '%s\n' 'static const char Q[] = "SELECT login FROM users "' \
    '    "WHERE id = ?1";' > "$T/tree/lib/route.c"
run $M "$T/tree"
is "$rc" 1 "a foreign lookup fails the check"
like "$out" "violation users route" "named: table and module"
like "$out" "stale tasks visibility" "a declared query gone is stale"
printf '%s\n' 'static const char Q[] = "SELECT u.login FROM deliveries d "' \
    '    "JOIN users u ON u.id = d.user_id";' > "$T/tree/lib/queue.c"
run $M "$T/tree"
unlike "$out" "violation users queue" "a JOIN for display is allowed"
# A pending line that comes back fails, though it names a real lookup.
echo 'pending users route WP9' >> "$T/tree/lib/OWNERS"
run $M "$T/tree"
is "$rc" 1 "a pending line fails the check"
like "$out" "pending users route WP9" "named"

# HACKING's map of modules matches the tree (tests/tools/hackmap.sh):
# every lib/ and cmd/ file named in it, every file it names present.
H="sh $CORP_SRC/tests/tools/hackmap.sh"
run $H "$CORP_SRC"
is "$rc:$out" "0:" "HACKING names every lib/*.[ch] and cmd/*.[ch] file"
mkdir -p "$T/map/lib" "$T/map/cmd"
printf '%s\n' 'LAYOUT' '  queue.[ch]  the queue' '  gone.c      removed' \
    '  cmd/corp-send.c (and cmd/corp-X.c, a placeholder)' > "$T/map/HACKING"
: > "$T/map/lib/queue.c"; : > "$T/map/lib/queue.h"
: > "$T/map/lib/queueline.c"; : > "$T/map/cmd/corp-send.c"
run $H "$T/map"
is "$rc:$out" "1:unnamed lib/queueline.c
gone lib/gone.c" "a file the map lacks, and one it names that is gone"

# Transactions: none begun in cmd/.
for f in "$CORP_SRC"/cmd/*.c; do
	n=$(grep -c 'corp_db_\(begin\|commit\|rollback\)' "$f")
	is "$n" 0 "${f##*/} begins no transaction"
done

done_testing
