#!/bin/sh
# Hostile data in every field of every input line of corp-deliver ack,
# corp-fmt, corp-send file and corp-cursor advance: SQL metacharacters,
# NUL (escaped and raw), control and bidi characters, a 1 MB string
# (HOSTILE_MB for make torture), invalid UTF-8, a lone surrogate, quotes
# and backslashes.  Each is stored verbatim (an ack's error cleaned of
# controls and invisible characters) or refused as invalid input
# (65): never executed, never a crash, never a broken JSON line out
# (every output line is checked with jq).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
fixture_tasks 2
corp-event route >/dev/null
corp-deliver pending --channel telegram --limit 1 >"$T/pending"
base=$(copydb "$(curdb)") || bail "no copy of the database"
mb=${HOSTILE_MB:-1}

# not SQL: injection attempts among the hostile values, data for corp.
# The values, as Perl expressions put inside a JSON string.
vals='sql "\x27; DROP TABLE deliveries; --"
sqlq q{\" OR 1=1; DELETE FROM users; --}
ctrl q{\u0001\u001b[31m\u007f\t\r}
bidi q{\u202e\u2066evil\u2069\u200f}
nulesc q{a\u0000b}
nulraw "a\x00b"
badutf8 "\xff\xfe\xc0\xaf\xed\xa0\x80"
surrogate q{\ud800x}
quotes q{\"\\\\\"}
big "A" x (1048576 * '"$mb"')'

# with NAME BASEFILE JQPATH OUT: the base line with the field at JQPATH
# replaced by a placeholder, then the hostile value NAME put in.
with() {
	jq -c --argjson p "$3" 'setpath($p; "@@H@@")' "$2" >"$T/tmpl"
	with_tmpl "$1" "$4"
}
with_tmpl() {
	PV=$(printf '%s\n' "$vals" | awk -v n="$1" '$1 == n { sub(/^[^ ]+ /, ""); print }') \
	    perl -pe 'BEGIN { $v = eval $ENV{PV}; die $@ if $@ } s/\@\@H\@\@/$v/g' \
	    "$T/tmpl" >"$2"
}

# out_ok: every line of $T/h.out is one JSON value (or there are none).
out_ok() {
	[ -s "$T/h.out" ] || return 0
	[ "$(jq -c . "$T/h.out" 2>/dev/null | wc -l)" = "$(wc -l <"$T/h.out")" ]
}

# hostile TOOL BASEFILE PATHS CMD...: every value in every field, one
# run per value whose input holds one line per field.
hostile() {
	_tool=$1 _base=$2 _paths=$3
	shift 3
	_t0=$(date +%s)
	bad="" runs=0 lines=0 i=0
	for p in $_paths; do
		i=$((i + 1))
		jq -c --argjson p "$p" 'setpath($p; "@@H@@")' "$_base" >"$T/tmpl.$i"
	done
	for name in $(printf '%s\n' "$vals" | cut -d' ' -f1); do
		: >"$T/h.in"
		j=0
		while [ "$j" -lt "$i" ]; do
			j=$((j + 1))
			cp "$T/tmpl.$j" "$T/tmpl"
			with_tmpl "$name" "$T/h.one"
			cat "$T/h.one" >>"$T/h.in"
		done
		prep
		"$@" <"$T/h.in" >"$T/h.out" 2>"$T/h.err"
		hrc=$?
		runs=$((runs + 1))
		lines=$((lines + i))
		why=""
		case $hrc in
		0|65) ;;
		*) why="exit $hrc: $(head -c 300 "$T/h.err")" ;;
		esac
		out_ok || why="$why broken JSON out"
		[ -z "$why" ] && why=$(after "$name")
		[ -n "$why" ] && bad="$bad
$name: $why"
	done
	if [ -z "$bad" ]; then
		pass "$_tool: $lines hostile lines in $runs runs, each line handled or refused ($(($(date +%s) - _t0))s)"
	else
		fail "$_tool: hostile lines" "$bad"
	fi
}

# corp-deliver ack ----------------------------------------------------------
jq -c '. + {result: "failed", error: "e", provider_message_id: "p", retry_after: 1, attempted: true}' \
    "$T/pending" >"$T/ack.base"
prep() {
	restoredb "$base"
}
counts="SELECT (SELECT count(*) FROM deliveries) || ' ' || (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM sqlite_master)"
want_counts=$(sql_at "$base" "$counts")
after() {
	# Nothing executed: every table and row is still there.  (corp-db
	# check runs once per value below: it is the slow part.)
	[ "$(sql "$counts")" = "$want_counts" ] || echo "rows or tables went missing"
}
hostile "corp-deliver ack" "$T/ack.base" \
    '["delivery_id"] ["lease"] ["result"] ["error"] ["provider_message_id"] ["retry_after"] ["worker"] ["attempted"] ["x"] ["event","title"]' \
    corp-deliver ack

# Verbatim: what SQL would have executed is only text in the row.  An
# error's controls and invisible format characters are stored as '?'
# each (corp.7 Untrusted text: people read it in explain and dlq).
for name in sql sqlq ctrl bidi quotes; do
	prep
	with "$name" "$T/ack.base" '["error"]' "$T/h.in"
	corp-deliver ack <"$T/h.in" >"$T/h.out" 2>&1
	want=$(jq -r .error "$T/h.in")
	how=verbatim
	case $name in ctrl|bidi)
		want=$(printf '%s' "$want" | perl -CS -pe 's/[\x00-\x1f\x7f-\x9f\x{061C}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2060}-\x{2069}]/?/g')
		how=cleaned ;;
	esac
	is "$(sql "SELECT error FROM deliveries WHERE id = 1")" "$want" \
	    "ack stores a $name error $how"
	ok "and the database checks clean" corp-db check
done

# corp-fmt -----------------------------------------------------------------
prep() { :; }
after() { :; }
hostile corp-fmt "$T/pending" \
    '["delivery_id"] ["lang"] ["tz"] ["template"] ["role"] ["actor_name"] ["name"] ["address"] ["roles"] ["event"] ["event","title"] ["event","reason"] ["event","due_at"] ["event","event_type"] ["event","links","task"] ["event","payload","x"] ["x"]' \
    corp-fmt

# corp-send file -------------------------------------------------------------
corp-fmt <"$T/pending" | jq -c '.channel = "file"' >"$T/fmt.base"
prep() { rm -f "$T/outbox"; }
after() {
	[ ! -s "$T/outbox" ] && return
	[ "$(jq -c . "$T/outbox" 2>/dev/null | wc -l)" = "$(wc -l <"$T/outbox")" ] ||
	    echo "broken JSON in the outbox"
}
hostile "corp-send file" "$T/fmt.base" \
    '["delivery_id"] ["lease"] ["text"] ["address"] ["subject"] ["event","title"] ["x"]' \
    corp-send file --out "$T/outbox"
prep
with bidi "$T/fmt.base" '["text"]' "$T/h.in"
corp-send file --out "$T/outbox" <"$T/h.in" >/dev/null
is "$(jq -r .text "$T/outbox")" "$(jq -r .text "$T/h.in")" "the outbox keeps bidi text verbatim"

# corp-cursor advance ------------------------------------------------------------
printf '{"delivery_id":1,"lease":"x","channel":"telegram","user_id":11,"event":{"event_id":2},"result":"sent","stored":"sent"}\n' >"$T/adv.base"
prep() {	# the file as corp-cursor set writes it, without its fsyncs
	printf '{"cursor_audit_id":1,"cursor_user_id":1}\n' \
	    >"$CORP_DATA_DIR/bot_deliveries_cursor_telegram.json"
}
after() {
	c=$(corp-cursor get 2>&1)
	case $c in
	1:1|2:11|*:11) ;;
	*) echo "cursor is $c" ;;
	esac
}
hostile "corp-cursor advance" "$T/adv.base" \
    '["delivery_id"] ["user_id"] ["event"] ["event","event_id"] ["stored"] ["channel"] ["x"]' \
    corp-cursor advance

done_testing
