#!/bin/sh
# Rows held by retries that never reached their server (issue 15 item
# 7): "attempted": false uses no attempt and keeps the row PENDING --
# an outage or a configuration error never fills the dead-letter queue
# -- but no longer than hold_max_age, counted from the first such retry
# since the row's last attempt (held_since); past it the row fails with
# "expired_held: ERROR".  An attempt or requeue ends the hold.  The
# defaults attempts.CHANNEL=10 and backoff.CHANNEL=30s,2,6h.  State is
# built with corp's own commands; the sender is jq, acking as
# corp-send would.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z

ann_on_file
# task N: task N, and so row N for ann, routed.  One row is PENDING at a
# time, so that each claim takes just the row under test.
task() {
	corp-task create --as admin --title "Task $1" --assignee ann >/dev/null &&
	    corp-event route >/dev/null || bail "task $1"
}
# cycle JQ-ADDITION: claim at $CORP_NOW (exactly one row due), ack it
# with the addition as corp-send would; prints what ack stored.
cycle() {
	corp-deliver pending --channel file > "$T/lines" || return 1
	[ "$(wc -l < "$T/lines")" = 1 ] || { echo "claimed $(wc -l < "$T/lines")"; return 1; }
	jq -c ". + $1" "$T/lines" | corp-deliver ack | jq -r .stored
}
task 1
is "$(sql "SELECT id, status FROM deliveries ORDER BY id" | tr '\n' ' ')" \
    "1|PENDING " "one row for ann on the file channel"
down='{result: "retry", attempted: false, error: "connection refused (127.0.0.1:1)", error_class: "unreachable", retry_after: 60}'
hard='{result: "retry", error: "HTTP 503"}'
row() { sql "SELECT status, attempts, coalesce(datetime(held_since, 'unixepoch'), '-'), coalesce(error, '-') FROM deliveries WHERE id = $1"; }

# Row 1: held from 10:00 on day 0, through an outage of seven days.
is "$(cycle "$down")" retry "an unreachable server: stored retry"
is "$(row 1)" "PENDING|0|2026-01-05 10:00:00|connection refused (127.0.0.1:1)" \
    "PENDING, no attempt used, held since the first such retry"
export CORP_NOW=2026-01-12T09:59:59Z
is "$(cycle "$down")" retry "one second short of hold_max_age (7d): still retry"
is "$(row 1)" "PENDING|0|2026-01-05 10:00:00|connection refused (127.0.0.1:1)" \
    "held_since stays the first retry's"
export CORP_NOW=2026-01-12T10:01:00Z
is "$(cycle "$down")" failed "held longer than hold_max_age: stored failed"
is "$(row 1)" "FAILED|0|2026-01-05 10:00:00|expired_held: connection refused (127.0.0.1:1)" \
    "FAILED with expired_held: and the retry's error, no attempt counted"
ok "dlq" corp-deliver dlq
is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .error, .attempts]')" \
    '[1,"expired_held: connection refused (127.0.0.1:1)",0]' "in the dead-letter queue"
ok "explain shows held_since" corp-deliver explain --event 1 --user ann
is "$(printf '%s' "$out" | jq -c '.deliveries[0] | [.status, .held_since]')" \
    '["FAILED","2026-01-05T10:00:00Z"]' "explain: held_since"
ok "requeue" corp-deliver requeue --id 1
is "$(row 1)" "PENDING|0|-|-" "requeue ends the hold"
is "$(cycle '{result: "sent", provider_message_id: "m1"}')" sent "row 1 sent after its requeue"
task 2

# Row 2: an attempt ends the hold; the next hold starts afresh.
export CORP_NOW=2026-01-20T10:00:00Z
is "$(cycle "$down")" retry "row 2 held"
is "$(row 2)" "PENDING|0|2026-01-20 10:00:00|connection refused (127.0.0.1:1)" "held since day 15"
export CORP_NOW=2026-01-24T10:00:00Z
is "$(cycle "$hard")" retry "a 503: an attempt"
is "$(row 2)" "PENDING|1|-|HTTP 503" "the attempt counts and ends the hold"
export CORP_NOW=2026-01-25T10:00:00Z
is "$(cycle "$down")" retry "held again"
is "$(row 2)" "PENDING|1|2026-01-25 10:00:00|connection refused (127.0.0.1:1)" \
    "held since the new first retry, not the old one"
export CORP_NOW=2026-01-31T10:00:00Z
is "$(cycle "$down")" retry "6 days into the new hold: still retry"

# hold_max_age is the operator's.
ok "hold_max_age 1d" corp-settings config set hold_max_age 1d
export CORP_NOW=2026-02-01T10:00:00Z
is "$(cycle "$down")" failed "past a shorter hold_max_age: failed"
ok "unset" corp-settings config unset hold_max_age

task 3
# Row 3: the defaults.  Ten attempts, each due at most 6 h after the one
# before (the cap, full jitter), the tenth fails.
is "$(corp-settings config get attempts.file):$(corp-settings config get backoff.file)" \
    "10:30s,2,6h" "defaults: attempts.CHANNEL=10, backoff.CHANNEL=30s,2,6h"
k=1
t=$(date -u -d 2026-02-02T00:00:00Z +%s)
stored=
while [ $k -le 10 ]; do
	export CORP_NOW=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
	stored="$stored$(cycle "$hard") "
	t=$((t + 6 * 3600 + 1))
	k=$((k + 1))
done
is "$stored" "retry retry retry retry retry retry retry retry retry failed " \
    "nine retries, the tenth attempt fails the row"
is "$(row 3)" "FAILED|10|-|HTTP 503" "FAILED after 10 attempts"

# Row 4 (sec-review-22c LOW-1): an ack's retry_after above the documented
# caps.  A held retry waits no later than held_since + hold_max_age (7d),
# so it is claimed again by then and the next held retry fails it; an
# attempted one at most telegram.max_pause (1h).  Before, both waited a
# year.
task 4
nb() { sql "SELECT datetime(not_before, 'unixepoch') FROM deliveries WHERE id = $1"; }
export CORP_NOW=2026-03-01T10:00:00Z
is "$(cycle '{result: "retry", attempted: false, error: "slow", retry_after: 1e30}')" \
    retry "a held retry with retry_after 1e30: retry"
is "$(nb 4)" "2026-03-08 10:00:00" "due at the end of its hold, not in a year"
export CORP_NOW=2026-03-05T10:00:00Z
corp-deliver requeue --id 4 >/dev/null || bail "requeue 4"
is "$(cycle '{result: "retry", attempted: false, error: "slow", retry_after: 100}')" \
    retry "held again from day 4"
export CORP_NOW=2026-03-05T10:01:40Z
is "$(cycle '{result: "retry", attempted: false, error: "slow", retry_after: 31622400}')" \
    retry "a second held retry, 100 s into the hold"
is "$(nb 4)" "2026-03-12 10:00:00" "due when the hold that began on day 4 ends"
export CORP_NOW=2026-03-12T10:00:00Z
is "$(cycle "$down")" failed "claimed then, held once more: failed"
task 5
export CORP_NOW=2026-03-20T10:00:00Z
is "$(cycle '{result: "retry", error: "HTTP 503", retry_after: 1e30}')" \
    retry "an attempted retry with retry_after 1e30: retry"
is "$(nb 5)" "2026-03-20 11:00:00" "due after telegram.max_pause (1h)"
ok "telegram.max_pause 10m" corp-settings config set telegram.max_pause 10m
export CORP_NOW=2026-03-20T11:00:00Z
is "$(cycle '{result: "retry", error: "HTTP 503", retry_after: 86400}')" \
    retry "a second attempted retry, retry_after a day"
is "$(nb 5)" "2026-03-20 11:10:00" "due after the operator's max_pause (10m)"
ok "unset" corp-settings config unset telegram.max_pause
ok "corp-db check clean" corp-db check
done_testing
