#!/usr/bin/python3
"""Random directories and tasks for tests/0150-acl-property.t.

usage: acl-gen.py SEED CASES OUTDIR NOW_EPOCH

For case i writes OUTDIR/i/users.jsonl (for corp-user import),
OUTDIR/i/setup.sql (units, memberships, heads, delegations, tasks; one
sqlite3 script) and OUTDIR/i/sample (logins to check list --as with).
Org trees have depth >= 4; some users are inactive or admins;
delegation windows start and end around NOW (also exactly at it).
"""
import json
import os
import random
import sys

seed, cases, out, now = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4])
rng = random.Random(seed)
STATES = ["DRAFT", "OPEN", "WAITING_APPROVAL", "DONE", "CANCELLED"]
OFFS = [-172800, -3600, -1, 0, 1, 3600]
LENS = [1, 3600, 172800]

for c in range(cases):
    d = os.path.join(out, str(c))
    os.makedirs(d)
    nunits = rng.randint(5, 10)
    nusers = rng.randint(6, 14)
    # The admin of corp-db init is user 1; imported users follow.
    logins = ["p%d" % i for i in range(nusers)]
    with open(os.path.join(d, "users.jsonl"), "w") as f:
        for lg in logins:
            f.write(json.dumps({"login": lg, "name": "N " + lg,
                                "active": rng.random() < 0.8,
                                "is_admin": rng.random() < 0.1}) + "\n")
    uids = list(range(2, nusers + 2))
    sql = ["BEGIN;"]
    for u in range(1, nunits + 1):
        if u == 1:
            parent = "NULL"
        elif u <= 5:
            parent = str(u - 1)          # a chain: depth >= 4
        else:
            parent = str(rng.randint(1, u - 1))
        head = str(rng.choice(uids)) if rng.random() < 0.6 else "NULL"
        sql.append("INSERT INTO org_units (id, name, title, parent_id, "
                   "head_user_id, created_at, updated_at) VALUES "
                   "(%d, 'u%d', 'U%d', %s, %s, 0, 0);"
                   % (u, u, u, parent, head))
    for uid in uids:
        if rng.random() < 0.85:
            sql.append("UPDATE users SET org_unit_id = %d WHERE id = %d;"
                       % (rng.randint(1, nunits), uid))
    for _ in range(rng.randint(0, 8)):
        p, q = rng.sample(uids + [1], 2)
        start = now + rng.choice(OFFS)
        until = start + rng.choice(LENS)
        revoked = str(now - 10) if rng.random() < 0.15 else "NULL"
        sql.append("INSERT INTO delegations (principal_id, deputy_id, "
                   "valid_from, valid_until, revoked_at, created_at) "
                   "VALUES (%d, %d, %d, %d, %s, 0);"
                   % (p, q, start, until, revoked))
    for t in range(1, rng.randint(4, 12) + 1):
        init = str(rng.choice(uids + [1])) if rng.random() < 0.9 else "NULL"
        auser = str(rng.choice(uids)) if rng.random() < 0.5 else "NULL"
        sql.append("INSERT INTO tasks (id, title, state, initiator_user_id, "
                   "assignee_user_id, assignee_org_unit_id, created_at, "
                   "updated_at) VALUES (%d, 't%d', '%s', %s, %s, %d, 0, 0);"
                   % (t, t, rng.choice(STATES), init, auser,
                      rng.randint(1, nunits)))
    sql.append("COMMIT;")
    with open(os.path.join(d, "setup.sql"), "w") as f:
        f.write("\n".join(sql) + "\n")
    with open(os.path.join(d, "sample"), "w") as f:
        f.write(" ".join(rng.sample(logins, 3) + ["admin"]) + "\n")
