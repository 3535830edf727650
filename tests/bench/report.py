#!/usr/bin/python3
"""report.py RESULTS.tsv MACHINE.json OUT.json [README] -- the figures.

Reads the tab-separated lines that lib.sh's record and skipped write:

    figure, value, unit, baseline, baseline_value, target, settings

(settings: "k=v k=v"; label=... is the row's short description, "_" for
a space), and the machine that probe.py measured.  Computes ratio =
value / baseline_value and whether each aim is met, writes OUT.json:

    {"machine": {...probe.py...},
     "figures": [{figure, label, value, unit, baseline, baseline_value,
                  ratio, target, met, settings}, ...]}

prints the table, and with README rewrites README's PERFORMANCE block
between the marker lines BEGIN and END below, so that the README's
figures are always those of the last run.  A target is ">=N" or "<=N"
on the ratio, or ">=N UNIT" / "<=N UNIT" on the value itself (an
absolute aim such as "<=16 MiB").  Standard library only.
"""
import json
import os
import re
import sys

BEGIN = ("-- begin: written by make bench (tests/bench/report.py, "
         "from tests/bench/results.json) --")
END = "-- end: written by make bench --"


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def settings(s):
    if s.startswith("skipped: "):
        return {"skipped": s[len("skipped: "):]}
    out = {}
    for kv in s.split():
        k, _, v = kv.partition("=")
        out[k] = v
    return out


def parse_target(t):
    """(op, n, unit or None) of a target, or None."""
    if t in ("-", ""):
        return None
    m = re.match(r"^(>=|<=)\s*([0-9.]+)\s*(.*)$", t)
    if not m:
        return None
    return m.group(1), float(m.group(2)), (m.group(3) or None)


def meets(r):
    t = parse_target(r["target"] or "")
    if t is None:
        return None
    op, n, unit = t
    x = r["value"] if unit else r["ratio"]
    if x is None:
        return None
    return x >= n if op == ">=" else x <= n


def fmt_num(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.3g" % x


def fmt_ratio(x):
    if x is None:
        return "-"
    return ("%.3f" % x if x < 1 else "%.3g" % x) + "x"


def fmt_target(t):
    p = parse_target(t or "")
    if p is None:
        return "-"
    op, n, unit = p
    return "%s %g%s" % (op, n, unit or "x")


def load(src):
    rows = []
    with open(src) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 7:
                continue
            fig, val, unit, base, bval, target, sett = p
            v, b = num(val), num(bval)
            s = settings(sett)
            r = {"figure": fig,
                 "label": s.pop("label", "").replace("_", " "),
                 "value": v, "unit": None if unit == "-" else unit,
                 "baseline": None if base == "-" else base,
                 "baseline_value": b,
                 "ratio": round(v / b, 4) if v is not None and b else None,
                 "target": None if target == "-" else target,
                 "settings": s}
            r["met"] = meets(r)
            rows.append(r)
    # By figure number (the scripts run f1, f10, f2, ... in glob order).
    key = lambda r: int(re.match(r"\d*", r["figure"]).group() or 0)
    return sorted(rows, key=key)


def table(rows):
    hdr = ("figure", "settings", "corp", "baseline", "ratio", "aim", "met")
    out = []
    for r in rows:
        s = r["settings"]
        if "skipped" in s:
            out.append((r["figure"], "skipped: " + s["skipped"],
                        "", "", "", "", ""))
            continue
        out.append((r["figure"], r["label"],
                    "%s %s" % (fmt_num(r["value"]), r["unit"] or ""),
                    "%s %s" % (r["baseline"] or "-",
                               fmt_num(r["baseline_value"])
                               if r["baseline_value"] is not None else ""),
                    fmt_ratio(r["ratio"]),
                    fmt_target(r["target"]),
                    {True: "yes", False: "NO", None: ""}[r["met"]]))
    w = [max(len(str(t[i])) for t in out + [hdr]) for i in range(len(hdr))]
    fmt = "  ".join("%%-%ds" % n for n in w)
    lines = [fmt % hdr, fmt % tuple("-" * n for n in w)]
    lines += [(fmt % t).rstrip() for t in out]
    return lines


def us(c):
    if not c:
        return "-"
    return "%s us (p90 %s, %d runs)" % (fmt_num(c["median"]),
                                        fmt_num(c["p90"]), c["n"])


def machine_lines(m):
    """The machine as paragraphs (one string each, unwrapped)."""
    la = lambda k: " ".join("%.2f" % x for x in m.get(k) or []) or "-"
    paras = [
        "make bench (BENCH=%s) on %s, %s s: %s CPUs (nproc), %s, Linux %s, "
        "SQLite %s, %s, %s MiB of memory."
        % (m.get("bench"), m.get("date"), m.get("elapsed_s", "?"),
           m.get("nproc"), m.get("cpu"), m.get("kernel"), m.get("sqlite"),
           m.get("postgresql") or "no PostgreSQL", m.get("mem_total_mib")),
        "Load average (1, 5, 15 min): %s at the start, %s at the end.  "
        "4 KiB write + fdatasync in the temp dir: %s at the start, %s at "
        "the end.  One SQLite WAL commit (synchronous=FULL): %s at the "
        "start, %s at the end."
        % (la("load_start"), la("load_end"), us(m.get("fsync_us_start")),
           us(m.get("fsync_us_end")), us(m.get("commit_us_start")),
           us(m.get("commit_us_end"))),
    ]
    notes = []
    if m.get("note"):
        notes.append(m["note"])
    loads = (m.get("load_start") or [0])[:1] + (m.get("load_end") or [0])[:1]
    if m.get("nproc") and max(loads) > m["nproc"]:
        notes.append("the load average exceeded the CPU count: other jobs "
                     "shared the machine, so every wall-clock figure is "
                     "low and the fsync-bound ones (the drains, their "
                     "baselines) move with the disk's load; instruction "
                     "counts (callgrind) do not")
    for n in notes:
        paras.append("Note: " + n + ".")
    return paras


def verdicts(rows):
    """Met / partly met / missed / skipped, per figure."""
    figs, order = {}, []
    for r in rows:
        f = r["figure"]
        if f not in figs:
            figs[f] = [0, 0, False]
            order.append(f)
        if "skipped" in r["settings"]:
            figs[f][2] = True
        elif r["met"] is not None:
            figs[f][0] += 1
            figs[f][1] += bool(r["met"])
    met, part, missed, skipped = [], [], [], []
    for f in order:
        n, ok, skip = figs[f]
        if n == 0:
            if skip:
                skipped.append(f)
        elif ok == n:
            met.append(f)
        elif ok == 0:
            missed.append(f if n == 1 else "%s (%d aims)" % (f, n))
        else:
            part.append("%s (%d of %d aims)" % (f, ok, n))
    out = []
    for word, xs in (("Met", met), ("Partly met", part), ("Missed", missed),
                     ("Skipped or without an aim", skipped)):
        if xs:
            out.append("%s: %s." % (word, "; ".join(xs)))
    return out


def wrap(text, width=76, indent=""):
    out, line = [], ""
    for w in text.split():
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = indent + w
        else:
            line = (line + " " + w) if line else w
    if line:
        out.append(line)
    return out


def readme(path, m, rows):
    with open(path) as f:
        text = f.read()
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        sys.exit("report.py: %s has no %r ... %r block" % (path, BEGIN, END))
    block = [BEGIN]
    for para in machine_lines(m):
        block += wrap(para)
    block.append("")
    block += ["  " + line for line in table(rows)]
    block.append("")
    for v in verdicts(rows):
        block += wrap(v, indent="  ")
    block.append(END)
    new = text[:a] + "\n".join(block) + text[b + len(END):]
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.rename(path + ".tmp", path)


def main():
    src, mach, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = load(src)
    with open(mach) as f:
        m = json.load(f)
    m.pop("started_ns", None)
    with open(dst, "w") as f:
        json.dump({"machine": m, "figures": rows}, f, indent=1,
                  ensure_ascii=False)
        f.write("\n")
    for para in machine_lines(m):
        print("\n".join(wrap(para)))
    print()
    for line in table(rows):
        print(line)
    print()
    for v in verdicts(rows):
        print(v)
    if len(sys.argv) > 4:
        readme(sys.argv[4], m, rows)


if __name__ == "__main__":
    main()
