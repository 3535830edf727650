#!/usr/bin/env python3
"""owners.py -- hold lib/ to lib/OWNERS (issue 17 point 6).

  owners.py [TREE]

Runs tablescan.py on TREE for the modules that write (INSERT INTO,
UPDATE, DELETE FROM) or look up (FROM) each table; a JOIN alone is a
display read and always allowed.  Prints one line per finding:

  ok TABLE MODULE			the owner
  allow TABLE MODULE			a declared set query
  pending TABLE MODULE WPn		a known violation, still a failure: the
					architecture pass is done, none may
					come back
  violation TABLE MODULE		none of those
  stale TABLE MODULE			an allow/pending line no longer needed
  unowned TABLE				a table of lib/sql without an owner line

and exits 1 when there is a violation, a pending or stale line or an
unowned table.
"""
import glob
import os
import re
import subprocess
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
tables = []
for f in sorted(glob.glob(os.path.join(root, "lib/sql/*.sql"))):
    for t in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)",
                        open(f).read(), re.I):
        if t not in tables:
            tables.append(t)
owner, allow, pending = {}, set(), {}
for line in open(os.path.join(root, "lib/OWNERS")):
    w = line.split()
    if not w or w[0].startswith("#"):
        continue
    if w[0] == "table":
        owner[w[1]] = set(w[2].split(","))
    elif w[0] == "allow":
        allow.add((w[1], w[2]))
    elif w[0] == "pending":
        pending[(w[1], w[2])] = w[3]
    else:
        sys.exit("lib/OWNERS: bad line: " + line.rstrip())

# Who writes or looks up each table: tablescan.py's writers and FROM
# readers (a JOIN alone is a display read).
scan = subprocess.run([sys.executable, os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "tablescan.py"), root], check=True,
    capture_output=True, text=True).stdout
found = set()
for row in scan.splitlines()[1:]:
    cells = [c.strip() for c in row.strip("|").split("|")]
    for mod in (cells[1] + " " + cells[2]).split():
        if mod not in ("-", "check"):
            found.add((cells[0], mod))
bad = 0
for tb in tables:
    if tb not in owner:
        print("unowned", tb)
        bad = 1
for tb, mod in sorted(found):
    if mod in owner.get(tb, ()):
        print("ok", tb, mod)
    elif (tb, mod) in allow:
        print("allow", tb, mod)
    elif (tb, mod) in pending:
        print("pending", tb, mod, pending[(tb, mod)])
        bad = 1
    else:
        print("violation", tb, mod)
        bad = 1
for k in sorted(allow | set(pending)):
    if k not in found:
        print("stale", *k)
        bad = 1
sys.exit(bad)
