#!/bin/sh
# SIGTERM, SIGINT or SIGHUP to corp-send exec (and to corp-analysis with
# an exec proposer) while the command runs stops the command's whole
# process group, not only the command (sec-review-16b, brief item 4):
# the group gets SIGTERM, then SIGKILL; the line is retry ("interrupted
# by signal N; killed"), its ack printed, then corp-send dies of the
# signal.  Before, only the direct child died (PR_SET_PDEATHSIG) and what
# it started ran on.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
mkdir -m 700 "$T/bin"
# A command that starts a child and waits for it; the child's pid in
# $T/NAME.pid once it runs.
for n in a b c; do
	cat > "$T/bin/$n" <<EOF
#!/bin/sh
cat > /dev/null
sleep 300 &
echo \$! > "$T/$n.pid"
wait
EOF
done
# Its child ignores SIGTERM.
cat > "$T/bin/stubborn" <<EOF
#!/bin/sh
cat > /dev/null
sh -c 'trap "" TERM; echo \$\$ > "$T/stubborn.pid"; while :; do sleep 1; done' &
wait
EOF
chmod 700 "$T"/bin/*
{
	for n in a b c stubborn; do echo "$n=$T/bin/$n"; done
	echo "p=$T/bin/proposer"
	echo "quick=$T/bin/quick"
} > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"

# gone PID: a bounded poll until PID is no process (gone, or a zombie
# its new parent has not reaped yet).
gone() {
	_i=0
	while :; do
		_s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
		{ [ -z "$_s" ] || [ "$_s" = Z ]; } && return 0
		_i=$((_i + 1))
		[ "$_i" -gt 400 ] && return 1
		sleep 0.05
	done
}
# sig SIGNAL NAME: corp-send exec on two lines for NAME, SIGNAL once
# the first command's child runs; $rc, $out.
sig() {
	{ dline 1 "$2" "" exec; dline 2 "$2" "" exec; } > "$T/in"
	rm -f "$T/$2.pid"
	# A background job of a script starts with SIGINT ignored, and a
	# suite run under nohup with SIGHUP ignored: not this one (an
	# ignored signal stays ignored, below).  The deadline only bounds
	# a run whose signal was lost.
	env --default-signal=HUP,INT,TERM corp-send exec --exec-timeout 2m \
	    < "$T/in" > "$T/out" 2>"$T/err" &
	_p=$!
	wait_file "$T/$2.pid" 20 "$_p" || bail "$2 did not start"
	kill -"$1" "$_p"
	wait "$_p" 2>/dev/null
	rc=$?
	out=$(cat "$T/out")
}
for s in TERM:a:143:15 INT:b:130:2 HUP:c:129:1; do
	name=${s%%:*}; r=${s#*:}; cmd=${r%%:*}; r=${r#*:}
	code=${r%%:*}; num=${r#*:}
	sig "$name" "$cmd"
	is "$rc" "$code" "SIG$name: corp-send dies of the signal ($code)"
	is "$(acks)" "[1,\"retry\",null,\"exec: $T/bin/$cmd: interrupted by signal $num; killed\",true,null]" \
	    "SIG$name: the line in flight is retry, its ack printed; no other"
	ok "SIG$name: the command's child is gone" gone "$(cat "$T/$cmd.pid")"
done
# A child that ignores SIGTERM gets SIGKILL once the command is gone.
sig TERM stubborn
is "$rc:$(acks | jq -c '.[1]')" '143:"retry"' "SIGTERM, a stubborn child: retry"
ok "a child ignoring SIGTERM is killed too" gone "$(cat "$T/stubborn.pid")"

# An ignored SIGHUP (nohup) stays ignored: the command finishes.
cat > "$T/bin/quick" <<EOF
#!/bin/sh
cat > /dev/null
echo go > "$T/quick.pid"
while [ ! -e "$T/quick.go" ]; do sleep 0.05; done
echo id-1
EOF
chmod 700 "$T/bin/quick"
dline 1 quick "" exec > "$T/in"
rm -f "$T/quick.pid" "$T/quick.go"
(trap '' HUP; exec corp-send exec < "$T/in" > "$T/out" 2>"$T/err") &
p=$!
wait_file "$T/quick.pid" 20 "$p" || bail "quick did not start"
kill -HUP "$p"
: > "$T/quick.go"
wait "$p" 2>/dev/null
rc=$?
out=$(cat "$T/out")
is "$rc:$(acks | jq -c '.[1:3]')" '0:["sent","id-1"]' \
    "an ignored SIGHUP: the command finishes, sent"

# ---- corp-analysis with an exec proposer --------------------------
export CORP_NOW=2026-03-01T12:00:00Z
jq -cn '{update_id: 1, message: {message_id: 1, date: 1772359200,
    chat: {id: -1, type: "group", title: "G"},
    from: {id: 7, first_name: "Ann", username: "ann"},
    text: "we need to fix the login page today"}}' | corp-msg import >/dev/null
cat > "$T/bin/proposer" <<EOF
#!/bin/sh
cat > /dev/null
sleep 300 &
echo \$! > "$T/p.pid"
wait
EOF
chmod 700 "$T/bin/proposer"
corp-analysis create --as admin --chat -1 --from 2026-03-01T10:00:00Z \
    --until 2026-03-01T11:00:00Z >/dev/null
corp-analysis start 1 --as admin --proposer exec:p > "$T/out" 2>"$T/err" &
p=$!
wait_file "$T/p.pid" 20 "$p" || bail "the proposer did not start"
kill -TERM "$p"
wait "$p" 2>/dev/null
rc=$?
is "$rc" 143 "corp-analysis dies of SIGTERM"
ok "corp-analysis: the proposer's child is gone" gone "$(cat "$T/p.pid")"
is "$(corp-analysis show 1 | jq -c '[.status, .error]')" \
    '["failed","exec:p: interrupted by signal 15; killed"]' \
    "the run failed, saying why"
done_testing
