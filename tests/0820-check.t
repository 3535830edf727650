#!/bin/sh
# corp-db check names each queue invariant a corrupted database breaks
# (lib/check_list.h): one corruption per copy of a healthy database,
# and no other invariant fires.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
# The company delivers on telegram: the bot token is where its job has it
# (channel_secrets; the end of this file takes it away).
export CORP_TELEGRAM_TOKEN=123456:check-test-token
fixture_tasks 2
corp-event route >/dev/null
corp-deliver pending --channel telegram --limit 2 | ack_all sent | corp-deliver ack >/dev/null
corp-deliver pending --channel telegram --limit 3 --worker w1 >/dev/null
corp-settings config set base_url https://corp.example >/dev/null
ok "a healthy queue checks clean" corp-db check
is "$(printf '%s\n' "$out" | jq -r 'select(.ok | not) | .check')" "" "every check ok"
is "$err" "" "and says nothing"
healthy=$(copydb "$(curdb)") || bail "no copy of the database"

# SQL write on purpose: each corruption below, on a copy, is what check
# must find (to "# SQL write end")
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
    "DELETE FROM event_recipients WHERE event_id = 1 AND user_id = $ann" \
    "has no event_recipients row"
corrupt readiness_follows_binds \
    "UPDATE binds SET active = 0 WHERE user_id = $bob" \
    "is ready but user $bob has no active telegram bind"
corrupt readiness_follows_binds \
    "UPDATE deliveries SET readiness = 'waiting_bind' WHERE status = 'PENDING' AND user_id = $bob" \
    "is waiting_bind but user $bob has an active telegram bind"
corrupt fallback_one_row \
    "UPDATE route_decisions SET decision = 'fallback', fallback = 'push' WHERE event_id = 1 AND user_id = $ann" \
    "on telegram is [A-Z]+ but route fell back to push"
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
# SQL write end

# The channel cursors beside the database (seed 000's files).
ok "a cursor at the last event is fine" corp-cursor set --channel telegram "2:$bob"
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

# Configuration checks.  Severities: "error" (the data above: exit 65),
# "config" (rows held until it is fixed: 78), "warning" (does nothing
# the operator meant: the exit status stays 0).
lines() { printf '%s\n' "$out" | jq -c 'select(.ok | not) | [.check, .severity, .problems]' | tr '\n' ' '; }
ok "every check passes" corp-db check
is "$(printf '%s\n' "$out" | jq -s -c 'group_by(.severity) | map([.[0].severity, length])')" \
    '[["config",2],["error",14],["warning",5]]' "each line says its severity"

corp-settings config unset base_url
ok "base_url unset: a warning" corp-db check
is "$(lines)" '["base_url","warning",1] ' "named"
is "$err" "corp-db: check base_url: warning: base_url is not set: links in events and messages are bare paths such as /tasks/7 (corp-settings config set base_url https://...)" \
    "says what it means and how to set it"
corp-settings config set base_url https://corp.example

# Settings that can never fire.
corp-settings notify set --event-type TASK_OVERDUE --role supervisor \
    --channel email >/dev/null
corp-settings notify set --event-type invoice_paid --role client \
    --channel telegram --new-type >/dev/null
corp-settings notify set --event-type TASK_CREATED --role accountant \
    --channel telegram --new-role >/dev/null
corp-settings notify set --event-type TASK_CANCELLED --role supervisor \
    --channel email --disabled >/dev/null
ok "settings that never fire: warnings" corp-db check
is "$(lines)" '["settings_fire","warning",3] ' "one problem per setting, or per unbound channel"
is "$err" "corp-db: check settings_fire: warning: TASK_CREATED/accountant on telegram: no emitted event names role accountant; invoice_paid/client on telegram: no event of type invoice_paid was ever emitted; 1 enabled setting on email: nobody is bound to email and it is not the default channel (telegram)" \
    "each says why (a disabled setting is not one)"
corp-bind add --user ann --channel email --address ann@corp.example >/dev/null
printf 'url smtp://127.0.0.1:2525\nfrom corp@corp.example\n' > "$CORP_DATA_DIR/smtp.conf"
chmod 600 "$CORP_DATA_DIR/smtp.conf"
printf '{"idempotency_key":"i1","source":"billing","event_type":"invoice_paid","recipients":[{"user":"ann","role":"accountant"}]}\n' |
    corp-event emit >/dev/null
ok "a bind, an event and a recipient later" corp-db check
is "$(lines)" "" "they can fire"
corp-settings config set default_channel email >/dev/null
corp-bind deactivate --user ann --channel email >/dev/null
ok "the default channel needs no bind" corp-db check
is "$(lines)" "" "(a deactivated bind still counts: rows wait for it)"
corp-settings config unset default_channel

# SQL write on purpose: names stored before they were checked, written
# here directly as an older corp (or a hand edit) left them; the
# commands refuse them now
sql "INSERT INTO config (key, value) VALUES ('attempts.telgram', '5'),
    ('fallback_lang', 'english')"
sql "UPDATE users SET lang = 'english', tz = 'Mars/Base' WHERE login = 'bob'"
sql "INSERT INTO user_mutes (user_id, kind, value) VALUES ($ann, 'channel', 'sms'),
    ($ann, 'event_type', 'task_overdue')"
run corp-db check
is "$rc" 0 "stored names: warnings only"
is "$(lines)" '["stored_names","warning",6] ' "one problem per name"
is "$err" "corp-db: check stored_names: warning: config: attempts.telgram: unknown channel 'telgram' (did you mean 'telegram'?); config: fallback_lang: unknown language 'english' (catalogs: en, ru, uk); mute of channel 'sms' (1 user): corp does not deliver on it; mute of event type 'task_overdue' (1 user): unknown event type 'task_overdue' (did you mean 'TASK_OVERDUE'?); language of 1 user: unknown language 'english' (catalogs: en, ru, uk); time zone 'Mars/Base' of 1 user is not in the tz database" \
    "each with the closest name"
ok "corp-settings removes the stored key" corp-settings config unset attempts.telgram
ok "and the stored language" corp-settings config unset fallback_lang
ok "corp-user clears bob's" corp-user set bob --no-lang --no-tz
ok "unmute the channel" corp-settings unmute --user ann --channel sms
ok "unmute the type" corp-settings unmute --user ann --event-type task_overdue
is "$(sql "SELECT count(*) FROM user_mutes")" 0 "the commands reach every stored name"

# Values stored before config set checked them (op-review 2): written
# directly, as an older corp left them.  A wide range set with --force
# is the operator's decision, not a finding.
corp-settings config set --force webhook.allow 0.0.0.0/0
# SQL write on purpose: values an older corp stored before config set checked them
sql "INSERT INTO config (key, value) VALUES ('telegram.bot_username', 'bad name!')"
sql "UPDATE config SET value = CASE key WHEN 'webhook.allow' THEN '127.0.0.0/33'
    ELSE 'javascript:alert(1)' END WHERE key IN ('webhook.allow', 'base_url')"
run corp-db check
is "$rc" 0 "stored values: warnings only"
is "$(lines)" '["stored_names","warning",3] ' "one problem per value"
is "$err" "corp-db: check stored_names: warning: config: base_url: not a valid URL; config: telegram.bot_username: 'bad name!' is not a bot username (Telegram's rule: 5-32 of A-Z a-z 0-9 _, starting with a letter, ending in 'bot'); config: webhook.allow: '127.0.0.0/33': prefix length is out of range" \
    "each names the key and the rule"
# SQL write on purpose: the old value goes as it came (config unset would refuse nothing here, but checks the key's stored value first)
sql "DELETE FROM config WHERE key = 'telegram.bot_username'"
corp-settings config set base_url https://corp.example
corp-settings config set --force webhook.allow 0.0.0.0/0
ok "a forced range" corp-db check
is "$(lines)" "" "is not reported"
corp-settings config unset webhook.allow

# What bound channels need to send at all: configuration errors (78).
printf 'notify=/bin/true\n' > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
corp-bind add --user bob --channel exec --address notify >/dev/null
ok "an exec bind whose command exec.conf names" corp-db check
is "$(lines)" "" "clean"
printf 'other=/bin/true\n' > "$CORP_DATA_DIR/exec.conf"
run corp-db check
is "$rc" 78 "exec.conf no longer naming it: 78"
is "$(lines)" '["channel_config","config",1] ' "named"
like "$err" "^corp-db: check channel_config: configuration error: exec command 'notify' \\(bound by 1 user\\): " \
    "says which command"
printf 'notify=/bin/true\nother=/bin/true\n' > "$CORP_DATA_DIR/exec.conf"
ok "named again" corp-db check
is "$(lines)" "" "clean"
# A webhook bind by endpoint name, and one left from when corp-bind
# took URLs.
printf 'crm https://crm.example/hooks/corp\n' > "$CORP_DATA_DIR/webhooks.conf"
corp-bind add --user boss --channel webhook --address crm >/dev/null
# SQL write on purpose: a bind an older corp-bind stored (a URL, not an
# endpoint name), which corp-bind now refuses
sql "INSERT INTO binds (user_id, channel, address, active, created_at,
    updated_at) VALUES ($bob, 'webhook', 'https://x.example/h', 1, 0, 0)"
# Then the endpoint goes from webhooks.conf, its bind left behind.
: > "$CORP_DATA_DIR/webhooks.conf"
run corp-db check
is "$rc" 78 "an endpoint webhooks.conf does not define: 78"
is "$err" "corp-db: check channel_config: configuration error: webhook endpoint 'crm' (bound by 1 user) is not defined in $CORP_DATA_DIR/webhooks.conf; webhook binds of 1 user name 'https://x.example/h', not an endpoint of webhooks.conf" \
    "names the endpoint and the file, and the URL that is no name"
printf 'crm https://crm.example/hook\nspare https://spare.example/hook\n' \
    > "$CORP_DATA_DIR/webhooks.conf"
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
run corp-db check
is "$rc" 78 "an endpoint without a secret: 78"
is "$err" "corp-db: check channel_config: configuration error: webhook endpoint 'crm' (bound by 1 user) has no secret $CORP_DATA_DIR/secrets/webhook-crm; webhook binds of 1 user name 'https://x.example/h', not an endpoint of webhooks.conf
corp-db: check webhook_endpoints: warning: webhook endpoint 'spare' (no active bind) has no secret $CORP_DATA_DIR/secrets/webhook-spare" \
    "names the endpoint and the file; one nobody is bound to is a warning"
mkdir -p "$CORP_DATA_DIR/secrets" && chmod 700 "$CORP_DATA_DIR/secrets"
printf 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n' > "$CORP_DATA_DIR/secrets/webhook-crm"
chmod 644 "$CORP_DATA_DIR/secrets/webhook-crm"
run corp-db check
is "$rc" 78 "a secret others may read is no secret"
like "$err" "webhook endpoint 'crm' \\(bound by 1 user\\): .*webhook-crm: readable by group or others" \
    "says so"
unlike "$err$out" "c2VjcmV0" "and never prints the secret"
chmod 600 "$CORP_DATA_DIR/secrets/webhook-crm"
corp-bind deactivate --user bob --channel webhook >/dev/null
ok "with the secret, and the URL bind inactive: warnings only" corp-db check
is "$(lines)" '["webhook_endpoints","warning",1] ' \
    "the endpoint nobody is bound to still lacks its secret"
cp "$CORP_DATA_DIR/secrets/webhook-crm" "$CORP_DATA_DIR/secrets/webhook-spare"
ok "every endpoint with its secret" corp-db check
is "$(lines)" "" "clean"
# corp-send's one rule for a secret: a malformed one holds the rows.
printf 'whsec_CANARY!!\n' > "$CORP_DATA_DIR/secrets/webhook-crm"
run corp-db check
is "$rc" 78 "a malformed secret: 78"
is "$err" "corp-db: check channel_config: configuration error: webhook endpoint 'crm' (bound by 1 user): $CORP_DATA_DIR/secrets/webhook-crm: not a webhook secret (expected whsec_ followed by the base64 of 24 to 64 bytes, as Standard Webhooks gives it; a raw secret is not accepted; the value is not shown)" \
    "names the file and the rule, not the value"
cp "$CORP_DATA_DIR/secrets/webhook-spare" "$CORP_DATA_DIR/secrets/webhook-crm"
chmod 666 "$CORP_DATA_DIR/webhooks.conf"
run corp-db check
is "$rc" 78 "a webhooks.conf others may write: 78 (bound endpoints are held)"
like "$err" "check channel_config: configuration error: webhook endpoints \(bound by some users\): $CORP_DATA_DIR/webhooks.conf: world-writable" \
    "says so"
chmod 600 "$CORP_DATA_DIR/webhooks.conf"

# Catalog keys whose placeholders an event type cannot always fill: the
# operator's texts, against the enabled settings; corp-fmt holds the
# rows (78).
mkdir -m 700 "$CORP_DATA_DIR/i18n"
printf '%s\n' 'en:task_created@executor | "{actor.name} gave you {task.title}"' \
    'en:task_overdue@supervisor | "{task.title}: {reason}"' \
    'en:task_cancelled | "{reason}"' >"$CORP_DATA_DIR/i18n/local.txt"
corp-settings notify set --event-type TASK_CANCELLED --role initiator \
    --channel telegram --disabled >/dev/null
corp-settings notify set --event-type TASK_CANCELLED --role executor \
    --channel telegram --disabled >/dev/null
run corp-db check
is "$rc" 78 "a placeholder some events cannot fill: 78"
is "$(lines)" '["catalog_placeholders","config",2] ' "one problem per key and placeholder"
is "$err" "corp-db: check catalog_placeholders: configuration error: $CORP_DATA_DIR/i18n/local.txt:1: en:task_created@executor: {actor.name} has no value in some TASK_CREATED events (define en:none.actor.name or drop it); $CORP_DATA_DIR/i18n/local.txt:2: en:task_overdue@supervisor: {reason} has no value in some TASK_OVERDUE events (define en:none.reason or drop it)" \
    "names the file, line, key, placeholder and the fix (a disabled setting's key is not judged)"
printf '%s\n' 'en:none.actor.name | "the scheduler"' 'en:none.reason | "-"' \
    >>"$CORP_DATA_DIR/i18n/local.txt"
ok "with none.NAME defined" corp-db check
is "$(lines)" "" "clean"
printf 'en:x | "a"\nen:x | "b"\n' >"$CORP_DATA_DIR/i18n/dup.txt"
run corp-db check
is "$rc" 78 "catalogs that do not load: 78"
like "$err" "^corp-db: check catalog_placeholders: configuration error: catalogs: .*dup.txt:2" \
    "one problem naming the file and line"
rm -r "$CORP_DATA_DIR/i18n"
# A broken invariant still decides: 65 over 78.
corp-bind add --user eve --channel exec --address other >/dev/null
printf 'notify=/bin/true\n' > "$CORP_DATA_DIR/exec.conf"
corp-cursor set --channel telegram 99:1 >/dev/null
run corp-db check
is "$rc" 65 "data problems (65) over configuration errors (78)"
is "$(lines)" '["cursor_within_events","error",1] ["channel_config","config",1] ' \
    "both reported"
rm -f "$CORP_DATA_DIR"/bot_deliveries_cursor_*.json
corp-bind deactivate --user eve --channel exec >/dev/null

# Telegram and e-mail binds without what those channels need, as check
# sees it (op-review 6): a warning naming the channel, the secret or the
# file; the delivery job's own environment may still give it.
rm -f "$CORP_DATA_DIR/smtp.conf" "$CORP_DATA_DIR/secrets/telegram_token"
corp-bind add --user eve --channel email --address eve@corp.example >/dev/null
run env -u CORP_TELEGRAM_TOKEN -u CORP_SMTP_PASSWORD corp-db check
is "$rc" 0 "channel secrets missing here: a warning (0)"
like "$err" "check channel_secrets: warning: email \\(bound by 1 user\\): $CORP_DATA_DIR/smtp.conf names no url and no from \\(or is missing\\)" \
    "e-mail: names smtp.conf"
printf 'url smtp://127.0.0.1:2525\nfrom corp@corp.example\nuser corp\n' \
    > "$CORP_DATA_DIR/smtp.conf"
chmod 600 "$CORP_DATA_DIR/smtp.conf"
run env -u CORP_SMTP_PASSWORD corp-db check
like "$err" "email \\(bound by 1 user\\): no SMTP password here: secret smtp_password: no CORP_SMTP_PASSWORD in the environment and no file $CORP_DATA_DIR/secrets/smtp_password" \
    "a user in smtp.conf: the password is needed"
CORP_SMTP_PASSWORD=pw-Canary-77 run corp-db check
unlike "$err" "email \\(bound" "with the password in the environment: nothing about e-mail"
unlike "$err$out" "pw-Canary-77" "and the password never shown"

done_testing
