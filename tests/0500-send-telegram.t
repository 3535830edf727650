#!/bin/sh
# corp-send telegram: each Bot API answer to its ack result, the 429
# pause shared by every sender of a token, a bad token failing the stage,
# leases, HTML as given, timeouts, TLS with the test's own CA, redirects,
# and the token kept out of every output.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
TOKEN='777001:AAsecret-Token_value'
export FAKE_TG_TOKEN="$TOKEN"
cat > "$T/script" <<'J'
{"chat_id":403,"status":403}
{"chat_id":400,"status":400}
{"chat_id":401,"status":400,"body":{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}}
{"chat_id":500,"status":500}
{"chat_id":502,"status":502,"body":"bad gateway"}
{"chat_id":302,"status":302,"body":"moved"}
{"chat_id":429,"status":429,"retry_after":7}
{"chat_id":999,"status":200,"delay_ms":4000}
J
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --script "$T/script"
API="http://127.0.0.1:$port"
send() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run_in "$T/in" corp-send telegram \
	    --allow-http "$@"
}
nsent() { grep -c '"method":"sendMessage"' "$T/tg.log"; }

# Each answer to its result.
{
	dline 1 42 '<b>Report</b> due <a href="https://corp.example/tasks/5">Task &amp; co</a>'
	dline 2 403
	dline 3 400
	dline 4 401
	dline 5 500
	dline 6 502
	dline 7 302
	dline 8 -100
	dline 9 group
	dline 10 42 x telegram 2020-01-01T00:00:00Z
	dline 11 42 | jq -c '. + {result: "failed", error: "no template"}'
	jq -cn '{delivery_id: 12, lease: "l", address: "42"}'
} > "$T/in"
send
is "$rc" 0 "per-line outcomes never change the exit code"
is "$(acks)" '[1,"sent","1",null,true,null]
[2,"unbound",null,"Forbidden: bot was blocked by the user",true,null]
[3,"failed",null,"Bad Request: chat not found",true,null]
[4,"failed",null,"Bad Request: message is too long",true,null]
[5,"retry",null,"Internal Server Error",true,null]
[6,"retry",null,"HTTP 502",true,null]
[7,"failed",null,"telegram: HTTP 302 redirect not followed",true,null]
[8,"failed",null,"address is not a private chat id (a positive integer)",false,null]
[9,"failed",null,"address is not a private chat id (a positive integer)",false,null]
[10,"retry",null,"lease expired",false,null]
[11,"failed",null,"no template",null,null]
[12,"failed",null,"not rendered (missing corp-fmt?)",false,null]' "each answer becomes its ack"
is "$(printf '%s\n' "$out" | sed -n 11p)" \
    "$(sed -n 11p "$T/in")" "a line with a result passes through untouched"
is "$(printf '%s\n' "$out" | head -1 | jq -c 'del(.result,
    .provider_message_id, .error, .attempted)')" "$(head -1 "$T/in")" \
    "the input fields pass through in order"
is "$(printf '%s\n' "$out" | head -1 | jq -c 'keys_unsorted[-4:]')" \
    '["result","provider_message_id","error","attempted"]' \
    "ack fields follow the input fields"
is "$(nsent)" 7 "expired leases, bad addresses and decided lines are not sent"
is "$(grep '"message_id":1,' "$T/tg.log" | jq -c '[.chat_id, .text,
    .parse_mode, .link_preview_disabled]')" \
    '[42,"<b>Report</b> due <a href=\"https://corp.example/tasks/5\">Task &amp; co</a>","HTML",true]' \
    "HTML sent as given, parse_mode HTML, previews off"
like "$err" "delivery 2: unbound: Forbidden: bot was blocked by the user trace=trace-2" \
    "stderr names the delivery and ends with its trace id"
like "$err" "delivery 10: retry: lease expired trace=trace-10" \
    "an expired lease is reported"
is "$(printf '%s\n' "$err" | grep -v 'delivery 12:' |
    grep -vc ' trace=trace-[0-9]*$')" 0 \
    "every stderr line about an event ends with its trace"

# Missing delivery_id or lease: failed, the rest goes on, exit 65; so
# does a line that is not JSON.
{
	jq -cn '{lease: "l", address: "42", text: "x"}'
	echo '{"delivery_id": 20, "lease": '
	jq -cn '{delivery_id: 21, address: "42", text: "x"}'
	dline 22 42
} > "$T/in"
send
is "$rc" 65 "invalid lines: exit 65 after the rest"
is "$(acks)" '[null,"failed",null,"missing delivery_id",false,null]
[21,"failed",null,"missing lease",false,null]
[22,"sent","2",null,true,null]' "missing fields fail their line only"
like "$err" '^corp-send: <stdin>:2:[0-9]+: ' "a non-JSON line is reported with its position"

# A slow answer past --timeout: retry (the message may have left).
dline 30 999 > "$T/in"
send --timeout 1s
is "$(acks | jq -c '.[1:3]')" '["retry",null]' "a timeout is retry"
like "$(printf '%s' "$out" | jq -r .error)" "[Tt]imeout" "and says so"
is "$(printf '%s' "$out" | jq -c '[.attempted, .error_class]')" '[true,null]' \
    "the request reached the server: attempted, not unreachable"

# Nothing listening: retry with the reason, no URL.
dline 31 42 > "$T/in"
API=http://127.0.0.1:1 send --connect-timeout 2s
is "$(acks | jq -c '.[1]')" '"retry"' "a refused connection is retry"
like "$out" "onnect" "with curl's reason"
is "$(printf '%s' "$out" | jq -c '[.attempted, .error_class, .retry_after]')" \
    '[false,"unreachable",30]' "never reached: not attempted, unreachable, paused"

# http:// needs --allow-http; HTTPS is the default.
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
    run_in "$T/in" corp-send telegram
is "$rc" 64 "an http:// API without --allow-http is refused"
# Plain http only to a loopback host as libcurl parses it; no userinfo.
for api in 'http://127.0.0.1@other.host/' 'http://localhost.evil.example/' \
    'http://10.0.0.1:8081' 'https://bot:Pa55-Word@api.telegram.org'; do
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$api" \
	    run_in "$T/in" corp-send telegram --allow-http
	# (the line passes on unsent, so that ack gives its row back)
	is "$rc:$(printf '%s' "$out" | jq -c '[.delivery_id, .result, .attempted]')" \
	    '64:[31,"retry",false]' "CORP_TELEGRAM_API=$api is refused"
done
like "$err" "CORP_TELEGRAM_API: a password in the URL" "saying why"
unlike "$err" "Pa55-Word" "without the password"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API='http://127.0.0.1@other.host/' \
    run corp-tg poll --once --allow-http
is "$rc" 64 "corp-tg refuses it too"
like "$err" "CORP_TELEGRAM_API: a user name in the URL" "with the same reason"

# 429: retry, not attempted, retry_after; the error names the pause and
# its end.  The pause is the chat's (the Bot API's limits are per chat,
# op-review 15): a second process sending to that chat waits, one
# sending to another chat goes on.
rm -rf "$CORP_DATA_DIR/ratelimit"
dline 40 429 > "$T/in"
CORP_NOW=2026-01-05T10:00:00Z CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
    run_in "$T/in" corp-send telegram --allow-http
is "$(acks)" '[40,"retry",null,"Too Many Requests: retry after 7 (429: chat 429 paused until 2026-01-05T10:00:07Z)",false,7]' \
    "429 is retry, not attempted, with retry_after; the error names the chat's pause and its end"
before=$(nsent)
dline 41 429 > "$T/in"
CORP_NOW=2026-01-05T10:00:00Z CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
    run_in "$T/in" corp-send telegram --allow-http --max-wait 2s
like "$(printf '%s' "$out" | jq -r .error)" \
    '^telegram: 429 pause of chat 429 until 2026-01-05T10:00:0[1-7]Z \([1-7]s more\)$' \
    "past --max-wait the line is not sent; the error names the 429 pause and its end"
is "$(acks | jq -c '[.[1], .[4], (.[5] >= 1 and .[5] <= 7)]')" \
    '["retry",false,true]' "a second sender of the token honours the chat's pause"
is "$(nsent)" "$before" "and sends nothing"
dline 42 42 > "$T/in"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
    run_in "$T/in" corp-send telegram --allow-http --max-wait 2s
is "$(acks | jq -c '.[1]')" '"sent"' "another chat is not paused: sent at once"
is "$(nsent)" "$((before + 1))" "(one request)"
f=$(ls "$CORP_DATA_DIR"/ratelimit/telegram-*.json)
is "$(basename "$f")" "telegram-$(printf '%s' "$TOKEN" | sha256sum | cut -c1-16).json" \
    "the limiter file is named by the token's hash"
is "$(stat -c %a "$f")" 600 "and is 0600"

# 401: a wrong token fails the stage: that line and every later one
# pass on as retry, not attempted, "bad token"; exit 77.
{ dline 50 42; dline 51 43; dline 52 42 | jq -c '. + {result: "failed"}';
  dline 53 44; } > "$T/in"
CORP_TELEGRAM_TOKEN='777001:wrong-Token_leaked' CORP_TELEGRAM_API="$API" \
    CORP_RATE_LIMIT=off run_in "$T/in" corp-send telegram --allow-http
is "$rc" 77 "a bad token exits 77"
is "$(acks)" '[50,"retry",null,"bad token",false,null]
[51,"retry",null,"bad token",false,null]
[52,"failed",null,null,null,null]
[53,"retry",null,"bad token",false,null]' "every line from the 401 on is retry, bad token"
like "$err" "bad token" "stderr says why"
unlike "$out$err" "wrong-Token_leaked" "the wrong token is in no output"
is "$(grep -c '"status":401' "$T/tg.log")" 1 "one request, then no more"

# No token at all, or an unsafe token file: lines pass on, not attempted.
dline 60 42 > "$T/in"
CORP_TELEGRAM_API="$API" run_in "$T/in" corp-send telegram --allow-http
is "$rc" 78 "no token: a configuration error, 78 (OP 8)"
is "$(acks | jq -c '.[1:5]')" '["retry",null,"secret telegram_token: no CORP_TELEGRAM_TOKEN in the environment and no file '"$CORP_DATA_DIR"'/secrets/telegram_token",false]' \
    "no token: retry, not attempted, says where it looked"
mkdir -m 700 "$CORP_DATA_DIR/secrets"
printf '%s\n' "$TOKEN" > "$CORP_DATA_DIR/secrets/telegram_token"
chmod 640 "$CORP_DATA_DIR/secrets/telegram_token"
CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run_in "$T/in" corp-send telegram --allow-http
is "$rc:$(acks | jq -c '.[1]')" '77:"retry"' "a group-readable token file is refused (77)"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_token"
CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run_in "$T/in" corp-send telegram --allow-http
is "$rc:$(acks | jq -c '.[1]')" '0:"sent"' "the 0600 token file is used"

# TLS: the test's CA in CORP_CA_FILE, certificate checks on.
make_cert tls
make_cert other
start_fake tls "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tls.log" \
    --tls-cert "$T/tls.pem" --tls-key "$T/tls.key"
dline 70 42 > "$T/in"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="https://localhost:$port" \
    CORP_CA_FILE="$T/tls.pem" CORP_RATE_LIMIT=off \
    run_in "$T/in" corp-send telegram
is "$rc:$(acks | jq -c '.[1:3]')" '0:["sent","1"]' "HTTPS with the test's CA"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="https://localhost:$port" \
    CORP_CA_FILE="$T/other.pem" CORP_RATE_LIMIT=off \
    run_in "$T/in" corp-send telegram
is "$rc:$(acks | jq -c '.[1]')" '0:"retry"' "a certificate from another CA: retry"
is "$(printf '%s' "$out" | jq -c '[.attempted, .error_class]')" \
    '[false,"unreachable"]' "a failed certificate check never reached the server"
like "$(printf '%s' "$out" | jq -r .error)" "certificate|SSL" "with a clear error"

# The token never shows: not in any output, not in the fakes' logs.
unlike "$(cat "$T"/tg.log "$T"/tls.log)" "secret_seen" "the fakes never saw the token in a body"
all=$(CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="http://127.0.0.1:1/x" \
    corp-send telegram --allow-http < "$T/in" 2>&1)
unlike "$all" "AAsecret" "not in the output or stderr of a failing run"
unlike "$out$err" "AAsecret" "not in the last run's output"
unlike "$(ps -o args= -p $$)" "AAsecret" "never in argv"

is_rc 64 "unknown channel" corp-send pigeon
is_rc 64 "no channel" corp-send
is_rc 64 "bad --max-wait" corp-send telegram --max-wait 5
ok "--help" corp-send --help
like "$out" "usage: corp-send CHANNEL \\[--allow-http\\]" "prints the synopsis"

done_testing
