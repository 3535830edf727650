#!/bin/sh
# Listings (issue 21, corp.7 Listings): --format json|table|tsv from one
# printer (table on a tty, JSON lines in a pipe), column widths in display
# columns, times in the operator's zone (TZ) in tables only, TSV escapes;
# --limit and --after on every listing, a note on stderr when rows were
# left out, keyset paging that shows every row exactly once; dlq no
# longer stops at 1000 silently; config set prints what it stored.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
export CORP_NOW=2026-01-05T10:00:00Z
setup
fixture_company
printf '%s\n' '{"login":"yamada","name":"山田 太郎","unit":"sales"}' \
    '{"login":"hanna","name":"Ганна"}' '{"login":"zed","name":"back\\slash"}' |
    corp-user import >/dev/null || bail "import failed"
corp-user add ctl --name "$(printf 'a\tb\033[31m')" >/dev/null ||
    bail "add ctl failed"

# ---- formats -------------------------------------------------------------
ok "user list --format table" env TZ=Europe/Kyiv corp-user list --unit sales \
    --format table
is "$out" "$(cat <<'E'
USER_ID  LOGIN   NAME       LANG  TZ  ZONE  ORG_UNIT_ID  UNIT   IS_ADMIN  ACTIVE  CREATED_AT                 UPDATED_AT
      3  ann     Ann        -     -   UTC             2  sales  false     true    2026-01-05 12:00:00+02:00  2026-01-05 12:00:00+02:00
      4  bob     Bob        -     -   UTC             2  sales  false     true    2026-01-05 12:00:00+02:00  2026-01-05 12:00:00+02:00
      6  sam     Sam        -     -   UTC             2  sales  false     true    2026-01-05 12:00:00+02:00  2026-01-05 12:00:00+02:00
      7  yamada  山田 太郎  -     -   UTC             2  sales  false     true    2026-01-05 12:00:00+02:00  2026-01-05 12:00:00+02:00
E
)" "table: widths in display columns (CJK two each), numbers right, null -, times in TZ"
ok "table without TZ: UTC" corp-user list --unit sales --format table --limit 1
is "$(printf '%s\n' "$out" | sed -n 2p | grep -o '2026[^ ]* [^ ]*' | head -1)" \
    "2026-01-05 10:00:00Z" "no TZ: times in UTC, marked Z"

run corp-user list --all --format table
is "$(printf '%s\n' "$out" | grep -E '^ +(9|10) ' | cut -c1-27)" \
"     10  ctl     a?b?[31m  
      9  zed     back\\slash" "table: control characters shown as ?, backslash as is"

ok "user list --format tsv" corp-user list --format tsv
is "$(printf '%s\n' "$out" | cut -f1-3,11)" "$(printf '%s\n' \
    'user_id	login	name	created_at' \
    '1	admin	admin	2026-01-05T10:00:00Z' \
    '3	ann	Ann	2026-01-05T10:00:00Z' \
    '4	bob	Bob	2026-01-05T10:00:00Z' \
    '2	boss	Boss	2026-01-05T10:00:00Z' \
    '10	ctl	a\tb\x1b[31m	2026-01-05T10:00:00Z' \
    '5	eve	Eve	2026-01-05T10:00:00Z' \
    '8	hanna	Ганна	2026-01-05T10:00:00Z' \
    '6	sam	Sam	2026-01-05T10:00:00Z' \
    '7	yamada	山田 太郎	2026-01-05T10:00:00Z' \
    '9	zed	back\\slash	2026-01-05T10:00:00Z')" \
    "tsv: header, tab escaped \\t, ESC \\x1b, backslash \\\\, times UTC"
is "$(printf '%s\n' "$out" | sed -n 2p | cut -f4-10)" "		UTC			true	true" \
    "tsv: null is empty"
is "$(printf '%s\n' "$out" | awk -F'\t' '{ print NF }' | sort -u)" 12 \
    "tsv: every line has the header's fields"

run corp-user list
is "$(printf '%s\n' "$out" | head -1 | jq -r .login)" admin \
    "in a pipe: JSON lines, as before"
if script -qec true /dev/null >/dev/null 2>&1; then
	out=$(script -qec "corp-user list --unit sales" /dev/null | tr -d '\r')
	is "$(printf '%s\n' "$out" | head -1 | cut -c1-22)" "USER_ID  LOGIN   NAME " \
	    "on a tty: a table"
	out=$(script -qec "corp-org list" /dev/null | tr -d '\r' | cut -c1-20)
	is "$out" "ORG_UNIT_ID  NAME   
          1  root   
          2  sales  " "corp-org list on a tty: a table"
else
	skip "script(1) cannot run here: no tty test"
	skip "script(1) cannot run here: no tty test"
fi

# corp-org list keeps its tree text in a pipe; --json is --format json.
ok "org list in a pipe" corp-org list
is "$out" "$(printf 'root\tRoot\thead=boss\n  sales\tSales\thead=sam')" \
    "org list: the old tree text when not a tty (scripts read it)"
ok "org list --json" corp-org list --json
is "$(printf '%s\n' "$out" | jq -r .name | tr '\n' ' ')" "root sales " \
    "--json: unit lines"
ok "org list --json --format json" corp-org list --json --format json
is_rc 64 "--json with --format table" corp-org list --json --format table
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-org: list takes one of --format, --json" "names both"
ok "org list --after root" corp-org list --after root
is "$out" "$(printf '  sales\tSales\thead=sam')" \
    "org list --after: the units after that one in tree order"
is_rc 67 "org list --after a unit that is not there" corp-org list --after nope
is "$err" "corp-org: list: --after: no row nope (the key of a row this listing shows)" \
    "names the cursor"

is_rc 64 "--format tabel" corp-user list --format tabel
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-user: --format: 'tabel' is not json, table or tsv (did you mean table?)" \
    "did you mean table"
is_rc 64 "--limit 0" corp-user list --limit 0
is_rc 64 "show takes no --format" corp-user show ann --format table
is "$(printf '%s\n' "$err" | head -1)" "corp-user: show takes no --format" \
    "a verb that is no listing takes none"
is_rc 64 "bind list: a cursor missing a field" corp-bind list --after 3
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-bind: --after: '3' is not a cursor USER_ID:CHANNEL" "names the form"
is_rc 64 "bind list: a cursor whose id is no number" corp-bind list --after x:telegram
is "$(printf '%s\n' "$err" | head -1)" \
    "corp-bind: --after: 'x:telegram': user_id is a number in this listing" \
    "names the field"

# ---- --limit, --after, the note ------------------------------------------
run corp-user list --limit 2
is "$rc:$(printf '%s\n' "$out" | jq -r .login | tr '\n' ' ')" "0:admin ann " \
    "--limit 2: the first two"
is "$err" "corp-user: list: 2 of 10 rows shown; --after ann for more" \
    "the note: how many and the next cursor"
run corp-user list --limit 2 --after boss
is "$(printf '%s\n' "$out" | jq -r .login | tr '\n' ' ')" "ctl eve " \
    "--after boss: from the next login"
is "$err" "corp-user: list: 2 of 6 rows shown; --after eve for more" \
    "the count is of the rows after the cursor"
run corp-user list --after zed
is "$rc:$out:$err" "0::" "after the last: nothing, no note"
run corp-user list --limit 10
is "$err" "" "nothing left out: no note"

# page: walk a listing N rows at a time by the notes' cursors; print
# every row's key once per line.
page() {	# page N KEYEXPR CMD...
	_n=$1 _k=$2
	shift 2
	_after=""
	_i=0
	while [ "$_i" -lt 100 ]; do
		_i=$((_i + 1))
		if [ -n "$_after" ]; then
			"$@" --limit "$_n" --after "$_after" >"$T/pg" 2>"$T/pe"
		else
			"$@" --limit "$_n" >"$T/pg" 2>"$T/pe"
		fi
		jq -r "$_k" <"$T/pg"
		_after=$(sed -n 's/.*; --after \(.*\) for more$/\1/p' "$T/pe")
		[ -n "$_after" ] || return 0
	done
}
is "$(page 3 .login corp-user list --all)" "$(corp-user list --all | jq -r .login)" \
    "user list: pages of 3 show every user once, in order"
corp-bind add --user eve --channel email --address eve@example.org >/dev/null
corp-bind add --user ann --channel email --address ann@example.org >/dev/null
is "$(page 2 '"\(.user_id):\(.channel)"' corp-bind list)" \
    "$(corp-bind list | jq -r '"\(.user_id):\(.channel)"')" \
    "bind list: a two-field cursor (USER_ID:CHANNEL), every bind once"
is "$(corp-bind list --after "$ann:email" | jq -r '"\(.login):\(.channel)"' | head -1)" \
    "ann:telegram" "USER_ID:CHANNEL compares the id as a number, then the channel"

# ---- dlq: 1040 rows, more than the default 1000 ---------------------------
corp-settings notify set --event-type note --role client --channel telegram \
    --new-type --new-role >/dev/null || bail "notify set failed"
i=0
while [ "$i" -lt 260 ]; do
	i=$((i + 1))
	printf '{"idempotency_key":"n%d","source":"t","event_type":"note","recipients":[{"user":"ann","role":"client"},{"user":"bob","role":"client"},{"user":"boss","role":"client"},{"user":"sam","role":"client"}]}\n' "$i"
done > "$T/many"
{ corp-event emit < "$T/many" && corp-event route &&
    corp-deliver cancel --type note; } >/dev/null || bail "1040 rows failed"
first=$(sql "SELECT min(id) FROM deliveries")
run corp-deliver dlq
is "$rc:$(printf '%s\n' "$out" | wc -l)" "0:1000" "dlq: the first 1000 by default"
is "$err" "corp-deliver: dlq: 1000 of 1040 rows shown; --after $((first + 999)) for more" \
    "dlq says it stopped at 1000 of 1040 (it was silent)"
run corp-deliver dlq --after $((first + 999))
is "$(printf '%s\n' "$out" | wc -l):$err" "40:" "the rest, no note"
is "$(page 300 .delivery_id corp-deliver dlq | sort -n | uniq | wc -l)" 1040 \
    "dlq: pages of 300 show 1040 distinct rows"
is "$(page 300 .delivery_id corp-deliver dlq)" \
    "$(corp-deliver dlq --limit 2000 | jq -r .delivery_id)" \
    "... each once, in id order"
run corp-deliver dlq --channel email
is "$rc:$out:$err" "0::" "dlq of a channel with none: nothing"
ok "dlq --format tsv" corp-deliver dlq --limit 2 --format tsv
is "$(printf '%s\n' "$out" | cut -f1-3,5,7-9)" "$(printf '%s\n' \
    'delivery_id	event_id	event_type	login	attempts	error	failed_at' \
    "$first	1	note	ann	0	cancelled by the operator	2026-01-05T10:00:00Z" \
    "$((first + 1))	1	note	bob	0	cancelled by the operator	2026-01-05T10:00:00Z")" \
    "dlq as TSV"

# event list: the query pages itself (event id); the note without a total.
run corp-event list --limit 100 --type note
is "$(printf '%s\n' "$out" | wc -l)" 100 "event list --limit 100"
like "$err" '^corp-event: list: 100 rows shown, more follow; --after [0-9]+ for more$' \
    "event list: the note, without a count the query did not make"
is "$(page 400 .event_id corp-event list --type note | wc -l)" 260 \
    "event list: pages of 400 by event id: every note once"

ok "stats --format tsv" corp-deliver stats --format tsv
is "$(printf '%s\n' "$out" | head -1 | cut -f1-3)" "channel	status	readiness" \
    "stats: the queue's rows as TSV"

# ---- config set / get ------------------------------------------------------
ok "config set" corp-settings config set attempts.telegram 6
is "$out" '{"key":"attempts.telegram","value":"6","default":"10"}' \
    "config set prints the stored setting as JSON"
run corp-settings config get attempts.telegram
is "$out" 6 "config get: the bare value, as before"
run corp-settings config get attempts.telegram --format json
is "$out" '{"key":"attempts.telegram","value":"6","default":"10"}' \
    "config get --format json: the row"
run corp-settings config get attempts.telegram --format table
is "$out" "KEY                VALUE  DEFAULT
attempts.telegram  6      10" "config get --format table"
is "$(page 5 .key corp-settings config list)" \
    "$(corp-settings config list | jq -r .key)" \
    "config list: its own order, paged by key"
is "$(page 7 '"\(.event_type):\(.role):\(.channel)"' corp-settings notify list)" \
    "$(corp-settings notify list | jq -r '"\(.event_type):\(.role):\(.channel)"')" \
    "notify list: a three-field cursor"
# The invisible characters that reorder or hide text (fresh-eyes round
# 7): a right-to-left override, an isolate, a zero-width space, a line
# separator and a tag character, each one '?' in a table.
corp-user add bidi --name "$(printf 'Bob\342\200\256evil\342\201\246x\342\200\213y\342\200\250z\363\240\201\201')" \
    >/dev/null || bail "add bidi failed"
run corp-user list --all --format table
is "$(printf '%s\n' "$out" | grep ' bidi ' | awk '{ print $3 }')" \
    "Bob?evil?x?y?z?" "table: bidi, zero-width, separator and tag characters as ?"
# The blanks that show nothing (round 8): a soft hyphen and a Hangul
# filler, each one '?' too.
corp-user add blank --name "$(printf 'So\302\255ft\341\205\237x')" >/dev/null ||
    bail "add blank failed"
run corp-user list --all --format table
is "$(printf '%s\n' "$out" | grep ' blank ' | awk '{ print $3 }')" "So?ft?x" \
    "table: a soft hyphen and a Hangul filler as ?"
# Every Default_Ignorable_Code_Point and Cf character (sec-review-12a
# item 4: U+17B4, U+17B5, U+1BCA0, U+1D173 passed raw), one '?' each;
# one variation selector after a shown character passes (an emoji
# needs U+FE0F), a second does not.
corp-user add ign --name "$(printf 'A\341\236\264B\341\236\265C\360\233\262\240D\360\235\205\263E\342\235\244\357\270\217\357\270\217F')" \
    >/dev/null || bail "add ign failed"
run corp-user list --all --format table
is "$(printf '%s\n' "$out" | grep ' ign ' | awk '{ print $3 }')" \
    "$(printf 'A?B?C?D?E\342\235\244\357\270\217?F')" \
    "table: Khmer, shorthand, musical format characters as ?; one selector kept"
# stderr is cleaned the same way, whatever the text's source: an input
# line's field, an argument (round 8).
printf '%s\n' '{"login":"m\u202eo","name":"x"}' > "$T/imp"
run_in "$T/imp" corp-user import
is "$rc:$err" "65:corp-user: <stdin>:1: 'm?o' is not a valid login (1-64 of A-Z a-z 0-9 . _ @ -); nothing imported" \
    "an import line's login: the override a ? on stderr"
run corp-task list --as "$(printf 'a\342\200\256b\342\201\246c')"
is "$rc:$err" "67:corp-task: user 'a?b?c': not found" \
    "an argument: an override and an isolate each a ? on stderr"
# An unknown command, through the tool and through corp, and an unknown
# option of the contrib scripts: the word cleaned too (round 9).
run corp-task "$(printf 'li\033[31mst\342\200\256x')"
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: unknown command 'li?[31mst?x'" \
    "an unknown command: ESC and an override each a ? on stderr"
run corp task "$(printf 'li\342\200\213st')"
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: unknown command 'li?st'" \
    "through corp: the zero-width space a ?"
run "$CORP_SRC/contrib/corp-pipeline" "$(printf -- '--x\033y\342\200\256')"
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-pipeline: unknown option --x?y??? (see --help)" \
    "corp-pipeline: each byte outside printable ASCII a ?"
run bash "$CORP_SRC/contrib/corp-telegram-bot" "$(printf -- '--x\033y')"
is "$rc:$err" "64:corp-telegram-bot: unknown option --x?y (usage: corp-telegram-bot [--once] [--allow-http])" \
    "corp-telegram-bot: the same"
# A connection string's value that libpq would print itself (a passfile's
# path in its permission warning): refused, not quoted.
run corp-task list --db 'postgresql://u@127.0.0.1/x?passfile=/tmp/a%1Bb%E2%80%AEc'
is "$rc:$err" "64:corp-task: --db: bad PostgreSQL connection string: the value of passfile holds a control or invisible character" \
    "a passfile path with ESC and an override (%-encoded): refused, the value not shown"
done_testing
