#!/bin/sh
# corp-api's paths held to one spelling per resource (sec-review-21b LOW
# 2, 3, 7): an id in a path is a plain decimal as the query's numbers
# are (01, +1, %2B1 are 404 where they served run 1), a trailing slash
# on an API path is 404 as on a page's file, a page or static file
# takes no query parameter (400 naming it, where /?token=x was served),
# and the answers libwebsockets writes itself (an unknown method, a
# target not starting with '/', a bad escape, an unknown Upgrade) carry
# the headers of every answer (corp-api.1 "Request headers").
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null || bail "create failed"

S=$T/api.sock
bg corp-api --socket "$S" >"$T/ready" 2>"$T/api.log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"

# q PATH: "CODE BODY", with the admin's token.
q() {
	curl -s --max-time 60 -o "$T/body" -w '%{http_code} ' \
	    --unix-socket "$S" -H "Authorization: Bearer $ADMIN" \
	    "http://corp$1"
	cat "$T/body"
}
NF='404 {"error":"no such resource"}'

# Path ids.
like "$(q /api/runs/1)" '^200 \{"run_id":1,' "run 1 by its id"
is "$(q /api/runs/01)" "$NF" "01: 404, not run 1"
is "$(q /api/runs/+1)" "$NF" "+1 (a blank and 1 to libwebsockets): 404"
is "$(q /api/runs/%2B1)" "$NF" "%2B1: 404"
is "$(q /api/runs/0)" "$NF" "0: no id"
is "$(q /api/runs/9223372036854775808)" "$NF" "past 2^63-1: 404"
like "$(q /api/runs/%31)" '^200 \{"run_id":1,' \
    "%31 is 1 (RFC 3986 6.2.2.2; decoded before routing)"
is "$(q /api/proposals/007)" "$NF" "a proposal's id the same"
is "$(q /api/runs/01/proposals)" "$NF" "an id inside a longer path"
# Trailing slashes and empty segments.
is "$(q /api/runs/1/)" "$NF" "/api/runs/1/: 404"
is "$(q /api/me/)" "$NF" "/api/me/: 404"
is "$(q /api/runs/)" "$NF" "/api/runs/: 404"
is "$(q /static/corp.css/)" "$NF" "as /static/corp.css/ is"
like "$(q /api/me)" '^200 \{"user_id":1,' "/api/me still served"
is "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S" \
    -H "Authorization: Bearer $ADMIN" -X PUT -d '' \
    http://corp/api/runs/01/cancel)" "404" "a PUT to /api/runs/01/cancel: 404"
is "$(corp-analysis show 1 | jq -r .status)" "pending" "run 1 not cancelled"

# Pages and static files take no query.
is "$(q '/?token=x')" \
    '400 {"error":"query: token: unknown parameter (this route takes none)"}' \
    "/?token=x: 400 naming the parameter"
is "$(q '/static/corp.css?x=1')" \
    '400 {"error":"query: x: unknown parameter (this route takes none)"}' \
    "a static file's query too"
is "$(q '/ops?a=1&b=2' | head -c4)" "400 " "/ops with two"
is "$(q '/?' | head -c4)" "200 " "an empty query is none"
is "$(q '/' | head -c4)" "200 " "/ without a query: served"
is "$(q '/static/corp.css' | head -c4)" "200 " "the file without one"

# libwebsockets' own 403: the headers of every answer come with it.
cat >"$T/raw.py" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from rawhttp import exchange
for r in sys.argv[3:]:
    d, _ = exchange(sys.argv[2],
                    r.encode().decode("unicode_escape").encode("latin1"))
    head = d.split(b"\r\n\r\n", 1)[0].decode("latin1").lower().split("\r\n")
    st = head[0].split(" ")[1] if head and " " in head[0] else "closed"
    have = [h for h in ("content-security-policy: default-src 'none'",
                        "x-content-type-options: nosniff",
                        "referrer-policy: no-referrer",
                        "cache-control: no-store")
            if any(l.startswith(h) for l in head[1:])]
    print(st, len(have))
PY
H='Host: corp\r\n\r\n'
is "$(python3 "$T/raw.py" "$CORP_SRC/tests" "$S" "TRACE / HTTP/1.1\r\n$H" \
    "PROPFIND /api/me HTTP/1.1\r\n$H" "OPTIONS * HTTP/1.1\r\n$H" \
    "GET api/me HTTP/1.1\r\n$H" "GET http://corp/api/me HTTP/1.1\r\n$H" \
    "GET /api/%zz HTTP/1.1\r\n$H" \
    "GET /api/me HTTP/1.1\r\nUpgrade: foo\r\nConnection: upgrade\r\n$H" \
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')" "403 4
403 4
403 4
403 4
403 4
403 4
403 4
403 4" "libwebsockets' 403s carry the four headers"
is "$(python3 "$T/raw.py" "$CORP_SRC/tests" "$S" "GET /nosuch HTTP/1.1\r\n$H" \
    "GET /static/corp.css HTTP/1.1\r\n$H")" "404 4
200 4" "corp-api's own answers carry each once"
is "$(curl -s -D - -o /dev/null --unix-socket "$S" http://corp/api/me |
    tr -d '\r' | grep -ic '^content-security-policy:')" "1" "not twice"
unlike "$(cat "$T/api.log")" "TRACE|PROPFIND|PRI" "none of them logged"

done_testing
