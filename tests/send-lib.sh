# tests/send-lib.sh -- what the corp-send tests share (sourced after
# tests/lib.sh): fakes started on port 0, throwaway TLS material, and
# delivery lines as corp-deliver pending + corp-fmt print them.

# start_fake NAME CMD...: run CMD --port-file $T/NAME.port in the
# background (killed at exit), wait for the port; sets $port.
start_fake() {
	_fn=$1
	shift
	bg "$@" --port-file "$T/$_fn.port" 2>>"$T/$_fn.err"
	wait_file "$T/$_fn.port" 120 "$bgpid" ||
	    bail "$_fn wrote no port: $(cat "$T/$_fn.err")"
	port=$(cat "$T/$_fn.port")
}

# make_cert NAME: a self-signed certificate for localhost and 127.0.0.1
# (its own CA) in $T/NAME.pem with the key in $T/NAME.key.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	    -keyout "$T/$1.key" -out "$T/$1.pem" >/dev/null 2>&1 ||
	    bail "openssl could not make a certificate"
}

# dline ID ADDRESS [TEXT [CHANNEL [LEASE_UNTIL]]]: one delivery line.
dline() {
	jq -cn --argjson id "$1" --arg addr "$2" --arg text "${3:-hello}" \
	    --arg ch "${4:-telegram}" \
	    --arg until "${5:-2099-01-01T00:00:00Z}" '{delivery_id: $id,
	    lease: "lease-\($id)", lease_until: $until, channel: $ch,
	    address: $addr, user_id: 7, login: "ann", name: "Ann",
	    lang: "en", tz: "UTC", role: "executor", priority: "p2p",
	    template: "task_created", attempt: 1,
	    event: {event_id: (100 + $id), event_type: "TASK_CREATED",
	    task_id: 5, trace_id: "trace-\($id)"}, text: $text,
	    subject: "Task 5"}'
}

# acks: the ack fields of $out, one compact array per line.
acks() {
	printf '%s\n' "$out" | jq -c '[.delivery_id, .result,
	    .provider_message_id, .error, .attempted, .retry_after]'
}
