#!/bin/sh
# The release build's hardening, read back from the binaries with
# readelf (a checksec without checksec): PIE, full RELRO (BIND_NOW),
# a non-executable stack, the stack protector and FORTIFY in use.
# Sanitizer builds go without FORTIFY (it hides what ASan would see);
# their linking is the sanitizers', so only that is checked there.
. "${CORP_SRC:-.}/tests/lib.sh"
bin="${CORP_BUILD:-$CORP_SRC/build}/bin"
if ! command -v readelf >/dev/null; then
	skip "readelf is not installed"
	done_testing
fi
for p in "$bin"/corp-*; do
	n=${p##*/}
	h=$(readelf -hW "$p")
	d=$(readelf -dW "$p")
	l=$(readelf -lW "$p")
	s=$(readelf --dyn-syms -W "$p")
	unlike "$(printf '%s\n' "$l" | grep GNU_STACK)" 'RWE' "$n: non-executable stack"
	if [ "${CORP_SANITIZE:-}" = 1 ]; then
		like "$s" '__asan_' "$n: an ASan build"
		unlike "$s" '__[a-z]+_chk@' "$n: no FORTIFY under the sanitizers"
	else
		like "$h" 'Type: +DYN' "$n: PIE (ELF type DYN)"
		like "$d" '\(FLAGS_1\).*PIE' "$n: PIE flag"
		like "$l" 'GNU_RELRO' "$n: RELRO segment"
		like "$d" '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' \
		    "$n: BIND_NOW (full RELRO)"
		like "$s" '__stack_chk_fail' "$n: stack protector"
		like "$s" '__[a-z]+_chk@' "$n: FORTIFY in use"
	fi
done
done_testing
