#!/usr/bin/env python3
"""ws_stall.py -- a WebSocket client that never reads (corp-api tests).

    ws_stall.py HOST PORT TOKEN

Opens GET /ws with protocol corp.v1 on a socket whose receive buffer is
as small as the kernel allows, sends the auth and subscribe frames, and
prints "ready" once the server has acknowledged the subscription.  It then reads nothing
until a line arrives on stdin; then it reads to the end of the stream
and prints "closed" when the server has closed the connection (or
"open" after 30 s).  Node's WebSocket always reads, so this client
frames its two messages itself (RFC 6455 5.2, masked, text): a test
tool, not corp's code.
"""
import base64, json, os, socket, struct, sys


def frame(obj):
    data = json.dumps(obj).encode()
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect((host, port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: corp.v1\r\n"
           "\r\n" % (host, port, key)).encode())
head = b""
while b"\r\n\r\n" not in head:
    b = s.recv(1)
    if not b:
        sys.exit("no answer to the upgrade")
    head += b
if not head.startswith(b"HTTP/1.1 101"):
    sys.exit("upgrade refused: " + head.split(b"\r\n")[0].decode())
s.sendall(frame({"type": "auth", "token": token}))
s.sendall(frame({"type": "subscribe", "topics": ["messages"]}))
got = b""
while b'"subscribed"' not in got:      # the ack, then nothing more
    b = s.recv(1)
    if not b:
        sys.exit("closed before the subscription")
    got += b
print("ready", flush=True)
sys.stdin.readline()
s.settimeout(30)
try:
    while s.recv(65536):
        pass
    print("closed", flush=True)
except (socket.timeout, ConnectionResetError) as e:
    print("closed" if isinstance(e, ConnectionResetError) else "open",
          flush=True)
