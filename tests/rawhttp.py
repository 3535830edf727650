#!/usr/bin/env python3
"""rawhttp.py -- raw HTTP requests for the corp-api tests: the requests
curl will not send (a NUL, a blank before a colon, a folded line, a
pipelined body), each on a connection of its own.  Not an HTTP client:
it sends bytes and reads until the server closes.

As a module (PYTHONPATH=$CORP_SRC/tests):
    exchange(addr, data, timeout=30) -> (reply bytes, how)
        addr: a Unix socket's path (holding a '/') or [HOST:]PORT
        (127.0.0.1); how: "closed" (the server closed: end of stream,
        or a reset), or "timeout" (nothing more for TIMEOUT s: left
        open).
    status(reply): the answer's status ("400"), or "closed" when
        nothing came.
    body(reply): what follows the head ("" without one).

As a program:
    rawhttp.py ADDR [--pre TEXT] [--post TEXT] REQUEST...
        Sends PRE + REQUEST + POST per REQUEST, each with python's
        escapes (\\r, \\n, \\t, \\x00; a \\xNN is that byte), and
        prints a line per REQUEST: the status and the body ("400
        {...}"), "closed" or "timeout".  @AUTH@ in any of them is
        "Authorization: Bearer $TOK\\r\\n" (the token never in argv).
"""
import os, socket, sys


def connect(addr):
    if "/" in addr:
        s = socket.socket(socket.AF_UNIX)
        s.connect(addr)
        return s
    host, _, port = addr.rpartition(":")
    return socket.create_connection((host or "127.0.0.1", int(port)))


def exchange(addr, data, timeout=30):
    s = connect(addr)
    s.settimeout(timeout)
    d, how = b"", "closed"
    try:
        s.sendall(data)
    except OSError:
        pass                    # closed while we were still sending
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            d += c
    except socket.timeout:
        how = "timeout"
    except OSError:
        pass                    # a reset
    s.close()
    return d, how


def status(d):
    return d.split(b" ", 2)[1].decode() if d else "closed"


def body(d):
    return d.split(b"\r\n\r\n", 1)[1].decode() if b"\r\n\r\n" in d else ""


def text(arg):
    b = os.fsencode(arg).decode("unicode_escape").encode("latin-1")
    if b"@AUTH@" in b:
        b = b.replace(b"@AUTH@", b"Authorization: Bearer " +
                      os.environ["TOK"].encode() + b"\r\n")
    return b


def main(argv):
    addr, pre, post, reqs = argv[0], b"", b"", []
    i = 1
    while i < len(argv):
        if argv[i] in ("--pre", "--post") and i + 1 < len(argv):
            if argv[i] == "--pre":
                pre = text(argv[i + 1])
            else:
                post = text(argv[i + 1])
            i += 2
            continue
        reqs.append(argv[i])
        i += 1
    for r in reqs:
        d, how = exchange(addr, pre + text(r) + post)
        if how == "timeout":
            print("timeout", flush=True)
        elif not d:
            print("closed", flush=True)
        else:
            print(status(d), body(d), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
