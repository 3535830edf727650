#!/usr/bin/python3
"""probe.py start|end MACHINE.json DIR -- the machine beside the figures.

start: writes MACHINE.json with what the ratios rest on: the date, nproc,
the CPU model, the kernel, the SQLite and PostgreSQL versions, memory, the
load average, and what a durable write costs here right now, measured in
DIR (the bench's temp dir, on the disk the databases live on):

  fsync_us   a 4 KiB append + fdatasync(2), 200 times (at most 3 s):
             median and 90th percentile in microseconds;
  commit_us  one autocommit INSERT into a WAL database with
             synchronous=FULL (python3's sqlite3, the same system
             libsqlite3 corp links), 200 times (at most 3 s): what one
             commit costs, the unit the drain figures pay per batch.

end: adds the load average and the same two costs at the end, and the
bench's elapsed seconds.  Standard library only.
"""
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time

N = 200
BOUND_NS = 3 * 10**9


def pct(ts, p):
    ts = sorted(ts)
    return round(ts[min(len(ts) - 1, int(len(ts) * p))] / 1000, 1)


def summary(ts):
    return {"median": pct(ts, 0.5), "p90": pct(ts, 0.9), "n": len(ts)}


def fsync_cost(d):
    path = os.path.join(d, "probe.fsync")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    buf = b"x" * 4096
    ts = []
    t_end = time.monotonic_ns() + BOUND_NS
    try:
        while len(ts) < N and time.monotonic_ns() < t_end:
            t = time.perf_counter_ns()
            os.write(fd, buf)
            os.fdatasync(fd)
            ts.append(time.perf_counter_ns() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    return summary(ts)


def commit_cost(d):
    path = os.path.join(d, "probe.db")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    ts = []
    t_end = time.monotonic_ns() + BOUND_NS
    while len(ts) < N and time.monotonic_ns() < t_end:
        t = time.perf_counter_ns()
        con.execute("INSERT INTO t (v) VALUES ('x')")
        ts.append(time.perf_counter_ns() - t)
    con.close()
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    return summary(ts)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def first(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def version(cmd):
    if shutil.which(cmd[0]) is None:
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0] if out else None


def main():
    what, out, d = sys.argv[1], sys.argv[2], sys.argv[3]
    if what == "start":
        mem = first("/proc/meminfo", "MemTotal")
        m = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bench": os.environ.get("BENCH", "quick"),
            "nproc": os.cpu_count(),
            "cpu": first("/proc/cpuinfo", "model name") or "unknown",
            "kernel": platform.release(),
            "sqlite": sqlite3.sqlite_version,
            "sqlite3_cli": version(["sqlite3", "-version"]),
            "postgresql": version(["psql", "--version"]),
            "mem_total_mib": int(mem.split()[0]) // 1024 if mem else None,
            "load_start": loadavg(),
            "fsync_us_start": fsync_cost(d),
            "commit_us_start": commit_cost(d),
            "started_ns": time.monotonic_ns(),
            "note": os.environ.get("BENCH_NOTE", ""),
        }
    else:
        with open(out) as f:
            m = json.load(f)
        m["load_end"] = loadavg()
        m["fsync_us_end"] = fsync_cost(d)
        m["commit_us_end"] = commit_cost(d)
        m["elapsed_s"] = round((time.monotonic_ns() - m["started_ns"])
                               / 1e9)
    with open(out + ".tmp", "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
