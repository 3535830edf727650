#!/bin/sh
# The ingestion.* topic events (corp-tg.1 INGESTION EVENTS, corp-json.5):
# corp-tg writes ingestion.started (once per batch that stores a new
# message, before its events), ingestion.message_stored (one per new
# message) and ingestion.failed (an update refused as poison) in the
# transaction of what they describe, on topic messages; poll says
# source "poll", process (the webhook's spool) "webhook"; corp-msg
# import writes none; corp-event tail --topic messages shows them; on
# corp-api's WebSocket an admin gets them in order, a non-admin none.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
. "$CORP_SRC/tests/ws-lib.sh"
TOKEN='777004:AAingest-token'
export FAKE_TG_TOKEN="$TOKEN"
export CORP_NOW=2026-03-01T12:00:00Z
corp-org add team --head admin >/dev/null
corp-user add bob --unit team >/dev/null
ADMIN=$(corp-user token add admin | jq -r .token)
BOB=$(corp-user token add bob | jq -r .token)
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates"
API="http://127.0.0.1:$port"
t0=1772359200
# msg ID TEXT: a group message update (message_id = update_id).
msg() {
	jq -cn --argjson m "$1" --argjson d $((t0 + $1)) --arg t "$2" \
	    '{update_id: $m, message: {message_id: $m, date: $d,
	      chat: {id: -9, type: "group", title: "G"},
	      from: {id: 7, first_name: "Ann", username: "ann"}, text: $t}}'
}
poll() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
}
# ingest AFTER: the ingestion events after event AFTER, type and payload.
ingest() {
	corp-event tail --topic messages --after "$1" |
	    jq -c 'select(.event_type | startswith("ingestion.")) |
	    [.event_type, (.payload | fromjson? // .)]'
}

bg corp-api --listen 127.0.0.1:0 >"$T/ready" 2>"$T/api.log"
api_pid=$bgpid
wait_file "$T/ready" 30 "$api_pid" || bail "corp-api did not start"
U="ws://127.0.0.1:$(jq .port "$T/ready")/ws"
SUB='{"type":"subscribe","topics":["messages"]}'

# ---- poll: two stored, one poison between them ---------------------
# (an event first, so that since= can name the one before the batch)
msg 100 "older" | corp-msg import >/dev/null
last=$(sql "SELECT coalesce(max(event_id), 0) FROM events")
ws "$U" 7 "{\"type\":\"auth\",\"token\":\"$ADMIN\"}" "$SUB" >"$T/a" &
a=$!
ws "$U" 0 "{\"type\":\"auth\",\"token\":\"$BOB\"}" "$SUB" >"$T/b" &
b=$!
wait_file "$T/a" 30 $a
wait_file "$T/b" 30 $b
msg 1 "first" >>"$T/updates"
msg 2 "x" | jq -c '.message.text = "a\u0000b"' >>"$T/updates"
msg 3 "third" >>"$T/updates"
poll
is "$rc $(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" \
    "0 [3,2,1]" "poll: two handled, one refused"
is "$(ingest "$last")" \
'["ingestion.started",{"source":"poll","updates":3}]
["ingestion.message_stored",{"chat_id":-9,"message_id":1,"date":1772359201,"from":{"id":7,"username":"ann","name":"Ann"}}]
["ingestion.failed",{"update_id":2,"reason":"update 2: \"text\": a string holds U+0000"}]
["ingestion.message_stored",{"chat_id":-9,"message_id":3,"date":1772359203,"from":{"id":7,"username":"ann","name":"Ann"}}]' \
    "the ingestion events, in order, with their payloads"
is "$(corp-event tail --topic messages --after "$last" | jq -r .event_type)" \
"ingestion.started
message.updated
ingestion.message_stored
ingestion.failed
message.updated
ingestion.message_stored" "beside message.updated, started first"
is "$(sql "SELECT message_id FROM tg_messages ORDER BY message_id" | tr '\n' ' ')" \
    "1 3 100 " "the poison update stored nothing"
is "$(sql "SELECT count(*) FROM events WHERE event_type LIKE 'ingestion.%'
    AND topic = 'messages' AND task_id IS NULL")" 4 \
    "topic messages, no task"
wait $a
# (ids compared with the log's: PostgreSQL's sequence skips the ids of
# the rolled-back first attempt)
is "$(tail -n +2 "$T/a" | jq -c '[.id, .type]')" \
    "$(corp-event tail --topic messages --after "$last" |
    jq -c '[.event_id, .event_type]')" \
    "the admin's WebSocket frames: those events, in id order"
is "$(sed -n 5p "$T/a" | jq -c .data)" \
    '{"update_id":2,"reason":"update 2: \"text\": a string holds U+0000"}' \
    "a frame's data is the payload"
kill $b 2>/dev/null
wait $b 2>/dev/null
ws "$U" 2 "{\"type\":\"auth\",\"token\":\"$BOB\"}" \
    "{\"type\":\"subscribe\",\"topics\":[\"messages\"],\"since\":$last}" \
    '{"type":"ping"}' >"$T/b2"
is "$(cat "$T/b2")" \
    "{\"type\":\"subscribed\",\"topics\":[\"messages\"],\"last_id\":$last}
{\"type\":\"pong\"}" "bob (not an admin) gets none of them, replay included"
is "$(cat "$T/b")" '{"type":"subscribed","topics":["messages"],"last_id":'"$last"'}' \
    "nor live"
is "$(corp-event tail --topic messages --after "$last" --as bob | jq -s length)" 0 \
    "corp-event tail --as bob: none"

# ---- a batch that stores nothing: no started ------------------------
last=$(sql "SELECT max(event_id) FROM events")
msg 3 "third" | jq -c '.update_id = 4' >>"$T/updates"
msg 5 "y" | jq -c '.message.text = "a\u0000b"' >>"$T/updates"
poll
is "$(printf '%s' "$out" | jq -c '[.polled, .handled, .refused]')" "[2,1,1]" \
    "a message stored already, and a poison one"
is "$(ingest "$last")" \
    '["ingestion.failed",{"update_id":5,"reason":"update 5: \"text\": a string holds U+0000"}]' \
    "only ingestion.failed: nothing new was stored"
# A poison update whose key holds ESC, an override and a zero-width
# space: the reason is stored as the warning shows it, each one '?'
# (fresh-eyes round 9).
last=$(sql "SELECT max(event_id) FROM events")
msg 8 "z" | jq -c '.message["k\u001b\u202e\u200b"] = "a\u0000b"' >>"$T/updates"
poll
is "$(ingest "$last")" \
    '["ingestion.failed",{"update_id":8,"reason":"update 8: \"k???\": a string holds U+0000"}]' \
    "a key with invisible characters: stored cleaned"

# ---- the webhook's spool: source webhook ---------------------------
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-Secret_1\n' >"$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
last=$(sql "SELECT max(event_id) FROM events")
for i in 6 7; do
	msg $i "hook $i" >"$T/u$i"
	REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <"$T/u$i") \
	    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-Secret_1 \
	    run_in "$T/u$i" corp-tg cgi
done
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" CORP_RATE_LIMIT=off \
    run corp-tg process --allow-http
is "$rc" 0 "process exits 0"
is "$(ingest "$last" | jq -c '.[0] + " " + (.[1] | tostring)' | jq -r .)" \
'ingestion.started {"source":"webhook","updates":2}
ingestion.message_stored {"chat_id":-9,"message_id":6,"date":1772359206,"from":{"id":7,"username":"ann","name":"Ann"}}
ingestion.message_stored {"chat_id":-9,"message_id":7,"date":1772359207,"from":{"id":7,"username":"ann","name":"Ann"}}' \
    "process: one started for the batch, one message_stored per message"

# ---- corp-msg import (history) writes none --------------------------
last=$(sql "SELECT max(event_id) FROM events")
msg 8 "imported" | corp-msg import >/dev/null
is "$(ingest "$last")" "" "corp-msg import: no ingestion events"
is "$(corp-event tail --topic messages --after "$last" | jq -r .event_type)" \
    "message.updated" "only message.updated"

# ---- a space never carries them (fresh-eyes round 14) ---------------
# bob is a member of team; chat -9 tied to team: its space carries the
# chat's message.updated events to him, and none of corp-tg's
# ingestion.* (posters' ids and names: admins only, on the flat topic).
corp-analysis tie --chat -9 --unit team --as admin >/dev/null
TEAM=$(corp-org show team | jq .org_unit_id)
n=$(corp-event tail --topic messages --after 1 --as admin | jq -s '[.[] |
    select(.event_type == "message.updated" and
    ((.payload | fromjson? // .) | .chat_id) == -9)] | length')
ws "$U" $((n + 2)) "{\"type\":\"auth\",\"token\":\"$BOB\"}" \
    "{\"type\":\"subscribe\",\"topics\":[\"space:$TEAM:messages\"],\"since\":1}" \
    '{"type":"ping"}' >"$T/sp"
is "$(jq -sc 'group_by(.type) | map([.[0].type, length])' "$T/sp")" \
    "[[\"message.updated\",$n],[\"pong\",1],[\"subscribed\",1]]" \
    "bob's space: the chat's message.updated, no ingestion.* (replay after 1)"

kill "$api_pid"
wait "$api_pid"
done_testing
