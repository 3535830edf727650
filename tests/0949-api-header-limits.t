#!/bin/sh
# corp-api's query: a parameter of any length the headers hold is read,
# with those after it (a piece over 1 KiB was dropped with the rest).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
ADMIN=$(corp-user token add admin --name tests | jq -r .token)

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log"
srv=$bgpid
wait_file "$T/ready" 30 "$srv" || bail "corp-api did not start"
port=$(jq -r .port "$T/ready")

# A piece of the query over 1 KiB was dropped, with the pieces after it,
# and the filter went unapplied: 200 with every task.
qreq() {
	curl -s --max-time 30 -H "Authorization: Bearer $ADMIN" \
	    "http://127.0.0.1:$port/api/tasks?$1"
}
like "$(qreq "state=$(head -c 2000 /dev/zero | tr '\0' q)")" \
    "^\\{\"error\":\"unknown task state 'q{200}" \
    "a 2000-byte state: judged, not dropped"
is "$(qreq "x=$(head -c 2000 /dev/zero | tr '\0' q)&state=opne")" \
    '{"error":"unknown task state '"'opne'"' (did you mean '"'OPEN'"'?)"}' \
    "a parameter after a long one: judged"
is "$(qreq "&state=opne")" \
    '{"error":"unknown task state '"'opne'"' (did you mean '"'OPEN'"'?)"}' \
    "a parameter after an empty piece: judged"

ok "the server is still up" kill -0 "$srv"
kill "$srv"
wait "$srv"
is "$?" 0 "and stops cleanly"
done_testing
