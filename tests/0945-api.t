#!/bin/sh
# corp-api over a Unix socket, driven with curl: seed 004's flow (create,
# 409, start 202 with the worker, approve/reject/merge, review, close 400
# with pending, close), the reads (runs, proposals, messages, tasks as
# the user sees them), the same permission checks as --as, bad input
# (malformed JSON, wrong types, unknown fields, oversized bodies, unknown
# routes, wrong methods), a slow client that blocks nobody and holds no
# transaction, tokens missing, unknown, revoked, expired (CORP_NOW), the
# limiter of failed authentications (429, Retry-After), no token in the
# log.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
t0=1772359200
msg() {
	jq -cn --argjson m "$1" --argjson d "$2" --arg t "$3" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}
{
	msg 1 "$t0" "@bob please fix the login page"
	msg 2 $((t0 + 1)) "надо обновить документацию"
	msg 3 $((t0 + 2)) "we must renew the certificate"
	msg 4 $((t0 + 3)) "todo: order more coffee beans"
	msg 5 $((t0 + 4)) "someone must water the plants"
} | corp-msg import >/dev/null
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
BOB=$(corp-user token add bob | jq -r .token)
OLD=$(corp-user token add bob --name revoked | jq -r .token)
corp-user token revoke 3 >/dev/null
SOON=$(corp-user token add bob --expires 90d | jq -r .token)

# plain HTTP only on loopback: judged on the parsed address
is_rc 64 "--listen 0.0.0.0 without --cert" timeout 30 corp-api --listen 0.0.0.0:0
is "$(printf '%s\n' "$err" | head -1)" "corp-api: --listen 0.0.0.0:0: plain HTTP on an address that is not loopback would carry bearer tokens in clear; give --cert and --key, or use --socket PATH or 127.0.0.1 / [::1] behind a reverse proxy" \
    "names the address and the ways out"
is_rc 64 "--listen [::] without --cert" timeout 30 corp-api --listen '[::]:0'
is_rc 64 "--listen 10.1.2.3 without --cert" timeout 30 corp-api --listen 10.1.2.3:0
is_rc 64 "--listen localhost (a name, not an address)" timeout 30 corp-api \
    --listen localhost:0
is "$(ulimit -c unlimited; corp-api --listen 127.0.0.2:0 \
    >"$T/lo" 2>&1 & p=$!; wait_file "$T/lo" 30 $p; \
    grep '^Max core file size' /proc/$p/limits | awk '{print $5, $6}'; \
    kill $p; wait $p; echo "exit $?")" "0 0
exit 0" "127.0.0.2: listens (a loopback address), without core dumps"
like "$(cat "$T/lo")" '^\{"address":"127.0.0.2","port":[1-9][0-9]*\}$' \
    "the ready line"
# Bound to exactly that address, not the wildcard (libwebsockets put an
# IPv4 iface on an IPv6 wildcard socket; fresh-eyes round 6): the kernel's
# listening sockets on the port (state 0A), local address in hex.
corp-api --listen 127.0.0.2:0 >"$T/lo2" 2>&1 & p=$!
wait_file "$T/lo2" 30 $p
port=$(jq -r .port "$T/lo2")
hex=$(printf '%04X' "$port")
# (Only 127.0.0.2 and the wildcards: another test's server may listen on
# 127.0.0.1 with the same port number.)
is "$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v h=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == h &&
    ($2 ~ /^0200007F:/ || $2 ~ /^0+:/) {print $2}')" \
    "0200007F:$hex" "127.0.0.2:PORT listens, and no wildcard on the port"
kill $p; wait $p

# the TLS key is a secret: judged as one
printf 'not a key\n' >"$T/tls.crt"
printf 'not a key\n' >"$T/tls.key"
chmod 644 "$T/tls.key"
is_rc 77 "--key readable by others" corp-api --listen 0.0.0.0:0 \
    --cert "$T/tls.crt" --key "$T/tls.key"
is "$err" "corp-api: $T/tls.key: readable by group or others (mode 644); chmod 600 $T/tls.key" \
    "names the key and the fix"
chmod 600 "$T/tls.key"
if [ "$(id -u)" = 0 ]; then
	chown 12345 "$T/tls.key"
	is_rc 77 "--key of another user" timeout 30 corp-api \
	    --socket "$T/k.sock" --cert "$T/tls.crt" --key "$T/tls.key"
	like "$err" "^corp-api: $T/tls.key: " "names the key"
	is "$(test -e "$T/k.sock" && echo there)" "" "and listened nowhere"
else
	skip "--key of another user: needs root to chown"
	skip "names the key"
	skip "and listened nowhere"
fi

# TLS: the certificate and key served are the very files judged, read
# from the descriptors corp checked and handed to libwebsockets from
# memory: given paths, it loaded a KEY.upd / CERT.upd that anyone may
# plant beside them (a sticky /tmp) and renamed them over the files
# (fresh-eyes round 9).  A CA, a server certificate it signed, the chain
# file (server first), and another user's pair planted as .upd.
mkdir -m 700 "$T/tls"
(cd "$T/tls" &&
    ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes "$@"; } &&
    ec -x509 -subj /CN=corp-ca -days 2 -keyout ca.key -out ca.crt &&
    ec -subj /CN=corp-api.test -keyout srv.key -out srv.csr &&
    openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key \
        -CAcreateserial -days 2 -out srv.crt &&
    cat srv.crt ca.crt > chain.pem &&
    ec -x509 -subj /CN=attacker -days 2 -keyout srv.key.upd \
        -out chain.pem.upd) >/dev/null 2>&1 || bail "openssl req failed"
chmod 600 "$T/tls/srv.key"
chmod 644 "$T/tls/chain.pem" "$T/tls/srv.key.upd" "$T/tls/chain.pem.upd"
cp -p "$T/tls/srv.key" "$T/tls/key.orig"
cp -p "$T/tls/chain.pem" "$T/tls/chain.orig"
[ "$(id -u)" = 0 ] && chown 12345 "$T/tls/srv.key.upd" "$T/tls/chain.pem.upd"
bg corp-api --listen 127.0.0.1:0 --cert "$T/tls/chain.pem" \
    --key "$T/tls/srv.key" >"$T/tready" 2>/dev/null
wait_file "$T/tready" 30 "$bgpid" || bail "corp-api with TLS did not start"
tport=$(jq -r .port "$T/tready")
openssl s_client -connect "127.0.0.1:$tport" -showcerts \
    -CAfile "$T/tls/ca.crt" -verify_return_error </dev/null \
    >"$T/sclient" 2>/dev/null
is "$(grep -E '^ *[0-9] s:|^Verify return code' "$T/sclient")" \
    " 0 s:CN = corp-api.test
 1 s:CN = corp-ca
Verify return code: 0 (ok)" \
    "TLS serves the certificate judged, with its chain, not the .upd beside it"
is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB" \
    "https://127.0.0.1:$tport/api/tasks")" 200 "and answers over it"
kill "$bgpid"
wait "$bgpid"
is "$(cd "$T/tls" && ls | tr '\n' ' ')" \
    "ca.crt ca.key ca.srl chain.orig chain.pem chain.pem.upd key.orig srv.crt srv.csr srv.key srv.key.upd " \
    "no file renamed or made beside them"
cmp -s "$T/tls/srv.key" "$T/tls/key.orig" &&
    cmp -s "$T/tls/chain.pem" "$T/tls/chain.orig"
is "$?:$(stat -c '%u %a' "$T/tls/srv.key" "$T/tls/chain.pem" | tr '\n' ' ')" \
    "0:$(id -u) 600 $(id -u) 644 " "the key and the chain untouched, owner and mode kept"
# The certificate passes the ownership rule too (what corp serves is as
# trusted as what it says), and both must parse and match: 78 naming it.
chmod 664 "$T/tls/chain.pem"
is_rc 77 "--cert writable by group" timeout 30 corp-api --listen 127.0.0.1:0 \
    --cert "$T/tls/chain.pem" --key "$T/tls/srv.key"
is "$err" "corp-api: $T/tls/chain.pem: group-writable (mode 664); chmod go-w $T/tls/chain.pem" \
    "names the certificate and the fix"
chmod 644 "$T/tls/chain.pem"
if [ "$(id -u)" = 0 ]; then
	is_rc 77 "--cert of another user" timeout 30 corp-api \
	    --listen 127.0.0.1:0 --cert "$T/tls/chain.pem.upd" \
	    --key "$T/tls/srv.key"
	like "$err" "^corp-api: $T/tls/chain.pem.upd: owned by " "names it"
else
	skip "--cert of another user: needs root to chown"
	skip "names it"
fi
ln -s chain.pem "$T/tls/link.pem"
is_rc 77 "--cert a symbolic link" timeout 30 corp-api --listen 127.0.0.1:0 \
    --cert "$T/tls/link.pem" --key "$T/tls/srv.key"
is_rc 78 "--key of another certificate" timeout 30 corp-api \
    --listen 127.0.0.1:0 --cert "$T/tls/ca.crt" --key "$T/tls/srv.key"
is "$err" "corp-api: $T/tls/srv.key: the key does not match the certificate $T/tls/ca.crt" \
    "names both"
is_rc 78 "--cert that holds no certificate" timeout 30 corp-api \
    --listen 127.0.0.1:0 --cert "$T/tls/srv.csr" --key "$T/tls/srv.key"
like "$err" "^corp-api: $T/tls/srv.csr: no PEM certificate" "names it"
openssl pkey -in "$T/tls/srv.key" -aes128 -passout pass:pw \
    -out "$T/tls/enc.key" 2>/dev/null
chmod 600 "$T/tls/enc.key"
is_rc 78 "an encrypted --key: refused, no passphrase asked" timeout 30 \
    corp-api --listen 127.0.0.1:0 --cert "$T/tls/chain.pem" \
    --key "$T/tls/enc.key"
like "$err" "^corp-api: $T/tls/enc.key: no unencrypted PEM private key" \
    "names it"

# --socket replaces only a stale socket of the running user
printf 'keep me\n' >"$T/file.sock"
is_rc 77 "--socket on a regular file" timeout 30 corp-api --socket "$T/file.sock"
is "$err" "corp-api: --socket $T/file.sock: exists and is not a socket; corp-api replaces only a stale socket of its own: remove it or choose another path" \
    "names the path"
is "$(cat "$T/file.sock")" "keep me" "the file stays"
ln -s "$T/file.sock" "$T/link.sock"
is_rc 77 "--socket on a symbolic link" timeout 30 corp-api --socket "$T/link.sock"
is "$(readlink "$T/link.sock") $(cat "$T/file.sock")" "$T/file.sock keep me" \
    "the link and its target stay"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
    "$T/stale.sock"
if [ "$(id -u)" = 0 ]; then
	chown 12345 "$T/stale.sock"
	is_rc 77 "--socket on another user's socket" timeout 30 corp-api \
	    --socket "$T/stale.sock"
	is "$err" "corp-api: --socket $T/stale.sock: a socket of uid 12345, not of the running user; remove it or choose another path" \
	    "names the path and the owner"
	chown 0 "$T/stale.sock"
else
	skip "--socket on another user's socket: needs root to chown"
	skip "names the path and the owner"
fi
bg corp-api --socket "$T/stale.sock" >"$T/ready0" 2>/dev/null
wait_file "$T/ready0" 30 "$bgpid" || bail "corp-api did not start"
is "$(cat "$T/ready0")" "{\"socket\":\"$T/stale.sock\"}" \
    "a stale socket of its own is replaced"
is_rc 1 "--socket on a live socket" timeout 30 corp-api --socket "$T/stale.sock"
is "$err" "corp-api: --socket $T/stale.sock: in use (a server listens on it)" \
    "in use: left alone"
kill "$bgpid"
wait "$bgpid"
# A directory on the socket's path swapped for another while the server
# runs (fresh-eyes round 8): the unlink at exit goes to the directory it
# bound in, never to a file of the same name the swap points at.
mkdir "$T/v1" "$T/v2"
ln -s v1 "$T/swap"
echo precious > "$T/v2/c.sock"
bg corp-api --socket "$T/swap/c.sock" >"$T/ready1" 2>/dev/null
wait_file "$T/ready1" 30 "$bgpid" || bail "corp-api did not start"
is "$(cat "$T/ready1")" "{\"socket\":\"$T/swap/c.sock\"}" \
    "the ready line names the path as given"
ln -s v2 "$T/swap.new" && mv -T "$T/swap.new" "$T/swap"
kill "$bgpid"
wait "$bgpid"
is "$(cat "$T/v2/c.sock"):$(ls "$T/v1")" "precious:" \
    "at exit: the other directory's file stays, its own socket goes"

# The socket's directory: one another user may write is refused unless
# it is a sticky one root owns (as /tmp), where nobody else can rename
# the socket and put a link in its place; the socket is made 0660 by the
# bind itself and never chmod'ed or chown'ed by name after (fresh-eyes
# round 9: a link swapped in after the bind had its target made 0660).
mkdir -m 777 "$T/open"
chmod 777 "$T/open"
is_rc 77 "--socket in a world-writable directory" timeout 30 corp-api \
    --socket "$T/open/a.sock"
is "$err" "corp-api: --socket $T/open/a.sock: $T/open: world-writable (mode 777); chmod go-w $T/open" \
    "names the directory and the fix"
is "$(ls -A "$T/open")" "" "and made nothing there"
chmod 770 "$T/open"
is_rc 77 "--socket in a group-writable directory" timeout 30 corp-api \
    --socket "$T/open/a.sock"
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/sticky"
	chmod 1777 "$T/sticky"
	sdir=$T/sticky
else
	sdir=$T	# (a sticky directory passes only when root owns it)
fi
so="${CORP_BUILD:-$CORP_SRC/build}/test/corp-fault.so"
if [ "${CORP_SANITIZE:-}" = 1 ]; then
	pre=""	# the interposer cannot run under ASan
else
	pre="LD_PRELOAD=$so"
fi
(umask 000; exec env CORP_FAULT_PATH=m.sock CORP_FAULT_COUNT="$T/mcount" \
    $pre corp-api --socket "$sdir/m.sock" >"$T/mready" 2>/dev/null) &
mpid=$!
wait_file "$T/mready" 30 "$mpid" || bail "corp-api did not start"
is "$(stat -c '%F %a %u' "$sdir/m.sock")" "socket 660 $(id -u)" \
    "the socket is made 0660 (under umask 000 too), in a sticky directory root owns"
kill "$mpid"
wait "$mpid"
if [ -n "$pre" ]; then
	is "$(grep -E '^(chmod|chown) ' "$T/mcount")" "chmod 0
chown 0" "never chmod'ed or chown'ed by name"
else
	skip "no chmod by name: the LD_PRELOAD interposer (not under SANITIZE=1)"
fi

S=$T/api.sock
bg corp-api --socket "$S" --max-body 4096 --auth-fails 5 --auth-window 1h \
    >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"
is "$(cat "$T/ready")" "{\"socket\":\"$S\"}" "the ready line names the socket"

# req TOKEN METHOD PATH [BODY]: $code, $body (and $T/head, the headers).
# Without BODY, a POST, PUT or PATCH says Content-Length: 0 (411 else).
req() {
	_tok=$1 _m=$2 _p=$3
	shift 3
	_cl=X-None:
	case $_m in POST|PUT|PATCH) [ $# -gt 0 ] || _cl="Content-Length: 0" ;; esac
	code=$(curl -s --max-time 60 -D "$T/head" -o "$T/body" \
	    -w '%{http_code}' --unix-socket "$S" -X "$_m" \
	    ${_tok:+-H "Authorization: Bearer $_tok"} -H "$_cl" \
	    ${1+--data-binary "$1"} "http://corp$_p")
	body=$(cat "$T/body")
}
# reply CODE BODY NAME: the status and the exact body.
reply() {
	is "$code $body" "$1 $2" "$3"
}
field() {
	printf '%s' "$body" | jq -c "$1"
}

req "$BOB" GET /api/me
is "$code $(field '[.login, .is_admin]')" '200 ["bob",false]' \
    "GET /api/me: the token's user"

code=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$S" \
    -H "Authorization: bearer $BOB" http://corp/api/me)
is "$code" 200 "the scheme is case-insensitive"

# create: the seed's 409, permission as --as, bad bodies
RUN='{"chat_id":-9,"from":"2026-03-01T10:00:00Z","until":"2026-03-01T11:00:00Z"}'
req "$BOB" POST /api/runs "$RUN"
reply 403 '{"error":"'"'bob'"' is not an active admin"}' \
    "create as a non-admin: 403, as corp-analysis --as bob"
req "$ADMIN" POST /api/runs "$RUN"
is "$code $(field '[.run_id, .status, .created_by]')" \
    '201 [1,"pending","admin"]' "create: 201 and the run"
is "$body" "$(corp-analysis show 1)" "the run line of corp-analysis show"
req "$ADMIN" POST /api/runs "$RUN"
reply 409 '{"error":"chat -9 already has an unclosed run (409)"}' \
    "a second open run for the chat: 409"
req "$ADMIN" POST /api/runs '{"chat_id":-8,"from":'
reply 400 '{"error":"body: line 1 column 21: unexpected token near end of file"}' \
    "malformed JSON: 400 with line and column"
req "$ADMIN" POST /api/runs '{"chat_id":"-8","from":"2026-03-01T10:00:00Z","until":"2026-03-01T11:00:00Z"}'
reply 400 '{"error":"body: \"chat_id\" must be an integer in -9223372036854775807..9223372036854775807"}' \
    "a wrong type: 400 naming the field"
req "$ADMIN" POST /api/runs '{"chat_ld":-8,"from":"2026-03-01T10:00:00Z","until":"2026-03-01T11:00:00Z"}'
reply 400 '{"error":"body: unknown field \"chat_ld\" (did you mean \"chat_id\"?)"}' \
    "an unknown field: 400 with a suggestion"
req "$ADMIN" POST /api/runs '[1]'
reply 400 '{"error":"body: expected a JSON object"}' "an array: 400"
req "$ADMIN" POST /api/runs '{"chat_id":-8}'
reply 400 '{"error":"body: \"from\" is required"}' "a missing field: 400"
req "$ADMIN" POST /api/runs "{\"chat_id\":-8,\"x\":\"$(printf '%05000d' 0)\"}"
reply 413 '{"error":"request body too large"}' \
    "a body over --max-body: 413"
printf '{"chat_id":-8,"x":"%05000d"}' 0 >"$T/big"
code=$(curl -s --max-time 60 -o "$T/body" -w '%{http_code}' --unix-socket "$S" \
    -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' \
    -X POST --data-binary @"$T/big" http://corp/api/runs)
is "$code $(cat "$T/body")" \
    '411 {"error":"a request body needs Content-Length (no chunked bodies)"}' \
    "a chunked body: 411, not read as an empty one"
# Content-Length beside Transfer-Encoding: a proxy in front reads
# chunks where corp-api read the length (request smuggling: the action
# ran with the length's body; fresh-eyes round 13): 400, nothing done.
# And a length that is not a plain decimal: 400, as corp-tg cgi does.
rb='{"chat_id":-7,"from":"2026-03-01T10:00:00Z","until":"2026-03-01T11:00:00Z"}'
code=$(curl -s --max-time 60 -o "$T/body" -w '%{http_code}' --unix-socket "$S" \
    -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' \
    -H "Content-Length: ${#rb}" -X POST --data-binary "$rb" http://corp/api/runs)
is "$code $(cat "$T/body")" \
    '400 {"error":"both Content-Length and Transfer-Encoding"}' \
    "Content-Length and Transfer-Encoding: 400"
for cl in "+${#rb}" "0${#rb}" "-0" "${#rb} x"; do
	code=$(curl -s --max-time 60 -o "$T/body" -w '%{http_code}' \
	    --unix-socket "$S" -H "Authorization: Bearer $ADMIN" \
	    -H "Content-Length: $cl" -X POST --data-binary "$rb" \
	    http://corp/api/runs)
	is "$code $(cat "$T/body")" \
	    '400 {"error":"Content-Length: not a number"}' \
	    "Content-Length '$cl': 400"
done
is "$(sql "SELECT count(*) FROM analysis_runs")" 1 \
    "refused requests created no run"
# Two body-less PUTs on one kept-alive connection (no Content-Length):
# libwebsockets took the second request for the first one's body and
# never answered it; each is answered now (the connection closed after
# the first, curl opens another).
out=$(curl -s --max-time 20 -w ' %{http_code}\n' --unix-socket "$S" \
    -H "Authorization: Bearer $ADMIN" -H "Content-Length: 0" -X PUT \
    http://corp/api/proposals/900/approve \
    http://corp/api/proposals/901/approve)
is "$?:$out" '0:{"error":"no proposal 900"} 404
{"error":"no proposal 901"} 404' \
    "two body-less PUTs in a row: both answered"

# routes and methods
req "$ADMIN" GET /api/nothing
reply 404 '{"error":"no such resource"}' "an unknown route: 404"
req "$ADMIN" GET /api/runs/x
reply 404 '{"error":"no such resource"}' "a non-numeric id: 404"
req "$ADMIN" GET /api/runs/7
reply 404 '{"error":"no run 7"}' "an unknown run: 404"
req "$ADMIN" DELETE /api/runs
is "$code $body" '405 {"error":"method not allowed"}' "a wrong method: 405"
like "$(tr -d '\r' <"$T/head")" '^allow: GET, POST$' "with Allow"

# start: 202 at once, the worker completes the run
req "$BOB" POST /api/runs/1/start
is "$code" 403 "start as a non-admin: 403"
req "$ADMIN" POST /api/runs/1/start
is "$code $(field '[.status, .proposer, .batches_total]')" \
    '202 ["running","builtin",1]' "start: 202, running, batches cut"
i=0
while [ "$(corp-analysis show 1 | jq -r .status)" = running ] &&
    [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
req "$ADMIN" GET /api/runs/1
is "$code $(field '[.status, .batches_done, .proposals_pending]')" \
    '200 ["completed",1,5]' "the worker completed the run: 5 proposals"
req "$ADMIN" POST /api/runs/1/start
reply 409 '{"error":"run 1 is completed, not pending"}' "start twice: 409"
req "$ADMIN" GET /api/runs
is "$code $(field '[.runs[].run_id]')" '200 [1]' "GET /api/runs"
req "$ADMIN" GET '/api/runs?status=pendng'
reply 400 '{"error":"query: status: unknown '"'pendng'"' (did you mean '"'pending'"'?)"}' \
    "a misspelt status: 400"
req "$ADMIN" GET /api/runs/1/proposals
is "$code $(field '[.proposals[] | [.proposal_id, .status]]')" \
    '200 [[1,"pending"],[2,"pending"],[3,"pending"],[4,"pending"],[5,"pending"]]' \
    "GET the run's proposals"
req "$BOB" GET /api/runs/1/proposals
is "$code" 403 "reading proposals needs an admin"

# edit while pending
req "$BOB" PATCH /api/proposals/2 '{"title":"x"}'
is "$code" 403 "edit as a non-admin: 403"
req "$ADMIN" PATCH /api/proposals/2 '{"title":"Update the docs","due_at":"2026-03-10T18:00:00Z","assignee":"bob"}'
is "$code $(field '[.title, .due_at, .assignee]')" \
    '200 ["Update the docs","2026-03-10T18:00:00Z","bob"]' "edit"
req "$ADMIN" PATCH /api/proposals/2 '{"assignee":null,"due_at":null}'
is "$code $(field '[.due_at, .assignee]')" '200 [null,null]' \
    "null clears the assignee and the due time"
req "$ADMIN" PATCH /api/proposals/2 '{}'
reply 400 '{"error":"body: nothing to change (title, description, assignee, due_at)"}' \
    "an edit of nothing: 400"

# decisions
req "$BOB" PUT /api/proposals/1/approve
is "$code" 403 "approve as a non-admin: 403"
# A non-admin learns nothing of what exists (fresh-eyes round 7): the
# admin rule is judged before any lookup.
req "$BOB" PUT /api/proposals/99/approve '{}'
is "$code" 403 "approve an unknown proposal as a non-admin: 403, not 404"
req "$BOB" PUT /api/proposals/2/merge '{"task_id":999}'
is "$code" 403 "merge into an unknown task as a non-admin: 403"
req "$BOB" PATCH /api/proposals/2 '{"assignee":"nosuch"}'
is "$code" 403 "edit naming an unknown login as a non-admin: 403"
req "$BOB" PUT /api/runs/99/close
is "$code" 403 "close an unknown run as a non-admin: 403"
req "$ADMIN" PUT /api/proposals/1/approve
is "$code $(field '[.status, .task_id, .decided_by]')" \
    '200 ["approved",1,"admin"]' "approve: the proposal with its task"
is "$(corp-task show 1 | jq -c '[.initiator, .assignee]')" '["admin","bob"]' \
    "the task made through the domain's path"
req "$ADMIN" PUT /api/proposals/1/approve
reply 409 '{"error":"proposal 1 is already approved"}' "approve twice: 409"
req "$ADMIN" PUT /api/proposals/4/reject
reply 400 '{"error":"body: \"reason\" is required"}' "reject without a reason"
req "$ADMIN" PUT /api/proposals/4/reject '{"reason":7}'
reply 400 '{"error":"body: \"reason\" must be a non-empty string"}' \
    "reject with a number for a reason"
req "$ADMIN" PUT /api/proposals/4/reject '{"reason":"not a task"}'
is "$code $(field '[.status, .reason]')" '200 ["rejected","not a task"]' "reject"
req "$ADMIN" PUT /api/proposals/5/merge '{"task_id":1}'
is "$code $(field '[.status, .task_id]')" '200 ["merged",1]' "merge"
req "$ADMIN" PUT /api/proposals/3/approve '{"due_at":"soon"}'
is "$code" 400 "approve with a bad due_at: 400"
req "$ADMIN" PUT /api/proposals/99/approve '{"unit":"team"}'
is "$code" 404 "approve an unknown proposal: 404"

# review and close: 409 out of order, the seed's 400 with pending ones
req "$ADMIN" PUT /api/runs/1/close
reply 409 '{"error":"run 1 is completed: close needs a reviewed run"}' \
    "close a completed run: 409"
req "$ADMIN" PUT /api/runs/1/review
is "$code $(field .status)" '200 "reviewed"' "review"
req "$ADMIN" PATCH /api/proposals/1 '{"title":"late"}'
reply 409 '{"error":"proposal 1 is approved: only a pending one is edited"}' \
    "an edit after the decision: 409"
req "$ADMIN" PUT /api/runs/1/close
reply 400 '{"error":"run 1 has 2 pending proposals: decide them before closing (400)"}' \
    "close with pending proposals: the seed's 400"
req "$ADMIN" PUT /api/proposals/2/approve '{"unit":"team"}'
req "$ADMIN" PUT /api/proposals/3/approve '{"unit":"team"}'
req "$ADMIN" PUT /api/runs/1/close
is "$code $(field '[.status, .accuracy]')" '200 ["closed",0.8]' \
    "close: accuracy (approved + merged) / total"
is "$(sql "SELECT status, proposals_approved, proposals_rejected, proposals_merged FROM analysis_runs")" \
    "closed|3|1|1" "the database: the run closed, its counters"
is "$(corp-event list --topic proposals | jq -r .event_type | tr '\n' ' ')" \
    "approved rejected merged approved approved " \
    "the proposals topic events, as the command line writes them"

# the reads
req "$ADMIN" GET '/api/messages?chat=-9&after=2026-03-01T10:00:02Z'
is "$code $(field '[.messages[].message_id]')" '200 [4,5]' \
    "messages after a time"
req "$ADMIN" GET '/api/messages?chat=-9&limit=2'
is "$(field '[.messages[].message_id]')" '[1,2]' "limit"
req "$ADMIN" GET '/api/messages?chat=x'
reply 400 '{"error":"query: chat: '"'x'"' is not a plain decimal (expected -9223372036854775807..9223372036854775807)"}' \
    "a bad chat: 400"
req "$BOB" GET /api/messages
is "$code" 403 "messages need an admin"
req "$BOB" GET /api/tasks
is "$code $(field '[.tasks[].task_id]')" \
    "200 $(corp-task list --as bob | jq -s -c '[.[].task_id]')" \
    "tasks: what corp-task list --as bob shows"
req "$ADMIN" GET /api/tasks
is "$(field '.tasks | length')" 3 "an admin sees the three tasks"
req "$ADMIN" GET '/api/tasks?state=opne'
is "$code" 400 "a misspelt state: 400"

# a slow client blocks nobody and holds no transaction
python3 - "$S" "$T/slow" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"PUT /api/proposals/1/approve HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 100\r\n\r\n{\"uni")
open(sys.argv[2], "w").write("sent\n")
time.sleep(60)
PY
slow=$!
_pids="$_pids $slow"
wait_file "$T/slow" 30 "$slow" || bail "the slow client did not connect"
req "$BOB" GET /api/me
is "$code" 200 "another client is answered while one sends slowly"
ok "the database takes a write meanwhile" corp-user add carol
kill "$slow" 2>/dev/null

# one packet, a GET and a POST with a body pipelined behind it (no
# token needed): libwebsockets 4.1 spun for good on the POST's body and the
# server answered nobody again (sec-review-11).  The GET is answered, the
# connection closed, the POST dropped unread; then two PUTs with bodies.
# (With a token: a failed authentication would count for the limiter.)
TOK=$BOB PYTHONPATH="$CORP_SRC/tests" python3 - "$S" >"$T/pipe" <<'PY'
import os, sys
from rawhttp import exchange
a = b"Authorization: Bearer " + os.environ["TOK"].encode() + b"\r\n"
for pk in (b"GET /api/me HTTP/1.1\r\nHost: x\r\n" + a + b"\r\n"
           b"POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
           b"\r\n{}",
           (b"PUT /api/proposals/999/reject HTTP/1.1\r\nHost: x\r\n" + a +
            b"Content-Length: 2\r\n\r\n{}") * 2):
    d, how = exchange(sys.argv[1], pk)
    print(d.count(b"HTTP/1.1 "), d.split(b"\r\n")[0].decode(),
          "open" if how == "timeout" else "closed")
PY
is "$(cat "$T/pipe")" "1 HTTP/1.1 200 OK closed
1 HTTP/1.1 403 Forbidden closed" \
    "pipelined bodies: the first request answered, the connection closed"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
    --unix-socket "$S" -H "Authorization: Bearer $BOB" http://corp/api/me)
is "$code" 200 "and the server answers the next client"
is "$(curl -s --max-time 10 -D - -o /dev/null --unix-socket "$S" \
    -H "Authorization: Bearer $BOB" http://corp/api/me | tr -d '\r' |
    grep -c '^connection: close$')" 1 "every answer says Connection: close"

# authentication
is "$(sql "SELECT CAST(last_used_at IS NOT NULL AS INTEGER) FROM api_tokens ORDER BY id" | tr '\n' ' ')" \
    "1 1 0 0 " "last_used_at of the tokens used (not of those unused)"
req "" GET /api/me
reply 401 '{"error":"missing Authorization: Bearer token"}' "no token: 401"
req "corp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /api/me
reply 401 '{"error":"malformed token"}' "a malformed token: 401"
req "${ADMIN%?}x" GET /api/me
reply 401 '{"error":"unknown token"}' "a wrong token: 401"
req "$OLD" GET /api/me
reply 401 '{"error":"token revoked"}' "a revoked token: 401"
req "$SOON" GET /api/me
is "$code" 200 "a token before its expiry"

# the expiry, on a second server whose clock is past it
S2=$T/api2.sock
CORP_NOW=2026-06-01T00:00:00Z bg corp-api --socket "$S2" >"$T/ready2" \
    2>"$T/api2.log"
wait_file "$T/ready2" 30 "$bgpid" || bail "the second corp-api did not start"
code=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$S2" \
    -H "Authorization: Bearer $SOON" http://corp/api/me)
is "$code $(cat "$T/body")" '401 {"error":"token expired"}' \
    "an expired token (CORP_NOW past expires_at): 401"

# the limiter: 5 failures from one address, then 429 for everyone there
# (the request without a token above did not count: sec-review-21b)
req "nope" GET /api/me
req "nope" GET /api/me
is "$code" 401 "the fifth failure still 401"
req "$ADMIN" GET /api/me
reply 429 '{"error":"too many failed authentications from this address"}' \
    "then 429, a good token too"
like "$(tr -d '\r' <"$T/head")" '^retry-after: [0-9]+$' "with Retry-After"
is "$(tr -d '\r' <"$T/head" | sed -n 's/^retry-after: //p')" \
    "$(tr -d '\r' <"$T/head" | sed -n 's/^retry-after: \([0-9]*\)$/\1/p' |
    awk '$1 > 3500 && $1 <= 3600')" "Retry-After: the rest of the hour"
req "$ADMIN" GET /api/nothing
is "$code" 404 "an unknown route is 404 even then"
# Behind a proxy on the socket, the address is the proxy's X-Real-IP:
# one client's failures lock out that client, not every user of the
# socket (sec-review-17a).  Not an IP address, or two of them: "unix".
xreq() {
	code=$(curl -s --max-time 60 -o "$T/body" -w '%{http_code}' \
	    --unix-socket "$S" -H "Authorization: Bearer $1" \
	    -H "X-Real-IP: $2" ${3:+-H "X-Real-IP: $3"} http://corp/api/me)
}
xreq "$ADMIN" 203.0.113.7
is "$code" 200 "another client (X-Real-IP 203.0.113.7): served while unix is limited"
for i in 1 2 3 4 5; do xreq nope 203.0.113.9; done
is "$code" 401 "203.0.113.9's fifth failure: 401"
xreq "$ADMIN" 203.0.113.9
is "$code" 429 "then 203.0.113.9 is limited, a good token too"
xreq "$ADMIN" 2001:db8::7
is "$code" 200 "an IPv6 client beside it: served"
xreq "$ADMIN" 203.0.113.7
is "$code" 200 "203.0.113.7 still served"
xreq "$ADMIN" "203.0.113.7, 10.0.0.1"
is "$code" 429 "a list is no address: unix, still limited"
xreq "$ADMIN" 203.0.113.7 203.0.113.8
is "$code" 429 "two X-Real-IP headers: unix, still limited"
xreq "$ADMIN" "not-an-ip"
is "$code" 429 "a name is no address: unix, still limited"
like "$(grep -a 'unix:203.0.113.9 "GET /api/me" 429' "$T/api.log" | head -1)" \
    'corp-api: unix:203.0.113.9 "GET /api/me" 429' "the log names unix:ADDR"

# the log line is cleaned: a raw request's escapes, bidi overrides, C1
# controls, invalid UTF-8 and percent-decoded bytes reach no terminal
python3 "$CORP_SRC/tests/rawhttp.py" "$S" --pre 'GET ' \
    --post ' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    '/api/x\x1b[2J\x1b[31mRED\xe2\x80\xaeABC\xc2\x9bD' \
    '/api/y%1b%5b31m%e2%80%ae%c2%9b%e2%81%a7Z' '/api/z\xff\xfe%ff' >/dev/null
is "$(grep -a ' 404 -$' "$T/api.log" | grep -a -e /api/x -e /api/y -e /api/z)" \
'2026-03-01T12:00:00.000Z corp-api: unix "GET /api/x?[2J?[31mRED?ABC?D" 404 -
2026-03-01T12:00:00.000Z corp-api: unix "GET /api/y?[31m???Z" 404 -
2026-03-01T12:00:00.000Z corp-api: unix "GET /api/z???" 404 -' "the log line (timed: a loop's): every control, override and bad byte a '?'"
python3 "$CORP_SRC/tests/rawhttp.py" "$S" --pre 'GET ' \
    --post ' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    "/api/long$(printf 'é%.0s' $(seq 300))" >/dev/null
is "$(grep -a '/api/long' "$T/api.log" | wc -c)" \
    "$(printf '2026-03-01T12:00:00.000Z corp-api: unix "GET %s..." 404 -\n' "/api/long$(printf 'é%.0s' $(seq 121))" | wc -c)" \
    "a long path: cut at a character, bounded"

# secrets: the log has requests, never a token
like "$(cat "$T/api.log")" 'unix "PUT /api/proposals/1/approve" 200 admin' \
    "the log: peer, method, path, status, user"
is "$(cat "$T/api.log" "$T/api2.log" | grep -c -e "$ADMIN" -e "$BOB" -e "$OLD" -e "$SOON" -e corp_)" \
    0 "no token in the log"
kill "$api_pid"
wait "$api_pid"
is "$?" 0 "SIGTERM: exit 0"
done_testing
