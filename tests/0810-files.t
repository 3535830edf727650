#!/bin/sh
# Files corp creates are 0600 (directories 0700) whatever the umask: the
# database and its -wal and -shm, cursors, locks, the limiter, the
# outbox; secret files readable by others are refused; a world-writable
# data dir is refused with a clear error.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
. "$CORP_SRC/tests/send-lib.sh"
umask 000
export CORP_DATA_DIR="$T/data/nested"
testdb
ok "init under umask 000 creates the data dir" corp-db init --admin admin
is "$(stat -c %a "$T/data/nested")" 700 "the data dir is 0700"
is "$(stat -c %a "$T/data")" 700 "and its missing parent too"
export CORP_NOW=2026-01-05T10:00:00Z
fixture_company
fixture_tasks 1
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

# Secrets: a file readable by others is refused, 0600 is read.  (Under
# umask 000 the fixture makes its directory private itself: corp refuses
# a secrets/ that others may write.)
mkdir -m 700 "$CORP_DATA_DIR/secrets"
tok="$CORP_DATA_DIR/secrets/telegram_token"
printf '1:filetoken\n' >"$tok"
chmod 644 "$tok"
printf '{"delivery_id":1,"lease":"x","address":"5","text":"t"}\n' >"$T/line"
run_in "$T/line" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
is "$rc" 77 "a secret file readable by others is refused"
is "$err" "corp-send: $tok: readable by group or others (mode 644); chmod 600 $tok; every remaining line passes on as retry" \
    "says which file and what to do"
unlike "$err" "filetoken" "without printing the secret"
chmod 600 "$tok"
run_in "$T/line" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
isnt "$rc" 77 "0600 is accepted"
umask 022

# The ownership rule (ssh's StrictModes, corp.7 SECURITY): the data dir
# must belong to the user running corp or root and be writable by nobody
# else; every tool refuses it otherwise, naming it and the fix.
D=$CORP_DATA_DIR
for m in 777 770 720; do
	chmod "$m" "$D"
	case $m in 777) w=world ;; *) w=group ;; esac
	for c in "corp-db status" "corp-cursor get --channel file" \
	    "corp-deliver stats" "corp-event route"; do
		run $c
		is "$rc:$err" "77:${c%% *}: $D: $w-writable (mode $m); chmod go-w $D" \
		    "$c: a data dir of mode $m is refused (77), with the fix"
	done
done
chmod 700 "$D"
ok "after chmod go-w it works again" corp-db status
nobody=$(id -u nobody 2>/dev/null)
if [ "$(id -u)" != 0 ] || [ -z "$nobody" ]; then
	skip "chown to another user needs root and a user nobody"
else
	chown nobody "$D"
	for c in "corp-db status" "corp-cursor get --channel file" \
	    "corp-task list"; do
		run $c
		is "$rc:$err" "77:${c%% *}: $D: owned by nobody (uid $nobody), not by root, who runs corp; chown root $D" \
		    "$c: a data dir owned by another user is refused (77)"
	done
	chown root "$D"
fi
ok "owned by root again: accepted" corp-db status

# Each configuration file: group-writable, owned by another user, or a
# symbolic link to a file that passes is refused (77) with its name and
# the fix, before anything is read from it or sent.
#   conf NAME FILE STAGE-CMD...: FILE passes as written; run the stage
#   on $T/in for each of the three faults.
conf() {
	_what=$1 _f=$2
	shift 2
	chmod g+w "$_f"
	run_in "$T/in" "$@"
	like "$rc:$err" "^77:.*$_f: (group-writable \(mode 6[0-9]{2}\); chmod go-w $_f|mode 6[0-9]0: group or others may use it; chmod 600 it)" \
	    "$_what: group-writable is refused (77), with the fix"
	chmod g-w "$_f"
	if [ "$(id -u)" = 0 ] && [ -n "$nobody" ]; then
		chown nobody "$_f"
		run_in "$T/in" "$@"
		like "$rc:$err" "^77:.*$_f: owned by nobody \(uid $nobody\), not by root, who runs corp; chown root $_f" \
		    "$_what: owned by another user is refused (77)"
		chown root "$_f"
	else
		skip "$_what: chown needs root"
	fi
	mv "$_f" "$T/real"
	ln -s "$T/real" "$_f"
	run_in "$T/in" "$@"
	like "$rc:$err" "^77:.*$_f: a symbolic link; corp follows none in its data directory" \
	    "$_what: a symbolic link is refused (77)"
	rm "$_f"
	mv "$T/real" "$_f"
	run_in "$T/in" "$@"
	isnt "$rc" 77 "$_what: as it was, it passes"
}
# (exec.conf's own rule, mode 0600, may speak first.)
dline 1 x t exec >"$T/in"
printf 'x=/bin/true\n' >"$D/exec.conf"
chmod 600 "$D/exec.conf"
conf exec.conf "$D/exec.conf" corp-send exec
dline 1 x t webhook >"$T/in"
printf 'x http://127.0.0.1:9/hook\n' >"$D/webhooks.conf"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' >"$D/secrets/webhook-x"
chmod 600 "$D/secrets/webhook-x"
conf webhooks.conf "$D/webhooks.conf" corp-send webhook
dline 1 a@example.org t email >"$T/in"
printf 'url smtp://127.0.0.1:9\nfrom corp@example.org\n' >"$D/smtp.conf"
conf smtp.conf "$D/smtp.conf" corp-send email
# Catalogs: the operator's layer in DATA_DIR/i18n (the shipped layer
# below).
dline 1 x "" file | jq -c 'del(.text) | .event.title = "T" |
    .event.links = {task: "https://corp.example/tasks/5"}' >"$T/in"
mkdir "$D/i18n"
printf 'en:task_created@executor | "local text"\n' >"$D/i18n/local.txt"
conf "a catalog in i18n/" "$D/i18n/local.txt" corp-fmt
run_in "$T/in" corp-fmt
is "$rc:$(printf '%s' "$out" | jq -r .text | head -1)" "0:local text" \
    "the operator's catalog is read once it passes"
chmod g+w "$D/i18n"
run_in "$T/in" corp-fmt
is "$rc:$err" "77:corp-fmt: $D/i18n: group-writable (mode 775); chmod go-w $D/i18n; every line passes on as retry" \
    "a group-writable i18n/ is refused (77)"
# ... and, as corp-send, the stage drops no line (sec-review-4 item 7):
# each is held as a configuration error naming the file, a decided one
# passes untouched, so no row waits out its lease.
{ cat "$T/in"; jq -c '.delivery_id = 2 | .result = "failed"' "$T/in"; } > "$T/in2"
run_in "$T/in2" corp-fmt
is "$rc:$(printf '%s\n' "$out" | jq -c '[.delivery_id, .result, .attempted, .retry_after, .error_class, .error, .text]')" \
    "77:[1,\"retry\",false,60,\"config\",\"$D/i18n: group-writable (mode 775); chmod go-w $D/i18n\",null]
[2,\"failed\",null,null,null,null,null]" \
    "  every line passes on: held (retry, not attempted, config, naming the file), a decided one untouched"
run_in /dev/null corp-fmt
is "$rc:$out" "77:" "  no input: still 77"
chmod g-w "$D/i18n"
mv "$D/i18n" "$T/i18n.real"
ln -s "$T/i18n.real" "$D/i18n"
run_in "$T/in" corp-fmt
is "$rc:$err" "77:corp-fmt: $D/i18n: a symbolic link; corp follows none in its data directory: put the directory itself there; every line passes on as retry" \
    "an i18n/ that is a link is refused (77), not judged by its target"
rm "$D/i18n"
mv "$T/i18n.real" "$D/i18n"
# The shipped layer, CORP_SHARE_DIR/i18n (or the share dir beside the
# programs), is under the same rule (fresh-eyes round 3, item 4): its
# files, its i18n/ and the share dir itself.  The share dir alone may be
# a link (GNU stow folds trees that way): what it names is judged.
cp -R "$CORP_SRC/share" "$T/share"
chmod -R go-w "$T/share"
conf "a shipped catalog" "$T/share/i18n/en.txt" env CORP_SHARE_DIR="$T/share" corp-fmt
chmod g+w "$T/share/i18n"
run_in "$T/in" env CORP_SHARE_DIR="$T/share" corp-fmt
is "$rc:$err" "77:corp-fmt: $T/share/i18n: group-writable (mode 775); chmod go-w $T/share/i18n; every line passes on as retry" \
    "a group-writable shipped i18n/ is refused (77)"
chmod g-w "$T/share/i18n"
chmod o+w "$T/share"
run_in "$T/in" env CORP_SHARE_DIR="$T/share" corp-fmt
is "$rc:$err" "77:corp-fmt: $T/share: world-writable (mode 757); chmod go-w $T/share; every line passes on as retry" \
    "a world-writable share dir is refused (77)"
chmod o-w "$T/share"
ln -s "$T/share" "$T/share.link"
run_in "$T/in" env CORP_SHARE_DIR="$T/share.link" corp-fmt
is "$rc" 0 "a share dir that is a link to one that passes is read"
# A catalog named on the command line (corp-fmt --catalog) says corp's
# words to every user as well: the same rule, the same message
# (sec-review-9 item 4: a mode 666 one was read silently).
printf 'en:task_created@executor | "cli text"\n' >"$T/cli.txt"
conf "a --catalog file" "$T/cli.txt" corp-fmt --catalog "$T/cli.txt"
chmod 666 "$T/cli.txt"
run_in "$T/in" corp-fmt --catalog "$T/cli.txt"
is "$rc:$err" "77:corp-fmt: $T/cli.txt: world-writable (mode 666); chmod go-w $T/cli.txt; every line passes on as retry" \
    "a world-writable --catalog file is refused (77), naming it and the fix"
is "$(printf '%s' "$out" | jq -c '[.result, .error_class, .error]')" \
    "[\"retry\",\"config\",\"$T/cli.txt: world-writable (mode 666); chmod go-w $T/cli.txt\"]" \
    "  and the line is held, not formatted with its words"
chmod 644 "$T/cli.txt"
run_in "$T/in" corp-fmt --catalog "$T/cli.txt"
is "$rc:$(printf '%s' "$out" | jq -r .text | head -1)" "0:cli text" \
    "  mode 644, the operator's: read"
# secrets/: the directory and each file.
printf '{"delivery_id":1,"lease":"x","address":"5","text":"t"}\n' >"$T/in"
chmod 770 "$D/secrets"
run_in "$T/in" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
is "$rc:$err" "77:corp-send: $D/secrets: group-writable (mode 770); chmod go-w $D/secrets; every remaining line passes on as retry" \
    "a group-writable secrets/ is refused (77)"
chmod 700 "$D/secrets"
run_in "$T/in" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
isnt "$rc" 77 "a private secrets/ is read"
if [ "$(id -u)" = 0 ] && [ -n "$nobody" ]; then
	chown nobody "$tok"
	run_in "$T/in" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
	is "$rc:$err" "77:corp-send: $tok: owned by nobody (uid $nobody), not by root, who runs corp; chown root $tok; every remaining line passes on as retry" \
	    "a secret file owned by another user is refused (77)"
	chown root "$tok"
else
	skip "chown needs root"
fi
mv "$tok" "$T/tok"
ln -s "$T/tok" "$tok"
run_in "$T/in" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
like "$rc:$err" "^77:corp-send: $tok: a symbolic link; corp follows none" \
    "a secret file that is a link is refused (77)"
rm "$tok"
mv "$T/tok" "$tok"
# The directory itself as a link, even to a private directory of the
# running user's (SEC 2): opened O_DIRECTORY|O_NOFOLLOW, refused.
mv "$D/secrets" "$T/secrets.real"
ln -s "$T/secrets.real" "$D/secrets"
run_in "$T/in" env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-send telegram --allow-http
is "$rc:$err" "77:corp-send: $D/secrets: a symbolic link; corp follows none in its data directory: put the directory itself there; every remaining line passes on as retry" \
    "a secrets/ that is a link is refused (77)"
rm "$D/secrets"
mv "$T/secrets.real" "$D/secrets"

# No file in the data dir is opened through a link: a link planted as
# the outbox towards a file only root may write is not appended to.
printf 'root only\n' >"$T/rootonly"
chmod 600 "$T/rootonly"
mv "$D/outbox.jsonl" "$T/outbox.keep"
ln -s "$T/rootonly" "$D/outbox.jsonl"
printf '{"delivery_id":1,"lease":"x","address":"x","text":"t"}\n' >"$T/in"
run_in "$T/in" corp-send file
is "$rc:$(printf '%s' "$out" | jq -c '[.result, .attempted, .error_class]')" \
    '77:["retry",false,"config"]' \
    "corp-send file: a planted outbox link is refused (77), the line held"
is "$err" "corp-send: $D/outbox.jsonl: a symbolic link; corp follows none in its data directory: put the file itself there; every remaining line passes on as retry" \
    "and says so"
is "$(cat "$T/rootonly")" "root only" "the link's target is untouched"
# run checks the outbox when it has a file row to send (with nothing due
# it touches nothing): one for bob.
corp-bind add --user bob --channel file --address bob >/dev/null
corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel file >/dev/null
corp-task create --as boss --title "For the file" --assignee bob >/dev/null
corp-event route >/dev/null
run corp-deliver run --channel file --until-empty
is "$rc" 77 "corp-deliver run on the file channel refuses it too"
is "$(cat "$T/rootonly")" "root only" "the target is still untouched"
rm "$D/outbox.jsonl"
mv "$T/outbox.keep" "$D/outbox.jsonl"
# A cursor, its lock, a worker lock and the database: the same.
cur="$D/bot_deliveries_cursor_file.json"
printf '{"cursor_audit_id":9,"cursor_user_id":9}\n' >"$T/cur"
ln -s "$T/cur" "$cur"
run corp-cursor get --channel file
like "$rc:$err" "^77:corp-cursor: $cur: a symbolic link" "a cursor file that is a link is refused (77)"
run corp-cursor set --channel file 1:1
like "$rc:$err" "^77:corp-cursor: $cur: a symbolic link" \
    "corp-cursor set refuses it too (77), never replacing it quietly"
is "$(cat "$T/cur")" '{"cursor_audit_id":9,"cursor_user_id":9}' "the link's target is untouched"
is "$(readlink "$cur")" "$T/cur" "and the link is still there for the operator to see"
rm -f "$cur"
lock="$D/bot_deliveries_cursor_file.lock"
rm -f "$lock"
ln -s "$T/rootonly" "$lock"
run corp-cursor set --channel file 1:1
is "$rc:$err" "77:corp-cursor: $lock: a symbolic link; corp follows none in its data directory: put the file itself there" \
    "a lock file that is a link is refused (77)"
rm "$lock"
rm -f "$D/worker-w9.lock"
ln -s "$T/rootonly" "$D/worker-w9.lock"
run corp-deliver run --channel file --worker w9 --until-empty
like "$rc:$err" "^77:.*worker-w9.lock: a symbolic link" "a worker lock that is a link is refused (77)"
rm "$D/worker-w9.lock"
if if_sqlite "the database is a file in the data dir with SQLite only"; then
	mv "$D/corp.db" "$T/corp.db"
	ln -s "$T/corp.db" "$D/corp.db"
	run corp-db status
	is "$rc:$err" "77:corp-db: $D/corp.db: a symbolic link; corp opens no database through a link: put the file itself there" \
	    "a database file that is a link is refused (77)"
	rm "$D/corp.db"
	mv "$T/corp.db" "$D/corp.db"
	ok "the database itself is opened" corp-db status
fi
# The directories corp keeps for itself, ratelimit/ (the Telegram
# limiter's file, the outage pauses) and spool/ (corp-tg cgi): a link in
# their place is a plant, refused (77) rather than written through.
mkdir "$T/elsewhere"
printf '{"delivery_id":1,"lease":"x","address":"5","text":"t"}\n' >"$T/in"
tg() { run_in "$T/in" env CORP_TELEGRAM_API=http://127.0.0.1:9 \
    corp-send telegram --allow-http; }
if if_sqlite "the Telegram limiter is a table on PostgreSQL"; then
	rm -rf "$D/ratelimit"
	ln -s "$T/elsewhere" "$D/ratelimit"
	tg
	is "$rc:$err" "77:corp-send: $D/ratelimit: a symbolic link; corp follows none in its data directory: remove it (corp makes the directory itself); every remaining line passes on as retry" \
	    "a ratelimit/ that is a link is refused (77)"
	rm "$D/ratelimit"
	mkdir -m 770 "$D/ratelimit"
	tg
	is "$rc:$err" "77:corp-send: $D/ratelimit: group-writable (mode 770); chmod go-w $D/ratelimit; every remaining line passes on as retry" \
	    "a group-writable ratelimit/ is refused (77)"
	chmod 700 "$D/ratelimit"
	rl="$D/ratelimit/telegram-$(printf 1:filetoken | sha256sum | cut -c1-16).json"
	rm -f "$rl"
	ln -s "$T/rootonly" "$rl"
	tg
	is "$rc:$err" "77:corp-send: $rl: a symbolic link; corp follows none in its data directory: put the file itself there; every remaining line passes on as retry" \
	    "the limiter's file as a link is refused (77, it was 1)"
	rm "$rl"
fi
printf 'hook-Secret_1\n' >"$D/secrets/telegram_webhook_secret"
chmod 600 "$D/secrets/telegram_webhook_secret"
printf '{"update_id":7}' >"$T/u7"
rm -rf "$D/spool"
ln -s "$T/elsewhere" "$D/spool"
REQUEST_METHOD=POST CONTENT_LENGTH=15 \
    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-Secret_1 run_in "$T/u7" corp-tg cgi
is "$rc:$(printf '%s' "$out" | head -1 | tr -d '\r')" "77:Status: 500 Internal Server Error" \
    "corp-tg cgi: a spool/ that is a link is refused (77; Telegram retries)"
is "$err" "corp-tg: $D/spool: a symbolic link; corp follows none in its data directory: remove it (corp makes the directory itself)" \
    "naming it"
rm "$D/spool"
mkdir -m 700 "$D/spool"
ln -s "$T/elsewhere" "$D/spool/telegram"
REQUEST_METHOD=POST CONTENT_LENGTH=15 \
    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-Secret_1 run_in "$T/u7" corp-tg cgi
is "$rc" 77 "and spool/telegram as a link"
rm "$D/spool/telegram"
is "$(ls -A "$T/elsewhere")" "" "nothing was written through a link"
REQUEST_METHOD=POST CONTENT_LENGTH=15 \
    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-Secret_1 run_in "$T/u7" corp-tg cgi
is "$rc:$(ls "$D/spool/telegram")" "0:7.json" "the real directories are used"
# A spool file must pass the ownership rule too (SEC 2): a link planted
# there is set aside, never read through.
printf '{"update_id":8,"message":{"chat":{"id":5,"type":"private"},"text":"/stop"}}' \
    >"$T/u8"
ln -s "$T/u8" "$D/spool/telegram/8.json"
run env CORP_TELEGRAM_TOKEN=1:filetoken CORP_TELEGRAM_API=http://127.0.0.1:9 \
    corp-tg process --allow-http
like "$err" "corp-tg: $D/spool/telegram/8.json: a symbolic link; corp follows none in its data directory: put the file itself there; renamed to 8.json.bad" \
    "corp-tg process: a spool file that is a link is set aside"
is "$(ls "$D/spool/telegram")" "8.json.bad" "renamed, the good one handled"
rm -f "$D/spool/telegram/8.json.bad"

# A token from secrets/telegram_token is checked as CORP_TELEGRAM_TOKEN
# is: nothing else may shape the Bot API's URL.
cp "$tok" "$T/tok.keep"
printf '12345:abc/../../getMe?x=\n' >"$tok"
tg
is "$rc" 78 "corp-send: a token file that is no token holds the lines (78)"
is "$err" "corp-send: $D/secrets/telegram_token: not a bot token (expected DIGITS:KEY as @BotFather gives it, as for CORP_TELEGRAM_TOKEN; the value is not shown); every remaining line passes on as retry" \
    "naming the file, not the value"
is "$(printf '%s' "$out" | jq -c '[.result, .attempted, .error_class]')" \
    '["retry",false,"config"]' "the line is held, not attempted"
run env CORP_TELEGRAM_API=http://127.0.0.1:9 corp-tg poll --once --allow-http
is "$rc:$err" "78:corp-tg: $D/secrets/telegram_token: not a bot token (expected DIGITS:KEY as @BotFather gives it, as for CORP_TELEGRAM_TOKEN; the value is not shown)" \
    "corp-tg refuses it the same way"
cp "$T/tok.keep" "$tok"

is "$(cat "$T/rootonly")" "root only" "after all that, the root-only file is untouched"

done_testing
