#!/bin/sh
# corp-api's request deadline on TLS (corp-api.1 "Connections and
# deadlines"; sec-review-22b LOW 1): a connection without a complete
# request is closed 10 s after it was accepted, TLS as plain TCP;
# libwebsockets 4.1 gave a TLS connection 30 s once its handshake was
# done.  Each client below waits 20 s at most: "timeout" means the
# server still held the connection then (the 30 s).  A request that
# comes whole is answered.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
make_cert srv
chmod 600 "$T/srv.key"
bg corp-api --listen 127.0.0.1:0 --cert "$T/srv.pem" \
    --key "$T/srv.key" >"$T/ready" 2>"$T/log"
srv=$bgpid
wait_file "$T/ready" 30 "$srv" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready")

# tls MODE: after the handshake, "idle" sends nothing, "trickle" sends
# headers a byte every 0.5 s; prints "closed" or "timeout" (20 s).
tls() {
	python3 - "$port" "$1" <<'PY'
import socket, ssl, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
c = ssl.create_default_context()
c.check_hostname = False
c.verify_mode = ssl.CERT_NONE
s = c.wrap_socket(socket.create_connection(("127.0.0.1", port)))
req = b"GET /api/me HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 100
end = time.time() + 20
s.settimeout(0.5 if mode == "trickle" else 20)
i = 0
while time.time() < end:
    try:
        d = s.recv(100)
        print("closed" if not d else "answered")
        sys.exit(0)
    except socket.timeout:
        if mode == "trickle":
            try:
                s.send(req[i:i + 1])
            except OSError:
                print("closed")
                sys.exit(0)
            i += 1
    except OSError:
        print("closed")
        sys.exit(0)
print("timeout")
PY
}
tls idle >"$T/idle" &
idle=$!
is "$(tls trickle)" closed "TLS, headers trickled: closed before 20 s"
wait "$idle"
is "$(cat "$T/idle")" closed "TLS, nothing sent after the handshake: closed before 20 s"
is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    "https://127.0.0.1:$port/api/me")" 200 "a whole request is answered"
kill "$srv"
wait "$srv" 2>/dev/null
done_testing
