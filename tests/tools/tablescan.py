#!/usr/bin/env python3
"""tablescan.py -- which modules name each table in SQL (issue 17 point 6).

  tablescan.py [TREE]

Reads the C string literals of TREE/lib/*.[ch] and TREE/cmd/*.[ch]
(adjacent literals joined, as the compiler does), keeps those that are
SQL, and sorts each module that names a table into writers (INSERT INTO,
UPDATE, DELETE FROM), readers (FROM) and JOIN-only.  The tables are the
CREATE TABLEs of lib/sql/ (and lib/sql/pg/).  check.c and check_list.h read
everything by design: they count as "check", outside the module count.
One Markdown row per table: | table | writers | readers | JOIN-only |
modules |.
"""
import collections
import glob
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
tables = []
for f in sorted(glob.glob(os.path.join(root, "lib/sql/*.sql")) +
               glob.glob(os.path.join(root, "lib/sql/*/*.sql"))):
    for t in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)",
                        open(f).read(), re.I):
        if t not in tables:
            tables.append(t)
TOK = re.compile(r'"((?:[^"\\\n]|\\.)*)"|/\*.*?\*/|//[^\n]*|'
                 r"'(?:[^'\\\n]|\\.)*'", re.S)
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WITH)\b")


def literals(src):
    toks = [(m.start(), m.end(), m.group(1)) for m in TOK.finditer(src)
            if m.group(0).startswith('"')]
    i = 0
    while i < len(toks):
        s, e, t = toks[i]
        j = i + 1
        while j < len(toks) and re.fullmatch(r"\s*([A-Z_][A-Z0-9_]*\s*)*",
                                             src[e:toks[j][0]]):
            t += toks[j][2]
            e = toks[j][1]
            j += 1
        yield t
        i = j


W, F, J = (collections.defaultdict(set) for _ in range(3))
files = glob.glob(os.path.join(root, "lib/*.[ch]")) + \
    glob.glob(os.path.join(root, "cmd/*.[ch]"))
for f in sorted(files):
    mod = os.path.basename(f)
    mod = "check" if mod in ("check.c", "check_list.h") else \
        re.sub(r"\.[ch]$", "", mod)
    for t in literals(open(f).read()):
        if not SQL.search(t):
            continue
        for tb in tables:
            if re.search(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+" + tb +
                         r"\b", t):
                W[tb].add(mod)
            t2 = re.sub(r"DELETE\s+FROM\s+" + tb + r"\b", "", t)
            if re.search(r"\bFROM\s+" + tb + r"\b", t2):
                F[tb].add(mod)
            elif re.search(r"\bJOIN\s+" + tb + r"\b", t2):
                J[tb].add(mod)


def names(s):
    return " ".join(sorted(s)) or "-"


print("| table | writers | readers (FROM) | JOIN-only | modules |")
for tb in tables:
    mods = W[tb] | F[tb] | J[tb]
    if not mods:
        continue
    n = len(mods - {"check"})
    print("| %s | %s | %s | %s | %d%s |" % (
        tb, names(W[tb]), names(F[tb] - W[tb]), names(J[tb] - W[tb] - F[tb]),
        n, " (+check)" if "check" in mods else ""))
