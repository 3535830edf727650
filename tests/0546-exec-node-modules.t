#!/bin/sh
# corp-send exec: for a node script, every node_modules in its directory
# and each directory above it, where node looks for what it requires by
# name, is judged as a command's directory, its entries and theirs
# (corp.7 SECURITY; sec-review-22a N5: another user's package in a
# node_modules above the script ran as root).  node refuses a script
# under a directory others may make names in (a sticky /tmp too), so the
# scripts here sit under the first of the build directory and HOME whose
# every directory from / is root's or ours and writable by neither group
# nor others; with none such (a clone under /tmp and a HOME there), skip.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

if [ ! -x /usr/bin/node ]; then
	skip "no /usr/bin/node"
	done_testing
	exit 0
fi
# safe DIR: DIR and every directory above it root's or ours, writable
# by neither group nor others.
safe() {
	d=$(cd "$1" 2>/dev/null && pwd -P) || return 1
	while :; do
		set -- $(stat -c '%u %a' "$d")
		[ "$1" = 0 ] || [ "$1" = "$(id -u)" ] || return 1
		[ $((0$2 & 022)) = 0 ] || return 1
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}
base=
for b in "${CORP_BUILD:-$CORP_SRC/build}" "${HOME:-}"; do
	if [ -n "$b" ] && safe "$b"; then
		base=$b
		break
	fi
done
if [ -z "$base" ]; then
	skip "neither the build directory nor HOME is under directories only root and this user may write (node refuses scripts elsewhere)"
	done_testing
	exit 0
fi
N=$(mktemp -d "$base/t0546.XXXXXX")
trap '_cleanup; rm -rf "$N"' EXIT
chmod 755 "$N"
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
mkdir -m 755 "$N/up" "$N/up/app" "$N/up/node_modules" "$N/up/node_modules/y"
printf '#!/usr/bin/node\nprocess.stdin.resume();\nprocess.stdin.on("end", () => console.log("ok"));\n' \
    > "$N/up/app/cmd.js"
chmod 755 "$N/up/app/cmd.js"
printf 'module.exports = 1;\n' > "$N/up/node_modules/y/index.js"
echo "js=$N/up/app/cmd.js" > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
# send NAME: one line to NAME; $got is the exit status and the ack's fields.
send() {
	dline 1 "$1" "" exec > "$T/in"
	run_in "$T/in" corp-send exec
	got="$rc:$(acks | jq -c '.[1:5]')"
}
pre="exec command $N/up/app/cmd.js: $N/up/app/cmd.js: node_modules above it, where node looks for what it requires by name"

send js
is "$got" '0:["sent","ok",null,true]' \
    "a node script below the operator's node_modules: runs"
chmod 666 "$N/up/node_modules/y/index.js"
send js
is "$got" "77:[\"retry\",null,\"$pre: $N/up/node_modules/y/index.js: world-writable (mode 666); chmod go-w $N/up/node_modules/y/index.js\",false]" \
    "a package's file others may write in a node_modules above the script: refused (77)"
chmod 644 "$N/up/node_modules/y/index.js"
chmod 777 "$N/up/node_modules/y"
send js
like "$got" "^77:.*$pre: $N/up/node_modules/y: world-writable" \
    "a package directory others may write there: refused (77)"
chmod 755 "$N/up/node_modules/y"
mkdir -m 755 "$N/up/app/node_modules" "$N/up/app/node_modules/x"
printf 'module.exports = 1;\n' > "$N/up/app/node_modules/x/index.js"
chmod 666 "$N/up/app/node_modules/x/index.js"
send js
like "$got" "^77:.*$N/up/app/node_modules/x/index.js: world-writable" \
    "a package's file others may write in the script's own node_modules: refused (77)"
chmod 644 "$N/up/app/node_modules/x/index.js"
send js
is "$got" '0:["sent","ok",null,true]' "all the operator's again: runs"
done_testing
