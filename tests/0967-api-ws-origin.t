#!/bin/sh
# corp-api's WebSocket upgrade judged on its headers before any 101
# (corp-api.1 "Topics over WebSocket"; sec-review-22b): an Origin that
# is not this server's own (its host[:port] against Host, the scheme
# not compared) is 403, so another site's page gets no socket to send a
# bad token on and counts nothing against its visitors' address
# (MEDIUM-1); no Origin (no browser) is served.  A query is 400 (LOW 4);
# no corp.v1 is 400 and another path is routed as plain HTTP (404), not
# closed silently (LOW 5).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)

bg corp-api --listen 127.0.0.1:0 --auth-fails 2 >"$T/ready" 2>"$T/log"
srv=$bgpid
wait_file "$T/ready" 30 "$srv" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready")
up() {
	TOK=$ADMIN python3 "$CORP_SRC/tests/tools/holdreq.py" "$port" "$@"
}
# upgrade [PATH] [HEADER LINES]: a WebSocket upgrade of corp.v1
upgrade() {
	printf 'GET %s HTTP/1.1\\r\\nHost: 127.0.0.1:%s\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n%s\\r\\n' \
	    "$1" "$port" "$2"
}
P='Sec-WebSocket-Protocol: corp.v1\r\n'
ORIGIN_403='403 {"error":"Origin: not this server'"'"'s (a WebSocket from another site'"'"'s page is refused)"}'

# MEDIUM-1: another site's page
is "$(up "$(upgrade /ws "${P}Origin: https://evil.example\\r\\n")")" \
    "$ORIGIN_403" "an upgrade from another origin: 403 before any 101"
is "$(up "$(upgrade /ws "${P}Origin: http://127.0.0.1:1\\r\\n")")" \
    "$ORIGIN_403" "the same host on another port: 403"
is "$(up "$(upgrade /ws "${P}Origin: null\\r\\n")")" \
    "$ORIGIN_403" "Origin: null (a sandboxed page): 403"
is "$(up "$(upgrade /ws "${P}Origin: https://127.0.0.1:$port.evil.example\\r\\n")")" \
    "$ORIGIN_403" "a host that only starts like ours: 403"
is "$(up "$(upgrade /ws "${P}Origin: http://127.0.0.1:$port\\r\\n")")" \
    "101" "this server's own origin: upgraded"
is "$(up "$(upgrade /ws "${P}Origin: https://127.0.0.1:$port\\r\\n")")" \
    "101" "the scheme is not compared (a TLS proxy in front changes it)"
is "$(up "$(upgrade /ws "${P}")")" "101" "no Origin (no browser): upgraded"
like "$(cat "$T/log")" '127.0.0.1 "GET /ws" 403 -' "a refusal is logged"
# Four refused upgrades, --auth-fails 2: nothing was counted.
is "$(up "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @TOK@\r\n\r\n" | cut -c1-3)" "200" \
    "the refused upgrades counted no failed authentication"
# (the held 101s above closed with the tool; a good token still works
# after them, nothing locked)

# LOW 4 and 5: a query, no corp.v1, another path
is "$(up "$(upgrade '/ws?token=x' "$P")")" \
    '400 {"error":"query: token: unknown parameter (this route takes none)"}' \
    "/ws takes no query: 400 before the upgrade"
is "$(up "$(upgrade '/ws?x' "$P")")" \
    '400 {"error":"query: x: no '"'='"' (a parameter is NAME=VALUE)"}' \
    "a bare parameter: 400"
is "$(up "$(upgrade /ws "")")" \
    '400 {"error":"Sec-WebSocket-Protocol: corp.v1 required"}' \
    "no protocol: 400, not a silent close"
is "$(up "$(upgrade /ws 'Sec-WebSocket-Protocol: chat\r\n')")" \
    '400 {"error":"Sec-WebSocket-Protocol: corp.v1 required"}' \
    "another protocol: 400"
is "$(up "$(upgrade /ws 'Sec-WebSocket-Protocol: chat, corp.v1\r\n')")" \
    "101" "corp.v1 among others: upgraded"
is "$(up "$(upgrade /nows "$P")")" '404 {"error":"no such resource"}' \
    "an upgrade on another path: 404"
is "$(up "$(upgrade /ws "${P}Origin: https://evil.example\\r\\n" | sed 's/GET \/ws/GET \/ws?a=1/')")" \
    '400 {"error":"query: a: unknown parameter (this route takes none)"}' \
    "a query is judged before the Origin"

kill "$srv"
wait "$srv" 2>/dev/null
done_testing
