#!/bin/sh
# corp-cursor: get, set, advance; the file's format, mode and atomicity;
# the legacy events cursor.
. "${CORP_SRC:-.}/tests/lib.sh"
setup

f="$CORP_DATA_DIR/bot_deliveries_cursor_telegram.json"
# ackline EVENT USER STORED: one line of corp-deliver ack's output.
ackline() {
	printf '{"delivery_id":%d,"lease":"x","channel":"telegram","user_id":%d,"event":{"event_id":%d,"event_type":"TASK_CREATED"},"result":"sent","stored":"%s"}\n' \
	    "$1$2" "$2" "$1" "$3"
}

# get / set ------------------------------------------------------------
ok "get without a file" corp-cursor get
is "$out" "0:0" "prints 0:0"
is "$(ls "$CORP_DATA_DIR" | grep -c cursor)" 0 "and creates nothing"

umask 000
ok "set" corp-cursor set 98:1
umask 077
is "$out" "" "set prints nothing"
is "$(cat "$f")" '{"cursor_audit_id":98,"cursor_user_id":1}' \
    "compact JSON, seed 000's names"
is "$(od -An -c "$f" | tr -d ' \n' | tail -c 2)" '\n' "ends with a newline"
is "$(jq -c --argjson want '{"cursor_audit_id": 98, "cursor_user_id": 1}' \
    '. == $want' "$f")" true "JSON-equal to seed 000's example"
is "$(stat -c %a "$f")" 600 "mode 0600 under umask 000"
is "$(stat -c %a "$CORP_DATA_DIR/bot_deliveries_cursor_telegram.lock")" 600 \
    "the lock file too"
ok "get" corp-cursor get
is "$out" "98:1" "round trip"
ok "set goes back unconditionally" corp-cursor set 5:3
is "$(corp-cursor get --channel telegram)" "5:3" "5:3"
ok "set another channel" corp-cursor set --channel email 7:2
is "$(cat "$CORP_DATA_DIR/bot_deliveries_cursor_email.json")" \
    '{"cursor_audit_id":7,"cursor_user_id":2}' "its own file"
is "$(corp-cursor get)" "5:3" "telegram's is untouched"
ok "the largest ids" corp-cursor set 9223372036854775807:9223372036854775807
is "$(corp-cursor get)" "9223372036854775807:9223372036854775807" "kept exactly"
ok "set 0:0" corp-cursor set 0:0
is "$(corp-cursor get)" "0:0" "0:0"
ok "get and set never open the database" corp-cursor get --db "$T/none.db"
ok "set without a database" corp-cursor set 1:1 --db "$T/none.db"
[ ! -e "$T/none.db" ]; is $? 0 "no database was created"

for a in 98 98: :1 1:-1 a:b '1:2:3' ' 1:2' 9223372036854775808:1; do
	is_rc 65 "set '$a' refused" corp-cursor set "$a"
done
like "$err" "cursor '9223372036854775808:1': expected AUDIT:USER" "says why"
is_rc 65 "set -- -1:1 refused" corp-cursor set -- -1:1
is "$(corp-cursor get)" "1:1" "refused values wrote nothing"
is_rc 64 "set without a value" corp-cursor set
is_rc 64 "get takes no argument" corp-cursor get 1:1
is_rc 64 "set takes no --force" corp-cursor set --force 1:1
for c in Telegram 'a b' '' ../x abcdefghijklmnopqrstuvwxyz0123456; do
	is_rc 65 "channel '$c' refused" corp-cursor get --channel "$c"
done
like "$err" "channel 'abcdefghijklmnopqrstuvwxyz0123456': expected 1-32 of a-z 0-9 _ -" \
    "says why"

# A corrupt file: reported with its name and the reason.
printf '{"cursor_audit_id":98,' > "$f"
is_rc 65 "get of a truncated file" corp-cursor get
like "$err" "^corp-cursor: $f:1:[0-9]+: " "names the file and position"
printf '{"cursor_audit_id":"98","cursor_user_id":1}\n' > "$f"
is_rc 65 "get of a mistyped field" corp-cursor get
is "$err" "corp-cursor: $f: cursor_audit_id: missing or not a non-negative integer" \
    "names the field"
printf '[98,1]\n' > "$f"
is_rc 65 "get of an array" corp-cursor get
is "$err" "corp-cursor: $f: not a JSON object" "says so"
ackline 99 1 sent > "$T/one"
run_in "$T/one" corp-cursor advance
is "$rc" 65 "advance does not overwrite a corrupt file"
is "$(cat "$f")" "[98,1]" "the file is left for the operator"
run_in "$T/one" corp-cursor advance --force
is "$rc" 0 "advance --force replaces it"
is "$(corp-cursor get)" "99:1" "with the acked position"
ok "set replaces a corrupt file" corp-cursor set 0:0

# advance -----------------------------------------------------------
{
	ackline 10 3 sent
	ackline 12 1 retry
	ackline 12 2 failed
	ackline 50 1 unchanged
	ackline 11 9 unbound
} > "$T/acks"
run_in "$T/acks" corp-cursor advance
is "$rc:$out" "0:" "advance exits 0 and prints nothing"
is "$(corp-cursor get)" "12:2" "the highest (event_id, user_id) not unchanged"
{ ackline 12 1 sent; ackline 11 5 sent; } > "$T/older"
run_in "$T/older" corp-cursor advance
is "$rc" 0 "older acks"
is "$(corp-cursor get)" "12:2" "never go backwards"
run_in "$T/older" corp-cursor advance --force
is "$(corp-cursor get)" "12:1" "--force does"
ackline 99 9 unchanged > "$T/unch"
run_in "$T/unch" corp-cursor advance
is "$(corp-cursor get)" "12:1" "only unchanged lines: no move"
: > "$T/empty"
rm -f "$CORP_DATA_DIR/bot_deliveries_cursor_email.json"
run_in "$T/empty" corp-cursor advance --channel email
is "$rc" 0 "empty input"
[ ! -e "$CORP_DATA_DIR/bot_deliveries_cursor_email.json" ]
is $? 0 "writes no cursor"
{
	ackline 13 1 sent
	echo 'this is not JSON'
	echo
	echo '{"delivery_id":1,"user_id":1,"event":{"event_id":99}}'
	echo '{"delivery_id":1,"user_id":1,"stored":"sent"}'
	echo '[1,2]'
	ackline 14 4 sent
} > "$T/mixed"
run_in "$T/mixed" corp-cursor advance
is "$rc" 65 "bad lines make advance exit 65"
is "$err" "corp-cursor: <stdin>:2:4: invalid token near 'this'
corp-cursor: <stdin>:4: missing \"stored\" (not a line of corp-deliver ack)
corp-cursor: <stdin>:5: missing or bad \"event\":{\"event_id\"}
corp-cursor: <stdin>:6:1: expected a JSON object" "each reported with its position"
is "$(corp-cursor get)" "14:4" "after finishing the rest"
is_rc 64 "advance takes no argument" corp-cursor advance 5:5

# The legacy events cursor -------------------------------------------------
# Events 1..7, routed up to 5; a PENDING e-mail row of event 3 holds it at
# 2 whatever the telegram cursor says.
# alice on telegram and e-mail; a note to her as "tg" gets a telegram
# row, as "both" a row on each, as "quiet" none (the setting is off).
{ corp-user add alice --name Alice &&
    corp-bind add --user alice --channel telegram --address 1001 &&
    corp-bind add --user alice --channel email --address alice@corp.test &&
    corp-settings notify set --event-type note --role tg --channel telegram \
    --new-type --new-role &&
    corp-settings notify set --event-type note --role both \
    --channel telegram --new-role &&
    corp-settings notify set --event-type note --role both --channel email &&
    corp-settings notify set --event-type note --role quiet \
    --channel telegram --disabled --new-role; } >/dev/null ||
    bail "alice and the settings failed"
uid=$(sql "SELECT id FROM users WHERE login = 'alice'")
# emit ROLE...: the next events, one per role, to alice.
n=0
emit() {
	: > "$T/emit"
	for r in "$@"; do
		n=$((n + 1))
		printf '{"idempotency_key":"k%d","source":"test","event_type":"note","recipients":[{"user":"alice","role":"%s"}]}\n' $n "$r" >> "$T/emit"
	done
	corp-event emit < "$T/emit" >/dev/null || bail "emit failed"
}
# acked CHANNEL [FAILED-EVENT]: every row of CHANNEL claimed and acked,
# sent, or failed for that event.
acked() {
	corp-deliver pending --channel "$1" --limit 10 | jq -c --argjson f "${2:-0}" \
	    '. + (if .event.event_id == $f then {result: "failed", error: "refused"}
	    else {result: "sent"} end)' | corp-deliver ack >/dev/null
}
emit tg quiet both tg quiet
corp-event route >/dev/null
emit quiet tg
acked telegram 4
is "$(sql "SELECT event_id || ':' || channel || ':' || status FROM deliveries
    ORDER BY event_id, channel" | tr '\n' ' ')" \
    "1:telegram:SENT 3:email:PENDING 3:telegram:SENT 4:telegram:FAILED " \
    "events 1..7, routed up to 5: a PENDING e-mail row of event 3"
legacy="$CORP_DATA_DIR/events_cursor.json"
ackline 3 $uid sent > "$T/a3"
run_in "$T/a3" corp-cursor advance
is "$rc" 0 "advance"
is "$(cat "$legacy")" '{"last_audit_id":2}' \
    "events_cursor.json stops before the PENDING row of event 3"
is "$(stat -c %a "$legacy")" 600 "mode 0600"
acked email
run_in "$T/empty" corp-cursor advance
is "$(cat "$legacy")" '{"last_audit_id":5}' \
    "then the watermark (event 7 is not routed; its row does not count)"
corp-event route >/dev/null
run_in "$T/empty" corp-cursor advance
is "$(cat "$legacy")" '{"last_audit_id":6}' "a PENDING row of event 7: 6"
acked telegram
run_in "$T/empty" corp-cursor advance
is "$(cat "$legacy")" '{"last_audit_id":7}' "all routed, none pending: 7"
run_in "$T/empty" corp-cursor advance --db "$T/none.db"
is "$rc" 67 "advance needs the database"

# kill -9 at any point of a write leaves the old or the new file -----------
n=$(quick 50 50)
corp-cursor set 1:1
bad=0
i=0
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	# A writer loop (set, then advance) in its own process group,
	# killed with SIGKILL after 1-9 ms: at any point of a write.
	timeout -s KILL "0.00$((i % 9 + 1))" sh -c '
	    k=$1
	    while :; do
		corp-cursor set "$k:1" || exit 1
		k=$((k + 1))
		printf "{\"stored\":\"sent\",\"user_id\":1,\"event\":{\"event_id\":%d}}\n" \
		    "$k" | corp-cursor advance || exit 1
		k=$((k + 1))
	    done' sh $((i * 1000)) 2>/dev/null
	if ! jq -e 'type == "object" and (keys == ["cursor_audit_id",
	    "cursor_user_id"]) and (.cursor_audit_id | type == "number")' \
	    "$f" >/dev/null 2>&1 || ! corp-cursor get >/dev/null; then
		bad=$((bad + 1))
		_diag "iteration $i: $(cat "$f")"
	fi
done
is "$bad" 0 "$n kills: always a whole, valid cursor file"
jq -e . "$legacy" >/dev/null 2>&1
is $? 0 "and a valid events_cursor.json"
ok "the next write works" corp-cursor set 5:5
is "$(ls "$CORP_DATA_DIR" | grep -c 'cursor_telegram\.json\.tmp\.')" 0 \
    "and sweeps temporary files a killed writer left"

ok "--help" corp-cursor --help
like "$out" "usage: corp-cursor get \[--channel CHANNEL\]" "synopsis on stdout"

done_testing
