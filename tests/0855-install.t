#!/bin/sh
# make install with a PREFIX other than the build's (issue 15.12): the
# installed programs find the catalogs installed beside them
# (BINDIR/../share/corp, through /proc/self/exe), also once the whole
# tree is moved; CORP_SHARE_DIR still overrides; a program with no share
# dir beside it falls back to the one fixed at build time.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
unset CORP_SHARE_DIR

# The build is the suite's own (make check built it with the default
# PREFIX); install copies it, nothing is compiled here.
run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$CORP_SRC" install PREFIX=/usr DESTDIR="$T/root" \
    B="${CORP_BUILD:-$CORP_SRC/build}" SANITIZE="${CORP_SANITIZE:-}"
is "$rc" 0 "make install PREFIX=/usr DESTDIR=... exits 0"
for f in bin/corp-fmt bin/corp-db share/corp/i18n/en.txt share/man/man7/corp.7 \
    share/corp/www/review.html share/corp/www/ops.js share/corp/openapi.json; do
	if [ -e "$T/root/usr/$f" ]; then
		pass "installed $f"
	else
		fail "installed $f" "$(cd "$T/root" && find . | head -20)"
	fi
done

# Move the installed tree and mark its English catalog, so the text
# shows which catalog rendered it.
mv "$T/root/usr" "$T/moved"
sed -i 's/You have a new task:/INSTALLED new task:/' "$T/moved/share/corp/i18n/en.txt"
dline 1 x "" file | jq -c 'del(.text) | .event.title = "Q1" |
    .event.links = {task: "https://corp.example/tasks/5"}' >"$T/in"
run_in "$T/in" "$T/moved/bin/corp-fmt"
is "$rc:$(printf '%s' "$out" | jq -r .text | head -1)" \
    "0:📋 INSTALLED new task: <b>Q1</b>" \
    "the moved installed corp-fmt renders from its own share dir"
run_in "$T/in" env CORP_SHARE_DIR="$CORP_SRC/share" "$T/moved/bin/corp-fmt"
is "$rc:$(printf '%s' "$out" | jq -r .text | head -1)" \
    "0:📋 You have a new task: <b>Q1</b>" "CORP_SHARE_DIR overrides it"

# A program with no share/corp beside it: the build's PREFIX/share/corp
# (not the moved tree's).
mkdir -p "$T/lone/bin"
cp "$T/moved/bin/corp-fmt" "$T/lone/bin/"
run_in "$T/in" "$T/lone/bin/corp-fmt"
unlike "$out" "INSTALLED" "without a share dir beside it, not the other tree's"
if [ "$rc" != 0 ]; then
	like "$err" "no message catalog in /.*/share/corp/i18n nor $CORP_DATA_DIR/i18n" \
	    "it looked in the build's share dir"
else
	pass "the build's share dir exists on this machine and rendered"
fi

done_testing
