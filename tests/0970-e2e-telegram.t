#!/bin/sh
# The telegram channel end to end, as an operator sets it up (issue 15:
# the suite walks the operator's path): from corp-db init, with corp's
# commands and the documented files only -- the bot token in
# secrets/telegram_token, telegram.bot_username, one user bound through
# corp-bind code and /start in the bot (corp-tg poll), others through
# corp-bind add -- tasks routed and delivered through the pipe of corp(7)
# and through corp-deliver run; what the fake Bot API received checked
# message by message (chat, text, HTML), the queue through corp-deliver
# stats, explain and dlq.  The likely mistakes: the token written with the
# default umask (0644: refused, 77, nothing sent, nothing lost), no token
# at all (run: 67, nothing lost), a bind to a name instead of a chat id
# (65); the repair of a failed row (a new bind, corp-deliver requeue, the
# next corp-pipeline(1) cycle); and an outage of the Bot API (rows wait,
# no attempt used, the pause doubles, nothing in the dead-letter queue).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
. "$CORP_SRC/tests/e2e-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z CORP_RATE_LIMIT=off
D=$CORP_DATA_DIR
TOKEN='777097:AAe2e-Telegram_token'
: > "$T/updates"
echo '{"chat_id": 7003, "status": 400}' > "$T/tg.script"
FAKE_TG_TOKEN=$TOKEN start_fake tg "$CORP_SRC/contrib/fake-telegram-api" \
    --log "$T/tg.log" --transcript "$T/tr" --updates "$T/updates" \
    --script "$T/tg.script"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
# sent N: the messages the fake accepted from the Nth on, "CHAT TEXT".
sent() {
	tail -n +"$1" "$T/tr" | jq -r '"\(.chat_id) \(.text)"'
}

q corp-settings config set base_url https://corp.example
q corp-settings config set telegram.bot_username corp_test_bot
q corp-org add ops --title Operations
q corp-user add boss --name Boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --name Ann --unit ops
q corp-user add bob --name Bob --unit ops
q corp-user add cyd --name Cyd --unit ops

# The mistake: the token written with the default umask.
mkdir -m 700 "$D/secrets"
printf '%s\n' "$TOKEN" > "$D/secrets/telegram_token"
chmod 644 "$D/secrets/telegram_token"
is_rc 77 "a token file others may read is refused" \
    corp-tg poll --once --allow-http
is "$err" "corp-tg: $D/secrets/telegram_token: readable by group or others (mode 644); chmod 600 $D/secrets/telegram_token" \
    "naming the file and the fix"
is "$(wc -l < "$T/tg.log")" 0 "and the bot made no request"
chmod 600 "$D/secrets/telegram_token"

# ann binds herself: the link from corp-bind code, Start in the bot.
run corp-bind code --user ann
code=$(printf '%s' "$out" | jq -r .code)
is "$(printf '%s' "$out" | jq -r .link)" \
    "https://t.me/corp_test_bot?start=$code" "the deep link names the bot"
jq -cn --arg t "/start $code" '{update_id: 1, message: {message_id: 1,
    date: 1772441000, text: $t, chat: {id: 7001, type: "private",
    first_name: "Ann"}, from: {id: 7001, is_bot: false,
    first_name: "Ann"}}}' >> "$T/updates"
ok "the bot takes the /start" corp-tg poll --once --allow-http
ok "bob is bound by hand" corp-bind add --user bob --channel telegram \
    --address 7002
ok "cyd too, to a chat the bot cannot reach" corp-bind add --user cyd \
    --channel telegram --address 7003
run corp-bind list --channel telegram
is "$(printf '%s\n' "$out" | jq -r '"\(.login) \(.address) \(.active)"')" \
    "ann 7001 true
bob 7002 true
cyd 7003 true" "three active binds"
is "$(sent 1)" "7001 ✅ You are now connected, Ann. Task notifications will arrive in this chat." \
    "the bot answered ann's /start, and nobody else"

# Through the pipe.
q corp-task create --as admin --title "Quarterly report" --assignee ann
q corp-task create --as admin --title "Budget <draft> & notes" --assignee bob
q corp-task create --as admin --title "Hiring plan" --assignee cyd
q corp-event route
n=$(($(wc -l < "$T/tr") + 1))
pipe telegram --allow-http
is "$rc" "0 0 0 0 0" "every stage of the pipe exits 0"
is "$err" "corp-send: delivery 3: failed: Bad Request: chat not found trace=$(corp-event show 3 | jq -r .trace_id)" \
    "the one failure is reported, with its trace id"
is "$(sent $n)" "7001 📋 You have a new task: <b>Quarterly report</b>

<a href=\"https://corp.example/tasks/1\">Open task #1</a>
7002 📋 You have a new task: <b>Budget &lt;draft&gt; &amp; notes</b>

<a href=\"https://corp.example/tasks/2\">Open task #2</a>" "each executor got their task, HTML-escaped, with its link"
is "$(jq -c '[.parse_mode, .link_preview_disabled]' "$T/tg.log" |
    grep -v null | sort -u)" '["HTML",true]' "as HTML, previews off"
is "$(corp-cursor get --channel telegram)" "3:5" \
    "the cursor moved past the last acked row"
is "$(queue telegram)" "FAILED ready 1, SENT ready 2" "stats: two sent, one failed"
is "$(dlq_rows)" "cyd telegram Bad Request: chat not found" \
    "dlq: cyd's row, with Telegram's reason"
is "$(explained 1 ann telegram)" '["created","7001","SENT",1,["sent"]]' \
    "explain: ann's row was created, bound, sent at the first attempt"

# Through corp-deliver run; first without the token (it was moved away).
q corp-task create --as admin --title "Offsite" --assignee ann
q corp-task create --as admin --title "Payroll" --assignee bob
q corp-event route
mv "$D/secrets/telegram_token" "$T/token"
n=$(($(wc -l < "$T/tr") + 1))
run corp-deliver run --channel telegram --allow-http --until-empty
is "$rc" 78 "no token: run exits 78, a configuration error"
is "$err" "2026-03-02T09:00:00.000Z corp-deliver: secret telegram_token: no CORP_TELEGRAM_TOKEN in the environment and no file $D/secrets/telegram_token; every remaining line passes on as retry
2026-03-02T09:00:00.000Z corp-deliver: telegram: held 2: secret telegram_token: no CORP_TELEGRAM_TOKEN in the environment and no file $D/secrets/telegram_token
2026-03-02T09:00:00.000Z corp-deliver: telegram: sent 0 retry 0 failed 0 held 2" \
    "naming the missing file, once per cause, then the line for cron"
is "$(queue telegram)" "FAILED ready 1, PENDING ready 2, SENT ready 2" \
    "nothing was lost"
is "$(explained 4 ann telegram)" '["created","7001","PENDING",0,["retry"]]' \
    "the row was held: a retry that used no attempt"
# Held rows come back after retry_after (60 s: corp-send(1)).
mv "$T/token" "$D/secrets/telegram_token"
CORP_NOW=2026-03-02T09:01:00Z run corp-deliver run --channel telegram \
    --allow-http --until-empty
is "$rc" 0 "with the token back, a minute later, run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .failed, .held, .dlq]')" \
    "[2,2,0,0,0]" "its summary: two claimed, two sent"
is "$err" "2026-03-02T09:01:00.000Z corp-deliver: telegram: sent 2 retry 0 failed 0 held 0" \
    "and the line for cron"
is "$(sent $n)" "7001 📋 You have a new task: <b>Offsite</b>

<a href=\"https://corp.example/tasks/4\">Open task #4</a>
7002 📋 You have a new task: <b>Payroll</b>

<a href=\"https://corp.example/tasks/5\">Open task #5</a>" "run sent the same messages the pipe would"
is "$(queue telegram)" "FAILED ready 1, SENT ready 4" "stats: four sent, one failed"
is "$(grep -c secret_seen "$T/tg.log")" 0 "the token never reached a message"

# A bad address: a Telegram chat id is a number.
is_rc 65 "a user name is no chat id" corp-bind add --user cyd \
    --channel telegram --address @cyd
is "$err" "corp-bind: telegram address '@cyd': expected a private chat id, a positive 64-bit integer" \
    "saying what a chat id is"
# The repair of cyd's failed row: the right chat, then the row back from
# the dead-letter queue, out with the next cycle of corp-pipeline(1).
ok "cyd's bind takes the right chat" corp-bind add --user cyd \
    --channel telegram --address 7004
is "$(corp-bind list --channel telegram | jq -r 'select(.login == "cyd") |
    "\(.address) \(.active)"')" "7004 true" "one bind, the new address"
ok "the operator requeues the failed row" corp-deliver requeue \
    --channel telegram --all-failed
is "$out" '{"requeued":1}' "one row"
n=$(($(wc -l < "$T/tr") + 1))
run corp-pipeline --channel telegram --send-opt --allow-http
is "$rc" 0 "corp-pipeline exits 0"
is "$err" "" "silent: all went (corp-pipeline(1) speaks only when something is wrong)"
is "$(sent $n)" "7004 📋 You have a new task: <b>Hiring plan</b>

<a href=\"https://corp.example/tasks/3\">Open task #3</a>" \
    "cyd got the message at the new chat"
is "$(corp-deliver dlq)" "" "the dead-letter queue is empty"
is "$(explained 3 cyd telegram)" '["created","7004","SENT",1,["failed","sent"]]' \
    "explain: the failed attempt, then the one that went"

# A dead endpoint: the Bot API does not answer (here: nothing listens).
# Rows wait, no attempt used, nothing goes to the dead-letter queue.
FAKE_TG_TOKEN=$TOKEN start_fake dead "$CORP_SRC/contrib/fake-telegram-api"
kill "$bgpid"
wait "$bgpid" 2>/dev/null
live=$CORP_TELEGRAM_API
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
q corp-task create --as admin --title "Outage" --assignee ann
q corp-event route
run corp-pipeline --channel telegram --send-opt --allow-http
is "$rc" 0 "corp-pipeline exits 0: the row waits"
is "$(unport "$err")" "corp-send: delivery 6: retry: telegram: Couldn't connect to server: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn't connect to server (unreachable: paused 30s) trace=$(corp-event show 6 | jq -r .trace_id)
corp-pipeline: telegram: paused until 2026-03-02T09:00:30Z: telegram: Couldn't connect to server: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn't connect to server (1 rows waiting, the oldest 0s)
corp-pipeline: sent 0 retry 1 failed 0 held 0" \
    "the row waits 30 s; the pause is said once, the summary counts a retry"
CORP_NOW=2026-03-02T09:03:00Z run corp-deliver run --channel telegram \
    --allow-http --until-empty
is "$rc" 0 "so does run"
is "$(unport "$err")" "2026-03-02T09:03:00.000Z corp-deliver: delivery 6: retry: telegram: Couldn't connect to server: Failed to connect to 127.0.0.1 port PORT after N ms: Couldn't connect to server (unreachable: paused 60s) trace=$(corp-event show 6 | jq -r .trace_id)
2026-03-02T09:03:00.000Z corp-deliver: telegram: sent 0 retry 1 failed 0 held 0" \
    "the pause doubles while the API is down"
is "$(explained 6 ann telegram)" '["created","7001","PENDING",0,["retry","retry"]]' \
    "explain: two retries that used no attempt"
is "$(queue telegram)" "PENDING ready 1, SENT ready 5" "stats: nothing failed"
export CORP_TELEGRAM_API=$live
n=$(($(wc -l < "$T/tr") + 1))
CORP_NOW=2026-03-02T09:30:00Z run corp-pipeline --channel telegram \
    --send-opt --allow-http
is "$rc:$err" "0:" "the API back, the next cycle sends it"
is "$(sent $n)" "7001 📋 You have a new task: <b>Outage</b>

<a href=\"https://corp.example/tasks/6\">Open task #6</a>" "to ann"
is "$(queue telegram)" "SENT ready 6" "stats: all sent"
done_testing
