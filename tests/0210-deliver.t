#!/bin/sh
# corp-deliver: pending, ack, requeue, dlq, prune, stats, explain (DESIGN 5).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

# Six events for ann (11) and bob (12), sam (14) muted.
sql "INSERT INTO user_mutes VALUES (14, 'channel', 'telegram')"
for t in 1 2 3; do
	fixture_task "$t" 10 NULL 2
	fixture_event TASK_CREATED "$t" 1 10 NULL 2
done
corp-event route >/dev/null
is "$(sql "SELECT count(*) FROM deliveries")" 9 "9 rows: ann, bob, boss x 3"

ok "peek" corp-deliver pending --channel telegram --peek
is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .lease]' | tr '\n' ' ')" \
    "[1,null] [2,null] [3,null] [4,null] [5,null] [6,null] [7,null] [8,null] [9,null] " \
    "peek shows all, leases nothing"
is "$(sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL")" 0 "peek wrote nothing"

ok "pending --limit 4" corp-deliver pending --channel telegram --limit 4 --worker w1
printf '%s\n' "$out" > "$T/p1"
is "$(jq -c '[.event.event_id, .user_id]' "$T/p1" | tr '\n' ' ')" \
    "[1,10] [1,11] [1,12] [2,10] " "(event_id, user_id) order"
is "$(jq -r .lease "$T/p1" | sort -u | wc -l)" 1 "one token per claim"
like "$(head -1 "$T/p1")" '"address":"1010".*"login":"boss".*"roles":\["initiator","supervisor"\].*"attempt":1.*"event":\{"v":1' \
    "the line carries what later stages need"
is "$(sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL AND worker = 'w1'")" 4 "leased"

ok "a second claim skips users leased under another token" \
    corp-deliver pending --channel telegram --worker w2
is "$out" "" "boss, ann, bob all leased by w1: nothing for w2"

exec 4>"$CORP_DATA_DIR/worker-w3.lock"
flock -n 4
is_rc 75 "a live --worker id is refused while its lock is held" \
    corp-deliver pending --channel telegram --worker w3
like "$err" "worker w3: another live process" "says which"
exec 4>&-

# Ack three sent, one retry.
jq -c 'if .delivery_id == 4 then . + {result: "retry", error: "HTTP 500"} else . + {result: "sent", provider_message_id: "m\(.delivery_id)"} end' "$T/p1" > "$T/a1"
run_in "$T/a1" corp-deliver ack
is "$rc" 0 "ack"
is "$(printf '%s\n' "$out" | jq -r '"\(.delivery_id):\(.stored)"' | tr '\n' ' ')" \
    "1:sent 2:sent 3:sent 4:retry " "stored outcome per line, input order"
like "$(printf '%s\n' "$out" | head -1)" '"lease":.*"result":"sent".*"stored":"sent"' "input fields pass through"
is "$(sql "SELECT id, status, attempts, provider_message_id FROM deliveries WHERE id <= 4" | tr '\n' ' ')" \
    "1|SENT|1|m1 2|SENT|1|m2 3|SENT|1|m3 4|PENDING|1| " "database"
nb=$(sql "SELECT not_before - strftime('%s', '2026-01-05T10:00:00') FROM deliveries WHERE id = 4")
ok "backoff within full jitter [0, 30s]" test "$nb" -ge 0 -a "$nb" -le 30

run_in "$T/a1" corp-deliver ack
is "$(printf '%s\n' "$out" | jq -r .stored | tr '\n' ' ')" "unchanged unchanged unchanged unchanged " \
    "the same acks again change nothing"
is "$(sql "SELECT count(*) FROM delivery_attempts")" 8 "every ack line is recorded"

# Retry until the DLQ: attempts.telegram = 3 (the default is 10).
export CORP_NOW=2026-01-05T11:00:00Z
corp-settings config set attempts.telegram 3 >/dev/null
i=0
while [ $i -lt 2 ]; do
	corp-deliver pending --channel telegram --limit 1 | jq -c 'select(.delivery_id == 4) | . + {result: "retry", error: "HTTP 502"}' | corp-deliver ack >/dev/null
	sql "UPDATE deliveries SET not_before = 0 WHERE id = 4"
	i=$((i + 1))
done
is "$(sql "SELECT status, attempts, error FROM deliveries WHERE id = 4")" "FAILED|3|HTTP 502" \
    "the third failure is FAILED with the error kept"
sql "UPDATE deliveries SET lease_token = NULL, lease_until = NULL WHERE status = 'PENDING'"
ok "dlq" corp-deliver dlq
is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .attempts, .error, .login]')" '[4,3,"HTTP 502","boss"]' "dlq lists it"

ok "requeue --id" corp-deliver requeue --id 4
is "$out" '{"requeued":1}' "one row"
is "$(sql "SELECT status, attempts, lease_expiries, not_before, CASE WHEN error IS NULL THEN 1 END FROM deliveries WHERE id = 4")" \
    "PENDING|0|0|0|1" "attempts reset, error cleared"
is "$(sql "SELECT count(*) FROM delivery_attempts WHERE delivery_id = 4")" 4 \
    "history kept (retry, its duplicate, two retries)"
is_rc 64 "requeue needs a selector" corp-deliver requeue

# attempted:false never uses up an attempt; retry_after is the delay.
corp-deliver pending --channel telegram --limit 100 > "$T/p2"
jq -c 'select(.delivery_id == 4) | . + {result: "retry", attempted: false, retry_after: 7, error: "429"}' "$T/p2" | corp-deliver ack >/dev/null
is "$(sql "SELECT attempts, not_before - strftime('%s', '2026-01-05T11:00:00') FROM deliveries WHERE id = 4")" "0|7" \
    "attempted:false: no attempt, not_before = now + retry_after"

# Stale leases: another worker takes the row; the late retry changes nothing.
jq -c 'select(.delivery_id == 5)' "$T/p2" > "$T/old5"
sql "UPDATE deliveries SET lease_until = 0 WHERE lease_token IS NOT NULL"
corp-deliver pending --channel telegram --limit 100 > "$T/p3"
is "$(jq -c 'select(.delivery_id == 5) | .attempt' "$T/p3")" 1 "an expired lease returns the row without an attempt"
is "$(sql "SELECT lease_expiries FROM deliveries WHERE id = 5")" 1 "counted as a lease expiry"
jq -c '. + {result: "retry"}' "$T/old5" | corp-deliver ack > "$T/late"
is "$(jq -r .stored "$T/late")" unchanged "a late retry changes nothing"
jq -c '. + {result: "sent", provider_message_id: "late"}' "$T/old5" | corp-deliver ack > "$T/late"
is "$(jq -r .stored "$T/late")" unchanged "a late sent while another live lease holds it: unchanged"
sql "UPDATE deliveries SET lease_until = 1 WHERE id = 5"
jq -c '. + {result: "sent", provider_message_id: "late"}' "$T/old5" | corp-deliver ack > "$T/late"
is "$(jq -r .stored "$T/late")" sent "a late sent when that lease expired too: stored"
is "$(sql "SELECT status, provider_message_id FROM deliveries WHERE id = 5")" "SENT|late" "SENT"

# A late sent is believed only with a lease once issued for that row: a
# forged token is refused (issue 16).
p=$(sql "SELECT min(id) FROM deliveries WHERE status = 'PENDING' AND id <> 5")
before=$(sql "SELECT status, attempts, lease_token, lease_tokens, sent_at
    FROM deliveries WHERE id = $p")
run sh -c "echo '{\"delivery_id\":$p,\"lease\":\"forged\",\"result\":\"sent\"}' |
    corp-deliver ack"
is "$rc" 65 "a forged lease on a late sent: refused, exit 65"
is "$(printf '%s\n' "$out" | jq -r .stored)" unchanged "... stored unchanged"
like "$err" "delivery $p: sent with a lease never issued for this row" \
    "... the error names the delivery"
is "$(sql "SELECT status, attempts, lease_token, lease_tokens, sent_at
    FROM deliveries WHERE id = $p")" "$before" "the row untouched"
is "$(sql "SELECT count(*) FROM delivery_attempts WHERE delivery_id = $p
    AND result = 'sent'")" 0 "nothing recorded for the refused lines"

# Poison: 5 lease expiries -> FAILED.
sql "UPDATE deliveries SET lease_expiries = 4, lease_token = 'x', lease_until = 1 WHERE id = 6"
corp-deliver pending --channel telegram --limit 1 >/dev/null
is "$(sql "SELECT status, error FROM deliveries WHERE id = 6")" "FAILED|lease expired 5 times" \
    "after 5 expiries the row is FAILED"

# unbound: bind deactivated, row waits, no attempt used.
sql "UPDATE deliveries SET lease_token = NULL, lease_until = NULL"
corp-deliver pending --channel telegram --limit 100 > "$T/p4"
jq -c 'select(.user_id == 11) | . + {result: "unbound", error: "403 blocked"}' "$T/p4" | corp-deliver ack > "$T/u"
is "$(jq -r .stored "$T/u" | sort -u)" unbound "stored unbound"
is "$(sql "SELECT active FROM binds WHERE user_id = 11")" 0 "bind deactivated"
is "$(sql "SELECT DISTINCT status || ':' || readiness || ':' || attempts FROM deliveries WHERE user_id = 11 AND status = 'PENDING'")" \
    "PENDING:waiting_bind:0" "ann's rows wait for a bind, no attempt counted"
sql "UPDATE deliveries SET lease_token = NULL, lease_until = NULL"
is "$(corp-deliver pending --channel telegram --peek | jq -c 'select(.user_id == 11)')" "" "waiting rows are not offered"
# Rebinding (what corp-bind add does) makes them ready; offered although
# the cursor moved past them.
sql "UPDATE binds SET active = 1 WHERE user_id = 11; UPDATE deliveries SET readiness = 'ready', waiting_since = NULL WHERE user_id = 11 AND status = 'PENDING'"
is "$(corp-deliver pending --channel telegram --peek --after 99:99 | jq -c 'select(.user_id == 11) | .delivery_id' | tr '\n' ' ')" \
    "8 " "held rows at or before the cursor are offered first"

# Bad input.
printf '%s\n' 'not json' '{"delivery_id":8}' '{"delivery_id":8,"lease":"x","result":"maybe"}' > "$T/bad"
run_in "$T/bad" corp-deliver ack
is "$rc" 65 "bad lines: exit 65 after the rest"
like "$err" "<stdin>:1:[0-9]+: invalid token" "the non-JSON line is named"
is "$(printf '%s\n' "$out" | jq -r '.stored + ":" + .ack_error' | tr '\n' '|')" \
    "unchanged:missing lease|unchanged:missing or unknown result (sent|retry|failed|unbound)|" \
    "lines without a lease or result pass on as unchanged"

# stats, prune, explain.
ok "stats" corp-deliver stats
like "$out" '"queue":\[' "stats JSON"
ok "stats --prom" corp-deliver stats --prom
like "$out" 'corp_deliveries\{channel="telegram",status="SENT",readiness="ready"\} [0-9]+' "prometheus text"
ok "explain a delivered row" corp-deliver explain --event 1 --user ann
is "$(printf '%s' "$out" | jq -c '[.roles, .decisions[0].decision, .deliveries[0].status, (.deliveries[0].attempts_log | length)]')" \
    '[["executor"],"created","SENT",2]' \
    "roles, decision, status, both acks (sent, then the duplicate)"
ok "explain a muted user" corp-deliver explain --event 1 --user sam
is "$(printf '%s' "$out" | jq -c '[.roles, .decisions[0].decision, .deliveries]')" \
    '[["executor"],"muted_channel",[]]' "muted, no row"
ok "explain a user who could not see it" corp-deliver explain --event 1 --user eve
is "$(printf '%s' "$out" | jq -c '[.roles, .decisions, .deliveries, .routed]')" '[null,[],[],true]' \
    "not a recipient at route time"
ok "explain a DLQ row" corp-deliver explain --event 2 --user bob
is "$(printf '%s' "$out" | jq -c '.deliveries[0] | [.status, .error]')" '["FAILED","lease expired 5 times"]' "in the DLQ"
is_rc 67 "explain: unknown user" corp-deliver explain --event 1 --user nobody
is_rc 67 "explain: unknown event" corp-deliver explain --event 999 --user ann

# prune refuses a time in the future (issue 15 item 11): "+1h" for
# "-1h" deleted every row ever sent.
now=$CORP_NOW
sent=$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")
attempts=$(sql "SELECT count(*) FROM delivery_attempts")
is_rc 64 "prune --sent-before +1h: refused" corp-deliver prune --sent-before +1h
is "$err" "corp-deliver: --sent-before: '+1h' is in the future (2026-01-05T12:00:00Z); prune deletes rows sent before a past time, e.g. -90d" \
    "the message names the instant it read"
is_rc 64 "an instant after now: refused" \
    corp-deliver prune --sent-before 2026-02-01T00:00:00Z --dry-run
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'"):$(sql "SELECT count(*) FROM delivery_attempts")" \
    "$sent:$attempts" "nothing deleted"
is "$sent" 4 "4 SENT rows"
export CORP_NOW=2026-02-01T00:00:01Z
ok "prune --dry-run" corp-deliver prune --sent-before 2026-02-01T00:00:00Z --dry-run
is "$out" '{"would_prune":4,"attempts":9,"sent_before":"2026-02-01T00:00:00Z","oldest_sent_at":"2026-01-05T10:00:00Z","newest_sent_at":"2026-01-05T11:00:00Z"}' \
    "--dry-run: the rows, their attempts, the cutoff read, the send times"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'"):$(sql "SELECT count(*) FROM delivery_attempts")" \
    "$sent:$attempts" "--dry-run deleted nothing"
ok "prune --dry-run, nothing that old" corp-deliver prune --sent-before -30d --dry-run
is "$out" '{"would_prune":0,"attempts":0,"sent_before":"2026-01-02T00:00:01Z","oldest_sent_at":null,"newest_sent_at":null}' \
    "-30d: nothing would go"
ok "prune" corp-deliver prune --sent-before 2026-02-01T00:00:00Z
is "$out" '{"pruned":4}' "SENT rows before the time are gone"
is "$(sql "SELECT count(*) FROM deliveries WHERE status <> 'SENT'")" \
    "$(sql "SELECT count(*) FROM deliveries")" "PENDING and FAILED rows stay"
export CORP_NOW=$now
is "$(sql "SELECT count(*) FROM delivery_attempts WHERE delivery_id IN (1,2,3,5)")" 0 "with their attempts"
is_rc 64 "prune needs a time" corp-deliver prune
is_rc 64 "pending needs a channel" corp-deliver pending
is_rc 64 "bad --after" corp-deliver pending --channel telegram --after x

# One claim takes a user's rows at or before the cursor and after it, in
# order, as peek shows: only a lease under another token skips a user.
sql "INSERT INTO binds (user_id, channel, address, active, created_at,
    updated_at) VALUES (11, 'file', 'ann', 1, 0, 0), (12, 'file', 'bob', 1, 0, 0)"
sql "INSERT INTO deliveries (event_id, user_id, channel, role, roles,
    priority, template, created_at, updated_at) VALUES
    (1, 11, 'file', 'executor', 'executor', 'p2p', 'task_created', 0, 0),
    (1, 12, 'file', 'executor', 'executor', 'p2p', 'task_created', 0, 0),
    (2, 11, 'file', 'executor', 'executor', 'p2p', 'task_created', 0, 0),
    (2, 12, 'file', 'executor', 'executor', 'p2p', 'task_created', 0, 0)"
peek=$(corp-deliver pending --channel file --after 1:11 --peek |
    jq -c '[.event.event_id, .user_id]' | tr '\n' ' ')
ok "pending --after 1:11" corp-deliver pending --channel file --after 1:11
is "$(printf '%s\n' "$out" | jq -c '[.event.event_id, .user_id]' | tr '\n' ' ')" \
    "[1,11] [1,12] [2,11] [2,12] " \
    "ann's rows on both sides of the cursor in one claim, in order"
is "$peek" "[1,11] [1,12] [2,11] [2,12] " "as peek showed"
ok "corp-db check clean" corp-db check
done_testing
