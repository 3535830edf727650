#!/bin/sh
# The review page in a real browser: Debian's chromium, headless, driven
# by playwright-core (tests/browser/review.js, pinned by its
# package-lock.json; make deps installs both).  Reviewer A signs in with
# a token, opens a run, approves a proposal, and sees the counters move;
# reviewer B, in a second browser context, sees the decision and the
# counters arrive live (the WebSocket topics, or the documented 3 s
# poll), without a reload; the database agrees.  A bad token is refused
# and not kept; the operator page shows the queue, its chart and
# explain; no CSP violation and no script error in any page.  Reviewer C,
# whose WebSocket the network closes (playwright's routeWebSocket), falls
# back to the documented poll and still sees the decisions.
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
# One notification in the dead-letter queue, for the operator page: a
# task admin creates and hears of on telegram, its row failed for good
# (bob's and rev's rows wait for a bind).
{
	corp-settings notify set --event-type TASK_CREATED --role initiator \
	    --channel telegram --notify-self &&
	    printf '{"login":"admin","channel":"telegram","address":"1001"}\n' |
	    corp-bind import &&
	    corp-task create --as admin --title "Renew the domain" --unit team &&
	    corp-event route
} >/dev/null || bail "the queue's setup failed"
corp-deliver pending --channel telegram |
    jq -c '. + {result: "failed", error: "HTTP 403: bot was blocked"}' |
    corp-deliver ack >/dev/null
is "$(sql "SELECT id, status FROM deliveries ORDER BY id" | tr '\n' ' ')" \
    "1|FAILED 2|PENDING 3|PENDING " "one row in the DLQ"
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
# Does this corp-api offer the topics?  The page's live mode must say so.
ws=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Connection: Upgrade' \
    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    -H 'Sec-WebSocket-Protocol: corp.v1' "$BASE/ws")
[ "$ws" = 101 ] && LIVE="live: websocket" || LIVE="live: polling every 3 s"

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
is "$(step b-open .live)" "\"$LIVE\"" \
    "B follows the run live: $LIVE (GET /ws answered $ws)"
is "$(step a-approved '[.counters, .decided]')" \
    '[{"status":"completed","total":"3","pending":"2","approved":"1"},"approved by admin at 2026-03-01T12:00:00Z, task 2"]' \
    "A approved proposal 1: the counters moved"
is "$(step b-live '[.counters, .decided, .same_document]')" \
    '[{"status":"completed","total":"3","pending":"2","approved":"1"},"approved by admin at 2026-03-01T12:00:00Z, task 2",true]' \
    "B saw A's decision and the counters live, without a reload"
is "$(step c-poll '[.live, .counters, .decided, .same_document]')" \
    '["live: polling every 3 s",{"status":"completed","total":"3","pending":"1","approved":"1"},"rejected by admin at 2026-03-01T12:00:00Z: a duplicate",true]' \
    "C, its WebSocket closed by the network, fell back to polling and saw A's rejection"
is "$(sql "SELECT status, reason FROM proposals WHERE id = 2")" \
    "rejected|a duplicate" "the database: proposal 2 rejected"
is "$(sql "SELECT status, decided_by, task_id FROM proposals WHERE id = 1")" \
    "approved|1|2" "the database: proposal 1 approved into task 2"
is "$(sql "SELECT proposals_pending, proposals_approved, proposals_rejected FROM analysis_runs WHERE id = 1")" \
    "1|1|1" "the database: the run's counters"
is "$(corp-task show 2 | jq -c '[.title, .assignee]')" \
    '["@bob please fix the login page","bob"]' "the task, through the domain's path"
is "$(step bad-token '[.error, .stored, .signin]')" \
    '["malformed token",null,true]' \
    "a bad token: the server's reason, not kept, the sign-in stays"
is "$(step ops '[.stats, .paused, .points >= 1, .dlq]')" \
    '[[["telegram","2","0","1","0","–"]],"none",true,[["1","1","TASK_CREATED","admin","telegram","1","HTTP 403: bot was blocked","2026-03-01T12:00:00Z"]]]' \
    "the operator page: the queue by channel and status, its chart, the DLQ"
is "$(step requeued '[.stats, .dlq]')" '[[["telegram","3","0","0","0","0"]],[]]' \
    "requeued from the page: the counts follow"
is "$(sql "SELECT id, status, attempts FROM deliveries WHERE id = 1")" "1|PENDING|0" \
    "the database: the row is back in the queue"
is "$(step explain .out.login)" '"admin"' "explain from the operator page"
is "$(step errors '[.csp, .page]')" '[[],[]]' \
    "no CSP violation, no script error"
unlike "$(cat "$T/api.log")" "$TOKEN_A" "no token in the log"

done_testing
