#!/bin/sh
# PostgreSQL: corp's everyday commands leave no ERROR in the server's log
# (issue 15 item 14).  lib/pg.c learns parameter types from a probe;
# a parameter used only in "$N IS NULL" made that probe fail with
# "could not determine data type" -- two ERRORs per corp-event route,
# noise for anyone watching the server.  The log of make check-pg's
# cluster is DIR/server.log (tests/pg/cluster), each line naming its
# database, so this test reads only its own database's lines.
. "${CORP_SRC:-.}/tests/lib.sh"
pg_mode || { echo "1..0 # SKIP PostgreSQL only (make check-pg)"; exit 0; }
log=${CORP_TEST_PG%/sock}/server.log
[ -r "$log" ] || { echo "1..0 # SKIP the cluster's log is not at $log"; exit 0; }
setup
export CORP_NOW=2026-01-05T10:00:00Z
db=$(_pgname "$CORP_DB")
start=$(($(wc -l < "$log") + 1))
# errors: this database's ERROR lines since the test began.
errors() {
	tail -n "+$start" "$log" | grep -F " $db ERROR:" | sed 's/^.*ERROR: *//'
}

ok "org" corp-org add sales --title Sales
ok "user ann" corp-user add ann --unit sales
ok "user bob" corp-user add bob --unit sales
ok "bind ann" corp-bind add --user ann --channel file --address ann
ok "bind bob" corp-bind add --user bob --channel file --address bob
ok "file channel settings" corp-settings notify set --event-type TASK_CREATED \
    --role executor --channel file
ok "task" corp-task create --as admin --title "Report" --assignee ann
ok "assign" corp-task assign 1 --as admin --assignee bob
printf '%s\n' '{"idempotency_key":"b1","source":"shop","event_type":"booking_created","recipients":[{"user":"ann","role":"client"},{"user":"bob","role":"specialist"}],"payload":{"service":"Cut","specialist_name":"Bob","client_name":"Ann","starts_at":"2026-01-06T10:00:00Z"}}' > "$T/emit"
run_in "$T/emit" corp-event emit
is "$rc" 0 "emit a booking with explicit recipients"
ok "route" corp-event route
is "$(errors)" "" "route: no ERROR in the server's log"
ok "route --dry-run" corp-event route --dry-run
ok "pending --peek" corp-deliver pending --channel file --peek
run sh -c 'corp-deliver pending --channel file --limit 1 | corp-fmt |
    corp-send file --out "$T/outbox" | corp-deliver ack'
is "$rc" 0 "the pipe"
ok "run" corp-deliver run --channel file --out "$T/outbox" --until-empty
ok "stats" corp-deliver stats
ok "explain" corp-deliver explain --event 1 --user ann
ok "dlq" corp-deliver dlq
ok "requeue" corp-deliver requeue --event 1
ok "prune --dry-run" corp-deliver prune --sent-before -1d --dry-run
ok "prune" corp-deliver prune --sent-before -1d
ok "event list" corp-event list --as ann
ok "task list" corp-task list --as bob
ok "check" corp-db check
is "$(errors)" "" "no command left an ERROR in the server's log"
done_testing
