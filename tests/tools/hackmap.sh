#!/bin/sh
# hackmap.sh -- HACKING's map of modules against the tree (issue 17:
# "HACKING's map of modules matches the tree"; tests/0996-owners.t).
#
#	tests/tools/hackmap.sh [TREE]
#
# Every lib/*.[ch] and cmd/*.[ch] must be named in HACKING, by its name
# (queue.c, cmd/corp-send.c) or as NAME.[ch] for a pair: "unnamed FILE".
# Every lib/ or cmd/ path HACKING names, and every module an entry
# starts with ("  NAME.[ch]  what it owns"), must be in the tree:
# "gone NAME" (an upper-case name, corp-X.c, is a placeholder).  Exit 1
# when there is either.
tree=${1:-.}
cd "$tree" || exit 2
[ -f HACKING ] || { echo "no HACKING in $tree" >&2; exit 2; }
bad=0
for f in lib/*.c lib/*.h cmd/*.c cmd/*.h; do
	[ -e "$f" ] || continue
	b=${f##*/} s=${b%.*}
	# A name, not part of a longer one (corp-deliver.c is not
	# deliver.c; queue.h is not queue.hh).
	grep -qE "(^|[^A-Za-z0-9_.-])($b|$s\\.\\[ch\\])([^A-Za-z0-9_]|\$)" \
	    HACKING || { echo "unnamed $f"; bad=1; }
done
{
	grep -oE '(^|[^A-Za-z0-9_./-])(lib|cmd)/[a-z0-9_-]+\.(c|h|\[ch\])' \
	    HACKING | sed 's/^[^lc]*//'
	grep -E '^  [a-z_0-9]+\.(c|h|\[ch\])' HACKING |
	    sed -E 's/^  ([a-z_0-9]+\.(c|h|\[ch\])).*/lib\/\1/'
} | sort -u | while read -r p; do
	case $p in
	*.\[ch\]) [ -e "${p%.\[ch\]}.c" ] && [ -e "${p%.\[ch\]}.h" ] ;;
	*) [ -e "$p" ] ;;
	esac || echo "gone $p"
done | grep . && bad=1
exit $bad
