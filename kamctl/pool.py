"""The process pool that loads thousands of files: forked workers, sized by files and cores.

Forked workers inherit the imported models, so they start in milliseconds; where fork is missing or
processes are not allowed, the caller does the work in its own process. KAMCTL_WORKERS forces the
number of workers (1 turns the pool off).
"""

from __future__ import annotations

import os
from typing import Any, Callable

from kamctl.errors import WorkspaceError

PARALLEL_MIN_FILES = 100  # files to parse below which a process pool costs more than it saves (measured)
PARALLEL_ENV = "KAMCTL_WORKERS"  # a number to force (1 turns the pool off)


def workers(n_files: int) -> int:
    """How many worker processes to use for n_files files (1: no pool)."""
    forced = os.environ.get(PARALLEL_ENV, "")
    if forced.isascii() and forced.isdigit():
        return max(1, int(forced)) if n_files > 1 else 1
    if forced:  # str.isdigit() alone takes '²', which int() refuses
        raise WorkspaceError(f"{PARALLEL_ENV}={forced!r}: write a whole number such as 4 (1 turns the pool off)")
    if n_files < PARALLEL_MIN_FILES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores, 8)


def run(work: Callable[[Any], Any], jobs: list, n_workers: int) -> list | None:
    """[work(job) for job in jobs], computed in n_workers forked processes; None when no pool can run here."""
    import multiprocessing  # the standard library's pool, imported only when a pool runs
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(work, jobs))
    except (OSError, RuntimeError):  # no processes allowed here, or a worker died
        return None
