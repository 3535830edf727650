#!/bin/sh
# corp-api's failed-authentication limiter (corp-api.1 "Authentication";
# sec-review-21b MEDIUM-2, MEDIUM-3): only a credential presented and
# wrong counts (ten requests without a token, as a cross-site <img>
# makes, locked every user behind that address out); an address is
# keyed by what it parses to (2001:DB8::5 and 2001:db8::5 were two,
# ::ffff:10.0.0.1 and 10.0.0.1 too; an IPv6 client had a /64 of them);
# a locked address is never forgotten to make room (failures from 256
# other addresses unlocked one), and when every place holds a locked
# address a newcomer is not recorded; --trust-proxy believes a loopback
# TCP peer's X-Real-IP, without it every client of such a proxy is one.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-Secret_1\n' >"$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"

S=$T/api.sock
bg corp-api --socket "$S" --auth-fails 2 --auth-window 1h \
    >"$T/ready" 2>"$T/log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"

# reqs SPEC...: one request per SPEC "IP:AUTH[:N]" over the socket
# (X-Real-IP IP; AUTH: good, bad, none, basic, hook-none, hook-bad),
# N times; prints the statuses of each SPEC on one line, joined.
cat >"$T/reqs.py" <<'PY'
import os, socket, sys
sock, tok = sys.argv[1], os.environ["TOK"]
def one(ip, auth):
    path, extra = "/api/me", ""
    if auth == "good":
        extra = "Authorization: Bearer %s\r\n" % tok
    elif auth == "bad":
        extra = "Authorization: Bearer corp_wrong\r\n"
    elif auth == "basic":
        extra = "Authorization: Basic YTpi\r\n"
    elif auth.startswith("hook"):
        path = "/webhook/telegram"
        extra = "Content-Length: 0\r\n"
        if auth == "hook-bad":
            extra += "X-Telegram-Bot-Api-Secret-Token: nope\r\n"
    method = "POST" if auth.startswith("hook") else "GET"
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(sock)
    s.sendall(("%s %s HTTP/1.1\r\nHost: corp\r\nX-Real-IP: %s\r\n%s\r\n"
               % (method, path, ip, extra)).encode())
    d = b""
    while True:
        c = s.recv(4096)
        if not c:
            break
        d += c
    s.close()
    return d[9:12].decode()
for spec in sys.argv[2:]:
    ip, auth, n = (spec.split("=") + ["1"])[:3]
    print(" ".join(one(ip, auth) for i in range(int(n))))
PY
reqs() {
	TOK=$ADMIN python3 "$T/reqs.py" "$S" "$@"
}

# No credential: never counted.
is "$(reqs 10.1.1.1=none=12 10.1.1.1=good)" "$(printf '%s\n' \
    '401 401 401 401 401 401 401 401 401 401 401 401' 200)" \
    "no Authorization header twelve times: not counted"
is "$(reqs 10.1.1.2=hook-none=12 10.1.1.2=good)" "$(printf '%s\n' \
    '401 401 401 401 401 401 401 401 401 401 401 401' 200)" \
    "the webhook without its secret twelve times: not counted"
# A credential presented and wrong: counted.
is "$(reqs 10.1.1.3=bad=2 10.1.1.3=good)" "$(printf '%s\n' '401 401' 429)" \
    "two wrong tokens: the address is turned away"
is "$(reqs 10.1.1.4=basic=2 10.1.1.4=good)" "$(printf '%s\n' '401 401' 429)" \
    "another scheme counts"
is "$(reqs 10.1.1.5=hook-bad=2 10.1.1.5=good)" "$(printf '%s\n' '401 401' 429)" \
    "a wrong webhook secret counts"

# Keyed by the parsed address.
is "$(reqs 2001:db8::5=bad=2 2001:DB8::5=good 2001:db8:0:0:0:0:0:5=good \
    2001:db8::6=good 2001:db8:0:1::5=good)" "$(printf '%s\n' '401 401' 429 \
    429 429 200)" "IPv6: one key per /64, whatever the spelling"
is "$(reqs 10.2.2.2=bad=2 ::ffff:10.2.2.2=good ::FFFF:a02:202=good \
    10.2.2.3=good)" "$(printf '%s\n' '401 401' 429 429 200)" \
    "an IPv4-mapped address is the IPv4 one"

# A locked address stays locked, however many others fail: 1100 other
# addresses, one failure each (none of them locked).
reqs 10.3.3.3=bad=2 >/dev/null
seq 1100 | awk '{ printf "10.4.%d.%d=bad\n", $1 / 250, $1 % 250 }' \
    >"$T/others"
reqs $(cat "$T/others") >/dev/null
is "$(reqs 10.3.3.3=good)" "429" \
    "1100 other addresses failing do not unlock a locked one"
# Every place locked (1024 addresses, two failures each): a newcomer's
# failures are not recorded until a place is free.
seq 1100 | awk '{ printf "10.5.%d.%d=bad=2\n", $1 / 250, $1 % 250 }' \
    >"$T/locked"
reqs $(cat "$T/locked") >/dev/null
is "$(reqs 10.6.6.6=bad=3 10.6.6.6=good)" "$(printf '%s\n' '401 401 401' 200)" \
    "every place locked: a newcomer is not recorded"
is "$(reqs 10.3.3.3=good)" "429" "and the locked ones stay locked"

# TCP behind a proxy on this host: without --trust-proxy, X-Real-IP is
# ignored and every client is the proxy's address.
cat >"$T/tcp.sh" <<'SH'
port=$1; shift
for spec; do
	ip=${spec%%=*} auth=${spec#*=}
	h=
	[ "$auth" = good ] && h="Authorization: Bearer $TOK"
	[ "$auth" = bad ] && h="Authorization: Bearer corp_wrong"
	curl -s --max-time 20 -o /dev/null -w '%{http_code} ' \
	    -H "X-Real-IP: $ip" ${h:+-H "$h"} "http://127.0.0.1:$port/api/me"
done
SH
bg corp-api --listen 127.0.0.1:0 --auth-fails 2 >"$T/ready1" 2>"$T/log1"
wait_file "$T/ready1" 30 "$bgpid" || bail "corp-api (TCP) did not start"
p1=$(jq -r .port "$T/ready1")
is "$(TOK=$ADMIN sh "$T/tcp.sh" "$p1" 10.7.7.1=bad 10.7.7.2=bad 10.7.7.3=good)" \
    "401 401 429 " "TCP without --trust-proxy: X-Real-IP ignored, one bucket"
bg corp-api --listen 127.0.0.1:0 --auth-fails 2 --trust-proxy --peer-conns 1 \
    >"$T/ready2" 2>"$T/log2"
wait_file "$T/ready2" 30 "$bgpid" || bail "corp-api (--trust-proxy) did not start"
p2=$(jq -r .port "$T/ready2")
is "$(TOK=$ADMIN sh "$T/tcp.sh" "$p2" 10.7.7.1=bad 10.7.7.1=bad 10.7.7.1=good \
    10.7.7.2=good)" "401 401 429 200 " \
    "--trust-proxy: a loopback peer's X-Real-IP is the client"
like "$(cat "$T/log2")" 'proxy:10.7.7.2 "GET /api/me" 200 admin' \
    "the log shows proxy:ADDR"
# (Nor is the proxy capped by --peer-conns: two connections held, a
# third served.)
is "$(python3 - "$p2" <<'PY'
import socket, sys
p = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", p)) for i in range(2)]
s = socket.create_connection(("127.0.0.1", p))
s.settimeout(20)
try:
    s.sendall(b"GET /nosuch HTTP/1.1\r\nHost: corp\r\n\r\n")
    print(s.recv(12)[9:12].decode() or "closed")
except OSError:
    print("closed")
PY
)" "404" "--trust-proxy: a loopback peer is not capped by --peer-conns"
done_testing
