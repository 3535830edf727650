#!/bin/sh
# Progress lines of long work (issue 21 item 3; corp.7 Progress):
# corp-user import, corp-bind import, corp-db backup and migrate-to show
# "WHAT: DONE/TOTAL RATE/s ETA T" on a terminal (a pty from python3,
# stderr only), rewritten with CR and erase-line and cleared at the
# end; nothing when stderr is not a terminal, nothing with -q; an error
# that ends the work starts on a clean line.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z

# pty CMD...: CMD with stderr a terminal (stdin from $T/in, stdout to
# $T/stdout); $out is what the terminal got, CR and EL made visible.
cat > "$T/ptyrun.py" <<'EOF'
import os, pty, subprocess, sys
m, s = pty.openpty()
with open(sys.argv[1], "rb") as i, open(sys.argv[2], "wb") as o:
    p = subprocess.Popen(sys.argv[3:], stdin=i, stdout=o, stderr=s)
os.close(s)
buf = b""
while True:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    buf += d
p.wait()
sys.stdout.write(buf.decode().replace("\r", "<CR>").replace("\x1b[K", "<EL>"))
sys.exit(p.returncode)
EOF
pty() {
	run python3 "$T/ptyrun.py" "$T/in" "$T/stdout" "$@"
}
: >"$T/in"

# corp-user import: 60 users.
seq 1 60 | sed 's/.*/{"login":"u&","name":"U &"}/' >"$T/in"
pty corp-user import
is "$rc:$(wc -l <"$T/stdout")" "0:60" "user import on a terminal: 0, 60 lines on stdout"
like "$out" '^<CR><EL>corp-user import: [0-9]+/60 [0-9]+\.[0-9]/s ETA ' \
    "user import: done/total, rate, ETA"
like "$out" '<CR><EL>corp-user import: 60/60 [0-9]+\.[0-9]/s ETA -<CR><EL>$' \
    "user import: the last count shown, then cleared"
# Not a terminal: nothing; -q: nothing either.
seq 61 70 | sed 's/.*/{"login":"u&"}/' >"$T/in"
run_in "$T/in" corp-user import
is "$rc:$err" "0:" "user import, stderr not a terminal: no progress"
seq 71 80 | sed 's/.*/{"login":"u&"}/' >"$T/in"
pty corp-user import -q
is "$rc:$out" "0:" "user import -q on a terminal: no progress"
# A refused batch: the error starts on a clean line, nothing written.
{ seq 81 90 | sed 's/.*/{"login":"u&"}/'; echo '{"login":"u91","unit":"nowhere"}'; } >"$T/in"
pty corp-user import
is "$rc" 67 "a bad line refuses the batch: 67 (no such unit)"
like "$out" '^<CR><EL>corp-user import: [^<]*<CR><EL>corp-user: <stdin>:11: .*nowhere.*nothing imported' \
    "the error on a line of its own, after the progress line was cleared"
is "$(corp-user list --format json | jq -s 'map(select(.login == "u81")) | length')" 0 \
    "nothing of the batch was written"

# corp-bind import: 60 binds.
seq 1 60 | sed 's/.*/{"login":"u&","channel":"file","address":"a&"}/' >"$T/in"
pty corp-bind import
is "$rc:$(wc -l <"$T/stdout")" "0:60" "bind import on a terminal: 0, 60 lines"
like "$out" '^<CR><EL>corp-bind import: [0-9]+/60 [0-9]+\.[0-9]/s ETA ' \
    "bind import: done/total, rate, ETA"
like "$out" '<CR><EL>corp-bind import: 60/60 [0-9]+\.[0-9]/s ETA -<CR><EL>$' \
    "bind import: cleared at the end"
seq 61 70 | sed 's/.*/{"login":"u&","channel":"file","address":"a&"}/' >"$T/in"
run_in "$T/in" corp-bind import
is "$rc:$err" "0:" "bind import, not a terminal: no progress"

# corp-db backup (SQLite): KiB written of the database's size.
if_sqlite && {
	: >"$T/in"
	pty corp-db backup "$T/b1.db"
	is "$rc:$(jq -r .backup "$T/stdout")" "0:$T/b1.db" "backup on a terminal: 0"
	like "$out" '<CR><EL>corp-db backup \(KiB\): ([0-9]+)/[0-9]+ [0-9]+\.[0-9]/s ETA -<CR><EL>$' \
	    "backup: KiB of the database's, then cleared"
	run corp-db backup "$T/b2.db"
	is "$rc:$err" "0:" "backup, not a terminal: no progress"
	pty corp-db -q backup "$T/b3.db"
	is "$rc:$out" "0:" "backup -q: no progress"
	ok "the backups check" corp-db check -q --db "$T/b1.db"
}

# corp-db migrate-to: rows copied of all rows, from a SQLite database
# into PostgreSQL (make check-pg).
if pg_mode; then
	pgdst=$(newdb) || bail "could not create a PostgreSQL database"
	src=$T/src.db
	CORP_DB=$src corp-db init >/dev/null || bail "init the source"
	seq 1 30 | sed 's/.*/{"login":"s&"}/' |
	    CORP_DB=$src corp-user import >/dev/null || bail "source users"
	: >"$T/in"
	pty env CORP_DB="$src" corp-db migrate-to "$pgdst"
	is "$rc" 0 "migrate-to on a terminal: 0"
	like "$out" '<CR><EL>corp-db migrate-to \(rows\): ([0-9]+)/[0-9]+ [0-9]+\.[0-9]/s ETA -<CR><EL>$' \
	    "migrate-to: rows copied of all, then cleared"
else
	skip "migrate-to's progress: PostgreSQL only (make check-pg)"
fi
done_testing
