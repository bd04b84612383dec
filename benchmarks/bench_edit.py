"""Time `kamctl opp add` on one large account file (about 1 MB), median of several runs.

    .venv/bin/python benchmarks/bench_edit.py                    # ~1 MB, 5 runs
    .venv/bin/python benchmarks/bench_edit.py --kb 120 --runs 7  # the 120 KB file of issue 11

The file is one of benchmarks/generate.py's seeded accounts with the opportunities of many more
appended (ids made unique) until it reaches the size asked for, so it is valid and has comments,
flow and block styles. Each run copies the untouched file back and runs the real CLI in a fresh
process, so start-up, reading, validation, the round-trip parse and the patch are all counted.
Prints the median and every run, plus the machine's load average (a shared machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import SETTINGS, account_data, account_text  # noqa: E402

KAMCTL = Path(sys.executable).with_name("kamctl")


def big_account(kb: int, seed: int = 7) -> str:
    """A valid account file of at least kb kilobytes."""
    rng = random.Random(seed)
    data = account_data(rng, "Big Account")
    opps = data["opportunities"]
    n = 0
    while len(account_text(data, random.Random(seed))) < kb * 1024:
        for _ in range(200):
            n += 1
            extra = account_data(random.Random(seed * 7919 + n))["opportunities"][0]
            opps.append({**extra, "id": f"opp-x{n}"})
    return account_text(data, random.Random(seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=1024, help="size of the account file (default 1024)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = big_account(args.kb)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "accounts").mkdir()
        (root / "kam.yaml").write_text(SETTINGS, encoding="utf-8")
        target = root / "accounts" / "big.yaml"
        times = []
        for i in range(args.runs):
            target.write_text(text, encoding="utf-8")
            start = time.perf_counter()
            done = subprocess.run([str(KAMCTL), "-w", str(root), "opp", "add", "big", "--title", f"Bench run {i}",
                                   "--date", "2026-06-01"], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(f"kamctl opp add failed ({done.returncode}): {done.stderr}")
            after = target.read_text(encoding="utf-8")
            head = len(os.path.commonprefix([text, after]))
            if not after.endswith(text[head:]):  # the edit must be one insertion, every other byte kept
                sys.exit("the edit changed more than the lines it added")
    size = len(text.encode("utf-8"))
    print(f"kamctl opp add on a {size / 1024:.0f} KB account ({text.count(chr(10))} lines), {args.runs} runs: "
          f"median {statistics.median(times):.2f} s; runs {', '.join(f'{t:.2f}' for t in times)} s; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
