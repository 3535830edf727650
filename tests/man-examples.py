#!/usr/bin/python3
"""The EXAMPLES of corp's man pages as shell scripts (tests/0980).

    man-examples.py [--subst FILE] [--until FILE] --out DIR PAGE...
    man-examples.py --list PAGE...

Reads the .Sh EXAMPLES section of each mdoc PAGE and takes every literal
display in it (.Bd -literal ... .Ed) as one example:

  - a display with lines that start with "$ " is a terminal session: each
    "$ " line (with the lines it continues onto) is a command, and the
    lines after it, up to the next command, are its expected standard
    output, compared exactly;
  - any other display is a list of commands, no output shown;
  - a command continues onto the next line when its line ends with "\\",
    "|", "&&" or "||" (as the shell reads it);
  - a crontab(5) line (five time fields, then the command) runs its
    command, with "\\%" read as cron does ("%"); it must print nothing,
    since cron mails any output;
  - mdoc escapes: "\\e" is a backslash, "\\&" nothing, "\\-" a minus; any
    other escape is an error, so that nothing is guessed.

Comments on the lines just before .Bd (mdoc's .\\\" comments) mark a
display:

    .\\" example: not run: REASON      never run (e.g. a systemd unit, the
                                      real Telegram): the test says REASON
    .\\" example: needs PostgreSQL     run only under make check-pg
    .\\" example: needs SQLite         run only with SQLite
    .\\" example: exit N               each command exits N, not 0

--subst FILE: lines PAGE<TAB>FROM<TAB>TO (PAGE "*" for every page),
applied in order to the text of each example, commands and output, before
anything else: the fixture's values for the page's (ports, paths).
--until FILE: lines PAGE<TAB>PREFIX<TAB>CONDITION<TAB>STATUS: a command of
PAGE that starts with PREFIX runs until a signal; it is started in the
background and, once the shell CONDITION holds (a bounded poll; $OUT is
its standard output), stopped with SIGTERM; it must then exit STATUS
(143: killed by the signal).

--out DIR gets, per example K (1, 2, ...): K.info ("PAGE LINE KIND",
KIND run, skip, pg or sqlite, then for skip the reason), K.sh (the
session: run it as "sh K.sh RESULTS" in the page's directory, with the
page's environment) and per command N: K.N.cmd (its text), K.N.want (the
expected output, when the page shows one), K.N.exit (the expected exit
status; for a command that runs until a signal "signal", for a crontab
line "cron").  K.sh writes K.N.out, K.N.err and K.N.rc into RESULTS.
--list prints each example's commands, for people.
"""
import os
import re
import sys

CRON = re.compile(r"^((?:[0-9*/,-]+|[a-z]{3})\s+){5}")
MARK = re.compile(r'^\.\\"\s*example:\s*(.*)$')


def unescape(line, where):
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = line[i + 1:i + 2]
        if e == "e":
            out.append("\\")
        elif e == "&":
            pass
        elif e == "-":
            out.append("-")
        else:
            sys.exit(f"{where}: mdoc escape \\{e} in an example: "
                     "teach tests/man-examples.py what it means")
        i += 2
    return "".join(out)


def blocks(path):
    """Yield (line number, marks, lines) per literal display of EXAMPLES."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        src = f.read().splitlines()
    inex = False
    marks = []
    i = 0
    while i < len(src):
        line = src[i]
        if line.startswith(".Sh "):
            inex = line.strip() == ".Sh EXAMPLES"
            marks = []
        elif inex and MARK.match(line):
            marks.append(MARK.match(line).group(1).strip())
        elif inex and line.startswith(".Bd") and "-literal" in line.split():
            start = i + 1
            body = []
            i += 1
            while i < len(src) and not src[i].startswith(".Ed"):
                if src[i].startswith(".") and not src[i].startswith('.\\"'):
                    sys.exit(f"{name}:{i + 1}: a macro inside an example")
                if not src[i].startswith('.\\"'):
                    body.append(unescape(src[i], f"{name}:{i + 1}"))
                i += 1
            yield start, marks, body
            marks = []
        elif inex and not line.startswith('.\\"'):
            marks = []
        i += 1


def continues(text):
    t = text.rstrip()
    return t.endswith("\\") or t.endswith("|") or t.endswith("&&") \
        or t.endswith("||")


def commands(body):
    """[(command, expected output or None)] of one display."""
    session = any(l.startswith("$ ") for l in body)
    cmds = []
    cur = None
    for l in body:
        if cur is not None and continues(cur[0]):
            cur[0] += "\n" + l
            continue
        if session:
            if l.startswith("$ "):
                cur = [l[2:], None]
                cmds.append(cur)
            elif cur is None:
                sys.exit("output before the first command: " + l)
            elif l.strip() or cur[1] is not None:
                cur[1] = l if cur[1] is None else cur[1] + "\n" + l
        elif l.strip():
            cur = [l.lstrip(), None]
            cmds.append(cur)
    return cmds


def read_table(path, n):
    rows = []
    if path is None:
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != n:
                sys.exit(f"{path}: {n} tab-separated fields expected: {line}")
            rows.append(parts)
    return rows


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    args = sys.argv[1:]
    subst = until = out = None
    listing = False
    while args and args[0].startswith("--"):
        o = args.pop(0)
        if o == "--subst":
            subst = args.pop(0)
        elif o == "--until":
            until = args.pop(0)
        elif o == "--out":
            out = args.pop(0)
        elif o == "--list":
            listing = True
        else:
            sys.exit("usage: man-examples.py [--subst F] [--until F] "
                     "(--out DIR | --list) PAGE...")
    if not args or (out is None) == (not listing):
        sys.exit("usage: man-examples.py [--subst F] [--until F] "
                 "(--out DIR | --list) PAGE...")
    subst = read_table(subst, 3)
    until = read_table(until, 4)
    k = 0
    for path in args:
        page = os.path.basename(path)
        for line, marks, body in blocks(path):
            k += 1
            text = "\n".join(body)
            for p, a, b in subst:
                if p in ("*", page):
                    text = text.replace(a, b)
            kind, reason, want_exit = "run", "", "0"
            for m in marks:
                if m.startswith("not run:"):
                    kind, reason = "skip", m[len("not run:"):].strip()
                elif m == "needs PostgreSQL":
                    kind = "pg"
                elif m == "needs SQLite":
                    kind = "sqlite"
                elif re.fullmatch(r"exit \d+", m):
                    want_exit = m.split()[1]
                else:
                    sys.exit(f"{page}:{line}: unknown mark: example: {m}")
            if listing:
                print(f"== {page}:{line} {kind} {reason}".rstrip())
                if kind != "skip":
                    for c, w in commands(text.split("\n")):
                        print("$ " + c)
                        if w is not None:
                            print(w)
                continue
            with open(os.path.join(out, f"{k}.info"), "w") as f:
                f.write(f"{page} {line} {kind} {reason}".rstrip() + "\n")
            if kind == "skip":
                continue
            sh = ['R=$1']
            for n, (c, w) in enumerate(commands(text.split("\n")), 1):
                base = os.path.join(out, f"{k}.{n}")
                exit_ = want_exit
                m = CRON.match(c)
                if m:
                    c = c[m.end():].replace("\\%", "%")
                    exit_ = "cron"
                cond = None
                for p, prefix, cnd, st in until:
                    if p == page and c.startswith(prefix):
                        cond, exit_ = cnd, "signal " + st
                with open(base + ".cmd", "w") as f:
                    f.write(c + "\n")
                if w is not None:
                    with open(base + ".want", "w") as f:
                        f.write(w + "\n")
                with open(base + ".exit", "w") as f:
                    f.write(exit_ + "\n")
                o = f'"$R/{k}.{n}'
                if cond is None:
                    sh.append(f"{{\n{c}\n}} >{o}.out\" 2>{o}.err\" "
                              f"</dev/null\necho $? >{o}.rc\"")
                else:
                    # Started, polled for at most 20 s, stopped.
                    sh.append(
                        f"( exec {c} ) >{o}.out\" 2>{o}.err\" "
                        f"</dev/null &\npid=$!\nOUT={o}.out\"\ni=0\n"
                        f"until {cond}; do\n"
                        "\tkill -0 $pid 2>/dev/null || break\n"
                        "\ti=$((i + 1)); [ $i -le 400 ] || break\n"
                        "\tsleep 0.05\ndone\n"
                        f"if kill -0 $pid 2>/dev/null && {cond}; then\n"
                        f"\techo up >{o}.up\"\nfi\n"
                        f"kill -TERM $pid 2>/dev/null\nwait $pid\n"
                        f"echo $? >{o}.rc\"")
            with open(os.path.join(out, f"{k}.sh"), "w") as f:
                f.write("\n".join(sh) + "\n")


main()
