#!/bin/sh
# corp-deliver: pending, ack, requeue, dlq, prune, stats, explain (DESIGN 5).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

q() { "$@" >/dev/null || bail "$* failed"; }

# Three unit tasks: rows for boss, ann and bob; sam muted telegram.
q corp-settings mute --user sam --channel telegram
fixture_tasks 3
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
    "[1,$boss] [1,$ann] [1,$bob] [2,$boss] " "(event_id, user_id) order"
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
ok "backoff within full jitter [1, 30s]" test "$nb" -ge 1 -a "$nb" -le 30

run_in "$T/a1" corp-deliver ack
is "$(printf '%s\n' "$out" | jq -r .stored | tr '\n' ' ')" "unchanged unchanged unchanged unchanged " \
    "the same acks again change nothing"
is "$(sql "SELECT count(*) FROM delivery_attempts")" 8 "every ack line is recorded"

# Retry until the DLQ: attempts.telegram = 3 (the default is 10).  Each
# retry comes when its backoff (at most 30s, then 60s) has passed.
corp-settings config set attempts.telegram 3 >/dev/null
for now in 2026-01-05T10:30:00Z 2026-01-05T11:00:00Z; do
	export CORP_NOW=$now
	corp-deliver pending --channel telegram --limit 1 > "$T/p"
	is "$(jq -c '[.delivery_id, .attempt]' "$T/p")" "[4,$(sql "SELECT attempts + 1 FROM deliveries WHERE id = 4")]" \
	    "$now: row 4 is due again"
	jq -c '. + {result: "retry", error: "HTTP 502"}' "$T/p" | corp-deliver ack >/dev/null
done
is "$(sql "SELECT status, attempts, error FROM deliveries WHERE id = 4")" "FAILED|3|HTTP 502" \
    "the third failure is FAILED with the error kept"
is "$(sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL")" 0 \
    "no lease left"
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

# Stale leases: another worker takes the row once its lease (120s) has
# expired; the late retry changes nothing.
jq -c 'select(.delivery_id == 5)' "$T/p2" > "$T/old5"
export CORP_NOW=2026-01-05T11:03:00Z
corp-deliver pending --channel telegram --limit 100 > "$T/p3"
is "$(jq -c 'select(.delivery_id == 5) | .attempt' "$T/p3")" 1 "an expired lease returns the row without an attempt"
is "$(sql "SELECT lease_expiries FROM deliveries WHERE id = 5")" 1 "counted as a lease expiry"
jq -c '. + {result: "retry"}' "$T/old5" | corp-deliver ack > "$T/late"
is "$(jq -r .stored "$T/late")" unchanged "a late retry changes nothing"
jq -c '. + {result: "sent", provider_message_id: "late"}' "$T/old5" | corp-deliver ack > "$T/late" 2> "$T/late.err"
is "$?:$(jq -r .stored "$T/late")" 0:unchanged "a late sent while another live lease holds it: unchanged, exit 0"
is "$(cat "$T/late.err")" "corp-deliver: delivery 5: sent under an expired lease while another claim holds the row: stored unchanged; the message may be sent twice" \
    "... and a warning that it may be sent twice (sec-review-22c LOW-2)"
export CORP_NOW=2026-01-05T11:06:00Z	# the second lease expired too
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
natt=$(sql "SELECT count(*) FROM delivery_attempts WHERE delivery_id = $p")
# The same for retry, failed and unbound, and an empty lease (sec-review-
# 22c LOW-2): before, they were "unchanged" silently and exit 0.
for r in retry failed unbound; do
	for l in forged ''; do
		run sh -c "echo '{\"delivery_id\":$p,\"lease\":\"$l\",\"result\":\"$r\"}' |
		    corp-deliver ack"
		is "$rc:$(printf '%s\n' "$out" | jq -r '.stored + ": " + .ack_error')" \
		    "65:unchanged: delivery $p: $r with a lease never issued for this row: refused, the row unchanged" \
		    "$r with lease '$l': refused, ack_error, exit 65"
		is "$err" "corp-deliver: <stdin>: delivery line: delivery $p: $r with a lease never issued for this row: refused, the row unchanged" \
		    "... said on stderr"
	done
done
is "$(sql "SELECT status, attempts, lease_token, lease_tokens, sent_at
    FROM deliveries WHERE id = $p")" "$before" "the row still untouched"
is "$(sql "SELECT count(*) FROM delivery_attempts WHERE delivery_id = $p")" "$natt" \
    "nothing recorded"
# A refused line is printed from its parse: 2e0 comes back as 2.0.
run sh -c "echo '{\"delivery_id\":2e0,\"lease\":\"x\",\"result\":\"sent\"}' | corp-deliver ack"
is "$rc:$(printf '%s' "$out" | cut -c1-19)" '65:{"delivery_id":2.0,' \
    "an id written 2e0 is echoed 2.0 (documented)"

# Poison: a row whose every lease expires (its worker dies each time)
# is FAILED at the 5th expiry.  On a channel of its own, email, where a
# document event reaches bob alone.
q corp-settings notify set --event-type doc_signed --role reviewer \
    --channel email --new-type --new-role
q corp-settings notify set --event-type doc_signed --role reviewer \
    --channel telegram --disabled
q corp-bind add --user bob --channel email --address bob@corp.example
printf '%s\n' '{"idempotency_key":"d1","source":"docs","event_type":"doc_signed","recipients":[{"user":"bob","role":"reviewer"}]}' |
    q corp-event emit
doc=$(sql "SELECT max(event_id) FROM events")
q corp-event route
poison=$(sql "SELECT id FROM deliveries WHERE channel = 'email'")
n=0
while [ "$n" -lt 5 ]; do
	corp-deliver pending --channel email --limit 1 > "$T/p"
	[ "$(jq .delivery_id "$T/p")" = "$poison" ] || fail "claim $n took $(cat "$T/p")"
	n=$((n + 1))
	export CORP_NOW=$(date -u -d "2026-01-05T11:06:00Z + $((n * 3)) min" +%Y-%m-%dT%H:%M:%SZ)
done
is "$(sql "SELECT status, lease_expiries FROM deliveries WHERE id = $poison")" "PENDING|4" \
    "the 4th expiry returned the row"
corp-deliver pending --channel email --limit 1 > "$T/p"
is "$(sql "SELECT status, error FROM deliveries WHERE id = $poison")" "FAILED|lease expired 5 times" \
    "after 5 expiries the row is FAILED"
is "$(cat "$T/p")" "" "and not claimed again"

# unbound: bind deactivated, row waits, no attempt used.  (Every
# telegram lease has expired by now.)
corp-deliver pending --channel telegram --limit 100 > "$T/p4"
jq -c 'select(.user_id == '$ann') | . + {result: "unbound", error: "403 blocked"}' "$T/p4" | corp-deliver ack > "$T/u"
is "$(jq -r .stored "$T/u" | sort -u)" unbound "stored unbound"
is "$(sql "SELECT active FROM binds WHERE user_id = $ann AND channel = 'telegram'")" 0 "bind deactivated"
is "$(sql "SELECT DISTINCT status || ':' || readiness || ':' || attempts FROM deliveries WHERE user_id = $ann AND status = 'PENDING'")" \
    "PENDING:waiting_bind:0" "ann's rows wait for a bind, no attempt counted"
export CORP_NOW=2026-01-05T11:30:00Z	# the other leases of p4 expired
is "$(corp-deliver pending --channel telegram --peek | jq -c 'select(.user_id == '$ann')')" "" "waiting rows are not offered"
is "$(corp-deliver pending --channel telegram --peek | jq -c .user_id | sort -u | tr '\n' ' ')" "$boss $bob " \
    "the others' are"
# Rebinding makes them ready; offered although the cursor moved past them.
q corp-bind add --user ann --channel telegram --address 1011
is "$(corp-deliver pending --channel telegram --peek --after 99:99 | jq -c 'select(.user_id == '$ann') | .delivery_id' | tr '\n' ' ')" \
    "8 " "held rows at or before the cursor are offered first"

# Bad input.
printf '%s\n' 'not json' '{"delivery_id":8}' '{"delivery_id":8,"lease":"x","result":"maybe"}' \
    '{"delivery_id":8,"lease":"x","result":"retry","retry_after":"1e9"}' \
    '{"delivery_id":8,"lease":"x","result":"retry","attempted":"yes"}' > "$T/bad"
run_in "$T/bad" corp-deliver ack
is "$rc" 65 "bad lines: exit 65 after the rest"
like "$err" "<stdin>:1:[0-9]+: invalid token" "the non-JSON line is named"
is "$(printf '%s\n' "$out" | jq -r '.stored + ":" + .ack_error' | tr '\n' '|')" \
    "unchanged:missing lease|unchanged:missing or unknown result (sent|retry|failed|unbound)|unchanged:retry_after: expected a number of seconds or null|unchanged:attempted: expected true, false or null|" \
    "lines without a lease or result, or with a field of the wrong type, pass on as unchanged"

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
ok "explain a DLQ row" corp-deliver explain --event "$doc" --user bob
is "$(printf '%s' "$out" | jq -c '.deliveries[] | [.channel, .status, .error]')" '["email","FAILED","lease expired 5 times"]' "in the DLQ"
is_rc 67 "explain: unknown user" corp-deliver explain --event 1 --user nobody
is_rc 67 "explain: unknown event" corp-deliver explain --event 999 --user ann

# prune refuses a time in the future (issue 15 item 11): "+1h" for
# "-1h" deleted every row ever sent.
now=$CORP_NOW
sent=$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")
attempts=$(sql "SELECT count(*) FROM delivery_attempts")
is_rc 64 "prune --sent-before +1h: refused" corp-deliver prune --sent-before +1h
is "$err" "corp-deliver: --sent-before: '+1h' is in the future (2026-01-05T12:30:00Z); prune deletes rows sent before a past time, e.g. -90d" \
    "the message names the instant it read"
is_rc 64 "an instant after now: refused" \
    corp-deliver prune --sent-before 2026-02-01T00:00:00Z --dry-run
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'"):$(sql "SELECT count(*) FROM delivery_attempts")" \
    "$sent:$attempts" "nothing deleted"
is "$sent" 4 "4 SENT rows"
export CORP_NOW=2026-02-01T00:00:01Z
ok "prune --dry-run" corp-deliver prune --sent-before 2026-02-01T00:00:00Z --dry-run
is "$out" '{"would_prune":4,"attempts":9,"sent_before":"2026-02-01T00:00:00Z","oldest_sent_at":"2026-01-05T10:00:00Z","newest_sent_at":"2026-01-05T11:06:00Z"}' \
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
# Two more tasks reach ann and bob on the file channel too.
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel file
q corp-bind add --user ann --channel file --address ann
q corp-bind add --user bob --channel file --address bob
q corp-task create --as boss --title "Task 4" --unit sales
e1=$(sql "SELECT max(event_id) FROM events")
q corp-task create --as boss --title "Task 5" --unit sales
e2=$(sql "SELECT max(event_id) FROM events")
q corp-event route
peek=$(corp-deliver pending --channel file --after "$e1:$ann" --peek |
    jq -c '[.event.event_id, .user_id]' | tr '\n' ' ')
ok "pending --after E1:ann" corp-deliver pending --channel file --after "$e1:$ann"
is "$(printf '%s\n' "$out" | jq -c '[.event.event_id, .user_id]' | tr '\n' ' ')" \
    "[$e1,$ann] [$e1,$bob] [$e2,$ann] [$e2,$bob] " \
    "ann's rows on both sides of the cursor in one claim, in order"
is "$peek" "[$e1,$ann] [$e1,$bob] [$e2,$ann] [$e2,$bob] " "as peek showed"
ok "corp-db check clean" corp-db check
done_testing
