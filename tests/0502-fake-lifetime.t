#!/bin/sh
# How long the fakes live (tests/fakes/README): each one stops when the
# process that started it exits, killed -9 included, and has no time
# limit of its own unless --max-seconds is given.  A fake that stopped on
# a clock failed tests/0950-e2e.t under ASan beside another make check:
# the demo outlived the old default of 300 s and its fake Bot API left.
. "${CORP_SRC:-.}/tests/lib.sh"
export FAKE_TG_TOKEN='1:fake-lifetime' FAKE_WEBHOOK_SECRET=s \
    FAKE_SMTP_PASSWORD=p FAKE_OPENAI_KEY=k
mkdir -p "$T/push"
fakes="contrib/fake-telegram-api tests/fakes/fake-webhook
tests/fakes/fake-smtp tests/fakes/fake-openai tests/fakes/fake-push"

# gone PID: a bounded poll (30 s) until PID has exited.
gone() {
	_g=0
	while kill -0 "$1" 2>/dev/null; do
		_g=$((_g + 1))
		[ $_g -gt 600 ] && return 1
		sleep 0.05
	done
	return 0
}

# Each fake started by a shell of its own, which is then killed -9: the
# shell's trap cannot stop the fake, the fake sees it is gone.
starters=
for f in $fakes; do
	n=$(basename "$f")
	extra=
	[ "$n" = fake-push ] && extra="--dir $T/push"
	# shellcheck disable=SC2016,SC2086
	sh -c '"$@" & echo $! > "$0.pid"; wait' "$T/$n" \
	    "$CORP_SRC/$f" --port-file "$T/$n.port" $extra 2>>"$T/$n.err" &
	starters="$starters $!"
	_pids="$_pids $!"
done
for f in $fakes; do
	n=$(basename "$f")
	wait_file "$T/$n.port" 20 && wait_file "$T/$n.pid" 20 ||
	    bail "$n wrote no port"
	_pids="$_pids $(cat "$T/$n.pid")"
done
for p in $starters; do
	kill -9 "$p"
	wait "$p" 2>/dev/null
done
for f in $fakes; do
	n=$(basename "$f")
	if gone "$(cat "$T/$n.pid")"; then
		pass "$n stops once the shell that started it was killed -9"
	else
		fail "$n outlived the shell that started it"
	fi
done
is "$(cat "$T"/*.err)" "" "and says nothing: that is no error"

# --max-seconds N still stops a fake whose starter lives on.
bg "$CORP_SRC/contrib/fake-telegram-api" --port-file "$T/max.port" \
    --max-seconds 1 2>"$T/max.err"
wait_file "$T/max.port" 20 || bail "fake-telegram-api wrote no port"
if gone "$bgpid"; then
	pass "--max-seconds 1: the fake stops on its own"
else
	fail "--max-seconds 1: the fake is still running"
fi
is "$(cat "$T/max.err")" "fake-telegram-api: --max-seconds reached, exiting" \
    "and says why"
done_testing
