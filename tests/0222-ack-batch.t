#!/bin/sh
# corp-deliver ack decides a whole batch against rows read once and
# writes the changes per batch (issue 18, lever 4): a row named twice
# sees the first line's change, an unbound line sees the rows changed
# before it and changes those after it, exactly as line-by-line acks
# did.  The database state after one mixed batch.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z
now=$(date -u -d 2026-01-05T10:00:00Z +%s)

fixture_tasks 2
corp-event route >/dev/null || bail "route failed"
ok "pending" corp-deliver pending --channel telegram --limit 8 --worker w1
tok=$(printf '%s\n' "$out" | jq -r .lease | sort -u)
is "$(printf '%s\n' "$tok" | wc -l | tr -d ' ')" 1 "8 rows under one token"
id() { sql "SELECT d.id FROM deliveries d JOIN users u ON u.id = d.user_id JOIN events e ON e.event_id = d.event_id WHERE u.login = '$2' AND d.channel = 'telegram' ORDER BY d.event_id LIMIT 1 OFFSET $(($1 - 1))"; }
A=$(id 1 ann) B=$(id 1 bob) C=$(id 2 bob) D=$(id 1 sam) E=$(id 2 sam)
F=$(id 1 boss) G=$(id 2 ann)

line() {	# ID RESULT [MORE]
	printf '{"delivery_id":%s,"lease":"%s","result":"%s"%s}\n' "$1" "$tok" "$2" "${3:-}"
}
{
	line "$A" retry ',"error":"HTTP 500","retry_after":100'
	line "$A" sent ',"provider_message_id":"mA"'
	line "$B" unbound ',"error":"chat not found"'
	line "$C" sent ',"provider_message_id":"mC"'
	line "$D" sent ',"provider_message_id":"mD"'
	line "$E" unbound
	line 999 sent
	line "$F" failed ',"error":"blocked"'
	line "$G" retry ',"attempted":false,"retry_after":60,"error":"unreachable"'
	line "$F" retry ',"error":"late"'
} > "$T/a"
run_in "$T/a" corp-deliver ack --batch 100
is "$rc" 0 "exit 0"
is "$(printf '%s\n' "$out" | jq -r .stored | tr '\n' ' ')" \
    "retry sent unbound sent sent unbound unchanged failed retry unchanged " \
    "stored, line by line"
q="SELECT status, attempts, CASE WHEN not_before = 0 THEN 0 ELSE not_before - $now END, coalesce(error, '-'), coalesce(provider_message_id, '-'), readiness, coalesce(waiting_since - $now, -1), coalesce(held_since - $now, -1), coalesce(sent_at - $now, -1), CAST(lease_token IS NULL AS INTEGER) FROM deliveries WHERE id ="
is "$(sql "$q $A")" "SENT|2|100|-|mA|ready|-1|-1|0|1" \
    "retry then sent in one batch: SENT, two attempts, the retry's not_before kept"
is "$(sql "$q $B")" "PENDING|0|0|chat not found|-|waiting_bind|0|-1|-1|1" "unbound: waiting, no attempt"
is "$(sql "$q $C")" "SENT|1|0|-|mC|waiting_bind|0|-1|0|1" \
    "sent after its user's unbound: SENT, made waiting by that unbound before"
is "$(sql "$q $D")" "SENT|1|0|-|mD|ready|-1|-1|0|1" \
    "sent before its user's unbound: SENT first, so the unbound's refresh passed it"
is "$(sql "$q $E")" "PENDING|0|0|-|-|waiting_bind|0|-1|-1|1" "the second unbound"
is "$(sql "$q $F")" "FAILED|1|0|blocked|-|ready|-1|-1|-1|1" "failed; the late retry after it changed nothing"
is "$(sql "$q $G")" "PENDING|0|60|unreachable|-|ready|-1|0|-1|1" "not attempted: held, no attempt used"
is "$(sql "SELECT login, b.active, coalesce(b.deactivated_by, '-') FROM binds b JOIN users u ON u.id = b.user_id WHERE b.channel = 'telegram' ORDER BY login" | tr '\n' ' ')" \
    "ann|1|- bob|0|delivery boss|1|- sam|0|delivery " "the unbound lines' binds are off"
is "$(sql "SELECT delivery_id, result, stored, coalesce(error, '-'), coalesce(provider_message_id, '-'), attempted, coalesce(not_before - $now, -1) FROM delivery_attempts ORDER BY delivery_id, id" | tr '\n' ' ')" \
    "$F|failed|failed|blocked|-|1|-1 $F|retry|unchanged|late|-|1|-1 $A|retry|retry|HTTP 500|-|1|100 $A|sent|sent|-|mA|1|-1 $B|unbound|unbound|chat not found|-|1|-1 $D|sent|sent|-|mD|1|-1 $G|retry|retry|unreachable|-|0|60 $C|sent|sent|-|mC|1|-1 $E|unbound|unbound|-|-|1|-1 " \
    "one attempt per known row's line, none for the unknown id"
is "$(sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL")" 1 \
    "only the row no line named keeps its lease"

done_testing
