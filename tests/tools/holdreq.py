#!/usr/bin/env python3
"""holdreq.py -- raw requests on connections held open (corp-api tests).

    holdreq.py ADDR OP...

ADDR: a port on 127.0.0.1, or unix:PATH.  Each OP is a request with
python's escapes (@TOK@ the token in $TOK, never in argv), sent on a
connection of its own, in order:
    =REQ  sent and held open, nothing read (a body still to come);
    REQ   sent, and its answer read: "101" when the upgrade is taken
          (the connection then held open), else "STATUS BODY" read to
          the close, "closed" when nothing came, "timeout" after 20 s.
Every connection held is closed when the last OP is done.
"""
import codecs, os, socket, sys

held = []


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(addr[5:])
        return s
    return socket.create_connection(("127.0.0.1", int(addr)))


def text(op):
    return codecs.escape_decode(op.encode())[0].replace(
        b"@TOK@", os.environ.get("TOK", "").encode())


def ask(addr, req):
    s = connect(addr)
    s.sendall(req)
    s.settimeout(20)
    d = b""
    try:
        while True:
            if d.startswith(b"HTTP/1.1 101 ") and b"\r\n\r\n" in d:
                held.append(s)
                return "101"
            c = s.recv(65536)
            if not c:
                break
            d += c
    except socket.timeout:
        return "timeout"
    except OSError:
        pass
    s.close()
    if not d:
        return "closed"
    head, _, body = d.partition(b"\r\n\r\n")
    return head.split(b" ")[1].decode() + " " + body.decode()


def main(argv):
    addr = argv[0]
    for op in argv[1:]:
        if op.startswith("="):
            s = connect(addr)
            s.sendall(text(op[1:]))
            held.append(s)
        else:
            print(ask(addr, text(op)), flush=True)
    for s in held:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1:])
