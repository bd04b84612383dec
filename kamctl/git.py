"""The only module that runs git: read-only plumbing on a repository nobody vouched for.

A workspace and its history are untrusted (a fork's pull request in CI), so every git process
runs with the repository's code-running settings off and its paths literal:

- `core.fsmonitor=false`, `core.hooksPath=/dev/null`: no fsmonitor daemon or hook from the
  repository's config (`git status` would start core.fsmonitor);
- `--no-pager`, `core.pager=cat`, `color.ui=false`, `log.showSignature=false` (no gpg.program),
  `--no-textconv --no-ext-diff` on `git log`;
- `GIT_LITERAL_PATHSPECS=1`: a file or folder named `*.yaml` or `:(glob)x` is that path, never a pattern;
- `GIT_OPTIONAL_LOCKS=0`: `git status` does not write the index;
- clean/smudge filter drivers defined in the repository's own config (local or worktree scope;
  `git status` runs a clean filter to compare a touched file) are switched off through
  GIT_CONFIG_COUNT (no switch turns every driver off before git 2.40's --attr-source). Drivers
  from the user's own system or global config (git-lfs) stay.

safe.directory is left to git: a repository owned by someone else is refused with a message
saying so, rather than overridden.

Blobs are read with `cat-file --batch-check` first (sizes only), then `--batch` for the blobs
within the caller's limit, so a huge blob in history is never read by git or by kamctl.
Failures raise GitError (a WorkspaceError: exit 2).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from kamctl.errors import GitError

DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DEFAULT_BASE_DAYS = 90
SAFE_OPTIONS = ("--no-pager", "-c", "core.quotePath=false", "-c", "core.fsmonitor=false",
                "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat", "-c", "color.ui=false",
                "-c", "log.showSignature=false", "-c", "status.submoduleSummary=false")
_LOG_SAFE = ("--no-color", "--no-textconv", "--no-ext-diff")
_MARK = "\x1e"  # starts the first line of each commit in `git log` output; the other header lines follow
_LOG_FORMAT = f"--format={_MARK}%H%n%aI%n%an%n%s"
_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_NO_COMMITS = "the repository has no commits yet; commit the workspace first"


# --- running git -----------------------------------------------------------------------------------

_FILTER_RE = re.compile(r"^filter\.(.+)\.(clean|smudge|process|required)$", re.I)
_TRUSTED_SCOPES = ("system", "global", "command")
_GUARDS: dict[str, dict[str, str]] = {}  # folder -> the environment that switches its repository's filters off


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GIT_EXTERNAL_DIFF", None)
    env.update(GIT_OPTIONAL_LOCKS="0", LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat",
               GIT_LITERAL_PATHSPECS="1")
    return env


def _env(cwd: Path) -> dict[str, str]:
    """The safe environment for git in cwd: the base one, plus the repository's own filter drivers off."""
    key = str(cwd)
    if key not in _GUARDS:
        env = _base_env()
        try:
            proc = subprocess.run(_argv(["config", "--list", "--show-scope", "--name-only", "-z"]), cwd=cwd,
                                  capture_output=True, env=env)
            items = proc.stdout.decode(errors="replace").split("\0") if proc.returncode == 0 else []
        except OSError:
            items = []
        count = int(env["GIT_CONFIG_COUNT"]) if env.get("GIT_CONFIG_COUNT", "").isdigit() else 0
        for scope, name in zip(items[0::2], items[1::2]):
            match = _FILTER_RE.match(name)
            if match and scope not in _TRUSTED_SCOPES:
                env[f"GIT_CONFIG_KEY_{count}"] = name
                env[f"GIT_CONFIG_VALUE_{count}"] = "false" if match.group(2).lower() == "required" else ""
                count += 1
        if count:
            env["GIT_CONFIG_COUNT"] = str(count)
        _GUARDS[key] = env
    return _GUARDS[key]


def _argv(args: Iterable[str]) -> list[str]:
    return ["git", *SAFE_OPTIONS, *args]


def run(cwd: Path, args: list[str], input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """One git command with the safe options; GitError when git is missing or (check) fails."""
    try:
        proc = subprocess.run(_argv(args), cwd=cwd, input=input, capture_output=True, env=_env(cwd))
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH); history, diff and --at need it") from None
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc


# --- what git returns --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Change:
    """One file a commit changed (`git log --raw`): status letter A M R C D T, new blob, paths."""

    status: str
    blob: str
    path: str
    old_path: str | None


@dataclass
class LogEntry:
    commit: Commit
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class Blob:
    """An object read by cat: data is None when the blob is over the caller's limit (never read)."""

    sha: str
    size: int
    data: bytes | None


def parse_log(text: str, label: str = "") -> list[LogEntry]:
    """`git log --format=<_LOG_FORMAT> [--raw]` output -> entries, newest first.

    Each commit starts with a line `\\x1e<sha>` followed by exactly three lines (date, author,
    subject; git never puts a newline in them), so nothing in a commit message can pose as a
    commit or a change.
    """
    lines = text.split("\n")
    entries: list[LogEntry] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(_MARK) and _SHA_RE.match(line[1:]):
            date, author, subject = (lines[i + 1:i + 4] + ["", "", ""])[:3]
            entries.append(LogEntry(Commit(line[1:], date, author, subject, label)))
            i += 4
            continue
        if entries and line.startswith(":") and "\t" in line:
            meta, *paths = line.split("\t")
            fields = meta.split(" ")
            if len(fields) >= 5 and paths:
                status = fields[4][:1]
                old = paths[0] if status in ("R", "C") and len(paths) > 1 else None
                entries[-1].changes.append(Change(status, fields[3], paths[-1], old))
        i += 1
    return entries


# --- a repository ------------------------------------------------------------------------------------


@dataclass
class Repo:
    """A workspace inside a git repository: top is the repository, prefix the workspace's folder in it."""

    root: Path
    top: Path
    prefix: str  # "" or "sub/folder/"
    blobs: dict = field(default_factory=dict)  # for history: loaded results per blob, shared across revisions

    def path(self, rel: str) -> str:
        return self.prefix + rel

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return run(self.top, list(args), input, check)

    def log(self, *args: str, raw: bool = False, label: str = "") -> list[LogEntry] | None:
        """`git log` with the one format parse_log reads; None when git fails (no commits yet)."""
        proc = self.git("log", *_LOG_SAFE, *(("--raw", "--no-abbrev") if raw else ()), _LOG_FORMAT, *args,
                        check=False)
        if proc.returncode != 0:
            return None
        return parse_log(proc.stdout.decode(errors="replace"), label)

    def changes(self, path: str, follow: bool = False, mainline: bool = False) -> list[LogEntry]:
        """Every commit from HEAD that changed path (a file, or a folder's files), newest first, renames found.

        mainline: the history along first parents, a merge listed with what it brought in (by
        default git shows a merge's changes nowhere, so its result would look uncommitted)."""
        entries = self.log(*(("--follow",) if follow else ()), *(("--first-parent", "-m") if mainline else ()),
                           "-M", "HEAD", "--", path, raw=True)
        if entries is None:
            raise GitError(_NO_COMMITS)
        return entries

    def commit(self, rev: str, label: str | None = None) -> Commit:
        entries = self.log("-1", "--end-of-options", f"{rev}^{{commit}}", "--", label=label or rev)
        if not entries:
            raise GitError(f"unknown revision {rev!r}: not a commit, tag or branch of this repository; "
                           "give a revision (`git log --oneline` lists them) or a date as YYYY-MM-DD")
        return entries[0].commit

    def tree(self, commit: Commit, *paths: str) -> list[tuple[str, str, str, str]]:
        """`git ls-tree -r` of paths at a commit: (mode, kind, sha, repository path) per entry."""
        listing = self.git("ls-tree", "-r", "-z", "--end-of-options", commit.sha, "--",
                           *paths).stdout.decode(errors="replace")
        out = []
        for entry in filter(None, listing.split("\0")):
            meta, _, path = entry.partition("\t")
            mode, kind, sha = meta.split(" ")
            out.append((mode, kind, sha, path))
        return out

    def after(self, base: Commit) -> set[str]:
        """The commits reachable from HEAD and not from base."""
        return set(self.git("rev-list", f"{base.sha}..HEAD").stdout.decode().split())

    def cat(self, names: Iterable[str], limit: int) -> dict[str, Blob | None]:
        """Blobs by name (sha or rev:path) -> Blob, or None when missing or not a blob.

        Sizes come first from `cat-file --batch-check`; only blobs of at most limit bytes are read
        (one `cat-file --batch` for all of them), so memory stays bounded whatever history holds.
        """
        names = [n for n in dict.fromkeys(names) if "\n" not in n]
        if not names:
            return {}
        out = self.git("cat-file", "--batch-check", input="".join(n + "\n" for n in names).encode()).stdout
        heads = out.decode(errors="replace").split("\n")
        found: dict[str, tuple[str, int] | None] = {}
        for name, head in zip(names, heads):
            parts = head.split(" ")
            ok = len(parts) == 3 and parts[1] == "blob" and parts[2].isdigit() and _SHA_RE.match(parts[0])
            found[name] = (parts[0], int(parts[2])) if ok else None
        wanted = sorted({sha for sha, size in filter(None, found.values()) if size <= limit})
        data = self._read(wanted, limit)
        return {name: (Blob(f[0], f[1], data.get(f[0])) if f else None) for name, f in found.items()}

    def _read(self, shas: list[str], limit: int) -> dict[str, bytes]:
        """`cat-file --batch` of blob shas, reading each by the size in its header (over limit: skipped)."""
        if not shas:
            return {}
        try:
            proc = subprocess.Popen(_argv(["cat-file", "--batch"]), cwd=self.top, env=_env(self.top),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            raise GitError("git is not installed (or not on PATH); history, diff and --at need it") from None
        assert proc.stdin is not None and proc.stdout is not None
        feeder = threading.Thread(target=_feed, args=(proc.stdin, "".join(s + "\n" for s in shas).encode()),
                                  daemon=True)
        feeder.start()
        out: dict[str, bytes] = {}
        try:
            for sha in shas:
                parts = proc.stdout.readline(200).decode(errors="replace").split(" ")
                if len(parts) != 3 or not parts[2].strip().isdigit():
                    continue  # "<sha> missing": nothing follows
                size = int(parts[2])
                if size > limit:
                    _skip(proc.stdout, size + 1)
                    continue
                body = proc.stdout.read(size)
                proc.stdout.read(1)
                if parts[1] == "blob" and len(body) == size:
                    out[sha] = body
        finally:
            proc.stdout.close()
            proc.wait()
            feeder.join()
        return out


def _feed(pipe: IO[bytes], payload: bytes) -> None:
    try:
        pipe.write(payload)
        pipe.close()
    except OSError:
        pass  # git stopped reading; its output says what it did


def _skip(pipe: IO[bytes], size: int, chunk: int = 1 << 16) -> None:
    while size > 0:
        got = pipe.read(min(chunk, size))
        if not got:
            return
        size -= len(got)


def open_repo(root: Path, shown: str | None = None) -> Repo:
    """The git repository holding the workspace (shown: how to name root in a message); GitError when none."""
    root = Path(root)
    proc = run(root, ["rev-parse", "--show-toplevel", "--show-prefix"], check=False)
    if proc.returncode != 0:
        shown = shown or str(root)
        if b"dubious ownership" in proc.stderr:
            raise GitError(f"git refuses the repository holding {shown}: it belongs to another user. If you "
                           "trust it, add it to git's safe.directory (`git config --global --add safe.directory "
                           "PATH`); kamctl does not override that")
        raise GitError(f"{shown} is not in a git repository, so it has no history; "
                       "keep the workspace in git (`git init && git add . && git commit`) to use "
                       "history, diff and --at")
    lines = proc.stdout.decode().split("\n")
    top, prefix = Path(lines[0]), (lines[1] if len(lines) > 1 else "")
    return Repo(root, top, prefix)


# --- revisions and dates -----------------------------------------------------------------------------


def resolve(repo: Repo, at: str) -> Commit:
    """A revision (tag, branch, sha, HEAD~2) or a YYYY-MM-DD date: the last commit on or before that day's end."""
    at = at.strip()
    if not at or at.startswith("-"):
        raise GitError(f"{at!r} is not a revision or a date (YYYY-MM-DD)")
    if DATE_RE.match(at):
        try:
            dt.date.fromisoformat(at)
        except ValueError:
            raise GitError(f"{at!r} is not a real date; write YYYY-MM-DD") from None
        entries = repo.log("-1", f"--before={at} 23:59:59", "HEAD", "--", label=at)
        if entries is None:
            raise GitError(_NO_COMMITS)
        if not entries:
            first = first_commit(repo)
            raise GitError(f"no commit on or before {at}: the first commit is from {first.date[:10]}")
        return entries[0].commit
    return repo.commit(at)


def first_commit(repo: Repo) -> Commit:
    roots = repo.git("rev-list", "--max-parents=0", "HEAD").stdout.decode().split()
    return repo.commit(roots[-1], "first commit")


def default_base(repo: Repo, today: dt.date | None = None) -> Commit:
    """diff's default: the last tag, else the last commit 90 or more days before today, else the first commit."""
    proc = repo.git("describe", "--tags", "--abbrev=0", "HEAD", check=False)
    tag = proc.stdout.decode().strip()
    if proc.returncode == 0 and tag:
        return repo.commit(f"refs/tags/{tag}", f"tag {tag}")
    now = dt.datetime.combine(today, dt.time(23, 59, 59)) if today else dt.datetime.now()
    cutoff = (now - dt.timedelta(days=DEFAULT_BASE_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    entries = repo.log("-1", f"--before={cutoff}", "HEAD", "--", label=f"last commit {DEFAULT_BASE_DAYS}+ days ago")
    if entries is None:
        raise GitError(_NO_COMMITS)
    return entries[0].commit if entries else first_commit(repo)


# --- the working tree's state, for the check cache -----------------------------------------------------


def git_state(root: Path, folder: str = "accounts") -> tuple[str, dict[str, str]]:
    """One `git status` for the workspace: the HEAD commit ("-" outside git, "initial" before the first
    commit) and the status code of each file directly in folder that is not clean (by file name; "??"
    untracked)."""
    try:
        proc = run(Path(root), ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all",
                                "--ignore-submodules=all", "--", folder], check=False)
    except (GitError, OSError):
        return "-", {}
    if proc.returncode != 0:
        return "-", {}
    head, files = "?", {}
    tokens = proc.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    skip = False

    def direct(path: str) -> str | None:  # the file name of a file directly in folder, else None
        parent, _, name = path.rpartition("/")
        return name if parent == folder or parent.endswith("/" + folder) else None

    for tok in tokens:
        if skip:  # the original path of a rename
            skip = False
            continue
        if tok.startswith("# branch.oid "):
            head = tok[len("# branch.oid "):].strip()
        elif tok[:2] in ("1 ", "2 ", "u "):
            kind = tok[0]
            parts = tok.split(" ", {"1": 8, "2": 9, "u": 10}[kind])
            name = direct(parts[-1])
            if name is not None:
                files[name] = parts[1]
            skip = kind == "2"
        elif tok.startswith("? "):
            name = direct(tok[2:])
            if name is not None:
                files[name] = "??"
    return head, files
