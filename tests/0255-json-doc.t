#!/bin/sh
# corp-json.5 is the contract of the lines: each field a tool prints is
# documented with its type, and each documented field is printed with
# that type (op-review 17: a delivery line's "lang" was null for a user
# without a language, route --dry-run printed "roles" as a string and
# "not_before" as 0).  The field lists are read from the page itself.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$*"; }

# fields TITLE: "name<TAB>type" of the .Bl of corp-json.5's ".Ss TITLE";
# an item without a type takes the next one's (".It Va login" then
# ".It Va name Pq string").
fields() {
	awk -v title="$1" '
	BEGIN { pend = 0; n = 0 }
	$0 == ".Ss " title { on = 1; next }
	on && /^\.S[sh] / { exit }
	on && /^\.Bl/ { depth++; next }
	on && /^\.El/ { if (--depth == 0) exit; next }
	on && depth == 1 && /^\.It Va / {
		name = $3
		type = ""
		if ($4 == "Pq") { type = $5; for (i = 6; i <= NF; i++) type = type " " $i }
		names[n++] = name
		if (type != "") { for (j = pend; j < n; j++) types[j] = type; pend = n }
	}
	END { for (j = 0; j < n; j++) printf "%s\t%s\n", names[j], types[j] }
	' "$CORP_SRC/man/corp-json.5"
}

# check TITLE LINE: every documented field present with its type, and
# no field that is not documented; prints the differences.
check() {
	fields "$1" > "$T/doc"
	[ -s "$T/doc" ] || { echo "no fields for $1"; return; }
	printf '%s\n' "$2" | jq -r --rawfile doc "$T/doc" '
	def typed($t):
	  if $t == "integer" then type == "number" and . == floor
	  elif $t == "string" then type == "string"
	  elif $t == "time" then type == "string" and
	    test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
	  elif $t == "boolean" then type == "boolean"
	  elif $t == "object" then type == "object"
	  elif $t == "array" then type == "array"
	  elif $t == "array of strings" then type == "array" and
	    all(.[]; type == "string")
	  elif ($t | endswith(" or null")) then
	    . == null or typed($t | sub(" or null$"; ""))
	  else false end;
	. as $line
	| ($doc | split("\n") | map(select(length > 0) | split("\t"))) as $d
	| ($d | map(.[0])) as $names
	| ($d[] | . as [$n, $t0]
	   # "(array, push only)": a field only some channels carry.
	   | ($t0 | test(", [a-z]+ only$")) as $some
	   | ($t0 | sub(", [a-z]+ only$"; "")) as $t
	   | if ($line | has($n)) | not then
	       (if $some then empty else "missing \($n)" end)
	     elif ($line[$n] | typed($t)) then empty
	     else "\($n): \($line[$n] | tojson) is not \($t)" end),
	  (($line | keys_unsorted) - $names | .[] | "undocumented \(.)")'
}

q corp-org add ops --title Ops
q corp-user add boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --unit ops
q corp-bind add --user ann --channel file --address ann
q corp-settings notify set --event-type TASK_CREATED --role executor --channel file
q corp-task create --as boss --title "Ship it" --assignee ann

run corp-event route --dry-run
is "$rc" 0 "route --dry-run"
line=$(printf '%s\n' "$out" | jq -c 'select(.decision == "created" and .channel == "file")')
is "$(check "The route decision line" "$line")" "" "a route decision line has exactly the documented fields and types"
is "$(printf '%s\n' "$line" | jq -c '[.roles, .row.not_before]')" '[["executor"],null]' \
    "roles is an array, not_before null for a row due at once"
other=$(printf '%s\n' "$out" | jq -c 'select(.decision == "disabled")' | head -n 1)
is "$(check "The route decision line" "$(printf '%s' "$other" | jq -c '. + {row: {}}')")" "" \
    "a decision without a row: the same fields (row only with created)"

q corp-event route
run corp-deliver pending --channel file --peek
line=$(printf '%s\n' "$out" | head -n 1)
is "$(check "The delivery line" "$line")" "" "a peeked delivery line has exactly the documented fields and types"
is "$(printf '%s\n' "$line" | jq -r .lang)" en "a user without a language: lang is fallback_lang, never null"
q corp-settings config set fallback_lang uk
run corp-deliver pending --channel file
line=$(printf '%s\n' "$out" | head -n 1)
is "$(check "The delivery line" "$line")" "" "a leased delivery line too"
is "$(printf '%s\n' "$line" | jq -r .lang)" uk "fallback_lang as configured"
done_testing
