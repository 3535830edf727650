#!/bin/sh
# The environment (issue 16.10, corp.7 ENVIRONMENT): every value a tool
# reads is checked at start, before anything else happens; a bad one
# exits 64 with the variable's name, and a secret's value is never shown.
# Readers never create the data dir (issue 15.13).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
corp-user add ann --name Ann >/dev/null || bail "user add"
tasks() { sql "SELECT count(*) FROM tasks"; }
before=$(tasks)

# bad VAR VALUE MESSAGE: corp-task create with VAR=VALUE exits 64 with
# "corp-task: VAR: MESSAGE" and creates nothing.
bad() {
	_v=$(printf '%s' "$2" | tr -c '[:print:]' '?')
	run env "$1=$2" corp-task create --as admin --title t --assignee ann
	is "$rc:$err" "64:corp-task: $1: $3" "$1='$_v': 64, named"
	is "$(tasks)" "$before" "$1='$_v': nothing was done"
}
bad CORP_NOW bad "'bad' is not an RFC 3339 time (e.g. 2026-01-05T18:00:00Z)"
bad CORP_NOW +1x "'1x' is not a duration (e.g. 90s, 1h30m, 7d)"
bad CORP_NOW 2026-13-01T00:00:00Z \
    "'2026-13-01T00:00:00Z' is not an RFC 3339 time (e.g. 2026-01-05T18:00:00Z)"
bad CORP_BUSY_TIMEOUT x "'x' is not a duration (e.g. 90s, 1h30m, 7d)"
bad CORP_BUSY_TIMEOUT 0s "'0s': a duration must be more than 0"
bad CORP_BUSY_TIMEOUT 30d "'30d': at most 1d"
bad CORP_TZ Nowhere/Zone \
    "unknown zone 'Nowhere/Zone' (an IANA name such as Europe/Kyiv, or UTC)"
bad CORP_TZ ../../etc/passwd \
    "unknown zone '../../etc/passwd' (an IANA name such as Europe/Kyiv, or UTC)"
# Files of the zone database that are no zone: the same rule as
# corp-user's --tz (a TZif file), not "any readable path".
bad CORP_TZ Europe \
    "unknown zone 'Europe' (an IANA name such as Europe/Kyiv, or UTC)"
if [ -f /usr/share/zoneinfo/leapseconds ]; then
	bad CORP_TZ leapseconds \
	    "unknown zone 'leapseconds' (an IANA name such as Europe/Kyiv, or UTC)"
else
	skip "no /usr/share/zoneinfo/leapseconds here"
fi
bad CORP_SYNCHRONOUS sometimes "expected full or normal, got 'sometimes'"
bad CORP_ADMIN_POLICY some "expected all or none, got 'some'"
bad CORP_RATE_MARGIN 0 "expected a number in [0.1, 1], got '0'"
bad CORP_RATE_MARGIN 1.5 "expected a number in [0.1, 1], got '1.5'"
bad CORP_RATE_LIMIT maybe "expected on or off, got 'maybe'"
bad CORP_TELEGRAM_API ftp://api.example \
    "expected an http:// or https:// URL, got 'ftp://api.example'"
bad CORP_TELEGRAM_API "https://a b" \
    "expected an http:// or https:// URL, got 'https://a b'"
bad CORP_CA_FILE "$T/none.pem" "$T/none.pem: No such file or directory"
bad CORP_CA_FILE "$T" "$T: not a file"
# CORP_CA_FILE decides whom corp trusts: the ownership rule, on the file
# and (libcurl reads it by name) on every directory of its real path;
# 77 naming the file and the fix (sec-review-9 item 9: another user's
# was used silently).
R=$(realpath "$T")
ca() {
	run env CORP_CA_FILE="$1" corp-task create --as admin --title t \
	    --assignee ann
}
printf 'not checked here\n' > "$T/ca.pem"
chmod 666 "$T/ca.pem"
ca "$T/ca.pem"
is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/ca.pem: world-writable (mode 666); chmod go-w $R/ca.pem" \
    "CORP_CA_FILE others may write: 77, naming it and the fix"
chmod 620 "$T/ca.pem"
ca "$T/ca.pem"
is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/ca.pem: group-writable (mode 620); chmod go-w $R/ca.pem" \
    "  group-writable: 77"
chmod 644 "$T/ca.pem"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$T/ca.pem"
	ca "$T/ca.pem"
	is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/ca.pem: owned by nobody (uid $(id -u nobody)), not by root, who runs corp; chown root $R/ca.pem" \
	    "  another user's: 77"
	chown root "$T/ca.pem"
else
	skip "another user's CORP_CA_FILE: chown needs root"
fi
is "$(tasks)" "$before" "  nothing was done"
mkdir -m 777 "$T/pubca"
chmod 777 "$T/pubca"
cp "$T/ca.pem" "$T/pubca/ca.pem"
ca "$T/pubca/ca.pem"
is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/pubca/ca.pem: $R/pubca: world-writable (mode 777); chmod go-w $R/pubca" \
    "  in a directory others may write (they could swap it): 77"
ln -s "$T/pubca/ca.pem" "$T/ca.link"
ca "$T/ca.link"
is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/pubca/ca.pem: $R/pubca: world-writable (mode 777); chmod go-w $R/pubca" \
    "  a link is judged by what it names"
rm "$T/ca.link"
ln -s "$T/ca.pem" "$T/ca.link"
run env CORP_CA_FILE="$T/ca.link" corp-task list --as admin
is "$rc:$err" "0:" "  the operator's file, mode 644, through a link: used"
bad CORP_SHARE_DIR "$T/none" "$T/none: No such file or directory"
bad CORP_SHARE_DIR "$CORP_SRC/README" "$CORP_SRC/README: not a directory"
bad CORP_DATA_DIR "$CORP_SRC/README" "$CORP_SRC/README: not a directory"
bad CORP_DB "host=h Sekr1tPw" \
    'bad PostgreSQL connection string: missing "=" after "..." in connection info string'
# The shipped programs have no fault VFS (0830 checks the test builds'
# own refusal of a bad spec).
bad CORP_TEST_VFS bogus \
    "this build has no fault VFS (only the test builds of make check have it)"
bad CORP_TEST_VFS write:1 \
    "this build has no fault VFS (only the test builds of make check have it)"
# Secrets: refused without their value.
bad CORP_TELEGRAM_TOKEN Sekr1tToken \
    "not a bot token (expected DIGITS:KEY as @BotFather gives it; the value is not shown)"
bad CORP_TELEGRAM_TOKEN "123:Sekr1t/../x" \
    "not a bot token (expected DIGITS:KEY as @BotFather gives it; the value is not shown)"
bad CORP_SMTP_PASSWORD "$(printf 'Sekr1t\tpw')" \
    "holds a control character (the value is not shown)"
bad CORP_OPENAI_KEY "$(printf 'Sekr1t\r\nX-Injected: 1')" \
    "holds a control character (the value is not shown)"
# The common options speak for themselves, not as the variable.
is_rc 64 "--now bad: 64" corp-task list --now bad
like "$err" "^corp-task: --now: 'bad' is not an RFC 3339 time" "names --now"

# Good values pass (an empty variable is unset).
for v in CORP_NOW=+1h CORP_BUSY_TIMEOUT=1d CORP_TZ=Europe/Kyiv CORP_TZ=UTC \
    CORP_SYNCHRONOUS=FULL CORP_RATE_MARGIN=1 CORP_TELEGRAM_API=http://127.0.0.1:9 \
    CORP_TELEGRAM_TOKEN=123456:AA-b_c CORP_SHARE_DIR="$CORP_SRC/share" \
    CORP_TZ= CORP_NOW=; do
	is_rc 0 "$v is accepted" env "$v" corp-task list --as admin
done
# CORP_TZ is used: a user without a zone takes it.
is "$(CORP_TZ=Asia/Tokyo corp-user show ann | jq -r .zone)" Asia/Tokyo \
    "CORP_TZ is the zone of a user without one"

# A tool that never opens the database checks the environment all the
# same.
is_rc 64 "corp-fmt: CORP_TZ checked too" env CORP_TZ=Mars/Base corp-fmt
is "$err" "corp-fmt: CORP_TZ: unknown zone 'Mars/Base' (an IANA name such as Europe/Kyiv, or UTC)" \
    "with the same message"

# XDG_DATA_HOME and HOME: a relative value is ignored (XDG Base Directory).
mkdir -m 700 "$T/home"
cd "$T/home" || bail "cd"
run env -u CORP_DATA_DIR -u CORP_DB XDG_DATA_HOME=rel HOME="$T/home" corp-db status
is "$rc:$err" "67:corp-db: $T/home/.local/share/corp/corp.db: no database here; run corp-db init" \
    "a relative XDG_DATA_HOME is ignored: HOME's default"

# Readers never create the data dir (issue 15.13): CORP_DATA_DIR=rel.
for c in "corp-task list" "corp-db status" "corp-db check" "corp-deliver stats" \
    "corp-event list" "corp-settings config get default_channel" \
    "corp-user list" "corp-deliver explain --event 1 --user ann"; do
	run env -u CORP_DB CORP_DATA_DIR=rel $c
	is "$rc:$err" "67:${c%% *}: rel/corp.db: no database here; run corp-db init" \
	    "$c: no database is 67, naming the file"
	if [ -e rel ]; then
		fail "$c: created ./rel"
		rm -rf rel
	else
		pass "$c: left no ./rel behind"
	fi
done
run env -u CORP_DB CORP_DATA_DIR=rel corp-cursor get --channel file
is "$rc:$out" "0:0:0" "corp-cursor get on a missing data dir: the start"
is "$(ls)" "" "and no ./rel either"
if if_sqlite "the data dir holds the database with SQLite"; then
	ok "corp-db init creates it" env CORP_DATA_DIR=rel corp-db init
	is "$(stat -c %a rel)" 700 "mode 0700"
	rm -rf rel
fi
# With the database elsewhere, a writer of a file creates it.
run env CORP_DATA_DIR=rel corp-cursor set --channel file 3:4
is "$rc:$(cat rel/bot_deliveries_cursor_file.json)" \
    '0:{"cursor_audit_id":3,"cursor_user_id":4}' "corp-cursor set creates it"
is "$(stat -c %a rel)" 700 "mode 0700"

done_testing
