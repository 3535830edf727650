#!/usr/bin/env python3
"""mansyn.py -- a man page's SYNOPSIS as the shape of a tool's --cli-spec.

The man page is the contract (STYLE.md); cmd/clitab.c generates the usage
from the tool's option table and prints that table with --cli-spec.  This
reads the mdoc SYNOPSIS of man/corp-X.1 into the same shape and compares:
per verb and form, the option names, whether each takes a value, whether
it is required, which options form a group ("[a | b]", "(a | b | both)")
and which stand for an operand ("NAME (LOGIN | --none)").  Operand names
and option metavars are not compared (the pages write some in lower
case).  The common options (--db, --data-dir, --now, --version, --help,
-q/--quiet, -v/--verbose)
are left out on both sides.

  mansyn.py parse MAN              the SYNOPSIS as JSON
  mansyn.py compare MAN SPEC       differences, one a line; exit 1 if any
  mansyn.py typo-verb SPEC         "TYPO VERB": a misspelling of a verb
                                   whose only near verb is VERB
  mansyn.py typo-opt SPEC          "VERB TYPO OPT": the same for an option
  mansyn.py foreign-opt SPEC       "VERB OPT": an option of the tool that
                                   VERB does not take (nothing if none)

SPEC is a file holding the tool's --cli-spec output.  The typo choices
use the distance of lib/suggest.c (optimal string alignment, no case,
at most 2) so the test knows which suggestion to expect.
"""
import json
import re
import sys

COMMON = {"db", "data-dir", "now", "version", "help", "quiet", "verbose"}


def synopsis_lines(text):
    m = re.search(r"^\.Sh SYNOPSIS\n(.*?)^\.Sh ", text, re.S | re.M)
    if not m:
        return []
    out = []
    for line in m.group(1).split("\n"):
        if line.startswith(".Pp"):
            break
        out.append(line.replace("\\-", "-").replace("\\&", ""))
    return out


def alternatives(tokens):
    alts, cur = [], []
    for t in tokens:
        if t == "|":
            alts.append(cur)
            cur = []
        else:
            cur.append(t)
    alts.append(cur)
    return alts


def option_of(alt):
    """(name, has_arg) of an alternative, or None."""
    for i, t in enumerate(alt):
        if (t == "Fl" and i + 1 < len(alt)) or (i == 0 and t.startswith("-")):
            word = alt[i + 1] if t == "Fl" else t
            if not word.startswith("-"):
                continue
            name = word.lstrip("-")
            rest = [x for x in alt[i + 2 if t == "Fl" else i + 1:]
                    if x not in ("Ns", "Ql")]
            return name, len(rest) > 0
    return None


def parse(text):
    """{"verbs": [{"name", "form", "options": [...]}]} from the page."""
    verbs, forms, cur, group = [], {}, None, 0
    for line in synopsis_lines(text):
        if line.startswith(".Nm"):
            cur = None
            continue
        if not line.startswith("."):
            continue
        toks = line[1:].split()
        if not toks:
            continue
        if cur is None:
            names = [""]
            if toks[0] == "Cm":
                names = [n.strip() for n in " ".join(toks[1:]).split("|")]
            cur = []
            for n in names:
                f = forms.get(n, 0)
                forms[n] = f + 1
                v = {"name": n, "form": f, "options": []}
                verbs.append(v)
                cur.append(v)
            if toks[0] == "Cm":
                continue
        kind = toks[0]
        if kind in ("Sm", "Li", "Oo", "Oc"):
            continue
        body = toks[1:]
        operand = kind == "Ar" or (kind == "Pq" and body[:1] == ["Ar"])
        required = kind in ("Fl", "Pq") and not operand
        if kind == "Fl":
            body = toks
        alts = alternatives(body)
        opts = [o for o in (option_of(a) for a in alts) if o]
        opts = [o for o in opts if o[0] not in COMMON]
        anyof = any(a == ["both"] for a in alts)
        g = 0
        if len(opts) > 1 and not operand:
            group += 1
            g = group
        for name, has_arg in opts:
            for v in cur:
                v["options"].append({
                    "name": name, "arg": has_arg,
                    "required": required, "group": g, "any": anyof and g > 0,
                    "operand": operand})
    return {"verbs": verbs}


def shape(verbs):
    """verb -> [form -> {name: (arg, required, group members, operand)}]"""
    out = {}
    for v in verbs:
        opts = v["options"]
        groups = {}
        for o in opts:
            if o["group"]:
                groups.setdefault(o["group"], set()).add(o["name"])
        f = {}
        for o in opts:
            if o["name"] in COMMON:
                continue
            f[o["name"]] = (bool(o["arg"]), bool(o["required"]),
                            tuple(sorted(groups[o["group"]]))
                            if o["group"] else (), bool(o["any"]),
                            bool(o["operand"]))
        out.setdefault(v["name"], []).append(f)
    return out


def compare(man, spec):
    a, b = shape(parse(man)["verbs"]), shape(spec["verbs"])
    tool = spec.get("tool", "?")
    diffs = []
    for verb in sorted(set(a) | set(b)):
        if verb not in a:
            diffs.append(f"{tool} {verb}: in the tool, not in the man page")
            continue
        if verb not in b:
            diffs.append(f"{tool} {verb}: in the man page, not in the tool")
            continue
        if len(a[verb]) != len(b[verb]):
            diffs.append(f"{tool} {verb}: {len(a[verb])} forms in the man "
                         f"page, {len(b[verb])} in the tool")
            continue
        for i, (fm, ft) in enumerate(zip(a[verb], b[verb])):
            where = f"{tool} {verb}" + (f" (form {i + 1})"
                                        if len(a[verb]) > 1 else "")
            for o in sorted(set(fm) | set(ft)):
                if o not in ft:
                    diffs.append(f"{where}: --{o} only in the man page")
                elif o not in fm:
                    diffs.append(f"{where}: --{o} only in the tool")
                elif fm[o] != ft[o]:
                    what = ("takes a value", "required", "group", "both",
                            "stands for an operand")
                    for k, w in enumerate(what):
                        if fm[o][k] != ft[o][k]:
                            diffs.append(f"{where}: --{o} {w}: man page "
                                         f"{fm[o][k]!r}, tool {ft[o][k]!r}")
    return diffs


def distance(a, b, cap=2):
    """lib/suggest.c's corp_edit_distance."""
    a, b = a.lower(), b.lower()
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            v = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and \
                    a[i - 2] == b[j - 1]:
                v = min(v, d[i - 2][j - 2] + 1)
            d[i][j] = v
    return min(d[len(a)][len(b)], cap + 1)


def suggest(word, cands):
    """lib/suggest.c's corp_suggest: the one nearest within 2, else None."""
    best, bestd, ties = None, 3, 0
    for c in cands:
        dd = distance(word, c)
        if dd < bestd:
            best, bestd, ties = c, dd, 0
        elif dd == bestd and best is not None and best != c:
            ties += 1
    return best if bestd <= 2 and ties == 0 else None


def typos(word):
    """Misspellings of word, the likeliest first."""
    out = []
    for i in range(len(word) - 1, 0, -1):
        if word[i] != word[i - 1]:
            out.append(word[:i - 1] + word[i] + word[i - 1] + word[i + 1:])
    out.append(word[:-1])
    return [t for t in out if t and t != word]


def pick_typo(word, cands, taken):
    """A typo of word nearest to it alone, which is no word in taken nor
    the start of one (getopt_long takes a unique abbreviation)."""
    for t in typos(word):
        if any(c.startswith(t) for c in taken):
            continue
        if suggest(t, cands) == word:
            return t
    return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "parse":
        print(json.dumps(parse(open(sys.argv[2]).read()), indent=1))
        return 0
    if cmd == "compare":
        spec = json.load(open(sys.argv[3]))
        diffs = compare(open(sys.argv[2]).read(), spec)
        for d in diffs:
            print(d)
        return 1 if diffs else 0
    spec = json.load(open(sys.argv[2]))
    names = []
    for v in spec["verbs"]:
        if v["name"] not in names:
            names.append(v["name"])
    top = sorted({n.split(" ")[0] for n in names if n}, key=len,
                 reverse=True)
    if cmd == "typo-verb":
        for v in top:
            t = pick_typo(v, top, top)
            if t:
                print(t, v)
                return 0
        return 1
    opts = {}
    for v in spec["verbs"]:
        opts.setdefault(v["name"], []).extend(
            o["name"] for o in v["options"])
    alls = sorted({o for os_ in opts.values() for o in os_})
    if cmd == "typo-opt":
        for v in names:
            cands = opts[v] + ["help"]
            for o in sorted(opts[v], key=len, reverse=True):
                t = pick_typo(o, cands, alls + ["help"])
                if t:
                    print(v, "--" + t, "--" + o)
                    return 0
        return 1
    if cmd == "foreign-opt":
        for v in names:
            for o in alls:
                if o not in opts[v]:
                    print(v, "--" + o)
                    return 0
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
