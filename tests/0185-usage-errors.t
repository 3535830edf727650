#!/bin/sh
# Usage errors of every tool and verb (corp.7 COMMON OPTIONS): an unknown
# option, a stray -x or a value given to a flag exits 64 with the reason
# and the synopsis on stderr, nothing on stdout, and the reason starts
# with the tool's own name (never the verb's: "pending:", "show:").
# corp-msg show takes a negative chat id as its operand (corp-msg.1).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
corp-user add ann --name Ann >/dev/null || bail "user"

cmds='corp-analysis create|corp-analysis start|corp-analysis review|corp-analysis close
corp-analysis cancel|corp-analysis list|corp-analysis show|corp-analysis errors
corp-bind add|corp-bind list|corp-bind deactivate|corp-bind code
corp-cursor get|corp-cursor set|corp-cursor advance
corp-db init|corp-db migrate|corp-db status|corp-db check|corp-db backup|corp-db migrate-to
corp-deliver pending|corp-deliver ack|corp-deliver requeue|corp-deliver dlq|corp-deliver prune
corp-deliver stats|corp-deliver explain|corp-deliver run|corp-deliver unpause|corp-deliver cancel
corp-event list|corp-event show|corp-event tail|corp-event emit|corp-event route
corp-fmt
corp-msg import|corp-msg list|corp-msg show|corp-msg prune
corp-org add|corp-org move|corp-org set-head|corp-org set-tz|corp-org set-title|corp-org show
corp-org list|corp-org delegate|corp-org delegations|corp-org revoke
corp-proposal list|corp-proposal show|corp-proposal edit|corp-proposal approve
corp-proposal reject|corp-proposal merge
corp-sched instances|corp-sched due
corp-send telegram|corp-send webhook|corp-send email|corp-send exec|corp-send file
corp-settings config get|corp-settings config set|corp-settings config unset
corp-settings config list|corp-settings notify list|corp-settings notify set
corp-settings notify unset|corp-settings prefs show|corp-settings prefs set
corp-settings mute|corp-settings unmute
corp-task create|corp-task open|corp-task assign|corp-task set-due|corp-task submit
corp-task approve|corp-task reject|corp-task cancel|corp-task show|corp-task list
corp-task reports|corp-task viewers
corp-template add|corp-template set|corp-template show|corp-template list
corp-template deactivate
corp-tg poll|corp-tg process|corp-tg cgi
corp-user add|corp-user set|corp-user show|corp-user list|corp-user deactivate
corp-user import'

bad=
printf '%s\n' "$cmds" | tr '|' '\n' > "$T/cmds"
while read -r c; do
	tool=${c%% *}
	for opt in --bogus-option -x -100 --help=yes; do
		# shellcheck disable=SC2086
		$c $opt </dev/null >"$T/o" 2>"$T/e"
		r=$?
		first=$(head -n 1 "$T/e")
		if [ "$r" != 64 ] || [ -s "$T/o" ] ||
		    ! grep -q '^usage: ' "$T/e"; then
			bad="$bad
$c $opt: exit $r, stdout $(wc -c <"$T/o") bytes, stderr: $first"
			continue
		fi
		case $first in
		"$tool: "*) ;;
		*) bad="$bad
$c $opt: the reason is not $tool's: $first" ;;
		esac
	done
done < "$T/cmds"
is "$bad" "" "every tool and verb: a bad option is 64, usage on stderr, the tool's name first"

run corp-msg show -x 1
is "$rc:$out" "64:" "corp-msg show -x: 64, nothing on stdout"
is "$(printf '%s\n' "$err" | head -n 1)" "corp-msg: unknown option -x" "and names the option"
like "$err" "usage: corp-msg" "with the synopsis on stderr"
run corp-msg show -100 2
is "$rc:$out:$err" "67::corp-msg: no message 2 in chat -100" \
    "corp-msg show -100 2: the negative chat id is the operand (67: no such message)"
run corp-msg show -- -100 2
is "$rc:$err" "67:corp-msg: no message 2 in chat -100" "with -- too"
run corp-msg show -100
is "$rc" 64 "a missing MESSAGE_ID is still a usage error"
run corp-msg show -100 -5
is "$rc" 64 "a negative MESSAGE_ID is out of range"
run corp-msg show --help
is "$rc" 0 "--help: 0"
like "$out" "^usage: corp-msg" "the synopsis on stdout"

run corp-user add --lang
is "$rc:$(printf '%s\n' "$err" | head -n 1)" "64:corp-user: option --lang needs a value" \
    "a missing value is named"
run corp-deliver pending --channel file --peek=1
is "$rc:$(printf '%s\n' "$err" | head -n 1)" "64:corp-deliver: option --peek takes no value" \
    "a value given to a flag is named"
run corp-deliver run --now garbage
like "$(printf '%s\n' "$err" | head -n 1)" "^corp-deliver: --now: " \
    "corp-deliver run's start-up errors are corp-deliver's, not corp-deliver-run's"
# corp-send's usage error inside a pipe gives the leased rows back at
# once (corp-send.1 EXIT STATUS 64), not after the 120 s lease.
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$*"; }
q corp-org add ops --title Ops
q corp-user set ann --unit ops
q corp-bind add --user ann --channel file --address ann
q corp-settings notify set --event-type TASK_CREATED --role executor --channel file
q corp-task create --as admin --title "Ship it" --assignee ann
q corp-event route
corp-deliver pending --channel file | corp-send file --allow bogus 2>"$T/send.err" |
    corp-deliver ack > "$T/acks"
is "$(head -n 1 "$T/send.err")" "corp-send: --allow: 'bogus': not an address range (e.g. 10.0.0.0/8)" \
    "a bad --allow in the pipe: the reason on stderr"
is "$(jq -r '[.stored, .attempted, .error] | @tsv' "$T/acks")" \
    "$(printf 'retry\tfalse\tcorp-send: usage error: --allow: %s' "'bogus': not an address range (e.g. 10.0.0.0/8)")" \
    "the leased line passed on unsent, naming the usage error"
is "$(sql "SELECT status, attempts, CAST(lease_token IS NULL AS INTEGER) FROM deliveries WHERE channel = 'file'")" \
    "PENDING|0|1" "the row is PENDING, not leased, no attempt counted"
is "$(corp-deliver pending --channel file --peek | jq -r .delivery_id)" 1 \
    "and due again at once"
run sh -c 'corp-send file --bogus </dev/null'
is "$rc:$out" "64:" "with no input: 64, nothing on stdout"
done_testing
