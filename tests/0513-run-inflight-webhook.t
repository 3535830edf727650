#!/bin/sh
# corp-deliver run --inflight N on the webhook channel (corp-deliver.1
# "Requests in flight", issue 18 lever 6): signed POSTs to several
# endpoints in flight from one loop, and the rules of one line at a time
# kept.  The fake receiver's log is the wire: per endpoint the events
# arrive in claim order and never two at once ("busy_path"), whichever
# users share the endpoint; a slow answer does not hold other endpoints;
# every signature verifies with its endpoint's own secret; 429 and 503
# (Retry-After capped at telegram.max_pause), an endpoint never reached
# (its pause) and an endpoint the SSRF rule refuses leave the queue
# exactly as --inflight 1 leaves it; a run killed with SIGKILL mid-batch
# loses nothing, and no row stored as SENT goes out again.  The fake
# delays chosen answers (--script delay_ms) so that requests overlap;
# nothing here asserts timing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
D=$CORP_DATA_DIR
USERS=6
EVENTS=3

i=0
while [ $i -lt "$USERS" ]; do
	printf '{"login":"u%d","name":"U%d"}\n' $i $i
	i=$((i + 1))
done > "$T/users"
run_in "$T/users" corp-user import
is "$rc" 0 "$USERS users imported"
{ corp-settings notify set --event-type booking_created --role client \
    --channel telegram --disabled &&
    corp-settings notify set --event-type booking_created --role client \
    --channel webhook &&
    corp-settings config set webhook.allow 127.0.0.1/32; } >/dev/null ||
    bail "settings"
mkdir -m 700 "$D/secrets"
# Endpoint eK has its own secret; users uK and uK+3 share it.
for e in 0 1 2 3; do
	printf 'whsec_%s\n' "$(printf 'inflight-secret-of-endpoint-e%d!' $e |
	    base64)" > "$D/secrets/webhook-e$e"
done
chmod 600 "$D"/secrets/*

# conf PORT [e2 URL]: webhooks.conf with e0..e2 on the fake at PORT (e2
# elsewhere when given) and e3 on 127.0.0.2, which webhook.allow refuses.
conf() {
	{
		printf 'e0 http://127.0.0.1:%s/e0\n' "$1"
		printf 'e1 http://127.0.0.1:%s/e1\n' "$1"
		printf 'e2 %s\n' "${2:-http://127.0.0.1:$1/e2}"
		printf 'e3 http://127.0.0.2:%s/e3\n' "$1"
	} > "$D/webhooks.conf"
	chmod 600 "$D/webhooks.conf"
}
start_fake wh0 "$CORP_SRC/tests/fakes/fake-webhook"
conf "$port"
i=0
while [ $i -lt "$USERS" ]; do
	corp-bind add --user "u$i" --channel webhook --address "e$((i % 3))" \
	    >/dev/null || bail "bind u$i"
	i=$((i + 1))
done
empty=$(copydb "$(curdb)") || bail "copydb"

# emit R: EVENTS events for each user, event-major; the service names
# the round, the user and the event's rank ("SR.U.K").
emit() {
	k=1
	while [ $k -le $EVENTS ]; do
		u=0
		while [ $u -lt "$USERS" ]; do
			printf '{"idempotency_key":"w%s-%d-%d","source":"inflight","event_type":"booking_created","recipients":[{"user":"u%d","role":"client"}],"payload":{"service":"S%s.%d.%d","specialist_name":"Sam","starts_at":"2026-01-06T10:00:00Z"}}\n' \
			    "$1" $u $k $u "$1" $u $k
			u=$((u + 1))
		done
		k=$((k + 1))
	done | corp-event emit > /dev/null && corp-event route > /dev/null
}

# wire LOG: "PATH EVENT_ID BUSY_PATH USER.RANK" per POST answered 200,
# in the order they arrived.
wire() {
	jq -r 'select(.status == 200) | (.body | fromjson) as $b |
	    "\(.path) \($b.event_id) \(.busy_path) \($b.payload.service |
	    capture("S[0-9a-z]+\\.(?<r>[0-9]+\\.[0-9]+)").r)"' "$1"
}

# 1. Order per endpoint, one at a time per endpoint, a slow answer
# overtaken.  e0's first POST is answered after 1.5 s: e1 and e2 go on
# meanwhile and their answers come first; e0's other lines (u3's too:
# one endpoint, whichever user) wait for it.
printf '%s\n' '{"path":"/e0","count":1,"delay_ms":1500}' \
    '{"path":"/e2","count":2,"delay_ms":300}' > "$T/script1"
start_fake wh1 "$CORP_SRC/tests/fakes/fake-webhook" --log "$T/wh1.log" \
    --script "$T/script1"
conf "$port"
emit a
run corp-deliver run --channel webhook --allow-http --until-empty \
    --inflight 4
is "$rc" 0 "run --inflight 4 exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry, .failed]')" \
    "[$((USERS * EVENTS)),$((USERS * EVENTS)),0,0]" "every row claimed and sent"
is "$(sql "SELECT status, attempts, count(*) FROM deliveries
    GROUP BY status, attempts")" "SENT|1|$((USERS * EVENTS))" \
    "every row SENT on its first attempt"
wire "$T/wh1.log" > "$T/wire1"
is "$(wc -l < "$T/wire1" | tr -d ' ')" $((USERS * EVENTS)) \
    "each line once on the wire"
is "$(awk '{ if ($2 <= last[$1]) bad[$1] = 1; last[$1] = $2 }
    END { c = 0; for (k in bad) c++; print c }' "$T/wire1")" 0 \
    "every endpoint got its lines in claim (event) order"
is "$(awk '{ print $1 }' "$T/wire1" | sort | uniq -c | awk '{ print $1 }' |
    tr '\n' ' ')" "6 6 6 " "two users' lines to each endpoint"
is "$(awk '$3 != 0' "$T/wire1" | wc -l | tr -d ' ')" 0 \
    "never two requests to one endpoint at once"
busy=$(jq -s '[.[] | .busy] | max' "$T/wh1.log")
is "$(( busy >= 1 && busy <= 2 ))" 1 \
    "requests to the other endpoints overlapped e0's slow one ($busy + 1 at most 3)"
is "$(awk '$1 == "/e0" { print $4 }' "$T/wire1" | tr '\n' ' ')" \
    "0.1 3.1 0.2 3.2 0.3 3.3 " "e0: its two users' lines in claim order"
# Every signature verifies with its own endpoint's secret (python3 hmac).
is "$(/usr/bin/python3 - "$T/wh1.log" "$D/secrets" <<'PY'
import base64, hashlib, hmac, json, sys
bad = n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    h = e["headers"]
    sec = open(f'{sys.argv[2]}/webhook{e["path"].replace("/", "-")}').read()
    key = base64.b64decode(sec.strip().split("_", 1)[1])
    msg = f'{h["webhook-id"]}.{h["webhook-timestamp"]}.{e["body"]}'
    want = "v1," + base64.b64encode(hmac.new(key, msg.encode(),
                                             hashlib.sha256).digest()).decode()
    n += 1
    bad += h["webhook-signature"] != want
print(f"{n} {bad}")
PY
)" "$((USERS * EVENTS)) 0" "every signature verifies with its endpoint's secret"
is "$(jq -r '.headers["webhook-id"]' "$T/wh1.log" | sort -n | tr '\n' ' ')" \
    "$(sql "SELECT id FROM deliveries ORDER BY id" | tr '\n' ' ')" \
    "webhook-id: each row's own delivery id"

# 2. Answers judged as with one line at a time: e0 answers 429 with a
# Retry-After of 2 h (capped at telegram.max_pause, 1 h), e1 503 with
# Retry-After 5, e2 is never reached (a closed port: the endpoint
# pauses, and the other user's line to it is not sent), e3 is refused
# by the SSRF rule (held, nothing sent).  The same claim with
# --inflight 4 and with --inflight 1 leaves the same rows, the same
# errors and the same pauses.
# e3: u0 moves there, so e0 keeps u3 only.
restoredb "$empty"
corp-bind add --user u0 --channel webhook --address e3 >/dev/null ||
    bail "bind u0 e3"
empty2=$(copydb "$(curdb)") || bail "copydb"
# run2 N: the case from the empty queue with --inflight N; its queue in
# $T/q2.N, its output in $T/out2.N.
run2() {
	restoredb "$empty2"
	rm -rf "$D/ratelimit"
	printf '%s\n' \
	    '{"path":"/e0","count":1,"status":429,"headers":{"Retry-After":"7200"},"delay_ms":600}' \
	    '{"path":"/e1","count":1,"status":503,"headers":{"Retry-After":"5"}}' \
	    > "$T/script2"
	start_fake "wh2$1" "$CORP_SRC/tests/fakes/fake-webhook" \
	    --log "$T/wh2.$1.log" --script "$T/script2"
	conf "$port" "http://127.0.0.1:1/e2"
	emit b
	run env CORP_NOW=2026-01-06T12:00:00Z corp-deliver run \
	    --channel webhook --allow-http --once --inflight "$1"
	printf '%s\n' "$out" | jq -c '[.claimed, .sent, .retry, .failed,
	    .held, .released]' > "$T/out2.$1"
	printf 'rc %s\n' "$rc" >> "$T/out2.$1"
	# libcurl's connect error names the milliseconds it took ("after
	# 0 ms"): a busy machine's number, not the queue's.
	sql "SELECT d.id, u.login, d.status, d.attempts, d.error
	    FROM deliveries d JOIN users u ON u.id = d.user_id ORDER BY d.id" |
	    sed 's/ after [0-9]* ms: / after N ms: /' > "$T/q2.$1"
}
run2 4
is "$(cat "$T/out2.4")" "[18,3,5,0,1,10]
rc 78" "inflight 4: u4's 3 sent, 5 retry (1 held), 10 given back behind them; 78"
run2 1
is "$(cat "$T/q2.4")" "$(cat "$T/q2.1")" \
    "--inflight 4 leaves the queue exactly as --inflight 1"
is "$(cat "$T/out2.4")" "$(cat "$T/out2.1")" "and the same summary"
like "$(cat "$T/q2.4")" "\|u3\|PENDING\|1\|webhook: HTTP 429 \(pause capped at 3600s: telegram.max_pause\)" \
    "429: Retry-After capped"
like "$(cat "$T/q2.4")" "\|u1\|PENDING\|1\|webhook: HTTP 503" \
    "503 retried"
like "$(cat "$T/q2.4")" "\|u2\|PENDING\|0\|webhook: .*\(unreachable: paused 30s\)" \
    "e2 never reached: not an attempt, the endpoint paused"
like "$(cat "$T/q2.4")" "\|u5\|PENDING\|0\|webhook: .*\(unreachable: paused [0-9]+s more\)" \
    "the other user's line to e2 is not sent while it is paused"
like "$(cat "$T/q2.4")" "\|u0\|PENDING\|0\|webhook: 127.0.0.2 resolves to 127.0.0.2, a loopback address \(refused unless allowed by " \
    "e3: refused by the SSRF rule, held, as with one line at a time"
is "$(jq -r .path "$T/wh2.4.log" | sort | uniq -c | awk '{ print $2 ":" $1 }' |
    tr '\n' ' ')" "/e0:1 /e1:4 " \
    "on the wire: e0's 429 (its later lines behind it), e1's 503 and u4's; nothing to e3"
is "$(jq -s '[.[] | .busy_path] | max' "$T/wh2.4.log")" 0 \
    "never two requests to one endpoint at once"

# 3. SIGKILL mid-batch: the run dies while e0's first request is
# unanswered (held 30 s).  Rows stored as SENT by then never go out
# again; every other row goes out in a later run (after the leases
# expire: CORP_NOW 10 minutes on): at least once, nothing lost.
restoredb "$empty"
rm -rf "$D/ratelimit"
printf '%s\n' '{"path":"/e0","count":1,"delay_ms":30000}' > "$T/script3"
start_fake wh3 "$CORP_SRC/tests/fakes/fake-webhook" --log "$T/wh3.log" \
    --script "$T/script3"
conf "$port"
emit c
corp-deliver run --channel webhook --allow-http --until-empty --inflight 4 \
    > "$T/run3.out" 2> "$T/run3.err" &
rpid=$!
# Bounded poll: the run has stored e1's and e2's rows (all but e0's six)
# while e0's first request hangs.
n=0
while [ "$n" -lt 600 ]; do
	[ "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" \
	    -ge $((USERS * EVENTS * 2 / 3)) ] && break
	n=$((n + 1))
	sleep 0.1
done
kill -9 "$rpid" 2>/dev/null || _diag "the run ended early: $(head -5 "$T/run3.err")"
wait "$rpid" 2>/dev/null
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" \
    $((USERS * EVENTS * 2 / 3)) "killed: the other endpoints' rows were stored"
run env CORP_NOW=+10m corp-deliver run --channel webhook --allow-http \
    --until-empty --inflight 4
is "$rc" 0 "the next run (leases expired) exits 0"
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|$((USERS * EVENTS))" "nothing lost: every row SENT"
wire "$T/wh3.log" > "$T/wire3"
is "$(awk '$1 != "/e0" { print $2 }' "$T/wire3" | sort | uniq -d |
    wc -l | tr -d ' ')" 0 "no row stored as SENT went out twice"
is "$(awk '$1 == "/e0" { print $4 }' "$T/wire3" | tr '\n' ' ')" \
    "0.1 0.1 3.1 0.2 3.2 0.3 3.3 " \
    "e0: the hung one, then its six in order (at least once)"
is "$(awk '$1 != "/e0" && $3 != 0' "$T/wire3" | wc -l | tr -d ' ')" 0 \
    "never two requests to one endpoint at once"
ok "corp-db check clean" corp-db check
done_testing
