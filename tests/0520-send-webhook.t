#!/bin/sh
# corp-send webhook: Standard Webhooks signatures (checked here with
# python3's hmac against the fake's log), status mapping, the SSRF rule
# (IANA special-purpose ranges, IPv4 embedded in IPv6) and --allow, the
# URL rule (plain http only to loopback, no userinfo), endpoint
# configuration and secrets.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR" "$CORP_DATA_DIR/secrets"
cat > "$T/script" <<'J'
{"path":"/gone","status":410}
{"path":"/busy","status":429,"headers":{"Retry-After":"30"}}
{"path":"/down","status":503}
{"path":"/moved","status":302,"location":"http://127.0.0.1:1/elsewhere"}
{"path":"/bad","status":400}
J
start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" --log "$T/wh.log" \
    --script "$T/script"
B="http://127.0.0.1:$port"
cat > "$CORP_DATA_DIR/webhooks.conf" <<EOF
# name   URL
crm      $B/hook?src=corp
gone     $B/gone
busy     $B/busy
down     $B/down
moved    $B/moved
bad      $B/bad
local    http://localhost:$port/hook
tls      https://127.0.0.1:$port/hook
nosecret $B/hook
EOF
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
for n in crm gone busy down moved bad local tls; do
	printf '%s\n' "$SECRET" > "$CORP_DATA_DIR/secrets/webhook-$n"
done
chmod 600 "$CORP_DATA_DIR"/secrets/*

{
	dline 1 crm "" webhook | jq -c '.event.title = "Отчёт & <co>"'
	dline 2 gone "" webhook
	dline 3 busy "" webhook
	dline 4 down "" webhook
	dline 5 moved "" webhook
	dline 6 bad "" webhook
	dline 7 nosuch "" webhook
	dline 8 ../etc "" webhook
	dline 9 nosecret "" webhook
	dline 10 tls "" webhook
} > "$T/in"
now=$(date +%s)
run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
is "$rc" 0 "exit 0"
is "$(acks)" '[1,"sent",null,null,true,null]
[2,"unbound",null,"webhook: HTTP 410 Gone",true,null]
[3,"retry",null,"webhook: HTTP 429",true,30]
[4,"retry",null,"webhook: HTTP 503",true,null]
[5,"failed",null,"webhook: HTTP 302 redirect not followed",true,null]
[6,"failed",null,"webhook: HTTP 400",true,null]
[7,"retry",null,"no webhook endpoint \"nosuch\" in '"$CORP_DATA_DIR"'/webhooks.conf",false,60]
[8,"failed",null,"address is not a webhook endpoint name ([A-Za-z0-9_.-]+)",false,null]
[9,"retry",null,"secret webhook-nosecret: no file '"$CORP_DATA_DIR"'/secrets/webhook-nosecret (this secret is read only from its file)",false,60]
[10,"retry",null,"'"$(printf '%s\n' "$out" | sed -n 10p | jq -r .error)"'",false,30]' \
    "each answer becomes its ack"
like "$(printf '%s\n' "$out" | sed -n 10p | jq -r .error)" "^webhook: .*(SSL|TLS|ssl|tls).* \(unreachable: paused 30s\)$" \
    "plain HTTP where TLS was expected: a TLS error, never reached the server"
is "$(printf '%s\n' "$out" | jq -c '[.delivery_id, .error_class]' | tr '\n' ' ')" \
    "[1,null] [2,null] [3,null] [4,null] [5,null] [6,null] [7,\"config\"] [8,null] [9,\"config\"] [10,\"unreachable\"] " \
    "an undefined endpoint and a missing secret are held by the configuration; only the failed handshake is unreachable"
is "$(grep -c '"path":"/moved"' "$T/wh.log"):$(grep -c elsewhere "$T/wh.log")" \
    "1:0" "the redirect was not followed"

# The request: body = the event, compact, with the recipient added at
# the end; headers per Standard Webhooks.
first=$(head -1 "$T/wh.log")
is "$(printf '%s' "$first" | jq -r .path)" "/hook?src=corp" "the endpoint's URL"
is "$(printf '%s' "$first" | jq -r .body)" "$(head -1 "$T/in" | jq -c '.event +
    {recipient: {user_id, login, name, role}}')" \
    "the body is the line's event, compact, in order, then the recipient"
is "$(printf '%s' "$first" | jq -r '.headers["webhook-id"]')" 1 \
    "webhook-id is the delivery id"
is "$(printf '%s' "$first" | jq -r '.headers["content-type"]')" \
    "application/json" "content-type"
ts=$(printf '%s' "$first" | jq -r '.headers["webhook-timestamp"]')
is "$(( ts >= now - 5 && ts <= now + 60 ))" 1 "webhook-timestamp is the real clock"
is "$(/usr/bin/python3 - "$T/wh.log" "$SECRET" <<'PY'
import base64, hashlib, hmac, json, sys
key = base64.b64decode(sys.argv[2].split("_", 1)[1])
bad = 0
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    h = e["headers"]
    msg = f'{h["webhook-id"]}.{h["webhook-timestamp"]}.{e["body"]}'
    want = "v1," + base64.b64encode(hmac.new(key, msg.encode(),
                                             hashlib.sha256).digest()).decode()
    n += 1
    bad += h["webhook-signature"] != want
print(f"{n} {bad}")
PY
)" "6 0" "every signature verifies (python3 hmac)"

# SSRF: loopback refused unless allowed; nothing is sent.
before=$(wc -l < "$T/wh.log")
{ dline 20 crm "" webhook; dline 21 local "" webhook; } > "$T/in"
run_in "$T/in" corp-send webhook --allow-http
# The allow list is the operator's configuration: a refusal holds the
# row (config) and names what allows the range here (OP 19).
is "$(acks | sed -n 1p)" '[20,"retry",null,"webhook: 127.0.0.1 resolves to 127.0.0.1, a loopback address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)",false,60]' \
    "a loopback target is refused after resolution, held, naming --allow"
is "$(printf '%s\n' "$out" | jq -r .error_class | sort -u)" config \
    "as a configuration error, never dead-lettered"
like "$(acks | sed -n 2p)" '^\[21,"retry",null,"webhook: localhost resolves to (127.0.0.1|::1), a loopback address' \
    "so is a name that resolves to loopback"
run_in "$T/in" corp-send webhook --allow-http --allow 10.0.0.0/8 --allow fd00::/8
is "$(acks | jq -r '.[1]' | sort -u)" "retry" "other allowed ranges do not help"
is "$(wc -l < "$T/wh.log")" "$before" "nothing reached the receiver"
run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8 --allow ::1
is "$(acks | jq -r '.[1]' | sort -u)" "sent" "--allow 127.0.0.0/8 lets both through"
is_rc 64 "a bad --allow is usage" corp-send webhook --allow 10.0.0.0/99

# https:// only without --allow-http; http:// only to a loopback host,
# decided on libcurl's parse; no user or password in the URL.  An
# endpoint the operator must fix is held (config), not failed.
dline 30 crm "" webhook > "$T/in"
run_in "$T/in" corp-send webhook --allow 127.0.0.0/8
is "$(acks | jq -c '.[1:6]')" '["retry",null,"webhook endpoint crm: expected an https:// URL (http:// only to a loopback host, with --allow-http)",false,60]' \
    "an http:// endpoint needs --allow-http (held: retry, not attempted)"
is "$(printf '%s' "$out" | jq -r .error_class)" config "error_class config"
cat >> "$CORP_DATA_DIR/webhooks.conf" <<EOF
lan      http://10.1.2.3/hook
trick    http://127.0.0.1@crm.example.com/hook
dotted   http://localhost.evil.example/hook
withpw   https://crm:Hunter2-PW@crm.example.com/hook
EOF
for n in lan trick dotted withpw; do
	printf '%s\n' "$SECRET" > "$CORP_DATA_DIR/secrets/webhook-$n"
done
chmod 600 "$CORP_DATA_DIR"/secrets/*
{ dline 31 lan "" webhook; dline 32 trick "" webhook; dline 33 dotted "" webhook;
  dline 34 withpw "" webhook; } > "$T/in"
run_in "$T/in" corp-send webhook --allow-http --allow 0.0.0.0/0
is "$(acks | jq -c '.[1:2] + .[4:6]' | sort -u)" '["retry",false,60]' \
    "each is held as a configuration error"
is "$(printf '%s\n' "$out" | jq -r .error)" "webhook endpoint lan: plain http:// only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://
webhook endpoint trick: a user name in the URL (user@host) is refused: give the user with its own option, the password as a secret
webhook endpoint dotted: plain http:// only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://
webhook endpoint withpw: a password in the URL (user:password@host) is refused: it would show in process lists and files; the password comes from a secret only" \
    "plain http is decided on the parsed host, userinfo refused"
unlike "$out$err" "Hunter2" "the password in the URL is in no output"

# SSRF through IPv6 forms that embed an IPv4 address, and the IANA
# special-purpose ranges: refused after resolution, nothing sent.
cat >> "$CORP_DATA_DIR/webhooks.conf" <<EOF
nat64    https://[64:ff9b::a9fe:a9fe]:$port/hook
sixto4   https://[2002:7f00:1::]:$port/hook
compat   https://[::127.0.0.1]:$port/hook
bench    https://198.18.0.1:$port/hook
doc6     https://[3fff::1]:$port/hook
mapped   http://[::ffff:127.0.0.1]:$port/hook
EOF
for n in nat64 sixto4 compat bench doc6 mapped; do
	printf '%s\n' "$SECRET" > "$CORP_DATA_DIR/secrets/webhook-$n"
done
chmod 600 "$CORP_DATA_DIR"/secrets/*
before=$(wc -l < "$T/wh.log")
{ dline 40 nat64 "" webhook; dline 41 sixto4 "" webhook;
  dline 42 compat "" webhook; dline 43 bench "" webhook;
  dline 44 doc6 "" webhook; dline 45 mapped "" webhook; } > "$T/in"
run_in "$T/in" corp-send webhook --allow-http
is "$(printf '%s\n' "$out" | jq -r .error)" "webhook: 64:ff9b::a9fe:a9fe resolves to 64:ff9b::a9fe:a9fe (NAT64, embedding 169.254.169.254), a link-local address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)
webhook: 2002:7f00:1:: resolves to 2002:7f00:1:: (6to4, embedding 127.0.0.1), a loopback address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)
webhook: ::127.0.0.1 resolves to ::127.0.0.1 (IPv4-compatible, embedding 127.0.0.1), a loopback address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)
webhook: 198.18.0.1 resolves to 198.18.0.1, a benchmarking address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)
webhook: 3fff::1 resolves to 3fff::1, a documentation address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)
webhook: ::ffff:127.0.0.1 resolves to ::ffff:127.0.0.1 (IPv4-mapped, embedding 127.0.0.1), a loopback address (refused unless allowed by --allow CIDR of corp-send; corp-pipeline passes config webhook.allow)" \
    "the embedded IPv4 address is judged as IPv4; special-purpose ranges refused"
is "$(acks | jq -c '.[1:2] + .[4:6]' | sort -u)" '["retry",false,60]' \
    "held, not attempted"
is "$(wc -l < "$T/wh.log")" "$before" "nothing reached the receiver"
if [ -s /proc/net/if_inet6 ]; then
	dline 46 mapped "" webhook > "$T/in"
	run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
	is "$(acks | jq -c '.[1]')" '"sent"' \
	    "an IPv4-mapped address is allowed by the IPv4 range that holds it"
else
	skip "no IPv6 on this host"
fi
dline 30 crm "" webhook > "$T/in"

# One rule for a secret (OP 4, SEC 7): whsec_ and the base64 of 24 to 64
# bytes.  Anything else is the operator's to fix: the line is held
# (config), never failed into the dead-letter queue; the value is never
# shown.
for bad in 'whsec_CANARY!!' 'not base64!!' 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' 'whsec_YWJj'; do
	printf '%s\n' "$bad" > "$CORP_DATA_DIR/secrets/webhook-crm"
	run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
	is "$rc:$(acks | jq -c '.[1:6]')" "0:[\"retry\",null,\"$CORP_DATA_DIR/secrets/webhook-crm: not a webhook secret (expected whsec_ followed by the base64 of 24 to 64 bytes, as Standard Webhooks gives it; a raw secret is not accepted; the value is not shown)\",false,60]" \
	    "secret '$bad': held, naming the file and the rule"
	is "$(printf '%s' "$out" | jq -r .error_class)" config "  (config)"
	unlike "$out$err" "CANARY|base64!!|MfKQ9r8G|YWJj" "  the value is in no output"
done
printf '%s\n' "$SECRET" > "$CORP_DATA_DIR/secrets/webhook-crm"

# A webhooks.conf others may write, or a readable secret: the stage stops.
chmod 620 "$CORP_DATA_DIR/webhooks.conf"
run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
is "$rc:$(acks | jq -c '.[1:5]')" "77:[\"retry\",null,\"$CORP_DATA_DIR/webhooks.conf: group-writable (mode 620); chmod go-w $CORP_DATA_DIR/webhooks.conf\",false]" \
    "a group-writable webhooks.conf is refused (77)"
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
chmod 644 "$CORP_DATA_DIR/secrets/webhook-crm"
run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
is "$rc:$(acks | jq -c '.[1]')" '77:"retry"' "a world-readable secret is refused (77)"
unlike "$out$err" "MfKQ9r8G" "the secret is in no output"
chmod 600 "$CORP_DATA_DIR/secrets/webhook-crm"

# A malformed line in webhooks.conf: the file and line are named.
cp "$CORP_DATA_DIR/webhooks.conf" "$T/webhooks.conf.good"
printf 'broken\n' >> "$CORP_DATA_DIR/webhooks.conf"
run_in "$T/in" corp-send webhook --allow-http --allow 127.0.0.0/8
n=$(wc -l < "$CORP_DATA_DIR/webhooks.conf")
is "$rc:$(printf '%s\n' "$out" | jq -c '[.result, .error, .attempted,
    .error_class]' | sort -u)" \
    "78:[\"retry\",\"$CORP_DATA_DIR/webhooks.conf:$n: expected NAME URL\",false,\"config\"]" \
    "a malformed line: every row held (78), the error names file:line"
is "$err" "corp-send: $CORP_DATA_DIR/webhooks.conf:$n: expected NAME URL; every remaining line passes on as retry" \
    "and says so once"
cp "$T/webhooks.conf.good" "$CORP_DATA_DIR/webhooks.conf"

done_testing
