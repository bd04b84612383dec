"""Check a whole workspace incrementally: unchanged accounts come from the check-result cache.

`kamctl check` spends its time here. Every account whose bytes, kam.yaml, git state, options and
kamctl are unchanged is served by kamctl.cache.CheckCache without being parsed, validated or
checked; the rest are checked in load_workspace's worker processes when there are many. The result
is exactly what kamctl.loader.load_workspace + kamctl.checks.run give, but the accounts the cache
holds stay as it holds them (Served: findings packed, counted by rule and severity) until a format
asks for their findings: kamctl.formats then writes their part from kamctl.cache.ViewCache.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kamctl import fsafe
from kamctl.cache import CheckCache
from kamctl.checks import Checker, check_each, policy_problems
from kamctl.findings import BY_VALUE, Finding, Severity, place_key, sort_key, tally
from kamctl.git import git_state
from kamctl.loader import load_workspace
from kamctl.workspace import (ACCOUNTS_DIR, SETTINGS_FILE, WorkspaceError, account_files, content_digest, display,
                              load_settings, select_files)
from kamctl.yamlio.read import MAX_BYTES, read_bytes


class SettingsProblem(WorkspaceError):
    """kam.yaml is invalid or names unknown rules (exit 2); findings holds its problems, if any."""

    def __init__(self, message: str, findings: list | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


@dataclass(eq=False)
class Served:
    """One account's check findings as the check cache holds them: rows of [rule, severity, line,
    column, message] in the order a check shows them, decoded into Findings only when a format needs
    them (a warm check that has the account's rendered part in the view cache never does)."""

    key: str  # kamctl.cache.CheckCache.key: names this result
    file: str  # shown path
    account: str
    packed: bytes  # the rows, as CheckCache.rows reads them
    tally: list  # [rule, severity, how many]
    checked: list[Finding] | None = None  # the findings, when this run checked the account itself

    def findings(self) -> list[Finding]:
        if self.checked is not None:
            return self.checked
        make = tuple.__new__  # Finding(...) less its argument handling: the rows are as put() wrote them
        file, account = self.file, self.account
        return [make(Finding, (r, BY_VALUE[s], file, ln, c, m, account)) for r, s, ln, c, m in CheckCache.rows(self.packed)]


@dataclass
class Checked:
    """A whole check: loose findings (kam.yaml's, reading and schema problems, accounts checked
    without the cache), sorted, and the served accounts, sorted by file. No loose finding is in a
    served account's file: only an account that loaded without findings is stored or served, and
    kam.yaml is not in accounts/. .findings is all of them, in the order kamctl.checks.run gives."""

    loose: list[Finding]
    served: list[Served]
    completeness: dict[str, dict[str, float]] = field(default_factory=dict)

    @cached_property
    def findings(self) -> list[Finding]:
        if not self.served:
            return self.loose
        return sorted([*self.loose, *(f for part in self.served for f in part.findings())], key=sort_key)

    def tally(self) -> dict[tuple[str, Severity], int]:
        """(rule, severity) -> how many findings: served accounts count from their cached tallies."""
        return tally(self.loose, self.served)


def check_workspace(root: Path, ids: list[str] | None, day: dt.date, sel: list[str], ign: list[str],
                    use_cache: bool = True) -> tuple[Any, dict[str, str], str]:
    """Exactly what load_workspace + kamctl.checks.run give (same findings, same order), faster.

    Returns (Checked, {account id: shown path}, kam.yaml's shown path); raises WorkspaceError
    for unknown ids and SettingsProblem when kam.yaml is invalid or names unknown rules.
    """

    files = select_files(root, ids)
    settings = load_settings(root)
    settings_model, settings_path, settings_findings = settings
    if any(f.severity.value == "error" for f in settings_findings):
        raise SettingsProblem(f"{settings_path} has problems; fix them first (see above)", settings_findings)
    problems = policy_problems(settings_model)
    if problems:
        raise SettingsProblem(f"{settings_path}: {'; '.join(problems)}; `kamctl rules` lists the codes")

    cc, kam, status = None, None, {}
    if use_cache:
        kam_raw = read_bytes(root / SETTINGS_FILE, "", root)[0]  # through fsafe: swapped for a FIFO, no hang
        kam = content_digest(kam_raw) if kam_raw is not None else None
    if kam is not None:
        head, status = git_state(root)
        cc = CheckCache(root, [kam, day.isoformat(), sel, ign, str(root.resolve()), head])
    hits: dict[int, tuple] = {}  # place in files -> (the account as the check cache has it, completeness)
    misses = list(files)
    if cc is not None and cc.load():
        misses = []
        shown = _shown_names(root)
        for i, (f, raw) in enumerate(_account_bytes(root, files)):
            account = f.stem
            key = cc.key(account, content_digest(raw), status.get(f.name, "")) if raw is not None else None
            hit = cc.get(key) if key is not None else None
            if hit is None:  # not there, or not what put() writes: checked afresh
                misses.append(f)
                continue
            hits[i] = (Served(key, shown(f), account, hit[0], hit[2]), hit[1])
    checker = Checker(settings_model, day, root, sel, ign)
    ws = load_workspace(root, files=misses, settings=settings, use_cache=use_cache, checker=checker)
    by_file = {a.file: a for a in ws.accounts}
    checked: dict = {}
    for loaded, found, complete in check_each(ws, day, sel, ign, checker):
        served = None
        if cc is not None and not loaded.findings and loaded.digest is not None:
            key = cc.key(loaded.id, loaded.digest, status.get(loaded.file.name, ""))
            ordered = sorted(found, key=place_key)  # stable: as sorting the whole check orders them
            packed, counted = cc.put(key, ordered, complete)
            served = Served(key, loaded.path, loaded.id, packed, counted, ordered)
        checked[loaded.file] = (found, complete, served)
    loose = list(ws.findings)  # kam.yaml's, then the reading and schema findings, as run() has them
    served_accounts: list[Served] = []
    completeness: dict = {}
    cases: dict = {}
    for i, f in enumerate(files):
        hit = hits.get(i)
        if hit is not None:
            part, completeness[hit[0].account] = hit
            cases[part.account] = part.file
            served_accounts.append(part)
            continue
        loaded = by_file[f]
        cases[loaded.id] = loaded.path
        if f not in checked:
            continue
        found, complete, part = checked[f]
        if part is not None:
            served_accounts.append(part)
        else:
            loose.extend(found)
        completeness[loaded.id] = complete
    loose.sort(key=sort_key)
    served_accounts.sort(key=lambda part: part.file)
    if cc is not None:  # room for a few other dates and options besides this run's entries
        cc.save(limit=4 * (len(files) if ids is None else len(account_files(root))) + 100)
    return Checked(loose, served_accounts, completeness), cases, settings_path


def _account_bytes(root: Path, files: list[Path]) -> Any:
    """(file, its bytes or None) for the cache look-up: accounts/ is opened once and each file read
    in it without following a link (a third of the syscalls of fsafe.read_bytes per file). A link
    is read the usual way; anything unreadable is None and is loaded afresh, which says why."""
    folder = str(Path(root) / ACCOUNTS_DIR)
    try:
        fd = fsafe.open_dir(root, ACCOUNTS_DIR)
    except OSError:
        fd = None
    try:
        for f in files:
            raw = None
            if fd is not None and os.path.dirname(f) == folder:
                try:
                    raw = fsafe.read_at(fd, f.name, MAX_BYTES)
                except fsafe.Outside:  # a link: followed, while it stays inside the workspace
                    pass
                except OSError:
                    yield f, None
                    continue
            yield f, raw if raw is not None else read_bytes(f, "", root)[0]
    finally:
        if fd is not None:
            os.close(fd)


def _shown_names(root: Path) -> Any:
    """file -> kamctl.workspace.display(file), for the files of accounts/, without a relpath per file."""
    folder = str(Path(root) / ACCOUNTS_DIR)
    base = display(Path(folder))  # relative to the current folder when inside it, else as given: so is each file
    prefix = "" if base == "." else base + os.sep
    return lambda f: prefix + f.name if os.path.dirname(f) == folder else display(f)
