#!/bin/sh
# The shipped booking texts from the operator's side (op-review 12):
# corp-event.1's emit example carries every payload field they use, so
# no row is held; a payload short of fields holds each row with ONE
# error naming every missing placeholder; the arrival footer goes to
# the client only; and corp-deliver cancel drops held rows (FAILED,
# "cancelled by the operator", listed by dlq, requeue brings them back).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" > /dev/null || bail "$*"; }
q corp-user add eve --name "Eve Adams" --lang en
q corp-user add kate --name "Kate Moroz" --lang en
for u in eve:7001 kate:7002 admin:7003; do
	q corp-bind add --user "${u%:*}" --channel telegram --address "${u#*:}"
done
texts() { corp-deliver pending --channel telegram --peek | corp-fmt 2>"$T/fmt.err"; }

# corp-event.1's example, as printed there (its first EXAMPLES line).
ex=$(sed -n '/^{"idempotency_key":"b1"/,/^ "trace_id"/p' "$CORP_SRC/man/corp-event.1" |
    sed 's/\\(e/\\/g' | tr -d '\n')
printf '%s\n' "$ex" | jq -e .payload.service >/dev/null ||
    bail "no example in corp-event.1"
printf '%s\n' "$ex" | jq -c '.actor = "eve" | .payload.initiated_by = "client"' |
    corp-event emit >/dev/null || bail "emit the example"
q corp-event route
run texts
is "$(printf '%s\n' "$out" | jq -r '[.login, .result // "ok"] | join(" ")' | tr '\n' ',')" \
    "admin ok,eve ok,kate ok," "the documented payload fills every shipped text"
is "$(cat "$T/fmt.err")" "" "nothing held"
is "$(printf '%s\n' "$out" | jq -r 'select(.text | test("arrive 5 minutes")) | .login')" \
    eve "the arrival footer goes to the client only"
is "$(printf '%s\n' "$out" | jq -r 'select(.login == "kate") | .text')" \
"📅 New booking
Client: Eve Adams
Service: Haircut
When: 2026-01-12 10:30" "the specialist's text, complete"

# A payload short of fields: one error names all that are missing.
q corp-deliver cancel --event 1
printf '%s\n' '{"idempotency_key":"b2","source":"booking","event_type":"booking_created","actor":"eve","recipients":[{"user":"eve","role":"client"},{"user":"kate","role":"specialist"},{"user":"admin","role":"admin"}],"payload":{"booking_id":8,"initiated_by":"client"}}' |
    corp-event emit >/dev/null || bail "emit b2"
q corp-event route
run texts
is "$(printf '%s\n' "$out" | jq -r 'select(.login == "admin") | .error')" \
    "fmt: en:booking_created@admin ($CORP_SHARE_DIR/i18n/en.txt:64): no value for {payload.client_name}, {payload.specialist_name}, {payload.service}, {payload.starts_at}" \
    "every missing placeholder, in one error"
# Hold them as the loop would: through the pipe, acked.
corp-deliver pending --channel telegram | corp-fmt 2>/dev/null |
    corp-deliver ack >/dev/null || bail "ack"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'
    AND held_since IS NOT NULL")" 3 "three rows held"

# Dropping held rows.
is_rc 64 "cancel needs a selection" corp-deliver cancel
is "$(printf '%s\n' "$err" | sed -n 1p)" "corp-deliver: cancel needs --id, --event, --type or --held" "says which"
is_rc 64 "a misspelt channel" corp-deliver cancel --held --channel telgram
is "$err" "corp-deliver: unknown channel 'telgram' (did you mean 'telegram'?)" "did you mean"
ok "cancel --held" corp-deliver cancel --held --channel telegram
is "$out" '{"cancelled":3}' "prints how many"
is "$(sql "SELECT status, error, count(*) FROM deliveries WHERE event_id = 2
    GROUP BY status, error")" "FAILED|cancelled by the operator|3" \
    "FAILED, with the reason"
is "$(corp-deliver dlq | jq -c 'select(.event_id == 2) | .error' | sort -u)" \
    '"cancelled by the operator"' "dlq lists them"
ok "cancel again" corp-deliver cancel --held
is "$out" '{"cancelled":0}' "nothing left to cancel"
ok "requeue brings them back" corp-deliver requeue --event 2
is "$(sql "SELECT status, count(*) FROM deliveries WHERE event_id = 2
    GROUP BY status")" "PENDING|3" "pending again"
# A row a sender holds under a live lease is not cancelled.
corp-deliver pending --channel telegram --limit 1 >/dev/null
ok "cancel --event 2" corp-deliver cancel --event 2
is "$out" '{"cancelled":2}' "the leased row is left to its sender"
ok "corp-db check clean" corp-db check
done_testing
