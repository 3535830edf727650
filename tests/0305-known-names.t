#!/bin/sh
# corp-bind refuses a channel corp does not deliver on, with the closest
# one; deactivate still reaches a bind an older corp stored.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
corp-user add ann >/dev/null

# The shipped settings are on telegram: with another default channel and
# nobody bound to telegram they never fire, one warning for all of them.
corp-settings config set default_channel file
run corp-db check
is "$rc" 0 "a warning leaves the exit status alone"
like "$err" "^corp-db: check settings_fire: warning: [0-9]+ enabled settings on telegram: nobody is bound to telegram and it is not the default channel \\(file\\)\$" \
    "one problem for every setting on the unbound channel"
corp-settings config unset default_channel

is_rc 64 "add on a misspelt channel" corp-bind add --user ann \
    --channel telgram --address 1001
is "$err" "corp-bind: unknown channel 'telgram' (did you mean 'telegram'?)" \
    "suggests the channel"
is_rc 64 "add on a channel corp does not have" corp-bind add --user ann \
    --channel sms --address 1001
is "$err" "corp-bind: unknown channel 'sms' (channels: telegram, email, webhook, exec, file, push)" \
    "lists the channels"
is_rc 64 "list filtered on a misspelt channel" corp-bind list --channel emial
is "$err" "corp-bind: unknown channel 'emial' (did you mean 'email'?)" \
    "rather than listing nothing"
is_rc 65 "a malformed channel stays invalid input" corp-bind add --user ann \
    --channel 'Tele gram' --address 1001
is "$(sql "SELECT count(*) FROM binds")" 0 "nothing stored"
ok "a known channel" corp-bind add --user ann --channel telegram --address 1001

# A bind on a channel that an older corp let through, written directly:
# corp-bind no longer can.  It can still be deactivated.
# SQL write on purpose: an older corp's data, which corp-bind now refuses.
sql "INSERT INTO binds (user_id, channel, address, active, created_at,
    updated_at) SELECT id, 'sms', '+100', 1, 0, 0 FROM users WHERE login = 'ann'"
ok "deactivate reaches it" corp-bind deactivate --user ann --channel sms
is "$(sql "SELECT channel || ':' || active FROM binds ORDER BY channel" |
    tr '\n' ' ')" "sms:0 telegram:1 " "deactivated"
# Every tool that takes a channel or an event type on its command line
# refuses a misspelt one the same way: a claim, a listing or a cursor on
# 'telgram' would find nothing and say nothing.
for c in "corp-deliver pending --channel telgram" \
    "corp-deliver dlq --channel telgram" \
    "corp-deliver requeue --channel telgram --all-failed" \
    "corp-deliver run --channel telgram --until-empty" \
    "corp-cursor get --channel telgram" \
    "corp-cursor set --channel telgram 1:1" \
    "corp-cursor advance --channel telgram" \
    "corp-send telgram"; do
	is_rc 64 "$c" $c
	is "$out" "" "($c prints nothing)"
	is "$err" "${c%% *}: unknown channel 'telgram' (did you mean 'telegram'?)" \
	    "($c suggests the channel)"
done
ok "no cursor file was started" test ! -e \
    "$CORP_DATA_DIR/bot_deliveries_cursor_telgram.json"
is_rc 64 "a sender for no channel at all" corp-send pigeon
is "$err" "corp-send: unknown channel 'pigeon' (channels: telegram, email, webhook, exec, file, push)" \
    "lists the channels"
is_rc 64 "requeue of a misspelt event type" corp-deliver requeue \
    --type task_created
is "$err" "corp-deliver: unknown event type 'task_created' (did you mean 'TASK_CREATED'?)" \
    "suggests the type"
is_rc 65 "a malformed channel is invalid input" corp-deliver pending \
    --channel 'Tele gram'
is "$err" "corp-deliver: channel 'Tele gram': expected 1-32 of a-z 0-9 _ -" \
    "says what a channel looks like"
ok "a known channel" corp-deliver dlq --channel telegram
ok "a known type" corp-deliver requeue --type TASK_CREATED
is "$out" '{"requeued":0}' "(nothing to requeue)"
ok "cursor of a known channel" corp-cursor get --channel email
is "$out" "0:0" "(no cursor yet)"
# A misspelt task state listed nothing with exit 0.
is_rc 64 "task list on a misspelt state" corp-task list --state OPNE
is "$out" "" "(lists nothing)"
is "$err" "corp-task: unknown task state 'OPNE' (did you mean 'OPEN'?)" \
    "suggests the state"
is_rc 64 "a word far from every state" corp-task list --state closed
is "$err" "corp-task: unknown task state 'closed' (states: DRAFT, OPEN, WAITING_APPROVAL, DONE, CANCELLED)" \
    "lists the states"
ok "a known state" corp-task list --state WAITING_APPROVAL
done_testing
