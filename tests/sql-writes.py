#!/usr/bin/env python3
# tests/sql-writes.py FILE...: the SQL writes of the suite's files that
# no comment owns; tests/0002-sql-writes.t runs it over tests/.
#
# The suite builds its state through corp's own commands, as an operator
# would (HACKING, TESTS).  SQL that writes is for tests that corrupt or
# fault data on purpose, and each such write sits under a comment
#
#     # SQL write on purpose: WHY
#
# (WHY not empty) whose zone runs to the next empty line or the next
# marker, or to a line "# SQL write end" when one comes before the next
# marker (a block with empty lines in it).  SQL text that is data for corp and never runs as
# SQL (an injection attempt in a title) is marked the same way with
#
#     # not SQL: WHY
#
# A write is a line, not a comment, with INSERT INTO, REPLACE INTO,
# UPDATE name SET, DELETE FROM, ALTER TABLE, TRUNCATE or setval( in it:
# whatever calls it (sql, sql_at, sqlite3, psql, a generator's output),
# for a write in a variable or a here-document is a write all the same.
#
# Prints FILE:LINE: TEXT for each write outside a zone and for a marker
# without a reason; exits 1 if there was any, 0 otherwise.
import re
import sys

WRITE = re.compile(r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO"
                   r"|UPDATE\s+\w+\s+(INDEXED\s+BY\s+\w+\s+)?SET"
                   r"|DELETE\s+FROM|ALTER\s+TABLE|(?<!\()TRUNCATE\s+\w)"
                   r"|\bsetval\s*\(", re.IGNORECASE)
MARK = re.compile(r"^\s*#\s*(SQL write on purpose|not SQL):(.*)$")
END = re.compile(r"^\s*#\s*SQL write end\s*$")


def check(path):
    bad = []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    covered = [False] * len(lines)
    marks = [i for i, l in enumerate(lines) if MARK.match(l)]
    for k, m in enumerate(marks):
        why = MARK.match(lines[m]).group(2).strip()
        if not why:
            bad.append((m, "a marker without a reason: " + lines[m].strip()))
            continue
        nxt = marks[k + 1] if k + 1 < len(marks) else len(lines)
        end = next((j for j in range(m + 1, nxt) if END.match(lines[j])),
                   None)
        if end is None:
            end = next((j for j in range(m + 1, nxt)
                        if lines[j].strip() == ""), nxt)
        for j in range(m, end):
            covered[j] = True
    for i, l in enumerate(lines):
        if covered[i] or l.lstrip().startswith("#") or l.lstrip().startswith("--"):
            continue
        if WRITE.search(l):
            bad.append((i, l.strip()))
    return [(path, i + 1, t) for i, t in sorted(bad)]


def main(argv):
    found = []
    for p in argv[1:]:
        found += check(p)
    for p, n, t in found:
        print("%s:%d: %s" % (p, n, t))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
