#!/usr/bin/python3
"""report.py RESULTS.tsv OUT.json MACHINE -- results.json and the table.

Reads the tab-separated lines that lib.sh's record and skipped write:
figure, value, unit, baseline, baseline_value, target, settings
("k=v k=v"), computes ratio = value / baseline_value, writes a JSON list
of {figure, value, unit, baseline, baseline_value, ratio, target,
settings} and prints the table.  Standard library only.
"""
import json
import sys


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


def meets(ratio, target):
    if ratio is None or target in ("-", ""):
        return ""
    op, n = target[:2], float(target[2:])
    ok = ratio >= n if op == ">=" else ratio <= n
    return "yes" if ok else "NO"


def main():
    src, dst, machine = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = []
    with open(src) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 7:
                continue
            fig, val, unit, base, bval, target, sett = p
            v, b = num(val), num(bval)
            ratio = round(v / b, 3) if v is not None and b else None
            rows.append({"figure": fig, "value": v, "unit": unit,
                         "baseline": base, "baseline_value": b,
                         "ratio": ratio,
                         "target": None if target == "-" else
                         target.replace(">=", ">= ").replace("<=", "<= ")
                         + "x",
                         "settings": settings(sett)})
    with open(dst, "w") as f:
        json.dump(rows, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(machine)
    hdr = ("figure", "settings", "corp", "baseline", "ratio", "target", "met")
    table = []
    for r in rows:
        s = r["settings"]
        if "skipped" in s:
            table.append((r["figure"], "skipped: " + s["skipped"],
                          "", "", "", "", ""))
            continue
        short = " ".join("%s=%s" % (k, v) for k, v in s.items()
                         if k in ("synchronous", "workers", "pending_limit",
                                  "ack_batch", "rows", "command", "what"))
        table.append((r["figure"], short,
                      "%g %s" % (r["value"], r["unit"]),
                      "%g" % r["baseline_value"],
                      "%.2fx" % r["ratio"] if r["ratio"] is not None
                      else "-",
                      r["target"] or "-",
                      meets(r["ratio"], (r["target"] or "-")
                            .replace(" ", "").rstrip("x"))))
    w = [max(len(str(t[i])) for t in table + [hdr]) for i in range(len(hdr))]
    fmt = "  ".join("%%-%ds" % n for n in w)
    print(fmt % hdr)
    print(fmt % tuple("-" * n for n in w))
    for t in table:
        print((fmt % t).rstrip())


if __name__ == "__main__":
    main()
