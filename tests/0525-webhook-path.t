#!/bin/sh
# The webhook channel as an operator sets it up (issue 15 item 1), with
# documented commands and files only: webhooks.conf and the secret file,
# corp-bind refusing an endpoint the file does not define (listing the
# defined ones, "did you mean"), several users bound to one endpoint,
# route, then delivery through the pipe and through corp-deliver run; the
# fake receiver's log checked: every signature (python3 hmac), the
# recipient named in each body; the receiver verifies each request as a
# Standard Webhooks receiver does.  An endpoint or secret that is missing
# holds its rows (retry, not attempted, error_class config).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z
D=$CORP_DATA_DIR
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
FAKE_WEBHOOK_SECRET=$SECRET start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" \
    --log "$T/wh.log"
B="http://127.0.0.1:$port"

q() { "$@" >/dev/null || bail "$* failed"; }
q corp-org add ops
q corp-user add ann --name Ann --unit ops
q corp-user add bob --name Bob --unit ops
q corp-user add cyd --name Cyd --unit ops
q corp-org set-head ops bob
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel telegram --disabled
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel webhook
q corp-settings notify set --event-type TASK_CREATED --role supervisor \
    --channel webhook

# No webhooks.conf yet: the bind is refused and says how to make one.
is_rc 65 "no webhooks.conf: refused" corp-bind add --user ann \
    --channel webhook --address crm
is "$err" "corp-bind: webhook endpoint 'crm' is not defined: there is no $D/webhooks.conf (one \"NAME URL\" per line, the secret in secrets/webhook-NAME)" \
    "names the file and its format"

cat > "$D/webhooks.conf" <<EOF
# NAME  URL
crm     $B/hooks/crm
hr      $B/hooks/hr
EOF
chmod 600 "$D/webhooks.conf"
printf '%s\n' "$SECRET" > "$D/secrets.tmp"
mkdir -m 700 "$D/secrets"
mv "$D/secrets.tmp" "$D/secrets/webhook-crm"
chmod 600 "$D/secrets/webhook-crm"

is_rc 65 "a misspelt endpoint is refused" corp-bind add --user ann \
    --channel webhook --address crn
is "$err" "corp-bind: webhook endpoint 'crn' is not defined in $D/webhooks.conf (defined: crm, hr); did you mean 'crm'?" \
    "lists the defined endpoints and suggests the closest"
is_rc 65 "an unknown endpoint is refused" corp-bind add --user ann \
    --channel webhook --address billing
is "$err" "corp-bind: webhook endpoint 'billing' is not defined in $D/webhooks.conf (defined: crm, hr)" \
    "no suggestion when nothing is close"
is_rc 65 "a URL is not an endpoint name" corp-bind add --user ann \
    --channel webhook --address "$B/hooks/crm"
like "$err" "expected the name of an endpoint of webhooks.conf" "says what is expected"
chmod 620 "$D/webhooks.conf"
is_rc 77 "a group-writable webhooks.conf is refused" corp-bind add \
    --user ann --channel webhook --address crm
is "$err" "corp-bind: $D/webhooks.conf: group-writable (mode 620); chmod go-w $D/webhooks.conf" \
    "and says how to fix it"
chmod 600 "$D/webhooks.conf"
# The one rule for a secret, at bind time too (OP 4): a malformed secret
# is refused with the file named, never the value.
printf 'whsec_CANARY!!\n' > "$D/secrets/webhook-crm"
is_rc 65 "a malformed secret is refused" corp-bind add --user ann \
    --channel webhook --address crm
is "$err" "corp-bind: $D/secrets/webhook-crm: not a webhook secret (expected whsec_ followed by the base64 of 24 to 64 bytes, as Standard Webhooks gives it; a raw secret is not accepted; the value is not shown)" \
    "names the file and the rule"
printf '%s\n' "$SECRET" > "$D/secrets/webhook-crm"
is "$(sql "SELECT count(*) FROM binds")" 0 "none of those wrote a bind"

# Many users, one endpoint.
ok "ann binds crm" corp-bind add --user ann --channel webhook --address crm
ok "bob binds crm too" corp-bind add --user bob --channel webhook --address crm
ok "cyd binds hr" corp-bind add --user cyd --channel webhook --address hr
run corp-bind list --channel webhook
is "$(printf '%s\n' "$out" | jq -c '[.login, .address, .active]')" \
    '["ann","crm",true]
["bob","crm",true]
["cyd","hr",true]' "two users share crm"

# verify: the signature of every request in the log, and what it carried.
verify() {
	python3 - "$T/wh.log" "$SECRET" "$1" <<'PY'
import base64, hashlib, hmac, json, sys
key = base64.b64decode(sys.argv[2].split("_", 1)[1])
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
for line in lines[int(sys.argv[3]):]:
    e = json.loads(line)
    h = e["headers"]
    msg = f'{h["webhook-id"]}.{h["webhook-timestamp"]}.{e["body"]}'
    want = "v1," + base64.b64encode(hmac.new(key, msg.encode(),
                                             hashlib.sha256).digest()).decode()
    b = json.loads(e["body"])
    r = b["recipient"]
    print(e["path"], h["webhook-id"], b["event_type"], b["title"],
          r["login"], r["name"], r["role"], ",".join(r["roles"]),
          "signed" if hmac.compare_digest(h["webhook-signature"], want) and
          e.get("verified") is True and e["status"] == 200
          else "BAD-SIGNATURE")
PY
}

# Through the pipe.
q corp-task create --as admin --title "Quarterly report" --assignee ann
q corp-event route
run sh -c 'corp-deliver pending --channel webhook | corp-fmt |
    corp-send webhook --allow-http --allow 127.0.0.0/8 | corp-deliver ack |
    corp-cursor advance --channel webhook'
is "$rc:$err" "0:" "the pipe exits 0, quietly"
is "$(verify 0 | sort)" "/hooks/crm 1 TASK_CREATED Quarterly report ann Ann executor executor signed
/hooks/crm 2 TASK_CREATED Quarterly report bob Bob supervisor supervisor signed" \
    "crm got one signed POST per recipient, each naming its user"
is "$(sql "SELECT d.id, u.login, d.status, d.attempts FROM deliveries d
    JOIN users u ON u.id = d.user_id WHERE d.channel = 'webhook'
    ORDER BY d.id" | tr '\n' ' ')" "1|ann|SENT|1 2|bob|SENT|1 " \
    "both rows SENT"

# Through corp-deliver run, the allowed range from the setting.
q corp-settings config set webhook.allow 127.0.0.0/8
q corp-task create --as admin --title "Budget" --assignee bob
q corp-event route
run corp-deliver run --channel webhook --allow-http --until-empty
is "$rc" 0 "run exits 0"
is "$(verify 2)" "/hooks/crm 3 TASK_CREATED Budget bob Bob executor executor signed" \
    "run posts the same way"
is "$(sql "SELECT status FROM deliveries WHERE id = 3")" SENT "row 3 SENT"

# hr has no secret yet: cyd's row (5) is held, not failed, not attempted;
# bob's (4, as supervisor, on crm) goes.
q corp-task create --as admin --title "Hiring plan" --assignee cyd
q corp-event route
n=$(wc -l < "$T/wh.log")
run sh -c 'corp-deliver pending --channel webhook | corp-fmt |
    corp-send webhook --allow-http --allow 127.0.0.0/8 | corp-deliver ack'
is "$rc" 0 "a held line does not fail the pipe"
is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .login, .result,
    .attempted, .retry_after, .error_class, .error, .stored]')" \
    "[4,\"bob\",\"sent\",true,null,null,null,\"sent\"]
[5,\"cyd\",\"retry\",false,60,\"config\",\"secret webhook-hr: no file $D/secrets/webhook-hr (this secret is read only from its file)\",\"retry\"]" \
    "the missing secret holds the line and names the file"
is "$(verify "$n")" "/hooks/crm 4 TASK_CREATED Hiring plan bob Bob supervisor supervisor signed" \
    "only bob's went out"
is "$(sql "SELECT status, attempts FROM deliveries WHERE id = 5")" \
    "PENDING|0" "the held row waits, no attempt counted"
n=$(wc -l < "$T/wh.log")

# The secret arrives; the row goes at its next turn.
printf '%s\n' "$SECRET" > "$D/secrets/webhook-hr"
chmod 600 "$D/secrets/webhook-hr"
CORP_NOW=2026-03-02T09:05:00Z run corp-deliver run --channel webhook \
    --allow-http --until-empty
is "$rc" 0 "run exits 0"
is "$(verify "$n")" "/hooks/hr 5 TASK_CREATED Hiring plan cyd Cyd executor executor signed" \
    "hr gets it, signed with its own secret"
is "$(sql "SELECT status FROM deliveries WHERE id = 5")" SENT "row 5 SENT"

# An endpoint removed from webhooks.conf holds its rows too.
sed -i '/^hr /d' "$D/webhooks.conf"
q corp-task create --as admin --title "Offboarding" --assignee cyd
q corp-event route
run sh -c 'CORP_NOW=2026-03-02T09:06:00Z corp-deliver pending --channel webhook |
    corp-fmt | CORP_NOW=2026-03-02T09:06:00Z corp-send webhook --allow-http \
    --allow 127.0.0.1 | corp-deliver ack'
is "$(printf '%s\n' "$out" | jq -c 'select(.login == "cyd") |
    [.result, .attempted, .error_class, .error]')" \
    "[\"retry\",false,\"config\",\"no webhook endpoint \\\"hr\\\" in $D/webhooks.conf\"]" \
    "an endpoint no longer defined holds the line"

# Deactivating one user's bind leaves the others on the endpoint alone.
ok "ann deactivates" corp-bind deactivate --user ann --channel webhook
ok "and binds crm again" corp-bind add --user ann --channel webhook --address crm
is "$(sql "SELECT count(*) FROM binds WHERE channel = 'webhook' AND
    address = 'crm' AND active = 1")" 2 "crm still has two active binds"

# The receiver refuses a request signed with another key: 401, failed.
printf 'whsec_%s\n' "$(printf 'another key of 24 bytes!' | base64)" \
    > "$D/secrets/webhook-crm"
q corp-task create --as admin --title "Forged" --assignee ann
q corp-event route
n=$(wc -l < "$T/wh.log")
run sh -c 'CORP_NOW=2026-03-02T09:07:00Z corp-deliver pending --channel webhook |
    corp-fmt | CORP_NOW=2026-03-02T09:07:00Z corp-send webhook --allow-http \
    --allow 127.0.0.1 | corp-deliver ack'
is "$(printf '%s\n' "$out" | jq -c 'select(.event.title == "Forged") |
    [.login, .result, .error]' | sort | tr '\n' ' ')" \
    '["ann","failed","webhook: HTTP 401"] ["bob","failed","webhook: HTTP 401"] ' \
    "a wrong key is refused by the receiver"
is "$(tail -n +$((n + 1)) "$T/wh.log" | jq -c '[.status, .verified]' | sort -u)" \
    '[401,false]' "which says it could not verify them"

done_testing
