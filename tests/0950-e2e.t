#!/bin/sh
# The whole system end to end: the demo's month (contrib/demo) through
# corp-pipeline against the fake Bot API, compared message by message
# with a golden transcript -- every expected message to every chat, in
# order, and none to anyone else -- then nothing left that should have
# gone, and corp-db check clean.
. "${CORP_SRC:-.}/tests/lib.sh"

# The demo's database: its own SQLite file, or under check-pg a fresh
# PostgreSQL database handed over as CORP_DEMO_DB (the demo ignores
# CORP_DB); sql below reads the same one.
export CORP_DATA_DIR="$T/demo/data"
testdb
run env CORP_DEMO_DB="${CORP_DB:-}" sh "$CORP_SRC/contrib/demo" "$T/demo"
is "$rc" 0 "the demo runs"
like "$out" "demo: done; 94 messages delivered, 0 left pending" "and says what it did"
jq -c '{chat_id, text}' "$T/demo/transcript.jsonl" > "$T/got"
if cmp -s "$T/got" "$CORP_SRC/tests/e2e/transcript.golden"; then
	pass "every message to every chat, in order, as the golden transcript"
else
	fail "the transcript differs from tests/e2e/transcript.golden" \
	    "$(diff "$CORP_SRC/tests/e2e/transcript.golden" "$T/got" | head -20)"
fi

# None to anyone who was not a recipient of the event when it was routed.
is "$(sql "SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1
    FROM event_recipients r WHERE r.event_id = d.event_id
    AND r.user_id = d.user_id)")" 0 "every row has its recipient"
# Eve is not in ops: she never hears of the ops report.
is "$(grep '"chat_id":7008' "$T/got" | grep -c 'Monthly ops report')" 0 \
    "Eve hears nothing of a task she cannot see"
# Eve booked a consultation herself (seed 003: the client who books gets a
# confirmation although she is the actor; issue 15.6).
is "$(grep '"chat_id":7008' "$T/got" | grep Consultation | jq -r .text | head -1)" \
    "✅ Your booking is confirmed" "the client who booked is told so"
is "$(sql "SELECT u.login || ':' || d.decision FROM route_decisions d
    JOIN users u ON u.id = d.user_id JOIN events e USING (event_id)
    WHERE e.event_type = 'booking_created' ORDER BY u.login")" \
    "admin:created
eve:created
kate:created" "client, specialist and admin each get a row, as the matrix says"
# Bob hears of his reassignment away, then nothing more of that task.
is "$(grep '"chat_id":7007' "$T/got" | grep 'Q1 plan' | tail -1 | jq -r .text | head -1)" \
    "↩️ Task <b>Prepare the Q1 plan</b> has been reassigned from you to someone else" \
    "the previous executor's last message is the reassignment"
# The deputy hears only inside the delegation window (12th to 20th).
is "$(sql "SELECT min(date(e.occurred_at, 'unixepoch')) || ' ' ||
    max(date(e.occurred_at, 'unixepoch')) FROM deliveries d JOIN events e
    USING (event_id) JOIN users u ON u.id = d.user_id WHERE u.login = 'max'")" \
    "2026-01-12 2026-01-19" "deputy rows only inside [from, until)"
is "$(sql "SELECT count(*) FROM deliveries WHERE status = 'PENDING'")" 0 \
    "nothing left PENDING"
is "$(sql "SELECT u.login || ':' || d.error FROM deliveries d JOIN users u
    ON u.id = d.user_id WHERE d.status = 'FAILED'")" "admin:expired_unbound" \
    "the only failure: the admin never bound a chat, held 7 days, expired"
is "$(sql "SELECT count(*) FROM delivery_attempts WHERE stored = 'sent'")" \
    "$(sql "SELECT count(*) FROM deliveries WHERE status = 'SENT'")" \
    "each SENT row was acked sent exactly once"
# Seed 004: the branch chat's run, reviewed through corp-api with a token.
is "$(sql "SELECT status || ':' || proposals_approved || ':' ||
    proposals_rejected FROM analysis_runs")" "closed:2:1" \
    "the run reviewed over HTTP: closed, 2 approved, 1 rejected"
is "$(sql "SELECT t.title || ':' || u.login FROM tasks t JOIN users u ON
    u.id = t.assignee_user_id WHERE t.id IN (SELECT task_id FROM proposals)
    ORDER BY t.id" | tr '\n' ' ')" \
    "Fix the door lock:ivan we must renew the alarm contract:kate " \
    "its approved proposals are tasks, the edited title kept"
like "$(cat "$T/demo/api.log")" '"PUT /api/runs/1/close" 200 admin' \
    "corp-api logged the close, by whom"
unlike "$(cat "$T/demo/api.log")" "Bearer" "and no token"
# Seed 003: Nina has no Telegram chat, only a browser's push
# subscription; the shipped setting fell back from telegram to push.
is "$(sql "SELECT r.channel || '>' || d.channel || ':' || d.status || ':' ||
    r.decision || ':' || r.why FROM deliveries d JOIN users u ON u.id =
    d.user_id JOIN route_decisions r ON r.event_id = d.event_id AND
    r.user_id = d.user_id WHERE u.login = 'nina'")" \
    "telegram>push:SENT:fallback:no telegram bind" \
    "Nina's task: one row, on push by the fallback, SENT"
is "$(jq -r '[.id, .status] | @tsv' "$T/demo/push.log")" "nina-laptop	201" \
    "the fake push service got exactly one message, for her browser"
is "$(jq -r '.plaintext | fromjson | [.title, .tag] | @tsv' "$T/demo/push.log")" \
    "[#12] New task: Read the safety handbook	$(sql "SELECT d.event_id FROM
    deliveries d JOIN users u ON u.id = d.user_id WHERE u.login = 'nina'")" \
    "it decrypted the task's title, tagged with the event"
# The button: Olga's press of "approve" under Ann's report card.
t=$(sql "SELECT id FROM tasks WHERE title = 'Test the backup restore'")
is "$(sql "SELECT t.state || ':' || e.event_type || ':' || u.login || ':' ||
    p.action || ':' || p.chat_id FROM tg_button_presses p JOIN events e ON
    e.event_id = p.event_id JOIN users u ON u.id = e.actor_user_id JOIN
    tasks t ON t.id = e.task_id WHERE t.id = $t")" "DONE:APPROVED:olga:approve:7002" \
    "the press approved the task: DONE, the event as Olga, the initiator"
is "$(sql "SELECT count(*) FROM tg_button_presses")" 1 "the only press"
mid=$(jq -r 'select(.method == "sendMessage" and .chat_id == 7002 and
    .reply_markup != null) | .message_id' "$T/demo/fake.log")
is "$(jq -c 'select(.method == "sendMessage" and .message_id == '"$mid"') |
    .reply_markup.inline_keyboard | map(map(.text))' "$T/demo/fake.log")" \
    '[["Одобрить","Отклонить"]]' "the card had the demo catalog's buttons"
is "$(jq -c 'select(.method == "answerCallbackQuery" or
    .method == "editMessageText") | [.method, .callback_query_id // .chat_id,
    .message_id // .text, .reply_markup]' "$T/demo/fake.log")" \
    '["answerCallbackQuery","demo-press-1","✅ approve",null]
["editMessageText",7002,'"$mid"',null]' \
    "the press answered, the card edited and its keyboard removed"
is "$(jq -r 'select(.method == "editMessageText") | .text' "$T/demo/fake.log")" \
    "📝 Отчёт по задаче Test the backup restore ждёт вашего согласования
Автор отчёта: Ann Lee
Открыть отчёт

Открыть задачу #$t

✅ approve: Olga Petrenko" "the edited card: its text as Telegram gave it back, then the outcome"
ok "corp-db check clean" corp-db check
unlike "$(cat "$T/demo/fake.log" "$T/demo/transcript.jsonl")" "demo-token-not-secret" \
    "the token is absent from the fake's log and transcript"
done_testing
