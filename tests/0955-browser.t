#!/bin/sh
# The review page in a real browser: Debian's chromium, headless, driven
# by playwright-core (tests/browser/review.js, pinned by its
# package-lock.json; make deps installs both).  Reviewer A signs in with
# a token, opens a run, approves a proposal, and sees the counters move;
# reviewer B, in a second browser context, sees the decision and the
# counters arrive live (the WebSocket topics, or the documented 3 s
# poll), without a reload; the database agrees.  A bad token is refused
# and not kept; the operator page shows the queue, its chart and
# explain; no CSP violation and no script error in any page.
# Skipped, saying why, only when chromium is not installed (make deps
# could not install it); a missing driver is a failure.
. "${CORP_SRC:-.}/tests/lib.sh"
CHROMIUM=${CORP_TEST_CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
	echo "1..0 # SKIP chromium is not installed (make deps installs Debian's chromium; here it could not)"
	exit 0
fi
command -v node >/dev/null 2>&1 || bail "node is missing: run make deps"
[ -f "$CORP_SRC/tests/browser/node_modules/playwright-core/package.json" ] ||
    bail "tests/browser/node_modules has no playwright-core: run make deps"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
corp-user add rev --unit team --admin >/dev/null
t0=1772359200
msg() {
	jq -cn --argjson m "$1" --argjson d "$2" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}
{
	msg 1 "$t0" "@bob please fix the login page"
	msg 2 $((t0 + 1)) "we must renew the certificate"
	msg 3 $((t0 + 2)) "todo: order more coffee beans"
} | corp-msg import >/dev/null
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis start 1 --as admin >/dev/null || bail "the run did not complete"
TOKEN_A=$(corp-user token add admin --name browser | jq -r .token)
TOKEN_B=$(corp-user token add rev --name browser | jq -r .token)

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/api.log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"
BASE=http://127.0.0.1:$(jq -r .port "$T/ready")

cd "$CORP_SRC/tests/browser" || bail "no tests/browser"
BASE=$BASE TOKEN_A=$TOKEN_A TOKEN_B=$TOKEN_B CHROMIUM=$CHROMIUM \
    timeout 120 node review.js >"$T/steps" 2>"$T/err"
rc=$?
cd - >/dev/null || bail "cd -"
is "$rc $(cat "$T/err")" "0 " "the driver ran every step"
step() {
	jq -c "select(.step == \"$1\") | $2" "$T/steps"
}

is "$(step runs '[.who, .rows]')" '["admin",[["1","-9","completed"]]]' \
    "A signed in: the runs"
is "$(step a-open '[.hash, .counters, .proposals]')" \
    '["#run=1",{"status":"completed","total":"3","pending":"3","approved":"0"},["pending","pending","pending"]]' \
    "A opened run 1: counters and proposals"
is "$(step a-open .source)" '"ann (2026-03-01T10:00:00Z): @bob please fix the login page"' \
    "a proposal shows its source message"
is "$(step b-open .counters)" \
    '{"status":"completed","total":"3","pending":"3","approved":"0"}' \
    "B opened the same run"
like "$(step b-open .live)" '^"live: (websocket|polling every 3 s)"$' \
    "B follows the run live (the mode shown)"
is "$(step a-approved '[.counters, .decided]')" \
    '[{"status":"completed","total":"3","pending":"2","approved":"1"},"approved by admin at 2026-03-01T12:00:00Z, task 1"]' \
    "A approved proposal 1: the counters moved"
is "$(step b-live '[.counters, .decided, .same_document]')" \
    '[{"status":"completed","total":"3","pending":"2","approved":"1"},"approved by admin at 2026-03-01T12:00:00Z, task 1",true]' \
    "B saw A's decision and the counters live, without a reload"
is "$(sql "SELECT status, decided_by, task_id FROM proposals WHERE id = 1")" \
    "approved|1|1" "the database: proposal 1 approved into task 1"
is "$(sql "SELECT proposals_pending, proposals_approved FROM analysis_runs WHERE id = 1")" \
    "2|1" "the database: the run's counters"
is "$(corp-task show 1 | jq -c '[.title, .assignee]')" \
    '["@bob please fix the login page","bob"]' "the task, through the domain's path"
is "$(step bad-token '[.error, .stored, .signin]')" \
    '["malformed token",null,true]' \
    "a bad token: the server's reason, not kept, the sign-in stays"
is "$(step ops '[.stats, .paused, .points >= 1, .dlq]')" \
    '[[],"none",true,0]' "the operator page: the (empty) queue and its chart"
is "$(step explain .out.login)" '"admin"' "explain from the operator page"
is "$(step errors '[.csp, .page]')" '[[],[]]' \
    "no CSP violation, no script error"
unlike "$(cat "$T/api.log")" "$TOKEN_A" "no token in the log"

done_testing
