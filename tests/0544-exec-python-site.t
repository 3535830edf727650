#!/bin/sh
# corp-send exec: what a python interpreter reads at start from its venv
# and site-packages is judged (corp.7 SECURITY; sec-review-22a): a
# pyvenv.cfg beside the interpreter as well as above it (N8), one home
# line only (N7), a link among what a .pth imports walked to its target
# (N2), a .pth line naming a directory python adds to sys.path and the
# sitecustomize and usercustomize it imports (N1: pip install -e of
# another user's checkout ran their code as root).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

if [ ! -x /usr/bin/python3 ]; then
	skip "no /usr/bin/python3"
	done_testing
	exit 0
fi
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
mkdir -m 755 "$T/bin" "$T/vb" "$T/vb/bin" "$T/vb/lib" "$T/vb/lib/python3.99" \
    "$T/ok" "$T/mal" "$T/dev" "$T/dev/src"
chmod 777 "$T/mal"
mkdir -m 1777 "$T/sticky"
sp="$T/vb/lib/python3.99/site-packages"
mkdir -m 755 "$sp"
ln -s /usr/bin/python3 "$T/vb/bin/python3"
printf '#!%s\nimport sys\nsys.stdin.read()\n' "$T/vb/bin/python3" > "$T/bin/vb"
chmod 755 "$T/bin/vb"
echo "vb=$T/bin/vb" > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
# send NAME: one line to NAME; $got is the exit status and the ack's fields.
send() {
	dline 1 "$1" "" exec > "$T/in"
	run_in "$T/in" corp-send exec
	got="$rc:$(acks | jq -c '.[1:5]')"
}
ok='0:["sent",null,null,true]'
# the first directory above $T others may make names in (the sticky /tmp)
top=$(dirname "$T")

# N8: python reads a pyvenv.cfg beside the interpreter too.
printf 'home = /usr/bin\n' > "$T/vb/bin/pyvenv.cfg"
: > "$sp/zz.pth"
send vb
is "$got" "$ok" "a venv whose pyvenv.cfg sits beside its python: runs"
chmod 666 "$sp/zz.pth"
send vb
like "$got" "^77:.*its python's venv: $sp/zz.pth: world-writable" \
    "its site-packages' .pth others may write: refused (77)"
chmod 644 "$sp/zz.pth"
chmod 666 "$T/vb/bin/pyvenv.cfg"
send vb
like "$got" "^77:.*its python's venv: $T/vb/bin/pyvenv.cfg: world-writable" \
    "a pyvenv.cfg beside the python others may write: refused (77)"
chmod 644 "$T/vb/bin/pyvenv.cfg"
# N7: python takes the first home line; a reader may take the last.
printf 'home = /usr/bin\nHome = %s/mal\n' "$T" > "$T/vb/bin/pyvenv.cfg"
send vb
is "$got" "77:[\"retry\",null,\"exec command $T/bin/vb: $T/bin/vb: its python's venv $T/vb/bin/pyvenv.cfg: more than one home line; keep one\",false]" \
    "a pyvenv.cfg with two home lines: refused (77)"
printf 'home = /usr/bin\n' > "$T/vb/bin/pyvenv.cfg"

# N2: a link among what a .pth imports is walked to its target.
printf 'import _hook\n' > "$sp/hook.pth"
printf 'x = 1\n' > "$T/ok/_hook.py"
ln -s "$T/ok/_hook.py" "$sp/_hook.py"
send vb
is "$got" "$ok" "a module a .pth imports, a link to the operator's file: runs"
cp "$T/ok/_hook.py" "$T/mal/_hook.py"
ln -sf "$T/mal/_hook.py" "$sp/_hook.py"
send vb
like "$got" "^77:.*its python's venv: $sp/_hook.py: .*$T/mal: world-writable" \
    "the same link to a root file in a directory others may write: refused (77)"
ln -sf "$T/sticky/none.py" "$sp/_hook.py"
send vb
like "$got" "^77:.*its python's venv: $sp/_hook.py: a symbolic link to $T/sticky/none.py, which does not exist" \
    "a dangling link others could make the target of: refused (77)"
rm "$sp/_hook.py" "$sp/hook.pth"

# N1: a .pth line naming a directory (pip install -e) is judged as a
# command's directory, its entries one level deep; so are
# sitecustomize and usercustomize.
printf '%s/dev/src\n' "$T" > "$sp/__editable__.dev-0.1.pth"
printf 'x = 1\n' > "$T/dev/src/devhook.py"
send vb
is "$got" "$ok" "a .pth naming the operator's checkout: runs"
chmod 777 "$T/dev/src"
send vb
like "$got" "^77:.*its python's venv: $sp/__editable__.dev-0.1.pth: $T/dev/src: world-writable" \
    "a .pth naming a directory others may write: refused (77)"
chmod 755 "$T/dev/src"
chmod 666 "$T/dev/src/devhook.py"
send vb
like "$got" "^77:.*its python's venv: $sp/__editable__.dev-0.1.pth: .*$T/dev/src/devhook.py: world-writable" \
    "a module others may write in a directory a .pth names: refused (77)"
chmod 644 "$T/dev/src/devhook.py"
printf 'rel\n' > "$sp/__editable__.dev-0.1.pth"
mkdir -m 777 "$sp/rel"
send vb
like "$got" "^77:.*its python's venv: $sp/__editable__.dev-0.1.pth: $sp/rel: world-writable" \
    "a relative .pth line, from site-packages, others may write: refused (77)"
rmdir "$sp/rel"
printf '%s/sticky/none\n' "$T" > "$sp/__editable__.dev-0.1.pth"
send vb
like "$got" "^77:.*its python's venv: $sp/__editable__.dev-0.1.pth: $T/sticky/none: no such directory, and $T/sticky is a directory others may make names in" \
    "a .pth line naming a missing directory others could make: refused (77)"
rm "$sp/__editable__.dev-0.1.pth"
for f in sitecustomize usercustomize; do
	printf 'x = 1\n' > "$sp/$f.py"
	chmod 666 "$sp/$f.py"
	send vb
	like "$got" "^77:.*its python's venv: $sp/$f.py: world-writable" \
	    "$f.py in site-packages others may write: refused (77)"
	rm "$sp/$f.py"
done
send vb
is "$got" "$ok" "all back to the operator's: runs"

# N4: python looks for lib/pythonX.Y/os.py (and lib-dynload) from its
# home up to /, taking the first found: a python installed without its
# library would take one from a sticky /tmp/lib.
mkdir -m 755 "$T/base" "$T/base/bin" "$T/base/lib"
printf 'home = %s/base/bin\n' "$T" > "$T/vb/bin/pyvenv.cfg"
send vb
like "$got" "^77:.*its python's venv $T/vb/bin/pyvenv.cfg: home = $T/base/bin, .*: python searches $top for its standard library \\(lib/python\\*/os.py\\), a directory others may make names in" \
    "a venv whose home has no standard library, the search meeting a sticky directory: refused (77)"
mkdir -m 755 "$T/base/lib/python3.99" "$T/base/lib/python3.99/lib-dynload"
: > "$T/base/lib/python3.99/os.py"
send vb
is "$got" "$ok" "the same with the operator's lib/python3.99/os.py and lib-dynload: runs"
rm -r "$T/base/lib/python3.99/lib-dynload"
send vb
like "$got" "^77:.*python searches $top for its standard library \\(lib/python\\*/lib-dynload\\)" \
    "the same without lib-dynload: refused (77)"
printf 'home = /usr/bin\n' > "$T/vb/bin/pyvenv.cfg"
rm -r "$T/base/lib/python3.99"
cp /usr/bin/python3 "$T/base/bin/python3"
printf '#!%s\nimport sys\nsys.stdin.read()\n' "$T/base/bin/python3" > "$T/bin/np"
chmod 755 "$T/bin/np"
echo "np=$T/bin/np" >> "$CORP_DATA_DIR/exec.conf"
send np
like "$got" "^77:.*$T/base/bin/python3: python searches $top for its standard library \\(lib/python\\*/os.py\\), a directory others may make names in" \
    "a python named directly, installed without its library: refused (77)"
done_testing
