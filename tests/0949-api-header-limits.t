#!/bin/sh
# corp-api's request headers (corp-api.1 "Request headers"): 16 KiB as
# libwebsockets keeps them.  A request just under is served (the 3 KB and
# 8 KB cookies a proxy passes on: the old 8 KiB closed the 8 KB one); one
# just over, a 100 KB header, 2000 headers, 100 header lines, a 20 KB
# query: the connection closed at once with nothing to read (no status:
# libwebsockets 4.1 calls nothing of ours before it shuts the socket),
# never left open until the idle timeout; the server goes on serving,
# also after 30 such requests at once.  The bound on each wait (a socket
# timeout, curl --max-time) is a last resort, not a timing assertion.
# And the query: a parameter of any length the headers hold is read,
# with those after it; one that is not UTF-8 gets 400.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
ADMIN=$(corp-user token add admin --name tests | jq -r .token)

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log"
srv=$bgpid
wait_file "$T/ready" 30 "$srv" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready")

# hreq KIND:N[:PARALLEL]...: raw requests, one after the other, each
# (PARALLEL of them at once, on their own connections) always with the
# token (a failed authentication would count for the limiter); prints a
# line per argument: KIND N, then per outcome the count, the answer's
# status, "closed" (end of stream or reset with nothing read) or
# "timeout" (nothing in 30 s: the connection left open), and the
# request's size on the wire less the Authorization line.  (One python
# for them all: its start is most of the time on a busy machine; each
# exchange is tests/rawhttp.py's.)
cat >"$T/hreq.py" <<'PY'
import os, sys, threading
from rawhttp import exchange, status
port = int(sys.argv[1])
auth = b"Authorization: Bearer " + os.environ["TOK"].encode() + b"\r\n"
head = b"GET /api/tasks HTTP/1.1\r\nHost: corp\r\n" + auth
def request(kind, n):
    if kind == "cookie":
        return head + b"Cookie: s=" + b"c" * n + b"\r\n\r\n"
    if kind == "header":
        return head + b"X-Big: " + b"h" * n + b"\r\n\r\n"
    if kind == "headers":
        return head + b"".join(b"X-H%05d: v\r\n" % i
                               for i in range(n)) + b"\r\n"
    if kind == "lines":
        return head + b"Accept: */*\r\n" * n + b"\r\n"
    if kind == "query":
        return (b"GET /api/tasks?state=" + b"q" * n + b" HTTP/1.1\r\n"
                b"Host: corp\r\n" + auth + b"\r\n")
def one(req, out, i):
    d, how = exchange("127.0.0.1:%d" % port, req)
    out[i] = "timeout" if how == "timeout" else status(d)
for spec in sys.argv[2:]:
    f = spec.split(":")
    kind, n, par = f[0], int(f[1]), int(f[2]) if len(f) > 2 else 1
    req = request(kind, n)
    out = [None] * par
    ts = [threading.Thread(target=one, args=(req, out, i))
          for i in range(par)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(kind, n, ", ".join("%d %s %d" % (out.count(o), o,
                                           len(req) - len(auth))
                             for o in sorted(set(out))), flush=True)
PY
hreq() {
	TOK=$ADMIN PYTHONPATH="$CORP_SRC/tests" python3 "$T/hreq.py" "$port" \
	    "$@"
}
hreq cookie:3072 cookie:8192 cookie:16200 cookie:16400 header:16200 \
    header:16400 header:102400 headers:800 headers:2000 lines:80 \
    lines:100 query:16000 query:20480 >"$T/h"
line() {
	sed -n "$1p" "$T/h"
}
is "$(line 1)" "cookie 3072 1 200 3123" "a 3 KB cookie: served"
is "$(line 2)" "cookie 8192 1 200 8243" "an 8 KB cookie: served"
is "$(line 3)" "cookie 16200 1 200 16251" \
    "a cookie just under 16 KiB (16251 bytes besides the token): served"
is "$(line 4)" "cookie 16400 1 closed 16451" \
    "a cookie just over: closed, nothing to read, not left open"
is "$(line 5)" "header 16200 1 200 16248" \
    "an unknown header just under: served"
is "$(line 6)" "header 16400 1 closed 16448" "one just over: closed"
is "$(line 7)" "header 102400 1 closed 102448" "a 100 KB header: closed"
is "$(line 8)" "headers 800 1 200 10439" "800 short unknown headers: served"
is "$(line 9)" "headers 2000 1 closed 26039" "2000 headers: closed"
is "$(line 10)" "lines 80 1 200 1079" \
    "80 header lines of a known name: served"
is "$(line 11)" "lines 100 1 closed 1339" "100 of them: closed"
# (state=qqq... is a bad state: its 400 shows the query was read whole.)
is "$(line 12)" "query 16000 1 400 16046" "a 16000-byte query: answered"
is "$(line 13)" "query 20480 1 closed 20526" "a 20 KB query: closed"
# A piece of the query over 1 KiB was dropped, with the pieces after it,
# and the filter went unapplied: 200 with every task.
qreq() {
	curl -s --max-time 30 -H "Authorization: Bearer $ADMIN" \
	    "http://127.0.0.1:$port/api/tasks?$1"
}
like "$(qreq "state=$(head -c 2000 /dev/zero | tr '\0' q)")" \
    "^\\{\"error\":\"unknown task state 'q{200}" \
    "a 2000-byte state: judged, not dropped"
is "$(qreq "state=$(head -c 2000 /dev/zero | tr '\0' q)&state=opne")" \
    '{"error":"query: state: given twice"}' \
    "a parameter after a long one: read (and the name given twice: 400)"
is "$(qreq "&state=opne")" \
    '{"error":"unknown task state '"'opne'"' (did you mean '"'OPEN'"'?)"}' \
    "a parameter after an empty piece: judged"
# Nor UTF-8: jansson took no such string and the piece was dropped.
is "$(qreq "state=%FF")" '{"error":"query: state: not UTF-8"}' \
    "a value that is not UTF-8: 400 naming it, not dropped"
is "$(qreq "x=1&st%FFate=open")" \
    '{"error":"query: a parameter'"'"'s name is not UTF-8"}' \
    "a name that is not UTF-8: 400"
is "$(qreq "state=caf%C3%A9")" \
    '{"error":"unknown task state '"'café'"' (states: DRAFT, OPEN, WAITING_APPROVAL, DONE, CANCELLED)"}' \
    "UTF-8 goes through"

# what the man page says curl shows: 52 (empty reply) or 56 (a reset)
big=$(head -c 16400 /dev/zero | tr '\0' c)
code=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $ADMIN" -H "Cookie: s=$big" \
    "http://127.0.0.1:$port/api/tasks")
rc=$?
case $rc in 52|56) rc=52/56 ;; esac
is "$rc $code" "52/56 000" "curl: an empty reply or a reset, no status"

# many at once wedge nothing: each closed, then the others served
hreq header:102400:30 cookie:8192:5 >"$T/h"
is "$(line 1)" "header 102400 30 closed 102448" \
    "30 oversized requests at once: every one closed"
is "$(line 2)" "cookie 8192 5 200 8243" "and the server goes on serving"
is "$(curl -s --max-time 30 -H "Authorization: Bearer $ADMIN" \
    "http://127.0.0.1:$port/api/tasks")" '{"tasks":[]}' \
    "a plain request after them: served"
like "$(cat "$T/log")" \
    'corp-api: libwebsockets: Ran out of header data space' \
    "the log names the cause"
unlike "$(cat "$T/log")" "$ADMIN" "and never the token"
ok "the server is still up" kill -0 "$srv"
kill "$srv"
wait "$srv"
is "$?" 0 "and stops cleanly"
done_testing
