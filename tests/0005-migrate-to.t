#!/bin/sh
# corp-db migrate-to: a SQLite database with rows in every table, copied
# into a fresh PostgreSQL database, equal row for row; ids and the event
# sequence kept; the tools answer the same on both; the refusals.
. "${CORP_SRC:-.}/tests/lib.sh"
if ! pg_mode; then
	echo "1..0 # SKIP needs PostgreSQL (make check-pg)"
	exit 0
fi
export CORP_DATA_DIR="$T/data"
mkdir -p "$CORP_DATA_DIR" && chmod 700 "$CORP_DATA_DIR"
pg=$(newdb) || bail "could not create a PostgreSQL database"
# The source: SQLite, whatever make check-pg says.
src=$T/src.db
export CORP_DB="$src"
export CORP_NOW=2026-01-05T10:00:00Z
t0=1767607200	# 2026-01-05T10:00:00Z

# ---- a company with a history, through the tools ----------------------
q() { "$@" >/dev/null || bail "setup: $*"; }
q corp-db init --admin admin
q corp-settings config set default_channel file
q corp-settings config set base_url https://corp.example
q corp-settings config set telegram.bot_username corp_test_bot
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel file --priority urgent
q corp-settings notify set --event-type TASK_CANCELLED --role initiator \
    --channel telegram --disabled
# A digest (issue 19): bob's TASK_ASSIGNED waits in an open digest.
q corp-settings notify set --event-type TASK_ASSIGNED --role executor \
    --channel file --digest 1h
q corp-org add root --title Root
q corp-org add sales --title "Sales & Co" --parent root --tz Europe/Berlin
q corp-user add ann --name "Ann Lee" --unit sales --lang en --tz Europe/Berlin
q corp-user add bob --name "Bob 'the' Builder" --unit sales --lang ru
q corp-user add eve --name "Eve|pipe" --unit root
# The head of root is made after root: users and org_units name each other.
q corp-org set-head root ann
q corp-org set-head sales bob
q corp-org delegate --principal ann --deputy eve --from 2026-01-01T00:00:00Z \
    --until 2026-02-01T00:00:00Z
q corp-bind add --user ann --channel file --address ann
q corp-bind add --user bob --channel file --address bob
q corp-bind add --user eve --channel file --address eve
q corp-bind add --user bob --channel telegram --address 1012
q corp-bind deactivate --user bob --channel telegram
q corp-settings prefs set --user ann --quiet-hours 22:00-07:00
q corp-settings mute --user eve --event-type TASK_DUE_SOON
q corp-template add --title "Weekly report" --schedule weekly --due "fri 16:00" \
    --assignee ann --initiator admin --starts 2026-01-01T00:00:00Z
q corp-task create --as admin --title "Q1 plan" --assignee ann \
    --due 2026-01-20T16:00:00Z --idempotency-key k1
q corp-task create --as admin --title "Line one
line two" --description "naïve ☃ \\ \"quoted\"" --unit sales
q corp-task create --as bob --title Draft --assignee eve --draft
q corp-task submit 1 --as ann --text "done, see link" --link https://x.example/r
q corp-task reject 1 --as admin --reason "not yet"
q corp-task submit 1 --as ann --text "now done"
q corp-task approve 1 --as admin
q corp-task assign 2 --as admin --assignee bob --unit sales
q corp-task set-due 2 --as admin --due 2026-01-06T09:00:00Z
q corp-task open 3 --as bob
q corp-task cancel 3 --as bob --reason "not needed"
q corp-task create --as bob --title "Still a draft" --assignee eve --draft
q corp-sched instances --until 2026-01-10T00:00:00Z
q corp-event route
# Deliveries: some sent, one failed for good, the rest pending.
corp-deliver pending --channel file --limit 3 | corp-fmt | corp-send file |
    corp-deliver ack >/dev/null || bail "setup: deliver"
corp-deliver pending --channel file --limit 1 |
    jq -c '. + {result: "failed", error: "HTTP 400: bad | chat"}' |
    corp-deliver ack >/dev/null || bail "setup: failed ack"
corp-deliver pending --channel file --limit 1 |
    jq -c '. + {result: "retry", error: "timeout"}' |
    corp-deliver ack >/dev/null || bail "setup: retry ack"
# Telegram: a code, messages with an edit, a callback, wrong codes until
# the chat is blocked, the bot's replies.
q corp-bind code --user eve
upd() {
	jq -cn --argjson u "$1" --argjson c "$2" --argjson m "$3" \
	    --argjson d "$4" --arg t "$5" --arg k "${6:-message}" \
	    '{update_id: $u, ($k): {message_id: $m, date: $d,
	      chat: {id: $c, type: (if $c < 0 then "group" else "private" end),
	             title: "Team"},
	      from: {id: 7, first_name: "Ann", last_name: "Lee", username: "ann"},
	      text: $t}}'
}
{
	upd 1 -100 10 "$t0" "We need to prepare the report by Friday"
	upd 2 -100 11 $((t0 + 60)) "@bob please fix the login page"
	upd 3 -100 12 $((t0 + 120)) "ok thanks everyone"
	jq -cn --argjson t "$t0" '{update_id: 4, edited_message: {message_id: 10,
	    date: $t, edit_date: ($t + 30), chat: {id: -100, type: "group",
	    title: "Team"}, from: {id: 7, first_name: "Ann"},
	    text: "We need to prepare the report by Monday"}}'
	jq -cn '{update_id: 5, callback_query: {id: "cb1", from: {id: 7,
	    first_name: "Ann"}, data: "x|y", message: {message_id: 10,
	    date: 1, chat: {id: -100, type: "group"}}}}'
	for i in 1 2 3 4 5 6; do upd $((5 + i)) 504 $((20 + i)) "$t0" "/start bad$i"; done
	upd 12 505 30 "$t0" "/start bad7"
	upd 13 505 31 "$t0" "/start bad8"
} >"$T/updates"
# Ann (Telegram user 7) binds her chat: a callback query from a chat
# without a bind is dropped, never stored (corp-msg(1)).
q corp-bind add --user ann --channel telegram --address 7
q corp-msg import "$T/updates"
# Analysis: a run with proposals decided, reviewed and closed.
q corp-analysis create --as admin --chat -100 --from 2026-01-05T09:00:00Z \
    --until 2026-01-05T11:00:00Z
q corp-analysis start 1 --as admin
q corp-proposal approve 1 --as admin --assignee ann
q corp-proposal reject 2 --as admin --reason "duplicate"
q corp-analysis review 1 --as admin
q corp-analysis close 1 --as admin
# The chat tied to a space (corp-api's space topics).
q corp-analysis tie --chat -100 --unit sales --as admin
q corp-event route
# An API token (corp-api), and a browser's Web Push subscription (a
# PushSubscription from the fake push service's subscribe: keys only,
# no server needed).
q corp-user token add admin --name ci
mkdir -p "$T/subs"
"$CORP_SRC/tests/fakes/fake-push" subscribe --dir "$T/subs" \
    --base http://127.0.0.1:9 --id eve1 > "$T/eve1.sub" || bail "subscribe"
q corp-settings config set webhook.allow 127.0.0.1/32
q corp-bind add --user eve --channel push --allow-http \
    --subscription "$T/eve1.sub"
# What no tool here writes: an offset of corp-tg poll, an invalid proposer
# line, event ids freed at the top (sqlite_sequence above the max),
# enough bot replies for the copy's multi-row inserts (200 rows each),
# and a button press (corp-tg against a Bot API, tests/0630).
# SQL write on purpose: rows in every table in a layout the copy must
# keep (ids freed at the top, a third as a REAL), which only the network
# tools, over hours, would leave.
sql_at "$src" "INSERT INTO tg_offsets VALUES ('abcdef0123456789', 42, $t0);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
        WHERE i < 450)
    INSERT INTO tg_outbox (chat_id, key, lang, text, status, created_at)
        SELECT 900 + i % 7, 'bot.start.bad_code', 'en', 'reply ' || i,
        'sent', $t0 + i FROM n;
    INSERT INTO proposal_errors (run_id, batch_seq, error, line, created_at)
        VALUES (1, 1, 'not JSON', 'garbage {', $t0);
    UPDATE analysis_runs SET errors_total = errors_total + 1 WHERE id = 1;
    UPDATE sqlite_sequence SET seq = seq + 5 WHERE name = 'events';
    UPDATE analysis_runs SET accuracy = 1.0 / 3 WHERE id = 1;
    INSERT INTO tg_button_presses (delivery_id, action, user_id, chat_id,
        callback_id, event_id, update_id, pressed_at)
        SELECT min(d.id), 'done', min(d.user_id), 7001, 'cb-1',
        min(d.event_id), 5, $t0 FROM deliveries d"

empty=$(for t in $(sql_at "$src" "SELECT name FROM sqlite_schema WHERE
    type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
	[ "$(sql_at "$src" "SELECT count(*) FROM \"$t\"")" = 0 ] && echo "$t"
done)
is "$empty" "" "the source has rows in every table"

# ---- the copy ---------------------------------------------------------
ok "migrate-to" corp-db migrate-to "$pg"
is "$(printf '%s' "$out" | jq -r '[.from, .to] | join(" ")')" "$src $pg" \
    "from and to"
is "$(printf '%s' "$out" | jq -c '.schema_version')" \
    "$(sql_at "$src" "PRAGMA user_version")" "the schema version"
counts=$(for t in $(printf '%s' "$out" | jq -r '.tables | keys[]'); do
	printf '%s:%s ' "$t" "$(sql_at "$src" "SELECT count(*) FROM \"$t\"")"
done)
is "$(printf '%s' "$out" | jq -r '.tables | to_entries |
    map("\(.key):\(.value) ") | join("")')" "$counts" \
    "the rows per table, as counted in the source"

# Every table row for row, ordered by its primary key (else by every
# column), in one text form: "|" between columns, NULL spelled out.  The
# same SQL file runs in sqlite3 and in psql.  A REAL prints as 15
# significant digits in sqlite3 and as the shortest exact form in psql:
# the dump shows it scaled to an integer, and the bits are compared on
# their own below.
queries() {
	for _t in "$@"; do
		sql_at "$src" "SELECT 'SELECT ''== $_t'';',
		    'SELECT ' || group_concat(CASE type WHEN 'REAL' THEN
		    'CAST(round(\"' || name || '\" * 1e15) AS BIGINT)' ELSE
		    '\"' || name || '\"' END, ', ') ||
		    ' FROM \"$_t\" ORDER BY ' || coalesce((SELECT
		    group_concat('\"' || name || '\"', ', ') FROM (SELECT name
		    FROM pragma_table_info('$_t') WHERE pk > 0 ORDER BY pk)),
		    group_concat('\"' || name || '\"', ', ')) || ';'
		    FROM pragma_table_info('$_t')" | tr '|' '\n'
	done
}
dump() {
	case $1 in
	sqlite) sqlite3 -batch -noheader -separator '|' -nullvalue '<NULL>' \
	    "$src" <"$T/q.sql" ;;
	*) psql -X -q -A -t -F '|' -P null='<NULL>' -v ON_ERROR_STOP=1 \
	    -d "$1" -f "$T/q.sql" ;;
	esac
}
# shellcheck disable=SC2046
queries $(printf '%s' "$out" | jq -r '.tables | keys[]') >"$T/q.sql"
dump sqlite >"$T/a"
dump "$pg" >"$T/b"
is "$(grep -c '^== ' "$T/b")" "$(printf '%s' "$out" | jq '.tables | length')" \
    "every table dumped"
is "$(wc -l <"$T/a")" "$(wc -l <"$T/b")" "as many lines on both"
if cmp -s "$T/a" "$T/b"; then
	pass "every table equal row for row"
else
	fail "every table equal row for row" "$(diff "$T/a" "$T/b" | head -30)"
fi

acc=$(sql_at "$src" "SELECT printf('%.17g', accuracy) FROM analysis_runs")
is "$(sql_at "$pg" "SELECT accuracy = CAST('$acc' AS DOUBLE PRECISION)
    FROM analysis_runs")" t "a REAL arrives with the same bits ($acc)"

# ---- the tools on both -------------------------------------------------
for c in "corp-event list --limit 1000" "corp-deliver stats" \
    "corp-task list" "corp-org list --json" "corp-analysis show 1" \
    "corp-proposal list --run 1" "corp-msg list" "corp-deliver dlq" \
    "corp-settings notify list"; do
	# shellcheck disable=SC2086
	a=$(CORP_DB=$src $c 2>&1)
	# shellcheck disable=SC2086
	b=$(CORP_DB=$pg $c 2>&1)
	is "$b" "$a" "$c: the same on both"
done
ok "check on the copy" env CORP_DB="$pg" corp-db check

# Ids: a new event goes above every id SQLite ever gave, also the freed
# ones; new users and tasks above the copied ones.
seq=$(sql_at "$src" "SELECT seq FROM sqlite_sequence WHERE name = 'events'")
maxuser=$(sql_at "$src" "SELECT max(id) FROM users")
export CORP_DB="$pg"
ok "a user on PostgreSQL" corp-user add zed --unit sales
is "$(printf '%s' "$out" | jq .user_id)" $((maxuser + 1)) "takes the next user id"
ok "a task on PostgreSQL" corp-task create --as admin --title New --assignee zed
is "$(printf '%s' "$out" | jq .event_id)" $((seq + 1)) \
    "its event id is above every id SQLite handed out"

maxout=$(sql_at "$src" "SELECT max(id) FROM tg_outbox")
is "$(sql_at "$pg" "SELECT nextval(pg_get_serial_sequence('tg_outbox', 'id'))")" \
    $((maxout + 1)) "every identity sequence moved past its ids"

# ---- refusals ----------------------------------------------------------
export CORP_DB="$src"
is_rc 79 "a target that is not empty" corp-db migrate-to "$pg"
like "$err" "not empty: table [a-z_]+ has [0-9]+ rows?" "says why"
pguser=$(id -un)
pgdb=${pg#postgresql:///}
pgdb=${pgdb%%\?*}
is_rc 64 "a password in the argument" corp-db migrate-to \
    "postgresql://$pguser:Sekr1tPw@/$pgdb?host=$CORP_TEST_PG"
like "$err" "password in the connection string is refused" "says why"
unlike "$out$err" "Sekr1tPw" "and never shows it"
is_rc 64 "a password in a key=value argument" corp-db migrate-to \
    "dbname=$pgdb host=$CORP_TEST_PG password=Sekr1tPw"
unlike "$out$err" "Sekr1tPw" "never shown"
is_rc 64 "a source that is PostgreSQL" env CORP_DB="$pg" corp-db migrate-to "$(newdb)"
like "$err" "is PostgreSQL already" "says why"
is_rc 64 "a target that is not PostgreSQL" corp-db migrate-to "$T/other.db"
is_rc 64 "no target" corp-db migrate-to
is_rc 64 "two targets" corp-db migrate-to "$pg" "$pg"

# A target made by corp-db init, with its seeded rows only, is fine; the
# seeds become the source's.
pg2=$(newdb)
CORP_DB=$pg2 corp-db init >/dev/null
ok "into an initialised empty database" corp-db migrate-to "$pg2"
queries notification_settings route_state >"$T/q.sql"
dump sqlite >"$T/a"
dump "$pg2" >"$T/b"
ok "the seeded settings are the source's" cmp "$T/a" "$T/b"
# The same target with an admin made by init --admin: not empty.
pg3=$(newdb)
CORP_DB=$pg3 corp-db init --admin root >/dev/null
is_rc 79 "a target with a user" corp-db migrate-to "$pg3"
like "$err" "table users has 1 row;" "names the table"
is "$(sql_at "$pg3" "SELECT count(*) FROM events")" 0 "nothing copied"

# A row PostgreSQL refuses half-way (bytes that are not UTF-8, which
# SQLite keeps): nothing of the copy stays, and once the source is
# mended the same target takes it.
src2=$T/src2.db
q env CORP_DB="$src2" corp-db init --admin admin
q env CORP_DB="$src2" corp-org add hq --head admin
q env CORP_DB="$src2" corp-task create --as admin --title "to mend" --unit hq
# SQL write on purpose: bytes that are not UTF-8, which every corp tool
# refuses but an SQLite file can hold; mended the same way below.
sql_at "$src2" "UPDATE tasks SET title = CAST(x'6f6bff' AS TEXT)"
pg4=$(newdb)
is_rc 1 "a row PostgreSQL refuses" env CORP_DB="$src2" corp-db migrate-to "$pg4"
like "$err" "^corp-db: migrate-to: tasks: .*(UTF8|encoding)" \
    "names the table and PostgreSQL's reason"
is "$(sql_at "$pg4" "SELECT (SELECT count(*) FROM users) +
    (SELECT count(*) FROM org_units) + (SELECT count(*) FROM events)")" 0 \
    "nothing of it stays"
# SQL write on purpose: the corruption above undone.
sql_at "$src2" "UPDATE tasks SET title = 'mended'"
ok "the same target once the source is mended" \
    env CORP_DB="$src2" corp-db migrate-to "$pg4"
is "$(sql_at "$pg4" "SELECT title FROM tasks")" mended "copied"

done_testing
