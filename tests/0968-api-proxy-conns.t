#!/bin/sh
# corp-api's --peer-conns behind the proxy (corp-api.1 "Connections and
# deadlines"; sec-review-22b MEDIUM-2): on the socket and with
# --trust-proxy the peer is the proxy, one for every client, so the cap
# applies per X-Real-IP once the headers are in: a request or a
# WebSocket upgrade from an address that holds --peer-conns connections
# is 429 and counts nothing else, other addresses go on.  A refusal at
# the cap is logged, one line per address a minute at most (the TCP
# ones were not logged at all).  --trust-proxy with --socket is a usage
# error (LOW 6).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
mkdir -p -m 700 "$CORP_DATA_DIR/secrets"
printf 'hook-Secret_1' >"$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"

# (timeout: a corp-api that took it would serve until stopped)
run timeout 30 corp-api --socket "$T/x.sock" --trust-proxy
is "$rc" 64 "--trust-proxy with --socket: usage error"
like "$err" "--trust-proxy is for --listen on loopback behind a reverse proxy" \
    "naming the option"

S=$T/api.sock
# (--auth-fails 2: the two 429s below would lock 10.0.0.1 if counted)
bg corp-api --socket "$S" --peer-conns 2 --auth-fails 2 >"$T/ready" 2>"$T/log"
srv=$bgpid
wait_file "$T/ready" 30 "$srv" || bail "corp-api did not start"
hold() {
	TOK=$ADMIN python3 "$CORP_SRC/tests/tools/holdreq.py" "$@"
}
# a webhook body still to come: held for --body-timeout (1m)
held() {
	printf '=POST /webhook/telegram HTTP/1.1\\r\\nHost: c\\r\\nX-Real-IP: %s\\r\\nX-Telegram-Bot-Api-Secret-Token: hook-Secret_1\\r\\nContent-Length: 100\\r\\n\\r\\n{' "$1"
}
me() {
	printf 'GET /api/me HTTP/1.1\\r\\nHost: c\\r\\nX-Real-IP: %s\\r\\nAuthorization: Bearer @TOK@\\r\\n\\r\\n' "$1"
}
upg() {
	printf 'GET /ws HTTP/1.1\\r\\nHost: c\\r\\nX-Real-IP: %s\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\nSec-WebSocket-Protocol: corp.v1\\r\\n\\r\\n' "$1"
}
CAP='429 {"error":"too many connections from this address (--peer-conns)"}'
out=$(hold "unix:$S" "$(held 10.0.0.1)" "$(held 10.0.0.1)" "$(me 10.0.0.1)" \
    "$(upg 10.0.0.1)" "$(me 10.0.0.2)" "$(upg 10.0.0.2)" "$(me 2001:db8::7)")
is "$(printf '%s\n' "$out" | cut -c1-3)" "429
429
200
101
200" \
    "socket, two held from 10.0.0.1: its request and upgrade are 429, 10.0.0.2 and another go on"
is "$(printf '%s\n' "$out" | sed -n 1p)" "$CAP" "the 429 says why"
is "$(grep -c 'connection.* refused' "$T/log")" 1 \
    "the two refusals: one log line"
like "$(cat "$T/log")" \
    'unix:10\.0\.0\.1: 1 connection refused: 2 open, the most one address may hold \(--peer-conns; at most one such line a minute\)' \
    "naming the address and the cap"
# Its held connections closed with the tool: served again once the
# server has seen them close (polled, bounded).
i=0
until [ "$(hold "unix:$S" "$(me 10.0.0.1)" | cut -c1-3)" = 200 ] || [ $i -ge 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
ok "its connections closed, 10.0.0.1 is served again" [ $i -lt 100 ]
is "$(hold "unix:$S" "$(me 10.0.0.1)" "$(me 10.0.0.1)" | cut -c1-3 | sort -u)" 200 \
    "a 429 at the cap counted no failed authentication"
is "$(grep -c 'connection.* refused' "$T/log")" 1 "still one line"
# no X-Real-IP: not capped (every client of the socket would be one)
nox='=POST /webhook/telegram HTTP/1.1\r\nHost: c\r\nX-Telegram-Bot-Api-Secret-Token: hook-Secret_1\r\nContent-Length: 100\r\n\r\n{'
is "$(hold "unix:$S" "$nox" "$nox" 'GET /api/me HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer @TOK@\r\n\r\n' | cut -c1-3)" 200 \
    "without X-Real-IP: not capped"
kill "$srv"
wait "$srv" 2>/dev/null

# --trust-proxy: a loopback peer is capped by its X-Real-IP
bg corp-api --listen 127.0.0.1:0 --trust-proxy --peer-conns 1 >"$T/ready2" 2>"$T/log2"
srv=$bgpid
wait_file "$T/ready2" 30 "$srv" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready2")
is "$(hold "$port" "$(held 10.0.0.5)" "$(upg 10.0.0.5)" "$(me 10.0.0.6)" | cut -c1-3)" "429
200" "--trust-proxy: 10.0.0.5 at its cap, 10.0.0.6 served"
like "$(cat "$T/log2")" 'proxy:10\.0\.0\.5: 1 connection refused' "logged"
kill "$srv"
wait "$srv" 2>/dev/null

# TCP: a refusal at accept is logged too, one line a minute at most
bg corp-api --listen 127.0.0.1:0 --peer-conns 1 >"$T/ready3" 2>"$T/log3"
srv=$bgpid
wait_file "$T/ready3" 30 "$srv" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready3")
is "$(hold "$port" "$(held 10.9.9.9)" "$(me x)" "$(me x)" "$(me x)")" "closed
closed
closed" "TCP: the connections past the cap are closed at accept"
is "$(grep -c 'connection.* refused' "$T/log3")" 1 "three refusals, one line"
like "$(cat "$T/log3")" '127\.0\.0\.1: 1 connection refused: 1 open' \
    "naming the peer"
kill "$srv"
wait "$srv" 2>/dev/null
done_testing
