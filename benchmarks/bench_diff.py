"""Time `kamctl diff` on a git repository of 200 accounts with 50 commits (median of several runs).

    .venv/bin/python benchmarks/bench_diff.py                 # 200 accounts, 50 commits, 5 runs
    .venv/bin/python benchmarks/bench_diff.py --accounts 1000 --commits 100 --runs 7

The repository is built in a temporary folder from benchmarks/generate.py's seeded accounts; each
commit edits the size score and an opportunity stage of a few accounts, spread over 300 days, so
the default base (the last commit 90 or more days ago) is well inside the history. Each run is the
real CLI in a fresh process (`kamctl diff --format json`), so start-up and git are counted; the
first run also measures `kamctl history` of one account. Prints the median and every run, plus
the machine's load average (a shared machine makes runs noisy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import STAGES, generate  # noqa: E402

KAMCTL = Path(sys.executable).with_name("kamctl")


def git(repo: Path, *args: str, env: dict | None = None) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **(env or {})})


def build(target: Path, accounts: int, commits: int, seed: int = 11) -> Path:
    generate(accounts, target)
    git(target, "init", "-q")
    git(target, "config", "user.name", "Bench")
    git(target, "config", "user.email", "bench@example.com")
    rng = random.Random(seed)
    start = dt.datetime.now() - dt.timedelta(days=300)
    files = sorted((target / "accounts").glob("*.yaml"))
    for i in range(commits):
        if i:
            for f in rng.sample(files, min(len(files), 5)):
                text = f.read_text(encoding="utf-8")
                text = re.sub(r"(?m)^  size: [0-9]+", f"  size: {rng.randint(0, 10)}", text, count=1)
                text = re.sub(r"(?m)^(\s+stage: )[a-z_]+", lambda m: m.group(1) + rng.choice(STAGES), text, count=1)
                f.write_text(text, encoding="utf-8")
        when = (start + dt.timedelta(days=300 * i / commits)).strftime("%Y-%m-%dT%H:%M:%S")
        git(target, "add", "-A")
        git(target, "commit", "-q", "-m", f"commit {i + 1}", env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    return target


def timed(args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([str(KAMCTL), *args], cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"kamctl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kam-bench-diff-"))
    try:
        t0 = time.perf_counter()
        repo = build(folder / "repo", args.accounts, args.commits)
        print(f"built {args.accounts} accounts x {args.commits} commits in {time.perf_counter() - t0:.1f} s")
        runs = [timed(["diff", "--format", "json"], repo) for _ in range(args.runs)]
        history = timed(["history", "acct-00001", "--format", "json"], repo)
        load = os.getloadavg() if hasattr(os, "getloadavg") else None
        print(f"kamctl diff: median {statistics.median(runs):.2f} s over {len(runs)} runs "
              f"({', '.join(f'{r:.2f}' for r in runs)})")
        print(f"kamctl history (one account): {history:.2f} s")
        if load:
            print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
