#!/bin/sh
# Seed 003's recipient matrix as shipped defaults (issue 15.6): who hears
# of booking_created / cancelled / rescheduled / done, by initiator.  The
# client who books gets a confirmation although they are the actor
# (notify_self); everywhere else the actor hears nothing ("- сам").  Then
# the upgrade of an older database (lib/sql/0008-booking-confirm.sql):
# only a row still at the old default changes.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
q() { "$@" > /dev/null || fail "$*"; }

is "$(corp-settings notify list --role client | jq -c 'select(.notify_self) |
    [.event_type, .role, .channel]')" '["booking_created","client","telegram"]' \
    "notify_self is on where the matrix sends to the initiator, and only there"

q corp-user add eve --name "Eve Adams" --lang en
q corp-user add kate --name "Kate Moroz" --lang uk
# emit TYPE WHO ACTOR: one booking event with all three as recipients.
n=0
emit() {
	n=$((n + 1))
	jq -cn --arg t "$1" --arg who "$2" --arg actor "$3" --argjson n "$n" '
	    {idempotency_key: "b-\($n)", source: "booking", event_type: $t,
	     recipients: [{user: "eve", role: "client"},
	         {user: "kate", role: "specialist"},
	         {user: "admin", role: "admin"}],
	     payload: {booking_id: $n, initiated_by: $who,
	         client_name: "Eve Adams", specialist_name: "Kate Moroz",
	         service: "Consultation",
	         starts_at: "2026-01-12T10:00:00Z",
	         old_starts_at: "2026-01-11T10:00:00Z"}}
	    + (if $actor == "" then {} else {actor: $actor} end)' |
	    corp-event emit > /dev/null || fail "emit $*"
}
emit booking_created client eve
emit booking_created admin admin
emit booking_cancelled client eve
emit booking_cancelled admin admin
emit booking_cancelled specialist kate
emit booking_rescheduled admin admin
emit booking_done system ""
q corp-event route
# The matrix of seed 003, row by row: client, specialist, admin.
is "$(sql "SELECT e.event_type || ' ' || group_concat(d.decision, ' ')
    FROM events e JOIN (SELECT r.event_id, r.decision, u.login
    FROM route_decisions r JOIN users u ON u.id = r.user_id
    ORDER BY r.event_id, CASE u.login WHEN 'eve' THEN 1 WHEN 'kate' THEN 2
    ELSE 3 END) d ON d.event_id = e.event_id
    GROUP BY e.event_id, e.event_type ORDER BY e.event_id")" \
"booking_created created created created
booking_created created created self
booking_cancelled self created created
booking_cancelled created created self
booking_cancelled created self created
booking_rescheduled created created self
booking_done disabled disabled created" \
    "client, specialist, admin per initiator: the seed's matrix"
# The client's confirmation is the text the seed names.
q corp-bind add --user eve --channel telegram --address 7008
is "$(corp-deliver pending --channel telegram --peek | corp-fmt |
    jq -r 'select(.login == "eve" and .event.payload.initiated_by ==
    "client") | .text' | head -1)" "✅ Your booking is confirmed" \
    "the client who booked is told the booking is confirmed"

# Upgrading: a database at the version before 0008-booking-confirm.
if if_sqlite "corp-db migrate --to from an empty file"; then
	prev=$(ls "$CORP_SRC"/lib/sql/[0-9]*.sql | grep -B1 -- '-booking-confirm\.sql$' |
	    head -1 | xargs basename | sed 's/-.*//; s/^0*//')
	# old DIR: a database as the release before this one left it.
	old() {
		mkdir -p "$T/$1" && chmod 700 "$T/$1"
		: > "$T/$1/corp.db"
		CORP_DATA_DIR="$T/$1" corp-db migrate --to "$prev" > /dev/null ||
		    fail "migrate --to $prev"
	}
	row() {
		CORP_DATA_DIR="$T/$1" corp-settings notify list \
		    --event-type booking_created --role client | jq -c \
		    '[.channel, .enabled, .priority, .template, .notify_self]'
	}
	old untouched
	is "$(sqlite3 "$T/untouched/corp.db" "SELECT notify_self FROM
	    notification_settings WHERE event_type = 'booking_created' AND
	    role = 'client'")" 0 "before: the old default, notify_self off"
	CORP_DATA_DIR="$T/untouched" q corp-db migrate
	is "$(row untouched)" '["telegram",true,"p2p","booking_created",true]' \
	    "a row at the old default gets notify_self"
	# SQL write on purpose: the operator's changes made with the old
	# release's corp-settings (today's would migrate the database first).
	old changed
	sqlite3 "$T/changed/corp.db" "UPDATE notification_settings SET
	    priority = 'urgent' WHERE event_type = 'booking_created' AND
	    role = 'client'; INSERT INTO notification_settings VALUES
	    ('booking_created', 'client', 'email', 1, 'p2p', 'booking_created',
	    0)"
	CORP_DATA_DIR="$T/changed" q corp-db migrate
	is "$(row changed)" '["email",true,"p2p","booking_created",false]
["telegram",true,"urgent","booking_created",false]' \
	    "a row the operator changed, and one they added, stay theirs"
	old deleted
	sqlite3 "$T/deleted/corp.db" "DELETE FROM notification_settings WHERE
	    event_type = 'booking_created' AND role = 'client'"
	CORP_DATA_DIR="$T/deleted" q corp-db migrate
	is "$(row deleted)" "" "a row the operator deleted is not made again"
	old disabled
	sqlite3 "$T/disabled/corp.db" "UPDATE notification_settings SET
	    enabled = 0 WHERE event_type = 'booking_created' AND
	    role = 'client'"
	CORP_DATA_DIR="$T/disabled" q corp-db migrate
	is "$(row disabled)" '["telegram",false,"p2p","booking_created",false]' \
	    "nor one they disabled"
fi
done_testing
