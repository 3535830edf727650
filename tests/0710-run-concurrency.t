#!/bin/sh
# corp-deliver run --concurrency K: K children, K connections at once,
# against the fake Bot API with a delay so that sends overlap.  Every row
# SENT exactly once and each message once on the wire; the fake saw
# requests in flight at once; one chat's messages in order; one summary
# that adds up the children's; SIGTERM to the parent loses nothing;
# --max split across children; --worker ID gives ID-1..ID-K; exit 77 and
# 75 of a child propagate; the children die with a parent killed -9.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
# run is a loop: off the journal its lines start with their time
# (corp.7 Errors).
TS='2026-01-05T10:00:00.000Z '
TOKEN='777001:AAsecret-Token_value'
export FAKE_TG_TOKEN="$TOKEN" CORP_TELEGRAM_TOKEN="$TOKEN"
export CORP_RATE_LIMIT=off

DELAY=100
printf '{"chat_id":4999,"status":400}\n{"delay_ms":%s}\n' "$DELAY" > "$T/slow.script"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --script "$T/slow.script"
export CORP_TELEGRAM_API="http://127.0.0.1:$port"

# load EVENTS USERS (tests/load.sh): EVENTS x USERS p2p rows, user uI
# bound to chat 5000 + its id, event N is "Task N" (as in 0700-run.t).
. "$CORP_SRC/tests/load.sh"
load_init
load() { load_queue "$@"; }

exactly_once() {
	sql "SELECT
	    (SELECT count(*) FROM deliveries WHERE status <> 'SENT'),
	    (SELECT count(*) FROM (SELECT delivery_id FROM delivery_attempts
	        WHERE stored = 'sent' GROUP BY delivery_id HAVING count(*) <> 1) AS x),
	    (SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM
	        delivery_attempts a WHERE a.delivery_id = d.id AND a.stored = 'sent'))"
}
accepted() { cat "$@" | jq -c 'select(.method == "sendMessage" and .status == 200)'; }
wire() {
	echo "$(accepted "$@" | jq -c '[.chat_id, .text]' | sort | uniq -d | wc -l) $(accepted "$@" | wc -l)"
}
summary() { printf '%s\n' "$out" | jq -c 'del(.elapsed_ms)'; }
leased() { sql "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL"; }
runrun() { run corp-deliver run --channel telegram --allow-http "$@"; }

# 1. K=4: 80 rows over 40 chats, 100 ms per request.
load 2 40
: > "$T/tg.log"
runrun --until-empty --concurrency 4 --batch 5 --worker w
is "$rc" 0 "--concurrency 4 --until-empty exits 0"
is "$(summary)" '{"channel":"telegram","claimed":80,"sent":80,"retry":0,"failed":0,"unbound":0,"held":0,"dlq":0,"released":0}' \
    "one summary line adding up the children's: 80 claimed, 80 sent"
is "$(printf '%s\n' "$out" | wc -l)" 1 "stdout holds only that line"
like "$(printf '%s' "$out" | jq .elapsed_ms)" '^[0-9]+$' "with elapsed_ms"
is "$err" "${TS}corp-deliver: telegram: sent 80 retry 0 failed 0 held 0" \
    "stderr: one line, the children's counts added up"
is "$(exactly_once)" "0|0|0" "every row SENT, exactly one stored sent ack each"
is "$(wire "$T/tg.log")" "0 80" "the fake got each of the 80 messages once"
is "$(leased)" 0 "no lease left"
# The fake logs a request on arrival, before its delay: one connection
# sends the next request only after the answer, so two arrivals closer
# than the delay were in flight at once.
overlaps=$(jq -s '[.[] | select(.method == "sendMessage") | .t] | sort |
    [range(1; length) as $i | .[$i] - .[$i - 1]] |
    map(select(. < '"$DELAY"' / 1000 * 0.9)) | length' "$T/tg.log")
ok "requests overlapped on the wire ($overlaps arrivals within the delay of the one before)" \
    test "$overlaps" -ge 2
is "$(sql "SELECT count(*) FROM (SELECT DISTINCT worker FROM delivery_attempts) AS x
    WHERE worker NOT IN ('w-1', 'w-2', 'w-3', 'w-4')")" 0 \
    "--worker w: the children are w-1..w-4"
n=$(sql "SELECT count(DISTINCT worker) FROM delivery_attempts")
ok "several children did the work ($n workers)" test "$n" -ge 2
is "$(accepted "$T/tg.log" | jq -r '"\(.chat_id) \(.text)"' |
    sed 's/^\([0-9]*\) .*Task \([0-9]*\)<.*/\1 \2/' | sort -s -n -k1,1 |
    awk '{ s = s $2 } NR % 2 == 0 { print s; s = "" }' | sort -u)" "12" \
    "each chat got Task 1 before Task 2: one chat, one child at a time"
is "$(curl -s "http://127.0.0.1:$port/stats" | jq .sent)" 80 "the fake's count"

# 2. SIGTERM to the parent in the middle (K=3) loses nothing.
load 20 10
: > "$T/tg.log"
corp-deliver run --channel telegram --allow-http --concurrency 3 --batch 5 \
    --db "$(curdb)" > "$T/term.out" 2> "$T/term.err" &
rp=$!
i=0
while n=$(grep -c sendMessage "$T/tg.log" 2>/dev/null); [ "${n:-0}" -lt 10 ] &&
    [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM $rp
wait $rp
is "$?" 0 "SIGTERM to the parent: exit 0"
echo "# after SIGTERM: $(cat "$T/term.out")"
is "$(cat "$T/term.err")" "${TS}corp-deliver: telegram: sent $(jq .sent "$T/term.out") retry 0 failed 0 held 0" \
    "quietly: the summary only"
is "$(wc -l < "$T/term.out" | tr -d ' ')" 1 "one summary line"
s=$(jq .sent "$T/term.out")
is "$(jq -c '[.claimed == .sent + .released, .sent >= 10, .sent < 200]' "$T/term.out")" \
    "[true,true,true]" "stopped early: claimed = sent + released"
is "$(leased)" 0 "no row is left leased"
is "$(sql "SELECT status, count(*) FROM deliveries GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
    "PENDING|$((200 - s)) SENT|$s " "every row SENT or PENDING, as the summary says"
# The children are forks: the parent's command line, the database's name
# in it as a regular expression (a PostgreSQL URI holds a "?").
is "$(pgrep -f -- "--batch 5 --db $(curdb | sed 's/[][\\.*^$?+(){}|]/\\&/g')" |
    wc -l | tr -d ' ')" 0 \
    "no child outlived the parent"
cp "$T/tg.log" "$T/tg1.log"
: > "$T/tg.log"
runrun --until-empty --concurrency 3 --batch 5
is "$rc:$(summary | jq -c '.sent')" "0:$((200 - s))" "a second run sends the rest"
is "$(exactly_once)" "0|0|0" "every row SENT exactly once"
is "$(wire "$T/tg1.log" "$T/tg.log")" "0 200" "and each message once on the wire"

# 3. --max N is split across the children: N in all.
load 10 6
runrun --max 7 --concurrency 3 --batch 2
is "$rc:$(summary | jq -c '[.claimed, .sent]')" "0:[7,7]" "--max 7 --concurrency 3: seven"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" 7 "as stored"
runrun --max 2 --concurrency 4 --until-empty
is "$rc:$(summary | jq -c '[.claimed, .sent]')" "0:[2,2]" "--max below K: still N"
runrun --once --concurrency 2 --batch 3
is "$rc:$(summary | jq -c '[.claimed <= 6, .sent == .claimed]')" "0:[true,true]" \
    "--once: one claim per child"

# 4. A bad token: the child exits 77, so does the parent.
load 2 3
: > "$T/tg.log"
CORP_TELEGRAM_TOKEN='777001:wrong-Token_leaked' runrun --until-empty --concurrency 3
is "$rc" 77 "a child's 77 is the exit code"
is "$(printf '%s\n' "$out" | wc -l)" 1 "one summary line"
is "$(summary | jq -c '[.sent, .retry > 0, .retry + .released == .claimed]')" \
    "[0,true,true]" "what was claimed was acked retry (or given back unsent)"
is "$(leased)" 0 "no lease left"
is "$(sql "SELECT status, attempts, count(*) FROM deliveries GROUP BY 1, 2")" \
    "PENDING|0|6" "every row PENDING, no attempt used"
like "$err" "bad token" "stderr says why"
unlike "$out$err" "wrong-Token_leaked" "the token is in no output"
runrun --until-empty --concurrency 3
is "$rc:$(summary | jq -c '.sent')" "0:6" "with the right token the rows go"

# 4b. A child whose acks put a row in the dead-letter queue exits 3; the
# parent too, the children's stderr summaries added up in one line.
load 2 6
corp-bind add --user u0 --channel telegram --address 4999 >/dev/null
runrun --until-empty --concurrency 3 --batch 2
is "$rc:$(summary | jq -c '[.sent, .failed, .dlq]')" "3:[10,2,2]" \
    "a child's 3 is the exit code: two rows to the dead-letter queue"
is "$(printf '%s\n' "$err" | tail -1)" "${TS}corp-deliver: telegram: sent 10 retry 0 failed 2 held 0" \
    "one summary line for all children"
is "$(printf '%s\n' "$err" | grep -c 'failed: Bad Request: chat not found trace=')" 2 \
    "each failed row has its line"

# 5. A child that cannot take its worker lock: 75, the others stopped.
load 3 4
exec 4>"$CORP_DATA_DIR/worker-v-2.lock"
flock -n 4
runrun --worker v --concurrency 2
is "$rc" 75 "a child's 75 is the exit code (and the parent stopped the other)"
like "$err" "worker v-2: another live process" "says which"
is "$(leased)" 0 "no lease left"
exec 4>&-
exec 4>"$CORP_DATA_DIR/worker-v.lock"
flock -n 4
is_rc 75 "the parent takes ID's own lock" corp-deliver run --channel telegram \
    --allow-http --worker v --concurrency 2 --until-empty
exec 4>&-
runrun --worker v --concurrency 2 --until-empty
is "$rc:$(sql "SELECT count(*) FROM deliveries WHERE status <> 'SENT'")" "0:0" \
    "the locks free: the queue is done"

# 6. The webhook channel: K=3 connections to one endpoint (one per user
# at a time), each row once.
echo '{"delay_ms":50}' > "$T/wh.script"
start_fake wh "$CORP_SRC/tests/fakes/fake-webhook" --log "$T/wh.log" \
    --script "$T/wh.script"
# One endpoint per user (an address is bound once), all on the fake.
mkdir -p -m 700 "$CORP_DATA_DIR/secrets"
: > "$CORP_DATA_DIR/webhooks.conf"
for i in $(seq 0 11); do
	printf 'h%s http://127.0.0.1:%s/hook/%s\n' $i "$port" $i >> "$CORP_DATA_DIR/webhooks.conf"
	printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' > "$CORP_DATA_DIR/secrets/webhook-h$i"
done
chmod 600 "$CORP_DATA_DIR/webhooks.conf" "$CORP_DATA_DIR"/secrets/webhook-*
LOAD_CHANNEL=webhook LOAD_ADDRESS='"h" + ($i | tostring)'
load 2 12
unset LOAD_CHANNEL LOAD_ADDRESS
run corp-deliver run --channel webhook --allow-http --allow 127.0.0.1/32 \
    --until-empty --concurrency 3 --batch 2
is "$rc:$(summary | jq -c '[.claimed, .sent]')" "0:[24,24]" "webhook: 24 sent by 3 children"
is "$err" "${TS}corp-deliver: webhook: sent 24 retry 0 failed 0 held 0" "quietly: the summary only"
is "$(exactly_once)" "0|0|0" "every row SENT exactly once"
is "$(jq -r '.headers."webhook-id"' "$T/wh.log" | sort | uniq -d | wc -l | tr -d ' '):$(wc -l < "$T/wh.log" | tr -d ' ')" \
    "0:24" "the endpoint got each delivery once"
overlaps=$(jq -s '[.[] | .t] | sort | [range(1; length) as $i | .[$i] - .[$i - 1]] |
    map(select(. < 0.045)) | length' "$T/wh.log")
ok "webhook requests overlapped ($overlaps)" test "$overlaps" -ge 2

# 7. kill -9 of the parent (issue 16 item 6): the children die with it
# (PR_SET_PDEATHSIG: each stops as on SIGTERM, storing its acks and
# giving back its leases), so the worker locks ID-1..ID-K are free and a
# restart with the same --worker succeeds.  Before, the children went
# on for ever holding the locks, and the restart exited 75.
load 20 10
: > "$T/tg.log"
corp-deliver run --channel telegram --allow-http --concurrency 3 --batch 5 \
    --worker orph --db "$(curdb)" > "$T/orph.out" 2> "$T/orph.err" &
rp=$!
i=0
while n=$(grep -c sendMessage "$T/tg.log" 2>/dev/null); [ "${n:-0}" -lt 10 ] &&
    [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
kids=$(pgrep -P "$rp" | tr '\n' ' ')
_pids="$_pids $kids"	# killed at exit should they outlive the test
is "$(echo $kids | wc -w | tr -d ' ')" 3 "three children at work"
kill -9 "$rp"
wait "$rp" 2>/dev/null
alive() { n=0; for k in $kids; do kill -0 "$k" 2>/dev/null && n=$((n + 1)); done; echo $n; }
i=0
while [ "$(alive)" != 0 ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(alive)" 0 "the children died with their parent"
is "$(leased)" 0 "they gave back their leases"
cp "$T/tg.log" "$T/tg1.log"
: > "$T/tg.log"
runrun --until-empty --concurrency 3 --batch 5 --worker orph
is "$rc" 0 "a restart with the same --worker succeeds"
is "$(exactly_once)" "0|0|0" "every row SENT exactly once"
is "$(wire "$T/tg1.log" "$T/tg.log")" "0 200" "and each message once on the wire"

# 7b. The same while a worker is busy in an exec command (fresh-eyes
# round 3, item 9): the command blocks on a FIFO no one writes, so the
# worker would wait for it until --exec-timeout (an hour here), holding
# its leases.  Now the command dies with its worker (PR_SET_PDEATHSIG),
# and a worker that dies with its parent kills its command at once when
# the parent is gone, then stops as on SIGTERM.
mkdir -m 700 "$T/xbin"
mkfifo "$T/never"
: > "$T/xpid"
printf '#!/bin/sh\necho "$$ $PPID" >> "%s/xpid"\nread x < "%s/never"\n' \
    "$T" "$T" > "$T/xbin/stuck"
chmod 700 "$T/xbin/stuck"
printf 'stuck=%s\n' "$T/xbin/stuck" > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
LOAD_CHANNEL=exec LOAD_ADDRESS='"stuck"'
load 1 2
unset LOAD_CHANNEL LOAD_ADDRESS
corp-deliver run --channel exec --concurrency 2 --batch 1 --exec-timeout 1h \
    --lease 2h --worker xo --db "$(curdb)" > "$T/xo.out" 2> "$T/xo.err" &
rp=$!
i=0
while [ "$(wc -l < "$T/xpid")" != 2 ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
xcmd=$(cut -d' ' -f1 "$T/xpid" | tr '\n' ' ')
kids=$(pgrep -P "$rp" | tr '\n' ' ')
_pids="$_pids $kids $xcmd"
is "$(cut -d' ' -f2 "$T/xpid" | sort | tr '\n' ' ')" "$(echo $kids | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "each worker runs the stuck command"
kill -9 "$rp"
wait "$rp" 2>/dev/null
gone() { n=0; for k in $kids $xcmd; do kill -0 "$k" 2>/dev/null && n=$((n + 1)); done; echo $n; }
i=0
while [ "$(gone)" != 0 ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(gone)" 0 "the workers and the command died with the parent, before --exec-timeout"
is "$(leased)" 0 "no lease left"
# The command was cut off: its row is a retry, claimed again later.
cat > "$T/xbin/stuck" <<'EOF'
#!/bin/sh
cat > /dev/null
echo done
EOF
CORP_NOW=2026-01-05T14:00:00Z run corp-deliver run --channel exec --until-empty \
    --worker xo --concurrency 2
is "$rc:$(sql "SELECT count(*) FROM deliveries WHERE status <> 'SENT'")" "0:0" \
    "a later run (same --worker) sends every row"

# 8. Usage.
is_rc 64 "--concurrency 0" corp-deliver run --channel telegram --concurrency 0
is_rc 64 "--concurrency 33" corp-deliver run --channel telegram --concurrency 33
is_rc 64 "--worker too long for its children" corp-deliver run --channel telegram \
    --allow-http --concurrency 10 \
    --worker "$(printf '%063d' 0)"
is_rc 64 "http:// API without --allow-http: 64 before any child" \
    corp-deliver run --channel telegram --concurrency 4 --once

# 9. --concurrency 4 with the Telegram limiter on, which every child shares:
# on PostgreSQL through a connection of the limiter's own, which each
# child opens (sec-review-22c HIGH-1: the parent's crossed fork(), the
# children's transactions met on it and no line went out).
load 2 40
sql_rows_before=$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")
: > "$T/tg.log"
run timeout 120 env CORP_RATE_LIMIT=on corp-deliver run --channel telegram \
    --allow-http --until-empty --concurrency 4 --batch 5
is "$rc:$(summary | jq -c '[.claimed, .sent, .retry, .held]')" \
    "0:[80,80,0,0]" "limiter on, --concurrency 4: 80 claimed, 80 sent, 0"
is "$err" "${TS}corp-deliver: telegram: sent 80 retry 0 failed 0 held 0" \
    "stderr: the summary alone"
is "$(exactly_once)" "0|0|0" "every row SENT, exactly one stored sent ack each"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" \
    "$((sql_rows_before + 80))" "80 more rows SENT"
is "$(wire "$T/tg.log")" "0 80" "each of the 80 messages once on the wire"

ok "corp-db check clean" corp-db check
done_testing
