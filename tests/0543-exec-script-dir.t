#!/bin/sh
# corp-send exec: what already sits in the directory of a script python
# or node runs is judged, since they load modules from it by name
# (python's sys.path[0], __pycache__, node's node_modules): every entry
# root's or the operator's and writable by neither group nor others, a
# subdirectory's entries too, one level, at most 4096 (corp.7 SECURITY;
# sec-review-21a F6: another user's helper.py beside a root script ran
# as root).  node, which refuses a script under /tmp where the tests
# are, is judged by the same code.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

if [ ! -x /usr/bin/python3 ]; then
	skip "no /usr/bin/python3"
	done_testing
	exit 0
fi
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
mkdir -m 755 "$T/py" "$T/py/__pycache__" "$T/py/pkg" "$T/py/pkg/sub" "$T/sh"
printf '#!/usr/bin/python3\nimport sys\nsys.stdin.read()\nprint("ok")\n' \
    > "$T/py/cmd.py"
printf 'x = 1\n' > "$T/py/helper.py"
: > "$T/py/__pycache__/helper.cpython-399.pyc"
: > "$T/py/pkg/__init__.py"
: > "$T/py/pkg/sub/deep.py"
chmod 666 "$T/py/pkg/sub/deep.py"
printf '#!/bin/sh\ncat >/dev/null\necho ok\n' > "$T/sh/cmd.sh"
: > "$T/sh/free.txt"
chmod 666 "$T/sh/free.txt"
chmod 755 "$T/py/cmd.py" "$T/sh/cmd.sh"
printf 'py=%s/py/cmd.py\nsh=%s/sh/cmd.sh\n' "$T" "$T" > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
# send NAME: one line to NAME; $got is the exit status and the ack's fields.
send() {
	dline 1 "$1" "" exec > "$T/in"
	run_in "$T/in" corp-send exec
	got="$rc:$(acks | jq -c '.[1:5]')"
}
pre="exec command $T/py/cmd.py: $T/py/cmd.py: beside it, where python and node load modules from by name"

send py
is "$got" '0:["sent","ok",null,true]' \
    "a python script beside the operator's files: runs (deeper trees are the operator's to keep)"
send sh
is "$got" '0:["sent","ok",null,true]' \
    "a sh script beside a file others may write: runs (sh loads nothing by name)"
chmod 666 "$T/py/helper.py"
send py
is "$got" "77:[\"retry\",null,\"$pre: $T/py/helper.py: world-writable (mode 666); chmod go-w $T/py/helper.py\",false]" \
    "a module beside a python script, others may write it: refused (77)"
chmod 644 "$T/py/helper.py"
chmod 666 "$T/py/__pycache__/helper.cpython-399.pyc"
send py
like "$got" "^77:.*$pre: $T/py/__pycache__/helper.cpython-399.pyc: world-writable" \
    "a cached module in __pycache__ others may write: refused (77)"
chmod 644 "$T/py/__pycache__/helper.cpython-399.pyc"
chmod 775 "$T/py/pkg"
send py
like "$got" "^77:.*$pre: $T/py/pkg: group-writable" \
    "a package directory the group may write: refused (77)"
chmod 755 "$T/py/pkg"
ln -s "$T/sh/free.txt" "$T/py/linked.py"
send py
like "$got" "^77:.*$pre: $T/py/linked.py: a symbolic link to $T/sh/free.txt: $T/sh/free.txt: world-writable" \
    "a link to a file others may write: refused (77)"
rm "$T/py/linked.py"
# A link is walked to its target as a command's path is (sec-review-22a
# N2: root's file in another user's directory, swapped after the
# judgement; a dangling link into /tmp, made later).
mkdir -m 777 "$T/mal"
mkdir -m 755 "$T/mine"
printf 'x = 1\n' > "$T/mal/helper2.py"
cp "$T/mal/helper2.py" "$T/mine/helper2.py"
ln -s ../mine/helper2.py "$T/py/helper2.py"
send py
is "$got" '0:["sent","ok",null,true]' \
    "a relative link to the operator's file in the operator's directory: runs"
ln -sf "$T/mal/helper2.py" "$T/py/helper2.py"
send py
is "$got" "77:[\"retry\",null,\"$pre: $T/py/helper2.py: a symbolic link to $T/mal/helper2.py: $T/mal: world-writable (mode 777); chmod go-w $T/mal\",false]" \
    "a link to root's file in a directory others may write: refused (77)"
ln -sf "$T/nothere/helper2.py" "$T/py/helper2.py"
send py
is "$got" "77:[\"retry\",null,\"$pre: $T/py/helper2.py: a symbolic link to $T/nothere/helper2.py, which does not exist: whoever can make it first chooses what is loaded; remove the link\",false]" \
    "a dangling link: refused (77)"
rm "$T/py/helper2.py"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$T/py/helper.py"
	send py
	like "$got" "^77:.*$pre: $T/py/helper.py: owned by .*\\(uid 65534\\), not by root" \
	    "a module beside the script another user owns: refused (77)"
	chown 0 "$T/py/helper.py"
else
	skip "not root: no file of another user to make"
fi
mkdir -m 755 "$T/py/many"
(cd "$T/py/many" && seq 1 4100 | xargs touch)
send py
is "$got" "77:[\"retry\",null,\"$pre: $T/py/many: more than 4096 entries to judge beside what python or node loads by name; keep the command in a directory of its own\",false]" \
    "more than 4096 entries to judge: refused (77)"
done_testing
