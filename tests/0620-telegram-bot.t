#!/bin/sh
# contrib/corp-telegram-bot against the fake Bot API, as an operator runs
# it (issue 15, item 4): --help and bad options start nothing, http://
# needs --allow-http, the loop binds a chat through /start CODE and then
# delivers a routed task notification while it runs, stops cleanly on
# SIGTERM (its parts with it), stops when a part fails, and --once makes
# one round.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup

BOT="$CORP_SRC/contrib/corp-telegram-bot"
TOKEN='777020:AAbot_Token-loop'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z CORP_RATE_LIMIT=off
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
corp-org add team --head admin >/dev/null
corp-user add ann --name Ann --unit team >/dev/null
corp-user add bob --name Bob --unit team >/dev/null
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
requests() { wc -l < "$T/tg.log"; }
# start CHAT CODE: a /start CODE update from the private chat CHAT.
uid=0
start() {
	uid=$((uid + 1))
	jq -cn --argjson u "$uid" --argjson c "$1" --arg t "/start $2" \
	    '{update_id: $u, message: {message_id: $u, date: 1767607200,
	    text: $t, chat: {id: $c, type: "private", first_name: "F"},
	    from: {id: $c, is_bot: false, first_name: "F"}}}' >> "$T/updates"
}
# wait_sent CHAT REGEX: bounded poll until the fake has sent a matching
# text to CHAT (30 s: a hang, not a timing).
wait_sent() {
	_i=0
	until jq -r 'select(.chat_id == '"$1"') | .text' "$T/tr" 2>/dev/null |
	    grep -Eq -- "$2"; do
		_i=$((_i + 1))
		[ "$_i" -gt 600 ] && return 1
		sleep 0.05
	done
}
sent() { jq -r 'select(.chat_id == '"$1"') | .text' "$T/tr" | tr '\n' '|'; }

# ---- --help and bad options start nothing ---------------------------
ok "--help" "$BOT" --help
is "$out" "usage: corp-telegram-bot [--once] [--allow-http]" "prints the usage"
is "$(requests)" 0 "and the bot did not start"
is_rc 64 "an unknown option" "$BOT" --frob
is "$err" "corp-telegram-bot: unknown option --frob (usage: corp-telegram-bot [--once] [--allow-http])" \
    "says so"
is "$(requests)" 0 "nothing started"
run "$BOT" --version
is "$rc:$out:$err" "0:corp-telegram-bot $(corp-tg --version | sed 's/^corp-tg //'):" \
    "--version: corp-telegram-bot VERSION, 0"
is "$(requests)" 0 "nothing started"

# ---- http:// needs --allow-http --------------------------------------
is_rc 64 "an http:// API without --allow-http: the loop stops with 64" \
    timeout 60 "$BOT"
like "$err" "CORP_TELEGRAM_API: expected an https:// URL" "corp-tg says why"
like "$err" "corp-telegram-bot: corp-(tg poll|deliver run) stopped \\(exit 64\\); stopping the others" \
    "and the bot says which part stopped"
is_rc 64 "the same with --once" "$BOT" --once
is "$(requests)" 0 "nothing was asked of the API"

# ---- the loop: bind, then route and deliver while it runs -----------
# A task for ann before she binds: its row waits for the bind.
corp-task create --as admin --title "Renew the certificate" \
    --assignee ann >/dev/null
code=$(corp-bind code --user ann | jq -r .code)
"$BOT" --allow-http >"$T/bot.out" 2>"$T/bot.err" &
botpid=$!
_pids="$_pids $botpid"
start 4001 "$code"
if wait_sent 4001 "Renew the certificate"; then
	pass "the bot bound ann's chat and delivered the waiting task"
else
	fail "the bot bound ann's chat and delivered the waiting task" \
	    "sent: $(sent 4001)" "stderr: $(cat "$T/bot.err")"
fi
is "$(corp-bind list --user ann | jq -r '[.channel, .address, .active] | @tsv')" \
    "$(printf 'telegram\t4001\ttrue')" "ann is bound through /start CODE"
like "$(sent 4001)" "^✅ You are now connected, Ann\\." "the reply came first"
# A task created while the bot runs reaches ann without another command.
corp-task create --as admin --title "Order new badges" --assignee ann \
    >/dev/null
if wait_sent 4001 "Order new badges"; then
	pass "a task created while the bot runs is routed and delivered"
else
	fail "a task created while the bot runs is routed and delivered" \
	    "sent: $(sent 4001)" "stderr: $(cat "$T/bot.err")"
fi
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
    "SENT|2" "both rows are SENT"
parts=$(ps -o pid= --ppid "$botpid" | tr -d ' ' | tr '\n' ' ')
is "$(printf '%s' "$parts" | wc -w)" 3 "three parts run side by side"
kill -TERM "$botpid"
wait "$botpid"
is "$?" 0 "SIGTERM stops the bot with 0"
left=0
for p in $parts; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
is "$left" 0 "and its parts with it"
is "$(grep -c -F "$TOKEN" "$T/bot.out" "$T/bot.err" "$T/tg.log" |
    grep -vc ':0$')" 0 "the token is in no output or log line"

# ---- a part killed by a signal: named, no shell noise, exit 1 -------
"$BOT" --allow-http >"$T/bot.out" 2>"$T/bot.err" &
botpid=$!
_pids="$_pids $botpid"
i=0
until [ "$(ps -o args= --ppid "$botpid" | grep -c '^corp-deliver-run ')" = 1 ] ||
    [ $i -gt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -KILL "$(ps -o pid=,args= --ppid "$botpid" | awk '$2 == "corp-deliver-run" { print $1 }')"
wait "$botpid"
is "$?" 1 "a part killed by SIGKILL: the bot exits 1"
is "$(cat "$T/bot.err")" "corp-telegram-bot: corp-deliver run stopped (killed by SIGKILL); stopping the others" \
    "names the part and the signal, without bash's report"

# ---- --once: one round ----------------------------------------------
codeb=$(corp-bind code --user bob | jq -r .code)
start 4002 "$codeb"
corp-task create --as admin --title "Water the plants" --assignee bob \
    >/dev/null
ok "--once" "$BOT" --once --allow-http
like "$(sent 4002)" "^✅ You are now connected, Bob\\. Task notifications will arrive in this chat\\.\\|📋 You have a new task: <b>Water the plants</b>" \
    "one round binds, routes and delivers"
ok "--once with nothing to do" "$BOT" --once --allow-http
is "$(jq -c 'select(.chat_id == 4002) | .message_id' "$T/tr" | wc -l)" 2 \
    "sends nothing again"
done_testing
