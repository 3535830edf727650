#!/bin/sh
# contrib/corp-api.nginx serves everything corp-api(1) serves behind the
# proxy (sec-review-21b LOW 1: it passed only /api/, so /, /ops,
# /static/, /webhook/telegram and /ws were nginx's 404 or its default
# page): the site as shipped, only its listen port, certificate paths
# and socket path replaced, passes nginx -t and is run in front of
# corp-api on its socket, TLS and HTTP/2 at nginx; each path is
# answered by corp-api, with the client's address in X-Real-IP, and the
# WebSocket upgrade goes through.  Skipped when nginx is not installed:
# nginx is no dependency of make check.
. "${CORP_SRC:-.}/tests/lib.sh"
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || :)
if [ -z "$NGINX" ] || ! command -v openssl >/dev/null; then
	skip "nginx (or openssl) not installed"
	done_testing
fi
. "$CORP_SRC/tests/ws-lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
mkdir -p -m 700 "$CORP_DATA_DIR/secrets"
printf 'hook-Secret_1' >"$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"

S=$T/api.sock
bg corp-api --socket "$S" >"$T/ready" 2>"$T/api.log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"

N=$T/ng
mkdir -p "$N/tmp" "$N/logs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$N/key.pem" -out "$N/cert.pem" >/dev/null 2>&1 ||
    bail "openssl req failed"
# A free port (the kernel's pick, released for nginx to bind).
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|listen 443 ssl http2;|listen 127.0.0.1:$PORT ssl http2;|" \
    -e "s|/etc/ssl/corp/fullchain.pem|$N/cert.pem|" \
    -e "s|/etc/ssl/corp/privkey.pem|$N/key.pem|" \
    -e "s|/run/corp-api/api.sock|$S|" \
    "$CORP_SRC/contrib/corp-api.nginx" >"$N/site.conf"
is "$(diff "$CORP_SRC/contrib/corp-api.nginx" "$N/site.conf" | grep -c '^>')" 4 \
    "the site as shipped, four lines replaced (port, certificate, key, socket)"
{
	[ "$(id -u)" = 0 ] && echo "user root;"
	cat <<EOF
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log info;
daemon off;
events { worker_connections 64; }
http {
	access_log $N/logs/access.log;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	include $N/site.conf;
}
EOF
} >"$N/nginx.conf"
run "$NGINX" -t -p "$N" -c "$N/nginx.conf"
is "$rc" 0 "nginx -t: the configuration is valid"
like "$err" "syntax is ok" "nginx says so"

bg "$NGINX" -p "$N" -c "$N/nginx.conf"
ngpid=$bgpid
U=https://127.0.0.1:$PORT
i=0
until curl -sk -o /dev/null --max-time 5 "$U/static/corp.css"; do
	i=$((i + 1))
	[ "$i" -gt 200 ] || ! kill -0 "$ngpid" 2>/dev/null &&
	    bail "nginx did not start: $(cat "$N/logs/error.log")"
	sleep 0.05
done

# get PATH [CURL ARGS]: "CODE CONTENT-TYPE", the body in $T/body.
get() {
	_p=$1
	shift
	curl -sk --http2 --max-time 60 -o "$T/body" \
	    -w '%{http_code} %{content_type}' "$@" "$U$_p"
}
is "$(get /)" "200 text/html; charset=utf-8" "/: the review page"
like "$(cat "$T/body")" 'src="/static/review.js"' "corp-api's page, not nginx's"
is "$(get /ops)" "200 text/html; charset=utf-8" "/ops: the operator page"
like "$(cat "$T/body")" 'src="/static/ops.js"' "its script"
like "$(get /static/corp.css)" "^200 text/css" "/static/corp.css"
like "$(get /static/common.js)" "^200 (text|application)/javascript" "/static/common.js"
is "$(get /api/me -H "Authorization: Bearer $ADMIN")" "200 application/json" \
    "/api/me with a token"
is "$(jq -r .login "$T/body")" "admin" "as the token's user"
is "$(get /webhook/telegram -H 'X-Telegram-Bot-Api-Secret-Token: hook-Secret_1' \
    -H 'Content-Type: application/json' --data-binary '{"update_id":5}')" \
    "200 application/json" "/webhook/telegram: spooled"
is "$(cat "$T/body")" '{"ok":true,"update_id":5}' "its answer"
is "$(ls "$CORP_DATA_DIR/spool/telegram" | grep -v '^refused-')" "5.json" \
    "the update is in the spool"
# Through HTTP/2 at nginx, HTTP/1.1 to corp-api, the client's address
# in X-Real-IP.
for p in '"GET /"' '"GET /ops"' '"GET /static/corp.css"' '"GET /api/me" 200 admin' \
    '"POST /webhook/telegram" 200'; do
	like "$(cat "$T/api.log")" "Z corp-api: unix:127\\.0\\.0\\.1 $p" \
	    "corp-api logged $p from X-Real-IP"
done
# The WebSocket: the upgrade is passed on.
got=$(NODE_TLS_REJECT_UNAUTHORIZED=0 ws "wss://127.0.0.1:$PORT/ws" 1 \
    "{\"type\":\"auth\",\"token\":\"$ADMIN\"}" \
    '{"type":"subscribe","topics":["proposals"]}' 2>/dev/null)
like "$got" '^\{"type":"subscribed","topics":\["proposals"\],"last_id":[0-9]+\}$' \
    "/ws: upgraded, authenticated and subscribed through nginx"
# A browser's upgrade carries Origin with the port it was sent to: the
# Host goes on as sent ($http_host), so the page's own origin is
# upgraded and another site's is 403 (sec-review-22b MEDIUM-1).
origin() {
	python3 - "$PORT" "$1" <<'PY'
import socket, ssl, sys
port, origin = sys.argv[1], sys.argv[2]
c = ssl.create_default_context()
c.check_hostname = False
c.verify_mode = ssl.CERT_NONE
s = c.wrap_socket(socket.create_connection(("127.0.0.1", int(port))))
s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: corp.v1\r\n"
           "Origin: %s\r\n\r\n" % (port, origin)).encode())
s.settimeout(30)
d = b""
while b"\r\n" not in d:
    c2 = s.recv(4096)
    if not c2:
        break
    d += c2
print(d.split(b" ")[1].decode() if d else "closed")
PY
}
is "$(origin "https://127.0.0.1:$PORT")" 101 "/ws from the page's own origin: upgraded"
is "$(origin "https://evil.example")" 403 "/ws from another site's page: 403"
# Connections per client on every location, and requests on /ws too
# (sec-review-22b MEDIUM-2).
is "$(grep -c 'limit_conn corp_conn 32;' "$N/site.conf")" 1 \
    "limit_conn at the server level (every location inherits it)"
is "$(grep -c 'limit_conn ' "$N/site.conf")" 1 "no location sets its own"
is "$(sed -n '/location = \/ws/,/}/p' "$N/site.conf" | grep -c 'limit_req zone=corp_api')" 1 \
    "/ws has limit_req"
# Nothing else is passed on.
n0=$(wc -l <"$T/api.log")
is "$(get /nosuch | cut -d' ' -f1)" 404 "/nosuch: 404"
is "$(get /opsx | cut -d' ' -f1)" 404 "/opsx: 404"
is "$(wc -l <"$T/api.log")" "$n0" "answered by nginx, never reaching corp-api"

done_testing
