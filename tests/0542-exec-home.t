#!/bin/sh
# corp-send exec: the HOME a command gets (the running user's, from the
# password database) is judged, since zsh (~/.zshenv), python (the user
# site's .pth files) and node (~/.node_modules) run files from it
# (corp.7 Children; sec-review-21a F5: a HOME the operator's group could
# write ran another user's ~/.zshenv as the operator).  The password
# database is changed only inside a private mount namespace (unshare
# -m, a copy bind-mounted on /etc/passwd), so root only.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	skip "not root, or no unshare -m: the password database cannot be changed"
	done_testing
	exit 0
fi
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
mkdir -m 755 "$T/bin"
printf '#!/bin/sh\ncat >/dev/null\necho "$HOME"\n' > "$T/bin/home"
chmod 755 "$T/bin/home"
echo "home=$T/bin/home" > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
dline 1 home "" exec > "$T/in"
# send HOME: one line to the command, root's home in the password
# database being HOME; $got is the exit status and the ack's fields.
send() {
	awk -F: -v h="$1" 'BEGIN { OFS = ":" } $3 == 0 { $6 = h } { print }' \
	    /etc/passwd > "$T/passwd"
	run_in "$T/in" unshare -m sh -c \
	    'mount --bind "$1" /etc/passwd && exec corp-send exec' sh "$T/passwd"
	got="$rc:$(acks | jq -c '.[1:5]')"
}

mkdir -m 755 "$T/h"
send "$T/h"
is "$got" "0:[\"sent\",\"$T/h\",null,true]" "a HOME only the operator may write: passed to the command"
chmod 775 "$T/h"
send "$T/h"
is "$got" "77:[\"retry\",null,\"exec command $T/bin/home: HOME $T/h, the running user's from the password database, which the command gets (zsh, python and node run files from it): $T/h: group-writable (mode 775); chmod go-w $T/h; or give the user another home (usermod -d)\",false]" \
    "a group-writable HOME: refused (77), naming HOME and the fix"
chmod 1777 "$T/h"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*$T/h: world-writable" \
    "a sticky world-writable HOME (as /tmp): refused (77)"
chmod 755 "$T/h"
chown 65534 "$T/h"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*$T/h: owned by .*\\(uid 65534\\), not by root" \
    "a HOME another user owns: refused (77)"
chown 0 "$T/h"
mkdir -m 775 "$T/gw"
chmod 775 "$T/gw"
mkdir -m 755 "$T/gw/h"
send "$T/gw/h"
like "$got" "^77:.*HOME $T/gw/h, .*$T/gw: group-writable" \
    "a HOME in a directory others may write: refused (77), naming it"
send "$T/none/h"
is "$got" "0:[\"sent\",\"$T/none/h\",null,true]" \
    "a HOME that does not exist, only the operator could make it: passes"
mkdir -m 1777 "$T/stk"
chmod 1777 "$T/stk"
send "$T/stk/none/h"
is "$got" "77:[\"retry\",null,\"exec command $T/bin/home: HOME $T/stk/none/h, the running user's from the password database, which the command gets (zsh, python and node run files from it): it does not exist, and $T/stk is a directory others may make names in: whoever makes it first chooses the files run from it; or give the user another home (usermod -d)\",false]" \
    "a HOME that does not exist and others could make: refused (77)"
# Its python user site, which python reads unless -s or -I, is judged as
# a venv's site-packages is (sec-review-22a N1: usercustomize.py).
us="$T/h/.local/lib/python3.99/site-packages"
mkdir -p "$us"
printf 'x = 1\n' > "$us/usercustomize.py"
send "$T/h"
is "$got" "0:[\"sent\",\"$T/h\",null,true]" \
    "a HOME whose user site is the operator's: passes"
chmod 666 "$us/usercustomize.py"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*: its python user site: $us/usercustomize.py: world-writable" \
    "a user site's usercustomize.py others may write: refused (77)"
chmod 644 "$us/usercustomize.py"
printf '%s/stk\n' "$T" > "$us/dev.pth"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*: its python user site: $us/dev.pth: $T/stk, a directory others may make names in" \
    "a user site's .pth naming a directory others may write: refused (77)"
rm "$us/dev.pth"
# Its .node_modules and .node_libraries, where node looks for what it
# requires by name (sec-review-22a N5).
for d in .node_modules .node_libraries; do
	mkdir -p "$T/h/$d/p"
	printf 'module.exports = 1;\n' > "$T/h/$d/p/index.js"
	chmod 666 "$T/h/$d/p/index.js"
	send "$T/h"
	like "$got" "^77:.*HOME $T/h, .*: $T/h/$d/p/index.js: world-writable" \
	    "a file others may write in HOME's $d: refused (77)"
	rm -r "$T/h/$d"
done
# The way to the user site, whether the site exists or not: another
# user's ~/.local/lib could make it after the judgement (sec-review-23a
# H1).  nobody (65534) stands for another user.
rm -r "$T/h/.local"
mkdir -m 755 "$T/h/.local" "$T/h/.local/lib"
chown 65534 "$T/h/.local/lib"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*: its python user site: $T/h/.local/lib: owned by " \
    "another user's ~/.local/lib, no user site in it yet: refused (77)"
chown 0 "$T/h/.local/lib"
mkdir -m 777 "$T/h/.local/lib/python3.99"
chmod 777 "$T/h/.local/lib/python3.99"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*: its python user site: $T/h/.local/lib/python3.99: world-writable" \
    "a ~/.local/lib/python* others may write, no site-packages in it: refused (77)"
rm -r "$T/h/.local"
# The files zsh and R read at every start (sec-review-23a H2).
for f in .zshenv .Rprofile .Renviron; do
	: > "$T/h/$f"
	chown 65534 "$T/h/$f"
	send "$T/h"
	like "$got" "^77:.*HOME $T/h, .*: $T/h/$f: owned by " \
	    "another user's ~/$f: refused (77)"
	chown 0 "$T/h/$f"
	chmod 666 "$T/h/$f"
	send "$T/h"
	like "$got" "^77:.*HOME $T/h, .*: $T/h/$f: world-writable" \
	    "a ~/$f others may write: refused (77)"
	rm "$T/h/$f"
done
mkdir -m 755 "$T/other"
chown 65534 "$T/other"
: > "$T/other/zshenv"
chown 65534 "$T/other/zshenv"
ln -s "$T/other/zshenv" "$T/h/.zshenv"
send "$T/h"
like "$got" "^77:.*HOME $T/h, .*: $T/h/.zshenv: a symbolic link to $T/other/zshenv" \
    "~/.zshenv, the operator's link to another user's file: refused (77)"
rm "$T/h/.zshenv"
printf 'true\n' > "$T/h/.zshenv"
send "$T/h"
is "$got" "0:[\"sent\",\"$T/h\",null,true]" "the operator's own ~/.zshenv: passes"
rm "$T/h/.zshenv"
send "$T/h"
is "$got" "0:[\"sent\",\"$T/h\",null,true]" "all the operator's again: passes"
done_testing
