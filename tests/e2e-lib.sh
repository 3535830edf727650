# tests/e2e-lib.sh -- what the per-channel end-to-end tests (tests/097x)
# share, sourced after tests/lib.sh and tests/send-lib.sh.  Those tests
# walk the operator's path: from corp-db init, set up only with corp's
# commands and the documented files, delivered through the pipe of
# corp(7) and through corp-deliver run, checked on the fake's side and
# through the documented read commands (stats, explain, dlq).

# contrib's scripts on PATH, as make install puts them beside the tools.
mkdir -p "$T/contrib-bin"
ln -s "$CORP_SRC/contrib/corp-pipeline" "$CORP_SRC/contrib/corp-telegram-bot" \
    "$T/contrib-bin/"
PATH=$PATH:$T/contrib-bin

# q CMD...: a setup step; the test bails out when it fails.
q() {
	"$@" >/dev/null || bail "$* failed"
}

# pipe CHANNEL [SEND-OPTION...]: one round of the delivery pipe, as
# corp-cursor(1) shows it:
#   corp-deliver pending --channel C --after "$(corp-cursor get --channel C)" |
#     corp-fmt | corp-send C OPTIONS | corp-deliver ack |
#     corp-cursor advance --channel C
# $rc is the exit status of the five stages ("0 0 0 0 0"), $err what they
# wrote to standard error (advance prints nothing).
pipe() {
	bash -c 'c=$1; shift
	corp-deliver pending --channel "$c" \
	    --after "$(corp-cursor get --channel "$c")" |
	    corp-fmt | corp-send "$c" "$@" | corp-deliver ack |
	    corp-cursor advance --channel "$c"
	echo "${PIPESTATUS[*]}" >&3' pipe "$@" 3>"$T/.pipe" >"$T/.out" 2>"$T/.err"
	rc=$(cat "$T/.pipe")
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

# queue CHANNEL: the channel's rows by status and readiness, from
# corp-deliver stats ("SENT ready 2, PENDING waiting_bind 1").
queue() {
	corp-deliver stats | jq -r --arg c "$1" '[.queue[] | select(.channel ==
	    $c) | "\(.status) \(.readiness) \(.count)"] | join(", ")'
}

# explained EVENT LOGIN CHANNEL: corp-deliver explain, the channel's part:
# the decision, the bind, the row, and the results of its attempts.
explained() {
	corp-deliver explain --event "$1" --user "$2" | jq -c --arg c "$3" '[
	    (.decisions[] | select(.channel == $c) | .decision),
	    (.binds[] | select(.channel == $c) | .address),
	    (.deliveries[] | select(.channel == $c) | .status,
	    .attempts, [.attempts_log[] | .result])]'
}

# dlq_rows: the dead-letter queue, one "login channel error" per row.
dlq_rows() {
	corp-deliver dlq | jq -r '"\(.login) \(.channel) \(.error)"'
}

# unport TEXT: TEXT with the port and milliseconds of curl's "Failed to
# connect to HOST port N after N ms" as PORT and N.
unport() {
	printf '%s\n' "$1" | sed -E 's/port [0-9]+ after [0-9]+ ms/port PORT after N ms/'
}
