#!/bin/sh
# Crash anywhere (issue 10): kill -9 corp-deliver run --until-empty, and
# each stage of the pipe pending | fmt | send | ack | cursor advance, at
# random moments against the fake Bot API (which logs every sendMessage),
# restarting after each kill with CORP_NOW moved past the 120 s lease.
# At the end every row is SENT exactly once in the database, the fake saw
# every message at least once, and the duplicates a kill causes never
# exceed the rows in flight (corp-deliver(1) Crash behaviour): the rows
# the killed process held a live lease on, which is one claim.  For run
# that is at most min(--batch, 256): it stores a claim's acks before its
# next claim (GROUP_LINES 256 in lib/deliver.c caps a group
# within a larger claim); for the pipe at most pending's --limit.
#
# What a kill left in flight is counted once the fake has settled: no
# connection of the victim is open at the fake any more (each request is
# logged before its answer, and its connection closed after), so a
# request the victim sent just before it died is in the log or never
# will be, however late a busy machine lets the fake handle it.
#
# The random moment: the kill lands once the fake's log has grown by K
# lines since the victim started, K random (a bounded poll on the log,
# not a sleep, so the moment is a point in the victim's work that was
# reached, whatever the machine's speed); K = 0 kills it at once (for
# the pipe: as soon as every stage has written its pid).  Expired leases
# count towards the poison guard (FAILED after 5 expiries, DESIGN §5),
# which a crash loop of this test could trip by killing the same first
# claim again and again: so when a PENDING row has 3 expiries already,
# K is drawn past the first claim (run), and every pipe kill is followed
# by one clean pipe that must recover the killed one's rows.
#
# CRASH_KILLS (make torture: 100) overrides the number of kills of run
# and of each pipe stage (20 and 4 x 5 in make check, half under ASan).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
unset CORP_SYNCHRONOUS		# crash tests run with the default (full)
TOKEN='777002:AAcrash-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
: > "$T/tg.log"

kills=${CRASH_KILLS:-$(quick 20 10)}
hexport=$(printf '%04X' "$port")
pkills=${CRASH_KILLS:-$(quick 4 2)}	# per pipe stage
B=16					# corp-deliver run --batch
L=12					# corp-deliver pending --limit

# load EVENTS USERS (tests/load.sh): EVENTS x USERS rows, user uI bound
# to chat 5000 + its id, event N is "Task N" (event_id N).
# more FIRST COUNT: events FIRST..FIRST+COUNT-1 for every user (a busy
# machine may let one run drain the queue before its kill lands: the test
# then tops the queue up and goes on, rather than fail on speed).
. "$CORP_SRC/tests/load.sh"
export CORP_NOW=2026-01-05T10:00:00Z	# tick moves it on from here
load_init
load() { load_queue "$@"; }
more() { load_more "$@"; }

exactly_once() {
	sql "SELECT
	    (SELECT count(*) FROM deliveries WHERE status <> 'SENT'),
	    (SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
	        WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1) AS dup),
	    (SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM
	        delivery_attempts a WHERE a.delivery_id = d.id AND a.stored = 'sent'))"
}

# Business time moves 121 s per run: every lease of a killed run expired.
now=0
tick() {
	now=$((now + 121))
	export CORP_NOW
	CORP_NOW=$(date -u -d "2026-01-05T10:00:00Z + $now seconds" +%Y-%m-%dT%H:%M:%SZ)
}

rnd() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % ($2 - $1 + 1) + $1 )); }
loglines() { wc -l < "$T/tg.log"; }

# The messages of log lines FROM+1.. as row keys event_id * 100000 + user.
keys_from() {
	tail -n +"$(($1 + 1))" "$T/tg.log" | jq -r 'select(.method ==
	    "sendMessage" and .status == 200) | ((.text | capture("Task (?<n>[0-9]+)<").n |
	    tonumber) * 100000 + .chat_id - 5000)' |
	    paste -sd, -
}
# in_flight FROM: rows sent since log line FROM that are not SENT: each
# is a message that will go out again (the kill's duplicates).
in_flight() {
	k=$(keys_from "$1")
	[ -n "$k" ] || { echo 0; return; }
	sql "SELECT count(*) FROM deliveries WHERE status <> 'SENT' AND
	    event_id * 100000 + user_id IN ($k)"
}
max_expiries() {
	sql "SELECT coalesce(max(lease_expiries), 0) FROM deliveries
	    WHERE status = 'PENDING'"
}
# wire: duplicate messages on the wire (accepted minus distinct).
wire_dups() {
	jq -r 'select(.method == "sendMessage" and .status == 200) |
	    "\(.chat_id) \(.text)"' "$T/tg.log" | sort | uniq -c |
	    awk '{ d += $1 - 1 } END { print d + 0 }'
}
# settle: bounded poll (60 s) until the fake has no connection open but
# its listener (/proc/net/tcp: local port ours, state ESTABLISHED,
# SYN_RECV or CLOSE_WAIT): every request a dead victim sent is logged.
settle() {
	_s=0
	while awk -v p=":$hexport" 'substr($2, length($2) - 4) == p &&
	    ($4 == "01" || $4 == "03" || $4 == "08") { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null &&
	    [ $_s -lt 6000 ]; do
		sleep 0.01
		_s=$((_s + 1))
	done
}
# leased: rows the last (killed) process holds a live lease on at the
# business time $CORP_NOW: its claim, the rows a kill leaves in flight.
leased() {
	sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING' AND
	    lease_token IS NOT NULL AND
	    lease_until > $(date -u -d "$CORP_NOW" +%s)"
}
# kill_at K PID: bounded poll until the log grew K lines past $base or
# PID ended; then kill -9 (no sleep decides anything but the poll rate).
kill_at() {
	_i=0
	while [ "$(loglines)" -lt $((base + $1)) ] && kill -0 "$2" 2>/dev/null &&
	    [ $_i -lt 20000 ]; do
		sleep 0.001
		_i=$((_i + 1))
	done
	kill -9 "$2" 2>/dev/null
}

# 1. corp-deliver run --until-empty, killed KILLS times.
rows_events=$(( (kills * 3 * B) / 20 + 10 ))
load "$rows_events" 20
rows=$((rows_events * 20))
tick
n=0 total=0 maxd=0 maxl=0 over="" finished=0 crashrc=0 topups=0
while [ $n -lt "$kills" ]; do
	base=$(loglines)
	if [ "$(max_expiries)" -ge 3 ]; then k=$(rnd $((B + 1)) $((3 * B)))
	else k=$(rnd 0 $((3 * B))); fi
	corp-deliver run --channel telegram --allow-http --until-empty \
	    --batch $B > /dev/null 2>> "$T/run.err" &
	p=$!
	kill_at "$k" $p
	wait $p 2>/dev/null
	r=$?
	settle
	l=$(leased)
	tick
	if [ $r -ne 137 ]; then
		# it finished first: the queue is empty (a busy machine let the
		# kill land late); top it up and go on, unless run failed
		if [ $r -ne 0 ] || [ $topups -ge 20 ]; then
			finished=1
			crashrc=$r
			break
		fi
		more $((rows_events + 1)) "$rows_events"
		rows_events=$((rows_events * 2))
		rows=$((rows_events * 20))
		topups=$((topups + 1))
		continue
	fi
	d=$(in_flight "$base")
	total=$((total + d))
	[ "$d" -gt "$maxd" ] && maxd=$d
	[ "$l" -gt "$maxl" ] && maxl=$l
	[ "$d" -gt "$l" ] && over="$over $d>$l"
	n=$((n + 1))
done
is "$finished:$n" "0:$kills" "run killed $kills times (rc $crashrc, queue topped up $topups times)"
corp-deliver run --channel telegram --allow-http --until-empty --batch $B \
    > "$T/last.out" 2>> "$T/run.err"
is "$?" 0 "a last run, not killed, finishes the queue"
is "$(exactly_once)" "0|0|0" "run: $rows rows, each SENT exactly once"
is "$(keys_from 0 | tr , '\n' | sort -u | wc -l)" "$rows" \
    "the fake saw every one of the $rows messages"
w=$(wire_dups)
echo "# run: kills $n, duplicates $total (on the wire $w), max per kill $maxd, max leased $maxl (bound: --batch $B)"
is "$w" "$total" "every duplicate on the wire is a row a kill left in flight"
is "$over" "" "no kill caused more duplicates than the rows it held leased"
ok "a kill holds one claim: at most --batch $B rows leased: max $maxl" \
    test "$maxl" -le $B
is "$(sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL")" 0 "no lease left"
is "$(grep -v '^$' "$T/run.err" |
    grep -Ev '^([0-9T:.-]+Z )?corp-deliver: telegram: sent [0-9]* retry 0 failed 0 held 0$' |
    head -5)" "" "the restarted runs reported no error (a run that ends prints its summary)"

# 2. The pipe: kill -9 one stage at a random moment, then a clean pipe.
: > "$T/tg.log"
pipe_rows_events=$(( (pkills * 5 * 2 * L) / 20 + 5 ))
load "$pipe_rows_events" 20
rows=$((pipe_rows_events * 20))
# Each stage writes its pid and execs the tool.
pipe() {
	sh -c 'echo $$ > "$T/pid.1"; exec corp-deliver pending --channel telegram --limit '$L |
	    sh -c 'echo $$ > "$T/pid.2"; exec corp-fmt' |
	    sh -c 'echo $$ > "$T/pid.3"; exec corp-send telegram --allow-http' |
	    sh -c 'echo $$ > "$T/pid.4"; exec corp-deliver ack' |
	    sh -c 'echo $$ > "$T/pid.5"; exec corp-cursor advance'
}
names="x pending fmt send ack advance"
tick
n=0 total=0 maxd=0 maxl=0 over="" bad=0 perstage=""
s=1
while [ $s -le 5 ]; do
	j=0 sd=0
	while [ $j -lt "$pkills" ]; do
		base=$(loglines)
		k=$(rnd 0 $L)
		rm -f "$T"/pid.*
		pipe > /dev/null 2>> "$T/pipe-killed.err" &
		p=$!
		_i=0
		while ! [ -s "$T/pid.$s" ] && [ $_i -lt 5000 ]; do
			sleep 0.002
			_i=$((_i + 1))
		done
		kill_at "$k" "$(cat "$T/pid.$s")"
		wait $p 2>/dev/null
		settle
		l=$(leased)
		tick
		d=$(in_flight "$base")
		total=$((total + d))
		sd=$((sd + d))
		[ "$d" -gt "$maxd" ] && maxd=$d
		[ "$l" -gt "$maxl" ] && maxl=$l
		[ "$d" -gt "$l" ] && over="$over $d>$l"
		n=$((n + 1))
		# the next run recovers: the killed pipe's leases expired
		pipe > /dev/null 2>> "$T/pipe.err" || bad=$((bad + 1))
		tick
		j=$((j + 1))
	done
	perstage="$perstage $(echo $names | cut -d' ' -f$((s + 1))):$sd"
	s=$((s + 1))
done
is "$bad" 0 "every pipe after a kill ran clean"
i=0
while [ "$(sql "SELECT count(*) FROM deliveries WHERE status <> 'SENT'")" != 0 ] &&
    [ $i -lt 1000 ]; do
	pipe > /dev/null 2>> "$T/pipe.err" || bad=$((bad + 1))
	tick
	i=$((i + 1))
done
is "$bad" 0 "clean pipes drain the rest"
is "$(exactly_once)" "0|0|0" "pipe: $rows rows, each SENT exactly once"
is "$(keys_from 0 | tr , '\n' | sort -u | wc -l)" "$rows" \
    "the fake saw every one of the $rows messages"
w=$(wire_dups)
echo "# pipe: kills $n, duplicates $total (on the wire $w), max per kill $maxd, max leased $maxl (bound: --limit $L); by stage:$perstage"
is "$w" "$total" "every duplicate on the wire is a row a kill left in flight"
is "$over" "" "no kill caused more duplicates than the rows it held leased"
ok "a kill holds one claim: at most --limit $L rows leased: max $maxl" \
    test "$maxl" -le $L
is "$(cat "$T/pipe.err")" "" "the clean pipes reported no error"
like "$(corp-cursor get)" "^[0-9]+:[0-9]+$" "the cursor file is whole"
ok "corp-db check clean" corp-db check
done_testing
