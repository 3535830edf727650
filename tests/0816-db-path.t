#!/bin/sh
# A SQLite database named by CORP_DB or --db, outside the data
# directory, is judged before SQLite opens it (sec-review-10 item 1):
# every directory on its path by the ownership rule, its own directory
# not even sticky (SQLite makes -wal, -shm, -journal beside it by
# name), the file and its side files regular, no link, the operator's.
# Each attack of the review is planted by another user (nobody) and
# must end in 77 naming the file or directory, with nothing written to
# the attacker's files.
. "${CORP_SRC:-.}/tests/lib.sh"
sqlite_only "judges a SQLite file's path; a PostgreSQL URI is no path"
setup
unset CORP_DB

# The attacker's hand: a command run as nobody.
evil() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}

# A private directory works: init, write, read.
mkdir -m 700 "$T/p"
is_rc 0 "init in a private directory" env CORP_DB="$T/p/x.db" corp-db init --admin boss
is "$(stat -c %a "$T/p/x.db")" 600 "  the file is 0600"
is_rc 0 "a tool uses it" env CORP_DB="$T/p/x.db" corp-user list
is "$(printf '%s' "$out" | jq -r .login)" boss "  and reads it"
is_rc 0 "corp-db check --db on it" corp-db check --db "$T/p/x.db"
# A link on the way, the operator's, to a directory that passes: fine
# (the walk judges the link and its target, as for a backup).
ln -s p "$T/lp"
is_rc 0 "a directory on the way that is the operator's link" \
    env CORP_DB="$T/lp/x.db" corp-user list
is "$(printf '%s' "$out" | jq -r .login)" boss "  reads the same database"

# A group-writable parent, or one higher on the way: refused.
mkdir -m 700 "$T/g" && chmod 770 "$T/g"
is_rc 77 "a group-writable directory: refused" env CORP_DB="$T/g/x.db" corp-db init
is "$err" "corp-db: $T/g/x.db: $T/g: group-writable (mode 770); chmod go-w $T/g" \
    "  naming the directory and the fix"
is "$(ls -A "$T/g")" "" "  and nothing made there"
mkdir -m 700 "$T/g/sub"
is_rc 77 "a group-writable directory higher on the way: refused" \
    corp-db check --db "$T/g/sub/x.db"
is "$err" "corp-db: $T/g/sub/x.db: $T/g: group-writable (mode 770); chmod go-w $T/g" \
    "  naming it"

# A symbolic link in the database's place is not followed, for reading
# or writing: the schema would go into whatever file it names.
: >"$T/p/other"
ln -s "$T/p/other" "$T/p/v.db"
is_rc 77 "a symbolic link as the database: refused" env CORP_DB="$T/p/v.db" corp-user list
is "$err" "corp-user: $T/p/v.db: a symbolic link; corp opens no database through a link: put the file itself there" \
    "  naming it"
is_rc 77 "  by init too" env CORP_DB="$T/p/v.db" corp-db init
is "$(stat -c %s "$T/p/other")" 0 "  and the file it names is untouched"

# A side file that is a link, not regular or not the operator's.
ln -s "$T/p/other" "$T/p/x.db-shm"
is_rc 77 "a link as the -shm file: refused" env CORP_DB="$T/p/x.db" corp-user list
is "$err" "corp-user: $T/p/x.db-shm: a symbolic link; SQLite makes it itself: remove it" \
    "  naming it"
is "$(stat -c %s "$T/p/other")" 0 "  not followed"
rm "$T/p/x.db-shm"
mkfifo "$T/p/x.db-journal"
is_rc 77 "a FIFO as the -journal file: refused" env CORP_DB="$T/p/x.db" corp-user list
is "$err" "corp-user: $T/p/x.db-journal: not a regular file; SQLite makes it itself: remove it" \
    "  naming it"
rm "$T/p/x.db-journal"

# The data directory's own corp.db goes through the same judge.
ln -s "$T/p/other" "$CORP_DATA_DIR/corp.db-wal"
is_rc 77 "the data directory's corp.db-wal a link: refused" corp-user list
is "$err" "corp-user: $CORP_DATA_DIR/corp.db-wal: a symbolic link; SQLite makes it itself: remove it" \
    "  naming it"
rm "$CORP_DATA_DIR/corp.db-wal"
is_rc 0 "  and fine again once removed" corp-user list

# ":memory:" is no file: nothing to judge, an empty database per run.
is_rc 0 ":memory: is SQLite's in-memory database" env CORP_DB=:memory: corp-user list
is "$out" "" "  empty"
# A "file:" name is a file name, never a URI SQLite would read.
mkdir -m 700 "$T/u"
is_rc 67 "a file: name is a relative file, not a URI" \
    sh -c 'cd "$1" && CORP_DB="file:$2?mode=rw" corp-user list' sh "$T/u" "$T/p/x.db"
is "$err" "corp-user: file:$T/p/x.db?mode=rw: no database here; run corp-db init" \
    "  that is not there"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 ||
    ! command -v setpriv >/dev/null 2>&1; then
	skip "the attacks need root, a user nobody and setpriv"
	done_testing
	exit 0
fi
chmod 711 "$T"		# the attacker may pass through, as through /home
# The file owner rule: root's database in a file another user owns.
: >"$T/p/z.db"
chown nobody "$T/p/z.db"
chmod 666 "$T/p/z.db"
is_rc 77 "init into a file another user owns: refused" env CORP_DB="$T/p/z.db" corp-db init
is "$err" "corp-db: $T/p/z.db: owned by nobody (uid $(id -u nobody)), not by root, who runs corp; chown root $T/p/z.db" \
    "  naming it and the fix"
is "$(stat -c %s "$T/p/z.db")" 0 "  nothing written to it"

# a) Planted -wal and -shm in a sticky directory (as /tmp): root's
# rows would go into the attacker's files.
mkdir -m 1777 "$T/st" && chmod 1777 "$T/st"
evil sh -c 'touch "$1-wal" "$1-shm" && chmod 666 "$1-wal" "$1-shm"' sh "$T/st/x.db"
is_rc 77 "a sticky directory with planted side files: refused" \
    env CORP_DB="$T/st/x.db" corp-db init --admin davesecret
is "$err" "corp-db: $T/st/x.db: $T/st: a sticky directory others may make names in (mode 1777): SQLite would use a -wal, -shm or -journal file another user made there first; keep the database in a directory only you (or root) may write (mkdir -m 700 DIR)" \
    "  naming the directory and the fix"
is "$(stat -c %s "$T/st/x.db-wal"):$(stat -c %s "$T/st/x.db-shm")" 0:0 \
    "  nothing written to the attacker's files"
is "$(ls -A "$T/st" | tr '\n' ' ')" "x.db-shm x.db-wal " "  and no database made there"
is_rc 77 "  and no tool uses it either" env CORP_DB="$T/st/x.db" corp-user list

# a2) The same directory as a backup's target (fresh-eyes round 14):
# SQLite writes the backup through a -journal beside it, which another
# user may have made first and hold open: refused as the database is,
# and the file claimed for it removed.
evil sh -c 'touch "$1-journal" && chmod 666 "$1-journal"' sh "$T/st/bk.db"
is_rc 77 "a backup into a sticky directory others may write: refused" \
    env CORP_DB="$T/p/x.db" corp-db backup "$T/st/bk.db"
is "$err" "corp-db: $T/st/bk.db: $T/st: a sticky directory others may make names in (mode 1777): SQLite would use a -wal, -shm or -journal file another user made there first; keep the database in a directory only you (or root) may write (mkdir -m 700 DIR)" \
    "  naming the directory and the fix"
is "$(stat -c %s "$T/st/bk.db-journal"):$(test -e "$T/st/bk.db" && echo kept)" "0:" \
    "  nothing written to the attacker's journal, no backup left"
rm -f "$T/st/bk.db-journal"

# b) An attacker-owned, pre-created database file in the sticky
# directory: refused (the directory; the owner besides).
evil sh -c 'touch "$1" && chmod 666 "$1"' sh "$T/st/z.db"
is_rc 77 "an attacker's pre-created file in /tmp-like: refused" \
    env CORP_DB="$T/st/z.db" corp-db init
is "$(stat -c %s "$T/st/z.db")" 0 "  nothing written to it"

# c) A database swapped in a world-writable directory: whatever the
# file holds, the directory is refused before it is read.
mkdir -m 777 "$T/w" && chmod 777 "$T/w"
mkdir -m 700 "$T/e"
CORP_DB="$T/e/evil.db" corp-db init --admin mallory >/dev/null
chmod 755 "$T/e" && chmod 644 "$T/e/evil.db"
evil cp "$T/e/evil.db" "$T/w/x.db"
is_rc 77 "a database in a world-writable directory: refused" \
    env CORP_DB="$T/w/x.db" corp-user list
is "$err" "corp-user: $T/w/x.db: $T/w: world-writable (mode 777); chmod go-w $T/w" \
    "  naming the directory and the fix"
is "$out" "" "  nothing of the attacker's database shown"

# d) A link planted in a sticky directory to another SQLite file of
# root's: nothing written through it.
cp "$T/e/evil.db" "$T/p/root-other.db"
sum=$(cksum <"$T/p/root-other.db")
evil ln -s "$T/p/root-other.db" "$T/st/v.db"
is_rc 77 "a planted link to root's file: refused" env CORP_DB="$T/st/v.db" corp-user list
is "$(cksum <"$T/p/root-other.db")" "$sum" "  root's file untouched"
# The same link in root's private directory is still no database.
ln -s "$T/p/root-other.db" "$T/p/w.db"
is_rc 77 "  a link in a private directory: refused too" env CORP_DB="$T/p/w.db" corp-db init
is "$(cksum <"$T/p/root-other.db")" "$sum" "  untouched"

done_testing
