#!/bin/sh
# What libwebsockets 4.1 closes before corp-api sees it (corp-api.1
# "Request headers"; issue 16 LOW): a NUL in the path or the query,
# raw or %00, closed at once; a NUL in a header's value, and a line
# folded onto the one before with no colon after it (a folded
# Authorization), closed at libwebsockets' 10 s limit for a request's
# headers: nothing to read, nothing run, nothing logged.  A folded
# Authorization, or one after a NUL in a value, with another header
# after it: 401, the token not read.
# (Not answering is libwebsockets'; this pins that nothing runs.)
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null || bail "create failed"

S=$T/api.sock
bg corp-api --socket "$S" >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"

# raw HEADER-LINE...: PUT /api/runs/1/cancel (which would cancel the run)
# with a body of 2 bytes, each argument its last header lines; put
# PATH...: the same PUT with the token to each path (tests/rawhttp.py).
raw() {
	TOK=$ADMIN python3 "$CORP_SRC/tests/rawhttp.py" "$S" \
	    --pre 'PUT /api/runs/1/cancel HTTP/1.1\r\nHost: corp\r\nContent-Length: 2\r\n' \
	    --post '\r\n{}' "$@"
}
put() {
	TOK=$ADMIN python3 "$CORP_SRC/tests/rawhttp.py" "$S" --pre 'PUT ' \
	    --post ' HTTP/1.1\r\nHost: corp\r\n@AUTH@Content-Length: 2\r\n\r\n{}' \
	    "$@"
}
# The 10 s ones side by side, in the background.
raw 'Authorization:\r\n Bearer '"$ADMIN"'\r\n' >"$T/fold" &
f1=$!
raw 'Authorization: Bearer\r\n\t'"$ADMIN"'\r\n' >"$T/fold2" &
f2=$!
raw '@AUTH@X-A: a\x00b\r\n' >"$T/nulval" &
f3=$!
is "$(put '/api/runs/1/cancel\x00' '/api/runs/1\x00/cancel' \
    '/api/runs/1/cancel?a=\x00' '/api/runs/1/cancel%00' \
    '/api/runs/1/cancel?a=%00')" "closed
closed
closed
closed
closed" "a NUL in the path or the query, raw or %00: closed, nothing to read"
wait $f1 $f2 $f3
is "$(cat "$T/fold" "$T/fold2" "$T/nulval")" "closed
closed
closed" \
    "a folded Authorization as the last header, a NUL in a header's value: closed (not left open)"
is "$(raw 'Authorization:\r\n Bearer '"$ADMIN"'\r\nAccept: */*\r\n' \
    'Authorization: Bearer\r\n '"$ADMIN"'\r\nAccept: */*\r\n' \
    'X-A: a\x00b\r\n@AUTH@')" \
'401 {"error":"missing Authorization: Bearer token"}
401 {"error":"Authorization: expected Bearer"}
401 {"error":"missing Authorization: Bearer token"}' \
    "a folded Authorization, or one after a NUL, with a header after it: 401, no token read"

is "$(corp-analysis show 1 | jq -r .status)" pending \
    "nothing ran: the run is not cancelled"
is "$(grep -c '"PUT ' "$T/api.log")" 3 "only the three answered are logged"
# The same PUT on one line: served (the test can see a cancel).
is "$(raw '@AUTH@' | cut -c1-4)" "200 " "the PUT with its token on one line: 200"
is "$(corp-analysis show 1 | jq -r .status)" cancelled \
    "  (the run cancelled)"

kill "$api_pid"
wait "$api_pid"
done_testing
