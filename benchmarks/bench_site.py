"""Time `kamctl site` on 1,000 generated accounts in git (issue 15: under 10 s), and check that a
second run with nothing changed rewrites nothing.

    .venv/bin/python benchmarks/bench_site.py                      # 1,000 accounts, 10 commits, 3 runs
    .venv/bin/python benchmarks/bench_site.py --accounts 200 --commits 50

The repository is bench_diff.py's (benchmarks/generate.py's seeded accounts, a few edited per
commit). Each run is the real CLI in a fresh process, so start-up, git and writing are counted:
`first` writes every page into an empty folder, `again` runs with nothing changed (every page must
be left as it was: same inode and mtime), `no history` is `--no-history`. Prints the median wall
clock and CPU time (user + sys of the process) of each, and the load average (a shared machine
makes wall clock noisy; CPU time much less so).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_diff import KAMCTL, build  # noqa: E402

TARGET = 10.0  # seconds, the issue's


def run(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall clock, CPU seconds and stderr of one kamctl process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(KAMCTL), *args], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"kamctl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stderr.strip()


def stamps(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kam-bench-site-"))
    try:
        repo = build(folder / "repo", args.accounts, args.commits)
        run(["validate"], repo)  # fill .kamctl-cache/ as any earlier command would
        times: dict[str, list[tuple[float, float]]] = {"first": [], "again": [], "no history": []}
        for i in range(args.runs):
            out = folder / f"site{i}"
            wall, cpu, _ = run(["site", "--out", str(out)], repo)
            times["first"].append((wall, cpu))
            before = stamps(out)
            wall, cpu, said = run(["site", "--out", str(out)], repo)
            times["again"].append((wall, cpu))
            if stamps(out) != before or " 0 written" not in said:
                raise SystemExit(f"the second run rewrote pages: {said}")
            times["no history"].append(run(["site", "--out", str(folder / f"bare{i}"), "--no-history"], repo)[:2])
        pages = len(before)
        print(f"kamctl site, {args.accounts} accounts, {args.commits} commits, {pages} files; "
              f"median of {args.runs} (load average {os.getloadavg()[0]:.1f}):")
        for name, rows in times.items():
            wall = statistics.median(w for w, _ in rows)
            cpu = statistics.median(c for _, c in rows)
            print(f"  {name:<11} {wall:6.2f} s wall  {cpu:6.2f} s CPU   "
                  f"runs: {', '.join(f'{w:.2f}' for w, _ in rows)}")
        print(f"  second run rewrote nothing (inodes and mtimes of all {pages} files unchanged)")
        worst = statistics.median(w for w, _ in times["first"])
        print(f"  target: under {TARGET:g} s -> {'met' if worst < TARGET else 'NOT met'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
