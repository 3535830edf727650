#!/bin/sh
# corp-event route writes its decisions and rows CORP_QROWS (32) to a
# statement (issue 18, figure 3): an event for 45 members on two
# channels stores exactly what --dry-run decided, row for row, through
# the batched statements and the single ones for the rest, and of two
# rows for one (event, user, channel) -- a fallback onto a channel the
# event's own setting there reached first -- the first made stays.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$* failed"; }

q corp-org add big --title Big
awk 'BEGIN { for (i = 0; i < 45; i++)
    printf "{\"login\":\"u%d\",\"name\":\"U %d\",\"unit\":\"big\"}\n", i, i }' |
    q corp-user import
# Binds: u0-u29 on telegram, u20-u44 on email.
awk 'BEGIN { for (i = 0; i < 30; i++)
	printf "{\"login\":\"u%d\",\"channel\":\"telegram\",\"address\":\"%d\"}\n", i, 7000 + i
    for (i = 20; i < 45; i++)
	printf "{\"login\":\"u%d\",\"channel\":\"email\",\"address\":\"u%d@example.org\"}\n", i, i }' |
    q corp-bind import
# Executors on email too; telegram falls back to email.
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email --enabled --priority p2p --template task_created
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel telegram --enabled --priority p2p --template task_created \
    --fallback email
q corp-task create --as admin --title "Report" --unit big

ok "dry run" corp-event route --dry-run
dry=$out
ok "route" corp-event route
is "$(printf '%s' "$out" | jq -c '[.events, .recipients, .rows, .decisions.created, .decisions.fallback, .decisions.no_bind]')" \
    "[1,46,70,55,15,20]" "summary: 55 created, 15 fallbacks, 20 without an email bind"

# Every decision as the dry run made it (decided_at is CORP_NOW).
expect=$(printf '%s\n' "$dry" | jq -r 'select(.decision != null) |
    [.user_id, .channel, .decision, (.role // "-"), (.roles | join(",")),
     (.fallback // "-"), (.why // "-")] | map(tostring) | join("|")' | sort)
got=$(sql "SELECT user_id, channel, decision, coalesce(role, '-'), roles,
    coalesce(fallback, '-'), coalesce(why, '-') FROM route_decisions
    WHERE decided_at = $(date -u -d "$CORP_NOW" +%s)" | sort)
is "$got" "$expect" "route_decisions: the dry run's 92 decisions"
is "$(printf '%s\n' "$got" | wc -l | tr -d ' ')" 92 "46 recipients x 2 channels"

# The rows: the dry run's, the first one per (user, channel) kept.
expect=$(printf '%s\n' "$dry" | jq -r 'select(.row != null) |
    [.user_id, (.row.channel // .channel), .row.role, .row.priority,
     .row.template, .row.readiness] | map(tostring) | join("|")' |
    awk -F'|' '!seen[$1 "|" $2]++' | sort)
got=$(sql "SELECT user_id, channel, role, priority, template, readiness
    FROM deliveries" | sort)
is "$got" "$expect" "deliveries: the dry run's rows, the first per channel"
is "$(sql "SELECT channel || ':' || count(*) FROM deliveries GROUP BY channel ORDER BY channel" | tr '\n' ' ')" \
    "email:25 telegram:30 " "25 on email (15 fallbacks found their row), 30 on telegram"
# A row on telegram keeps email for the move; an email row has none.
is "$(sql "SELECT channel || ':' || coalesce(fallback, '-') || ':' || count(*)
    FROM deliveries GROUP BY channel, fallback ORDER BY channel" | tr '\n' ' ')" \
    "email:-:25 telegram:email:30 " "fallback column as one row at a time wrote it"
# Rows lie in the order they were decided: by user, email before
# telegram (the channels sorted), as one INSERT per row laid them.
is "$(sql "SELECT count(*) FROM deliveries a JOIN deliveries b
    ON b.id = a.id + 1 WHERE b.user_id < a.user_id")" 0 "ids in user order"
is "$(sql "SELECT count(*) FROM event_recipients")" 46 "46 recipients"
ok "route again" corp-event route
is "$(printf '%s' "$out" | jq -c '[.events, .rows]')" "[0,0]" "nothing twice"
done_testing
