#!/bin/sh
# corp-settings: config, notification settings, preferences (quiet hours
# recomputed across DST in a non-UTC zone), mutes failing PENDING rows.
. "${CORP_SRC:-.}/tests/lib.sh"
setup

epoch() { date -u -d "$1" +%s; }

# config ------------------------------------------------------------
ok "config get prints the default" corp-settings config get default_channel
is "$out" telegram "default_channel=telegram"
ok "config get of a per-channel key" corp-settings config get attempts.email
is "$out" 10 "attempts.CHANNEL=10"
is_rc 64 "config get of an unknown key" corp-settings config get no_such
is "$err" "corp-settings: unknown setting 'no_such' (see corp(7) CONFIGURATION)" \
    "says which"
ok "config set" corp-settings config set attempts.telegram 5
is "$out" '{"key":"attempts.telegram","value":"5","default":"10"}' \
    "set prints the stored setting (issue 21)"
is "$(sql "SELECT key, value FROM config WHERE key LIKE 'attempts.%'")" \
    "attempts.telegram|5" "stored"
is "$(corp-settings config get attempts.telegram)" 5 "read back"
ok "config set hold_max_age" corp-settings config set hold_max_age 2d
is_rc 64 "config set of an unknown key" corp-settings config set frob 1
like "$err" "unknown setting 'frob'" "says which"
is_rc 65 "config set of a bad value" corp-settings config set backoff.telegram 30s,2
like "$err" "backoff '30s,2': expected BASE,FACTOR,CAP" "says why"
is_rc 65 "attempts out of range" corp-settings config set attempts.telegram 0
is_rc 65 "a bad channel suffix" corp-settings config set attempts.Tele 3
is "$err" "corp-settings: attempts.Tele: channel 'Tele': expected 1-32 of a-z 0-9 _ -" \
    "names the key and the channel"
is "$(sql "SELECT key || '=' || value FROM config ORDER BY key" | tr '\n' ' ')" \
    "attempts.telegram=5 hold_max_age=2d " "refused values wrote nothing"
is "$(corp-settings config get attempts.telegram)" 5 "attempts unchanged"
ok "config list" corp-settings config list
is "$out" '{"key":"default_channel","value":null,"default":"telegram"}
{"key":"hold_max_age","value":"2d","default":"7d"}
{"key":"fallback_after","value":null,"default":"0"}
{"key":"fallback_lang","value":null,"default":"en"}
{"key":"telegram.bot_username","value":null,"default":""}
{"key":"telegram.max_pause","value":null,"default":"1h"}
{"key":"webhook.allow","value":null,"default":""}
{"key":"broadcast_share","value":null,"default":"0.5"}
{"key":"base_url","value":null,"default":""}
{"key":"openai.url","value":null,"default":"https://api.openai.com"}
{"key":"openai.model","value":null,"default":"gpt-4o-mini"}
{"key":"messages.retention","value":null,"default":"90d"}
{"key":"messages.per_chat_max","value":null,"default":"20000"}
{"key":"push.subject","value":null,"default":""}
{"key":"attempts.telegram","value":"5","default":"10"}' \
    "config list: every key with its value and default"
ok "config unset" corp-settings config unset attempts.telegram
is "$(corp-settings config get attempts.telegram)" 10 "back to the default"
is "$(sql "SELECT count(*) FROM config WHERE key = 'attempts.telegram'")" 0 \
    "the row is gone"
is_rc 64 "config unset of an unknown key" corp-settings config unset frob
is_rc 64 "config set needs two arguments" corp-settings config set attempts.x
is_rc 64 "config without a verb" corp-settings config
is_rc 64 "config with an unknown verb" corp-settings config frob

# Misspelt keys, channels and languages are refused with the closest
# name (64: an unknown name on the command line), and nothing is stored.
is_rc 64 "a misspelt key" corp-settings config set attemps.telegram 5
is "$err" "corp-settings: unknown setting 'attemps.telegram' (did you mean 'attempts.telegram'?)" \
    "suggests the key"
is_rc 64 "a per-channel key on an unknown channel" corp-settings config set \
    attempts.telgram 5
is "$err" "corp-settings: attempts.telgram: unknown channel 'telgram' (did you mean 'telegram'?)" \
    "suggests the channel"
is_rc 64 "config get of it too" corp-settings config get backoff.emial
is "$err" "corp-settings: backoff.emial: unknown channel 'emial' (did you mean 'email'?)" \
    "a transposition is one edit"
is_rc 64 "default_channel on an unknown channel" corp-settings config set \
    default_channel sms
is "$err" "corp-settings: default_channel: unknown channel 'sms' (channels: telegram, email, webhook, exec, file, push)" \
    "lists the channels when none is close"
is_rc 64 "fallback_lang without a catalog" corp-settings config set \
    fallback_lang english
is "$err" "corp-settings: fallback_lang: unknown language 'english' (catalogs: en, ru, uk)" \
    "lists the catalogs' languages"
is_rc 64 "a language in the wrong case" corp-settings config set \
    fallback_lang EN
is "$err" "corp-settings: fallback_lang: unknown language 'EN' (did you mean 'en'?)" \
    "suggests it"
ok "a language with a catalog" corp-settings config set fallback_lang uk

# Every value is checked at set time against its key's rule, so a value
# that would break delivery later is refused now (op-review 2, sec 9).
bad() {
	is_rc 65 "$1 '$2' refused" corp-settings config set "$1" "$2"
	is "$err" "corp-settings: $1: $3" "  names the key and the rule"
}
bad webhook.allow 127.0.0.0/33 "'127.0.0.0/33': prefix length is out of range"
bad webhook.allow garbage "'garbage': not an address range (e.g. 10.0.0.0/8)"
bad webhook.allow "10.0.0.0/8, localhost" "'localhost': not an address range (e.g. 10.0.0.0/8)"
bad webhook.allow 127.0.0.1/8 "'127.0.0.1/8': host bits are set (did you mean 127.0.0.0/8?)"
bad webhook.allow fd00::1/8 "'fd00::1/8': host bits are set (did you mean fd00::/8?)"
bad webhook.allow 0.0.0.0/0 "'0.0.0.0/0' is wider than /8: it would let webhooks reach most special-purpose addresses, 169.254.169.254 among them (name the ranges you need, or set it with --force)"
bad webhook.allow ::/0 "'::/0' is wider than /7: it would let webhooks reach most special-purpose addresses, 169.254.169.254 among them (name the ranges you need, or set it with --force)"
bad webhook.allow ::ffff:0:0/96 "'::ffff:0:0/96' is wider than /8 of IPv4 (it is IPv4 in IPv6 form): it would let webhooks reach most special-purpose addresses, 169.254.169.254 among them (name the ranges you need, or set it with --force)"
bad webhook.allow 64:ff9b::/100 "'64:ff9b::/100' is wider than /8 of IPv4 (it is IPv4 in IPv6 form): it would let webhooks reach most special-purpose addresses, 169.254.169.254 among them (name the ranges you need, or set it with --force)"
bad webhook.allow ::ffff:0:0:0/96 "'::ffff:0:0:0/96' is wider than /8 of IPv4 (it is IPv4 in IPv6 form): it would let webhooks reach most special-purpose addresses, 169.254.169.254 among them (name the ranges you need, or set it with --force)"
bad webhook.allow " , " "no address range (use config unset to allow none)"
bad base_url 'javascript:alert(1)' "not a valid URL"
bad base_url 'not a url' "not a valid URL"
bad base_url 'ftp://corp.example/' "expected an http:// or https:// URL"
bad base_url 'https://corp.example/?x=1' "a query (?) or fragment (#) is refused: links are made by appending /tasks/ID"
bad base_url 'https://u:pw@corp.example' "a password in the URL (user:password@host) is refused: it would show in process lists and files; the password comes from a secret only"
bad telegram.bot_username 'bad name!' "'bad name!' is not a bot username (Telegram's rule: 5-32 of A-Z a-z 0-9 _, starting with a letter, ending in 'bot')"
bad telegram.bot_username corp_test "'corp_test' is not a bot username (Telegram's rule: 5-32 of A-Z a-z 0-9 _, starting with a letter, ending in 'bot')"
bad telegram.bot_username 1corp_bot "'1corp_bot' is not a bot username (Telegram's rule: 5-32 of A-Z a-z 0-9 _, starting with a letter, ending in 'bot')"
bad telegram.bot_username @corp_bot "'@corp_bot': give the username without the @ ('corp_bot')"
bad openai.model 'gpt 4' "'gpt 4': expected 1-128 of A-Z a-z 0-9 . _ : / -"
bad openai.url 'http://llm.example/' "plain http:// only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://"
bad broadcast_share '' "an empty value (to go back to the default, use: corp-settings config unset broadcast_share)"
bad messages.retention 5x "'5x' is not a duration (e.g. 90s, 1h30m, 7d)"
bad attempts.email 3x "expected 1..100, got '3x'"
is "$(sql "SELECT count(*) FROM config WHERE key IN ('webhook.allow',
    'base_url', 'telegram.bot_username', 'openai.model', 'openai.url',
    'broadcast_share', 'messages.retention', 'attempts.email')")" 0 \
    "nothing refused was stored"
ok "a range list" corp-settings config set webhook.allow "127.0.0.0/8, ::1 fd00::/8"
ok "a wide range with --force" corp-settings config set --force webhook.allow 0.0.0.0/0
is "$(corp-settings config get webhook.allow)" 0.0.0.0/0 "stored"
ok "a plain-http link base (an intranet)" corp-settings config set base_url http://corp.lan/app
ok "a bot name" corp-settings config set telegram.bot_username Corp_Test_Bot
corp-settings config unset webhook.allow
corp-settings config unset base_url
corp-settings config unset telegram.bot_username
mkdir -p "$CORP_DATA_DIR/i18n"
printf '%s\n' 'de:task_created | "Neue Aufgabe: {task.title}"' \
    > "$CORP_DATA_DIR/i18n/de.txt"
chmod 600 "$CORP_DATA_DIR/i18n/de.txt"
ok "an operator's catalog adds its language" corp-settings config set \
    fallback_lang de
ok "and a region of it" corp-settings config set fallback_lang de-AT
is "$(sql "SELECT key || '=' || value FROM config WHERE key IN
    ('default_channel', 'fallback_lang') OR key LIKE '%.telgram'
    OR key LIKE 'attemps.%'")" "fallback_lang=de-AT" \
    "only the good values were stored"
ok "unset fallback_lang" corp-settings config unset fallback_lang

# notify ------------------------------------------------------------
ok "notify list --event-type" corp-settings notify list --event-type TASK_OVERDUE
is "$out" '{"event_type":"TASK_OVERDUE","role":"executor","channel":"telegram","enabled":true,"priority":"p2p","template":"task_overdue","notify_self":false,"fallback":"push","digest":null}
{"event_type":"TASK_OVERDUE","role":"initiator","channel":"telegram","enabled":true,"priority":"p2p","template":"task_overdue","notify_self":false,"fallback":"push","digest":null}
{"event_type":"TASK_OVERDUE","role":"supervisor","channel":"telegram","enabled":true,"priority":"p2p","template":"task_overdue","notify_self":false,"fallback":"push","digest":null}' \
    "the seeded defaults"
ok "notify list --role --channel" corp-settings notify list --role admin \
    --channel telegram
is "$(printf '%s\n' "$out" | jq -r .event_type | tr '\n' ' ')" \
    "booking_cancelled booking_created booking_done booking_rescheduled " \
    "seed 003's admin rows"
ok "notify set creates a row with the defaults" corp-settings notify set \
    --event-type TASK_OVERDUE --role supervisor --channel email
is "$out" '{"event_type":"TASK_OVERDUE","role":"supervisor","channel":"email","enabled":true,"priority":"p2p","template":"task_overdue","notify_self":false,"fallback":null,"digest":null}' \
    "enabled, p2p, template = lower-case type"
ok "notify set changes only what it names" corp-settings notify set \
    --event-type TASK_OVERDUE --role supervisor --channel email --priority urgent \
    --notify-self
is "$out" '{"event_type":"TASK_OVERDUE","role":"supervisor","channel":"email","enabled":true,"priority":"urgent","template":"task_overdue","notify_self":true,"fallback":null,"digest":null}' \
    "priority and notify_self changed"
# A template key must be defined by a catalog first (a misspelt one
# would hold every row of the setting): the operator's own here.
is_rc 64 "--template of a key no catalog defines" corp-settings notify set \
    --event-type TASK_OVERDUE --role supervisor --channel email \
    --template task_overdeu
like "$err" "no catalog defines the key 'task_overdeu' \\(did you mean 'task_overdue'\\?\\)" \
    "with the closest key"
mkdir -p "$CORP_DATA_DIR/i18n" && chmod 700 "$CORP_DATA_DIR/i18n"
printf 'en:overdue_mail | "Overdue: {task.title}"\n' > "$CORP_DATA_DIR/i18n/en.txt"
chmod 600 "$CORP_DATA_DIR/i18n/en.txt"
ok "notify set --disabled --template" corp-settings notify set \
    --event-type TASK_OVERDUE --role supervisor --channel email --disabled \
    --template overdue_mail --no-notify-self
is "$(sql "SELECT enabled, priority, template, notify_self FROM
    notification_settings WHERE channel = 'email'")" "0|urgent|overdue_mail|0" \
    "stored"
ok "notify set a booking role" corp-settings notify set \
    --event-type booking_done --role client --channel telegram --disabled
is "$(printf '%s' "$out" | jq -c '[.enabled, .template]')" \
    '[false,"booking_done"]' "a free-text role is fine"
is_rc 65 "a bad priority" corp-settings notify set --event-type TASK_OVERDUE \
    --role executor --channel telegram --priority high
like "$err" "priority 'high': expected urgent, p2p or broadcast" "says why"
is_rc 65 "a bad channel" corp-settings notify set --event-type TASK_OVERDUE \
    --role executor --channel 'tele gram'
is_rc 65 "a bad event type" corp-settings notify set --event-type 'a b' \
    --role executor --channel telegram
is_rc 65 "a bad template key" corp-settings notify set --event-type X \
    --role executor --channel telegram --template 'a/b'
is_rc 64 "--enabled and --disabled" corp-settings notify set \
    --event-type X --role r --channel telegram --enabled --disabled
is_rc 64 "notify set without --role" corp-settings notify set \
    --event-type X --channel telegram
is_rc 64 "notify list takes no --priority" corp-settings notify list \
    --priority urgent
like "$err" "notify list takes no --priority" "says which"
is "$(sql "SELECT count(*) FROM notification_settings WHERE event_type IN
    ('X', 'a b')")" 0 "refused settings wrote nothing"
ok "notify unset" corp-settings notify unset --event-type TASK_OVERDUE \
    --role supervisor --channel email
is "$(printf '%s' "$out" | jq -c '[.channel, .template]')" \
    '["email","overdue_mail"]' "prints the row it removed"
is "$(sql "SELECT count(*) FROM notification_settings WHERE channel =
    'email'")" 0 "the row is gone"
is_rc 67 "notify unset of a missing row" corp-settings notify unset \
    --event-type TASK_OVERDUE --role supervisor --channel email
is "$err" "corp-settings: no notification setting for TASK_OVERDUE role supervisor on email" \
    "says so"

# Names a setting could never match are refused with the closest one.
nset() {
	corp-settings notify set "$@"
}
is_rc 64 "an event type in the wrong case" nset --event-type task_created \
    --role executor --channel telegram
is "$err" "corp-settings: unknown event type 'task_created' (did you mean 'TASK_CREATED'?)" \
    "suggests the built-in type"
is_rc 64 "a misspelt booking type" nset --event-type bookng_created \
    --role client --channel telegram
is "$err" "corp-settings: unknown event type 'bookng_created' (did you mean 'booking_created'?)" \
    "suggests the seed's type"
is_rc 64 "a producer's type not seen yet" nset --event-type invoice_paid \
    --role client --channel telegram
is "$err" "corp-settings: unknown event type 'invoice_paid' (known: booking_cancelled, booking_created, booking_done, booking_rescheduled, TASK_CREATED, TASK_ASSIGNED, TASK_DUE_CHANGED, REPORT_SUBMITTED, APPROVED, REJECTED, TASK_CANCELLED, TASK_DUE_SOON, ...); a producer's new type is declared once with --new-type" \
    "says how to declare it"
is_rc 64 "a role no setting can name" nset --event-type TASK_CREATED \
    --role assignee --channel telegram
is "$err" "corp-settings: unknown role 'assignee' (known: executor, initiator, supervisor, previous_executor, admin, client, specialist); a producer's new role is declared once with --new-role" \
    "lists the roles"
is_rc 64 "a misspelt producer role" nset --event-type booking_created \
    --role clinet --channel telegram
is "$err" "corp-settings: unknown role 'clinet' (did you mean 'client'?)" \
    "suggests it"
is_rc 64 "a deputy role" nset --event-type TASK_CREATED \
    --role deputy:executor --channel telegram
is "$err" "corp-settings: role 'deputy:executor': a deputy gets the setting of its principal's role; set role 'executor'" \
    "says what a deputy gets"
is_rc 64 "a misspelt channel" nset --event-type TASK_CREATED --role executor \
    --channel telgram
is "$err" "corp-settings: unknown channel 'telgram' (did you mean 'telegram'?)" \
    "suggests the channel"
is_rc 64 "notify list filters on a misspelt type" corp-settings notify list \
    --event-type TASK_OVERDU
is "$err" "corp-settings: unknown event type 'TASK_OVERDU' (did you mean 'TASK_OVERDUE'?)" \
    "rather than listing nothing"
is_rc 64 "notify unset of a misspelt role" corp-settings notify unset \
    --event-type TASK_OVERDUE --role supervisr --channel telegram
is "$(sql "SELECT count(*) FROM notification_settings WHERE event_type IN
    ('task_created', 'bookng_created', 'invoice_paid') OR role IN
    ('assignee', 'clinet', 'deputy:executor') OR channel = 'telgram'")" 0 \
    "none of them stored"
ok "--new-type declares a producer's type" nset --event-type invoice_paid \
    --role client --channel telegram --new-type
is "$(printf '%s' "$out" | jq -c '[.event_type, .role, .template]')" \
    '["invoice_paid","client","invoice_paid"]' "stored"
ok "from then on it is known" nset --event-type invoice_paid \
    --role client --channel email
ok "--new-role declares a producer's role" nset --event-type invoice_paid \
    --role accountant --channel email --new-role
ok "and a known role needs no declaration" nset --event-type invoice_paid \
    --role accountant --channel telegram
ok "--new-type on a known type is harmless" nset --event-type TASK_CREATED \
    --role executor --channel telegram --new-type
is_rc 64 "notify list takes no --new-type" corp-settings notify list --new-type

# preferences: quiet hours ------------------------------------------
# alice (Europe/Kyiv) and bob (UTC), bound on telegram and e-mail; notes
# to them as "tg" (a telegram row) or "both" (telegram and e-mail, p2p),
# alerts as "urg" (telegram urgent, e-mail p2p).  Rows by label (nb below):
# 11 p2p fresh, 12 urgent, 13 in backoff, 14 SENT, 15 e-mail: alice's;
# 16 bob's.
export CORP_NOW=2026-01-05T10:00:00Z
{ corp-user add alice --name Alice --tz Europe/Kyiv &&
    corp-user add bob --name Bob &&
    printf '{"login":"%s","channel":"%s","address":"%s"}\n' \
    alice telegram 1001 alice email alice@corp.test bob telegram 1002 |
    corp-bind import &&
    nset --event-type note --role tg --channel telegram --new-type --new-role &&
    nset --event-type note --role both --channel telegram --new-role &&
    nset --event-type note --role both --channel email &&
    nset --event-type alert --role urg --channel telegram --priority urgent \
    --new-type --new-role &&
    nset --event-type alert --role urg --channel email; } >/dev/null ||
    bail "users, binds and settings failed"
alice=$(sql "SELECT id FROM users WHERE login = 'alice'")
bob=$(sql "SELECT id FROM users WHERE login = 'bob'")
# note KEY [TYPE] USER:ROLE...: one note (or TYPE), routed; its event
# id in $ev.
note() {
	_k=$1 _ty=note
	shift
	case $1 in *:*) ;; *) _ty=$1; shift ;; esac
	printf '{"user":"%s","role":"%s"}\n' $(printf '%s\n' "$@" | tr : ' ') |
	    jq -s -c --arg k "$_k" --arg ty "$_ty" '{idempotency_key: $k,
	    source: "test", event_type: $ty, recipients: .}' > "$T/note"
	ev=$(corp-event emit < "$T/note" | jq -r .event_id) &&
	    corp-event route >/dev/null || bail "note $_k failed"
}
# ackall CHANNEL RESULT: every ready row of CHANNEL claimed and acked so.
ackall() {
	corp-deliver pending --channel "$1" | jq -c --arg r "$2" \
	    '. + {result: $r, error: (if $r == "sent" then null else "busy" end)}' |
	    corp-deliver ack >/dev/null
}
note n1 alice:tg
e1=$ev
ackall telegram retry			# 13: one attempt, in backoff
note n2 alice:both bob:tg
e2=$ev
ackall email sent			# 14
note n3 alert alice:urg
e3=$ev
back=$(sql "SELECT not_before FROM deliveries WHERE event_id = $e1")
is "$(sql "SELECT status, attempts, CAST(not_before > 0 AS INTEGER)
    FROM deliveries WHERE event_id = $e1")" "PENDING|1|1" \
    "13: a retry in backoff"
label="CASE
	    WHEN event_id = $e2 AND user_id = $alice AND channel = 'telegram' THEN 11
	    WHEN event_id = $e3 AND channel = 'telegram' THEN 12
	    WHEN event_id = $e1 THEN 13
	    WHEN event_id = $e2 AND channel = 'email' THEN 14
	    WHEN event_id = $e3 AND channel = 'email' THEN 15
	    WHEN user_id = $bob THEN 16 END"
nb() {
	sql "SELECT $label || ':' ||
	    CASE WHEN not_before = $back AND event_id = $e1 THEN 'backoff'
	    ELSE CAST(not_before AS TEXT) END
	    FROM deliveries ORDER BY 1" | tr '\n' ' '
}
is "$(nb)" "11:0 12:0 13:backoff 14:0 15:0 16:0 " "the six rows"
is "$(sql "SELECT status || ':' || priority FROM deliveries
    WHERE event_id = $e2 AND channel = 'email'")" "SENT:p2p" "14: SENT"

ok "prefs show" corp-settings prefs show --user alice
is "$out" "{\"user\":\"alice\",\"user_id\":$alice,\"zone\":\"Europe/Kyiv\",\"quiet\":null,\"muted_channels\":[],\"muted_event_types\":[]}" \
    "no quiet hours, no mutes, the user's zone"
ok "prefs show: a user without a zone is in UTC" corp-settings prefs show \
    --user bob
is "$(printf '%s' "$out" | jq -r .zone)" UTC "UTC"

# 2026-01-05 23:30 EET, inside 22:00-07:00: the window ends 07:00 EET
# the next day = 05:00Z.
export CORP_NOW=2026-01-05T21:30:00Z
ok "prefs set --quiet inside the window" corp-settings prefs set \
    --user alice --quiet-hours 22:00-07:00
is "$(printf '%s' "$out" | jq -r .quiet)" "22:00-07:00" "prints the prefs"
is "$(sql "SELECT quiet_start, quiet_end FROM user_prefs")" "1320|420" \
    "minutes of the local day"
e=$(epoch 2026-01-06T05:00:00Z)
is "$(nb)" "11:$e 12:0 13:backoff 14:0 15:$e 16:0 " \
    "fresh PENDING rows wait for 07:00 Kyiv; urgent, backoff, SENT and bob's untouched"

# Outside the window: nothing held.
export CORP_NOW=2026-01-06T06:00:00Z
ok "prefs set outside the window" corp-settings prefs set --user alice \
    --quiet-hours 22:00-07:00
is "$(nb)" "11:0 12:0 13:backoff 14:0 15:0 16:0 " "not_before cleared"

# Spring forward, 2026-03-29: 02:30 EET, the window ends 07:00 EEST =
# 04:00Z (not 05:00Z).
export CORP_NOW=2026-03-29T00:30:00Z
ok "prefs set on the spring DST day" corp-settings prefs set --user alice \
    --quiet-hours 22:00-07:00
e=$(epoch 2026-03-29T04:00:00Z)
is "$(nb)" "11:$e 12:0 13:backoff 14:0 15:$e 16:0 " "07:00 EEST = 04:00Z"

# Fall back, 2026-10-25: 03:15 EET in the repeated hour, inside
# 01:00-03:30: the window ends at the second 03:30 = 01:30Z.
export CORP_NOW=2026-10-25T01:15:00Z
ok "prefs set in the repeated hour" corp-settings prefs set --user alice \
    --quiet-hours 01:00-03:30
e=$(epoch 2026-10-25T01:30:00Z)
is "$(nb)" "11:$e 12:0 13:backoff 14:0 15:$e 16:0 " "03:30 EET = 01:30Z"

ok "prefs set --no-quiet-hours" corp-settings prefs set --user alice --no-quiet-hours
is "$(printf '%s' "$out" | jq -c .quiet)" null "no quiet hours"
is "$(sql "SELECT CASE WHEN quiet_start IS NULL AND quiet_end IS NULL THEN 1
    END FROM user_prefs")" 1 "stored as NULL"
is "$(nb)" "11:0 12:0 13:backoff 14:0 15:0 16:0 " "rows released"

# A zone change is picked up at the next recompute (UTC: 23:00 is
# inside 22:00-07:00 in UTC but not in Kyiv, where it is 01:00).
corp-user set alice --no-tz >/dev/null
export CORP_NOW=2026-01-05T23:00:00Z
ok "prefs set in UTC" corp-settings prefs set --user alice --quiet-hours 22:00-07:00
e=$(epoch 2026-01-06T07:00:00Z)
is "$(nb)" "11:$e 12:0 13:backoff 14:0 15:$e 16:0 " "07:00 UTC"
corp-user set alice --tz Europe/Kyiv >/dev/null

for q in 22-07 22:00 25:00-07:00 22:00-07:60 22:00-22:00 22:00-07:00x; do
	is_rc 65 "quiet '$q' refused" corp-settings prefs set --user alice \
	    --quiet-hours "$q"
done
like "$err" "quiet hours '22:00-07:00x': expected HH:MM-HH:MM" "says why"
is "$(sql "SELECT quiet_start, quiet_end FROM user_prefs")" "1320|420" \
    "refused windows wrote nothing"
is_rc 64 "prefs set needs --quiet-hours or --no-quiet-hours" corp-settings prefs set \
    --user alice
is_rc 64 "not both" corp-settings prefs set --user alice --no-quiet-hours \
    --quiet-hours 22:00-07:00
is_rc 64 "prefs show needs --user" corp-settings prefs show
is_rc 67 "prefs of an unknown user" corp-settings prefs show --user nobody
is "$err" "corp-settings: user 'nobody': not found" "says so"
is_rc 64 "no --as" corp-settings prefs show --user alice --as admin
unset CORP_NOW

# mutes ------------------------------------------------------------------
ok "mute a channel" corp-settings mute --user alice --channel telegram
is "$out" '{"user":"alice","kind":"channel","muted":"telegram","failed_rows":3}' \
    "reports the rows it failed"
is "$(sql "SELECT $label || ':' || status || ':' || coalesce(error, '-')
    FROM deliveries ORDER BY 1" | tr '\n' ' ')" \
    "11:FAILED:muted 12:FAILED:muted 13:FAILED:muted 14:SENT:- 15:PENDING:- 16:PENDING:- " \
    "alice's PENDING telegram rows are FAILED with error muted"
is "$(sql "SELECT kind, value FROM user_mutes")" "channel|telegram" "stored"
ok "mute again" corp-settings mute --user alice --channel telegram
is "$(printf '%s' "$out" | jq .failed_rows)" 0 "idempotent: nothing more"
is "$(sql "SELECT count(*) FROM user_mutes")" 1 "still one mute"
ok "mute an event type" corp-settings mute --user alice \
    --event-type alert
is "$out" '{"user":"alice","kind":"event_type","muted":"alert","failed_rows":1}' \
    "the email row of that type"
is "$(sql "SELECT status, error FROM deliveries WHERE $label = 15")" \
    "FAILED|muted" "failed"
is "$(sql "SELECT status FROM deliveries WHERE $label = 16")" PENDING \
    "bob's row untouched"
ok "prefs show lists the mutes" corp-settings prefs show --user alice
is "$(printf '%s' "$out" | jq -c '[.muted_channels, .muted_event_types]')" \
    '[["telegram"],["alert"]]' "both kinds"
ok "unmute" corp-settings unmute --user alice --channel telegram
is "$out" '{"user":"alice","kind":"channel","unmuted":"telegram"}' "prints it"
is "$(sql "SELECT kind, value FROM user_mutes")" "event_type|alert" \
    "the mute is gone"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" 1 \
    "unmuting recreates nothing: the rows stay FAILED"
is_rc 67 "unmute what is not muted" corp-settings unmute --user alice \
    --channel telegram
is "$err" "corp-settings: channel 'telegram' is not muted" "says so"
is_rc 64 "mute needs one of --channel, --event-type" corp-settings mute \
    --user alice
is_rc 64 "not both" corp-settings mute --user alice --channel email \
    --event-type X
is_rc 65 "a bad channel name" corp-settings mute --user alice --channel 'A B'
is_rc 64 "mute a misspelt channel" corp-settings mute --user alice \
    --channel telgram
is "$err" "corp-settings: unknown channel 'telgram' (did you mean 'telegram'?)" \
    "suggests the channel"
is_rc 64 "mute a misspelt event type" corp-settings mute --user alice \
    --event-type task_overdue
is "$err" "corp-settings: unknown event type 'task_overdue' (did you mean 'TASK_OVERDUE'?)" \
    "suggests the type"
is_rc 67 "unmute a near miss" corp-settings unmute --user alice \
    --event-type alrt
is "$err" "corp-settings: event type 'alrt' is not muted (did you mean 'alert'?)" \
    "suggests the user's mute"
is_rc 67 "mute for an unknown user" corp-settings mute --user nobody \
    --channel email
is "$(sql "SELECT count(*) FROM user_mutes")" 1 "refused mutes wrote nothing"

# usage --------------------------------------------------------------
is_rc 64 "unknown verb" corp-settings frob
is_rc 64 "no verb" corp-settings
ok "--help" corp-settings --help
like "$out" "usage: corp-settings config get KEY" "synopsis on stdout"
run sh -c 'corp-settings config list > /dev/full'
is "$rc" 1 "config list > /dev/full fails"
like "$err" "stdout: No space left on device" "with the reason"

done_testing
