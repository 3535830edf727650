# tests/load.sh -- queues of many rows for the queue, run and crash
# tests, built with corp's own commands in a handful of processes
# whatever the size (bulk imports, one emit, one route).
#
#   load_init                  once, after setup: the template database
#   load_queue EVENTS USERS [ROLE]
#   load_more FIRST COUNT
#
# load_init makes a template database the way an operator sets one up
# for a producer's events: the producer type "job", a setting for its
# role "member" on telegram (p2p), "mass" (broadcast) and "urgent"
# (urgent), and the operator's catalog text
#   en:job | "📋 You have a new task: <b>{payload.title}</b>"
#
# load_queue: a fresh copy of the template, exported as CORP_DB, with
# users u0..u(USERS-1) (named U0..), each bound on $LOAD_CHANNEL (default
# telegram) to the address the jq expression $LOAD_ADDRESS makes of the
# user's id (default 5000 + id: a telegram chat) and of $i, the user's
# number; and EVENTS events of type job (corp-event emit), event N titled
# "Task N" (payload.title) with trace id tN, each for every user with
# role member, or with the role the jq expression ROLE makes of $e (the
# event's number, from 1) and $u (the user's, from 0); all routed: EVENTS
# x USERS rows, event N is event_id N.  Another channel than telegram
# gets the member setting there and telegram's turned off.
# load_more FIRST COUNT: events FIRST..FIRST+COUNT-1 more for every user
# (FIRST is the next event id), routed.
load_init() {
	_ldb=${CORP_DB:-}
	CORP_DB=$(newdb) || bail "load_init: no new database"
	export CORP_DB
	{ corp-db init --admin admin &&
	    corp-settings notify set --event-type job --role member \
	    --channel telegram --new-type --new-role &&
	    corp-settings notify set --event-type job --role mass \
	    --channel telegram --priority broadcast --new-role &&
	    corp-settings notify set --event-type job --role urgent \
	    --channel telegram --priority urgent --new-role
	} >/dev/null || bail "load_init: the template failed"
	mkdir -p "$CORP_DATA_DIR/i18n"
	printf '%s\n' 'en:job | "📋 You have a new task: <b>{payload.title}</b>"' \
	    > "$CORP_DATA_DIR/i18n/load.txt"
	_load_template=$CORP_DB
	if [ -n "$_ldb" ]; then CORP_DB=$_ldb; else unset CORP_DB; fi
}

load_queue() {
	[ -n "${_load_template:-}" ] || bail "load_queue: call load_init first"
	CORP_DB=$(copydb "$_load_template") || bail "load_queue: copydb failed"
	export CORP_DB
	_lch=${LOAD_CHANNEL:-telegram}
	if [ "$_lch" != telegram ]; then
		{ corp-settings notify set --event-type job --role member \
		    --channel "$_lch" &&
		    corp-settings notify set --event-type job --role member \
		    --channel telegram --disabled; } >/dev/null ||
		    bail "load_queue: settings for $_lch failed"
	fi
	seq 0 $(($2 - 1)) | jq -R -c '{login: ("u" + .), name: ("U" + .)}' |
	    corp-user import |
	    jq -c --arg ch "$_lch" "{login, channel: \$ch, address: (
	    (.login[1:] | tonumber) as \$i | .user_id as \$id |
	    ${LOAD_ADDRESS:-5000 + .user_id} | tostring)}" |
	    corp-bind import >/dev/null || bail "load_queue: users and binds failed"
	_load_users=$2
	_load_role=${3:-'"member"'}
	load_more 1 "$1"
}

load_more() {
	seq 0 $((_load_users - 1)) > "$T/.load-users"
	seq "$1" $(($1 + $2 - 1)) | jq -R -c --rawfile us "$T/.load-users" "
	    (. | tonumber) as \$e | {idempotency_key: (\"k\" + .),
	    source: \"load\", event_type: \"job\", trace_id: (\"t\" + .),
	    payload: {title: (\"Task \" + .)},
	    recipients: [\$us | split(\"\\n\")[:-1][] | tonumber as \$u |
	    {user: (\"u\" + (\$u | tostring)), role: ($_load_role)}]}" |
	    corp-event emit >/dev/null || bail "load_more: emit failed"
	corp-event route >/dev/null || bail "load_more: route failed"
}
