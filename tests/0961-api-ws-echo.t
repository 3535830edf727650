#!/bin/sh
# corp-api's WebSocket error frames and HTTP errors show what the client
# sent as the log shows a path (corp-api.1 "Topics over WebSocket",
# "Errors"): a topic, a field name, a query's status or number cut at a
# character to 64 bytes, controls, invisible characters and bytes not
# valid UTF-8 as '?' (issue 16 LOW: a topic came back raw, and one longer
# than an error's 1024 bytes, cut inside a character, got no error frame
# at all; over HTTP such a field name or value was a 500).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
. "$CORP_SRC/tests/ws-lib.sh"
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin | jq -r .token)
TOPICS="(topics: messages, analysis_runs, proposals)"

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"
U="ws://127.0.0.1:$(jq .port "$T/ready")/ws"
AUTH='{"type":"auth","token":"'"$ADMIN"'"}'
sub() {
	printf '{"type":"subscribe","topics":[%s]}' "$1"
}

# A topic of 2000 'é' (4000 bytes) and one of 70 'a': cut at 64 bytes.
long=$(awk 'BEGIN { for (i = 0; i < 2000; i++) printf "é" }')
cut=$(awk 'BEGIN { for (i = 0; i < 30; i++) printf "é" }')
a70=$(printf '%070d' 0 | tr 0 a)
a61=$(printf '%061d' 0 | tr 0 a)
is "$(ws "$U" 7 "$AUTH" "$(sub '"x\u001b[2J"')" \
    "$(sub '"x\u0085y\u202ez\u200b"')" "$(sub "\"$long\"")" \
    "$(sub "\"$a70\"")" "$(sub '"space:1:\u001b]0;t\u0007"')" \
    '{"type":"subscribe","topics":["messages"],"\u001b[31mred":1}' \
    '{"type":"ping"}')" \
"{\"type\":\"error\",\"error\":\"subscribe: unknown topic 'x?[2J' $TOPICS\"}
{\"type\":\"error\",\"error\":\"subscribe: unknown topic 'x?y?z?' $TOPICS\"}
{\"type\":\"error\",\"error\":\"subscribe: unknown topic '$cut...' $TOPICS\"}
{\"type\":\"error\",\"error\":\"subscribe: unknown topic '$a61...' $TOPICS\"}
{\"type\":\"error\",\"error\":\"subscribe: unknown topic 'space:1:?]0;t?' $TOPICS\"}
{\"type\":\"error\",\"error\":\"subscribe: unknown field \\\"?[31mred\\\"\"}
{\"type\":\"pong\"}" \
    "controls and invisible characters as '?', a long topic cut: each gets its error frame"
# A frame jansson cannot read: the text it quotes near the fault stops
# before the bad byte (and is cleaned as well): a raw ESC in a string.
esc=$(printf '\033')
is "$(ws "$U" 2 "$AUTH" "{\"type\":\"x$esc[2J\"}" '{"type":"ping"}')" \
'{"type":"error","error":"frame: line 1 column 10: control character 0x1b near '"'"'\"x'"'"'"}
{"type":"pong"}' "a raw control byte in a frame: its error quotes only the text before it"

# Bytes not valid UTF-8 in a text frame: node's WebSocket sends none, so
# a raw frame (RFC 6455 5.2, masked; a test tool, not corp's code).
port=$(jq .port "$T/ready")
python3 - "$port" "$ADMIN" >"$T/raw" <<'PY'
import base64, os, socket, struct, sys
port, token = int(sys.argv[1]), sys.argv[2]
def frame(data):
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81])
    head += bytes([0x80 | n]) if n < 126 else \
        bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
s = socket.create_connection(("127.0.0.1", port))
s.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: corp.v1\r\n"
           "\r\n" % base64.b64encode(os.urandom(16)).decode()).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf.split(b"\r\n\r\n", 1)[1]
s.sendall(frame(b'{"type":"auth","token":"%s"}' % token.encode()))
s.sendall(frame(b'{"type":"subscribe","topics":["x\xff\xfe"]}'))
# The first frame the server sends back: its opcode and payload.
s.settimeout(30)
while True:
    if len(buf) >= 2:
        n, off = buf[1] & 0x7f, 2
        if n == 126 and len(buf) >= 4:
            n, off = struct.unpack("!H", buf[2:4])[0], 4
        if n < 126 and len(buf) >= off + n:
            break
        if off == 4 and len(buf) >= off + n:
            break
    d = s.recv(4096)
    if not d:
        print("closed")
        sys.exit(0)
    buf += d
print("opcode %d" % (buf[0] & 0x0f))
sys.stdout.write(buf[off:off + n].decode("utf-8", "backslashreplace") + "\n")
PY
is "$(cat "$T/raw")" 'opcode 1
{"type":"error","error":"frame: line 1 column 32: unable to decode byte 0xff near '"'"'\"x'"'"'"}' \
    "a text frame not valid UTF-8: an error frame naming the byte, not holding it"
# HTTP: the same rule for names and values; a longer value another
# message quotes is cut at a character where the message ends (1023
# bytes), never a 500.
B="http://127.0.0.1:$port"
req() {
	curl -s --max-time 60 -w ' %{http_code}' -H "Authorization: Bearer $ADMIN" \
	    "$@"
}
x600="x$(awk 'BEGIN { for (i = 0; i < 600; i++) printf "é" }')"
cut="x$(awk 'BEGIN { for (i = 0; i < 30; i++) printf "é" }')"
is "$(req -X POST --data "{\"$x600\":1}" "$B/api/runs")" \
    "{\"error\":\"body: unknown field \\\"$cut...\\\"\"} 400" \
    "a long field name: cut to 64 bytes, 400"
is "$(req -X POST --data '{"x\u001b[2J":1}' "$B/api/runs")" \
    '{"error":"body: unknown field \"x?[2J\""} 400' \
    "a field name's control character: '?'"
is "$(req "$B/api/runs?status=$x600")" \
    "{\"error\":\"query: status: unknown '$cut...'\"} 400" \
    "a long status: cut"
is "$(req "$B/api/messages?chat=-1&limit=9%1b$x600")" \
    "{\"error\":\"query: limit: '9?x$(awk 'BEGIN { for (i = 0; i < 29; i++) printf "é" }')...' is not a plain decimal (expected 1..1000)\"} 400" \
    "a long number: cut, its control '?'"
# "from" is quoted whole by the time parser: the message is cut at 1023
# bytes, inside an 'é' for one of the two lengths; both are 400.
for v in "$x600" "x$x600"; do
	w=$(printf %s "$v" | wc -c)
	r=$(req -X POST --data "{\"chat_id\":-1,\"from\":\"$v\",\"until\":\"x\"}" \
	    "$B/api/runs")
	is "${r##* }:$(printf %s "${r% *}" | jq -r .error | head -c 16)" \
	    "400:body: \"from\": 'x" "a message cut at 1023 bytes ($w bytes): still 400"
done

kill "$api_pid"
wait "$api_pid"
done_testing
