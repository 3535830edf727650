#!/bin/sh
# corp-fmt --catalog's path is walked as CORP_CA_FILE's, backup's and
# send --out's are (corp.7 SECURITY, corp-fmt.1): a directory on the way
# that fails the ownership rule, another user's symbolic link on the way
# (its owner chooses what the name reads) and a root-owned catalog in a
# directory another user owns are refused (77, every line held); the
# operator's own link and a sticky directory root owns pass.  Before
# (sec-review-17a finding 5) only the file itself was judged.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
dline 1 x "" file | jq -c 'del(.text) | .event.title = "T" |
    .event.links = {task: "https://corp.example/tasks/5"}' >"$T/in"
me=$(id -un)

# cat DESC PATH: corp-fmt --catalog PATH on $T/in.
cat_run() {
	run_in "$T/in" corp-fmt --catalog "$2"
}
mkcat() {
	mkdir -p "$1" && chmod 755 "$1" &&
	    printf 'en:task_created@executor | "cli text"\n' >"$1/en.txt" &&
	    chmod 644 "$1/en.txt"
}

mkcat "$T/ok"
cat_run x "$T/ok/en.txt"
is "$rc:$(printf '%s' "$out" | jq -r .text | head -1)" "0:cli text" \
    "a catalog in a directory that passes: read"

# A group-writable directory on the way: whoever may write it may put
# their own en.txt there.
mkcat "$T/gw"
chmod 775 "$T/gw"
cat_run x "$T/gw/en.txt"
is "$rc:$err" "77:corp-fmt: $T/gw/en.txt: $T/gw: group-writable (mode 775); chmod go-w $T/gw; every line passes on as retry" \
    "a group-writable directory on the way: 77, naming it and the fix"
is "$(printf '%s' "$out" | jq -c '[.result, .error_class]')" \
    '["retry","config"]' "  the line held, not formatted with its words"
chmod 755 "$T/gw"
cat_run x "$T/gw/en.txt"
is "$rc" 0 "  chmod go-w: read"

# The operator's own link, on the way and in a sticky directory root owns.
ln -s "$T/ok" "$T/mylink"
cat_run x "$T/mylink/en.txt"
is "$rc:$(printf '%s' "$out" | jq -r .text | head -1)" "0:cli text" \
    "a link of the running user's on the way: followed"
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/sticky" && chmod 1777 "$T/sticky"
	mkcat "$T/sticky/mine"
	cat_run x "$T/sticky/mine/en.txt"
	is "$rc" 0 "a sticky directory root owns on the way (as /tmp): passes"
else
	skip "a sticky directory root owns: needs root"
fi

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 ||
    ! command -v setpriv >/dev/null 2>&1; then
	skip "another user's link and directory: need root, nobody, setpriv"
	done_testing
fi
nobody=$(id -u nobody)
asnobody() {
	setpriv --reuid nobody --regid nogroup --clear-groups "$@"
}
# Another user's link to a directory whose catalog passes (the review's
# /tmp/LINK/en.txt): its owner may point it elsewhere at any time.
chmod 711 "$T"	# (nobody reaches $T/pub)
mkdir "$T/pub" && chmod 1777 "$T/pub"
asnobody ln -s "$T/ok" "$T/pub/LINK" || bail "ln as nobody"
cat_run x "$T/pub/LINK/en.txt"
is "$rc:$err" "77:corp-fmt: $T/pub/LINK/en.txt: $T/pub/LINK: owned by nobody (uid $nobody), not by $me, who runs corp; chown $me $T/pub/LINK; every line passes on as retry" \
    "another user's link on the way: 77"
# A catalog root owns, in a directory another user owns: they may
# rename another file into its place.
mkcat "$T/theirs"
chown nobody "$T/theirs"
cat_run x "$T/theirs/en.txt"
is "$rc:$err" "77:corp-fmt: $T/theirs/en.txt: $T/theirs: owned by nobody (uid $nobody), not by $me, who runs corp; chown $me $T/theirs; every line passes on as retry" \
    "a root-owned catalog in another user's directory: 77"
# Another user's link in the file's place: refused as before.
asnobody ln -s "$T/ok/en.txt" "$T/pub/en.txt" || bail "ln as nobody"
cat_run x "$T/pub/en.txt"
like "$rc:$err" "^77:corp-fmt: $T/pub/en.txt: a symbolic link" \
    "a link in the file's place: 77"
done_testing
