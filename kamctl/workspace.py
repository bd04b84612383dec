"""Find the workspace, list its accounts, load them all (files -> read -> validate -> models).

A workspace is a folder with kam.yaml and accounts/*.yaml. Loading never stops at the first
problem: every file is read and every finding is collected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from kamctl import fsafe
from kamctl.errors import WorkspaceError
from kamctl.findings import Finding, Severity
from kamctl.ids import ID_RE, did_you_mean
from kamctl.model.account import Account
from kamctl.model.settings import Settings
from kamctl.model.validate import duplicate_ids, validate
from kamctl.yamlio.read import Positions, parse_bytes, read_bytes, read_file

SETTINGS_FILE = "kam.yaml"
ACCOUNTS_DIR = "accounts"
ENV_VAR = "KAMCTL_WORKSPACE"


class _Recent:
    """The most recently unpacked models or position trees; older ones go back to bytes.

    A validated Account costs about 48 KB and a position tree about 44 KB: kept for all of
    10,000 files that is close to 1 GB, packed it is about 10 KB. Workspaces up to `size`
    accounts never unpack twice; larger ones unpack again only what was pushed out.
    """

    def __init__(self, size: int, evict: Any) -> None:
        from collections import OrderedDict

        self.size, self.evict, self.items = size, evict, OrderedDict()

    def touch(self, acc: Any) -> None:
        items, key = self.items, id(acc)
        if key in items:
            items.move_to_end(key)
            return
        items[key] = acc  # holding acc keeps id(acc) unique while it is here
        if len(items) > self.size:
            self.evict(items.popitem(last=False)[1])


def _evict_model(acc: Any) -> None:
    if acc._account_json is not None:
        acc._account = None


def _evict_positions(acc: Any) -> None:
    if acc._packed is not None:
        acc._positions = None


MODELS_KEPT = 1000
_MODELS = _Recent(MODELS_KEPT, _evict_model)
_POSITIONS = _Recent(256, _evict_positions)


class LoadedAccount:
    """One account file: its model (None when invalid), findings and the positions of its keys.

    For a file that loaded cleanly the positions are kept packed (marshal bytes from this run's
    parse, or the JSON of its cache entry) and unpacked on first use; with no packed copy (e.g.
    built by hand) they are read from the file again. A position table for each of 10,000 files
    would cost more memory than the models.

    The model itself may arrive as JSON (from the cache, or from a worker process) and is
    validated by Pydantic on first use of .account: `kamctl validate` needs only the findings.
    Should that validation ever fail, the file is read and validated again from disk.
    """

    __slots__ = ("id", "path", "file", "_account", "_account_json", "findings", "_positions", "_packed", "_root",
                 "digest", "checked")

    def __init__(self, id: str, path: str, file: Path, account: Any = None,
                 findings: list[Finding] | None = None, positions: Any = None) -> None:
        self.id = id
        self.path = path  # as shown to the user (relative to the current folder when inside it)
        self.file = file
        self._account = account  # kamctl.model.account.Account | None
        self._account_json: bytes | None = None  # the valid model as Pydantic JSON, validated on first use
        self.findings: list[Finding] = findings if findings is not None else []
        self._positions = positions
        self._packed: tuple[str, bytes] | None = None  # ("marshal", bytes of the positions tree)
        self._root: Path | None = None
        self.digest: str | None = None  # content_digest() of the bytes this was loaded from (when known)
        self.checked: tuple | None = None  # (findings, completeness) when a worker ran the check rules

    def __repr__(self) -> str:
        return f"LoadedAccount(id={self.id!r}, path={self.path!r}, ok={self.ok})"

    @property
    def account(self) -> Any:
        """The validated kamctl.model.account.Account, or None when the file has errors."""
        if self._account is None and self._account_json is not None:
            from pydantic import ValidationError

            try:
                self._account = Account.model_validate_json(self._account_json)
            except (ValidationError, ValueError):  # cannot happen for our own JSON; stay correct anyway
                self._account_json = None
                self._reload()
            if self._account_json is not None:  # evictable: back to JSON when many newer ones are built
                _MODELS.touch(self)
        return self._account

    @account.setter
    def account(self, value: Any) -> None:
        self._account, self._account_json = value, None

    def _reload(self) -> None:
        self.findings, self._positions, self._packed = [], None, None
        raw, refused = read_bytes(self.file, self.path, self._root)
        if raw is None:
            self.findings = [_with_account(f, self.id) for f in refused]
            return
        parse_account(self, raw)

    @property
    def positions(self) -> Any:
        """Mapping (key, index, ...) -> (line, column): a kamctl.yamlio.read.Positions tree."""
        if self._positions is None:
            self._positions = self._unpack()
            if self._packed is not None:
                _POSITIONS.touch(self)
        return self._positions

    @positions.setter
    def positions(self, value: Any) -> None:
        self._positions = value

    def _unpack(self) -> Any:
        if self._packed is not None:
            kind, blob = self._packed
            try:
                import marshal

                # our own bytes: from this process, or from a cache entry whose MAC (keyed with this
                # user's secret) proved kamctl wrote it with this very code and Python
                return Positions(marshal.loads(blob))
            except (ValueError, TypeError, EOFError):
                pass
        return read_file(self.file, self.path, root=self._root).positions

    def pack(self) -> None:
        """Keep the positions as bytes until asked for (loading many files)."""

        if isinstance(self._positions, Positions) and self._positions.root is not None and self._packed is None:
            import marshal

            try:
                self._packed = ("marshal", marshal.dumps(self._positions.root))
            except ValueError:
                return
            self._positions = None

    @property
    def ok(self) -> bool:
        has_model = self._account is not None or self._account_json is not None
        return has_model and not any(f.severity is Severity.error for f in self.findings)

    def position(self, loc: Iterable[Any]) -> tuple[int, int]:
        """Line and column of a key or item; a missing one points at its nearest parent."""
        positions = self.positions
        nearest = getattr(positions, "nearest", None)
        if nearest is not None:
            return nearest(loc)
        loc = tuple(loc)
        while loc:
            if loc in positions:
                return positions[loc]
            loc = loc[:-1]
        return positions.get((), (1, 1))


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
        hint = did_you_mean(account_id, (a.id for a in self.accounts))
        raise WorkspaceError(f"no account '{account_id}' in {display(self.root / ACCOUNTS_DIR)}{hint}; "
                             "`kamctl score` lists the accounts, `kamctl new ID --name NAME` creates one")


def display(path: Path | str) -> str:
    """A path as the user should see it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def content_digest(raw: bytes) -> str:
    """The hash of an account file's bytes that the check-result cache is keyed by."""
    import hashlib

    return hashlib.blake2b(raw, digest_size=16).hexdigest()


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
    try:
        fd = fsafe.open_dir(root, ACCOUNTS_DIR)  # listed through the real folder: a link out lists nothing
    except OSError:  # missing, not a folder, or leading outside (_folder_findings says so)
        return []
    try:
        names = os.listdir(fd)
    finally:
        os.close(fd)
    # sorted by name: the order of the paths (one folder), without comparing a Path per step
    return [folder / n for n in sorted(names) if not n.startswith(".") and os.path.splitext(n)[1] in (".yaml", ".yml")]


def refuse_outside_accounts(root: Path) -> None:
    """WorkspaceError when accounts/ leads outside the workspace (account_files then lists nothing)."""
    try:
        os.close(fsafe.open_dir(root, ACCOUNTS_DIR))
    except fsafe.Outside:
        raise WorkspaceError(f"{display(root / ACCOUNTS_DIR)} is a link to a place outside the workspace; "
                             "kamctl does not follow it: make accounts/ a real folder") from None
    except OSError:
        pass


def load_settings(root: Path, parser: str = "auto", raw: bytes | None = None,
                  shown: str | None = None) -> tuple[Any, str, list[Finding]]:
    """kam.yaml -> Settings. With errors, the defaults are returned alongside the findings.

    raw/shown: the file's bytes and displayed name when it comes from elsewhere (a git revision).
    """

    path = root / SETTINGS_FILE
    shown = shown or display(path)
    doc = read_file(path, shown, parser, root=root) if raw is None else parse_bytes(raw, shown, parser)
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
    """One account file through the whole read path; problems become findings, never exceptions.

    The pure load (no cache, no worker processes): kamctl.loader wraps it in the cache."""
    loaded, raw = open_account(Path(file), root)
    return loaded if raw is None else parse_account(loaded, raw, parser)


def open_account(file: Path, root: Path) -> tuple[LoadedAccount, bytes | None]:
    """The file's LoadedAccount and bytes; no bytes when the name or the file itself is refused."""

    loaded = named_account(file, display(file))
    if loaded.findings:
        return loaded, None
    loaded._root = root
    raw, refused = read_bytes(file, loaded.path, root)
    if raw is None:
        loaded.findings = [_with_account(f, loaded.id) for f in refused]
        loaded.positions = {}
    else:
        loaded.digest = content_digest(raw)
    return loaded, raw


def named_account(file: Path, shown: str) -> LoadedAccount:
    """An empty LoadedAccount for file; with a KAM007 finding when its name cannot be an account's."""
    file = Path(file)
    loaded = LoadedAccount(id=file.stem, path=shown, file=file)
    if file.suffix != ".yaml" or not ID_RE.match(file.stem):
        why = "account files end in .yaml" if file.suffix != ".yaml" else (
            f"'{file.stem}' is not a valid account id (lowercase letters, digits and dashes)")
        loaded.findings.append(Finding("KAM007", Severity.error, shown, 1, 1, f"{why}; rename the file", file.stem))
        loaded.positions = {}
    return loaded


def parse_account(loaded: LoadedAccount, raw: bytes, parser: str = "auto") -> LoadedAccount:
    """Parse and validate raw into loaded; a clean account keeps its positions packed (see pack)."""
    doc = parse_bytes(raw, loaded.path, parser)
    _validate_into(loaded, doc)
    if loaded.ok and not loaded.findings:
        loaded.pack()  # unpacked again on first use: keeps 10,000 files in memory small
    return loaded


def _validate_into(loaded: LoadedAccount, doc: Any) -> None:
    shown = loaded.path
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
        loaded.findings.extend(duplicate_ids(doc, ("opportunities", "decision_makers", "buying_centres")))
        if not any(f.severity is Severity.error for f in loaded.findings):
            loaded.account = account
    loaded.findings = [_with_account(f, loaded.id) for f in loaded.findings]


def _with_account(f: Finding, account_id: str) -> Finding:
    if f.account == account_id:
        return f
    return Finding(f.rule, f.severity, f.file, f.line, f.column, f.message, account_id)


def select_files(root: Path, ids: Iterable[str] | None = None) -> list[Path]:
    """The account files of the ids asked for (all when none); WorkspaceError for an unknown id."""
    all_files = account_files(root)
    if ids:
        wanted = list(dict.fromkeys(ids))
        by_id = {p.stem: p for p in all_files}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise WorkspaceError(f"no account {', '.join(repr(m) for m in missing)} in "
                                 f"{display(root / ACCOUNTS_DIR)}{did_you_mean(missing[0], by_id)}")
        all_files = [by_id[i] for i in wanted]
    return all_files
