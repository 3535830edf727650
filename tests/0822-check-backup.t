#!/bin/sh
# corp-db check of a backup, as corp-db.1's nightly example runs it
# (op-review 11): --quiet says nothing unless the backup is broken (or
# a configuration error holds rows), so cron mails only then; and the
# data dir's cursor files are not judged against a backup (an older
# copy is naturally behind them): that check is skipped, and says so.
. "${CORP_SRC:-.}/tests/lib.sh"
sqlite_only "a backup is a SQLite file"
setup
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$*"; }
q corp-org add ops --title Ops
q corp-user add ann --unit ops --lang en
B="$T/backup.db"
q corp-db backup "$B"
q corp-task create --title "Till" --assignee ann --as admin
q corp-cursor set --channel telegram 1:1

run corp-db check --db "$B"
is "$rc" 0 "a backup older than the cursor files: 0"
is "$(printf '%s\n' "$out" | jq -c 'select(.check == "cursor_within_events") | [.ok, .skipped, .detail]')" \
    "[true,true,\"skipped: $B is not the data directory's database, whose cursor files these are\"]" \
    "the cursor check is skipped, and says why"
like "$err" "check base_url: warning" "the warnings still show without --quiet"
ok "the nightly line is silent on success" sh -c \
    "corp-db backup '$T/n.db' >/dev/null && corp-db check --quiet --db '$T/n.db'"
is "$out$err" "" "no output at all"
ok "the live database still checks its cursors" corp-db check --quiet
is "$out$err" "" "(the cursor is within its events)"
q corp-cursor set --channel telegram 9:1
run corp-db check --quiet
is "$rc" 65 "--quiet: a problem still fails"
is "$out" "" "no JSON lines"
is "$err" "corp-db: check cursor_within_events: cursor of channel telegram at event 9, beyond the last event 1" \
    "but the error is told (and no warning)"
# A broken backup is what the nightly check is for: corrupted on purpose.
# SQL write on purpose: a corruption for corp-db check to find
sqlite3 "$B" "PRAGMA foreign_keys = OFF; UPDATE users SET org_unit_id = 999 WHERE login = 'ann'"
run corp-db check --quiet --db "$B"
is "$rc" 65 "a broken backup: 65"
like "$err" "^corp-db: check foreign_keys: " "named"
is_rc 64 "check takes no arguments" corp-db check --quiet extra
done_testing
