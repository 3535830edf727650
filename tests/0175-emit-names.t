#!/bin/sh
# corp-event emit: a producer's event types are known or declared once
# with --new-type (a typo is refused with the closest type), list/tail
# filters refuse misspelt types and topics, and a producer's trace_id is
# kept and travels end to end: the event, the delivery line, the stderr
# line of a stage.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
corp-org add team >/dev/null
corp-user add ann --unit team --lang en >/dev/null
corp-user add bob --unit team >/dev/null
corp-bind add --user ann --channel telegram --address 1001 >/dev/null

line() { # KEY TYPE [EXTRA-FIELDS]
	printf '{"idempotency_key":"%s","source":"shop","event_type":"%s","recipients":[{"user":"ann","role":"client"}]%s}\n' \
	    "$1" "$2" "${3:-}"
}

# Event types ------------------------------------------------------
line k1 bookng_created > "$T/in"
run_in "$T/in" corp-event emit
is "$rc" 65 "a misspelt type is a bad line"
is "$err" "corp-event: <stdin>:1: unknown event type 'bookng_created' (did you mean 'booking_created'?)" \
    "named with the closest known type"
line k1 order_paid > "$T/in"
run_in "$T/in" corp-event emit
is "$rc" 65 "a new type without --new-type"
is "$err" "corp-event: <stdin>:1: unknown event type 'order_paid' (known: booking_cancelled, booking_created, booking_done, booking_rescheduled, TASK_CREATED, TASK_ASSIGNED, TASK_DUE_CHANGED, REPORT_SUBMITTED, APPROVED, REJECTED, TASK_CANCELLED, TASK_DUE_SOON, ...); a producer's new type is declared once with --new-type" \
    "says how to declare it"
is "$(sql "SELECT count(*) FROM events")" 0 "nothing written"

{ line k1 order_paid; line k2 order_payd; line k3 order_paid; } > "$T/in"
run_in "$T/in" corp-event emit --new-type order_paid
is "$rc" 65 "--new-type declares that type only"
is "$err" "corp-event: <stdin>:2: unknown event type 'order_payd' (did you mean 'order_paid'?)" \
    "a typo of the new type in the same batch is caught"
is "$(printf '%s\n' "$out" | jq -r .dedupe_key | tr '\n' ' ')" \
    "emit:shop:k1 emit:shop:k3 " "the other lines are written"
line k4 order_paid > "$T/in"
ok "once seen, the type is known" corp-event emit < "$T/in"
ok "a type declared by a notification setting" corp-settings notify set \
    --event-type order_refunded --role client --channel telegram --new-type
line k5 order_refunded > "$T/in"
ok "needs no --new-type to be emitted" corp-event emit < "$T/in"
ok "booking types are known from the shipped settings" corp-event emit <<'J'
{"idempotency_key":"b1","source":"booking","event_type":"booking_created","recipients":[{"user":"bob","role":"client"}]}
J
is_rc 64 "a malformed --new-type" corp-event emit --new-type 'a b' < /dev/null
like "$err" "^corp-event: --new-type 'a b': expected 1-64 of" "says why"
is "$(sql "SELECT group_concat(event_type, ' ') FROM (SELECT event_type
    FROM events ORDER BY event_id) x")" \
    "order_paid order_paid order_paid order_refunded booking_created" \
    "exactly the good events"

# Recipient roles (op-review 9): a misspelt role would be stored, route
# would decide "disabled", and notify set would then take the typo as a
# known role.  A producer's new role is declared once, like a type.
rline() { # KEY ROLE
	printf '{"idempotency_key":"%s","source":"shop","event_type":"booking_created","recipients":[{"user":"ann","role":"%s"}]}\n' "$1" "$2"
}
rline r1 clinet > "$T/in"
run_in "$T/in" corp-event emit
is "$rc" 65 "a misspelt role is a bad line"
is "$err" "corp-event: <stdin>:1: recipients[0]: unknown role 'clinet' (did you mean 'client'?)" \
    "named with the closest known role"
is_rc 64 "notify set does not learn the typo" corp-settings notify set \
    --event-type booking_created --role clinet --channel telegram
is "$err" "corp-settings: unknown role 'clinet' (did you mean 'client'?)" \
    "the same answer"
rline r2 auditor > "$T/in"
run_in "$T/in" corp-event emit
is "$rc" 65 "a new role without --new-role"
like "$err" "^corp-event: <stdin>:1: recipients\\[0\\]: unknown role 'auditor' \\(known: .*\\); a producer's new role is declared once with --new-role\$" \
    "says how to declare it"
{ rline r2 auditor; rline r3 audtor; } > "$T/in"
run_in "$T/in" corp-event emit --new-role auditor
is "$rc" 65 "--new-role declares that role only"
is "$err" "corp-event: <stdin>:2: recipients[0]: unknown role 'audtor' (did you mean 'auditor'?)" \
    "a typo of it in the same batch is caught"
rline r4 auditor > "$T/in"
ok "once emitted, the role is known" corp-event emit < "$T/in"
ok "and notify set takes it" corp-settings notify set \
    --event-type booking_created --role auditor --channel telegram
is_rc 64 "a malformed --new-role" corp-event emit --new-role 'a b' < /dev/null
like "$err" "^corp-event: --new-role 'a b': expected 1-64 of" "says why"
is "$(sql "SELECT count(*) FROM events WHERE dedupe_key LIKE 'emit:shop:r%'")" 2 \
    "exactly the good events (r2, r4)"

# Filters of list and tail --------------------------------------------
is_rc 64 "list --type misspelt" corp-event list --type order_payd
is "$err" "corp-event: unknown event type 'order_payd' (did you mean 'order_paid'?)" \
    "rather than listing nothing"
is_rc 64 "tail --type in the wrong case" corp-event tail --type task_created
is "$err" "corp-event: unknown event type 'task_created' (did you mean 'TASK_CREATED'?)" \
    "suggests the built-in type"
is_rc 64 "list --topic misspelt" corp-event list --topic mesages
is "$err" "corp-event: unknown topic 'mesages' (did you mean 'messages'?)" \
    "suggests the topic"
ok "a topic event type not seen yet is still a type" corp-event list \
    --type run_started
is "$out" "" "(there are none)"
is "$(corp-event list --type order_paid | jq -s length)" 3 "a good filter"

# trace_id -------------------------------------------------------------
for t in '"a b"' '""' 7 "\"$(printf '%0129d' 0)\""; do
	line t1 order_paid ",\"trace_id\":$t" > "$T/in"
	run_in "$T/in" corp-event emit
	is "$rc" 65 "trace_id $t refused"
done
is "$err" "corp-event: <stdin>:1: trace_id: 1-128 visible ASCII characters (no space)" \
    "says what a trace id is"
line t1 order_paid ',"trace_id":7' > "$T/in"
run_in "$T/in" corp-event emit
is "$err" "corp-event: <stdin>:1: field \"trace_id\" must be a string" \
    "a number is not a trace id"
line t1 order_paid ',"trace_id":null' > "$T/in"
ok "a null trace_id is none" corp-event emit < "$T/in"
id=$(printf '%s' "$out" | jq .event_id)
like "$(corp-event show "$id" | jq -r .trace_id)" '^[0-9a-f]{32}$' \
    "the event gets a fresh one"

ok "a trace id of 128 visible characters" corp-event emit <<J
{"idempotency_key":"t2","source":"shop","event_type":"order_paid","trace_id":"$(printf '%0128d' 7)"}
J
line t3 order_paid ',"trace_id":"shop-7f3a/1:x"' > "$T/in"
ok "emit with the producer's trace id" corp-event emit < "$T/in"
id=$(printf '%s' "$out" | jq .event_id)
is "$(corp-event show "$id" | jq -r .trace_id)" "shop-7f3a/1:x" \
    "the event keeps it"
is "$(corp-event list --as ann --after $((id - 1)) | jq -r .trace_id)" \
    "shop-7f3a/1:x" "list shows it"

# End to end: route, a leased delivery line, the formatted line, then
# the sender's stderr line about it (an exec command that fails).
printf 'fail=/bin/false\n' > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
mkdir -p "$CORP_DATA_DIR/i18n" && chmod 700 "$CORP_DATA_DIR/i18n"
printf '%s\n' 'en:order_paid | "Order paid"' > "$CORP_DATA_DIR/i18n/shop.txt"
chmod 600 "$CORP_DATA_DIR/i18n/shop.txt"
corp-bind add --user ann --channel exec --address fail >/dev/null ||
    bail "bind failed"
corp-settings notify set --event-type order_paid --role client \
    --channel exec >/dev/null
corp-event route >/dev/null || bail "route failed"
corp-deliver pending --channel exec --limit 100 > "$T/pending" ||
    bail "pending failed"
is "$(jq -r "select(.event.event_id == $id) | .event.trace_id" "$T/pending")" \
    "shop-7f3a/1:x" "the delivery line carries it"
jq -c "select(.event.event_id == $id)" "$T/pending" | corp-fmt > "$T/one" ||
    bail "fmt failed"
is "$(jq -r '[.text, .event.trace_id] | @tsv' "$T/one")" \
    "Order paid	shop-7f3a/1:x" "so does the formatted line"
run_in "$T/one" corp-send exec
like "$err" "^corp-send: delivery [0-9]+: failed: .* trace=shop-7f3a/1:x\$" \
    "the sender's stderr line about it ends with trace="
is "$(printf '%s' "$out" | jq -r '[.result, .event.trace_id] | @tsv')" \
    "failed	shop-7f3a/1:x" "and its ack line carries it"
done_testing
