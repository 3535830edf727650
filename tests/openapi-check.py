#!/usr/bin/env python3
"""tests/0956: share/openapi.json against what corp-api serves.

openapi-check.py structure OPENAPI SRC
    prints one line per problem of the document's structure (OpenAPI 3.0:
    the fields every operation needs, path parameters declared, every
    $ref resolving, errors as the Error schema), then "routes" lines: the
    routes the sources serve (lib/api.c's routes[], lib/www.c's table)
    and the document does not have, and the reverse.
openapi-check.py probe OPENAPI SOCKET
    sends every documented operation to corp-api on the Unix socket
    (ids 1, no token, a JSON body of {}) and prints each one answered as
    an unknown route (404 "no such resource") or an unknown method (405).
Exit 0 when nothing was printed."""
import http.client
import json
import re
import socket
import sys

METHODS = ("get", "put", "post", "patch", "delete")


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def resolve(doc, ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def structure(doc):
    bad = []
    if not str(doc.get("openapi", "")).startswith("3.0."):
        bad.append("openapi: not 3.0.x")
    for k in ("title", "version"):
        if not doc.get("info", {}).get(k):
            bad.append("info.%s missing" % k)
    if "bearer" not in doc.get("components", {}).get("securitySchemes", {}):
        bad.append("no bearer security scheme")
    if not doc.get("paths"):
        bad.append("no paths")
    for path, item in doc.get("paths", {}).items():
        if not path.startswith("/"):
            bad.append("%s: does not start with /" % path)
        want = set(re.findall(r"{(\w+)}", path))
        shared = item.get("parameters", [])
        for m in item:
            if m == "parameters":
                continue
            if m not in METHODS:
                bad.append("%s: unknown key %s" % (path, m))
                continue
            op = item[m]
            where = "%s %s" % (m.upper(), path)
            if not op.get("summary"):
                bad.append("%s: no summary" % where)
            params = shared + op.get("parameters", [])
            have = {p["name"] for p in params if p.get("in") == "path"}
            for p in params:
                if p.get("in") == "path" and not p.get("required"):
                    bad.append("%s: path parameter %s not required" %
                               (where, p["name"]))
                if "schema" not in p:
                    bad.append("%s: parameter %s has no schema" %
                               (where, p.get("name")))
            if have != want:
                bad.append("%s: path parameters %s, declared %s" %
                           (where, sorted(want), sorted(have)))
            resp = op.get("responses", {})
            if not any(c.startswith("2") or c == "101" for c in resp):
                bad.append("%s: no 2xx (or 101) response" % where)
            for code, r in resp.items():
                if not re.fullmatch(r"[1-5][0-9][0-9]", code):
                    bad.append("%s: response code %s" % (where, code))
                if not r.get("description"):
                    bad.append("%s %s: no description" % (where, code))
                if code[0] in "45":
                    s = r.get("content", {}).get("application/json",
                                                 {}).get("schema", {})
                    if s.get("$ref") != "#/components/schemas/Error":
                        bad.append("%s %s: not an Error" % (where, code))
            if m in ("get", "delete") and "requestBody" in op:
                bad.append("%s: a body on %s" % (where, m))
    found = []
    refs(doc, found)
    for r in sorted(set(found)):
        if resolve(doc, r) is None:
            bad.append("$ref %s does not resolve" % r)
    return bad


def served(src):
    """(METHOD, path) of lib/api.c's routes[] and lib/www.c's table."""
    out = set()
    api = open(src + "/lib/api.c").read()
    table = api[api.index("} routes[] = {"):]
    table = table[:table.index("{ NULL }")]
    for m, segs in re.findall(r'\{ "([A-Z]+)", \{ ([^}]*) \}', table):
        parts = re.findall(r'"([^"]*)"', segs)
        out.add((m, "/" + "/".join("{id}" if p == "#" else p
                                    for p in parts)))
    www = open(src + "/lib/www.c").read()
    table = www[www.index("table[] = {"):]
    table = table[:table.index("};")]
    for path in re.findall(r'\{ "(/[^"]*)", "', table):
        out.add(("GET", path))
    # The WebSocket: the one path cmd/corp-api.c upgrades.
    cmd = open(src + "/cmd/corp-api.c").read()
    for path in re.findall(r'strcmp\(uri, "(/[^"]*)"\)', cmd):
        out.add(("GET", path))
    return out


def documented(doc):
    return {(m.upper(), p) for p, item in doc["paths"].items()
            for m in item if m in METHODS}


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("corp", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.unix_path)


def upgrade(sock, path):
    """The status of a WebSocket upgrade of path (corp.v1)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock)
    s.sendall(("GET %s HTTP/1.1\r\nHost: corp\r\nConnection: Upgrade\r\n"
               "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Protocol: corp.v1\r\n\r\n" % path).encode())
    line = s.makefile("rb").readline().decode().split()
    s.close()
    return int(line[1]) if len(line) > 1 else 0	# 0: closed, no answer


def probe(doc, sock):
    bad = []
    for m, path in sorted(documented(doc)):
        if "101" in doc["paths"][path][m.lower()]["responses"]:
            code = upgrade(sock, path)
            if code != 101:
                bad.append("%s %s: %d, not an upgrade" % (m, path, code))
            continue
        url = path.replace("{id}", "1")
        c = UnixConnection(sock)
        body = None if m == "GET" else b"{}"
        c.request(m, url, body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        msg = ""
        if r.getheader("Content-Type", "").startswith("application/json"):
            msg = json.loads(data).get("error", "")
        if (r.status == 404 and msg == "no such resource") or \
                r.status == 405:
            bad.append("%s %s: %d %s" % (m, path, r.status, msg))
    return bad


def main():
    verb, doc = sys.argv[1], json.load(open(sys.argv[2]))
    if verb == "structure":
        bad = structure(doc)
        src = served(sys.argv[3])
        docd = documented(doc)
        bad += ["routes: served, not documented: %s %s" % r
                for r in sorted(src - docd)]
        bad += ["routes: documented, not served: %s %s" % r
                for r in sorted(docd - src)]
    else:
        bad = probe(doc, sys.argv[3])
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
