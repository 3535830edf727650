#!/bin/sh
# figures.sh -- the figures of issue 17's architecture pass, for the
# before/after of every work package (run in a built tree: make all).
#
#	tests/tools/figures.sh [TREE]
#
# Lines per cmd file; transactions begun in cmd/; cmd files with their
# own JSON-lines loop or their own option parser; tools on an option
# table and whether their man SYNOPSIS agrees (tests/tools/mansyn.py);
# the modules that name each table in SQL (tests/tools/tablescan.py);
# libcurl and the fault VFS in the shipped binaries; and, where the
# duplicates command is on PATH, its pair counts for cmd/ and lib/.
set -u
tree=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
cd "$tree" || exit 1
bin=${CORP_BUILD:-build}/bin

echo "# lines per cmd file"
wc -l cmd/*.c cmd/*.h | sort -rn
echo "lib: $(ls lib/*.c | wc -l) .c files, $(cat lib/*.c | wc -l) lines"

echo
echo "# transactions in cmd/ (corp_db_begin/commit/rollback calls)"
n=$(cat cmd/*.c | grep -c 'corp_db_\(begin\|commit\|rollback\)')
echo "$n calls in $(grep -l 'corp_db_\(begin\|commit\|rollback\)' cmd/*.c |
    wc -l) files: $(grep -c 'corp_db_\(begin\|commit\|rollback\)' cmd/*.c |
    grep -v ':0$' | sed 's|cmd/||; s|\.c:|:|' | tr '\n' ' ')"

echo
echo "# own loops and parsers in cmd/"
echo "corp_jsonl_next loops: $(grep -l corp_jsonl_next cmd/*.c |
    sed 's|cmd/||; s|\.c||' | tr '\n' ' ')"
echo "getopt_long parsers: $(grep -l getopt_long cmd/corp-*.c |
    sed 's|cmd/||; s|\.c||' | tr '\n' ' ')"

echo
echo "# option tables and man SYNOPSIS"
tab=0 agree=0 old=""
for b in "$bin"/corp-*; do
	t=${b##*/}
	if "$b" --cli-spec >/tmp/figures.$$ 2>/dev/null &&
	    grep -q '"tool"' /tmp/figures.$$; then
		tab=$((tab + 1))
		if python3 "$here/mansyn.py" compare "man/$t.1" /tmp/figures.$$ \
		    >/dev/null; then
			agree=$((agree + 1))
		else
			echo "differs: $t"
		fi
	else
		old="$old $t"
	fi
done
rm -f /tmp/figures.$$
echo "$tab tools on an option table, $agree agree with their man page"
echo "without a table:$old"

echo
echo "# modules that name each table in SQL"
python3 "$here/tablescan.py" .

echo
echo "# linkage"
echo "libcurl: $(for b in "$bin"/corp-*; do readelf -d "$b" 2>/dev/null |
    grep -q 'libcurl' && printf '%s ' "${b##*/}"; done)"
echo "fault VFS in: $(for b in "$bin"/corp-*; do nm "$b" 2>/dev/null |
    grep -q 'corp_faultvfs' && echo x; done | wc -l) of $(ls "$bin"/corp-* |
    wc -l) binaries"

if command -v duplicates >/dev/null 2>&1; then
	echo
	echo "# duplicates"
	for d in cmd lib; do
		duplicates --repo "$d" --most 200 --seconds 120 \
		    >/tmp/figures.$$ 2>&1
		printf '%s: %s\n' "$d" "$(head -1 /tmp/figures.$$)"
		printf '%s: %s listed, %s not boilerplate\n' "$d" \
		    "$(grep -c '^D[0-9]' /tmp/figures.$$)" \
		    "$(grep '^D[0-9]' /tmp/figures.$$ | grep -vc boilerplate)"
	done
	rm -f /tmp/figures.$$
fi
