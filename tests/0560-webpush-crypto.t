#!/bin/sh
# Web Push cryptography (issue 19): lib/webpush.c, through the test driver
# $CORP_BUILD/tools/webpush-tool, against an independent implementation,
# tests/fakes/fake-push (Python with Debian's python3-cryptography): what
# one encrypts (RFC 8291) and signs (RFC 8292 VAPID), the other decrypts
# and verifies.  Then the fake's own checks, each shown to refuse, and its
# scripted answers (404, 410, 429 with Retry-After, 5xx), so that the
# corp-send tests built on it can trust it.  No database is involved.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

W="${CORP_BUILD:-$CORP_SRC/build}/tools/webpush-tool"
FP="$CORP_SRC/tests/fakes/fake-push"
[ -x "$W" ] || bail "no $W (make check-shell builds it)"
/usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
    bail "python3-cryptography is not installed (make deps)"

mkdir -m 700 "$T/subs"
cat > "$T/script" <<'J'
{"id":"gone","status":410}
{"id":"expired","status":404}
{"id":"busy","status":429,"retry_after":30,"count":1}
{"id":"down","status":503}
{"id":"vanished","status":410}
J
start_fake push "$FP" --dir "$T/subs" --log "$T/push.log" \
    --script "$T/script"
B="http://127.0.0.1:$port"

# 1. The VAPID key pair and a browser's subscription bound to it.
run "$W" keygen "$T/vapid.pem"
is "$rc" 0 "keygen"
like "$out" '^B[A-Za-z0-9_-]{86}$' "the public key: a base64url point"
PUB=$out
is "$(stat -c %a "$T/vapid.pem")" 600 "the private key file is 0600"
is "$(head -1 "$T/vapid.pem")" "-----BEGIN PRIVATE KEY-----" "PKCS#8 PEM"
is "$(openssl pkey -in "$T/vapid.pem" -noout -text 2>/dev/null |
    grep -c 'prime256v1')" 1 "openssl reads it: a P-256 key"

subscribe() {	# subscribe ID [ARGS]: $T/ID.sub, the PushSubscription
	_id=$1
	shift
	"$FP" subscribe --dir "$T/subs" --port-file "$T/push.port" \
	    --id "$_id" "$@" > "$T/$_id.sub" || bail "subscribe $_id failed"
}
subscribe a1 --vapid-key "$PUB"
subscribe a2
for id in gone expired busy down; do subscribe "$id"; done
is "$(jq -r .endpoint "$T/a1.sub")" "$B/push/a1" "the endpoint is on the fake"
is "$(stat -c %a "$T/subs/a1.json")" 600 "the fake keeps its key 0600"
run_in "$T/a1.sub" "$W" sub
is "$rc" 0 "lib/webpush.c accepts the fake's subscription"
is "$out" "$(cat "$T/a1.sub")" "and reads it back unchanged"

# push ID PLAINFILE [CURL ARGS]: encrypt for ID's subscription, sign for
# its endpoint, POST with TTL 60; $code is the status, $T/hdrs the
# answer's headers.  A pure function of its arguments and the keys.
push() {
	_id=$1 _plain=$2
	shift 2
	"$W" encrypt "$T/$_id.sub" < "$_plain" > "$T/body" ||
	    bail "encrypt for $_id failed"
	post "$_id" "$T/body" "$@"
}
# post ID BODYFILE [CURL ARGS]: the POST alone.
post() {
	_ep="$B/push/$1"
	_auth=$("$W" vapid "$T/vapid.pem" "$_ep" mailto:ops@example.com) ||
	    bail "vapid failed"
	_body=$2
	shift 2
	code=$(curl -sS -o "$T/resp" -D "$T/hdrs" -w '%{http_code}' \
	    -H "Authorization: $_auth" -H "TTL: 60" \
	    -H "Content-Encoding: aes128gcm" \
	    -H "Content-Type: application/octet-stream" \
	    --data-binary @"$_body" "$@" "$_ep")
}
last() {	# last JQ: the filter on the log's last line
	tail -1 "$T/push.log" | jq -r "$1"
}

# 2. What lib/webpush.c encrypts, the fake decrypts: text, UTF-8 JSON
# (the payload corp will send), no payload, binary, the 3993-byte limit.
printf 'hello, world' > "$T/p1"
push a1 "$T/p1" -H "Urgency: high" -H "Topic: task-5"
is "$code" 201 "201 Created"
is "$(last .plaintext)" "hello, world" "the fake decrypts it"
is "$(last '[.vapid.aud, .vapid.sub, .vapid.k == "'"$PUB"'",
    .rs, .body_len, .headers.ttl, .headers.urgency, .headers.topic] |
    @json')" '["'"$B"'","mailto:ops@example.com",true,4096,115,"60","high","task-5"]' \
    "the token verified: aud, sub, k; rs 4096; headers"
exp=$(last .vapid.exp)
now=$(date +%s)
if [ "$exp" -gt $((now + 43000)) ] && [ "$exp" -le $((now + 43200)) ]; then
	pass "exp is 12 h ahead"
else
	fail "exp is 12 h ahead" "exp $exp, now $now"
fi
grep -qi '^Location: /message/1' "$T/hdrs" && grep -qi '^TTL: 60' "$T/hdrs"
is "$?" 0 "the answer has Location and the TTL, as RFC 8030 5 says"

printf '%s' '{"title":"Отчёт готов","body":"Задача №5 — «срочно» ✅ <b>&amp;</b>","url":"https://corp.example/t/5?a=1&b=2","tag":"ev-42"}' \
    > "$T/p2"
push a1 "$T/p2"
is "$code" 201 "UTF-8 JSON: 201"
is "$(last .plaintext)" "$(cat "$T/p2")" "decrypted byte for byte"

: > "$T/p3"
push a1 "$T/p3"
is "$code" 201 "an empty payload: 201"
is "$(last '[.plaintext, .body_len] | @json')" '["",103]' \
    "decrypts to nothing (86 + 1 + 16 bytes)"

printf '\377\376\000\001\002' > "$T/p4"
push a1 "$T/p4"
is "$(last .plaintext_hex)" "fffe000102" "bytes that are not UTF-8, exactly"

awk 'BEGIN { for (i = 0; i < 3993; i++) printf "%c", 97 + i % 26 }' \
    > "$T/p5"
push a1 "$T/p5"
is "$code" 201 "3993 bytes: 201"
is "$(last '[(.plaintext | length), .body_len] | @json')" '[3993,4096]' \
    "a 4096-byte body, the most a push service must take"
is "$(last .plaintext)" "$(cat "$T/p5")" "decrypted"

printf 'x%.0s' $(seq 82) > "$T/p6"
"$W" encrypt "$T/a1.sub" 100 < "$T/p6" > "$T/body"
post a1 "$T/body"
is "$(last '[.status, .rs, (.plaintext | length)] | @json')" '[201,100,82]' \
    "rs 100: one record of 99 bytes"

printf 'y%.0s' $(seq 3994) > "$T/p7"
run_in "$T/p7" "$W" encrypt "$T/a1.sub"
is "$rc" 65 "3994 bytes are refused (65)"
is "$err" "webpush-tool: 3994-byte push payload: at most 3993 bytes fit in one 4096-byte push message (RFC 8291 section 4)" \
    "with the reason"
is "$out" "" "and no body"

# Many fresh ephemeral keys and salts: the two implementations agree
# whatever the key (through the server, then raw random bytes through the
# fake's one-shot decrypt).
n=$(quick 12 6)
i=0 bad=0
while [ $i -lt "$n" ]; do
	len=$((i * 331 % 3993))
	head -c "$len" /dev/urandom | od -An -tx1 -v | tr -d ' \n' |
	    head -c "$len" > "$T/r"
	push a2 "$T/r"
	[ "$code" = 201 ] && [ "$(last .plaintext)" = "$(cat "$T/r")" ] ||
	    bad=$((bad + 1))
	i=$((i + 1))
done
is "$bad" 0 "$n payloads, each with its own key and salt: all decrypted"
i=0 bad=0
for len in 1 1000 3993; do
	head -c "$len" /dev/urandom > "$T/r"
	"$W" encrypt "$T/a2.sub" < "$T/r" > "$T/rb" &&
	    "$FP" decrypt --dir "$T/subs" --id a2 < "$T/rb" > "$T/rp" &&
	    cmp -s "$T/r" "$T/rp" || bad=$((bad + 1))
done
is "$bad" 0 "random bytes, decrypted by the one-shot decrypt"

# 3. The fake refuses what a push service or a browser refuses; each
# check is seen to fail.
n0=$(wc -l < "$T/push.log")
push a1 "$T/p1"
cp "$T/body" "$T/good"
# Flip the last byte (the tag).
/usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
    "$T/good" "$T/bad"
post a1 "$T/bad"
is "$code:$(last .error)" "400:decrypt: AES-GCM authentication failed (wrong keys, or the body was changed)" \
    "a changed body"
"$W" encrypt "$T/a2.sub" < "$T/p1" > "$T/body"
post a1 "$T/body"
is "$code:$(last .error)" "400:decrypt: AES-GCM authentication failed (wrong keys, or the body was changed)" \
    "a body for another subscription"
run "$FP" decrypt --dir "$T/subs" --id a1 < "$T/bad"
is "$rc:$err" "1:fake-push: decrypt: AES-GCM authentication failed (wrong keys, or the body was changed)" \
    "the one-shot decrypt refuses too"

code=$(curl -sS -o /dev/null -w '%{http_code}' -H "TTL: 60" \
    -H "Content-Encoding: aes128gcm" --data-binary @"$T/good" "$B/push/a1")
is "$code:$(last .error)" "401:no Authorization: vapid t=..., k=..." \
    "no VAPID token: 401"

vpost() {	# vpost AUTHORIZATION: the good body with that token
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "TTL: 60" \
	    -H "Authorization: $1" -H "Content-Encoding: aes128gcm" \
	    --data-binary @"$T/good" "$B/push/a1")
}
vpost "$("$W" vapid "$T/vapid.pem" "http://127.0.0.1:1/push/a1" mailto:a@b.example)"
is "$code:$(last .error)" "403:VAPID: aud \"http://127.0.0.1:1\", expected \"$B\"" \
    "a token for another origin: 403"
vpost "$("$W" vapid "$T/vapid.pem" "$B/push/a1" mailto:a@b.example 1000000000)"
is "$code:$(last .error)" "403:VAPID: exp 1000043200 is not in the future" \
    "an expired token: 403"
later=$(($(date +%s) + 7200))
vpost "$("$W" vapid "$T/vapid.pem" "$B/push/a1" mailto:a@b.example "$later" 86400)"
is "$code:$(last .error)" "403:VAPID: exp $((later + 86400)) is more than 24 h away (RFC 8292 2)" \
    "a token valid for more than 24 h: 403"
"$W" keygen "$T/other.pem" > "$T/other.pub"
vpost "$("$W" vapid "$T/other.pem" "$B/push/a1" mailto:a@b.example)"
is "$code:$(last .error)" "403:VAPID: k is not the applicationServerKey of this subscription" \
    "another VAPID key than the subscription's: 403"
good=$("$W" vapid "$T/vapid.pem" "$B/push/a1" mailto:a@b.example)
vpost "${good%%, k=*}, k=$(cat "$T/other.pub")"
is "$code:$(last .error)" "403:VAPID: JWT signature does not verify with k" \
    "a token whose signature is not k's: 403"

"$W" encrypt "$T/a2.sub" < "$T/p1" > "$T/body"
ep2="$B/push/a2"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "TTL: 60" \
    -H "Authorization: $("$W" vapid "$T/other.pem" "$ep2" mailto:a@b.example)" \
    -H "Content-Encoding: aes128gcm" --data-binary @"$T/body" "$ep2")
is "$code:$(last .plaintext)" "201:hello, world" \
    "any key for a subscription made without one"

hpost() {	# hpost CURL ARGS: the good body and token, other headers
	code=$(curl -sS -o /dev/null -w '%{http_code}' \
	    -H "Authorization: $good" --data-binary @"$T/good" "$@" \
	    "$B/push/a1")
}
hpost -H "Content-Encoding: aes128gcm"
is "$code:$(last .error)" "400:TTL header missing or not a non-negative integer (RFC 8030 5.2)" \
    "no TTL: 400"
hpost -H "TTL: 60" -H "Content-Encoding: aes128gcm" -H "Urgency: urgent"
is "$code:$(last .error)" "400:Urgency 'urgent' is not one of very-low|low|normal|high (RFC 8030 5.3)" \
    "a bad Urgency: 400"
hpost -H "TTL: 60" -H "Content-Encoding: aes128gcm" \
    -H "Topic: abcdefghijklmnopqrstuvwxyz0123456"
is "$code:$(last .error)" "400:Topic is not 1-32 base64url characters (RFC 8030 5.4)" \
    "a 33-character Topic: 400"
hpost -H "TTL: 60" -H "Content-Encoding: aesgcm"
is "$code:$(last .error)" "415:Content-Encoding is not aes128gcm (RFC 8291 4)" \
    "the old aesgcm coding: 415"
head -c 4097 /dev/zero > "$T/huge"
post a1 "$T/huge"
is "$code:$(last .error)" "413:body of 4097 bytes, more than 4096 (RFC 8030 7.2)" \
    "a body over 4096 bytes: 413"
post nosuch "$T/good"
is "$code:$(last .error)" "404:no subscription nosuch" "an unknown subscription: 404"
is "$(sed -n "$((n0 + 1))p" "$T/push.log" | jq -r .status)" 201 \
    "(the good body itself was accepted)"

# 4. Scripted answers, after the checks passed.
push gone "$T/p1"
is "$code" 410 "scripted 410 Gone"
push expired "$T/p1"
is "$code" 404 "scripted 404"
push busy "$T/p1"
is "$code:$(grep -i '^Retry-After:' "$T/hdrs" | tr -d '\r')" \
    "429:Retry-After: 30" "scripted 429 with Retry-After"
push busy "$T/p1"
is "$code" 201 "the 429 rule was used up (count 1)"
push down "$T/p1"
is "$code:$(last .plaintext)" "503:hello, world" \
    "scripted 503; the message was still checked and decrypted"
post vanished "$T/good"
is "$code" 410 "a rule answers for a subscription the fake never had"

# 5. Secrets: the keys and auth secrets the fake holds never reach its
# log; a payload that carries one is redacted and flagged.
printf %s "$(jq -r .keys.auth "$T/a1.sub")" > "$T/p8"
push a1 "$T/p8"
is "$(last '[.plaintext, .secret_seen] | @json')" '["<redacted>",true]' \
    "a payload with the auth secret: redacted, flagged"
leaks=0
for id in a1 a2; do
	a=$(jq -r .keys.auth "$T/$id.sub")
	grep -qF -- "$a" "$T/push.log" && leaks=$((leaks + 1))
done
grep -q 'PRIVATE KEY' "$T/push.log" && leaks=$((leaks + 1))
grep -qF -- "${good%%, k=*}" "$T/push.log" && leaks=$((leaks + 1))
is "$leaks" 0 "no auth secret, private key or JWT in the log"
is "$(grep -c secret_seen "$T/push.log")" 1 "only that line was flagged"
is "$(cat "$T/push.err")" "" "the fake wrote nothing to stderr"

done_testing
