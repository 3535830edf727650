#!/bin/sh
# The webhook channel end to end, as an operator sets it up (issue 15
# item 1, and the suite walking the operator's path), with documented
# commands and files only: from corp-db init, webhooks.conf and the secret
# file, corp-bind refusing an endpoint the file does not define (listing
# the defined ones, "did you mean": the likely mistake), several users
# bound to one endpoint, route, then delivery through the pipe of corp(7)
# (with the cursor) and through corp-deliver run; the fake receiver's log
# checked: every signature (python3 hmac), the recipient named in each
# body; the receiver verifies each request as a Standard Webhooks
# receiver does; the queue through corp-deliver stats, explain and dlq.
# An endpoint or secret that is missing holds its rows (retry, not
# attempted, error_class config); the repair of refused rows (the key,
# corp-deliver requeue, corp-pipeline(1)); a receiver that is down (rows
# wait, no attempt used, nothing in the dead-letter queue).  (It was 0525-webhook-path.t.)
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
. "$CORP_SRC/tests/e2e-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z
D=$CORP_DATA_DIR
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
FAKE_WEBHOOK_SECRET=$SECRET start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" \
    --log "$T/wh.log"
B="http://127.0.0.1:$port"

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
is_rc 64 "no webhooks.conf: refused" corp-bind add --user ann \
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

is_rc 64 "a misspelt endpoint is refused" corp-bind add --user ann \
    --channel webhook --address crn
is "$err" "corp-bind: webhook endpoint 'crn' is not defined in $D/webhooks.conf (defined: crm, hr); did you mean 'crm'?" \
    "lists the defined endpoints and suggests the closest"
is_rc 64 "an unknown endpoint is refused" corp-bind add --user ann \
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
	/usr/bin/python3 - "$T/wh.log" "$SECRET" "$1" <<'PY'
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
pipe webhook --allow-http --allow 127.0.0.0/8
is "$rc:$err" "0 0 0 0 0:" "every stage of the pipe exits 0, quietly"
is "$(verify 0 | sort)" "/hooks/crm 1 TASK_CREATED Quarterly report ann Ann executor executor signed
/hooks/crm 2 TASK_CREATED Quarterly report bob Bob supervisor supervisor signed" \
    "crm got one signed POST per recipient, each naming its user"
is "$(sql "SELECT d.id, u.login, d.status, d.attempts FROM deliveries d
    JOIN users u ON u.id = d.user_id WHERE d.channel = 'webhook'
    ORDER BY d.id" | tr '\n' ' ')" "1|ann|SENT|1 2|bob|SENT|1 " \
    "both rows SENT"
is "$(corp-cursor get --channel webhook)" "1:3" "the cursor moved"
is "$(explained 1 bob webhook)" '["created","crm","SENT",1,["sent"]]' \
    "explain: bob's row was created, bound to crm, sent at the first attempt"

# Through corp-deliver run, the allowed range from the setting.
q corp-settings config set webhook.allow 127.0.0.0/8
q corp-task create --as admin --title "Budget" --assignee bob
q corp-event route
run corp-deliver run --channel webhook --allow-http --until-empty
is "$rc" 0 "run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .failed, .held, .dlq]')" \
    "[1,1,0,0,0]" "its summary: one claimed, one sent"
is "$err" "2026-03-02T09:00:00.000Z corp-deliver: webhook: sent 1 retry 0 failed 0 held 0" \
    "and the line for cron"
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

is "$(dlq_rows | sort)" "ann webhook webhook: HTTP 401
bob webhook webhook: HTTP 401" "dlq: both, with the receiver's answer"
is "$(queue webhook)" "FAILED ready 2, PENDING ready 1, SENT ready 6" \
    "stats: the two refused, cyd's held on the removed endpoint, six sent"

# The repair: the right key back, hr back in webhooks.conf, the refused
# rows requeued from the dead-letter queue; all out with the next
# corp-pipeline(1) cycle (the allowed range from webhook.allow).
printf '%s\n' "$SECRET" > "$D/secrets/webhook-crm"
echo "hr      $B/hooks/hr" >> "$D/webhooks.conf"
ok "the operator requeues the failed rows" corp-deliver requeue \
    --channel webhook --all-failed
is "$out" '{"requeued":2}' "both"
n=$(wc -l < "$T/wh.log")
CORP_NOW=2026-03-02T09:08:00Z run corp-pipeline --channel webhook \
    --send-opt --allow-http
is "$rc:$err" "0:" \
    "corp-pipeline exits 0, silently"
is "$(verify "$n" | sort)" "/hooks/crm 8 TASK_CREATED Forged ann Ann executor executor signed
/hooks/crm 9 TASK_CREATED Forged bob Bob supervisor supervisor signed
/hooks/hr 7 TASK_CREATED Offboarding cyd Cyd executor executor signed" \
    "crm got both refused ones, hr cyd's held one, signed"
is "$(corp-deliver dlq)" "" "the dead-letter queue is empty"

# A dead endpoint (here: nothing listens on the port webhooks.conf
# names).  Rows wait, no attempt used, nothing in the dead-letter queue.
start_fake dead "$CORP_SRC/tests/fakes/fake-webhook"
kill "$bgpid"
wait "$bgpid" 2>/dev/null
sed -i "s|^crm .*|crm     http://127.0.0.1:$port/hooks/crm|" "$D/webhooks.conf"
q corp-task create --as admin --title "Outage" --assignee ann
q corp-event route
CORP_NOW=2026-03-02T09:09:00Z run corp-deliver run --channel webhook \
    --allow-http --until-empty
is "$rc" 0 "run exits 0: the rows wait"
is "$(unport "$err")" "2026-03-02T09:09:00.000Z corp-deliver: delivery 10: retry: webhook: Couldn't connect to server: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn't connect to server (unreachable: paused 30s) trace=$(corp-event show 6 | jq -r .trace_id)
2026-03-02T09:09:00.000Z corp-deliver: delivery 11: retry: webhook: Couldn't connect to server: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn't connect to server (unreachable: paused 30s more) trace=$(corp-event show 6 | jq -r .trace_id)
2026-03-02T09:09:00.000Z corp-deliver: webhook: sent 0 retry 2 failed 0 held 0" \
    "the endpoint pauses (the second row is not tried), retries counted"
is "$(explained 6 ann webhook)" '["created","crm","PENDING",0,["retry"]]' \
    "explain: a retry that used no attempt"
is "$(queue webhook)" "PENDING ready 2, SENT ready 9" "stats: nothing failed"
sed -i "s|^crm .*|crm     $B/hooks/crm|" "$D/webhooks.conf"
n=$(wc -l < "$T/wh.log")
CORP_NOW=2026-03-02T09:30:00Z run corp-deliver run --channel webhook \
    --allow-http --until-empty
is "$rc:$err" "0:2026-03-02T09:30:00.000Z corp-deliver: webhook: sent 2 retry 0 failed 0 held 0" \
    "the receiver back, the next run sends them"
is "$(verify "$n" | sort)" "/hooks/crm 10 TASK_CREATED Outage ann Ann executor executor signed
/hooks/crm 11 TASK_CREATED Outage bob Bob supervisor supervisor signed" "signed"
is "$(queue webhook)" "SENT ready 11" "stats: all sent"
done_testing
