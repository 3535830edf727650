#!/bin/sh
# The push channel end to end (issue 19, "Web Push"): corp-settings push
# keygen/show and push.subject, corp-bind add --channel push from the
# PushSubscription a browser (tests/fakes/fake-push subscribe) prints,
# corp-deliver run --channel push and corp-send push to the fake push
# service, which checks the VAPID token and decrypts the message with
# python3-cryptography: the plaintext is what corp meant.  404/410 ->
# the subscription deactivated and the row waits; 429 with Retry-After
# -> retry; the SSRF rule at bind and at send time; no key or token in
# any output.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
FP="$CORP_SRC/tests/fakes/fake-push"
/usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
    bail "python3-cryptography is not installed (make deps)"

mkdir -m 700 "$T/subs"
cat > "$T/script" <<'J'
{"id":"gone","status":410}
{"id":"gone2","status":404}
{"id":"busy","status":429,"retry_after":120,"count":1}
J
start_fake push "$FP" --dir "$T/subs" --log "$T/push.log" \
    --script "$T/script"
B="http://127.0.0.1:$port"

# 1. The VAPID key pair.
run corp-settings push show
is "$rc" 67 "show before keygen: not found"
is "$err" "corp-settings: no VAPID key pair; make one with: corp-settings push keygen" \
    "it says how to make one"
run corp-settings push keygen
is "$rc" 0 "keygen"
PUB=$(printf '%s' "$out" | jq -r .public_key)
like "$PUB" '^B[A-Za-z0-9_-]{86}$' "prints the public key: a base64url P-256 point"
is "$(printf '%s' "$out" | jq -c .subject)" null "no subject yet"
K="$CORP_DATA_DIR/secrets/vapid.pem"
is "$(stat -c %a "$K"):$(stat -c %a "$CORP_DATA_DIR/secrets")" "600:700" \
    "the private key is 0600 in secrets/ (0700)"
is "$(head -1 "$K")" "-----BEGIN PRIVATE KEY-----" "PKCS#8 PEM"
cp "$K" "$T/key1"
run corp-settings push keygen
is "$rc" 79 "a second keygen is refused"
like "$err" "secrets/vapid.pem exists: .*replace it with --force" "naming --force"
cmp -s "$K" "$T/key1"
is "$?" 0 "the key is unchanged"
ls -a "$CORP_DATA_DIR/secrets" > "$T/ls"
is "$(grep -c tmp "$T/ls")" 0 "no temporary file left"
run corp-settings push keygen --force
is "$rc" 0 "--force replaces it"
PUB2=$(printf '%s' "$out" | jq -r .public_key)
isnt "$PUB2" "$PUB" "a new key pair"
PUB=$PUB2
run corp-settings push show
is "$(printf '%s' "$out" | jq -r .public_key)" "$PUB" "show prints the public key"
rm -f "$T/ls"
ln -s "$T/key1" "$T/link"

# push.subject: mailto: or https only.
run corp-settings config set push.subject ops
is "$rc" 65 "a subject that is neither mailto: nor https is refused"
like "$err" "push.subject: VAPID subject \"ops\": must be a mailto: or https: URI" \
    "naming the rule"
ok "subject" corp-settings config set push.subject mailto:ops@example.com
run corp-settings push show
is "$out" "{\"public_key\":\"$PUB\",\"subject\":\"mailto:ops@example.com\"}" \
    "show: the public key and the subject"

# 2. Users and their subscriptions.
corp-org add sales --title Sales >/dev/null || bail "org"
for u in ann bob; do
	corp-user add $u --name "$(echo $u | sed 's/./\U&/')" --unit sales \
	    >/dev/null || bail "user $u"
done
corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel push >/dev/null || bail "setting"
# prun CMD...: run, keeping stderr for the secrets check (section 9)
prun() { run "$@"; printf '%s\n' "$err" >> "$T/corp.err"; }
prun_in() { run_in "$@"; printf '%s\n' "$err" >> "$T/corp.err"; }
# rid LOGIN: the user's latest row on push
rid() { sql "SELECT max(id) FROM deliveries WHERE channel = 'push' AND user_id = (SELECT id FROM users WHERE login = '$1')"; }
subscribe() {	# subscribe ID: $T/ID.sub, the PushSubscription
	"$FP" subscribe --dir "$T/subs" --port-file "$T/push.port" \
	    --id "$1" --vapid-key "$PUB" > "$T/$1.sub" || bail "subscribe $1"
}
for id in a1 a2 gone gone2 busy b1; do subscribe $id; done

prun_in "$T/a1.sub" corp-bind add --user ann --channel push
is "$rc" 65 "an http:// endpoint without --allow-http is refused"
is "$err" 'corp-bind: push subscription "endpoint": must be an https URL (http:// only with --allow-http)' \
    "it says https, and what allows http"
prun_in "$T/a1.sub" corp-bind add --user ann --channel push --allow-http
is "$rc" 77 "a loopback endpoint is refused by the SSRF rule"
is "$err" "corp-bind: push endpoint host 127.0.0.1: 127.0.0.1 is a loopback address (allow it with config webhook.allow)" \
    "naming the address and the setting"
is "$(sql "SELECT count(*) FROM push_subscriptions")" 0 "nothing bound"
ok "allow" corp-settings config set webhook.allow 127.0.0.1/32
prun_in "$T/a1.sub" corp-bind add --user ann --channel push --allow-http
is "$rc" 0 "bound from stdin"
is "$(printf '%s' "$out" | jq -c '[.login, .channel, .address, .active, .subscriptions]')" \
    "[\"ann\",\"push\",\"$B/push/a1\",true,1]" "the bind: the endpoint, one subscription"
ok "a2" corp-bind add --user ann --channel push --allow-http --subscription "$T/a2.sub"
is "$(printf '%s' "$out" | jq .subscriptions)" 2 "a second browser: two subscriptions"
ok "gone" corp-bind add --user ann --channel push --allow-http --subscription "$T/gone.sub"
run corp-bind add --user bob --channel push --allow-http --subscription "$T/a1.sub"
is "$rc" 79 "another user's endpoint is refused"
ok "b1" corp-bind add --user bob --channel push --allow-http --subscription "$T/b1.sub"
is "$(sql "SELECT u.login, p.endpoint, p.active FROM push_subscriptions p JOIN users u ON u.id = p.user_id ORDER BY 1, 2" | sed "s|$B||")" \
    "ann|/push/a1|1
ann|/push/a2|1
ann|/push/gone|1
bob|/push/b1|1" "one row per endpoint"
printf '{"endpoint":"%s/push/x","keys":{"p256dh":"AAAA","auth":"AAAA"}}' \
    "$B" > "$T/bad.sub"
prun_in "$T/bad.sub" corp-bind add --user bob --channel push --allow-http
is "$rc" 65 "bad keys are refused"
like "$err" '^corp-bind: .*push subscription "keys' "naming the field"
# --allow-http is for a loopback host only, as the webhook and the Bot
# API (sec-review-5 item 4): an allowed address in clear would carry the
# VAPID JWT and the payload's metadata.
ok "allow a test net" corp-settings config set webhook.allow 127.0.0.1/32,192.0.2.0/24
jq -c '.endpoint = "http://192.0.2.2:9/x"' "$T/b1.sub" > "$T/far.sub"
prun_in "$T/far.sub" corp-bind add --user bob --channel push --allow-http
is "$rc:$err" '65:corp-bind: push subscription "endpoint": plain http:// only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://' \
    "an http:// endpoint on an allowed non-loopback address: refused"
jq -c '.endpoint = "http://127.0.0.1.nip.io:9/x"' "$T/b1.sub" > "$T/far.sub"
prun_in "$T/far.sub" corp-bind add --user bob --channel push --allow-http
is "$rc" 65 "  a name that merely starts like a loopback address too"
is "$(sql "SELECT count(*) FROM push_subscriptions WHERE endpoint LIKE '%:9/x'")" 0 \
    "  nothing bound"
ok "allow loopback only" corp-settings config set webhook.allow 127.0.0.1/32

# 3. A task for ann: corp-deliver run --channel push.
corp-task create --as admin --title "Report <Q1> & \"plan\"" --assignee ann \
    >/dev/null && corp-event route >/dev/null || bail "task 1"
: > "$T/push.log"
prun corp-deliver run --channel push --allow-http --until-empty
is "$rc" 0 "run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry, .unbound]')" \
    "[1,1,0,0]" "one row, sent"
is "$(jq -r '[.id, .status] | @tsv' "$T/push.log" | sort | tr '\n' ' ')" \
    "a1	201 a2	201 gone	410 " "to each of ann's three subscriptions; gone answered 410"
eid=$(sql "SELECT event_id FROM deliveries WHERE id = $(rid ann)")
plain=$(jq -r 'select(.id == "a1") | .plaintext' "$T/push.log")
is "$(printf '%s' "$plain" | jq -c 'keys_unsorted')" '["title","body","url","tag"]' \
    "the payload: title, body, url, tag"
is "$(printf '%s' "$plain" | jq -r .tag)" "$eid" "tag: the event id"
like "$(printf '%s' "$plain" | jq -r .body)" 'Report <Q1> & "plan"' \
    "body: plain text, not HTML-escaped"
is "$(jq -r 'select(.id == "a2") | .plaintext' "$T/push.log")" "$plain" \
    "a2 decrypted the same message"
is "$(jq -r 'select(.id == "a1") | [.headers.ttl, .headers.urgency, .headers["content-encoding"], .vapid.sub, .vapid.aud] | @tsv' "$T/push.log")" \
    "86400	normal	aes128gcm	mailto:ops@example.com	$B" \
    "p2p: TTL 86400, Urgency normal; VAPID sub and aud"
is "$(sql "SELECT status FROM deliveries WHERE id = $(rid ann)")" SENT "the row SENT"
is "$(sql "SELECT p.endpoint, p.active, coalesce(p.deactivated_by, '-') FROM push_subscriptions p WHERE user_id = (SELECT id FROM users WHERE login = 'ann') ORDER BY 1" | sed "s|$B||" | tr '\n' ' ')" \
    "/push/a1|1|- /push/a2|1|- /push/gone|0|delivery " \
    "the 410 subscription deactivated by the delivery, the others active"
is "$(sql "SELECT active FROM binds WHERE channel = 'push' AND user_id = (SELECT id FROM users WHERE login = 'ann')")" 1 \
    "ann's bind stays active"

# 4. 429 with Retry-After: retry, then sent.  bob's one subscription.
ok "bob off" corp-bind deactivate --user bob --channel push
is "$(sql "SELECT count(*) FROM push_subscriptions WHERE active = 1 AND user_id = (SELECT id FROM users WHERE login = 'bob')")" 0 \
    "deactivating the bind deactivates every subscription"
ok "busy" corp-bind add --user bob --channel push --allow-http --subscription "$T/busy.sub"
is "$(printf '%s' "$out" | jq -c '[.active, .subscriptions]')" "[true,1]" \
    "bob: one active subscription"
task() {	# task N LOGIN: task N for LOGIN, routed
	corp-task create --as admin --title "Task $1" --assignee $2 >/dev/null &&
	    corp-event route >/dev/null || bail "task $1"
}
task 2 bob
: > "$T/push.log"
prun corp-deliver run --channel push --allow-http --until-empty
is "$rc" 0 "run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry]')" "[1,0,1]" "429: retry"
is "$(sql "SELECT status, attempts, not_before - $(date -d "$CORP_NOW" +%s), error FROM deliveries WHERE id = $(rid bob)" | sed "s|$B|B|")" \
    "PENDING|1|120|push subscription 1 (B): HTTP 429" \
    "an attempt counted, not before the service's Retry-After (120 s > backoff 30 s)"
export CORP_NOW=2026-01-05T10:02:00Z
prun corp-deliver run --channel push --allow-http --until-empty
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent]')" "[1,1]" "after Retry-After: sent"
is "$(jq -r '.status' "$T/push.log" | tr '\n' ' ')" "429 201 " "two requests in all"

# 5. Every subscription gone: unbound, the bind off, the row waits.
corp-user add carl --name Carl --unit sales >/dev/null || bail "carl"
ok "carl" corp-bind add --user carl --channel push --allow-http --subscription "$T/gone2.sub"
task 3 carl
: > "$T/push.log"
prun corp-deliver run --channel push --allow-http --until-empty
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .unbound]')" "[1,0,1]" "404: unbound"
is "$(sql "SELECT status, attempts, readiness FROM deliveries WHERE id = $(rid carl)")" \
    "PENDING|0|waiting_bind" "the row waits for a bind, no attempt used"
is "$(sql "SELECT b.active, b.deactivated_by, p.active, p.deactivated_by FROM binds b JOIN push_subscriptions p ON p.user_id = b.user_id WHERE b.channel = 'push' AND b.user_id = (SELECT id FROM users WHERE login = 'carl')")" \
    "0|delivery|0|delivery" "carl's bind and subscription deactivated by the delivery"
ok "list" corp-bind list --user carl --channel push
is "$(printf '%s' "$out" | jq -c '[.active, .deactivated_by]')" '[false,"delivery"]' \
    "corp-bind list shows it"

# 6. The SSRF rule at send time: the range no longer allowed -> held.
ok "allow other" corp-settings config set webhook.allow 10.0.0.0/8
task 4 ann
: > "$T/push.log"
prun corp-deliver run --channel push --allow-http --until-empty
is "$rc" 78 "held by the configuration: 78"
is "$(sql "SELECT status, attempts FROM deliveries WHERE id = $(rid ann)")" "PENDING|0" \
    "the row kept, no attempt"
like "$(sql "SELECT error FROM deliveries WHERE id = $(rid ann)")" \
    "^push subscription 1 \\(http://127.0.0.1:[0-9]+\\): .*127.0.0.1.*loopback" \
    "the error names the refused address"
is "$(wc -l < "$T/push.log")" 0 "nothing reached the service"
ok "allow again" corp-settings config set webhook.allow 127.0.0.1/32

# 7. The pipe: pending | corp-fmt | corp-send push | ack.
export CORP_NOW=2026-01-05T10:10:00Z
: > "$T/push.log"
corp-deliver pending --channel push > "$T/lines" || bail "pending"
is "$(jq -c '[.delivery_id, (.subscriptions | length), (.subscriptions[0] | keys_unsorted)]' "$T/lines")" \
    "[$(rid ann),2,[\"endpoint\",\"keys\"]]" "the claim puts ann's two active subscriptions in the line"
corp-fmt < "$T/lines" > "$T/fmt" || bail "fmt"
prun_in "$T/fmt" corp-send push --allow-http --allow 127.0.0.1/32
is "$rc" 78 "corp-send push without --subject: the stage is held (78)"
is "$(printf '%s' "$out" | jq -c '[.result, .attempted, .error_class, .error]')" \
    '["retry",false,"config","no VAPID subject (set config push.subject: mailto:ADDRESS or an https URL)"]' \
    "the line is held, naming the setting"
prun_in "$T/fmt" corp-send push --subject mailto:ops@example.com --allow-http \
    --allow 127.0.0.1/32
is "$rc" 0 "corp-send push"
is "$(printf '%s' "$out" | jq -c '[.result, .attempted]')" '["sent",true]' "sent"
printf '%s\n' "$out" | corp-deliver ack > /dev/null || bail "ack"
is "$(sql "SELECT status FROM deliveries WHERE id = $(rid ann)")" SENT "acked SENT"
is "$(jq -r .status "$T/push.log" | tr '\n' ' ')" "201 201 " "to both subscriptions"
# corp-send push --allow-http: plain http:// to a loopback host only,
# whatever --allow allows (sec-review-5 item 4).
jq -c '.subscriptions = [.subscriptions[0] | .endpoint = "http://192.0.2.2:9/x"]' \
    "$T/fmt" > "$T/far"
prun_in "$T/far" corp-send push --subject mailto:ops@example.com --allow-http \
    --allow 192.0.2.0/24
is "$rc:$(printf '%s' "$out" | jq -c '[.result, .attempted, .error]')" \
    '0:["failed",false,"push subscription 1: push subscription \"endpoint\": plain http:// only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://"]' \
    "an http:// endpoint on an allowed non-loopback address: never posted"

# 7b. A push service that cannot be reached: retry, not attempted, and
# its origin pauses (30 s, then longer) as the other senders' endpoints.
"$FP" subscribe --dir "$T/subs" --base http://127.0.0.1:1 --id d1 \
    > "$T/d1.sub" || bail "subscribe d1"
corp-user add dave --name Dave --unit sales >/dev/null || bail "dave"
ok "dave" corp-bind add --user dave --channel push --allow-http --subscription "$T/d1.sub"
task 5 dave
prun corp-deliver run --channel push --allow-http --until-empty
is "$(sql "SELECT status, attempts, not_before - $(date -d "$CORP_NOW" +%s) FROM deliveries WHERE id = $(rid dave)")" \
    "PENDING|0|30" "unreachable: PENDING, no attempt, back in 30 s"
like "$(sql "SELECT error FROM deliveries WHERE id = $(rid dave)")" \
    '^push subscription 1 \(http://127.0.0.1:1\): .* \(unreachable: paused 30s\)$' \
    "the error says the origin paused"
export CORP_NOW=2026-01-05T10:10:31Z
prun corp-deliver run --channel push --allow-http --until-empty
like "$(sql "SELECT error FROM deliveries WHERE id = $(rid dave)")" \
    '\(unreachable: paused 60s\)$' "still down: the pause doubles"
export CORP_NOW=2026-01-05T10:10:40Z
ok "dave off" corp-bind deactivate --user dave --channel push

# 8. Urgency and TTL from the priority; a long body is cut, never the JSON.
long=$(awk 'BEGIN { for (i = 0; i < 800; i++) printf "Ünïcødé "; }')
jq -c --arg t "$long" '.text = $t | .priority = "urgent"' "$T/fmt" > "$T/long"
: > "$T/push.log"
prun_in "$T/long" corp-send push --subject mailto:ops@example.com --allow-http \
    --allow 127.0.0.1/32
is "$(printf '%s' "$out" | jq -r .result)" sent "a body of $(printf '%s' "$long" | wc -c) bytes: sent"
p=$(jq -r 'select(.id == "a1") | .plaintext' "$T/push.log")
is "$(printf '%s' "$p" | jq -r '.body | endswith("…")')" true "the body is cut and ends in …"
is "$(printf '%s' "$p" | wc -c | awk '$1 <= 3993 && $1 > 3900 { print "fits" }')" fits \
    "the payload fits one record (at most 3993 bytes) and uses it"
is "$(jq -r 'select(.id == "a1") | [.headers.urgency, .headers.ttl] | @tsv' "$T/push.log")" \
    "high	86400" "urgent: Urgency high"
jq -c '.priority = "broadcast"' "$T/fmt" > "$T/bc"
: > "$T/push.log"
prun_in "$T/bc" corp-send push --subject mailto:ops@example.com --allow-http \
    --allow 127.0.0.1/32
is "$(jq -r 'select(.id == "a1") | [.headers.urgency, .headers.ttl] | @tsv' "$T/push.log")" \
    "low	43200" "broadcast: Urgency low, TTL 43200"

# 9. No key, auth secret or token anywhere in what corp printed.
secrets=$(jq -r '.keys.auth, .keys.p256dh' "$T"/*.sub | sort -u)
grep -rl -F -f /dev/stdin "$T"/*.err "$T/push.log" <<EOS > "$T/leaks" || true
$secrets
EOS
is "$(cat "$T/leaks")" "" "no subscription key in corp's stderr or the fake's log"
is "$(grep -c . "$T/corp.err" | awk '$1 > 5 { print "some" }')" some \
    "(corp's stderr was collected: there is something to search)"
is "$(grep -c -e 'vapid t=' -e 'PRIVATE KEY' -e "$(sed -n 2p "$K" | cut -c1-24)" "$T"/*.err "$T/push.log" | grep -v ':0$')" "" \
    "no VAPID token or private key either"
is "$(grep -c secret_seen "$T/push.log")" 0 "the fake saw no secret in a message"
done_testing
