#!/bin/sh
# Figure 6: start-up -- one invocation of corp-cursor get and of
# corp-deliver pending --peek --limit 1, timed by hyperfine, against
# sqlite3 :memory: 'select 1' (the sqlite3 CLI: the pipeline citizen
# DESIGN 9 compares with); and the instructions each executes
# (callgrind), which a loaded machine does not change.  Beside that
# baseline, sqlite3 FILE 'select 1 from deliveries limit 1' on the very
# database pending reads: what SQLite itself costs to open a corp
# database (the first statement parses every CREATE of sqlite_schema;
# :memory: has none), so the report shows how much of the gap is corp's.
. "$CORP_SRC/tests/bench/lib.sh"

queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
use_template "$BT/drain-template" "$BT/f6-db" normal
corp-cursor set --channel telegram 5:500 || die "f6: cursor set failed"
if [ "$BENCH" = full ]; then runs=300; else runs=100; fi

have hyperfine || apt_install hyperfine || true
if have hyperfine; then
	tool='hyperfine'
	# -N: no intermediate shell, so nothing but the program is timed.
	hyperfine -N --style basic --warmup 10 --runs "$runs" \
	    --export-json "$BT/f6.json" \
	    "sqlite3 :memory: 'select 1'" \
	    "corp-cursor get --channel telegram" \
	    "corp-deliver pending --channel telegram --peek --limit 1" \
	    "sqlite3 $CORP_DATA_DIR/corp.db 'select 1 from deliveries limit 1'" \
	    >"$BT/f6.out" 2>&1 || { cat "$BT/f6.out" >&2; die "f6: hyperfine failed"; }
	means=$("$PY" -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%.4f" % (r["mean"] * 1000))' "$BT/f6.json")
else
	note "hyperfine unavailable: timing $runs runs each with date(1) instead"
	tool='date'
	# mean_ms CMD...: mean ms of CMD over $runs runs, one date pair
	# around the whole loop.
	mean_ms() {
		_t=$(now_ns)
		_i=0
		while [ "$_i" -lt "$runs" ]; do
			"$@" >/dev/null || die "f6: $1 failed"
			_i=$((_i + 1))
		done
		awk -v ms="$(ms_since "$_t")" -v n="$runs" \
		    'BEGIN { printf "%.4f", ms / n }'
	}
	means="$(mean_ms sqlite3 :memory: 'select 1') \
	    $(mean_ms corp-cursor get --channel telegram) \
	    $(mean_ms corp-deliver pending --channel telegram --peek --limit 1) \
	    $(mean_ms sqlite3 "$CORP_DATA_DIR/corp.db" 'select 1 from deliveries limit 1')"
fi
set -- $means
note "mean ms: sqlite3 $1, corp-cursor get $2, pending --peek --limit 1 $3, sqlite3 FILE $4 ($tool, $runs runs)"
record "6 start-up" "$2" ms "sqlite3 :memory: 'select 1'" "$1" '<=1' \
    "label=corp-cursor_get,_wall tool=$tool runs=$runs"
record "6 start-up" "$3" ms "sqlite3 :memory: 'select 1'" "$1" '<=1' \
    "label=pending_--peek_--limit_1,_wall tool=$tool runs=$runs rows=$DRAIN_ROWS"
# No aim of its own: the share of the gap that is SQLite's.
record "6 start-up" "$3" ms "sqlite3 FILE 'select 1 from deliveries'" "$4" - \
    "label=pending_--peek_--limit_1_vs_sqlite3_on_the_corp_db,_wall tool=$tool runs=$runs rows=$DRAIN_ROWS"

# Instructions, from exec to exit (the dynamic loader included).
if have_valgrind; then
	b=$(callgrind_ir "$BT/f6-sqlite3.cg" sqlite3 :memory: 'select 1') &&
	c=$(callgrind_ir "$BT/f6-cursor.cg" corp-cursor get --channel telegram) &&
	p=$(callgrind_ir "$BT/f6-peek.cg" corp-deliver pending \
	    --channel telegram --peek --limit 1) &&
	f=$(callgrind_ir "$BT/f6-sqlite3-file.cg" sqlite3 \
	    "$CORP_DATA_DIR/corp.db" 'select 1 from deliveries limit 1') ||
	    die "f6: callgrind failed"
	note "instructions: sqlite3 $b, corp-cursor get $c, pending --peek $p, sqlite3 FILE $f"
	mi() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e6 }'; }
	record "6 start-up" "$(mi "$c")" Minstr "sqlite3 :memory: 'select 1'" \
	    "$(mi "$b")" '<=1' "label=corp-cursor_get,_instructions tool=callgrind"
	record "6 start-up" "$(mi "$p")" Minstr "sqlite3 :memory: 'select 1'" \
	    "$(mi "$b")" '<=1' \
	    "label=pending_--peek_--limit_1,_instructions tool=callgrind rows=$DRAIN_ROWS"
	record "6 start-up" "$(mi "$p")" Minstr \
	    "sqlite3 FILE 'select 1 from deliveries'" "$(mi "$f")" - \
	    "label=pending_--peek_--limit_1_vs_sqlite3_on_the_corp_db,_instructions tool=callgrind rows=$DRAIN_ROWS"
else
	skipped "6 start-up (instructions)" "valgrind unavailable"
fi
