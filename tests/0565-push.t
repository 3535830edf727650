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
subscribe() {	# subscribe ID: $T/ID.sub, the PushSubscription
	"$FP" subscribe --dir "$T/subs" --port-file "$T/push.port" \
	    --id "$1" --vapid-key "$PUB" > "$T/$1.sub" || bail "subscribe $1"
}
for id in a1 a2 gone busy b1; do subscribe $id; done

run_in "$T/a1.sub" corp-bind add --user ann --channel push
is "$rc" 65 "an http:// endpoint without --allow-http is refused"
like "$err" "https" "it says https"
run_in "$T/a1.sub" corp-bind add --user ann --channel push --allow-http
is "$rc" 77 "a loopback endpoint is refused by the SSRF rule"
is "$err" "corp-bind: push endpoint host 127.0.0.1: 127.0.0.1 is a loopback address (allow it with config webhook.allow)" \
    "naming the address and the setting"
is "$(sql "SELECT count(*) FROM push_subscriptions")" 0 "nothing bound"
ok "allow" corp-settings config set webhook.allow 127.0.0.1/32
run_in "$T/a1.sub" corp-bind add --user ann --channel push --allow-http
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
run_in "$T/bad.sub" corp-bind add --user bob --channel push --allow-http
is "$rc" 65 "bad keys are refused"
like "$err" '^corp-bind: .*push subscription "keys' "naming the field"

# 3. A task for ann: corp-deliver run --channel push.
corp-task create --as admin --title "Report <Q1> & \"plan\"" --assignee ann \
    >/dev/null && corp-event route >/dev/null || bail "task 1"
: > "$T/push.log"
run corp-deliver run --channel push --allow-http --until-empty
is "$rc" 0 "run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .retry, .unbound]')" \
    "[1,1,0,0]" "one row, sent"
is "$(jq -r '[.id, .status] | @tsv' "$T/push.log" | sort | tr '\n' ' ')" \
    "a1	201 a2	201 gone	410 " "to each of ann's three subscriptions; gone answered 410"
eid=$(sql "SELECT event_id FROM deliveries WHERE id = 1")
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
is "$(sql "SELECT status FROM deliveries WHERE id = 1")" SENT "the row SENT"
is "$(sql "SELECT p.endpoint, p.active, coalesce(p.deactivated_by, '-') FROM push_subscriptions p WHERE user_id = (SELECT id FROM users WHERE login = 'ann') ORDER BY 1" | sed "s|$B||" | tr '\n' ' ')" \
    "/push/a1|1|- /push/a2|1|- /push/gone|0|delivery " \
    "the 410 subscription deactivated by the delivery, the others active"
is "$(sql "SELECT active FROM binds WHERE channel = 'push' AND user_id = (SELECT id FROM users WHERE login = 'ann')")" 1 \
    "ann's bind stays active"

# 4. 429 with Retry-After: retry; then bob's every subscription gone.
ok "busy" corp-bind add --user bob --channel push --allow-http --subscription "$T/busy.sub"
ok "off b1" sql "SELECT 1"
