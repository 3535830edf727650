#!/bin/sh
# Secrets (issue 10): a representative slice of the suite's operations
# with a recognisable bot token and webhook secret -- emit and route, run
# and the pipe on telegram and webhook, a token from the secrets file,
# poll, stats, and failing runs (a 401, a dead port, a certificate from
# another CA, a 503 webhook) -- then every captured stdout and stderr,
# the fakes' logs, the database (sqlite3 .dump and the raw files), every
# file under the data dir but secrets/, and the command line of every
# process (a wrapper records "$0 $@"; /proc/PID/cmdline of a long-running
# run and poll) is scanned for the canaries: 0 hits, else where.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
C1=SECRET-canary-TOKEN-xyz
C2=CANARYwebhookSECRET0424242
TOKEN="424242:$C1"
WHSEC="whsec_${C2}ZzzQQQ"
export CORP_RATE_LIMIT=off
mkdir -m 700 "$CORP_DATA_DIR/secrets" "$T/cap" "$T/wrap"

# Every corp tool behind a wrapper that records its command line.
real=$(dirname "$(command -v corp-db)")
for f in "$real"/corp-*; do
	printf '#!/bin/sh\nprintf "%%s\\n" "$0 $*" >> "%s/cmdlines"\nexec "%s" "$@"\n' \
	    "$T" "$f" > "$T/wrap/${f##*/}"
	chmod +x "$T/wrap/${f##*/}"
done
PATH="$T/wrap:$PATH"
# c NAME CMD...: run, stdout and stderr kept in $T/cap/NAME.*
c() {
	_c=$1
	shift
	"$@" > "$T/cap/$_c.out" 2> "$T/cap/$_c.err"
	rc=$?
}

FAKE_TG_TOKEN="$TOKEN" start_fake tg "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tg.log"
API="http://127.0.0.1:$port"
FAKE_TG_TOKEN="424242:another-token" start_fake tg401 \
    "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg401.log"
API401="http://127.0.0.1:$port"
make_cert tls
make_cert other
FAKE_TG_TOKEN="$TOKEN" start_fake tls "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tls.log" --tls-cert "$T/tls.pem" --tls-key "$T/tls.key"
TLS="https://localhost:$port"
echo '{"path":"/down","status":503}' > "$T/wh.script"
start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" --log "$T/wh.log" \
    --script "$T/wh.script"
cat > "$CORP_DATA_DIR/webhooks.conf" <<EOF
crm  http://127.0.0.1:$port/hook
down http://127.0.0.1:$port/down
dead http://127.0.0.1:1/hook
EOF
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
for n in crm down dead; do
	printf '%s\n' "$WHSEC" > "$CORP_DATA_DIR/secrets/webhook-$n"
done
chmod 600 "$CORP_DATA_DIR"/secrets/*
export CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API"

# Users bound on telegram and webhook; events emitted and routed.
for u in ann bob eve; do c "user-$u" corp-user add $u --name "${u}y"; done
corp-user list --all | jq -c 'select(.login | IN("ann", "bob", "eve")) |
    {login, channel: "telegram", address: (7000 + .user_id | tostring)},
    {login, channel: "webhook", address: {ann: "crm", bob: "down", eve: "dead"}[.login]}' \
    > "$T/binds.jsonl"
c binds corp-bind import < "$T/binds.jsonl"
is "$rc" 0 "binds imported"
c settings corp-settings notify set --event-type booking_created --role client \
    --channel webhook
emit() {
	for i in $(seq "$1" "$2"); do
		printf '{"idempotency_key":"s%d","source":"sec","event_type":"booking_created","recipients":[{"user":"ann","role":"client"},{"user":"bob","role":"client"},{"user":"eve","role":"client"}],"payload":{"service":"Cut","specialist_name":"Sam","starts_at":"2026-01-06T10:00:00Z"}}\n' "$i"
	done | corp-event emit
}
c emit1 emit 1 4
is "$rc" 0 "emit"
c route1 corp-event route
is "$rc" 0 "route"
n=$(sql "SELECT count(*) FROM deliveries")
ok "route made rows ($n)" test "$n" -gt 0
echo "# rows by channel: $(sql "SELECT channel, count(*) FROM deliveries GROUP BY 1 ORDER BY 1" | tr '\n' ' ')"

# Successes: run on telegram, the pipe on webhook (crm signs, down 503,
# dead refuses the connection).
c run corp-deliver run --channel telegram --allow-http --until-empty
is "$rc" 0 "run on telegram"
c whpipe sh -c 'corp-deliver pending --channel webhook | corp-fmt |
    corp-send webhook --allow-http --allow 127.0.0.0/8 | corp-deliver ack |
    corp-cursor advance --channel webhook'
is "$rc" 0 "the webhook pipe"
is "$(sql "SELECT status || ':' || coalesce(error, '-') FROM deliveries d
    JOIN binds b USING (user_id, channel) WHERE channel = 'webhook'
    ORDER BY b.address, d.event_id LIMIT 1")" "SENT:-" "crm got a signed post"
ok "the webhook fake got posts" test -s "$T/wh.log"

# The token from the 0600 secrets file, the pipe on telegram.
printf '%s\n' "$TOKEN" > "$CORP_DATA_DIR/secrets/telegram_token"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_token"
c emit2 emit 5 6
c route2 corp-event route
c tgpipe env -u CORP_TELEGRAM_TOKEN sh -c 'corp-deliver pending --channel telegram |
    corp-fmt | corp-send telegram --allow-http | corp-deliver ack |
    corp-cursor advance'
is "$rc" 0 "the telegram pipe with the token file"
is "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'telegram' AND
    status <> 'SENT'")" 0 "every telegram row sent"

# Failures: 401, a dead port, another CA (run and corp-send).
c emit3 emit 7 9
c route3 corp-event route
CORP_TELEGRAM_API="$API401" c run401 corp-deliver run --channel telegram \
    --allow-http --until-empty
is "$rc" 77 "a 401: run exits 77"
like "$(cat "$T/cap/run401.err")" "bad token" "and says bad token"
CORP_NOW=2026-01-05T11:00:00Z CORP_TELEGRAM_API="http://127.0.0.1:1" \
    c rundead corp-deliver run --channel telegram --allow-http --once
like "$rc:$(cat "$T/cap/rundead.err")" "^0:.*retry: .*(onnect|refused)" \
    "a dead port: run retries, says why"
dline 1 7002 > "$T/in"
CORP_TELEGRAM_API="http://127.0.0.1:1" c senddead sh -c \
    'corp-send telegram --allow-http < "$1"' - "$T/in"
like "$(cat "$T/cap/senddead.out")" '"result":"retry"' "a dead port: corp-send retries"
CORP_TELEGRAM_API="$TLS" CORP_CA_FILE="$T/other.pem" c sendca sh -c \
    'corp-send telegram < "$1"' - "$T/in"
like "$(cat "$T/cap/sendca.out")" 'certificate|SSL' "another CA: a certificate error"
CORP_NOW=2026-01-05T14:00:00Z CORP_TELEGRAM_API="$TLS" \
    CORP_CA_FILE="$T/other.pem" c runca corp-deliver \
    run --channel telegram --once
like "$(cat "$T/cap/runca.err")" 'certificate|SSL' "run says so too"
CORP_NOW=2026-01-05T18:00:00Z CORP_TELEGRAM_API="$TLS" \
    CORP_CA_FILE="$T/tls.pem" c runtls corp-deliver \
    run --channel telegram --until-empty
is "$rc:$(sql "SELECT count(*) FROM deliveries WHERE channel = 'telegram'
    AND status <> 'SENT'")" 0:0 "with the right CA the rest goes over TLS"
c poll corp-tg poll --once --allow-http --timeout 0
c poll401 env CORP_TELEGRAM_API="$API401" corp-tg poll --once --allow-http --timeout 0
isnt "$rc" 0 "poll with a refused token fails"
for v in stats dlq; do c "$v" corp-deliver $v; done
c explain corp-deliver explain --event 1 --user ann
c check corp-db check
is "$rc" 0 "corp-db check clean"

# Long-running processes: their command lines as the kernel has them.
: > "$T/proc"
c_long() {
	"$@" > "$T/cap/long.out" 2> "$T/cap/long.err" &
	lp=$!
	_i=0
	while [ $_i -lt 400 ]; do
		cl=$(tr '\0' ' ' < "/proc/$lp/cmdline" 2>/dev/null)
		case $cl in *"$1"*) ;; *) cl="" ;; esac
		[ -n "$cl" ] && [ -e "/proc/$lp/fd/3" ] && break
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "$cl" >> "$T/proc"
	for ch in $(cat "/proc/$lp/task/$lp/children" 2>/dev/null); do
		tr '\0' ' ' < "/proc/$ch/cmdline" >> "$T/proc" 2>/dev/null
		echo >> "$T/proc"
	done
	kill -TERM $lp
	wait $lp 2>/dev/null
}
c_long corp-deliver-run --channel telegram --allow-http
c_long corp-tg poll --allow-http --timeout 1
like "$(cat "$T/proc")" "corp-deliver-run --channel" "run's command line read from /proc"
like "$(cat "$T/proc")" "corp-tg poll" "and poll's"

# The scan.
sql .dump > "$T/dump.sql"
: > "$T/hits"
scan() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		for canary in "$C1" "$C2"; do
			grep -aqF -- "$canary" "$f" &&
			    echo "$canary in ${f#$T/}" >> "$T/hits"
		done
	done
	return 0
}
scan "$T"/cap/* "$T"/*.log "$T"/*.err "$T/dump.sql" "$T/cmdlines" "$T/proc"
find "$CORP_DATA_DIR" -path "$CORP_DATA_DIR/secrets" -prune -o -type f \
    -print > "$T/files"
while read -r f; do scan "$f"; done < "$T/files"
echo "# scanned $(ls "$T"/cap | wc -l) captures, $(ls "$T"/*.log | wc -l) fake logs, \
$(wc -l < "$T/files") data files, $(wc -l < "$T/cmdlines") command lines, the dump"
is "$(cat "$T/hits")" "" "0 hits of the token or the webhook secret"
# The scan finds what it looks for: the secrets dir itself has both.
: > "$T/hits"
scan "$CORP_DATA_DIR"/secrets/*
is "$(cut -d' ' -f1 "$T/hits" | sort -u | wc -l)" 2 "(control: the scan finds both canaries in secrets/)"
done_testing
