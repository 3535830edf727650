#!/bin/sh
# corp-send exec: an ELF program's loader (PT_INTERP) and library paths
# (RPATH, RUNPATH) are judged as a #! interpreter and env's PATH are
# (corp.7 SECURITY; fresh-eyes round 18a: an operator's binary naming a
# loader or a library directory another user could fill ran their code
# as the operator, acked sent).  The programs are built here with cc,
# the build's own compiler, their paths set by the linker.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

if ! command -v cc >/dev/null 2>&1; then
	skip "no cc to build the programs"
	done_testing
	exit 0
fi
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR" "$T/bin" "$T/lib"
printf 'int main(void) { return 0; }\n' >"$T/t.c"
real=$(readlink -f "$(cc -print-file-name=ld-linux-x86-64.so.2 2>/dev/null)")
[ -f "$real" ] || real=$(readlink -f /lib64/ld-linux-x86-64.so.2)
# prog NAME LDFLAGS...: build $T/bin/NAME and name it in exec.conf.
prog() {
	_p=$1
	shift
	cc -o "$T/bin/$_p" "$T/t.c" "$@" || bail "cc failed for $_p"
	echo "$_p=$T/bin/$_p" >>"$CORP_DATA_DIR/exec.conf"
	chmod 600 "$CORP_DATA_DIR/exec.conf"
}
# send NAME: one line to NAME; $rc and acks' [result, id, error, attempted].
send() {
	dline 1 "$1" "" exec >"$T/in"
	run_in "$T/in" corp-send exec
	got="$rc:$(acks | jq -c '.[1:5]')"
}

prog plain
send plain
is "$got" '0:["sent",null,null,true]' "a program with the system's loader: runs"

prog noloader "-Wl,--dynamic-linker=$T/nope/ld.so"
send noloader
is "$got" "77:[\"retry\",null,\"exec command $T/bin/noloader: $T/bin/noloader: its loader (PT_INTERP) $T/nope/ld.so: no such file: whoever can make it first chooses what runs\",false]" \
    "a loader that is not there: refused (77), naming it"

mkdir -m 777 "$T/pub"
chmod 777 "$T/pub"
cp "$real" "$T/pub/ld.so"
prog publoader "-Wl,--dynamic-linker=$T/pub/ld.so"
send publoader
like "$got" "^77:\\[\"retry\",null,\"exec command $T/bin/publoader: $T/bin/publoader: its loader \\(PT_INTERP\\) $T/pub/ld.so: .*$T/pub: world-writable" \
    "a loader in a directory others may write: refused (77)"

mkdir -m 1777 "$T/sticky"
chmod 1777 "$T/sticky"
prog runpath "-Wl,--enable-new-dtags,-rpath,$T/sticky"
send runpath
is "$got" "77:[\"retry\",null,\"exec command $T/bin/runpath: $T/bin/runpath: its RUNPATH holds $T/sticky, a directory others may make names in: one could put a library there; rebuild the program without it\",false]" \
    "a RUNPATH entry others may fill (sticky): refused (77)"

prog rpath "-Wl,--disable-new-dtags,-rpath,$T/lib:$T/nolib"
send rpath
is "$got" "77:[\"retry\",null,\"exec command $T/bin/rpath: $T/bin/rpath: its RPATH holds $T/nolib, which does not exist: whoever can make it first chooses the libraries it loads; make it, or rebuild the program without\",false]" \
    "an RPATH entry that is not there: refused (77), naming it"

prog relpath '-Wl,-rpath,lib'
send relpath
is "$got" "77:[\"retry\",null,\"exec command $T/bin/relpath: $T/bin/relpath: its RUNPATH holds 'lib', not an absolute directory: the loader would look for libraries where nobody judged (the working directory, a token corp does not expand); rebuild it without\",false]" \
    "a relative RUNPATH entry: refused (77)"

prog origin '-Wl,-rpath,$ORIGIN/../lib'
send origin
is "$got" '0:["sent",null,null,true]' \
    "\$ORIGIN/../lib, the operator's: runs"

prog platform '-Wl,-rpath,$ORIGIN/$PLATFORM'
send platform
like "$got" "^77:.*its RUNPATH holds '\\\$ORIGIN/\\\$PLATFORM', not an absolute directory" \
    "a \$PLATFORM token: refused (77)"

# The libraries it loads from outside the system's directories, in turn
# (fresh-eyes round 18b: a needed path with a '/', an audit library, a
# library whose own RUNPATH names a directory others may fill).
printf 'int x(void) { return 0; }\n' >"$T/x.c"
printf 'int x(void); int main(void) { return x(); }\n' >"$T/tx.c"
# lib DIR NAME LDFLAGS...: a shared library DIR/libNAME.so, no SONAME.
lib() {
	_d=$1 _l=$2
	shift 2
	cc -shared -fPIC -o "$_d/lib$_l.so" "$T/x.c" "$@" ||
	    bail "cc failed for lib$_l"
}
# progx NAME LDFLAGS...: a program calling x() from the libraries given.
progx() {
	_p=$1
	shift
	cc -o "$T/bin/$_p" "$T/tx.c" "$@" || bail "cc failed for $_p"
	echo "$_p=$T/bin/$_p" >>"$CORP_DATA_DIR/exec.conf"
}
lib "$T/pub" pub
lib "$T/lib" ok
progx bypath "$T/pub/libpub.so"
send bypath
like "$got" "^77:\\[\"retry\",null,\"exec command $T/bin/bypath: $T/bin/bypath: its library $T/pub/libpub.so: .*$T/pub: world-writable" \
    "a needed library by path in a directory others may write: refused (77)"
progx byokpath "$T/lib/libok.so"
send byokpath
is "$got" '0:["sent",null,null,true]' "a needed library by path in the operator's directory: runs"
progx audit "-Wl,--audit=$T/lib/libok.so" "$T/lib/libok.so"
send audit
like "$got" "^77:.*an audit library \\(DT_AUDIT\\) $T/lib/libok.so: the loader runs its code in the program" \
    "an audit library: refused (77)"
lib "$T/sticky" evil
cc -shared -fPIC -o "$T/lib/libtrans.so" "$T/x.c" -L"$T/sticky" -levil \
    -Wl,--no-as-needed,--enable-new-dtags,-rpath,"$T/sticky" ||
    bail "cc failed for libtrans"
progx trans -L"$T/lib" -ltrans "-Wl,--enable-new-dtags,-rpath,$T/lib"
send trans
is "$got" "77:[\"retry\",null,\"exec command $T/bin/trans: $T/bin/trans: its library: $T/lib/libtrans.so: its RUNPATH holds $T/sticky, a directory others may make names in: one could put a library there; rebuild the program without it\",false]" \
    "a library found in its RUNPATH whose own RUNPATH others may fill: refused (77)"
progx clean -L"$T/lib" -lok "-Wl,--enable-new-dtags,-rpath,$T/lib"
send clean
is "$got" '0:["sent",null,null,true]' "a library from the operator's RUNPATH: runs"
# glibc looks in glibc-hwcaps subdirectories of each library directory
# first: a library there is judged too (here one others may write).
mkdir -p "$T/lib/glibc-hwcaps/x86-64-v2"
cp "$T/lib/libok.so" "$T/lib/glibc-hwcaps/x86-64-v2/libok.so"
chmod 666 "$T/lib/glibc-hwcaps/x86-64-v2/libok.so"
send clean
like "$got" "^77:.*its library $T/lib/glibc-hwcaps/x86-64-v2/libok.so: .*world-writable" \
    "a library others may write in a glibc-hwcaps subdirectory: refused (77)"
rm -rf "$T/lib/glibc-hwcaps"
# The loader searches these subdirectories of each library directory
# first, for needed and dlopen()ed names alike: each that exists is
# judged as the directory is (fresh-eyes round 19a).
for d in tls x86_64 glibc-hwcaps/x86-64-v3; do
	mkdir -p "$T/lib/$d"
	chmod 777 "$T/lib/$d"
	send clean
	like "$got" "^77:.*its RUNPATH's $T/lib: $T/lib/$d.*world-writable" \
	    "an empty $d under a RUNPATH directory, others may write it: refused (77)"
	rm -rf "$T/lib/tls" "$T/lib/x86_64" "$T/lib/glibc-hwcaps"
done
# A library's $ORIGIN is where the loader found it, links not resolved:
# a needed library named by a link's path, the library elsewhere with
# RUNPATH $ORIGIN, searches beside the link (fresh-eyes round 19b).
mkdir -m 755 "$T/o2" "$T/lp"
lib "$T/o2" bar
cc -shared -fPIC -o "$T/o2/libfoo.so" "$T/x.c" -L"$T/o2" -lbar \
    -Wl,--no-as-needed,--enable-new-dtags,-rpath,'$ORIGIN' ||
    bail "cc failed for libfoo"
ln -s "$T/o2/libfoo.so" "$T/lp/libfoo.so"
progx origlink "$T/lp/libfoo.so"
send origlink
is "$got" '0:["sent",null,null,true]' "a library through a link, \$ORIGIN beside the link: runs"
mkdir -p "$T/lp/glibc-hwcaps/x86-64-v2"
chmod 777 "$T/lp/glibc-hwcaps/x86-64-v2"
send origlink
like "$got" "^77:.*its library: $T/lp/libfoo.so: its RUNPATH's $T/lp: $T/lp/glibc-hwcaps/x86-64-v2.*world-writable" \
    "its \$ORIGIN judged beside the link, where the loader looks: refused (77)"
rm -rf "$T/lp/glibc-hwcaps"
mkdir -m 755 "$T/lib/tls"
send clean
is "$got" '0:["sent",null,null,true]' "the operator's own tls subdirectory: runs"
rmdir "$T/lib/tls"

# A filtee (DT_FILTER, DT_AUXILIARY) is loaded with its filter, its
# constructors run: named and found as a needed library is, and judged
# the same way; a missing auxiliary one (the loader goes on without it)
# must be a name nobody else may make (sec-review-21a F2: another user
# made /tmp/x/libaux.so later and it ran as root).
mkdir -m 755 "$T/fl"
lib "$T/fl" auxpub "-Wl,-f,$T/pub/libaux.so"
progx auxpub -L"$T/fl" -lauxpub "-Wl,--enable-new-dtags,-rpath,$T/fl"
send auxpub
like "$got" "^77:\\[\"retry\",null,\"exec command $T/bin/auxpub: $T/bin/auxpub: its library: $T/fl/libauxpub.so: its auxiliary filtee $T/pub/libaux.so: .*$T/pub: world-writable" \
    "a missing auxiliary filtee in a directory others may write: refused (77)"
lib "$T/fl" auxstk "-Wl,-f,$T/sticky/none/libaux.so"
progx auxstk -L"$T/fl" -lauxstk "-Wl,--enable-new-dtags,-rpath,$T/fl"
send auxstk
is "$got" "77:[\"retry\",null,\"exec command $T/bin/auxstk: $T/bin/auxstk: its library: $T/fl/libauxstk.so: its auxiliary filtee $T/sticky/none/libaux.so: no such file, and $T/sticky is a directory others may make names in: whoever makes it first chooses what the loader loads; rebuild it without\",false]" \
    "a missing auxiliary filtee others could make (under a sticky directory): refused (77)"
lib "$T/fl" auxok "-Wl,-f,$T/fl/none/libaux.so"
progx auxok -L"$T/fl" -lauxok "-Wl,--enable-new-dtags,-rpath,$T/fl"
send auxok
is "$got" '0:["sent",null,null,true]' \
    "a missing auxiliary filtee only the operator could make: runs"
cp "$T/fl/libauxok.so" "$T/pub/libaux.so"
send auxpub
like "$got" "^77:.*its library: $T/fl/libauxpub.so: its auxiliary filtee $T/pub/libaux.so: .*$T/pub: world-writable" \
    "an auxiliary filtee there, in a directory others may write: refused (77)"
lib "$T/fl" filt "-Wl,-F,libfiltee.so" "-Wl,--enable-new-dtags,-rpath,$T/fl"
lib "$T/fl" filtee
progx filt -L"$T/fl" -lfilt "-Wl,--enable-new-dtags,-rpath,$T/fl"
send filt
is "$got" '0:["sent",null,null,true]' "a filter whose filtee is the operator's: runs"
chmod 666 "$T/fl/libfiltee.so"
send filt
like "$got" "^77:.*its library: $T/fl/libfilt.so: its filtee \\(DT_FILTER\\) $T/fl/libfiltee.so: .*world-writable" \
    "a filtee (DT_FILTER) found on its RUNPATH, others may write it: refused (77)"
chmod 644 "$T/fl/libfiltee.so"
# A needed or filtee name holding a '$': the loader expands $ORIGIN,
# $PLATFORM, $LIB and ${...} there; corp judges $ORIGIN expanded and
# refuses the rest (sec-review-22a N3: $R/aux/$PLATFORM/libaux.so was
# judged literally, missing and the operator's to make, while the
# loader loaded aux/x86_64/libaux.so, another user's).
lib "$T/fl" auxplat "-Wl,-f,$T/fl/\$PLATFORM/libaux.so"
progx auxplat -L"$T/fl" -lauxplat "-Wl,--enable-new-dtags,-rpath,$T/fl"
send auxplat
is "$got" "77:[\"retry\",null,\"exec command $T/bin/auxplat: $T/bin/auxplat: its library: $T/fl/libauxplat.so: its auxiliary filtee $T/fl/\$PLATFORM/libaux.so: a \$ token other than \$ORIGIN, which the loader expands from what the machine says; rebuild it without\",false]" \
    "an auxiliary filtee named with \$PLATFORM: refused (77)"
cc -shared -fPIC -o "$T/fl/libnorig.so" "$T/x.c" \
    '-Wl,-soname,$ORIGIN/../fl/libnorig.so' || bail "cc failed for libnorig"
progx norig "$T/fl/libnorig.so"
send norig
is "$got" '0:["sent",null,null,true]' \
    "a library needed as \$ORIGIN/../fl/libnorig.so, the operator's: runs"
chmod 666 "$T/fl/libnorig.so"
send norig
like "$got" "^77:.*: its library $T/bin/../fl/libnorig.so: .*world-writable" \
    "the same, others may write it: refused (77), judged where the loader finds it"
chmod 644 "$T/fl/libnorig.so"

# A python venv: python runs the .pth files of its site-packages at
# start (-I or not), so they are judged as the command's directories are
# (fresh-eyes round 20a).
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$T/venv/bin" "$T/venv/lib/python3.99/site-packages"
	ln -s /usr/bin/python3 "$T/venv/bin/python3"
	printf 'home = /usr/bin\n' > "$T/venv/pyvenv.cfg"
	printf '#!%s\nimport sys\nsys.stdin.read()\n' "$T/venv/bin/python3" \
	    > "$T/bin/invenv"
	chmod 755 "$T/bin/invenv"
	echo "invenv=$T/bin/invenv" >>"$CORP_DATA_DIR/exec.conf"
	send invenv
	is "$got" '0:["sent",null,null,true]' "a script of a venv's python: runs"
	chmod 777 "$T/venv/lib/python3.99/site-packages"
	send invenv
	like "$got" "^77:.*its python's venv.*$T/venv/lib/python3.99/site-packages: world-writable" \
	    "a venv whose site-packages others may write: refused (77)"
	chmod 755 "$T/venv/lib/python3.99/site-packages"
	chmod 666 "$T/venv/pyvenv.cfg"
	send invenv
	like "$got" "^77:.*its python's venv.*pyvenv.cfg: world-writable" \
	    "a venv whose pyvenv.cfg others may write: refused (77)"
	chmod 644 "$T/venv/pyvenv.cfg"
	# Each .pth file there, and what its import lines import from
	# that site-packages, one level (sec-review-21a F1: a .pth another
	# user owned or could write, or a module a root .pth imported, ran
	# their code as root).
	sp="$T/venv/lib/python3.99/site-packages"
	printf 'import _hook; from _pkg import x\n%s\n' \
	    "import os; __import__('_dh').go()" > "$sp/hook.pth"
	printf 'x = 1\n' > "$sp/_hook.py"
	mkdir -m 755 "$sp/_pkg" "$sp/_dh" "$sp/_dh/__pycache__" "$sp/other"
	printf 'x = 1\n' > "$sp/_pkg/__init__.py"
	printf 'def go(): pass\n' > "$sp/_dh/__init__.py"
	: > "$sp/_dh/__pycache__/__init__.cpython-399.pyc"
	: > "$sp/other/free.py"
	chmod 666 "$sp/other/free.py"
	send invenv
	is "$got" '0:["sent",null,null,true]' \
	    "a venv's .pth importing the operator's modules: runs (other packages are the operator's to keep)"
	chmod 666 "$sp/hook.pth"
	send invenv
	like "$got" "^77:.*its python's venv: $sp/hook.pth: world-writable" \
	    "a .pth others may write: refused (77)"
	chmod 644 "$sp/hook.pth"
	for f in _hook.py _pkg/__init__.py _dh/__pycache__/__init__.cpython-399.pyc; do
		chmod 666 "$sp/$f"
		send invenv
		like "$got" "^77:.*its python's venv: $sp/$f: world-writable" \
		    "$f, which a .pth imports, others may write: refused (77)"
		chmod 644 "$sp/$f"
	done
	if [ "$(id -u)" = 0 ]; then
		chown 65534 "$sp/hook.pth"
		send invenv
		like "$got" "^77:.*its python's venv: $sp/hook.pth: owned by .*\\(uid 65534\\), not by root" \
		    "a .pth another user owns: refused (77)"
		chown 0 "$sp/hook.pth"
	else
		skip "not root: no file of another user to make"
	fi
	# The home pyvenv.cfg names is where python takes its standard
	# library from (sec-review-21a F3).
	mkdir -p "$T/pyhome/bin" "$T/pyhome/lib/python3.99/lib-dynload"
	: > "$T/pyhome/lib/python3.99/os.py"
	printf 'home = %s/pyhome/bin\n' "$T" > "$T/venv/pyvenv.cfg"
	send invenv
	is "$got" '0:["sent",null,null,true]' \
	    "a venv whose home is the operator's: runs"
	for d in bin lib lib/python3.99; do
		chmod 777 "$T/pyhome/$d"
		send invenv
		like "$got" "^77:.*its python's venv $T/venv/pyvenv.cfg: home = $T/pyhome/bin, where python takes its standard library from, must be a directory only root and the operator may change: .*$T/pyhome/$d: world-writable" \
		    "a venv whose home's $d others may write: refused (77)"
		chmod 755 "$T/pyhome/$d"
	done
	printf 'home = %s/nohome/bin\n' "$T" > "$T/venv/pyvenv.cfg"
	send invenv
	like "$got" "^77:.*home = $T/nohome/bin, where python .*: $T/nohome/bin: no such directory" \
	    "a venv whose home is missing: refused (77)"
	printf 'home = /usr/bin\n' > "$T/venv/pyvenv.cfg"
else
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		skip "no /usr/bin/python3"
	done
fi

# corp-bind judges the same at bind time.
corp-db init >/dev/null 2>&1
corp-user add ann >/dev/null
is_rc 77 "corp-bind add refuses the program with a missing loader" \
    corp-bind add --user ann --channel exec --address noloader
done_testing
