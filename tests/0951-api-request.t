#!/bin/sh
# corp-api's requests held to the rules a proxy in front reads them by.
# The query parameters (corp-api.1 "Endpoints"), held to the
# body's rule (sec-review-17a, finding 3): a name the route does not
# take (State, state[]), a name without '=' (a bare ?state), a name given
# twice (the last won; ';' splits as '&' does) and a number that is not
# a plain decimal (+5, 05, a blank) are 400 naming the parameter, where
# each answered the unfiltered list or another request than a proxy
# judging the first value saw; what corp-api.1 lists still works.
# A blank before the colon of Content-Length or Transfer-Encoding (RFC
# 9112 5.1; sec-review-17a finding 2): 400, where libwebsockets took it
# for another header and the request ran with no body (a PUT with its
# defaults).  So are an empty Content-Length or Transfer-Encoding, a
# folded line spelling either, a byte no token holds beside either name,
# and a PUT/POST/PATCH without a Content-Length seen (411;
# sec-review-18b F2).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
corp-task create --as admin --title "one" --assignee bob >/dev/null
corp-task create --as admin --title "two" --assignee bob >/dev/null
corp-task cancel 2 --as admin >/dev/null || bail "cancel failed"
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null || bail "create failed"

S=$T/api.sock
bg corp-api --socket "$S" >"$T/ready" 2>"$T/api.log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"

# q PATH?QUERY: "CODE BODY" (the query as curl sends it, unencoded).
q() {
	curl -s --max-time 60 -o "$T/body" -w '%{http_code} ' \
	    --unix-socket "$S" -H "Authorization: Bearer $ADMIN" \
	    "http://corp$1"
	cat "$T/body"
}
ids() {
	q "$1" | sed 's/^[0-9]* //' | jq -c '[.tasks[].task_id]'
}

all=$(ids /api/tasks)
open=$(ids '/api/tasks?state=OPEN')
isnt "$open" "$all" "the filter filters (else the checks below prove nothing)"

# A name given twice: the last one won.
is "$(q '/api/tasks?state=OPEN&state=DONE')" \
    '400 {"error":"query: state: given twice"}' "a name given twice: 400"
is "$(q '/api/tasks?state=OPEN;state=DONE')" \
    '400 {"error":"query: state: given twice"}' \
    "';' separates as '&' does (libwebsockets splits at both): given twice"
is "$(q '/api/tasks?state=OPEN%3Bx=1')" \
    "400 {\"error\":\"unknown task state 'OPEN;x=1' (states: DRAFT, OPEN, WAITING_APPROVAL, DONE, CANCELLED)\"}" \
    "%3B inside a value: one value"

# Names the route does not take: they were ignored, the list unfiltered.
is "$(q '/api/tasks?State=DONE')" \
    "400 {\"error\":\"query: State: unknown parameter (did you mean 'state'?)\"}" \
    "State=DONE: 400 with a did-you-mean"
is "$(q '/api/tasks?state%5B%5D=OPEN')" \
    "400 {\"error\":\"query: state[]: unknown parameter (did you mean 'state'?)\"}" \
    "state[]=OPEN: 400"
is "$(q '/api/tasks?state=OPEN&limit=5')" \
    '400 {"error":"query: limit: unknown parameter"}' \
    "a parameter of another route: 400"
is "$(q '/api/me?x=1')" \
    '400 {"error":"query: x: unknown parameter (this route takes none)"}' \
    "a route without parameters refuses one"
is "$(q "/api/tasks?$(head -c 100 /dev/zero | tr '\0' x)=1")" \
    '400 {"error":"query: a parameter: unknown parameter"}' \
    "a long unknown name is not echoed"

# A name without '=': was skipped.
is "$(q '/api/tasks?state')" \
    "400 {\"error\":\"query: state: no '=' (a parameter is NAME=VALUE)\"}" \
    "a bare ?state: 400"
is "$(q '/api/tasks?state=OPEN&x')" \
    "400 {\"error\":\"query: x: no '=' (a parameter is NAME=VALUE)\"}" \
    "a bare name after a good one: 400"

# Numbers: strtonum took a sign, a blank and leading zeros.
is "$(q '/api/messages?limit=%2B5')" \
    "400 {\"error\":\"query: limit: '+5' is not a plain decimal (expected 1..1000)\"}" \
    "limit=+5: 400"
is "$(q '/api/messages?limit=05')" \
    "400 {\"error\":\"query: limit: '05' is not a plain decimal (expected 1..1000)\"}" \
    "limit=05: 400"
is "$(q '/api/messages?limit=%205')" \
    "400 {\"error\":\"query: limit: ' 5' is not a plain decimal (expected 1..1000)\"}" \
    "a blank before a number: 400"
is "$(q '/api/messages?chat=-0')" \
    "400 {\"error\":\"query: chat: '-0' is not a plain decimal (expected -9223372036854775807..9223372036854775807)\"}" \
    "chat=-0: 400"
is "$(q '/api/messages?chat=--5')" \
    "400 {\"error\":\"query: chat: '--5' is not a plain decimal (expected -9223372036854775807..9223372036854775807)\"}" \
    "chat=--5: 400"
is "$(q '/api/messages?chat=-9223372036854775808')" \
    "400 {\"error\":\"query: chat: '-9223372036854775808' is too small (expected -9223372036854775807..9223372036854775807)\"}" \
    "a chat id below the range: too small"
is "$(q '/api/ops/dlq?limit=99999999999999999999')" \
    "400 {\"error\":\"query: limit: '99999999999999999999' is too large (expected 1..10000)\"}" \
    "a number past 64 bits: too large"
is "$(q '/api/ops/explain?event=-1&user=bob')" \
    "400 {\"error\":\"query: event: '-1' is not a plain decimal (expected 1..9223372036854775807)\"}" \
    "a sign where the range has no negatives: 400"

# What corp-api.1 documents keeps working.
is "$(q '/api/messages?chat=-9&after=2026-03-01T10:00:00Z&limit=5')" \
    '200 {"messages":[]}' "messages with chat, after, limit"
is "$(q '/api/runs?chat=-9&status=cancelled')" '200 {"runs":[]}' \
    "runs with chat and status"
is "$(q '/api/ops/dlq?channel=email&limit=10')" '200 {"rows":[]}' \
    "dlq with channel and limit"
is "$(ids '/api/tasks?&state=OPEN&')" "$open" \
    "empty pieces (a leading or trailing &) are skipped"
is "$(ids '/api/tasks?state=OPEN;')" "$open" "a trailing ';' too"
is "$(q '/api/ops/explain?user=bob&event=1' | cut -c1-4)" '200 ' \
    "explain: both, in either order"

# A blank before a header's colon.  raw HEADER-LINE...: one PUT
# /api/runs/$RUN/cancel per argument (python's escapes: \t), with a
# body of 2 bytes; prints each answer's status and body, one a line
# (tests/rawhttp.py).
RUN=1
raw() {
	TOK=$ADMIN python3 "$CORP_SRC/tests/rawhttp.py" "$S" \
	    --pre "PUT /api/runs/$RUN/cancel HTTP/1.1\r\nHost: corp\r\n@AUTH@" \
	    --post '\r\n\r\n{}' "$@"
}
B='400 {"error":"a blank before a header'"'"'s colon"}'
is "$(raw 'Content-Length : 2' 'Transfer-Encoding : chunked' \
    'content-length\t: 2' 'CONTENT-LENGTH \t \t: 2' \
    'Transfer-Encoding\t\t\t\t\t\t\t\t: chunked' \
    "Content-Length$(printf '%16s' ''): 2")" "$B
$B
$B
$B
$B
$B" "a blank before the colon of Content-Length or Transfer-Encoding: 400"
is "$(sql "SELECT status FROM analysis_runs WHERE id = 1")" pending \
    "  the run was not cancelled with an empty body"

# Framing libwebsockets does not take as framing (sec-review-18b F2):
# each ran the PUT with no body.  An empty Content-Length or
# Transfer-Encoding (the value folded onto the next line) is a header
# given; a line folded onto the one before (RFC 9112 5.2 obs-fold) that
# spells Content-Length or Transfer-Encoding, and a byte that is no
# token's (a VT) before or after either name, are 400.
is "$(raw 'Content-Length:' 'Content-Length:\r\nX-Q: 2')" \
    '400 {"error":"Content-Length: not a number"}
400 {"error":"Content-Length: not a number"}' \
    "an empty Content-Length: 400, not a request without a body"
is "$(raw 'Transfer-Encoding:\r\n chunked\r\nContent-Length: 2' \
    'Transfer-Encoding:')" '400 {"error":"Transfer-Encoding: empty"}
400 {"error":"Transfer-Encoding: empty"}' \
    "an empty Transfer-Encoding (folded onto the next line): 400"
F='400 {"error":"a folded header line"}'
is "$(raw 'X-Q: a\r\n Content-Length: 2' 'X-Q: a\r\n\tTransfer-Encoding: chunked' \
    'X-Q: a\r\n \tContent-Length \t: 2' \
    "X-Q: a\\r\\n$(printf '%16s' '')Content-Length: 2")" "$F
$F
$F
$F" "a folded line spelling Content-Length or Transfer-Encoding: 400"
N='400 {"error":"a header'"'"'s name is not a token"}'
is "$(raw 'Transfer-Encoding\x0b: chunked\r\nContent-Length: 2' \
    '\x0bContent-Length: 2' 'Content-Length\x0c\x0c: 2' \
    'Content-Length\x7f: 2' 'Content-Length\x00: 2' \
    'Content-Length\r: 2')" "$N
$N
$N
$N
$N
$N" "a byte no token holds next to Content-Length or Transfer-Encoding: 400"
is "$(sql "SELECT status FROM analysis_runs WHERE id = 1")" pending \
    "  the run was not cancelled with an empty body"

# What libwebsockets 4.1 hides from corp-api: a line without a colon,
# or a header named as the start of one it knows (X-A, of
# X-Auth-Token), takes the next line into its name, Content-Length with
# it.  A PUT, POST or PATCH without a Content-Length seen is 411 (the
# run was cancelled with its defaults); Content-Length: 0 is no body.
L='411 {"error":"Content-Length required (0 for no body)"}'
is "$(raw 'X-Q\r\nContent-Length: 2' 'X-A: 1\r\nContent-Length: 2' \
    'Content: x\r\nContent-Length: 2' 'X-Q: 1')" "$L
$L
$L
$L" "no Content-Length seen on a PUT: 411"
is "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S" -X POST \
    -H "Authorization: Bearer $ADMIN" http://corp/api/ops/requeue)" 411 \
    "  a POST without Content-Length (curl -X POST, no -d): 411"
is "$(sql "SELECT status FROM analysis_runs WHERE id = 1")" pending \
    "  the run was not cancelled with an empty body"
is "$(raw 'Content-Length: 0' | cut -c1-4)" "200 " \
    "Content-Length: 0: a PUT without a body, served"
is "$(sql "SELECT status FROM analysis_runs WHERE id = 1")" cancelled \
    "  (the run cancelled)"
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null || bail "create failed"
RUN=2
is "$(raw 'X-Other : 1\r\nContent-Length: 2' | cut -c1-4)" "200 " \
    "another header with a blank before its colon: one corp-api does not read"
is "$(sql "SELECT status FROM analysis_runs WHERE id = 2")" cancelled \
    "  (and the request was served)"

kill "$bgpid"
done_testing
