#!/bin/sh
# Rows of one user stay in order on the wire (corp-deliver.1, issue 15
# item 0) when many claimers race: two corp-deliver run --concurrency 4
# --batch 37 at once, 8 claimers, over 200 users with 10 events each,
# back to back.  On PostgreSQL a claim that lost a user's advisory lock
# to another claim holding one of that user's rows FOR UPDATE used to
# leave a gap the winner leased past, so a later event went out first.
# The fake Bot API's log is the wire: per chat, the events arrive in
# event order.  State is built with corp's own commands.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
TOKEN='777001:AAorder-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off
USERS=$(quick 200 60)
EVENTS=10
ROUNDS=$(quick 2 1)

start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"

i=0
while [ $i -lt "$USERS" ]; do
	printf '{"login":"u%d","name":"U%d"}\n' $i $i
	i=$((i + 1))
done > "$T/users"
run_in "$T/users" corp-user import
is "$rc" 0 "$USERS users imported"
i=0
bad=0
while [ $i -lt "$USERS" ]; do
	corp-bind add --user "u$i" --channel telegram --address $((5000 + i)) \
	    >/dev/null || bad=$((bad + 1))
	i=$((i + 1))
done
is "$bad" 0 "each bound to chat 5000 + i"

# emit ROUND: EVENTS events for user 0, then EVENTS for user 1, ...; the
# service names the round, the user and the event's rank ("R.U.K").
emit() {
	u=0
	while [ $u -lt "$USERS" ]; do
		k=1
		while [ $k -le $EVENTS ]; do
			printf '{"idempotency_key":"o%d-%d-%d","source":"order","event_type":"booking_created","recipients":[{"user":"u%d","role":"client"}],"payload":{"service":"S%d.%d.%d","specialist_name":"Sam","starts_at":"2026-01-06T10:00:00Z"}}\n' \
			    "$1" $u $k $u "$1" $u $k
			k=$((k + 1))
		done
		u=$((u + 1))
	done | corp-event emit > /dev/null
}

r=1
while [ $r -le "$ROUNDS" ]; do
	emit $r
	is "$?" 0 "round $r: $((USERS * EVENTS)) events emitted"
	ok "round $r: routed" corp-event route
	is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" \
	    $((USERS * EVENTS)) "round $r: one row per event"
	: > "$T/tg.log"
	for w in a b; do
		corp-deliver run --channel telegram --allow-http --until-empty \
		    --concurrency 4 --batch 37 --worker "$w$r" \
		    > "$T/run.$w" 2> "$T/err.$w" &
		eval "pid_$w=\$!"
	done
	wait "$pid_a"; ra=$?
	wait "$pid_b"; rb=$?
	is "$ra:$rb" "0:0" "round $r: both runs exit 0"
	[ -s "$T/err.a" ] && _diag "run a: $(head -3 "$T/err.a")"
	[ -s "$T/err.b" ] && _diag "run b: $(head -3 "$T/err.b")"
	is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY status")" \
	    "SENT|$((USERS * EVENTS * r))" "round $r: every row SENT"
	# The wire: per chat, the ranks in arrival order.  A chat whose ranks
	# do not read 1..EVENTS got a later event before an earlier one.
	jq -r 'select(.method == "sendMessage" and .status == 200) |
	    "\(.chat_id) \(.text | capture("S[0-9]+\\.[0-9]+\\.(?<k>[0-9]+)").k)"' \
	    "$T/tg.log" > "$T/wire"
	is "$(wc -l < "$T/wire" | tr -d ' ')" $((USERS * EVENTS)) \
	    "round $r: each message once on the wire"
	out_of_order=$(awk -v n=$EVENTS '{ if ($2 != ++seen[$1]) bad[$1] = 1 }
	    END { c = 0; for (k in bad) c++; print c }' "$T/wire")
	is "$out_of_order" 0 "round $r: every chat got its events in order"
	r=$((r + 1))
done
ok "corp-db check clean" corp-db check
done_testing
