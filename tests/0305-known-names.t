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
is "$err" "corp-bind: unknown channel 'sms' (channels: telegram, email, webhook, exec, file)" \
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
done_testing
