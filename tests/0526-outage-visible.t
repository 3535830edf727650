#!/bin/sh
# An outage is visible (op-review 14): corp-deliver stats lists the
# paused endpoint (channel, endpoint, since, until, cause) with the rows
# waiting on it and the oldest one's age; corp-pipeline says once per
# cycle that the channel is paused; corp-deliver unpause ends the pause
# once the network is fixed and the held rows go out in the next cycle,
# without waiting for the pause to run out.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
T0=1767607200			# 2026-01-05T10:00:00Z
at() { date -u -d "@$((T0 + $1))" +%Y-%m-%dT%H:%M:%SZ; }
export CORP_NOW="$(at 0)"
P="$CORP_SRC/contrib/corp-pipeline"
q() { "$@" >/dev/null || bail "$*"; }

# A port nothing listens on: a fake started, then stopped.
start_fake wdead "$CORP_SRC/tests/fakes/fake-webhook"
kill "$bgpid"
wait "$bgpid" 2>/dev/null
wport=$port
mkdir -p -m 700 "$CORP_DATA_DIR/secrets"
printf 'crm http://127.0.0.1:%s/hook\n' "$wport" > "$CORP_DATA_DIR/webhooks.conf"
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
printf '%s\n' whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw > "$CORP_DATA_DIR/secrets/webhook-crm"
chmod 600 "$CORP_DATA_DIR/secrets/webhook-crm"

q corp-org add ops --title Ops
q corp-user add boss --unit ops
q corp-org set-head ops boss
for u in ann bob; do
	q corp-user add $u --unit ops
	q corp-bind add --user $u --channel webhook --address crm
done
q corp-settings config set webhook.allow 127.0.0.0/8
q corp-settings notify set --event-type TASK_CREATED --role executor --channel webhook
q corp-task create --as boss --title "For ann" --assignee ann
q corp-task create --as boss --title "For bob" --assignee bob

run corp-deliver stats
is "$(printf '%s\n' "$out" | jq -c .paused)" "[]" "nothing paused: an empty list"

cycle() { CORP_NOW="$(at "$1")" run "$P" --channel webhook --send-opt --allow-http; }
cycle 0
is "$rc" 0 "the outage: a cycle exits 0 (the rows are held, not failed)"
is "$(printf '%s\n' "$err" | grep -c '^corp-pipeline: webhook crm: paused until ')" 1 \
    "corp-pipeline says once that the endpoint is paused"
like "$err" "corp-pipeline: webhook crm: paused until $(at 30): webhook: .*onnect.* \\(2 rows waiting, the oldest 0s\\)" \
    "with its end, cause and the rows waiting"
like "$err" "corp-pipeline: sent 0 retry 2 failed 0 held 0\$" "the summary: 2 given back"

CORP_NOW="$(at 20)" run corp-deliver stats
is "$(printf '%s\n' "$out" | jq -c '.paused | map({channel, endpoint, since, until, pause_s, paused, waiting, oldest_waiting_age_s})')" \
    "[{\"channel\":\"webhook\",\"endpoint\":\"crm\",\"since\":\"$(at 0)\",\"until\":\"$(at 30)\",\"pause_s\":30,\"paused\":true,\"waiting\":2,\"oldest_waiting_age_s\":20}]" \
    "stats: the paused endpoint, since and until, and the 2 rows waiting on it"
like "$(printf '%s\n' "$out" | jq -r '.paused[0].cause')" "^webhook: .*onnect" "and the cause"
CORP_NOW="$(at 20)" run corp-deliver stats --prom
like "$out" 'corp_endpoint_paused\{channel="webhook",endpoint="crm"\} 1' "--prom: corp_endpoint_paused"
like "$out" 'corp_endpoint_waiting\{channel="webhook",endpoint="crm"\} 2' "--prom: corp_endpoint_waiting"

# A cycle during the pause: nothing tried, the pause said again, once.
cycle 20
is "$(printf '%s\n' "$err" | grep -c 'paused until')" 1 "the next cycle says it once again"
cycle 40
is "$(printf '%s\n' "$err" | grep -c '^corp-pipeline: webhook crm: paused until ')" 1 \
    "after the pause ran out, the retry failed: paused again (60 s), said once"
CORP_NOW="$(at 50)" run corp-deliver stats
is "$(printf '%s\n' "$out" | jq -c '.paused[0] | [.since, .until, .pause_s]')" \
    "[\"$(at 0)\",\"$(at 100)\",60]" "since stays the outage's start; until moves on"

# The network is fixed: the receiver is back, the pause still runs.
start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" --port "$wport" --log "$T/wh.log"
cycle 50
is "$(wc -l < "$T/wh.log" | tr -d ' ')" 0 "still paused: nothing tried"
is_rc 64 "unpause needs --channel" corp-deliver unpause
is_rc 64 "unpause of an unknown channel: 64" corp-deliver unpause --channel webhok
like "$err" "webhook" "naming the known one"
CORP_NOW="$(at 50)" run corp-deliver unpause --channel webhook
is "$rc:$out" '0:{"channel":"webhook","endpoint":null,"unpaused":1,"rows":2}' \
    "unpause: the endpoint's pause ends, its 2 held rows are due now"
is "$(CORP_NOW="$(at 50)" corp-deliver stats | jq -c .paused)" "[]" "stats: nothing paused"
cycle 50
is "$rc:$err" "0:" "the next cycle sends them, silently"
is "$(wc -l < "$T/wh.log" | tr -d ' ')" 2 "the receiver got both"
is "$(sql "SELECT status, count(*) FROM deliveries WHERE channel = 'webhook' GROUP BY status")" \
    "SENT|2" "both SENT"
CORP_NOW="$(at 60)" run corp-deliver unpause --channel webhook --endpoint crm
is "$rc:$out" '0:{"channel":"webhook","endpoint":"crm","unpaused":0,"rows":0}' \
    "unpause with nothing paused: 0, nothing changed"
done_testing
