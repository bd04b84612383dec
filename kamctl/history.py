"""Plans that remember: the workspace at a git revision or date, read through the `git` command line.

Nothing here touches the working tree, the index or HEAD: only read-only plumbing runs
(`rev-parse`, `log`, `ls-tree`, `cat-file --batch`, `describe`), with optional locks off. Files are
read from blobs and go through the same read + validate path as files on disk
(`kamctl.workspace.load_account_bytes`), so an account invalid at some revision comes back
with findings, never an exception. Usage problems (no git repository, unknown revision, a date
before the first commit) raise `WorkspaceError` (exit 2).

One `git log`/`ls-tree` and one `cat-file --batch` process per revision or per history, never one
per file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from kamctl.ids import did_you_mean
from kamctl.workspace import ACCOUNTS_DIR, SETTINGS_FILE, LoadedAccount, Workspace, WorkspaceError

DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_SEP, _FIELD = "\x1e", "\x1f"
_LOG_FORMAT = f"{_SEP}%H{_FIELD}%aI{_FIELD}%an{_FIELD}%s"
DEFAULT_BASE_DAYS = 90


# --- running git -----------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_OPTIONAL_LOCKS="0", LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat")
    return env


def _run(cwd: Path, args: list[str], input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", "-c", "core.quotePath=false", *args], cwd=cwd, input=input,
                              capture_output=True, env=_env())
    except FileNotFoundError:
        raise WorkspaceError("git is not installed (or not on PATH); history, diff and --at need it") from None
    if check and proc.returncode != 0:
        raise WorkspaceError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str  # author date, ISO 8601 with offset
    author: str
    subject: str
    label: str  # what the user asked for (a tag, a date, HEAD~3) or how it was chosen

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date[:10])

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "commit": self.sha, "date": self.date[:10], "author": self.author,
                "subject": self.subject}


def _parse_commit(header: str, label: str) -> Commit:
    sha, date, author, subject = (header.split(_FIELD) + ["", "", "", ""])[:4]
    return Commit(sha.strip(), date, author, subject.rstrip("\n"), label)


@dataclass
class Repo:
    """A workspace inside a git repository: top is the repository, prefix the workspace's folder in it."""

    root: Path
    top: Path
    prefix: str  # "" or "sub/folder/"
    _blobs: dict = field(default_factory=dict)  # blob sha -> loaded result, shared across revisions

    def path(self, rel: str) -> str:
        return self.prefix + rel

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return _run(self.top, list(args), input, check)

    def cat(self, names: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        """`git cat-file --batch` for many objects in one process: name -> (object sha, bytes) or None."""
        names = list(dict.fromkeys(names))
        if not names:
            return {}
        out = self.git("cat-file", "--batch", input="".join(n + "\n" for n in names).encode()).stdout
        result: dict[str, tuple[str, bytes] | None] = {}
        pos = 0
        for name in names:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode(errors="replace").split(" ")
            pos = end + 1
            if len(header) != 3 or header[1] in ("missing", "ambiguous"):
                result[name] = None
                continue
            size = int(header[2])
            result[name] = (header[0], out[pos:pos + size]) if header[1] == "blob" else None
            pos += size + 1
        return result

    def commit(self, rev: str, label: str | None = None) -> Commit:
        proc = self.git("log", "-1", f"--format={_LOG_FORMAT}", "--end-of-options", f"{rev}^{{commit}}", "--",
                        check=False)
        text = proc.stdout.decode(errors="replace").strip(_SEP + "\n")
        if proc.returncode != 0 or not text:
            raise WorkspaceError(f"unknown revision {rev!r}: not a commit, tag or branch of this repository; "
                                 "give a revision (`git log --oneline` lists them) or a date as YYYY-MM-DD")
        return _parse_commit(text, label or rev)


def open_repo(root: Path) -> Repo:
    """The git repository holding the workspace; WorkspaceError when there is none."""
    from kamctl.workspace import display

    root = Path(root)
    proc = _run(root, ["rev-parse", "--show-toplevel", "--show-prefix"], check=False)
    if proc.returncode != 0:
        raise WorkspaceError(f"{display(root)} is not in a git repository, so it has no history; "
                             "keep the workspace in git (`git init && git add . && git commit`) to use "
                             "history, diff and --at")
    lines = proc.stdout.decode().split("\n")
    top, prefix = Path(lines[0]), (lines[1] if len(lines) > 1 else "")
    return Repo(root, top, prefix)


def resolve(repo: Repo, at: str) -> Commit:
    """A revision (tag, branch, sha, HEAD~2) or a YYYY-MM-DD date: the last commit on or before that day's end."""
    at = at.strip()
    if not at or at.startswith("-"):
        raise WorkspaceError(f"{at!r} is not a revision or a date (YYYY-MM-DD)")
    if DATE_RE.match(at):
        try:
            dt.date.fromisoformat(at)
        except ValueError:
            raise WorkspaceError(f"{at!r} is not a real date; write YYYY-MM-DD") from None
        proc = repo.git("log", "-1", f"--format={_LOG_FORMAT}", f"--before={at} 23:59:59", "HEAD", "--", check=False)
        text = proc.stdout.decode(errors="replace").strip(_SEP + "\n")
        if proc.returncode != 0:
            raise WorkspaceError("the repository has no commits yet; commit the workspace first")
        if not text:
            first = _first_commit(repo)
            raise WorkspaceError(f"no commit on or before {at}: the first commit is from {first.date[:10]}")
        return _parse_commit(text, at)
    return repo.commit(at)


def _first_commit(repo: Repo) -> Commit:
    roots = repo.git("rev-list", "--max-parents=0", "HEAD").stdout.decode().split()
    return repo.commit(roots[-1], "first commit")


def default_base(repo: Repo, today: dt.date | None = None) -> Commit:
    """diff's default: the last tag, else the last commit 90 or more days ago, else the first commit."""
    proc = repo.git("describe", "--tags", "--abbrev=0", "HEAD", check=False)
    tag = proc.stdout.decode().strip()
    if proc.returncode == 0 and tag:
        return repo.commit(f"refs/tags/{tag}", f"tag {tag}")
    now = dt.datetime.combine(today, dt.time(23, 59, 59)) if today else dt.datetime.now()
    cutoff = (now - dt.timedelta(days=DEFAULT_BASE_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    proc = repo.git("log", "-1", f"--format={_LOG_FORMAT}", f"--before={cutoff}", "HEAD", "--", check=False)
    if proc.returncode != 0:
        raise WorkspaceError("the repository has no commits yet; commit the workspace first")
    text = proc.stdout.decode(errors="replace").strip(_SEP + "\n")
    if text:
        return _parse_commit(text, f"last commit {DEFAULT_BASE_DAYS}+ days ago")
    return _first_commit(repo)


# --- a workspace at a revision ---------------------------------------------------------------------


def _shown(rel: str, commit: Commit) -> str:
    return f"{rel}@{commit.short}"


def _load_blob(repo: Repo, kind: str, rel: str, commit: Commit, obj: tuple[str, bytes], parser: str,
               cache: Any = None) -> Any:
    """Settings or an account from blob bytes through the workspace read path, cached per blob."""
    from kamctl.workspace import load_account_bytes, load_settings

    sha, raw = obj
    key = (kind, sha, rel)
    if key not in repo._blobs:
        shown = _shown(rel, commit)
        if kind == "settings":
            repo._blobs[key] = load_settings(repo.root, parser, raw=raw, shown=shown)
        else:
            repo._blobs[key] = load_account_bytes(raw, repo.root / rel, shown, parser, cache)
    return repo._blobs[key]


def settings_at(repo: Repo, commit: Commit, obj: tuple[str, bytes] | None, parser: str = "auto") -> tuple[Any, str, list]:
    if obj is None:
        from kamctl.model.settings import Settings

        return Settings(), _shown(SETTINGS_FILE, commit), []
    return _load_blob(repo, "settings", SETTINGS_FILE, commit, obj, parser)


def workspace_at_commit(repo: Repo, commit: Commit, ids: Iterable[str] | None = None, parser: str = "auto",
                        missing_ok: bool = False, use_cache: bool = True,
                        reuse: dict[str, LoadedAccount] | None = None) -> Workspace:
    """The workspace as committed: kam.yaml and accounts/*.yaml from one ls-tree and one cat-file.

    use_cache: share the working tree's parse/validate cache (.kamctl-cache/, keyed by content).
    reuse: blob sha -> an already loaded clean account with exactly that content (the working tree's).
    """
    from kamctl.findings import Finding, Severity
    from kamctl.yamlio.read import MAX_BYTES

    settings_path = repo.path(SETTINGS_FILE)
    accounts_path = repo.path(ACCOUNTS_DIR)
    listing = repo.git("ls-tree", "-r", "-z", "--end-of-options", commit.sha, "--", settings_path,
                       accounts_path).stdout.decode(errors="replace")
    settings_blob = None
    files: list[tuple[str, str, str]] = []  # (mode, sha, workspace-relative path)
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, kind, sha = meta.split(" ")
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
                     + ([settings_blob] if settings_blob else []))
    settings, shown, settings_findings = settings_at(repo, commit, blobs.get(settings_blob) if settings_blob else None,
                                                     parser)
    cache = None
    if use_cache:
        from kamctl.cache import Cache

        cache = Cache(repo.root)
    accounts = []
    for mode, sha, rel in files:
        if mode != "120000" and _reusable(reuse, sha, rel):
            accounts.append(reuse[sha])
            continue
        obj = blobs.get(sha)
        refusal = None
        if mode == "120000":
            refusal = ("KAM008", "this file was a link at that revision; kamctl does not follow links")
        elif obj is None:
            refusal = ("KAM008", "the file could not be read from git")
        elif len(obj[1]) > MAX_BYTES:
            refusal = ("KAM004", f"file is {len(obj[1]):,} bytes; the limit is {MAX_BYTES:,}")
        if refusal:
            loaded = LoadedAccount(id=Path(rel).stem, path=_shown(rel, commit), file=repo.root / rel)
            loaded.findings.append(Finding(refusal[0], Severity.error, loaded.path, 1, 1, refusal[1], loaded.id))
            accounts.append(loaded)
        else:
            accounts.append(_load_blob(repo, "account", rel, commit, obj, parser, cache))
    ws = Workspace(repo.root, settings, shown, settings_findings, accounts)
    ws.revision = commit  # type: ignore[attr-defined]  # for headers: which commit this is
    return ws


def _reusable(reuse: dict[str, LoadedAccount], sha: str, rel: str) -> bool:
    found = reuse.get(sha)
    return found is not None and found.id == Path(rel).stem


def blob_ids(ws: Workspace) -> dict[str, LoadedAccount]:
    """Git blob ids (sha1) of the clean accounts of a working-tree workspace, to reuse them at a revision."""
    import hashlib

    out = {}
    for la in ws.accounts:
        if la.account is None or la.findings:
            continue
        try:
            raw = Path(la.file).read_bytes()
        except OSError:
            continue
        out[hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()] = la
    return out


def load_workspace_at(root: Path, at: str, ids: Iterable[str] | None = None, parser: str = "auto") -> Workspace:
    """The workspace as it was at a git revision or date (YYYY-MM-DD: the last commit that day or before).

    Same Workspace as load_workspace; raises WorkspaceError for no repository, an unknown revision or
    a date before the first commit.
    """
    repo = open_repo(root)
    return workspace_at_commit(repo, resolve(repo, at), ids, parser)


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


def _log_entries(text: str) -> list[tuple[str, list[list[str]]]]:
    entries = []
    for chunk in text.split(_SEP):
        if not chunk.strip():
            continue
        header, _, rest = chunk.partition("\n")
        changes = [line.split("\t") for line in rest.split("\n") if "\t" in line]
        entries.append((header, changes))
    return entries


_STATUS = {"A": "added", "M": "modified", "R": "renamed", "C": "added", "D": "deleted", "T": "modified"}


def account_versions(repo: Repo, account_id: str, parser: str = "auto") -> list[Version]:
    """Every commit that changed the account's file, oldest first, following renames (git log --follow)."""
    rel = f"{ACCOUNTS_DIR}/{account_id}.yaml"
    proc = repo.git("log", "--follow", "-M", f"--format={_LOG_FORMAT}", "--name-status", "HEAD", "--",
                    repo.path(rel), check=False)
    if proc.returncode != 0:
        raise WorkspaceError("the repository has no commits yet; commit the workspace first")
    raw: list[tuple[Commit, str, str, str | None]] = []
    for header, changes in _log_entries(proc.stdout.decode(errors="replace")):
        commit = _parse_commit(header, "")
        commit = Commit(commit.sha, commit.date, commit.author, commit.subject, commit.short)
        if not changes:
            continue  # a merge without its own change to the file
        parts = changes[-1]
        code = parts[0][:1]
        status = _STATUS.get(code, "modified")
        new = parts[-1]
        old = parts[1] if code in ("R", "C") and len(parts) >= 3 else None
        raw.append((commit, status, new, old))
    raw.reverse()
    names = []
    for commit, status, path, _ in raw:
        names.append(f"{commit.sha}:{path}")
        names.append(f"{commit.sha}:{repo.path(SETTINGS_FILE)}")
    objects = repo.cat(names)
    versions = []
    for commit, status, path, old in raw:
        wrel = path[len(repo.prefix):] if path.startswith(repo.prefix) else path
        orel = old[len(repo.prefix):] if old and old.startswith(repo.prefix) else old
        settings = settings_at(repo, commit, objects.get(f"{commit.sha}:{repo.path(SETTINGS_FILE)}"), parser)[0]
        loaded = None
        if status != "deleted":
            obj = objects.get(f"{commit.sha}:{path}")
            if obj is not None:
                loaded = _load_blob(repo, "account", wrel, commit, obj, parser)
        versions.append(Version(commit, status, wrel, orel, loaded, settings))
    return versions


def account_history(root: Path, account_id: str, since: str | None = None, parser: str = "auto") -> dict[str, Any]:
    """History rows of one account, oldest first: scores, quadrant, level, pipeline, satisfaction, changes.

    since: a date (commits on or after it) or a revision (commits after it).
    """
    from kamctl import movement

    repo = open_repo(root)
    versions = account_versions(repo, account_id, parser)
    if not versions:
        raise WorkspaceError(f"no history for account '{account_id}': git has no commit of "
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
            proc = repo.git("rev-list", f"{base.sha}..HEAD")
            after = set(proc.stdout.decode().split())
            keep = {v.commit.sha for v in versions if v.commit.sha in after}
            since_label = f"{since} ({base.short})"
    rows = []
    previous = last_valid = None
    for v in versions:
        state = movement.state_of(v.loaded, v.settings, v.commit.day) if v.loaded is not None else None
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
    return {"account": account_id, "name": name, "since": since_label, "rows": rows}


# --- diff -------------------------------------------------------------------------------------------


def diff(root: Path, rev_a: str | None = None, rev_b: str | None = None, threshold: float = 0.5,
         parser: str = "auto", use_cache: bool = True, today: dt.date | None = None) -> dict[str, Any]:
    """What changed between two revisions (default: the last tag or a commit 90+ days old vs the working tree)."""
    from kamctl import movement
    from kamctl.workspace import load_workspace

    today = today or dt.date.today()
    repo = open_repo(root)
    base = resolve(repo, rev_a) if rev_a else default_base(repo, None)
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
