#!/bin/sh
# Files corp creates are 0600 (directories 0700) whatever the umask: the
# database and its -wal and -shm, cursors, locks, the limiter, the
# outbox; secret files readable by others are refused; a world-writable
# data dir is refused with a clear error.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
umask 000
export CORP_DATA_DIR="$T/data/nested"
testdb
ok "init under umask 000 creates the data dir" corp-db init --admin admin
is "$(stat -c %a "$T/data/nested")" 700 "the data dir is 0700"
is "$(stat -c %a "$T/data")" 700 "and its missing parent too"
fixture_company
fixture_task 1 10 NULL 2
fixture_event TASK_CREATED 1 1 10 NULL 2
export CORP_NOW=2026-01-05T10:00:00Z
corp-event route >/dev/null
# Keep a reader open so that -wal and -shm exist while we look.
dbfiles=
if if_sqlite "the database, its -wal and -shm are files here"; then
	mkfifo "$T/hold"
	bg sh -c "sqlite3 -cmd '.timeout 30000' '$CORP_DATA_DIR/corp.db' 'BEGIN; SELECT count(*) FROM deliveries;' '.shell cat $T/hold' >/dev/null"
	dbfiles="corp.db corp.db-wal corp.db-shm"
fi
corp-deliver pending --channel telegram --worker w1 | ack_all sent |
    corp-deliver ack | corp-cursor advance
corp-send file --out "$CORP_DATA_DIR/outbox.jsonl" </dev/null >/dev/null
printf '{"delivery_id":1,"lease":"x","address":"5","text":"t"}\n' |
    env CORP_TELEGRAM_TOKEN=1:x CORP_TELEGRAM_API=http://127.0.0.1:9 \
    corp-send telegram --allow-http >/dev/null 2>&1
for f in $dbfiles bot_deliveries_cursor_telegram.json \
    bot_deliveries_cursor_telegram.lock events_cursor.json events_cursor.lock \
    worker-w1.lock outbox.jsonl; do
	if [ -e "$CORP_DATA_DIR/$f" ]; then
		is "$(stat -c %a "$CORP_DATA_DIR/$f")" 600 "$f is 0600 under umask 000"
	else
		fail "$f exists" "$(ls "$CORP_DATA_DIR")"
	fi
done
lim=$(ls "$CORP_DATA_DIR"/ratelimit/telegram-*.json 2>/dev/null | head -1)
if ! if_sqlite "the limiter is a file with SQLite, the rate_limits table on PostgreSQL (0515)"; then
	:
elif [ -n "$lim" ]; then
	is "$(stat -c %a "$lim")" 600 "the limiter file is 0600"
	is "$(stat -c %a "$CORP_DATA_DIR/ratelimit")" 700 "its directory 0700"
else
	fail "the limiter file exists" "$(ls -R "$CORP_DATA_DIR")"
fi
is "$(find "$CORP_DATA_DIR" -perm /077 | wc -l)" 0 \
    "nothing in the data dir is open to group or others"
# Bounded: should the reader have died, opening the fifo must not hang.
if [ -n "$dbfiles" ]; then
	timeout 20 sh -c 'echo >"$1"' sh "$T/hold" ||
	    fail "the reader holding the database open went away"
	wait "$bgpid"
fi

# Secrets: a file readable by others is refused, 0600 is read.
mkdir -p "$CORP_DATA_DIR/secrets"
printf '1:filetoken\n' >"$CORP_DATA_DIR/secrets/telegram_token"
chmod 644 "$CORP_DATA_DIR/secrets/telegram_token"
printf '{"delivery_id":1,"lease":"x","address":"5","text":"t"}\n' >"$T/line"
run_in "$T/line" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
is "$rc" 77 "a secret file readable by others is refused"
like "$err" "telegram_token: readable by group or others \(mode 644\); chmod 600 it" \
    "says which file and what to do"
unlike "$err" "filetoken" "without printing the secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_token"
run_in "$T/line" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
isnt "$rc" 77 "0600 is accepted"

# A world-writable data dir is refused by every tool that uses it.
chmod 777 "$CORP_DATA_DIR"
for c in "corp-db status" "corp-cursor get" "corp-deliver stats" \
    "corp-event route"; do
	run $c
	is "$rc" 77 "$c: a world-writable data dir is refused (77)"
	like "$err" "data directory is world-writable; chmod o-w it" "$c: says why"
done
chmod 700 "$CORP_DATA_DIR"
ok "after chmod o-w it works again" corp-db status

done_testing
