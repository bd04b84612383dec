"""Plans that remember: the workspace at a git revision or date, read from git (kamctl.git).

Nothing here touches the working tree, the index or HEAD: kamctl.git runs only read-only
plumbing. Files are read from blobs and go through the same read + validate path as files on
disk (`kamctl.loader.load_account_bytes`), so an account invalid at some revision comes back
with findings, never an exception; a blob over the read limit is refused (KAM004) without being
read. Usage problems (no git repository, unknown revision, a date before the first commit) raise
GitError (a WorkspaceError: exit 2).

One `git log`/`ls-tree` and one pair of `cat-file` processes per revision or per history, never
one per file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from kamctl import movement
from kamctl.assessment import assess
from kamctl.cache import Cache
from kamctl.errors import GitError, WorkspaceError
from kamctl.findings import Finding, Severity
from kamctl.git import DATE_RE, Blob, Commit, Repo, default_base, open_repo, resolve
from kamctl.loader import load_account_bytes, load_workspace
from kamctl.model.settings import Settings
from kamctl.workspace import (ACCOUNTS_DIR, SETTINGS_FILE, LoadedAccount, Workspace, display,
                              load_settings)
from kamctl.yamlio.read import MAX_BYTES, read_bytes
from kamctl.ids import did_you_mean


def _repo(root: Path) -> Repo:
    return open_repo(root, display(root))


# --- a workspace at a revision ---------------------------------------------------------------------


def _shown(rel: str, commit: Commit) -> str:
    return f"{rel}@{commit.short}"


def _load_blob(repo: Repo, kind: str, rel: str, commit: Commit, blob: Blob, parser: str,
               cache: Any = None) -> Any:
    """Settings or an account from blob bytes through the workspace read path, cached per blob."""
    key = (kind, blob.sha, rel)
    if key not in repo.blobs:
        shown = _shown(rel, commit)
        if blob.data is None:
            repo.blobs[key] = _refused(repo, rel, commit, "KAM004",
                                       f"file is {blob.size:,} bytes; the limit is {MAX_BYTES:,}")
        elif kind == "settings":
            repo.blobs[key] = load_settings(repo.root, parser, raw=blob.data, shown=shown)
        else:
            repo.blobs[key] = load_account_bytes(blob.data, repo.root / rel, shown, parser, cache)
    return repo.blobs[key]


def _refused(repo: Repo, rel: str, commit: Commit, code: str, message: str) -> LoadedAccount:
    """An account file kamctl would not read at that revision: no model, one finding saying why."""
    loaded = LoadedAccount(id=Path(rel).stem, path=_shown(rel, commit), file=repo.root / rel)
    loaded.findings.append(Finding(code, Severity.error, loaded.path, 1, 1, message, loaded.id))
    return loaded


def settings_at(repo: Repo, commit: Commit, blob: Blob | None, parser: str = "auto") -> tuple[Any, str, list]:
    if blob is None:
        return Settings(), _shown(SETTINGS_FILE, commit), []
    if blob.data is None:
        raise WorkspaceError(f"{_shown(SETTINGS_FILE, commit)} is {blob.size:,} bytes; the limit is {MAX_BYTES:,}")
    return _load_blob(repo, "settings", SETTINGS_FILE, commit, blob, parser)


def workspace_at_commit(repo: Repo, commit: Commit, ids: Iterable[str] | None = None, parser: str = "auto",
                        missing_ok: bool = False, use_cache: bool = True,
                        reuse: dict[str, LoadedAccount] | None = None) -> Workspace:
    """The workspace as committed: kam.yaml and accounts/*.yaml from one ls-tree and one cat-file.

    use_cache: share the working tree's parse/validate cache (.kamctl-cache/, keyed by content).
    reuse: blob sha -> an already loaded clean account with exactly that content (the working tree's).
    """
    settings_path = repo.path(SETTINGS_FILE)
    settings_blob = None
    files: list[tuple[str, str, str]] = []  # (mode, sha, workspace-relative path)
    for mode, kind, sha, path in repo.tree(commit, settings_path, repo.path(ACCOUNTS_DIR)):
        if path == settings_path and kind == "blob":
            settings_blob = sha
            continue
        rel = path[len(repo.prefix):]
        folder, _, name = rel.rpartition("/")
        if kind == "blob" and folder == ACCOUNTS_DIR and not name.startswith(".") and name.endswith((".yaml", ".yml")):
            files.append((mode, sha, rel))
    if settings_blob is None and not missing_ok:
        raise WorkspaceError(f"the workspace did not exist at {commit.label} ({commit.short}, "
                             f"{commit.date[:10]}): no {settings_path} in that commit")
    if ids:
        wanted = list(dict.fromkeys(ids))
        by_id = {Path(rel).stem: (m, s, rel) for m, s, rel in files}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise WorkspaceError(f"no account {', '.join(repr(m) for m in missing)} in {ACCOUNTS_DIR}/ at "
                                 f"{commit.label} ({commit.short}){did_you_mean(missing[0], by_id)}")
        files = [by_id[i] for i in wanted]
    reuse = reuse or {}
    blobs = repo.cat([sha for _, sha, rel in files if not _reusable(reuse, sha, rel)]
                     + ([settings_blob] if settings_blob else []), MAX_BYTES)
    settings, shown, settings_findings = settings_at(repo, commit, blobs.get(settings_blob) if settings_blob else None,
                                                     parser)
    cache = Cache(repo.root) if use_cache else None
    accounts = []
    for mode, sha, rel in files:
        if mode != "120000" and _reusable(reuse, sha, rel):
            accounts.append(reuse[sha])
            continue
        blob = blobs.get(sha)
        if mode == "120000":
            accounts.append(_refused(repo, rel, commit, "KAM008",
                                     "this file was a link at that revision; kamctl does not follow links"))
        elif blob is None:
            accounts.append(_refused(repo, rel, commit, "KAM008", "the file could not be read from git"))
        else:
            accounts.append(_load_blob(repo, "account", rel, commit, blob, parser, cache))
    ws = Workspace(repo.root, settings, shown, settings_findings, accounts)
    ws.revision = commit  # type: ignore[attr-defined]  # for headers: which commit this is
    return ws


def _reusable(reuse: dict[str, LoadedAccount], sha: str, rel: str) -> bool:
    found = reuse.get(sha)
    return found is not None and found.id == Path(rel).stem


def blob_ids(ws: Workspace) -> dict[str, LoadedAccount]:
    """Git blob ids (sha1) of the clean accounts of a working-tree workspace, to reuse them at a revision."""
    out = {}
    for la in ws.accounts:
        if la.account is None or la.findings:
            continue
        raw, _ = read_bytes(la.file, la.path, la._root)  # through fsafe: swapped for a FIFO or link, skipped
        if raw is None:
            continue
        out[hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()] = la
    return out


def load_workspace_at(root: Path, at: str, ids: Iterable[str] | None = None, parser: str = "auto",
                      use_cache: bool = True) -> Workspace:
    """The workspace as it was at a git revision or date (YYYY-MM-DD: the last commit that day or before).

    Same Workspace as load_workspace; raises WorkspaceError for no repository, an unknown revision or
    a date before the first commit. use_cache=False reads and writes nothing in the workspace.
    """
    repo = _repo(root)
    return workspace_at_commit(repo, resolve(repo, at), ids, parser, use_cache=use_cache)


# --- one account through its commits ----------------------------------------------------------------


@dataclass
class Version:
    """The account file as one commit left it (loaded is None when the commit deleted it)."""

    commit: Commit
    status: str  # added | modified | renamed | deleted
    path: str  # workspace-relative path at that commit
    old_path: str | None
    loaded: LoadedAccount | None
    settings: Any


_STATUS = {"A": "added", "M": "modified", "R": "renamed", "C": "added", "D": "deleted", "T": "modified"}


def account_versions(repo: Repo, account_id: str, parser: str = "auto") -> list[Version]:
    """Every commit that changed the account's file, oldest first, following renames (git log --follow)."""
    rel = f"{ACCOUNTS_DIR}/{account_id}.yaml"
    raw: list[tuple[Commit, str, str, str | None]] = []
    for entry in repo.changes(repo.path(rel), follow=True):
        if not entry.changes:
            continue  # a merge without its own change to the file
        c = entry.commit
        change = entry.changes[-1]
        commit = Commit(c.sha, c.date, c.author, c.subject, c.short)
        raw.append((commit, _STATUS.get(change.status, "modified"), change.path, change.old_path))
    raw.reverse()
    names = []
    for commit, status, path, _ in raw:
        names.append(f"{commit.sha}:{path}")
        names.append(f"{commit.sha}:{repo.path(SETTINGS_FILE)}")
    objects = repo.cat(names, MAX_BYTES)
    versions = []
    for commit, status, path, old in raw:
        wrel = path[len(repo.prefix):] if path.startswith(repo.prefix) else path
        orel = old[len(repo.prefix):] if old and old.startswith(repo.prefix) else old
        settings = settings_at(repo, commit, objects.get(f"{commit.sha}:{repo.path(SETTINGS_FILE)}"), parser)[0]
        loaded = None
        if status != "deleted":
            blob = objects.get(f"{commit.sha}:{path}")
            if blob is not None:
                loaded = _load_blob(repo, "account", wrel, commit, blob, parser)
        versions.append(Version(commit, status, wrel, orel, loaded, settings))
    return versions


def account_history(root: Path, account_id: str, since: str | None = None, parser: str = "auto") -> dict[str, Any]:
    """History rows of one account, oldest first: scores, quadrant, level, pipeline, satisfaction, health, changes.

    since: a date (commits on or after it) or a revision (commits after it).
    """
    repo = _repo(root)
    versions = account_versions(repo, account_id, parser)
    if not versions:
        raise GitError(f"no history for account '{account_id}': git has no commit of "
                       f"{repo.path(ACCOUNTS_DIR)}/{account_id}.yaml")
    keep: set[str] | None = None
    since_label = None
    if since is not None:
        if DATE_RE.match(since.strip()):
            try:
                start = dt.date.fromisoformat(since.strip())
            except ValueError:
                raise WorkspaceError(f"{since!r} is not a real date; write YYYY-MM-DD") from None
            keep = {v.commit.sha for v in versions if v.commit.day >= start}
            since_label = since
        else:
            base = resolve(repo, since)
            after = repo.after(base)
            keep = {v.commit.sha for v in versions if v.commit.sha in after}
            since_label = f"{since} ({base.short})"
    return {"account": account_id, **history_rows(versions, keep), "since": since_label}


def history_rows(versions: list[Version], keep: set[str] | None = None) -> dict[str, Any]:
    """The name and the rows (one per version in keep, else all) of an account's versions, oldest first."""
    rows = []
    previous = last_valid = None
    for v in versions:
        state = None
        if v.loaded is not None:
            valid = v.loaded.account is not None
            state = movement.state_of(v.loaded, assess(v.loaded, v.settings, v.commit.day) if valid else None,
                                     with_health=True)
        renamed_from = v.old_path if v.status == "renamed" else None
        changes = movement.account_changes(previous, state, renamed_from=renamed_from, deleted=v.status == "deleted")
        if previous is not None and not previous.valid and state is not None and state.valid:
            # back to valid: what changed since the last valid state
            since_valid = movement.account_changes(last_valid, state) if last_valid is not None else []
            changes = changes + [c for c in since_valid if c != "added"]
        if state is not None and state.valid:
            last_valid = state
        elif v.status == "deleted":
            last_valid = None
        row = {
            "commit": v.commit.sha, "short": v.commit.short, "date": v.commit.date[:10], "author": v.commit.author,
            "subject": v.commit.subject, "status": v.status, "path": v.path,
            **movement.state_dict(state),
            "health": state.health if state is not None else None,
            "changes": changes,
            "problems": [f.as_dict() for f in v.loaded.findings] if v.loaded is not None else [],
        }
        if keep is None or v.commit.sha in keep:
            rows.append(row)
        if v.status == "deleted":
            previous = None
        elif state is not None:
            previous = state
    name = next((v.loaded.account.name for v in reversed(versions)
                 if v.loaded is not None and v.loaded.account is not None), None)
    return {"name": name, "rows": rows}


def portfolio_history(root: Path, parser: str = "auto", use_cache: bool = True) -> dict[str, dict[str, Any]]:
    """Every account's history (account_history's result) from one `git log` of accounts/ and one
    `cat-file`, not one per account (kamctl site shows them all). A file renamed inside accounts/
    keeps its history under the new id. use_cache: parse through .kamctl-cache/ (keyed by content)."""
    repo = _repo(root)
    folder = repo.path(ACCOUNTS_DIR) + "/"
    raw: dict[str, list[tuple[Commit, str, str, str | None, str]]] = {}
    for entry in reversed(repo.changes(repo.path(ACCOUNTS_DIR))):
        for change in entry.changes:
            name = change.path[len(folder):] if change.path.startswith(folder) else ""
            if "/" in name or name.startswith(".") or not name.endswith((".yaml", ".yml")):
                continue
            status = _STATUS.get(change.status, "modified")
            rel, account_id = change.path[len(repo.prefix):], Path(name).stem
            old = change.old_path[len(repo.prefix):] if change.old_path else None
            if status == "renamed" and old is not None:
                raw[account_id] = raw.pop(Path(old).stem, []) + raw.get(account_id, [])
            raw.setdefault(account_id, []).append((entry.commit, status, rel, old, change.blob))
    commits = {c.sha: c for versions in raw.values() for c, *_ in versions}
    settings_names = {sha: f"{sha}:{repo.path(SETTINGS_FILE)}" for sha in commits}
    objects = repo.cat([blob for versions in raw.values() for *_, status, _, _, blob in versions
                        if status != "deleted"] + list(settings_names.values()), MAX_BYTES)
    cache = Cache(repo.root) if use_cache else None
    out = {}
    for account_id, entries in raw.items():
        versions = []
        for commit, status, rel, old, blob in entries:
            settings = settings_at(repo, commit, objects.get(settings_names[commit.sha]), parser)[0]
            found = objects.get(blob) if status != "deleted" else None
            loaded = _load_blob(repo, "account", rel, commit, found, parser, cache) if found is not None else None
            versions.append(Version(commit, status, rel, old if status == "renamed" else None, loaded, settings))
        out[account_id] = {"account": account_id, **history_rows(versions), "since": None}
    return out


# --- diff -------------------------------------------------------------------------------------------


def diff(root: Path, rev_a: str | None = None, rev_b: str | None = None, threshold: float = 0.5,
         parser: str = "auto", use_cache: bool = True, today: dt.date | None = None) -> dict[str, Any]:
    """What changed between two revisions (default: the last tag or a commit 90+ days old vs the working tree)."""
    repo = _repo(root)
    base = resolve(repo, rev_a) if rev_a else default_base(repo, today)
    today = today or dt.date.today()
    if rev_b:
        target = resolve(repo, rev_b)
        after = workspace_at_commit(repo, target, parser=parser, missing_ok=True, use_cache=use_cache)
        to = target.as_dict()
        as_of_after = target.day
        reuse = {}
    else:
        after = load_workspace(root, parser=parser, use_cache=use_cache)
        to = {"label": "working tree", "commit": None, "date": today.isoformat(), "author": None, "subject": None}
        as_of_after = today
        reuse = blob_ids(after)
    before = workspace_at_commit(repo, base, parser=parser, missing_ok=True, use_cache=use_cache, reuse=reuse)
    result = movement.compare(before, after, base.day, as_of_after, threshold)
    return {"from": base.as_dict(), "to": to, **result}
