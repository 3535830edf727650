#!/bin/sh
# corp-deliver ack names a field of the wrong type as such (corp-json.5
# "The ack line"; sec-review-21b LOW 8): a delivery_id that is there but
# 3.0, "3" or 0 is "delivery_id: expected a positive integer" and a
# lease that is not a string "lease: expected a string", where both
# said "missing"; a field that is absent or null is still "missing".
# Each such line is passed on unchanged, exit 65, the row untouched.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

fixture_tasks 1
corp-event route >/dev/null || bail "route failed"
ok "pending" corp-deliver pending --channel telegram --limit 1 --worker w1
id=$(printf '%s\n' "$out" | jq -r .delivery_id)
tok=$(printf '%s\n' "$out" | jq -r .lease)

cat >"$T/a" <<EOF
{"delivery_id":$id.0,"lease":"$tok","result":"sent"}
{"delivery_id":"$id","lease":"$tok","result":"sent"}
{"delivery_id":0,"lease":"$tok","result":"sent"}
{"delivery_id":-$id,"lease":"$tok","result":"sent"}
{"delivery_id":true,"lease":"$tok","result":"sent"}
{"lease":"$tok","result":"sent"}
{"delivery_id":null,"lease":"$tok","result":"sent"}
{"delivery_id":$id,"lease":5,"result":"sent"}
{"delivery_id":$id,"lease":["$tok"],"result":"sent"}
{"delivery_id":$id,"result":"sent"}
{"delivery_id":$id,"lease":null,"result":"sent"}
EOF
run_in "$T/a" corp-deliver ack
is "$rc" 65 "exit 65"
is "$(printf '%s\n' "$out" | jq -r '.stored + ": " + .ack_error')" \
"unchanged: delivery_id: expected a positive integer
unchanged: delivery_id: expected a positive integer
unchanged: delivery_id: expected a positive integer
unchanged: delivery_id: expected a positive integer
unchanged: delivery_id: expected a positive integer
unchanged: missing delivery_id
unchanged: missing delivery_id
unchanged: lease: expected a string
unchanged: lease: expected a string
unchanged: missing lease
unchanged: missing lease" "a wrong type named as such, an absent field as missing"
like "$err" "delivery line: delivery_id: expected a positive integer" \
    "stderr names the field"
is "$(sql "SELECT status, attempts FROM deliveries WHERE id = $id")" \
    "PENDING|0" "the row untouched"

# The right line still acks.
printf '{"delivery_id":%s,"lease":"%s","result":"sent"}\n' "$id" "$tok" >"$T/good"
run_in "$T/good" corp-deliver ack
is "$rc $(printf '%s' "$out" | jq -r .stored)" "0 sent" "a good line: sent"

done_testing
