# tests/bench/lib.sh -- what every figure script shares.
#
# Sourced by tests/bench/run and by each figure script (fN-*.sh).  The
# run script exports BT (the temp dir of this run), BENCH (quick|full)
# and RESULTS (a file of tab-separated result lines that report.py
# turns into results.json and the table).
set -u
export LC_ALL=C.UTF-8
: "${CORP_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BENCH:=quick}"
export CORP_SRC BENCH
# Business time is fixed: every lease, backoff and due date is the same
# in every run.  The bench never sleeps on business time.
export CORP_NOW=2026-01-05T10:00:00Z
unset CORP_DB CORP_TELEGRAM_TOKEN CORP_TELEGRAM_API CORP_TZ \
    CORP_ADMIN_POLICY CORP_BUSY_TIMEOUT
# The message catalogs of this tree (corp-deliver run renders the text).
export CORP_SHARE_DIR="${CORP_SHARE_DIR:-$CORP_SRC/share}"
PY=/usr/bin/python3
BENCH_DIR="$CORP_SRC/tests/bench"

note() { printf '  %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Wall-clock nanoseconds (GNU date).
now_ns() { date +%s%N; }

# ms_since START_NS: elapsed milliseconds, 3 decimals.
ms_since() {
	awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'
}

# rate N MS: N per second.
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.1f", n * 1000 / ms }'; }

# record FIGURE VALUE UNIT BASELINE BASELINE_VALUE TARGET SETTINGS
#   TARGET: ">=20" (ratio at least 20), "<=1.5", "<=16MiB" (the value
#   itself, in that unit), or "-" (none).
#   SETTINGS: k=v pairs separated by spaces; label=... (with _ for a
#   space) is the row's short description in the table.
# ratio = VALUE / BASELINE_VALUE, computed by report.py.
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"
}

# skipped FIGURE WHY: a figure that could not run here.
skipped() {
	printf '%s\t-\t-\t-\t-\t-\tskipped: %s\n' "$1" "$2" >> "$RESULTS"
	note "$1: skipped: $2"
}

# fresh_db DIR SYNC: a new data dir with an initialised database whose
# tools run with CORP_SYNCHRONOUS=SYNC (full|normal).
fresh_db() {
	rm -rf "$1"
	mkdir -p "$1" && chmod 700 "$1"
	export CORP_DATA_DIR="$1" CORP_SYNCHRONOUS="$2"
	corp-db init --admin admin >/dev/null || die "corp-db init failed"
}

# sql QUERY...: the sqlite3 CLI on the current database.
sql() {
	sqlite3 -batch -noheader -cmd ".timeout 30000" \
	    "$CORP_DATA_DIR/corp.db" "$@"
}

# routed_queue DIR EVENTS USERS: a new data dir whose queue holds EVENTS
# TASK_CREATED events x USERS bound users, one ready PENDING telegram row
# each, made the way an operator makes them: corp-org add, corp-user
# import, corp-task create --unit per event and corp-event route.  So the
# events carry what corp-task writes, and the deliveries, recipients and
# decisions lie in the table as route lays them out: per event, each
# event's rows side by side in user order (event-major).  Users are
# u0..u(USERS-1) with ids 2..USERS+1 (admin is 1, the actor: "self").
#
# The binds alone are written with SQL: corp has no bulk bind import, and
# one corp-bind add per user costs ~10 ms on a quiet machine (minutes on
# a loaded one) for 1 000 users.  A claim reads binds through their
# primary key (user_id, channel), so how that table was filled changes
# nothing the figures measure.
routed_queue() {
	rm -rf "$1"
	fresh_db "$1.part" normal
	corp-org add bench --title Bench >/dev/null || die "corp-org add failed"
	awk -v n="$3" 'BEGIN { for (i = 0; i < n; i++)
	    printf "{\"login\":\"u%d\",\"name\":\"User %d\",\"lang\":\"en\",\"unit\":\"bench\"}\n", i, i }' |
	    corp-user import >/dev/null || die "corp-user import failed"
	sql "INSERT INTO binds (user_id, channel, address, active, created_at,
	    updated_at) SELECT id, 'telegram', 5000 + id, 1, 1767607200,
	    1767607200 FROM users WHERE login GLOB 'u[0-9]*';" ||
	    die "binds failed"
	_i=1
	while [ "$_i" -le "$2" ]; do
		corp-task create --as admin --title "Quarterly report $_i" \
		    --description "Figures for the quarter, part $_i" \
		    --unit bench --due 2026-01-09T18:00:00Z >/dev/null ||
		    die "corp-task create failed"
		_i=$((_i + 1))
	done
	corp-event route >/dev/null || die "corp-event route failed"
	sql "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	[ "$(pending_count)" = $(($2 * $3)) ] ||
	    die "routed_queue: expected $(($2 * $3)) PENDING rows, got $(pending_count)"
	# Whole or not at all: a later figure reuses a template that exists.
	mv "$1.part" "$1" || die "routed_queue: mv failed"
	export CORP_DATA_DIR="$1"
}

# grow_queue EVENTS [SENT_EVENTS]: add copies of event 1 (made by
# routed_queue) up to EVENTS events, each with event 1's recipients,
# decisions and deliveries, then mark the rows of the first SENT_EVENTS
# events SENT with one "sent" attempt each.  SQL, for the figures that
# need 100 000 to 1 000 000 rows, where creating and routing that many
# events through corp would take far longer than the figure itself.  The
# copies are inserted in the order route writes (event by event, each
# event's users in order), so the table's layout is route's.
grow_queue() {
	_sent=${2:-0}
	sql "
PRAGMA synchronous = OFF;
BEGIN;
CREATE TEMP TABLE g(i INTEGER PRIMARY KEY);
WITH RECURSIVE e(i) AS (SELECT (SELECT max(event_id) + 1 FROM events)
    UNION ALL SELECT i + 1 FROM e WHERE i < $1)
INSERT INTO g SELECT i FROM e WHERE i <= $1;
INSERT INTO events (event_id, event_type, occurred_at, task_id,
    task_version, state, actor_user_id, initiator_user_id,
    assignee_user_id, assignee_org_unit_id, auto, title, due_at, trace_id,
    dedupe_key, payload)
    SELECT g.i, e.event_type, e.occurred_at, e.task_id, e.task_version,
    e.state, e.actor_user_id, e.initiator_user_id, e.assignee_user_id,
    e.assignee_org_unit_id, e.auto, e.title, e.due_at, printf('%032x', g.i),
    'bench:' || g.i, e.payload FROM g CROSS JOIN events e
    WHERE e.event_id = 1 ORDER BY g.i;
INSERT INTO event_recipients SELECT g.i, r.user_id, r.roles
    FROM g CROSS JOIN event_recipients r WHERE r.event_id = 1
    ORDER BY g.i, r.user_id;
INSERT INTO route_decisions (event_id, user_id, channel, decision, role,
    roles, decided_at, fallback, why) SELECT g.i, r.user_id, r.channel,
    r.decision, r.role, r.roles, r.decided_at, r.fallback, r.why
    FROM g CROSS JOIN route_decisions r
    WHERE r.event_id = 1 ORDER BY g.i, r.user_id, r.channel;
INSERT INTO deliveries (event_id, user_id, channel, role, roles, priority,
    template, status, readiness, not_before, created_at, updated_at,
    fallback, digest)
    SELECT g.i, d.user_id, d.channel, d.role, d.roles, d.priority,
    d.template, d.status, d.readiness, d.not_before, d.created_at,
    d.updated_at, d.fallback, d.digest FROM g CROSS JOIN deliveries d
    WHERE d.event_id = 1
    ORDER BY g.i, d.user_id, d.channel;
UPDATE route_state SET watermark = $1 WHERE id = 1;
UPDATE deliveries SET status = 'SENT', sent_at = 1767607200,
    provider_message_id = 'p', attempts = 1 WHERE event_id <= $_sent;
INSERT INTO delivery_attempts (delivery_id, at, worker, result, attempted,
    stored, provider_message_id) SELECT id, 1767607200, 'bench', 'sent', 1,
    'sent', 'p' FROM deliveries WHERE event_id <= $_sent ORDER BY id;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || die "grow_queue failed"
}

# pending_count: ready PENDING rows left.
pending_count() {
	sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'"
}

# The no-op sender: appends "result":"sent" to each line.  mawk/awk
# rather than jq: a few ms of start-up per batch and no JSON parse, so
# the figure measures corp, not the sender.  A pending line is one
# compact object, so the last byte is its closing brace.
nosend() {
	awk '{ sub(/}$/, ",\"result\":\"sent\",\"provider_message_id\":\"p\"}"); print }'
}

# have CMD: is CMD on PATH?
have() { command -v "$1" >/dev/null 2>&1; }

# apt_install PKG...: install missing Debian packages for the bench
# only (never make check).  Prints a note and fails when apt-get is not
# usable here.
apt_install() {
	if ! have apt-get; then
		note "apt-get not available: cannot install $*"
		return 1
	fi
	_sudo=
	[ "$(id -u)" = 0 ] || _sudo=sudo
	if [ "$_sudo" = sudo ] && ! sudo -n true 2>/dev/null; then
		note "not root and no password-less sudo: cannot install $*"
		return 1
	fi
	note "installing for the bench: $*"
	if ! { DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq \
	    --no-install-recommends "$@" >/dev/null 2>&1 ||
	    { $_sudo apt-get update -qq >/dev/null 2>&1 &&
	    DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq \
	    --no-install-recommends "$@" >/dev/null 2>&1; }; }; then
		note "apt-get install $* failed"
		return 1
	fi
}

# corp_has_run: does corp-deliver have the run verb yet?
corp_has_run() {
	corp-deliver run --help >/dev/null 2>&1
}

# queue_template DIR EVENTS USERS: build once a routed data dir; copy it
# with use_template for each measurement (a copy is much faster than
# routing again, and every run starts from the same file).
queue_template() {
	[ -d "$1" ] || routed_queue "$1" "$2" "$3"
}
use_template() {	# TEMPLATE DIR SYNC
	rm -rf "$2"
	cp -r "$1" "$2"
	export CORP_DATA_DIR="$2" CORP_SYNCHRONOUS="$3"
}

# drain_worker MODE LIMIT BATCH STEPS: run the delivery pipe STEPS times,
# then once more at a time until no row is PENDING (bounded).
#   MODE ack:  pending --limit LIMIT | nosend | ack --batch BATCH
#   MODE pipe: pending --after "$(corp-cursor get)" --limit LIMIT |
#              nosend | ack --batch BATCH | corp-cursor advance
# No check between the first STEPS pipes: a sqlite3 probe per pipe would
# be part of the figure.
drain_worker() {
	_steps=$4
	_tries=0
	while :; do
		_i=0
		while [ "$_i" -lt "$_steps" ]; do
			if [ "$1" = pipe ]; then
				corp-deliver pending --channel telegram \
				    --after "$(corp-cursor get --channel telegram)" \
				    --limit "$2" | nosend |
				    corp-deliver ack --batch "$3" |
				    corp-cursor advance --channel telegram ||
				    return 1
			else
				corp-deliver pending --channel telegram \
				    --limit "$2" | nosend |
				    corp-deliver ack --batch "$3" >/dev/null ||
				    return 1
			fi
			_i=$((_i + 1))
		done
		[ "$(pending_count)" = 0 ] && return 0
		_steps=1
		_tries=$((_tries + 1))
		[ "$_tries" -gt 2000 ] && { note "drain: gave up"; return 1; }
	done
}

# drain MODE LIMIT BATCH ROWS WORKERS: WORKERS drain_workers at once;
# prints elapsed ms.  Fails unless every row ended SENT exactly once.
drain() {
	_per=$(( ($4 + $2 * $5 - 1) / ($2 * $5) ))
	_t0=$(now_ns)
	_pids=
	_w=0
	while [ "$_w" -lt "$5" ]; do
		drain_worker "$1" "$2" "$3" "$_per" &
		_pids="$_pids $!"
		_w=$((_w + 1))
	done
	_bad=0
	for _p in $_pids; do wait "$_p" || _bad=1; done
	_ms=$(ms_since "$_t0")
	[ "$_bad" = 0 ] || die "drain $1: a worker failed"
	_chk=$(sql "SELECT (SELECT count(*) FROM deliveries WHERE status <> 'SENT')
	    + (SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
	    WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1))")
	[ "$_chk" = 0 ] || die "drain $1: $_chk rows not SENT exactly once"
	echo "$_ms"
}

# baseline_drain ROWS WORKERS: the goqite/plainjob algorithm
# (baseline-queue.py) on the current database, WORKERS processes at
# once, ROWS in all; prints "acked ms".
baseline_drain() {
	_each=$(( $1 / $2 ))
	_t0=$(now_ns)
	_pids=
	_w=0
	: > "$BT/base.out"
	while [ "$_w" -lt "$2" ]; do
		"$PY" "$BENCH_DIR/baseline-queue.py" "$CORP_DATA_DIR/corp.db" \
		    "$CORP_SYNCHRONOUS" "$_each" "py$_w" >> "$BT/base.out" &
		_pids="$_pids $!"
		_w=$((_w + 1))
	done
	_bad=0
	for _p in $_pids; do wait "$_p" || _bad=1; done
	_ms=$(ms_since "$_t0")
	[ "$_bad" = 0 ] || die "baseline: a worker failed"
	echo "$(awk '{ s += $1 } END { print s }' "$BT/base.out") $_ms"
}

# Drain sizes: 32 000 rows = 32 events x 1 000 bound users.  Many users
# per event so that two workers can claim side by side (a claim skips
# users whose rows another live lease holds).
DRAIN_EVENTS=32
DRAIN_USERS=1000
DRAIN_ROWS=32000

# baseline_rate SYNC WORKERS: rows/s of baseline-queue.py, measured once
# per run and kept in $BT for the figures that share it.  Quick mode
# drains a prefix of the queue (2 000 rows with FULL, 8 000 with NORMAL:
# the baseline's rate is steady, one commit per claim and per ack, and
# all 32 000 would take minutes with FULL); full mode drains all 32 000.
baseline_rate() {
	_f="$BT/baseline-$1-$2"
	if [ ! -s "$_f" ]; then
		if [ "$BENCH" = full ]; then _n=$DRAIN_ROWS
		elif [ "$1" = full ]; then _n=2000
		else _n=8000; fi
		[ -d "$BT/drain-template" ] || queue_template \
		    "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
		use_template "$BT/drain-template" "$BT/base-db" "$1"
		set -- $(baseline_drain "$_n" "$2") "$1" "$2"
		note "baseline sync=$3 workers=$4: $1 rows in $2 ms"
		printf '%s %s\n' "$(rate "$1" "$2")" "$1" > "$_f"
	fi
	cat "$_f"
}

# build_refs: compile the C references into $BT/bin (ref-drain with the
# sqlite3 C API; ref-drain-pg with libpq, when its headers are here),
# with corp's optimisation flags.  A reference that does not build is a
# note, and its figures are skipped.
build_refs() {
	mkdir -p "$BT/bin"
	_cc="${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra"
	$_cc -o "$BT/bin/ref-drain" "$BENCH_DIR/ref-drain.c" \
	    $(pkg-config --cflags --libs sqlite3) 2>"$BT/ref-drain.err" ||
	    note "ref-drain.c did not build: $(head -n 3 "$BT/ref-drain.err")"
	if pkg-config --exists libpq 2>/dev/null; then
		$_cc -o "$BT/bin/ref-drain-pg" "$BENCH_DIR/ref-drain-pg.c" \
		    $(pkg-config --cflags --libs libpq) \
		    2>"$BT/ref-drain-pg.err" ||
		    note "ref-drain-pg.c did not build: $(head -n 3 "$BT/ref-drain-pg.err")"
	fi
}

# ref_rate SYNC BATCH [-a]: rows/s of ref-drain (the machine's limit:
# tests/bench/ref-drain.c) draining a copy of the drain template, BATCH
# rows per claim and per ack; -a also writes the attempts rows as corp's
# ack does.  Measured once per run and kept in $BT for the figures that
# share it.  Prints "RATE ROWS".
ref_rate() {
	_f="$BT/ref-$1-$2${3:-}"
	if [ ! -s "$_f" ]; then
		[ -x "$BT/bin/ref-drain" ] || return 1
		queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
		use_template "$BT/drain-template" "$BT/ref-db" "$1"
		set -- "$1" "$2" "${3:-}" $("$BT/bin/ref-drain" ${3:-} \
		    "$CORP_DATA_DIR/corp.db" "$1" "$2") || return 1
		[ "$4" = "$DRAIN_ROWS" ] ||
		    die "ref-drain drained $4 of $DRAIN_ROWS rows"
		note "ref-drain sync=$1 batch=$2 ${3:-}: $4 rows in $5 ms"
		printf '%s %s\n' "$(rate "$4" "$5")" "$4" > "$_f"
	fi
	cat "$_f"
}

# callgrind_ir OUT [--toggle-collect=FN] CMD...: run CMD under valgrind's
# callgrind (instructions executed: the same on a loaded machine as on a
# quiet one) and print the instructions it counted (all of them, or with
# --toggle-collect only those inside FN and its callees).  The profile
# stays in OUT for callgrind_annotate.
callgrind_ir() {
	_out=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$_out" "$@" \
	    >"$_out.stdout" 2>"$_out.log" || {
		note "callgrind $*: $(tail -n 3 "$_out.log")"
		return 1
	}
	sed -n 's/^summary: *//p; s/^totals: *//p' "$_out" | head -n 1 |
	    awk '{ print $1 }'
}

# have_valgrind: valgrind on PATH, installed for the bench when missing.
have_valgrind() {
	have valgrind || apt_install valgrind || return 1
	have valgrind
}

# nginx_start: an nginx on a loopback port answering POST
# /bot<token>/sendMessage with a fixed Bot API success, for figures 4
# and 8; sets NGINX_PORT.  nginx_stop stops it.  Installs nginx-light
# when nginx is missing (the bench only).
NGINX_BODY='{"ok":true,"result":{"message_id":1,"date":1767607200,"chat":{"id":1,"type":"private"},"text":"x"}}'
nginx_start() {
	_ng=$(command -v nginx || echo /usr/sbin/nginx)
	if [ ! -x "$_ng" ]; then
		apt_install nginx-light || return 1
		_ng=/usr/sbin/nginx
	fi
	mkdir -p "$BT/nginx/tmp"
	_try=0
	while [ "$_try" -lt 5 ]; do
		NGINX_PORT=$((20000 + ($$ + _try * 7919) % 20000))
		cat > "$BT/nginx/nginx.conf" <<NGEOF
worker_processes 1;
pid $BT/nginx/nginx.pid;
error_log $BT/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $BT/nginx/tmp/body;
	proxy_temp_path $BT/nginx/tmp/proxy;
	fastcgi_temp_path $BT/nginx/tmp/fastcgi;
	uwsgi_temp_path $BT/nginx/tmp/uwsgi;
	scgi_temp_path $BT/nginx/tmp/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location ~ ^/bot[^/]+/sendMessage\$ {
			default_type application/json;
			return 200 '$NGINX_BODY';
		}
	}
}
NGEOF
		if "$_ng" -p "$BT/nginx" -c "$BT/nginx/nginx.conf" \
		    2>>"$BT/nginx/start.err"; then
			export NGINX_PORT
			return 0
		fi
		_try=$((_try + 1))
	done
	note "nginx did not start: $(tail -n 1 "$BT/nginx/start.err")"
	return 1
}
nginx_stop() {
	[ -s "$BT/nginx/nginx.pid" ] && kill "$(cat "$BT/nginx/nginx.pid")" 2>/dev/null
	_i=0
	while [ -s "$BT/nginx/nginx.pid" ] && [ "$_i" -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	return 0
}

# run_args: the options corp-deliver run needs for a plain-HTTP fake.
run_args() {
	if corp-deliver run --help 2>&1 | grep -q -- --allow-http; then
		echo "--channel telegram --allow-http"
	else
		echo "--channel telegram"
	fi
}
