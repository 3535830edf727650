#!/bin/sh
# A channel with nothing to send is not an error (op-review 3): the
# shipped settings are on telegram, so README's `corp-pipeline --mode
# run` asks corp-deliver run for telegram every minute; without a bot
# token and without a telegram row due it exits 0 and says nothing.
# The token is needed, and missing it is an error, once a row is due.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
# run is a loop: off the journal its lines start with their time
# (corp.7 Errors).
TS='2026-01-05T10:00:00.000Z '
unset CORP_TELEGRAM_TOKEN
P="$CORP_SRC/contrib/corp-pipeline"
q() { "$@" >/dev/null || bail "$*"; }
q corp-org add ops --title Ops
q corp-user add ann --unit ops --lang en

run corp-deliver run --channel telegram --until-empty
is "$rc:$err" "0:" "run: no telegram row, no token: 0, silent"
is "$(printf '%s\n' "$out" | jq -c '[.claimed, .sent]')" "[0,0]" "nothing claimed"
run "$P" --mode run
is "$rc:$err" "0:" "corp-pipeline --mode run: 0, silent"
run "$P" --mode pipe
is "$rc:$err" "0:" "pipe mode: the same"

# A telegram row due: now the missing token is the operator's problem.
q corp-bind add --user ann --channel telegram --address 7001
q corp-task create --title "Till" --assignee ann --as admin
q corp-event route
run corp-deliver run --channel telegram --until-empty
is "$rc" 78 "a row due without a token: 78, a configuration error"
is "$(printf '%s\n' "$err" | sed -n 1p)" "${TS}corp-deliver: secret telegram_token: no CORP_TELEGRAM_TOKEN in the environment and no file $CORP_DATA_DIR/secrets/telegram_token; every remaining line passes on as retry" \
    "says which secret, once the row is there"
is "$(sql "SELECT status, attempts FROM deliveries")" "PENDING|0" \
    "the row waits, no attempt used"
done_testing
