#!/bin/sh
# A line that corp-fmt never rendered (issue 15 item 10): every channel
# that sends text refuses it -- failed, not attempted, "not rendered
# (missing corp-fmt?)" -- and makes no request; the operator's pipe
# without corp-fmt stores FAILED, never SENT with a null text.  webhook
# sends the event and needs no text.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z
D=$CORP_DATA_DIR
NR='not rendered (missing corp-fmt?)'

# The operator forgets corp-fmt: file channel, from corp-db init on.
q() { "$@" >/dev/null || bail "$* failed"; }
q corp-org add ops
q corp-user add ann --unit ops
q corp-bind add --user ann --channel file --address outbox
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel file
q corp-task create --as admin --title "Report" --assignee ann
q corp-event route
run sh -c 'corp-deliver pending --channel file | corp-send file |
    corp-deliver ack'
is "$rc" 0 "the pipe exits 0 (a per-line outcome)"
is "$(printf '%s\n' "$out" | jq -c '[.result, .attempted, .error, .stored]')" \
    "[\"failed\",false,\"$NR\",\"failed\"]" "the line is failed, not sent"
like "$err" "delivery 1: failed: not rendered \(missing corp-fmt\?\)" \
    "and reported on stderr"
is "$(sql "SELECT status, error FROM deliveries WHERE channel = 'file'")" \
    "FAILED|$NR" "stored FAILED with the reason"
if [ -e "$D/outbox.jsonl" ] && [ -s "$D/outbox.jsonl" ]; then
	fail "nothing reached the outbox" "$(cat "$D/outbox.jsonl")"
else
	pass "nothing reached the outbox"
fi

# Every channel that sends text; a request would be a retry (nothing
# listens on port 1), so "failed, not attempted" means none was made.
mkdir -m 700 "$D/secrets" "$T/bin"
printf '123:tok\n' > "$D/secrets/telegram_token"
chmod 600 "$D/secrets/telegram_token"
printf '#!/bin/sh\ntouch %s/ran\n' "$T" > "$T/bin/cmd"
chmod 755 "$T/bin/cmd"
printf 'cmd=%s/bin/cmd\n' "$T" > "$D/exec.conf"
printf 'hook http://127.0.0.1:1/h\n' > "$D/webhooks.conf"
chmod 600 "$D/exec.conf" "$D/webhooks.conf"
for ch in telegram email exec file; do
	case $ch in
	telegram) a=5; set -- --allow-http ;;
	email) a=ann@corp.test
	       set -- --smtp-url smtp://127.0.0.1:1 --from corp@corp.test ;;
	exec) a=cmd; set -- ;;
	file) a=x; set -- --out "$T/out.jsonl" ;;
	esac
	{ dline 1 "$a" "" "$ch" | jq -c 'del(.text)'
	  dline 2 "$a" "" "$ch" | jq -c '.text = null'
	  dline 3 "$a" "" "$ch" | jq -c '.text = 7'; } > "$T/in"
	CORP_TELEGRAM_API=http://127.0.0.1:1 run_in "$T/in" corp-send "$ch" "$@"
	is "$rc:$(acks | tr '\n' ' ')" "0:[1,\"failed\",null,\"$NR\",false,null] [2,\"failed\",null,\"$NR\",false,null] [3,\"failed\",null,\"field \\\"text\\\" must be a string\",false,null] " \
	    "$ch: no text, a null text, a text that is no string: failed, not attempted"
done
[ -e "$T/ran" ] && fail "the exec command did not run" || pass "the exec command did not run"
[ -s "$T/out.jsonl" ] && fail "the file got no line" "$(cat "$T/out.jsonl")" ||
    pass "the file got no line"

# webhook posts the event: no text needed (the request fails on port 1:
# it was made).
dline 4 hook "" webhook | jq -c 'del(.text)' > "$T/in"
run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
is "$(acks | jq -c '.[1]')" '"retry"' "webhook: sent without text (here: refused by the port)"
unlike "$(acks)" "not rendered" "and never 'not rendered'"

done_testing
