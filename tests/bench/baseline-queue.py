#!/usr/bin/python3
"""baseline-queue.py -- the one-row-per-transaction queue of goqite and
plainjob, re-implemented on corp's own deliveries table.

    baseline-queue.py DB SYNC MAX [WORKER]

Claims and acks up to MAX rows of the telegram channel, one at a time,
with the algorithm those libraries use:

  claim (goqite Receive, plainjob getAndMarkJobAsProcessing): one write
    transaction per message holding one UPDATE ... WHERE id = (SELECT id
    ... ORDER BY ... LIMIT 1) RETURNING ..., then COMMIT;
  ack (goqite Delete, plainjob markJobAsDone): one UPDATE of that row in
    its own transaction (autocommit), i.e. one commit per ack.

The claim selects exactly what corp's claim selects (ready, due,
unleased PENDING rows in (event_id, user_id) order) and sets the same
lease columns; the ack sets the same columns as corp's "sent".  Neither
writes delivery_attempts nor builds a delivery line: the baseline does
less per row than corp does.  PRAGMAs are corp's: WAL, synchronous as
given, busy_timeout 30 s, foreign_keys on.  Prints the number of rows it
acked.  Python's sqlite3 module links the same system libsqlite3 as corp.
"""
import os
import sqlite3
import sys

NOW = 1767607200  # 2026-01-05T10:00:00Z, the bench's CORP_NOW

CLAIM = """
UPDATE deliveries SET lease_token = ?1, lease_until = ?2, worker = ?3,
    updated_at = ?4
WHERE id = (SELECT id FROM deliveries
    WHERE channel = 'telegram' AND status = 'PENDING'
    AND readiness = 'ready' AND not_before <= ?4
    AND (lease_token IS NULL OR lease_until < ?4)
    ORDER BY event_id, user_id LIMIT 1)
RETURNING id, event_id, user_id, channel, role, template, attempts
"""

ACK = """
UPDATE deliveries SET status = 'SENT', sent_at = ?2,
    provider_message_id = ?3, error = NULL, attempts = attempts + 1,
    lease_token = NULL, lease_until = NULL, updated_at = ?2
WHERE id = ?1 AND lease_token = ?4
"""


def main():
    db, sync, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    worker = sys.argv[4] if len(sys.argv) > 4 else "py:%d" % os.getpid()
    con = sqlite3.connect(db, isolation_level=None, timeout=30.0)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=%s" % ("FULL" if sync == "full"
                                            else "NORMAL"))
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA busy_timeout=30000")
    done = 0
    while done < limit:
        token = os.urandom(18).hex()
        con.execute("BEGIN IMMEDIATE")
        row = con.execute(CLAIM, (token, NOW + 120, worker, NOW)).fetchone()
        con.execute("COMMIT")
        if row is None:
            break
        # The no-op sender: nothing to do.
        cur = con.execute(ACK, (row[0], NOW, "p%d" % row[0], token))
        if cur.rowcount != 1:
            sys.exit("baseline: ack of %d changed %d rows"
                     % (row[0], cur.rowcount))
        done += 1
    con.close()
    print(done)


if __name__ == "__main__":
    main()
