#!/bin/sh
# A notification setting's fallback channel (issue 19 "Fallback";
# corp-settings.1 "Fallback"): route makes the row on the fallback when
# the user has no active bind on the setting's channel and one there;
# route's housekeeping moves a row that waited longer than fallback_after;
# explain says why; never a row on both.  The shipped rows fall back from
# telegram to push (seed 003), and an older database gets the same.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" >/dev/null || bail "$* failed"; }
last() { sql "SELECT max(event_id) FROM events"; }
q corp-settings config set webhook.allow 127.0.0.1/32
mkdir -p "$T/subs"
# sub ID LOGIN: a browser's push subscription (keys only, no server).
sub() {
	"$CORP_SRC/tests/fakes/fake-push" subscribe --dir "$T/subs" \
	    --base http://127.0.0.1:9 --id "$1" > "$T/$1.sub" ||
	    bail "subscribe $1"
	q corp-bind add --user "$2" --channel push --allow-http \
	    --subscription "$T/$1.sub"
}
# rows EV LOGIN: the user's rows of the event, channel|status|readiness
rows() {
	sql "SELECT channel || '|' || status || '|' || readiness FROM deliveries
	    WHERE event_id = $1 AND user_id = (SELECT id FROM users
	    WHERE login = '$2') ORDER BY channel" | tr '\n' ' '
}
# dec EV LOGIN: the user's decisions, channel|decision|fallback|why
dec() {
	sql "SELECT channel || '|' || decision || '|' ||
	    coalesce(fallback, '-') || '|' || coalesce(why, '-')
	    FROM route_decisions WHERE event_id = $1 AND user_id =
	    (SELECT id FROM users WHERE login = '$2') ORDER BY channel" |
	    tr '\n' ' '
}
NKEY="--event-type TASK_CREATED --role executor --channel telegram"

# 1. The setting.
ok "shipped" corp-settings notify list $NKEY
is "$(printf '%s' "$out" | jq -r .fallback)" push \
    "a shipped telegram row falls back to push (seed 003)"
is "$(corp-settings notify list --channel telegram |
    jq -r 'select(.fallback != "push") | .event_type')" "" \
    "every shipped telegram row does"
run corp-settings notify set $NKEY --fallback telgram
is "$rc:$err" "64:corp-settings: fallback: unknown channel 'telgram' (did you mean 'telegram'?)" \
    "an unknown fallback channel: 64, with the closest"
run corp-settings notify set $NKEY --fallback telegram
is "$rc:$err" "65:corp-settings: fallback 'telegram': the setting's own channel (a fallback is another channel)" \
    "the row's own channel is no fallback: 65"
run corp-settings notify set $NKEY --fallback 'Push!'
is "$rc" 65 "a malformed channel: 65"
run corp-settings notify set $NKEY --fallback push --no-fallback
is "$rc" 64 "--fallback and --no-fallback exclude each other"
ok "--no-fallback" corp-settings notify set $NKEY --no-fallback
is "$(printf '%s' "$out" | jq -c '[.fallback, .enabled, .priority]')" \
    '[null,true,"p2p"]' "removed; the rest kept"
ok "--fallback email" corp-settings notify set $NKEY --fallback email
is "$(printf '%s' "$out" | jq -r .fallback)" email "set"
ok "--priority keeps it" corp-settings notify set $NKEY --priority p2p
is "$(printf '%s' "$out" | jq -r .fallback)" email "unnamed: kept"
q corp-settings notify set $NKEY --fallback push
ok "a new row" corp-settings notify set --event-type TASK_CREATED \
    --role executor --channel email --fallback push --disabled
is "$(printf '%s' "$out" | jq -c '[.channel, .fallback, .enabled]')" \
    '["email","push",false]' "a new row takes it"
q corp-settings notify unset --event-type TASK_CREATED --role executor \
    --channel email
is "$(corp-settings config get fallback_after)" 0 "fallback_after: default 0"
run corp-settings config set fallback_after 30x
is "$rc:$err" "65:corp-settings: fallback_after: '30x': expected a duration (30m, 1h30m, 2d) or 0 for never" \
    "a bad fallback_after: 65"
ok "fallback_after 0" corp-settings config set fallback_after 0
q corp-settings config unset fallback_after

# 2. Route time: eve has no telegram bind, and a push subscription.
sub eve1 eve
q corp-task create --as boss --title "For Eve" --assignee eve --unit root
ev=$(last)
ok "dry run" corp-event route --dry-run
is "$(printf '%s\n' "$out" | jq -c "select(.user_id == $eve) |
    [.channel, .decision, .fallback, .why, .row.channel, .row.readiness]")" \
    '["telegram","fallback","push","no telegram bind","push","ready"]' \
    "the dry run's line: decision, channel taken, why, the row there"
ok "route" corp-event route
is "$(printf '%s' "$out" | jq -c '[.decisions.fallback, .decisions.created, .rows, .moved]')" \
    "[1,0,1,0]" "summary: one fallback"
is "$(rows $ev eve)" "push|PENDING|ready " "one row, on push, ready"
is "$(dec $ev eve)" "telegram|fallback|push|no telegram bind " \
    "the decision on telegram says where and why"
is "$(sql "SELECT role || '|' || priority || '|' || template ||
    '|' || coalesce(fallback, '-') FROM deliveries WHERE event_id = $ev")" \
    "executor|p2p|task_created|-" \
    "the row has the setting's priority and template, and no further fallback"
ok "explain" corp-deliver explain --event "$ev" --user eve
is "$(printf '%s' "$out" | jq -c '[.decisions[] | {channel, decision, fallback, why}],
    [.deliveries[] | [.channel, .status]]')" \
    '[{"channel":"telegram","decision":"fallback","fallback":"push","why":"no telegram bind"}]
[["push","PENDING"]]' "explain: fallback: no telegram bind"
ok "peek push" corp-deliver pending --channel push --peek
is "$(printf '%s\n' "$out" | jq -r 'select(.event.event_id == '"$ev"') |
    [.login, .template] | join(" ")')" "eve task_created" \
    "the push claim gives it out"

# An inactive telegram bind: ann.
sub ann1 ann
q corp-bind deactivate --user ann --channel telegram
q corp-task create --as boss --title "For Ann" --assignee ann
ev=$(last)
q corp-event route
is "$(rows $ev ann)" "push|PENDING|ready " "ann: on push"
is "$(dec $ev ann)" "telegram|fallback|push|telegram bind inactive " \
    "why: the telegram bind is inactive"
# An active telegram bind: no fallback (sam has push too).
sub sam1 sam
q corp-task create --as boss --title "For Sam" --assignee sam
ev_sam=$(last)
q corp-event route
is "$(rows $ev_sam sam)" "telegram|PENDING|ready " "an active bind: telegram"
is "$(dec $ev_sam sam)" "telegram|created|-|- " "decision created"

# A muted fallback is none: bob mutes push; his telegram bind is inactive.
sub bob1 bob
q corp-settings mute --user bob --channel push
q corp-bind deactivate --user bob --channel telegram
q corp-task create --as boss --title "For Bob" --assignee bob
ev_bob=$(last)
q corp-event route
is "$(rows $ev_bob bob)" "telegram|PENDING|waiting_bind " \
    "muted push: the row waits on telegram"
is "$(dec $ev_bob bob)" "telegram|created|-|- " "created, no fallback"
is "$(sql "SELECT fallback FROM deliveries WHERE event_id = $ev_bob")" push \
    "the row keeps its setting's fallback for later"

# 3. The move.  fallback_after 0 (default): route time only.
q corp-settings unmute --user bob --channel push
CORP_NOW=2026-01-05T12:00:00Z ok "route, 2h later" corp-event route
is "$(printf '%s' "$out" | jq .moved)" 0 "fallback_after 0: nothing moves"
is "$(rows $ev_bob bob)" "telegram|PENDING|waiting_bind " "still waiting"
q corp-settings config set fallback_after 30m
CORP_NOW=2026-01-05T10:29:00Z ok "route at 29 minutes" corp-event route
is "$(printf '%s' "$out" | jq .moved)" 0 "not yet"
q corp-settings mute --user bob --channel push
CORP_NOW=2026-01-05T10:31:00Z ok "route, push muted" corp-event route
is "$(printf '%s' "$out" | jq .moved)" 0 "never to a muted channel"
q corp-settings unmute --user bob --channel push
CORP_NOW=2026-01-05T10:31:00Z ok "route at 31 minutes" corp-event route
is "$(printf '%s' "$out" | jq -c '[.moved, .events]')" "[1,0]" \
    "moved, with no event to route"
is "$(rows $ev_bob bob)" "push|PENDING|ready " "the row is on push, ready"
is "$(sql "SELECT attempts || '|' || coalesce(fallback, '-') || '|' ||
    CAST(waiting_since IS NULL AS INTEGER) FROM deliveries
    WHERE event_id = $ev_bob")" "0|-|1" "attempts afresh, no second move"
is "$(dec $ev_bob bob)" "telegram|fallback|push|waited 30m for a telegram bind " \
    "the decision becomes fallback"
ok "explain a moved row" corp-deliver explain --event "$ev_bob" --user bob
is "$(printf '%s' "$out" | jq -c '[.decisions[] | [.decision, .why, .decided_at]]')" \
    '[["fallback","waited 30m for a telegram bind","2026-01-05T10:31:00Z"]]' \
    "explain: why and when"
# A telegram bind after the move brings no second row.
q corp-bind add --user bob --channel telegram --address 1012
CORP_NOW=2026-01-05T11:00:00Z q corp-event route
is "$(rows $ev_bob bob)" "push|PENDING|ready " "never both: still one row, on push"
is "$(corp-deliver pending --channel telegram --peek |
    jq -r 'select(.event.event_id == '"$ev_bob"') | .login')" "" \
    "nothing of it to claim on telegram"

# 4. The event has a row on the fallback already: its own push setting.
# Route time: one row.  Later: the waiting telegram row is failed.
q corp-settings notify set --event-type TASK_DUE_CHANGED --role executor \
    --channel push
q corp-task set-due 1 --as boss --due 2026-01-20T16:00:00Z
ev=$(last)
q corp-event route
is "$(rows $ev eve)" "push|PENDING|ready " \
    "eve: one row, though push has its own setting and telegram falls back"
is "$(dec $ev eve)" "push|created|-|- telegram|fallback|push|no telegram bind " \
    "both decisions stored"
# sam: both binds inactive at route time: two rows wait.
q corp-bind deactivate --user sam --channel telegram
q corp-bind deactivate --user sam --channel push
q corp-task set-due "$(sql "SELECT task_id FROM events WHERE event_id = $ev_sam")" \
    --as boss --due 2026-01-20T16:00:00Z
ev=$(last)
CORP_NOW=2026-01-05T11:00:00Z q corp-event route
is "$(rows $ev sam)" "push|PENDING|waiting_bind telegram|PENDING|waiting_bind " \
    "neither reaches sam better: a row waits on each"
q corp-bind add --user sam --channel push --allow-http \
    --subscription "$T/sam1.sub"
CORP_NOW=2026-01-05T11:31:00Z ok "route" corp-event route
is "$(printf '%s' "$out" | jq .moved)" 2 \
    "counted: this row and sam's first, waiting on telegram since 10:00"
is "$(rows $ev_sam sam)" "push|PENDING|ready " "sam's first row moved"
is "$(sql "SELECT channel || '|' || status || '|' || coalesce(error, '-')
    FROM deliveries WHERE event_id = $ev AND user_id = $sam ORDER BY channel" |
    tr '\n' ' ')" "push|PENDING|- telegram|FAILED|fallback: a row on push exists " \
    "the telegram row fails: the message goes on push"
is "$(dec $ev sam)" "push|created|-|- telegram|fallback|push|waited 30m for a telegram bind; a row on push exists " \
    "and its decision says so"

# 5. corp-event route --follow: a pass at start moves what is due.
q corp-bind deactivate --user ann --channel push
q corp-task create --as boss --title "Ann again" --assignee ann
ev=$(last)
q corp-event route
is "$(rows $ev ann)" "telegram|PENDING|waiting_bind " \
    "ann without any active bind: waits on telegram (the default channel)"
q corp-bind add --user ann --channel push --allow-http \
    --subscription "$T/ann1.sub"
CORP_NOW=2026-01-05T11:00:00Z ok "route moves it" corp-event route
is "$(rows $ev ann)" "push|PENDING|ready " "moved"

ok "corp-db check clean" corp-db check

# 6. An older database: the shipped rows gain the fallback, decisions stay.
if if_sqlite "corp-db migrate --to on a fresh file"; then
	prev=$(ls "$CORP_SRC"/lib/sql/[0-9]*.sql | grep -B1 -- '-fallback\.sql$' |
	    head -1 | xargs basename | sed 's/-.*//; s/^0*//')
	mkdir -p "$T/old" && chmod 700 "$T/old" && : > "$T/old/corp.db"
	CORP_DATA_DIR="$T/old" q corp-db migrate --to "$prev"
	# SQL write on purpose: what the old release's route and
	# corp-settings left (today's tools would migrate the database first).
	sqlite3 "$T/old/corp.db" "PRAGMA foreign_keys = ON;
	    INSERT INTO users (id, login, name, created_at, updated_at)
	    VALUES (1, 'ann', 'Ann', 100, 100);
	    INSERT INTO route_decisions VALUES
	    (7, 1, 'telegram', 'no_bind', 'executor', 'executor', 100);
	    INSERT INTO notification_settings VALUES ('booking_done',
	    'client', 'telegram', 1, 'p2p', 'booking_done', 0)"
	CORP_DATA_DIR="$T/old" q corp-db migrate
	is "$(sqlite3 "$T/old/corp.db" "SELECT event_id, user_id, channel,
	    decision, role, roles, decided_at, coalesce(fallback, '-')
	    FROM route_decisions")" "7|1|telegram|no_bind|executor|executor|100|-" \
	    "a decision survives the table's remaking"
	is "$(sqlite3 "$T/old/corp.db" "SELECT event_type || ' ' || role || ' ' ||
	    coalesce(fallback, '-') FROM notification_settings
	    WHERE event_type = 'booking_done' ORDER BY role")" \
	    "booking_done admin push
booking_done client -" "a shipped row falls back; the operator's own does not"
	CORP_DATA_DIR="$T/old" ok "check" corp-db check
fi
done_testing
