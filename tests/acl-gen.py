#!/usr/bin/python3
"""Random directories and tasks for tests/0150-acl-property.t and
tests/0230-route-noleak.t, built through corp's own commands.

usage: acl-gen.py SEED CASES OUTDIR NOW_EPOCH

For case i writes OUTDIR/i/setup.sh, a script for sh -e run with CORP_DB
and CORP_NOW set, that builds the case as an operator would: corp-user
import, corp-org add/set-head/delegate/revoke, corp-task create/assign/
submit/approve/cancel; OUTDIR/i/notes.jsonl (for corp-event emit: one
"note" per task that is no draft, addressed to every user as a watcher);
and OUTDIR/i/sample (logins to check list --as with).  The same SEED
gives the same files.

Org trees have depth >= 4; some users are inactive or admins; delegation
windows start and end around NOW (also exactly at it), some revoked;
tasks in every state, assigned to a user and a unit or to a unit only,
some reassigned.  While the case is built every user is active and the
admin heads the root unit (a supervisor of every task, who approves and
cancels); the last steps give the root its own head, and every user
their unit and active flag.  A task without an initiator cannot occur:
corp-task create makes its actor the initiator, and no command clears it.
"""
import json
import os
import random
import sys
import time

seed, cases, out, now = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4])
rng = random.Random(seed)
STATES = ["DRAFT", "OPEN", "WAITING_APPROVAL", "DONE", "CANCELLED"]
OFFS = [-172800, -3600, -1, 0, 1, 3600]
LENS = [1, 3600, 172800]


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def jsonl(lines):
    return "".join(json.dumps(o, separators=(",", ":")) + "\n"
                   for o in lines)


for c in range(cases):
    d = os.path.join(out, str(c))
    os.makedirs(d)
    nunits = rng.randint(5, 10)
    nusers = rng.randint(6, 14)
    # The admin of corp-db init ("admin") is user 1; imported users follow.
    logins = ["p%d" % i for i in range(nusers)]
    active = {lg: rng.random() < 0.8 for lg in logins}
    sh = ["exec >/dev/null",
          "corp-user import <<'EOF'",
          jsonl({"login": lg, "name": "N " + lg,
                 "is_admin": rng.random() < 0.1} for lg in logins) + "EOF"]
    head = {}
    for u in range(1, nunits + 1):
        if u == 1:
            parent = None
        elif u <= 5:
            parent = u - 1               # a chain: depth >= 4
        else:
            parent = rng.randint(1, u - 1)
        head[u] = rng.choice(logins) if rng.random() < 0.6 else None
        cmd = "corp-org add u%d --title U%d" % (u, u)
        if parent is not None:
            cmd += " --parent u%d" % parent
        h = "admin" if u == 1 else head[u]
        if h is not None:
            cmd += " --head " + h
        sh.append(cmd)
    unit = {lg: rng.randint(1, nunits) if rng.random() < 0.85 else None
            for lg in logins}
    sh += ["corp-user import <<'EOF'",
           jsonl({"login": lg, "unit": "u%d" % unit[lg]}
                 for lg in logins if unit[lg] is not None) + "EOF"]
    ndeleg = 0
    for _ in range(rng.randint(0, 8)):
        p, q = rng.sample(logins + ["admin"], 2)
        start = now + rng.choice(OFFS)
        until = start + rng.choice(LENS)
        sh.append("corp-org delegate --principal %s --deputy %s "
                  "--from %s --until %s"
                  % (p, q, rfc3339(start), rfc3339(until)))
        ndeleg += 1
        if rng.random() < 0.15:
            sh.append("corp-org revoke %d" % ndeleg)
    # Who is in a unit while the case is built (a submitter may be moved
    # into a unit without members; the last import moves them back).
    member = dict(unit)
    notes = []
    for t in range(1, rng.randint(4, 12) + 1):
        state = rng.choice(STATES)
        init = rng.choice(logins + ["admin"])
        auser = rng.choice(logins) if rng.random() < 0.5 else None
        aunit = rng.randint(1, nunits)
        who = " --unit u%d" % aunit
        if auser is not None:
            who += " --assignee " + auser
        if state != "DRAFT" and rng.random() < 0.3:
            # Reassigned: created for another user or unit first.
            first = " --unit u%d" % rng.randint(1, nunits)
            if rng.random() < 0.5:
                first += " --assignee " + rng.choice(logins)
            sh.append("corp-task create --as %s --title t%d%s"
                      % (init, t, first))
            sh.append("corp-task assign %d --as admin%s" % (t, who))
        else:
            sh.append("corp-task create --as %s --title t%d%s%s"
                      % (init, t, who, " --draft" if state == "DRAFT"
                         else ""))
        if state in ("WAITING_APPROVAL", "DONE") or \
                (state == "CANCELLED" and rng.random() < 0.5):
            ex = auser
            if ex is None:
                ms = sorted(lg for lg in logins if member[lg] == aunit)
                if ms:
                    ex = rng.choice(ms)
                else:
                    ex = rng.choice(logins)
                    member[ex] = aunit
                    sh.append("corp-user set %s --unit u%d" % (ex, aunit))
            sh.append("corp-task submit %d --as %s --text r%d" % (t, ex, t))
        if state == "DONE":
            sh.append("corp-task approve %d --as admin" % t)
        elif state == "CANCELLED":
            sh.append("corp-task cancel %d --as admin" % t)
        if state != "DRAFT":
            notes.append({"idempotency_key": "t%d" % t, "source": "t",
                          "event_type": "note", "task_id": t,
                          "recipients": [{"user": lg, "role": "watcher"}
                                         for lg in ["admin"] + logins]})
    sh.append("corp-org set-head u1 " + (head[1] or "--none"))
    sh += ["corp-user import <<'EOF'",
           jsonl({"login": lg, "active": active[lg],
                  "unit": None if unit[lg] is None else "u%d" % unit[lg]}
                 for lg in logins) + "EOF"]
    with open(os.path.join(d, "setup.sh"), "w") as f:
        f.write("\n".join(sh) + "\n")
    with open(os.path.join(d, "notes.jsonl"), "w") as f:
        f.write(jsonl(notes))
    with open(os.path.join(d, "sample"), "w") as f:
        f.write(" ".join(rng.sample(logins, 3) + ["admin"]) + "\n")
