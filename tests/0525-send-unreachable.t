#!/bin/sh
# A request that never reached its server (connection refused, TLS
# handshake failure, ...) is "unreachable": retry, not attempted, and the
# endpoint pauses for every sender (30 s, doubled, at most 10 min; an
# answer ends it), so an outage never fills the dead-letter queue.  A
# request that reached the server and timed out stays a counted retry.
# Per channel (telegram, webhook, email), through corp-send and through
# the queue (pipe and run).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
T0=1767607200			# 2026-01-05T10:00:00Z
at() { date -u -d "@$((T0 + $1))" +%Y-%m-%dT%H:%M:%SZ; }
export CORP_NOW="$(at 0)"
TOKEN='777001:AAsecret-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

# dead NAME: a port nothing listens on (a fake started, then stopped).
dead() {
	start_fake "$1" "$CORP_SRC/tests/fakes/fake-webhook"
	kill "$bgpid"
	wait "$bgpid" 2>/dev/null
	echo "$port"
}
# ra: the retry_after of every ack line; cls: their error_class.
ra() { printf '%s\n' "$out" | jq -r '.retry_after' | tr '\n' ' '; }
cls() { printf '%s\n' "$out" | jq -r '[.result, .attempted, .error_class] |
    map(tostring) | join(",")' | sort -u | tr '\n' ' '; }

# --- webhook, through corp-send --------------------------------------
wport=$(dead wdead)
mkdir -p -m 700 "$CORP_DATA_DIR/secrets"
cat > "$CORP_DATA_DIR/webhooks.conf" <<EOF
crm http://127.0.0.1:$wport/hook
EOF
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
printf '%s\n' "$SECRET" > "$CORP_DATA_DIR/secrets/webhook-crm"
chmod 600 "$CORP_DATA_DIR/secrets/webhook-crm"
{ dline 1 crm "" webhook; dline 2 crm "" webhook; } > "$T/in"
wsend() { CORP_NOW="$(at "$1")" run_in "$T/in" corp-send webhook \
    --allow-http --allow 127.0.0.0/8; }
wsend 0
is "$rc" 0 "an unreachable endpoint is no failure of the stage"
is "$(cls)" "retry,false,unreachable " \
    "connection refused: retry, not attempted, error_class unreachable"
like "$(printf '%s\n' "$out" | head -1 | jq -r .error)" \
    '^webhook: .*onnect.* \(unreachable: paused 30s\)$' \
    "the error says why and for how long"
is "$(ra)" "30 30 " "the first line pauses the endpoint 30 s; the next waits"
like "$(printf '%s\n' "$out" | sed -n 2p | jq -r .error)" \
    '\(unreachable: paused 30s more\)$' \
    "the second line was not tried: paused"
wsend 10
is "$(ra)" "20 20 " "10 s later: 20 s left, nothing tried"
seq=""
for t in 30 90 210 450 930 1530; do
	wsend "$t"
	seq="$seq$(printf '%s\n' "$out" | head -1 | jq -r .retry_after) "
done
is "$seq" "60 120 240 480 600 600 " \
    "each failure after a pause doubles it, capped at 10 minutes"
f=$(ls "$CORP_DATA_DIR"/ratelimit/down-webhook-*.json)
is "$(basename "$f")" "down-webhook-$(printf crm | sha256sum | cut -c1-16).json" \
    "the pause is a file of the data dir, named by the endpoint's hash"
is "$(jq -c '[.until - '"$T0"', .pause]' "$f")" '[2130,600]' \
    "holding business time and the pause"
is "$(stat -c %a "$f")" 600 "mode 0600"

# The receiver comes back: the lines go out and the pause ends.
start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" --port "$wport" \
    --log "$T/wh.log"
is "$port" "$wport" "(the fake is back on its port)"
wsend 1700
is "$(ra)" "430 430 " "still paused: not tried before the pause ends"
is "$(wc -l < "$T/wh.log")" 0 "(nothing reached the receiver)"
wsend 2130
is "$(cls)" "sent,true,null " "once the pause ends, both are sent"
is "$(wc -l < "$T/wh.log")" 2 "the receiver got both"
ok "the pause is gone" test ! -e "$f"
kill "$bgpid"
wait "$bgpid" 2>/dev/null

# An unsafe ratelimit/ (group-writable, or a link): the pause cannot be
# kept safely, so the stage stops (77) naming the directory and the fix,
# as corp-send telegram's limiter and corp-tg do; nothing is tried and
# nothing is written through it (issue 16, round 3).
rm -rf "$CORP_DATA_DIR/ratelimit"
mkdir -m 770 "$CORP_DATA_DIR/ratelimit"
wsend 3000
is "$rc:$err" "77:corp-send: $CORP_DATA_DIR/ratelimit: group-writable (mode 770); chmod go-w $CORP_DATA_DIR/ratelimit; every remaining line passes on as retry" \
    "webhook: a group-writable ratelimit/ stops the stage (77)"
is "$(cls)" "retry,false,null " "every line passes on as retry, not attempted"
is "$(printf '%s\n' "$out" | jq -r .error | sort -u)" \
    "$CORP_DATA_DIR/ratelimit: group-writable (mode 770); chmod go-w $CORP_DATA_DIR/ratelimit" \
    "each names the directory and the fix"
is "$(ls -A "$CORP_DATA_DIR/ratelimit")" "" "no pause written through it"
is "$(wc -l < "$T/wh.log")" 2 "(nothing more reached the receiver)"
rmdir "$CORP_DATA_DIR/ratelimit"
mkdir "$T/elsewhere"
ln -s "$T/elsewhere" "$CORP_DATA_DIR/ratelimit"
wsend 3000
is "$rc:$err" "77:corp-send: $CORP_DATA_DIR/ratelimit: a symbolic link; corp follows none in its data directory: remove it (corp makes the directory itself); every remaining line passes on as retry" \
    "webhook: a ratelimit/ that is a link stops the stage (77)"
is "$(ls -A "$T/elsewhere")" "" "nothing written through the link"
rm "$CORP_DATA_DIR/ratelimit"
wsend 2140
is "$(ra)" "30 30 " "a new outage starts again at 30 s"

# A TLS handshake that fails (https:// to a plain server) never reached
# the server either.
start_fake wh2 "$CORP_SRC/tests/fakes/fake-webhook" --log "$T/wh2.log"
cat >> "$CORP_DATA_DIR/webhooks.conf" <<EOF
tls https://127.0.0.1:$port/hook
EOF
cp "$CORP_DATA_DIR/secrets/webhook-crm" "$CORP_DATA_DIR/secrets/webhook-tls"
dline 5 tls "" webhook > "$T/in"
wsend 2150
is "$(cls)" "retry,false,unreachable " "a failed TLS handshake is unreachable"
is "$(ra)" "30 " "and pauses that endpoint only"

# --- telegram, through corp-send -------------------------------------
: > "$T/tgscript"
tport=$(dead tdead)
{ dline 10 42; dline 11 43; } > "$T/in"
tsend() { _t=$1; shift; CORP_NOW="$(at "$_t")" \
    CORP_TELEGRAM_API="http://127.0.0.1:$tport" \
    run_in "$T/in" corp-send telegram --allow-http "$@"; }
tsend 0
is "$(cls)" "retry,false,unreachable " "telegram: connection refused is unreachable"
is "$(ra)" "30 30 " "the API pauses for every line"
unlike "$out$err" "AAsecret" "the token is in no output"
f=$(ls "$CORP_DATA_DIR"/ratelimit/down-telegram-*.json)
unlike "$(cat "$f")" "AAsecret" "nor in the pause file"
tsend 40
is "$(ra)" "60 60 " "doubled after the pause ran out"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --port "$tport" \
    --log "$T/tg.log" --script "$T/tgscript"
tsend 100
is "$(cls)" "sent,true,null " "the API is back: sent"

# Reached but no answer in time: a normal retry, counted, no pause.
cat > "$T/tgscript" <<'J'
{"chat_id":999,"status":200,"delay_ms":4000}
J
kill "$bgpid"
wait "$bgpid" 2>/dev/null
start_fake tg2 "$CORP_SRC/contrib/fake-telegram-api" --port "$tport" \
    --log "$T/tg.log" --script "$T/tgscript"
dline 12 999 > "$T/in"
tsend 110 --timeout 1s
is "$(printf '%s' "$out" | jq -c '[.result, .attempted, .error_class,
    .retry_after]')" '["retry",true,null,null]' \
    "a request that timed out after it was sent stays a counted retry"
ok "and pauses nothing" test ! -e "$f"

# --- email, through corp-send ----------------------------------------
make_cert smtp
export CORP_CA_FILE="$T/smtp.pem"
sport=$(dead sdead)
dline 20 ann@example.org x email > "$T/in"
esend() { CORP_NOW="$(at "$1")" run_in "$T/in" corp-send email \
    --smtp-url "smtp://localhost:$sport" --from corp@corp.example; }
esend 0
is "$(cls)" "retry,false,unreachable " "email: connection refused is unreachable"
is "$(ra)" "30 " "the SMTP server pauses"
start_fake smtp "$CORP_SRC/tests/fakes/fake-smtp" --port "$sport" \
    --log "$T/smtp.log" --tls-cert "$T/smtp.pem" --tls-key "$T/smtp.key"
esend 10
is "$(cls)" "retry,false,unreachable " "not tried while paused"
esend 30
is "$(cls)" "sent,true,null " "the server is back: sent"
kill "$bgpid"
wait "$bgpid" 2>/dev/null

# --- the queue: never FAILED for an outage (pipe and run) ------------
corp-org add sales >/dev/null
corp-user add ann --name Ann --unit sales >/dev/null
corp-bind add --user ann --channel telegram --address 42 >/dev/null
corp-bind add --user ann --channel email --address ann@example.org >/dev/null
rm -rf "$CORP_DATA_DIR/ratelimit"
qport=$(dead qdead)
export CORP_TELEGRAM_API="http://127.0.0.1:$qport"
CORP_NOW="$(at 0)" corp-task create --as admin --title "Report" \
    --assignee ann >/dev/null
CORP_NOW="$(at 0)" corp-event route >/dev/null
row() { sql "SELECT status, attempts, not_before - $T0 FROM deliveries
    WHERE channel = '$1'"; }
# Twelve rounds, each once the row is ready again: far past attempts.
t=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	CORP_NOW="$(at "$t")" sh -c 'corp-deliver pending --channel telegram |
	    corp-fmt | corp-send telegram --allow-http 2>/dev/null |
	    corp-deliver ack >/dev/null'
	t=$(sql "SELECT not_before - $T0 FROM deliveries WHERE channel = 'telegram'")
done
is "$(row telegram)" "PENDING|0|$t" \
    "twelve unreachable rounds through the pipe: PENDING, no attempt used"
is "$(sql "SELECT count(*), sum(attempted), min(stored), max(stored)
    FROM delivery_attempts")" "12|0|retry|retry" \
    "each round stored as a retry that was not attempted"
CORP_NOW="$(at "$t")" run corp-deliver run --channel telegram --allow-http \
    --until-empty
is "$rc" 0 "run --until-empty ends against an unreachable API"
is "$(printf '%s' "$out" | jq -c '[.claimed, .retry, .failed]')" '[1,1,0]' \
    "one claim, one retry, nothing failed"
is "$(row telegram | cut -d'|' -f1-2)" "PENDING|0" "still PENDING, no attempt used"
t=$(sql "SELECT not_before - $T0 FROM deliveries WHERE channel = 'telegram'")
start_fake tgq "$CORP_SRC/contrib/fake-telegram-api" --port "$qport" \
    --log "$T/tgq.log"
CORP_NOW="$(at "$t")" run corp-deliver run --channel telegram --allow-http \
    --until-empty
is "$(row telegram | cut -d'|' -f1-2)" "SENT|1" "the API is back: SENT"
is "$(jq -r 'select(.method == "sendMessage") | .chat_id' "$T/tgq.log")" 42 \
    "the message went out once"

# Email through run, the SMTP server down.
corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email --enabled >/dev/null
eport=$(dead edead)
CORP_NOW="$(at 0)" corp-task create --as admin --title "Mail" \
    --assignee ann >/dev/null
CORP_NOW="$(at 0)" corp-event route >/dev/null
t=0
for i in 1 2 3 4; do
	CORP_NOW="$(at "$t")" run corp-deliver run --channel email --until-empty \
	    --smtp-url "smtp://localhost:$eport" --from corp@corp.example
	t=$(sql "SELECT not_before - $T0 FROM deliveries WHERE channel = 'email'")
done
is "$(row email)" "PENDING|0|$t" "email: four unreachable runs, PENDING, no attempt"
start_fake smtpq "$CORP_SRC/tests/fakes/fake-smtp" --port "$eport" \
    --log "$T/smtpq.log" --tls-cert "$T/smtp.pem" --tls-key "$T/smtp.key"
CORP_NOW="$(at "$t")" run corp-deliver run --channel email --until-empty \
    --smtp-url "smtp://localhost:$eport" --from corp@corp.example
is "$(row email | cut -d'|' -f1-2)" "SENT|1" "the server is back: SENT"

done_testing
