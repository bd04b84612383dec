"""Find the workspace, list its accounts, load them all (files -> read -> validate -> models).

A workspace is a folder with kam.yaml and accounts/*.yaml. Loading never stops at the first
problem: every file is read and every finding is collected.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from kamctl.findings import Finding, Severity

SETTINGS_FILE = "kam.yaml"
ACCOUNTS_DIR = "accounts"
ENV_VAR = "KAMCTL_WORKSPACE"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class WorkspaceError(Exception):
    """A usage or settings problem (exit 2): no workspace, unreadable kam.yaml, unknown account id."""


@dataclass
class LoadedAccount:
    """One account file: its model (None when invalid), findings and the positions of its keys."""

    id: str
    path: str  # as shown to the user (relative to the current folder when inside it)
    file: Path
    account: Any = None  # kamctl.model.account.Account | None
    findings: list[Finding] = field(default_factory=list)
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.account is not None and not any(f.severity is Severity.error for f in self.findings)

    def position(self, loc: Iterable[Any]) -> tuple[int, int]:
        """Line and column of a key or item; a missing one points at its nearest parent."""
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))


@dataclass
class Workspace:
    root: Path
    settings: Any  # kamctl.model.settings.Settings
    settings_path: str
    settings_findings: list[Finding]
    accounts: list[LoadedAccount]

    @property
    def findings(self) -> list[Finding]:
        out = list(self.settings_findings)
        for acc in self.accounts:
            out.extend(acc.findings)
        return out

    def valid_accounts(self) -> list[LoadedAccount]:
        return [a for a in self.accounts if a.account is not None]

    def get(self, account_id: str) -> LoadedAccount:
        for acc in self.accounts:
            if acc.id == account_id:
                return acc
        raise WorkspaceError(f"no account '{account_id}' in {display(self.root / ACCOUNTS_DIR)}; "
                             "`kamctl score` lists the accounts, `kamctl new ID --name NAME` creates one")


def display(path: Path | str) -> str:
    """A path as the user should see it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def find_workspace(explicit: str | os.PathLike | None = None, start: Path | None = None) -> Path:
    """-w DIR, else $KAMCTL_WORKSPACE, else the nearest folder at or above start holding kam.yaml."""
    chosen = explicit or os.environ.get(ENV_VAR)
    if chosen:
        root = Path(chosen)
        if not (root / SETTINGS_FILE).is_file():
            source = "-w/--workspace" if explicit else f"${ENV_VAR}"
            raise WorkspaceError(f"{root} ({source}) is not a kamctl workspace: it has no {SETTINGS_FILE}. "
                                 f"Create one with `kamctl init {root}`.")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise WorkspaceError(f"no kamctl workspace here: no {SETTINGS_FILE} in {here} or any folder above it. "
                         "Create one with `kamctl init DIR`, or point at one with -w DIR or $KAMCTL_WORKSPACE.")


def account_files(root: Path) -> list[Path]:
    """Every file in accounts/ that should be an account (hidden files and folders excepted)."""
    folder = root / ACCOUNTS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.suffix in (".yaml", ".yml"))


def load_settings(root: Path, parser: str = "auto") -> tuple[Any, str, list[Finding]]:
    """kam.yaml -> Settings. With errors, the defaults are returned alongside the findings."""
    from kamctl.model.settings import Settings
    from kamctl.model.validate import validate
    from kamctl.yamlio.read import read_file

    path = root / SETTINGS_FILE
    shown = display(path)
    doc = read_file(path, shown, parser, root=root)
    findings = list(doc.findings)
    data = doc.data
    if data is None and not findings:
        data = {}  # an empty kam.yaml is a valid workspace
    if data is not None and not isinstance(data, dict):
        findings.append(Finding("KAM006", Severity.error, shown, 1, 1, "kam.yaml must hold a mapping of settings"))
        data = None
    settings = None
    if data is not None:
        doc.data = data
        settings, errors = validate(Settings, doc)
        findings.extend(errors)
    return settings or Settings(), shown, findings


def load_account(file: Path, root: Path, parser: str = "auto") -> LoadedAccount:
    """One account file through the whole read path; problems become findings, never exceptions."""
    from kamctl.model.account import Account
    from kamctl.model.validate import duplicate_ids, validate
    from kamctl.yamlio.read import read_file

    shown = display(file)
    loaded = LoadedAccount(id=file.stem, path=shown, file=file)
    if file.suffix != ".yaml" or not ID_RE.match(file.stem):
        why = "account files end in .yaml" if file.suffix != ".yaml" else (
            f"'{file.stem}' is not a valid account id (lowercase letters, digits and dashes)")
        loaded.findings.append(Finding("KAM007", Severity.error, shown, 1, 1, f"{why}; rename the file", file.stem))
        return loaded
    doc = read_file(file, shown, parser, root=root)
    loaded.findings.extend(doc.findings)
    loaded.positions = doc.positions
    if doc.data is None:
        if not doc.findings:
            loaded.findings.append(Finding("KAM006", Severity.error, shown, 1, 1,
                                           "the file is empty; an account needs at least `name:`"))
    elif not isinstance(doc.data, dict):
        loaded.findings.append(Finding("KAM006", Severity.error, shown, 1, 1,
                                       f"the file holds {type(doc.data).__name__}, not a mapping of account keys"))
    else:
        account, errors = validate(Account, doc)
        loaded.findings.extend(errors)
        loaded.findings.extend(duplicate_ids(doc, ("opportunities", "decision_makers")))
        if not any(f.severity is Severity.error for f in loaded.findings):
            loaded.account = account
    loaded.findings = [_with_account(f, loaded.id) for f in loaded.findings]
    return loaded


def _with_account(f: Finding, account_id: str) -> Finding:
    if f.account == account_id:
        return f
    return Finding(f.rule, f.severity, f.file, f.line, f.column, f.message, account_id)


def load_workspace(root: Path, ids: Iterable[str] | None = None, parser: str = "auto",
                   files: Iterable[Path] | None = None, use_cache: bool = True) -> Workspace:
    """Settings plus every account (or the ids/files asked for), all findings collected.

    use_cache: allow the parse/validate cache in .kamctl-cache/ (off with --no-cache).
    """
    settings, shown, settings_findings = load_settings(root, parser)
    if files is None:
        all_files = account_files(root)
        if ids:
            wanted = list(dict.fromkeys(ids))
            by_id = {p.stem: p for p in all_files}
            missing = [i for i in wanted if i not in by_id]
            if missing:
                raise WorkspaceError(f"no account {', '.join(repr(m) for m in missing)} in "
                                     f"{display(root / ACCOUNTS_DIR)}")
            all_files = [by_id[i] for i in wanted]
        files = all_files
    accounts = [load_account(Path(f), root, parser) for f in files]
    return Workspace(root, settings, shown, settings_findings, accounts)
