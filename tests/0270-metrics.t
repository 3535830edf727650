#!/bin/sh
# Metrics for alerting (issue 21 item 4, corp-deliver.1 stats): counters
# per channel and result since the database was created, kept in the
# database in the ack's (or claim's) own transaction -- prune deletes
# rows and attempts, never a count -- the last send per channel and the
# last route as timestamps, the queue age and waiting_until; --prom
# prints them with their Prometheus types, and promtool (make deps)
# accepts the text, contrib's alert rules and their unit tests.  State
# is built with corp's own commands; the sender is jq, acking as
# corp-send would.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
fixture_company
fixture_tasks 2

# counters CHANNEL: the channel's counters, compact.
counters() {
	corp-deliver stats | jq -c --arg c "$1" '.counters[$c]'
}
zero='{"sent":0,"retried":0,"held":0,"unbound":0,"failed":0,"dead_lettered":0,"last_sent_at":null}'

# Before anything happened: every channel at 0, no route, no send.
ok "stats on a new database" corp-deliver stats
is "$(printf '%s' "$out" | jq -c '[.last_route_at, (.counters | keys)]')" \
    '[null,["email","exec","file","push","telegram","webhook"]]' \
    "no route yet; every known channel has counters"
is "$(counters telegram)" "$zero" "all 0, no send yet"
ok "stats --prom on a new database" corp-deliver stats --prom
is "$(printf '%s\n' "$out" | grep -c '^corp_delivery_results_total{')" 30 \
    "6 channels x 5 results, each a series from the start"
unlike "$out" '^corp_last_(route|sent)_timestamp_seconds' \
    "no timestamp sample before the first route or send"

# Route at 10:00: 8 rows on telegram (boss, ann, bob, sam x 2 tasks).
ok "route" corp-event route
is "$(corp-deliver stats | jq -r .last_route_at)" 2026-01-05T10:00:00Z \
    "last_route_at: when route routed"
export CORP_NOW=2026-01-05T10:00:30Z
ok "route with nothing new" corp-event route
is "$(corp-deliver stats | jq -r .last_route_at)" 2026-01-05T10:00:00Z \
    "a route that routed nothing leaves it"

# One claim of all 8; task 1's four sent, task 2's: boss retry
# (attempted), ann retry not attempted (held), bob failed, sam unbound.
export CORP_NOW=2026-01-05T10:01:00Z
corp-deliver pending --channel telegram > "$T/p" || bail "pending"
is "$(wc -l < "$T/p" | tr -d ' ')" 8 "8 rows claimed"
jq -c --argjson boss "$boss" --argjson ann "$ann" --argjson bob "$bob" '
    if .event.event_id == 1 then . + {result: "sent", provider_message_id: "p"}
    elif .user_id == $boss then . + {result: "retry", error: "HTTP 502",
	retry_after: 60}
    elif .user_id == $ann then . + {result: "retry", attempted: false,
	error_class: "unreachable", error: "connection refused",
	retry_after: 120}
    elif .user_id == $bob then . + {result: "failed", error: "HTTP 400"}
    else . + {result: "unbound", error: "403 blocked"} end' "$T/p" |
    corp-deliver ack > "$T/acked" || bail "ack"
is "$(jq -r .stored "$T/acked" | sort | uniq -c | tr -s ' ' | tr '\n' ',')" \
    " 1 failed, 2 retry, 4 sent, 1 unbound," "what ack stored"
is "$(counters telegram)" \
    '{"sent":4,"retried":1,"held":1,"unbound":1,"failed":1,"dead_lettered":1,"last_sent_at":"2026-01-05T10:01:00Z"}' \
    "each ack counted once by what it stored; failed also dead-lettered"
is "$(counters email)" "$zero" "another channel untouched"

# An ack that changes nothing (a duplicate sent) counts nothing.
jq -c 'select(.event.event_id == 1) | . + {result: "sent"}' "$T/p" |
    corp-deliver ack > /dev/null || bail "duplicate ack"
is "$(counters telegram | jq -c '[.sent, .last_sent_at]')" \
    '[4,"2026-01-05T10:01:00Z"]' "a duplicate sent ack counts nothing"

# Queue age and waiting_until at 10:01:20: boss's retry waits for its
# server's retry_after (60 s; the backoff's jitter is at most 30 s),
# ann's for the endpoint's 120 s: nothing is due.
export CORP_NOW=2026-01-05T10:01:20Z
is "$(corp-deliver stats | jq -c '[.queue[] | select(.status == "PENDING") | [.readiness, .count, .waiting_until, .oldest_ready_age_s]]')" \
    '[["ready",2,2,null],["waiting_bind",1,0,null]]' \
    "2 ready rows waiting for not_before, none due (no queue age)"
# At 10:03:00 both are due; the oldest was made at 10:00:00.
export CORP_NOW=2026-01-05T10:03:00Z
ok "stats --prom" corp-deliver stats --prom
printf '%s\n' "$out" > "$T/prom"
grep -v '^corp_delivery_results_total{channel="\(email\|exec\|file\|push\|webhook\)"' "$T/prom" |
    grep -v '^corp_dead_lettered_total{channel="\(email\|exec\|file\|push\|webhook\)"' > "$T/prom.tg"
cat > "$T/want" <<'EOF'
# HELP corp_delivery_results_total Acks by what they stored (sent, retried, held, unbound, failed) since the database was created.
# TYPE corp_delivery_results_total counter
corp_delivery_results_total{channel="telegram",result="sent"} 4
corp_delivery_results_total{channel="telegram",result="retried"} 1
corp_delivery_results_total{channel="telegram",result="held"} 1
corp_delivery_results_total{channel="telegram",result="unbound"} 1
corp_delivery_results_total{channel="telegram",result="failed"} 1
# HELP corp_dead_lettered_total Rows the queue moved to the dead-letter queue since the database was created.
# TYPE corp_dead_lettered_total counter
corp_dead_lettered_total{channel="telegram"} 1
# HELP corp_last_sent_timestamp_seconds Unix time of the channel's last sent ack.
# TYPE corp_last_sent_timestamp_seconds gauge
corp_last_sent_timestamp_seconds{channel="telegram"} 1767607260
# HELP corp_last_route_timestamp_seconds Unix time route last routed an event.
# TYPE corp_last_route_timestamp_seconds gauge
corp_last_route_timestamp_seconds 1767607200
# HELP corp_deliveries Delivery rows by channel, status and readiness.
# TYPE corp_deliveries gauge
corp_deliveries{channel="telegram",status="FAILED",readiness="ready"} 1
corp_deliveries{channel="telegram",status="PENDING",readiness="ready"} 2
corp_deliveries{channel="telegram",status="PENDING",readiness="waiting_bind"} 1
corp_deliveries{channel="telegram",status="SENT",readiness="ready"} 4
# HELP corp_deliveries_leased PENDING rows under a live lease.
# TYPE corp_deliveries_leased gauge
corp_deliveries_leased{channel="telegram",readiness="ready"} 0
corp_deliveries_leased{channel="telegram",readiness="waiting_bind"} 0
# HELP corp_deliveries_waiting_until PENDING rows waiting for a later not_before.
# TYPE corp_deliveries_waiting_until gauge
corp_deliveries_waiting_until{channel="telegram"} 0
# HELP corp_oldest_ready_age_seconds Queue age: seconds since the oldest ready, due PENDING row was made.
# TYPE corp_oldest_ready_age_seconds gauge
corp_oldest_ready_age_seconds{channel="telegram"} 180
# HELP corp_delivery_attempts Rows by attempts used.
# TYPE corp_delivery_attempts gauge
corp_delivery_attempts{channel="telegram",attempts="0"} 2
corp_delivery_attempts{channel="telegram",attempts="1"} 6
# HELP corp_endpoint_paused An endpoint paused by an outage (1 while the pause runs).
# TYPE corp_endpoint_paused gauge
# HELP corp_endpoint_waiting Rows waiting on a paused endpoint.
# TYPE corp_endpoint_waiting gauge
EOF
is "$(diff "$T/want" "$T/prom.tg")" "" "the Prometheus text: HELP, TYPE, counters _total, the timestamps, queue age"
is "$(grep -c '^corp_delivery_results_total{channel="email",result="sent"} 0$' "$T/prom")" 1 \
    "channels that never moved are there at 0"

# Housekeeping deletes rows and attempts, never a count: prune every
# SENT row (and its attempts) a day later.
export CORP_NOW=2026-01-06T10:03:00Z
ok "prune" corp-deliver prune --sent-before -1h
is "$out" '{"pruned":4}' "the sent rows pruned"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" 0 "no SENT row left"
is "$(counters telegram | jq -c '[.sent, .last_sent_at]')" '[4,"2026-01-05T10:01:00Z"]' \
    "the sent counter and the last send survive prune"

# The claim's housekeeping dead-letters too: boss deactivated, his
# PENDING row fails (user_inactive) at the next claim; a requeue takes
# nothing off.
ok "deactivate boss" corp-user deactivate boss
corp-deliver pending --channel telegram --peek > /dev/null || bail "peek"
is "$(counters telegram | jq .dead_lettered)" 1 "a peek changes nothing"
corp-deliver pending --channel telegram > "$T/p2" || bail "pending 2"
is "$(sql "SELECT error FROM deliveries WHERE user_id = $boss AND status = 'FAILED'")" \
    user_inactive "boss's row failed by the claim"
is "$(counters telegram | jq -c '[.dead_lettered, .failed]')" '[2,1]' \
    "the claim's dead-lettering counted (not as an ack's failed)"
ok "requeue the DLQ" corp-deliver requeue --all-failed
is "$(counters telegram | jq .dead_lettered)" 2 "requeue takes nothing off"
# sam's row waits for a bind past hold_max_age (7 d): route fails it.
export CORP_NOW=2026-01-13T10:04:00Z
ok "route expires held rows" corp-event route
is "$(sql "SELECT count(*) FROM deliveries WHERE user_id = $sam AND error = 'expired_unbound'")" 1 \
    "sam's row failed expired_unbound"
is "$(counters telegram | jq .dead_lettered)" 3 "and counted as dead-lettered"

# promtool (make deps): the text, the rules and their unit tests.
promtool=$(command -v promtool || true)
[ -n "$promtool" ] || { [ -x "$CORP_SRC/build/tools/promtool" ] &&
    promtool=$CORP_SRC/build/tools/promtool; }
if [ -z "$promtool" ]; then
	for i in 1 2 3 4; do
		skip "promtool is not installed (make deps fetches it from Debian's prometheus package into build/tools)"
	done
else
	run "$promtool" check metrics < "$T/prom"
	is "$rc:$out$err" 0: "promtool check metrics: no complaint"
	run "$promtool" check rules "$CORP_SRC/contrib/prometheus/corp-rules.yml"
	is "$rc" 0 "promtool check rules: the contrib alert rules"
	like "$out" "SUCCESS: [0-9]+ rules found" "rules found"
	run "$promtool" test rules "$CORP_SRC/contrib/prometheus/corp-rules.test.yml"
	is "$rc:$err" 0: "promtool test rules: each alert fires when it should, not before"
fi
# The dashboard is JSON and queries only metrics corp-deliver.1 documents.
ok "dashboard is JSON" jq -e '.panels | length > 0' "$CORP_SRC/contrib/grafana/corp-dashboard.json"
jq -r '.. | .expr? // empty' "$CORP_SRC/contrib/grafana/corp-dashboard.json" |
    grep -o 'corp_[a-z_]*' | sort -u > "$T/used"
grep -o 'corp_[a-z_]*' "$CORP_SRC/contrib/prometheus/corp-rules.yml" | sort -u >> "$T/used"
for m in $(sort -u "$T/used"); do
	grep -q "^\.It Li $m\\>" "$CORP_SRC/man/corp-deliver.1" || echo "$m"
done > "$T/undoc"
is "$(cat "$T/undoc")" "" "every metric the dashboard and rules use is in corp-deliver.1"
done_testing
