#!/bin/sh
# corp-api's operator reads (GET /api/ops/stats, dlq, explain; POST
# /api/ops/requeue): an active admin's, answering exactly what
# corp-deliver prints, with bad input refused as the command line
# refuses it; and the two pages (GET /, /ops, /static/*): served from
# SHARE_DIR/www by fixed names only, with the strict CSP on every answer,
# no inline script or style, no external asset; a missing pages
# directory leaves the API up, an untrusted one stops corp-api (77).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

# One task: rows for boss, ann, bob, sam on telegram; boss's fails for
# good (the DLQ), the rest wait.
fixture_tasks 1
corp-event route >/dev/null
corp-deliver pending --channel telegram --limit 1 |
    jq -c '. + {result: "failed", error: "HTTP 400: chat not found"}' |
    corp-deliver ack >/dev/null
is "$(sql "SELECT id, status FROM deliveries ORDER BY id" | tr '\n' ' ')" \
    "1|FAILED 2|PENDING 3|PENDING 4|PENDING " "one row in the DLQ"
ADMIN=$(corp-user token add admin | jq -r .token)
ANN=$(corp-user token add ann | jq -r .token)

S=$T/api.sock
bg corp-api --socket "$S" >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"

# req TOKEN METHOD PATH [BODY]: $code, $body (and $T/head, the headers).
req() {
	_tok=$1 _m=$2 _p=$3
	shift 3
	code=$(curl -s --max-time 60 -D "$T/head" -o "$T/body" \
	    -w '%{http_code}' --unix-socket "$S" -X "$_m" \
	    ${_tok:+-H "Authorization: Bearer $_tok"} \
	    ${1+--data-binary "$1"} "http://corp$_p")
	body=$(cat "$T/body")
}
reply() {
	is "$code $body" "$1 $2" "$3"
}
header() {
	tr -d '\r' <"$T/head" | sed -n "s/^$1: //p"
}
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

# stats: what corp-deliver stats prints
req "$ADMIN" GET /api/ops/stats
is "$code $body" "200 $(corp-deliver stats)" "stats: corp-deliver stats"
is "$(printf '%s' "$body" | jq -c '[.queue[] | [.status, .count]]')" \
    '[["FAILED",1],["PENDING",3]]' "by status"
req "$ANN" GET /api/ops/stats
reply 403 '{"error":"ann is not an active admin: the queue is the operator'"'"'s"}' \
    "a non-admin: 403"
req "" GET /api/ops/stats
is "$code" 401 "no token: 401"

# dlq
req "$ADMIN" GET /api/ops/dlq
is "$code $body" "200 $(corp-deliver dlq | jq -cs '{rows: .}')" \
    "dlq: corp-deliver dlq's lines"
is "$(printf '%s' "$body" | jq -c '[.rows[] | [.delivery_id, .login, .error]]')" \
    '[[1,"boss","HTTP 400: chat not found"]]' "the failed row"
req "$ADMIN" GET '/api/ops/dlq?channel=email'
reply 200 '{"rows":[]}' "dlq of another channel: empty"
req "$ADMIN" GET '/api/ops/dlq?channel=telegrm'
reply 400 '{"error":"unknown channel '"'telegrm'"' (did you mean '"'telegram'"'?)"}' \
    "a misspelt channel: 400 with a suggestion"
req "$ADMIN" GET '/api/ops/dlq?limit=0'
reply 400 "{\"error\":\"query: limit: '0' is too small (expected 1..10000)\"}" \
    "limit 0: 400"

# explain
req "$ADMIN" GET '/api/ops/explain?event=1&user=ann'
is "$code $body" "200 $(corp-deliver explain --event 1 --user ann)" \
    "explain: corp-deliver explain"
req "$ADMIN" GET '/api/ops/explain?event=1'
reply 400 '{"error":"query: user is required"}' "explain without a user"
req "$ADMIN" GET '/api/ops/explain?user=ann'
reply 400 '{"error":"query: event is required"}' "explain without an event"
req "$ADMIN" GET '/api/ops/explain?event=x&user=ann'
reply 400 "{\"error\":\"query: event: 'x' is not a plain decimal (expected 1..9223372036854775807)\"}" \
    "a non-numeric event"
corp-deliver explain --event 99 --user ann >/dev/null 2>"$T/e"; erc=$?
req "$ADMIN" GET '/api/ops/explain?event=99&user=ann'
is "$code $erc $body" "404 67 {\"error\":\"$(sed 's/^corp-deliver: //' "$T/e")\"}" \
    "an unknown event: 404, corp-deliver's 67 and message"
req "$ADMIN" GET '/api/ops/explain?event=1&user=nobody'
is "$code" 404 "an unknown user: 404"

# requeue
req "$ADMIN" POST /api/ops/requeue '{}'
reply 400 '{"error":"body: requeue needs \"delivery_id\", \"event_id\", \"event_type\" or \"all_failed\""}' \
    "requeue of nothing: 400"
req "$ADMIN" POST /api/ops/requeue '{"delivry_id":1}'
reply 400 '{"error":"body: unknown field \"delivry_id\" (did you mean \"delivery_id\"?)"}' \
    "an unknown field: 400 with a suggestion"
req "$ADMIN" POST /api/ops/requeue '{"all_failed":"yes"}'
reply 400 '{"error":"body: \"all_failed\" must be true or false"}' \
    "all_failed of the wrong type"
req "$ADMIN" POST /api/ops/requeue '{"event_type":"TASK_CREATD"}'
is "$code" 400 "a misspelt event type: 400"
like "$body" "did you mean 'TASK_CREATED'" "with a suggestion"
req "$ADMIN" POST /api/ops/requeue '{"delivery_id":99}'
reply 404 '{"error":"delivery 99: not found"}' "an unknown row: 404"
req "$ANN" POST /api/ops/requeue '{"delivery_id":1}'
is "$code" 403 "requeue as a non-admin: 403"
is "$(sql "SELECT status FROM deliveries WHERE id = 1")" FAILED \
    "refused requeues changed nothing"
req "$ADMIN" POST /api/ops/requeue '{"delivery_id":1}'
reply 200 '{"requeued":1}' "requeue the row"
is "$(sql "SELECT status, attempts, error FROM deliveries WHERE id = 1")" \
    "PENDING|0|" "back in the queue, attempts reset"
req "$ADMIN" GET /api/ops/dlq
reply 200 '{"rows":[]}' "the DLQ is empty"
req "$ADMIN" POST /api/ops/requeue '{"all_failed":true}'
reply 200 '{"requeued":0}' "all_failed with nothing failed: 0"
like "$(cat "$T/api.log")" 'corp-api: unix "POST /api/ops/requeue" 200 admin' \
    "logged with the user"

# the pages: fixed names, from SHARE_DIR/www, CSP on every answer
req "" GET /
is "$code $(header content-type)" "200 text/html; charset=utf-8" \
    "GET /: the review page, without a token"
cmp -s "$T/body" "$CORP_SHARE_DIR/www/review.html"; is $? 0 "the file's bytes"
is "$(header content-security-policy)" "$CSP" "the strict CSP"
is "$(header x-content-type-options) $(header referrer-policy) $(header cache-control)" \
    "nosniff no-referrer no-store" "no sniffing, no referrer, no cache"
req "" GET /ops
is "$code $(header content-type)" "200 text/html; charset=utf-8" "GET /ops"
cmp -s "$T/body" "$CORP_SHARE_DIR/www/ops.html"; is $? 0 "the operator page"
for f in corp.css common.js review.js ops.js; do
	req "" GET "/static/$f"
	cmp -s "$T/body" "$CORP_SHARE_DIR/www/$f" && r=same || r=differs
	is "$code $r $(header content-type)" "200 same text/$(case $f in
	    *.css) echo css;; *) echo javascript;; esac); charset=utf-8" \
	    "GET /static/$f"
done
req "" GET /static/review.html
reply 404 '{"error":"no such resource"}' "a file of www/ by another path: 404"
req "" GET /static/../../i18n/en.txt
reply 404 '{"error":"no such resource"}' "no path from outside the table"
req "" GET /static/
reply 404 '{"error":"no such resource"}' "no listing"
req "" POST / '{}'
is "$code $body $(header allow)" '405 {"error":"method not allowed"} GET' \
    "POST /: 405, Allow: GET"
req "$ADMIN" GET /api/me
is "$code $(header content-security-policy)" "200 $CSP" \
    "the CSP on JSON answers too"
like "$(cat "$T/api.log")" 'corp-api: unix "GET /ops" 200 -' "pages logged"

# what the CSP forbids is not in the pages: no inline script or style,
# no handler attributes, nothing from another origin
W=$CORP_SHARE_DIR/www
is "$(grep -l -i -E '<script[^>]*>[^<[:space:]]|<style|[[:space:]]style=|[[:space:]]on[a-z]+=' \
    "$W"/*.html)" "" "no inline script, style or handler"
is "$(grep -h -o -E '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/[^"]*' "$W"/*.html \
    "$W"/*.css "$W"/*.js | sort -u)" "http://www.w3.org/2000/svg" \
    "no external asset (the SVG namespace is a name, not a fetch)"
is "$(grep -o -E '(src|href)="[^"]*"' "$W"/*.html | sed 's/^[^:]*://' |
    sort -u | tr '\n' ' ')" \
    'href="/" href="/ops" href="/static/corp.css" src="/static/common.js" src="/static/ops.js" src="/static/review.js" ' \
    "every asset a page names is served"
is "$(grep -c innerHTML "$W"/*.js | awk -F: '{s += $2} END {print s}')" 0 \
    "the scripts write text only (textContent, never innerHTML)"
kill "$api_pid"; wait "$api_pid"

# no pages directory: warned once, the pages 404, the API goes on
mkdir -p "$T/share"
cp -r "$CORP_SHARE_DIR/i18n" "$T/share/"
chmod -R go-w "$T/share"
CORP_SHARE_DIR=$T/share bg corp-api --socket "$S" >"$T/ready2" 2>"$T/api2.log"
wait_file "$T/ready2" 30 "$bgpid" || bail "corp-api did not start"
like "$(head -1 "$T/api2.log")" "^corp-api: the pages are not served: .*$T/share/www" \
    "a missing www/ is warned about"
req "" GET /
reply 404 '{"error":"the pages are not installed (SHARE_DIR/www; corp-api.1 PAGES)"}' \
    "the pages' paths: 404"
req "$ADMIN" GET /api/me
is "$code" 200 "the API is up"
kill "$bgpid"; wait "$bgpid"

# an untrusted pages directory stops corp-api
cp -r "$CORP_SHARE_DIR/www" "$T/share/"
chmod 775 "$T/share/www"
CORP_SHARE_DIR=$T/share is_rc 77 "a group-writable www/" timeout 30 \
    corp-api --socket "$S"
like "$err" "^corp-api: $T/share/www: " "names the directory"
chmod 755 "$T/share/www"
chmod 666 "$T/share/www/review.js"
CORP_SHARE_DIR=$T/share is_rc 77 "a world-writable page" timeout 30 \
    corp-api --socket "$S"
like "$err" "^corp-api: $T/share/www/review.js: " "names the file"

done_testing
