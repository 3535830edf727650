#!/bin/sh
# The command line of every tool with an option table (cmd/clitab.c):
# its man page's SYNOPSIS and the table agree (tests/tools/mansyn.py:
# verbs, option names, values, required options, groups); -h and
# VERB -h print the usage on stdout; a misspelt verb or option is 64
# with "did you mean", an option the verb does not take is 64 naming
# both, every message begins with the tool's name.  Every tool has a
# table now (issue 17): one that does not answer --cli-spec fails, and
# so does a cmd/corp-X.c that built no corp-X.
. "${CORP_SRC:-.}/tests/lib.sh"
M="python3 $CORP_SRC/tests/tools/mansyn.py"
B="${CORP_BUILD:-$CORP_SRC/build}/bin"
converted=0

for bin in "$B"/corp-*; do
	tool=${bin##*/}
	if ! "$bin" --cli-spec >"$T/spec.json" 2>/dev/null ||
	    ! jq -e .tool "$T/spec.json" >/dev/null 2>&1; then
		fail "$tool answers --cli-spec" "no option table (cmd/clitab.c)"
		continue
	fi
	converted=$((converted + 1))
	is "$(jq -r .tool "$T/spec.json")" "$tool" "$tool --cli-spec names it"

	run $M compare "$CORP_SRC/man/$tool.1" "$T/spec.json"
	is "$rc:$out" "0:" "$tool: man/$tool.1 SYNOPSIS = the option table"

	run "$bin" -h
	is "$rc" 0 "$tool -h exits 0"
	like "$(printf '%s\n' "$out" | head -1)" "^usage: $tool " \
	    "$tool -h starts with the usage"
	missing=""
	for o in $(jq -r '[.verbs[].options[].name] | unique | .[]' \
	    "$T/spec.json"); do
		printf '%s\n' "$out" | grep -q -- "^  --$o\( \|$\)" ||
		    missing="$missing --$o"
	done
	is "$missing" "" "$tool -h has a help line per option"

	verbs=$(jq -r '[.verbs[].name // empty | select(. != "") |
	    split(" ")[0]] | unique | .[]' \
	    "$T/spec.json")
	bad=""
	for v in $verbs; do
		run "$bin" "$v" -h
		[ "$rc" = 0 ] &&
		    printf '%s\n' "$out" | head -1 | grep -q "^usage: $tool $v" ||
		    bad="$bad $v"
	done
	is "$bad" "" "$tool VERB -h: each verb's usage, exit 0"

	set -- $($M typo-verb "$T/spec.json")
	if [ $# = 2 ]; then
		run "$bin" "$1"
		is "$rc" 64 "$tool $1: 64"
		is "$(printf '%s\n' "$err" | head -1)" \
		    "$tool: unknown command '$1' (did you mean '$2'?)" \
		    "$tool $1: did you mean '$2'"
	else
		skip "$tool: no verb to misspell"
	fi

	set -- $($M typo-opt "$T/spec.json")
	if [ $# = 3 ]; then
		run "$bin" $1 "$2"
		is "$rc" 64 "$tool $1 $2: 64"
		is "$(printf '%s\n' "$err" | head -1)" \
		    "$tool: unknown option $2 (did you mean $3?)" \
		    "$tool $1 $2: did you mean $3"
		like "$(printf '%s\n' "$err" | sed -n 2p)" "^usage: $tool $1" \
		    "followed by the verb's usage"
	else
		skip "$tool: no option to misspell"
	fi

	set -- $($M foreign-opt "$T/spec.json")
	if [ $# = 2 ]; then
		run "$bin" $1 "$2" x
		is "$rc:$(printf '%s\n' "$err" | head -1)" \
		    "64:$tool: $1 takes no $2" "$tool $1 $2: the verb takes no $2"
	fi
done
n=0
for f in "$CORP_SRC"/cmd/corp-*.c; do
	n=$((n + 1))
done
is "$converted" "$n" "every tool of cmd/ answers --cli-spec ($n)"
run grep -lE 'cli_dispatch|cli_getopt|getopt_long' "$CORP_SRC"/cmd/corp-*.c "$CORP_SRC"/cmd/cli.h
is "$out" "" "no tool on the old dispatch or getopt_long" 

# The examples of issue 17's first package, as an operator types them.
run corp-org -h
is "$rc" 0 "corp-org -h"
like "$out" "  set-head  +set or clear the unit's head" "a line per command"
run corp-org add -h
is "$rc:$(printf '%s\n' "$out" | head -2)" "0:usage: corp-org add NAME [--title TITLE] [--parent UNIT] [--tz ZONE]
           [--head LOGIN]" "corp-org add -h: add's usage"
like "$out" "  --tz ZONE  +time zone" "and its options"
run corp-org ad
is "$rc:$err" "64:corp-org: unknown command 'ad' (did you mean 'add'?)
commands: add move set-head set-tz set-title show list delegate delegations
           revoke
corp-org -h: their usage and options" "corp-org ad: did you mean 'add'"
run corp-task create --titel x
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-task: unknown option --titel (did you mean --title?)" \
    "corp-task create --titel x: did you mean --title"
run corp-task open 1 --as x --title y
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: open takes no --title" \
    "an option another verb takes"
run corp-task reject 1 --as x
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-task: reject needs --reason TEXT" "a required option"
run corp-org move x --root --parent y
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-org: move takes one of --parent, --root" "an exclusive group"
run corp-template add --title x --schedule daily --due 09:00
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-template: add needs (--assignee LOGIN or --unit UNIT) and --initiator LOGIN" \
    "what is missing, the group in parentheses"
run corp-task viewers 3 --all
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-task: viewers expects (TASK | --all)" "an option for an operand"
run corp-sched due --soon
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-sched: option --soon needs a value" "a missing value"
run corp-task list --title=-h
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: list takes no --title" \
    "-h as an option's value is not help"
run corp-task list --as x -- -h
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: list takes no arguments" \
    "nor after --"
run corp-task list --as
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-task: option --as needs a value" \
    "nor a missing value"
run corp-task help approve
is "$rc:$(printf '%s\n' "$out" | head -1)" "0:usage: corp-task approve TASK --as LOGIN [--if-version N]" \
    "help VERB"
# corp-user, the plan's pilot (issue 17 WP1).
run corp-user -h
is "$rc:$(printf '%s\n' "$out" | head -1)" \
    "0:usage: corp-user add LOGIN [--name NAME] [--lang LANG] [--tz ZONE] [--unit UNIT]" \
    "corp-user -h"
run corp-user add -h
like "$rc:$out" "^0:usage: corp-user add LOGIN " "corp-user add -h: add's usage"
like "$out" "^  --admin +an admin$" "and its options"
run corp-user craete
is "$rc:$(printf '%s\n' "$err" | head -2)" "64:corp-user: unknown command 'craete'
commands: add set show list deactivate import token" \
    "corp-user craete: 64, no verb near it, the commands listed"
run corp-user ad x
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-user: unknown command 'ad' (did you mean 'add'?)" \
    "corp-user ad: did you mean 'add'"
run corp-user add x --nmae y
is "$rc:$(printf '%s\n' "$err" | head -1)" \
    "64:corp-user: unknown option --nmae (did you mean --name?)" \
    "corp-user add x --nmae y: did you mean --name"
run corp-user add x --no-lang
is "$rc:$(printf '%s\n' "$err" | head -1)" "64:corp-user: add takes no --no-lang" \
    "an option of set that add does not take"
done_testing
