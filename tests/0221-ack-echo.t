#!/bin/sh
# corp-deliver ack passes each line on as it came, with "stored" added
# before its closing brace, and pending prints each event object once
# per claim (issue 18, levers 3 and 5): the exact bytes in the edge
# cases (key order, escapes, blanks, a "stored" already there, a huge
# member), and the database state behind them.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:00:00Z

fixture_tasks 3
corp-event route >/dev/null || bail "route failed"
is "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'telegram'")" 12 \
    "12 rows: boss, ann, bob, sam x 3 tasks"

# pending: one event object serialised per event, the lines unchanged.
ok "pending --limit 12" corp-deliver pending --channel telegram --limit 12 --worker w1
printf '%s\n' "$out" > "$T/p"
is "$(wc -l < "$T/p" | tr -d ' ')" 12 "12 lines"
is "$(jq -c . "$T/p")" "$out" "every line is compact JSON, byte for byte as jq -c prints it"
is "$(jq -r '.event.event_id' "$T/p" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" \
    "1:4 2:4 3:4 " "each line carries its own event (three events, four rows each)"
is "$(jq -r 'keys_unsorted | .[-1]' "$T/p" | sort -u)" "event" "event is each line's last member"
tok=$(jq -r .lease "$T/p" | sort -u)
is "$(printf '%s\n' "$tok" | wc -l | tr -d ' ')" 1 "one token"
is "$(sql "SELECT count(*), count(DISTINCT lease_token), sum(CASE WHEN lease_tokens = lease_token THEN 1 ELSE 0 END), min(worker), min(lease_until) FROM deliveries WHERE lease_token IS NOT NULL")" \
    "12|1|12|w1|$(($(date -u -d 2026-01-05T10:00:00Z +%s) + 120))" \
    "the batch leased in one statement: token, lease_tokens, worker, lease_until on every row"

# The ack lines, by hand, as senders may write them.
sed -n 1p "$T/p" | sed 's/}$/,"result":"sent","provider_message_id":"m1"}/' > "$T/a"
# Blanks around and inside, keys in another order, escapes (\u, a
# surrogate pair, \/), numbers as written, a CR of a CRLF line end.
cat >> "$T/a" <<'EOF2'
  {"result" : "sent", "note":"caf\u00e9 \u2603 \ud83d\ude00 a\/b", "nested":{"x":[1,2.50,1e3]}, "lease":"TOK", "delivery_id": 2 }	
{"delivery_id":3,"stored":"old","lease":"TOK","result":"retry","error":"HTTP 500"}
{"delivery_id":4,"result":"sent"}
{"delivery_id":6,"lease":"never-issued","result":"sent"}
EOF2
# A CR before the newline of the second line.
sed -i '2s/$/\r/; s/TOK/'"$tok"'/' "$T/a"
# A huge member: one 1 MiB string.
head -c 1048576 /dev/zero | tr '\0' x > "$T/blob"
printf '{"delivery_id":5,"lease":"%s","result":"failed","error":"chat gone","event":{"blob":"%s"}}\n' \
    "$tok" "$(cat "$T/blob")" >> "$T/a"
# The first line again: a repeated ack.
sed -n 1p "$T/a" >> "$T/a"

run_in "$T/a" corp-deliver ack
is "$rc" 65 "exit 65: two lines could not be applied"
like "$err" "delivery line: missing lease" "the bad line is named on stderr"
printf '%s\n' "$out" > "$T/o"
is "$(wc -l < "$T/o" | tr -d ' ')" 7 "one line out per line in"
is "$(sed -n 1p "$T/o")" "$(sed -n 1p "$T/a" | sed 's/}$/,"stored":"sent"}/')" \
    "a sender's compact line: passed on byte for byte, stored at the end"
is "$(sed -n 2p "$T/o")" \
    "{\"result\" : \"sent\", \"note\":\"caf\\u00e9 \\u2603 \\ud83d\\ude00 a\\/b\", \"nested\":{\"x\":[1,2.50,1e3]}, \"lease\":\"$tok\", \"delivery_id\": 2 ,\"stored\":\"sent\"}" \
    "blanks inside, key order, escapes and numbers kept; blanks and CR around dropped"
is "$(sed -n 3p "$T/o")" \
    "{\"delivery_id\":3,\"stored\":\"retry\",\"lease\":\"$tok\",\"result\":\"retry\",\"error\":\"HTTP 500\"}" \
    "a line that carried stored: the value replaced where it was, no second key"
is "$(sed -n 4p "$T/o")" \
    '{"delivery_id":4,"result":"sent","ack_error":"missing lease","stored":"unchanged"}' \
    "a bad line: ack_error and stored added"
is "$(sed -n 5p "$T/o")" \
    '{"delivery_id":6,"lease":"never-issued","result":"sent","ack_error":"delivery 6: sent with a lease never issued for this row: refused, the row unchanged","stored":"unchanged"}' \
    "a refused line: the same"
sed -n 6p "$T/a" | sed 's/}$/,"stored":"failed"}/' > "$T/o6.want"
sed -n 6p "$T/o" > "$T/o6"
ok "a 1 MiB member: passed on byte for byte" cmp "$T/o6.want" "$T/o6"
is "$(sed -n 7p "$T/o")" "$(sed -n 1p "$T/a" | sed 's/}$/,"stored":"unchanged"}/')" \
    "the same ack again: unchanged, still the line as it came"
is "$(jq -c '[.delivery_id, .stored]' "$T/o" | tr '\n' ' ')" \
    '[1,"sent"] [2,"sent"] [3,"retry"] [4,"unchanged"] [6,"unchanged"] [5,"failed"] [1,"unchanged"] ' \
    "every line is JSON with one stored"

is "$(sql "SELECT id, status, attempts, coalesce(error, '-'), coalesce(provider_message_id, '-'), CAST(lease_token IS NULL AS INTEGER) FROM deliveries WHERE id <= 6 ORDER BY id" | tr '\n' ' ')" \
    "1|SENT|1|-|m1|1 2|SENT|1|-|-|1 3|PENDING|1|HTTP 500|-|1 4|PENDING|0|-|-|0 5|FAILED|1|chat gone|-|1 6|PENDING|0|-|-|0 " \
    "database: sent, sent, retry, untouched, failed, untouched"
# (Per row in line order; PostgreSQL applies a batch in delivery_id order.)
is "$(sql "SELECT delivery_id, result, stored FROM delivery_attempts ORDER BY delivery_id, id" | tr '\n' ' ')" \
    "1|sent|sent 1|sent|unchanged 2|sent|sent 3|retry|retry 5|failed|failed " \
    "one attempt per applied line"

# A line that comes with an "ack_error" of its own (an earlier stage's,
# here not even a string) and acks cleanly: nothing on stderr, the line
# printed with stored set (the warning is only for what this ack found).
printf '{"delivery_id":7,"lease":"%s","result":"sent","ack_error":5}\n' "$tok" > "$T/b"
run_in "$T/b" corp-deliver ack
is "$rc:$err" "0:" "a clean ack of a line that carried ack_error: exit 0, silent"
is "$out" "{\"delivery_id\":7,\"lease\":\"$tok\",\"result\":\"sent\",\"ack_error\":5,\"stored\":\"sent\"}" \
    "the line with stored"

# An error text with a right-to-left override, a zero-width space and a
# newline (a sender's or a server's words): stored with each one '?', for
# the person who reads it later in explain or dlq (fresh-eyes round 8's
# left-over); the line itself passes on as it came.
printf '{"delivery_id":8,"lease":"%s","result":"retry","error":"bad \\u202egnp.exe\\u200bx\\ny"}\n' "$tok" > "$T/c"
run_in "$T/c" corp-deliver ack
is "$rc" 0 "an error with invisible characters: acked"
is "$out" "{\"delivery_id\":8,\"lease\":\"$tok\",\"result\":\"retry\",\"error\":\"bad \\u202egnp.exe\\u200bx\\ny\",\"stored\":\"retry\"}" \
    "the line passed on as it came"
is "$(sql "SELECT error FROM deliveries WHERE id = 8")|$(sql "SELECT error FROM delivery_attempts WHERE delivery_id = 8")" \
    "bad ?gnp.exe?x?y|bad ?gnp.exe?x?y" "stored cleaned in the row and its attempt"

done_testing
