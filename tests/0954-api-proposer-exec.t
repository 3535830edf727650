#!/bin/sh
# corp-api --proposer exec:NAME: the run's worker (a child corp-api forks,
# closing the server's descriptors) runs the command judged anew, so an
# exec proposer works from the API as from corp-analysis start.  Before,
# the worker ran fexecve on a descriptor number its own pipes had taken
# ("cannot run ...: Permission denied"): every exec proposer failed the
# run (fresh-eyes round 17b).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
ADMIN=$(corp-user token add admin --name tests | jq -r .token)
t0=1772359200
for c in -9 -10; do
	jq -cn --argjson c "$c" --argjson d "$t0" '{update_id: (-$c),
	    message: {message_id: 1, date: $d, chat: {id: $c, type: "group",
	    title: "G"}, from: {id: 7, first_name: "Ann"},
	    text: "please renew the certificate"}}'
done | corp-msg import >/dev/null
cat >"$T/prop" <<'SH'
#!/bin/sh
cat >/dev/null
echo '{"title":"from the exec proposer"}'
SH
chmod 700 "$T/prop"
printf 'prop=%s\nbin=/bin/true\n' "$T/prop" >"$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
corp-analysis create --as admin --chat -9 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis create --as admin --chat -10 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
jq -cn --argjson d "$t0" '{update_id: 11, message: {message_id: 1, date: $d,
    chat: {id: -11, type: "group", title: "G"}, from: {id: 7,
    first_name: "Ann"}, text: "please renew the certificate"}}' |
    corp-msg import >/dev/null
corp-analysis create --as admin --chat -11 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null

# run ID NAME: a corp-api with --proposer exec:NAME starts run ID; prints
# the run's status, error and proposals once it is no longer running.
run() {
	_s=$T/api$1.sock
	bg corp-api --socket "$_s" --proposer "exec:$2" >"$T/ready$1" \
	    2>"$T/log$1"
	wait_file "$T/ready$1" 30 "$bgpid" || bail "corp-api did not start"
	[ -n "${3:-}" ] && eval "$3"	# a change after the server started
	code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$_s" \
	    -X POST -H "Authorization: Bearer $ADMIN" -H "Content-Length: 0" \
	    "http://corp/api/runs/$1/start")
	_i=0
	while [ "$(corp-analysis show "$1" | jq -r .status)" = running ] &&
	    [ $_i -lt 1200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	kill "$bgpid"
	wait "$bgpid" 2>/dev/null
}
run 1 prop
is "$code $(corp-analysis show 1 | jq -c '[.status, .error, .proposals_total]')" \
    '202 ["completed",null,1]' "an exec script proposer, started by the API: completed"
is "$(corp-proposal list --run 1 | jq -r .title)" "from the exec proposer" \
    "its proposal stored"
run 2 bin
is "$code $(corp-analysis show 2 | jq -c '[.status, .error, .proposals_total]')" \
    '202 ["completed",null,0]' "an exec binary proposer (true): completed, nothing proposed"
# A command refused when the run starts (made writable by others after
# the server started): the run fails, saying why, not left running
# until its lease ends (fresh-eyes round 20a).
run 3 prop 'chmod 777 "$T/prop"'
is "$code $(corp-analysis show 3 | jq -c '[.status, (.error | test("world-writable"))]')" \
    '202 ["failed",true]' "a proposer refused at the run: the run failed, naming why"
chmod 700 "$T/prop"
done_testing
