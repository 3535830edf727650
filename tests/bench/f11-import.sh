#!/bin/sh
# Figure 11: bulk import -- 2000 telegram binds in one corp-bind import
# call (one transaction, issue 21 item 6; 2000 corp-bind add calls took
# 87 s), against the sqlite3 CLI inserting the same 2000 rows in one
# transaction.  Each run starts from a copy of the same database (2000
# users, no binds); the median of the runs is recorded.  Aim: well
# under a second.
. "$CORP_SRC/tests/bench/lib.sh"

n=2000
if [ "$BENCH" = full ]; then runs=15; else runs=5; fi
tpl="$BT/f11-template"
fresh_db "$tpl" normal
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"login\":\"u%d\",\"name\":\"User %d\"}\n", i, i }' |
    corp-user import >/dev/null || die "f11: user import failed"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"login\":\"u%d\",\"channel\":\"telegram\",\"address\":\"%d\"}\n",
    i, 100000 + i }' > "$BT/f11-binds.jsonl"
# The same rows for the sqlite3 CLI: users u0.. are ids 2.. (admin is 1).
now=$(date -u -d "$CORP_NOW" +%s)
awk -v n="$n" -v now="$now" 'BEGIN { print "BEGIN;"
    for (i = 0; i < n; i++)
	printf "INSERT INTO binds (user_id, channel, address, active, " \
	    "created_at, updated_at) VALUES (%d, '\''telegram'\'', " \
	    "'\''%d'\'', 1, %d, %d);\n", i + 2, 100000 + i, now, now
    print "COMMIT;" }' > "$BT/f11-binds.sql"

# median of the numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# cpu FILE CMD...: run CMD (stdin as given), append its wall ms to FILE
# and its CPU ms (user + sys, which a loaded machine barely changes) to
# FILE.cpu.
cpu() {
	_f=$1
	shift
	_t=$(now_ns)
	/usr/bin/time -f '%U %S' -o "$BT/f11-time" "$@" >/dev/null || return 1
	ms_since "$_t" >> "$_f"
	echo >> "$_f"
	awk '{ printf "%.0f\n", ($1 + $2) * 1000 }' "$BT/f11-time" >> "$_f.cpu"
}
[ -x /usr/bin/time ] || apt_install time || die "f11: /usr/bin/time missing"
i=0
: > "$BT/f11-corp" && : > "$BT/f11-sqlite"
: > "$BT/f11-corp.cpu" && : > "$BT/f11-sqlite.cpu"
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	use_template "$tpl" "$BT/f11-db" normal
	cpu "$BT/f11-corp" corp-bind import < "$BT/f11-binds.jsonl" ||
	    die "f11: corp-bind import failed"
	got=$(sql "SELECT count(*) FROM binds WHERE active = 1")
	[ "$got" = "$n" ] || die "f11: $got binds after import, not $n"
	use_template "$tpl" "$BT/f11-db" normal
	cpu "$BT/f11-sqlite" sqlite3 -batch "$CORP_DATA_DIR/corp.db" \
	    < "$BT/f11-binds.sql" || die "f11: sqlite3 insert failed"
done
c=$(median < "$BT/f11-corp")
b=$(median < "$BT/f11-sqlite")
cc=$(median < "$BT/f11-corp.cpu")
bc=$(median < "$BT/f11-sqlite.cpu")
note "$n binds: corp-bind import median $c ms wall, $cc ms CPU; sqlite3 CLI one transaction $b ms wall, $bc ms CPU ($runs runs)"
record "11 import" "$c" ms "sqlite3 CLI, one transaction" "$b" '<=1000ms' \
    "label=corp-bind_import_of_${n}_binds,_wall runs=$runs binds=$n sync=normal"
record "11 import" "$cc" ms "sqlite3 CLI, one transaction" "$bc" '<=1000ms' \
    "label=corp-bind_import_of_${n}_binds,_CPU runs=$runs binds=$n sync=normal"
