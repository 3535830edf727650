#!/bin/sh
# contrib's systemd units and logrotate file (issue 21.7): every unit,
# and the units with contrib/postgresql-tcp.conf as a drop-in, pass
# systemd-analyze verify; the drop-in gives corp-route.service the
# network that PostgreSQL over TCP needs and nothing else; logrotate
# rotates the file channel's outbox by renaming (a later corp-send file
# starts a new 0600 outbox, the old lines stay whole in the rotated one)
# and keeps the nightly backups.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
C=$CORP_SRC/contrib

# ---- the drop-in, read as text ------------------------------------------
# systemd takes the last assignment of a key; the drop-in is read after
# the unit.
last() { sed -n "s/^$2=//p" "$1" | tail -1; }
is "$(last "$C/corp-route.service" PrivateNetwork)" yes \
    "corp-route.service as shipped: no network"
is "$(last "$C/postgresql-tcp.conf" PrivateNetwork)" no \
    "the drop-in: the host's network"
is "$(last "$C/postgresql-tcp.conf" RestrictAddressFamilies)" \
    "AF_UNIX AF_INET AF_INET6" "and IP sockets"
for k in NoNewPrivileges ProtectSystem ProtectHome PrivateDevices \
    RestrictSUIDSGID SystemCallArchitectures; do
	grep -q "^$k=" "$C/postgresql-tcp.conf" &&
	    fail "the drop-in touches $k" || pass "the drop-in keeps $k"
done
like "$(grep '^Environment=CORP_DB=' "$C/postgresql-tcp.conf")" \
    "^Environment=CORP_DB=postgresql://corp@[^:]*:5432/corp" \
    "the drop-in's CORP_DB has no password"

# ---- systemd-analyze verify -----------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	# The units name /usr/local/bin (make install's default): here the
	# build's programs and contrib's scripts.
	mkdir -p "$T/bin" "$T/units"
	for p in "${CORP_BUILD:-$CORP_SRC/build}"/bin/corp-* \
	    "$C/corp-pipeline" "$C/corp-telegram-bot"; do
		ln -s "$p" "$T/bin/${p##*/}"
	done
	for u in "$C"/*.service "$C"/*.timer; do
		sed "s#/usr/local/bin#$T/bin#g" "$u" >"$T/units/${u##*/}"
	done
	cp "$T/units/corp-deliver@.service" "$T/units/corp-deliver@file.service"
	for u in corp-route.service corp-deliver@file.service \
	    corp-pipeline.service corp-pipeline.timer; do
		run systemd-analyze verify --man=no "$T/units/$u"
		is "$rc:$err" "0:" "systemd-analyze verify $u"
	done
	# A drop-in applies as if appended to the unit.
	mkdir -p "$T/dropin"
	for u in corp-route.service corp-deliver@file.service \
	    corp-pipeline.service; do
		cat "$T/units/$u" "$C/postgresql-tcp.conf" >"$T/dropin/$u"
		run systemd-analyze verify --man=no "$T/dropin/$u"
		is "$rc:$err" "0:" "systemd-analyze verify $u + postgresql-tcp.conf"
	done
else
	skip "systemd-analyze is not installed"
fi

# ---- logrotate -------------------------------------------------------------
if command -v logrotate >/dev/null 2>&1; then
	# The file as shipped, for this data dir and this user (logrotate's
	# su and create need a user that exists).
	u=$(id -un) g=$(id -gn)
	sed -e "s#/var/lib/corp#$CORP_DATA_DIR#g" -e "s/su corp corp/su $u $g/" \
	    -e "s/create 0600 corp corp/create 0600 $u $g/" \
	    "$C/logrotate" >"$T/logrotate.conf"
	run logrotate -d -s "$T/state" "$T/logrotate.conf"
	is "$rc" 0 "logrotate -d reads contrib/logrotate"
	dline 1 ann "first" file >"$T/in1"
	dline 2 ann "second" file >"$T/in2"
	run_in "$T/in1" corp-send file
	is "$rc" 0 "corp-send file writes the outbox"
	echo backup-1 >"$CORP_DATA_DIR/backup.db"
	run logrotate -f -s "$T/state" "$T/logrotate.conf"
	is "$rc" 0 "logrotate -f rotates"
	is "$(jq -r .text "$CORP_DATA_DIR/outbox.jsonl.1" 2>&1)" "first" \
	    "the old outbox, renamed, holds its line whole"
	is "$(stat -c %a "$CORP_DATA_DIR/outbox.jsonl" 2>&1)" 600 \
	    "a new outbox, 0600 (create)"
	run_in "$T/in2" corp-send file
	is "$rc:$(jq -r .text "$CORP_DATA_DIR/outbox.jsonl")" "0:second" \
	    "corp-send file appends to the new outbox"
	is "$(cat "$CORP_DATA_DIR/backup.db.1" 2>&1):$([ -e "$CORP_DATA_DIR/backup.db" ] && echo there)" \
	    "backup-1:" "backup.db rotated to backup.db.1, none created (nocreate)"
else
	skip "logrotate is not installed"
fi

done_testing
