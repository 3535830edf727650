#!/bin/sh
# corp-api's listeners (corp-api.1 DESCRIPTION, EXIT STATUS; sec-review-12a
# findings 1 and 2): HTTP/1.1 only, no cleartext HTTP/2 upgrade and no
# HTTP/2 over TLS (libwebsockets 4.1 bounds no header block: one peer's
# CONTINUATION frames kept it parsing and logging a line a header without
# end); libwebsockets' lines at most 20 a second, the rest counted in one
# line; a listener that cannot be made (a --socket name too long, an
# address not on this host, a port in use) exits before the ready line.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
FLOOD="$CORP_SRC/tests/tools/h2flood.py"

# ---- plain: an Upgrade: h2c is answered over HTTP/1.1 -----------------
bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready")
curl -s -D "$T/h" -o "$T/b" --http2 -H "Authorization: Bearer $ADMIN" \
    "http://127.0.0.1:$port/api/me"
is "$(head -1 "$T/h" | tr -d '\r')" "HTTP/1.1 200 OK" \
    "curl --http2 on a plain listener: HTTP/1.1 200, no 101 Switching Protocols"
is "$(grep -ci '^upgrade:' "$T/h")" 0 "no Upgrade header in the answer"
is "$(jq -c '[.login, .is_admin]' "$T/b")" '["admin",true]' \
    "the request is served as the HTTP/1.1 request it also is"
# The raw upgrade and the flood that would follow a 101: no 101, so no
# flood (the old server answered 101 and logged a line per header).
is "$(timeout 60 python3 "$FLOOD" h2c "$port" 1)" \
    "refused: HTTP/1.1 401 Unauthorized" \
    "an unauthenticated h2c upgrade: its request answered over HTTP/1.1 (401)"
is "$(printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | timeout 30 curl -s \
    telnet://127.0.0.1:$port | head -1 | tr -d '\r')" "HTTP/1.0 403 Forbidden" \
    "the HTTP/2 preface (prior knowledge): a 403, no HTTP/2 spoken"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    "http://127.0.0.1:$port/api/me")" 200 "and the server serves"
kill "$bgpid"
wait "$bgpid"
is "$(grep -c 'libwebsockets' "$T/log")" 0 "no libwebsockets line in the log"

# ---- TLS: ALPN offers http/1.1 only -----------------------------------
mkdir -m 700 "$T/tls"
(cd "$T/tls" && openssl req -x509 -newkey ec \
    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=corp-api.test \
    -days 2 -keyout srv.key -out srv.crt) >/dev/null 2>&1 ||
    bail "openssl req failed"
chmod 600 "$T/tls/srv.key"
chmod 644 "$T/tls/srv.crt"
# --peer-conns 1000: the burst below opens 200 connections from one
# address, more than the default cap of 64 (corp-api.1).
bg corp-api --listen 127.0.0.1:0 --cert "$T/tls/srv.crt" \
    --key "$T/tls/srv.key" --peer-conns 1000 >"$T/tready" 2>"$T/tlog"
wait_file "$T/tready" 30 "$bgpid" || bail "corp-api with TLS did not start"
tport=$(jq -r .port "$T/tready")
is "$(curl -sk -o /dev/null -w '%{http_code} %{http_version}' --http2 \
    -H "Authorization: Bearer $ADMIN" "https://127.0.0.1:$tport/api/me")" \
    "200 1.1" "curl --http2 over TLS: answered over HTTP/1.1"
is "$(timeout 60 python3 "$FLOOD" tls "$tport" 1)" "no h2 over TLS" \
    "a client offering only h2 gets no ALPN h2: no CONTINUATION flood"
is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    "https://127.0.0.1:$tport/api/me")" 200 "and the server serves"

# ---- libwebsockets' lines: at most 20 a second ------------------------
# 200 connections, each a header line past libwebsockets' header space
# (one "Ran out of header data space" each), sent at once: the lines
# shown and the counts of the summary lines add up to 200, and most are
# counted, not written.
timeout 120 python3 - "$tport" <<'EOF' >"$T/burst" 2>&1
import socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
req = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536
conns = []
for i in range(200):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                 timeout=60))
    conns.append(s)
for s in conns:
    try:
        s.sendall(req)
    except OSError:
        pass
closed = 0
for s in conns:
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    closed += 1
    s.close()
print("closed", closed)
EOF
is "$(cat "$T/burst")" "closed 200" "the 200 connections were closed by the server"
is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    "https://127.0.0.1:$tport/api/me")" 200 "and the server serves"
kill "$bgpid"
wait "$bgpid"
shown=$(grep -c 'libwebsockets: Ran out of header data space$' "$T/tlog")
counted=$(sed -n 's/.*libwebsockets: \([0-9]*\) lines suppressed (more than 20 a second)$/\1/p' \
    "$T/tlog" | awk '{n += $1} END {print n + 0}')
is "$((shown + counted))" 200 \
    "every line shown or counted ($shown shown, $counted counted)"
ok "most of them counted, not written" test "$shown" -lt 100
is "$(grep -v -e 'libwebsockets: Ran out of header data space$' \
    -e 'libwebsockets: [0-9]* lines suppressed (more than 20 a second)$' \
    -e '"GET /api/me" 200 admin$' \
    -e 'the pages are not served' "$T/tlog")" "" "no other line in the log"

# ---- a listener that cannot be made: an exit before the ready line -----
long=$(printf 'a%.0s' $(seq 1 120))
is_rc 64 "--socket whose name is too long for a Unix socket" timeout 30 \
    corp-api --socket "$T/$long"
is "$out" "" "no ready line"
is "$err" "corp-api: --socket $T/$long: the name '$long' is too long for a Unix socket (at most 91 bytes after the last '/')" \
    "names the socket and the limit"
is "$(ls "$T" | grep -c '^aaa')" 0 "and made nothing"
n91=$(printf 'b%.0s' $(seq 1 91))
bg corp-api --socket "$T/$n91" >"$T/sready" 2>/dev/null
wait_file "$T/sready" 30 "$bgpid"
is "$(cat "$T/sready")" "{\"socket\":\"$T/$n91\"}" "a name of 91 bytes listens"
# (a client reaches it by a relative name: the whole path is too long)
is "$(cd "$T" && curl -s -o /dev/null -w '%{http_code}' --unix-socket "$n91" \
    -H "Authorization: Bearer $ADMIN" http://x/api/me)" 200 "and serves"
kill "$bgpid"
wait "$bgpid"
is_rc 64 "a name of 92 bytes does not" timeout 30 corp-api --socket "$T/b$n91"

is_rc 1 "--listen an address not on this host" timeout 30 corp-api \
    --listen 192.0.2.1:0 --cert "$T/tls/srv.crt" --key "$T/tls/srv.key"
is "$out" "" "no ready line"
is "$err" "corp-api: cannot listen on 192.0.2.1:0: Cannot assign requested address" \
    "names the address and the reason"
is_rc 1 "--listen an IPv6 address not on this host" timeout 30 corp-api \
    --listen '[2001:db8::1]:0' --cert "$T/tls/srv.crt" --key "$T/tls/srv.key"
is "$out|$err" \
    "|corp-api: cannot listen on [2001:db8::1]:0: Cannot assign requested address" \
    "no ready line, names it"
bg corp-api --listen 127.0.0.1:0 >"$T/ready2" 2>/dev/null
wait_file "$T/ready2" 30 "$bgpid" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready2")
is_rc 1 "--listen a port in use" timeout 30 corp-api --listen "127.0.0.1:$port"
is "$out|$err" \
    "|corp-api: cannot listen on 127.0.0.1:$port: Address already in use" \
    "no ready line, names it"
kill "$bgpid"
wait "$bgpid"

done_testing
