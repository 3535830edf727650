#!/bin/sh
# run's claim by priority walks deliveries_priority (migration 0014,
# issue 18 lever 2): the index holds the ready PENDING rows in the
# claim's order (urgent, p2p, broadcast, then event_id, user_id), so a
# claim reads its batch and stops instead of sorting every row of the
# channel.  The order on the wire is the one corp-deliver.1 gives, across
# claims whose batches cut through priorities and events; and (SQLite)
# the index serves that ORDER BY without a sort.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
. "$CORP_SRC/tests/load.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
TOKEN='777001:AAclaim-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off

start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"
LOAD_ADDRESS='5100 + $i'
load_init

# 1. Six events to three users (chats 5100..5102), their priorities
# mixed against event order: 1 broadcast, 2 urgent, 3 p2p, 4 broadcast,
# 5 urgent, 6 p2p.  Batches of 4 cut through priorities and events.
load_queue 6 3 'if $e == 2 or $e == 5 then "urgent"
    elif $e == 3 or $e == 6 then "member" else "mass" end'
is "$(sql "SELECT priority, count(*) FROM deliveries WHERE status = 'PENDING'
    AND readiness = 'ready' GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
    "broadcast|6 p2p|6 urgent|6 " "18 ready rows, 6 of each priority"
run corp-deliver run --channel telegram --allow-http --until-empty --batch 4
is "$rc:$(printf '%s' "$out" | jq -c '[.claimed, .sent, .released]')" \
    "0:[18,18,0]" "run sends the 18 rows"
expect=
for e in 2 5 3 6 1 4; do
	for c in 5100 5101 5102; do
		expect="$expect$c:$e "
	done
done
is "$(jq -r 'select(.method == "sendMessage" and .status == 200) |
    "\(.chat_id):\(.text | capture("Task (?<n>[0-9]+)<").n)"' "$T/tg.log" |
    tr '\n' ' ')" "$expect" \
    "on the wire: urgent (2, 5), p2p (3, 6), broadcast (1, 4); users in order within an event"

# 2. The index serves the claim's order: a walk of the channel's entries,
# no sort (lib/queue.c SQL_CLAIM_PRIO names it; this is its ORDER BY).
load_queue 2 3 '"urgent"'
if if_sqlite "EXPLAIN QUERY PLAN is SQLite's"; then
	plan=$(sql "EXPLAIN QUERY PLAN SELECT d.id FROM deliveries d
	    INDEXED BY deliveries_priority WHERE d.channel = 'telegram'
	    AND d.status = 'PENDING' AND d.readiness = 'ready'
	    AND d.not_before <= 0 ORDER BY d.priority DESC, d.event_id,
	    d.user_id LIMIT 4")
	like "$plan" "USING INDEX deliveries_priority \\(channel=\\?\\)" \
	    "the claim's rows come from deliveries_priority by channel"
	unlike "$plan" "TEMP B-TREE" "in the claim's order: no sort"
	is "$(sql "SELECT count(*) FROM deliveries
	    INDEXED BY deliveries_priority WHERE channel = 'telegram'
	    AND status = 'PENDING' AND readiness = 'ready'")" 6 \
	    "the index holds the ready PENDING rows"
fi
done_testing
