#!/bin/sh
# Digests (issue 19 "Digests"; corp-settings.1 "Digests"): a setting's
# events for one user are collected per period (1h, daily@HH:MM in the
# user's zone) and sent as ONE broadcast row, keyed on the first member
# event, when route's pass finds the period ended; urgent never waits;
# explain answers for every member; an event the user cannot see never
# joins; a second pass makes no second row.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:10:00Z
q() { "$@" >/dev/null || bail "$* failed"; }
last() { sql "SELECT max(event_id) FROM events"; }
# rows LOGIN: the user's rows, event|channel|priority|template
rows() {
	sql "SELECT event_id || '|' || channel || '|' || priority || '|' ||
	    template FROM deliveries WHERE user_id = (SELECT id FROM users
	    WHERE login = '$1') ORDER BY id" | tr '\n' ' '
}
# dec EV LOGIN: the user's decisions, channel|decision|why
dec() {
	sql "SELECT channel || '|' || decision || '|' || coalesce(why, '-')
	    FROM route_decisions WHERE event_id = $1 AND user_id =
	    (SELECT id FROM users WHERE login = '$2') ORDER BY channel" |
	    tr '\n' ' '
}
NKEY="--event-type TASK_CREATED --role executor --channel telegram"

# 1. The setting.
ok "no digest by default" corp-settings notify list $NKEY
is "$(printf '%s' "$out" | jq -c .digest)" null "shipped rows: none"
ok "--digest 1h" corp-settings notify set $NKEY --digest 1h
is "$(printf '%s' "$out" | jq -c '[.digest, .priority, .enabled]')" \
    '["1h","p2p",true]' "stored; the rest kept"
run corp-settings notify set $NKEY --digest 2m
is "$rc:$err" "65:corp-settings: digest '2m': expected a duration from 5m to 1d (15m, 1h) or daily@HH:MM" \
    "a period under 5m: 65, naming it"
run corp-settings notify set $NKEY --digest 2d
is "$rc" 65 "over 1d: 65"
run corp-settings notify set $NKEY --digest daily@25:00
is "$rc:$err" "65:corp-settings: digest 'daily@25:00': expected a duration from 5m to 1d (15m, 1h) or daily@HH:MM" \
    "daily@25:00: 65"
run corp-settings notify set $NKEY --digest weekly
is "$rc" 65 "weekly: 65"
run corp-settings notify set $NKEY --digest 1h --no-digest
is "$rc" 64 "--digest and --no-digest exclude each other"
ok "--no-digest" corp-settings notify set $NKEY --no-digest
is "$(printf '%s' "$out" | jq -c .digest)" null "removed"
ok "daily" corp-settings notify set $NKEY --digest daily@09:00
is "$(printf '%s' "$out" | jq -r .digest)" daily@09:00 "daily@HH:MM stored"
q corp-settings notify set $NKEY --digest 1h
is "$(corp-settings notify list $NKEY | jq -r .digest)" 1h "listed"

# 2. Collected: three tasks for ann in one hour, no row until it ends.
q corp-task create --as boss --title "First" --assignee ann
e1=$(last)
ok "dry run" corp-event route --dry-run
is "$(printf '%s\n' "$out" | jq -c "select(.user_id == $ann) |
    [.channel, .decision, .why, .row]")" \
    '["telegram","digested","digest 1h until 2026-01-05T11:00:00Z",null]' \
    "the dry run's line: digested, which digest, no row"
ok "route" corp-event route
is "$(printf '%s' "$out" | jq -c '[.decisions.digested, .rows, .digests]')" \
    "[1,0,0]" "summary: one digested, no row"
is "$(dec "$e1" ann)" "telegram|digested|digest 1h until 2026-01-05T11:00:00Z " \
    "the decision names the digest"
is "$(rows ann)" "" "no row for ann yet"
CORP_NOW=2026-01-05T10:30:00Z q corp-task create --as boss --title "Second <b>" \
    --assignee ann
e2=$(last)
CORP_NOW=2026-01-05T10:59:59Z q corp-task create --as boss --title "Third" \
    --assignee ann
e3=$(last)
CORP_NOW=2026-01-05T10:59:59Z ok "route at 10:59:59" corp-event route
is "$(printf '%s' "$out" | jq -c '[.decisions.digested, .digests]')" "[2,0]" \
    "two more, nothing closed"
is "$(rows ann)" "" "still no row"
CORP_NOW=2026-01-05T10:59:59Z ok "explain an open member" \
    corp-deliver explain --event "$e2" --user ann
is "$(printf '%s' "$out" | jq -c '[.decisions[] | [.decision, .digest.period,
    .digest.due_at, .digest.count, .digest.delivery_id]], .deliveries')" \
    '[["digested","1h","2026-01-05T11:00:00Z",3,null]]
[]' "explain: digested, the open digest, no row"

# 3. The period ends: one broadcast row, keyed on the first member.
export CORP_NOW=2026-01-05T11:00:00Z
ok "route at 11:00" corp-event route
is "$(printf '%s' "$out" | jq -c '[.digests, .rows, .events]')" "[1,0,0]" \
    "summary: one digest closed"
is "$(rows ann)" "$e1|telegram|broadcast|digest " \
    "ONE row: the first event, broadcast, template digest"
ok "route again" corp-event route
is "$(printf '%s' "$out" | jq -c .digests)" 0 "a second pass closes nothing"
is "$(rows ann)" "$e1|telegram|broadcast|digest " "still one row"
id=$(sql "SELECT id FROM deliveries WHERE user_id = $ann")
for e in "$e1" "$e2" "$e3"; do
	ok "explain member $e" corp-deliver explain --event "$e" --user ann
	is "$(printf '%s' "$out" | jq -c '[.decisions[] | [.decision,
	    .digest.count, .digest.delivery_id]], [.deliveries[] |
	    [.delivery_id, .template, .status]]')" \
	    "[[\"digested\",3,$id]]
[[$id,\"digest\",\"PENDING\"]]" "explain of member $e: the digest and its row"
done
ok "peek" corp-deliver pending --channel telegram --peek
line=$(printf '%s\n' "$out" | jq -c "select(.user_id == $ann)")
is "$(printf '%s' "$line" | jq -c '[.template, .priority, .event.event_id, .digest]')" \
    "[\"digest\",\"broadcast\",$e1,{\"count\":3,\"titles\":[\"First\",\"Second <b>\",\"Third\"],\"events\":[$e1,$e2,$e3]}]" \
    "the claim line's digest object"
ok "fmt en" sh -c "printf '%s\n' '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' |
    corp-fmt"
is "$(printf '%s' "$out" | jq -r .text)" "📬 <b>Digest: 3 notifications</b>
• First
• Second &lt;b&gt;
• Third" "rendered from the catalog key: count, titles escaped, no footer, no buttons"
is "$(printf '%s' "$out" | jq -c .buttons)" null "no keyboard"
q corp-user set ann --lang ru
ok "fmt ru" sh -c "corp-deliver pending --channel telegram --peek | corp-fmt"
is "$(printf '%s\n' "$out" | jq -r "select(.user_id == $ann) | .text" | head -1)" \
    "📬 <b>Сводка уведомлений: 3</b>" "in the user's language"
q corp-user set ann --lang uk
ok "fmt uk" sh -c "corp-deliver pending --channel telegram --peek | corp-fmt"
is "$(printf '%s\n' "$out" | jq -r "select(.user_id == $ann) | .text" | head -1)" \
    "📬 <b>Зведення сповіщень: 3</b>" "uk"

# 4. The next period, and urgent never waits.
q corp-task create --as boss --title "Fourth" --assignee ann
e4=$(last)
q corp-event route
is "$(dec "$e4" ann)" "telegram|digested|digest 1h until 2026-01-05T12:00:00Z " \
    "an event at 11:00 joins the next hour's digest"
q corp-settings notify set $NKEY --priority urgent
q corp-task create --as boss --title "Fire" --assignee ann
e5=$(last)
ok "route urgent" corp-event route
is "$(dec "$e5" ann)" "telegram|created|- " "urgent: created at once"
is "$(rows ann)" "$e1|telegram|broadcast|digest $e5|telegram|urgent|task_created " \
    "its own row, now"
q corp-settings notify set $NKEY --priority p2p
CORP_NOW=2026-01-05T12:00:00Z ok "route at 12:00" corp-event route
is "$(printf '%s' "$out" | jq -c .digests)" 1 "the 12:00 digest closes"
is "$(sql "SELECT digest FROM deliveries WHERE event_id = $e4")" \
    "{\"count\":1,\"titles\":[\"Fourth\"],\"events\":[$e4]}" \
    "a digest of one is a digest too"

# 5. daily@09:00 in the user's zone: sam in Europe/Kyiv (UTC+2).
export CORP_NOW=2026-01-05T12:30:00Z
q corp-user set sam --tz Europe/Kyiv
q corp-settings notify set --event-type TASK_ASSIGNED --role executor \
    --channel telegram --digest daily@09:00
t=$(corp-task create --as boss --title "Moved" --assignee ann | jq .task_id)
q corp-event route
q corp-task assign "$t" --as boss --assignee sam
e6=$(last)
q corp-event route
is "$(dec "$e6" sam)" "telegram|digested|digest daily@09:00 until 2026-01-06T07:00:00Z " \
    "until 09:00 in Kyiv tomorrow (07:00Z)"
CORP_NOW=2026-01-06T06:59:59Z q corp-event route
is "$(rows sam)" "" "06:59:59Z: still collecting"
CORP_NOW=2026-01-06T07:00:00Z q corp-event route
is "$(rows sam)" "$e6|telegram|broadcast|digest " "07:00Z: sent"

# 6. No leak: a producer's event on a draft names ann; ann is no viewer.
export CORP_NOW=2026-01-06T08:10:00Z
q corp-settings notify set --event-type booking_created --role client \
    --channel telegram --digest 1h
d=$(corp-task create --as boss --title "SECRET" --assignee bob --draft |
    jq .task_id)
o=$(corp-task create --as boss --title "Open" --assignee ann | jq .task_id)
ec=$(last)
emit() {
	printf '{"idempotency_key":"%s","source":"shop","event_type":"booking_created","task_id":%s,"recipients":[{"user":"ann","role":"client"}],"payload":{"service":"x","starts_at":"2026-12-08T10:00:00Z","specialist_name":"s"}}\n' \
	    "$2" "$1" | corp-event emit | jq .event_id
}
ed=$(emit "$d" d1)
eo=$(emit "$o" o1)
q corp-event route
is "$(dec "$ed" ann)" "telegram|refused|- " "the draft's event: refused"
is "$(dec "$eo" ann)" "telegram|digested|digest 1h until 2026-01-06T09:00:00Z " \
    "the open task's event: digested"
CORP_NOW=2026-01-06T09:00:00Z q corp-event route
is "$(sql "SELECT digest FROM deliveries WHERE event_id = $ec")" \
    "{\"count\":2,\"titles\":[\"Open\",\"Open\"],\"events\":[$ec,$eo]}" \
    "the digest holds only what ann could see (the open task's two events)"
is "$(sql "SELECT count(*) FROM deliveries WHERE digest LIKE '%SECRET%'")" 0 \
    "no digest names the draft"
is "$(sql "SELECT count(*) FROM digest_members WHERE event_id = $ed")" 0 \
    "the draft's event joined no digest"

# 7. A digest on the fallback channel (eve: no telegram bind, a push
# subscription), whose first event has a push row of its own (another
# setting): the digest's row is keyed on the next member.
export CORP_NOW=2026-01-07T10:10:00Z
q corp-settings config set webhook.allow 127.0.0.1/32
mkdir -p "$T/subs"
"$CORP_SRC/tests/fakes/fake-push" subscribe --dir "$T/subs" \
    --base http://127.0.0.1:9 --id eve1 > "$T/eve1.sub" || bail "subscribe"
q corp-bind add --user eve --channel push --allow-http \
    --subscription "$T/eve1.sub"
q corp-settings notify set --event-type TASK_ASSIGNED --role executor \
    --channel telegram --digest 1h
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel push
q corp-task create --as boss --title "Eve's" --assignee eve --unit root
f1=$(last)
t2=$(corp-task create --as boss --title "Eve's other" --assignee ann |
    jq .task_id)
q corp-task assign "$t2" --as boss --assignee eve --unit root
f2=$(last)
q corp-event route
is "$(dec "$f1" eve)" "push|created|- telegram|digested|digest 1h on push until 2026-01-07T11:00:00Z " \
    "the first event: its own push row, and digested on push (fallback)"
is "$(dec "$f2" eve)" "telegram|digested|digest 1h on push until 2026-01-07T11:00:00Z " \
    "the second: digested on push"
CORP_NOW=2026-01-07T11:00:00Z q corp-event route
is "$(rows eve)" "$f1|push|p2p|task_created $f2|push|broadcast|digest " \
    "the digest's row is keyed on the second member"
is "$(sql "SELECT digest FROM deliveries WHERE event_id = $f2 AND
    user_id = $eve")" \
    "{\"count\":2,\"titles\":[\"Eve's\",\"Eve's other\"],\"events\":[$f1,$f2]}" \
    "and holds both"
CORP_NOW=2026-01-07T11:00:00Z ok "explain the first" \
    corp-deliver explain --event "$f1" --user eve
is "$(printf '%s' "$out" | jq -c '[.deliveries[] | [.channel, .template]]')" \
    '[["push","task_created"],["push","digest"]]' \
    "explain of the first: its own row and the digest's"

# 8. corp-db check is content with digests.
ok "check" corp-db check

done_testing
