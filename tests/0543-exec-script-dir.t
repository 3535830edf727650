#!/bin/sh
# corp-send exec: what already sits in the directory of a script python
# or node runs is judged, since they load modules from it by name
# (python's sys.path[0], __pycache__, node's node_modules): every entry
# root's or the operator's and writable by neither group nor others, a
# subdirectory's entries too, one level, at most 4096 (corp.7 SECURITY;
# sec-review-21a F6: another user's helper.py beside a root script ran
# as root).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

if [ ! -x /usr/bin/python3 ]; then
	skip "no /usr/bin/python3"
	# (node, which refuses a script under /tmp, where the tests are, is
# judged by the same code.)
done_testing
