"""Time `kamctl import salesforce` of 10,000 opportunities over 1,000 accounts, median of several runs.

    .venv/bin/python benchmarks/bench_import.py                 # 1,000 accounts x 10 opportunities, 3 runs
    .venv/bin/python benchmarks/bench_import.py --accounts 200 --runs 5

The export is tests/crm_export.py's generated Salesforce export (BOM, CRLF, quoted line breaks,
datetimes, 2,000 contacts, contact roles, three bad rows). Each run imports it with the real CLI
in a fresh process into an empty workspace (`--all`), then re-imports it (nothing changes, nothing
is written), then re-imports it with one Amount changed (one file rewritten). Prints the median
and every run of each, plus the machine's load average (a shared machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import crm_export  # noqa: E402

KAMCTL = Path(sys.executable).with_name("kamctl")


def timed(*args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(KAMCTL), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"kamctl {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--per-account", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        export = crm_export.salesforce(base / "export", args.accounts, args.per_account)
        opportunity = export / "Opportunity.csv"
        original = opportunity.read_bytes()
        first = original.index(b"\r\n") + 2  # the first opportunity's Amount, 5th cell, gets 1 more
        cells = original[first:].split(b'","', 5)
        cells[4] = str(float(cells[4].decode()) + 1).encode()
        changed = original[:first] + b'","'.join(cells)
        times: dict[str, list[float]] = {"import": [], "re-import": [], "one amount changed": []}
        for run in range(args.runs):
            ws = base / f"ws{run}"
            (ws / "accounts").mkdir(parents=True)
            (ws / "kam.yaml").write_text("")
            times["import"].append(timed("-w", str(ws), "import", "salesforce", str(export), "--all",
                                         "--date", "2026-12-01"))
            times["re-import"].append(timed("-w", str(ws), "import", "salesforce", str(export)))
            opportunity.write_bytes(changed)
            times["one amount changed"].append(timed("-w", str(ws), "import", "salesforce", str(export)))
            opportunity.write_bytes(original)
    print(f"{args.accounts} accounts, {args.accounts * args.per_account} opportunities, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, runs in times.items():
        print(f"{name:>20}: median {statistics.median(runs):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in runs)})")


if __name__ == "__main__":
    main()
