# tests/lib.sh -- a small TAP helper for corp's shell tests.
#
#   . "${CORP_SRC:-.}/tests/lib.sh"
#   setup                      # fresh $T, CORP_DATA_DIR, database, admin
#   run corp-db status         # sets $rc, $out (stdout), $err (stderr)
#   is "$rc" 0 "status exits 0"
#   is_rc 65 "bad input" corp-x ...   # run + check exit code
#   like "$err" 'regex' "names the line"
#   done_testing
#
# Counting, not hand-counted plans; a failing check shows what it got and
# does not stop the ones after it.  Each test gets its own temporary data
# dir, removed at exit together with any process started by bg.
set -u
: "${CORP_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
export CORP_SRC
export LC_ALL=C.UTF-8
export CORP_SYNCHRONOUS=normal
unset CORP_NOW CORP_DB CORP_TELEGRAM_TOKEN CORP_TELEGRAM_API CORP_TZ \
    CORP_ADMIN_POLICY CORP_RATE_LIMIT CORP_BUSY_TIMEOUT
_n=0
_fail=0
_pids=""
T=$(mktemp -d "${TMPDIR:-/tmp}/corp-test.XXXXXX")
export T
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap _cleanup EXIT

# Fresh data dir and database with one admin, "admin".
setup() {
	export CORP_DATA_DIR="$T/data"
	mkdir -p "$CORP_DATA_DIR" && chmod 700 "$CORP_DATA_DIR"
	corp-db init --admin admin >/dev/null || bail "corp-db init failed"
}

bail() {
	echo "Bail out! $*"
	exit 255
}

_diag() {
	printf '%s\n' "$@" | sed 's/^/#   /'
}

pass() {
	_n=$((_n + 1))
	echo "ok $_n - $1"
}

fail() {
	_n=$((_n + 1))
	_fail=$((_fail + 1))
	echo "not ok $_n - $1"
	shift
	[ $# -gt 0 ] && _diag "$@"
	return 0
}

# run CMD...: stdout in $out, stderr in $err, status in $rc.
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

# run_in FILE CMD...: like run with stdin from FILE.
run_in() {
	_in=$1
	shift
	"$@" <"$_in" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:      $1" "expected: $2"
	fi
}

isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3" "got unexpected: $1"
	fi
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "got:      $1" "expected to match: $2"
	fi
}

unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		fail "$3" "got:      $1" "expected not to match: $2"
	else
		pass "$3"
	fi
}

# is_rc CODE NAME CMD...: run and check the exit status.
is_rc() {
	_want=$1
	_name=$2
	shift 2
	run "$@"
	if [ "$rc" = "$_want" ]; then
		pass "$_name"
	else
		fail "$_name" "exit $rc, expected $_want" "stdout: $out" \
		    "stderr: $err"
	fi
}

# ok NAME CMD...: the command exits 0.
ok() {
	_name=$1
	shift
	is_rc 0 "$_name" "$@"
}

# sql QUERY: read the database with the sqlite3 CLI (an independent view).
sql() {
	sqlite3 -batch -noheader -cmd ".timeout 30000" "${CORP_DB:-$CORP_DATA_DIR/corp.db}" "$@"
}

# Start a background process that is killed at exit; its pid in $bgpid.
bg() {
	"$@" &
	bgpid=$!
	_pids="$_pids $bgpid"
}

# wait_file PATH [SECONDS]: bounded poll until PATH exists, non-empty.
wait_file() {
	_i=0
	_max=$(( ${2:-20} * 20 ))
	while [ ! -s "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -gt "$_max" ] && return 1
		sleep 0.05
	done
	return 0
}

skip() {
	_n=$((_n + 1))
	echo "ok $_n # skip $1"
}

done_testing() {
	echo "1..$_n"
	[ "$_fail" -eq 0 ] || exit 1
	exit 0
}

# sanitizer builds run slower: scale loop counts with this.
quick() {
	if [ "${CORP_SANITIZE:-}" = 1 ]; then echo "$2"; else echo "$1"; fi
}
