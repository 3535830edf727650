#!/bin/sh
# corp-db check names each queue invariant a corrupted database breaks
# (lib/check_list.h): one corruption per copy of a healthy database,
# and no other invariant fires.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
for t in 1 2; do
	fixture_task "$t" 10 NULL 2
	fixture_event TASK_CREATED "$t" 1 10 NULL 2
done
corp-event route >/dev/null
corp-deliver pending --channel telegram --limit 2 | ack_all sent | corp-deliver ack >/dev/null
corp-deliver pending --channel telegram --limit 3 --worker w1 >/dev/null
ok "a healthy queue checks clean" corp-db check
is "$(printf '%s\n' "$out" | jq -r 'select(.ok | not) | .check')" "" "every check ok"
healthy=$(copydb "$(curdb)") || bail "no copy of the database"

# corrupt NAME SQL: apply SQL to a fresh copy; check must name NAME.
# SQLite is told to ignore CHECK constraints; PostgreSQL to fire no
# foreign key trigger (session_replication_role).
if pg_mode; then
	unchecked="SET session_replication_role = replica;"
else
	unchecked="PRAGMA ignore_check_constraints = ON;"
fi
corrupt() {
	c=$(copydb "$healthy") || bail "no copy of the database"
	sql_at "$c" "$unchecked $2" >/dev/null ||
	    bail "corruption for $1 failed"
	run env CORP_DB="$c" corp-db check
	is "$rc" 65 "$1: check exits 65"
	is "$(printf '%s\n' "$out" | jq -r 'select(.ok | not) | .check' | tr '\n' ' ')" \
	    "${4:-$1} " "$1: names that invariant${4:+ (and ${4% *})}"
	like "$err" "check $1: (.*; )?[^;]*$3" "$1: says what is wrong"
	rmdb "$c"
}

lid=$(sql "SELECT min(id) FROM deliveries WHERE lease_token IS NOT NULL")
corrupt sent_has_sent_at \
    "UPDATE deliveries SET sent_at = NULL WHERE id = 1" \
    "delivery 1 is SENT without sent_at"
corrupt one_lease_per_user \
    "INSERT INTO deliveries (event_id, user_id, channel, role, roles, priority, template, lease_token, lease_until, created_at, updated_at)
     SELECT 2, user_id, channel, role, roles, priority, template, 'other', lease_until, 0, 0 FROM deliveries WHERE id = $lid
     ON CONFLICT (event_id, user_id, channel) DO UPDATE
     SET lease_token = 'other', lease_until = excluded.lease_until" \
    "is leased under 2 tokens"
corrupt delivery_has_recipient \
    "DELETE FROM event_recipients WHERE event_id = 1 AND user_id = 11" \
    "has no event_recipients row"
corrupt readiness_follows_binds \
    "UPDATE binds SET active = 0 WHERE user_id = 12" \
    "is ready but user 12 has no active telegram bind"
corrupt readiness_follows_binds \
    "UPDATE deliveries SET readiness = 'waiting_bind' WHERE status = 'PENDING' AND user_id = 12" \
    "is waiting_bind but user 12 has an active telegram bind"
corrupt watermark_within_events \
    "UPDATE route_state SET watermark = 99" \
    "route watermark 99 is beyond the last event 2"
if pg_mode; then
	# PostgreSQL enforces every CHECK: the corruption drops it, and adds
	# it back NOT VALID, which check's foreign_keys names (a constraint
	# not validated).
	corrupt lease_token_and_until \
	    "DO \$\$DECLARE n text; d text; BEGIN
	     SELECT conname, pg_get_constraintdef(oid) INTO n, d
	     FROM pg_constraint WHERE conrelid = 'deliveries'::regclass
	     AND contype = 'c' AND pg_get_constraintdef(oid) LIKE
	     '%lease_token IS NULL%lease_until IS NULL%';
	     EXECUTE format('ALTER TABLE deliveries DROP CONSTRAINT %I', n);
	     UPDATE deliveries SET lease_until = NULL WHERE id = $lid;
	     EXECUTE format('ALTER TABLE deliveries ADD CONSTRAINT %I %s NOT VALID',
	         n, d);
	     END\$\$" \
	    "has lease_token and lease_until not both set" \
	    "foreign_keys lease_token_and_until"
else
	corrupt lease_token_and_until \
	    "UPDATE deliveries SET lease_until = NULL WHERE id = $lid" \
	    "has lease_token and lease_until not both set" \
	    "integrity lease_token_and_until"	# SQLite sees the CHECK too
fi

# The channel cursors beside the database (seed 000's files).
ok "a cursor at the last event is fine" corp-cursor set --channel telegram 2:12
ok "check with the cursor" corp-db check
ok "a cursor beyond the last event" corp-cursor set --channel telegram 99:1
run corp-db check
is "$rc" 65 "cursor_within_events: check exits 65"
is "$(printf '%s\n' "$out" | jq -r 'select(.ok | not) | .check')" \
    cursor_within_events "cursor_within_events: names that invariant"
like "$err" "cursor of channel telegram at event 99, beyond the last event 2" \
    "cursor_within_events: says what is wrong"
printf 'not json\n' > "$CORP_DATA_DIR/bot_deliveries_cursor_file.json"
run corp-db check
like "$err" "check cursor_within_events: .*bot_deliveries_cursor_file.json" \
    "an unreadable cursor file is named"
rm -f "$CORP_DATA_DIR"/bot_deliveries_cursor_*.json

done_testing
