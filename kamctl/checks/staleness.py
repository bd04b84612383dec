"""KAM8xx: plans that go stale, from git history (kamctl.git).

When a section last changed is read from git: the account file's commits (renames followed) are
compared section by section, newest first; uncommitted edits count as a change today. Outside a
git repository these rules yield nothing. One `git log` and one `git cat-file --batch` serve every
account of a run (shared through Context.cache).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.errors import GitError
from kamctl.git import Repo, open_repo
from kamctl.yamlio.read import MAX_BYTES, parse_bytes, read_bytes

SECTIONS = {
    "strategy": "account strategy",
    "plan": "development plan",
    "decision_makers": "relationship map (decision makers)",
}
_CACHE_KEY = "kamctl.staleness"


class _Index:
    """Every commit touching accounts/, and the blobs of each account file's versions."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        try:
            entries = repo.changes(repo.path("accounts"), mainline=True)
        except GitError:
            entries = []
        self.by_path: dict[str, list[tuple[int, str, str, str, str | None]]] = {}
        for i, entry in enumerate(entries):
            date = entry.commit.date[:10]
            for c in entry.changes:
                self.by_path.setdefault(c.path, []).append((i, date, c.status, c.blob, c.old_path))
        self._versions: dict[str, list[tuple[str, str | None]]] = {}
        self._blobs: dict[str, Any] = {}
        self._data: dict[str, Any] = {}

    def versions(self, path: str) -> list[tuple[str, str | None]]:
        """(author date, blob sha or None when deleted) of a file's commits, newest first, renames followed."""
        if path in self._versions:
            return self._versions[path]
        out: list[tuple[str, str | None]] = []
        current: str | None = path
        after = -1
        while current is not None:
            entries = [e for e in self.by_path.get(current, []) if e[0] > after]
            nxt = None
            for idx, date, status, blob, old in entries:
                out.append((date, None if status == "D" else blob))
                after = idx
                if status in ("R", "C"):
                    nxt = old
                    break
                if status == "A":
                    break
            current = nxt
        self._versions[path] = out
        return out

    def data(self, blob: str) -> Any:
        """The parsed content of a blob (fetched with every other version in one cat-file; over the
        read limit: None, as if empty)."""
        if blob not in self._data:
            if blob not in self._blobs:
                wanted = {b for vs in (self.versions(p) for p in self.by_path) for _, b in vs if b}
                wanted.add(blob)
                for name, obj in self.repo.cat(sorted(wanted - set(self._blobs)), MAX_BYTES).items():
                    self._blobs[name] = obj.data if obj else None
            self._data[blob] = _parse(self._blobs.get(blob))
        return self._data[blob]


def _parse(raw: bytes | None) -> Any:
    if raw is None:
        return None
    data = parse_bytes(raw, "(git)").data
    return data if isinstance(data, dict) else None


def _index(ctx: Context) -> _Index | None:
    key = (_CACHE_KEY, str(ctx.root))
    if key not in ctx.cache:
        try:
            ctx.cache[key] = _Index(open_repo(ctx.root))
        except GitError:
            ctx.cache[key] = None
    return ctx.cache[key]


def last_changes(loaded: Any, ctx: Context) -> dict[str, dt.date | None] | None:
    """When each section last changed (None: never written); None outside git or for untracked files."""
    index = _index(ctx)
    if index is None:
        return None
    key = (_CACHE_KEY, "changes", loaded.id)
    if key in ctx.cache:
        return ctx.cache[key]
    versions = index.versions(index.repo.path(f"accounts/{loaded.file.name}"))
    if not versions or versions[0][1] is None:
        ctx.cache[key] = None
        return None
    raw, _ = read_bytes(loaded.file, loaded.path, loaded._root)  # through fsafe: no FIFO hang, no link out
    current = _parse(raw) or {}
    out: dict[str, dt.date | None] = {}
    for section in SECTIONS:
        value = current.get(section)
        if not value:
            out[section] = None
            continue
        newest = index.data(versions[0][1]) or {}
        if newest.get(section) != value:
            out[section] = ctx.as_of  # edited and not committed yet
            continue
        changed = versions[-1][0]
        for (date, blob), (_, older) in zip(versions, versions[1:]):
            before = (index.data(older) or {}) if older else {}
            after = (index.data(blob) or {}) if blob else {}
            if before.get(section) != after.get(section):
                changed = date
                break
        out[section] = dt.date.fromisoformat(changed)
    ctx.cache[key] = out
    return out


@check("KAM801", "stale-plan", "warning",
       "The account strategy, development plan or relationship map has not changed in git for longer "
       "than checks.limits.stale_plan_days (180 by default): a plan nobody touches is not being used. "
       "Empty sections are left to the completeness rules; outside a git repository this rule is silent.",
       "Review the section with the account team and commit what changed (or the review itself).",
       "history")
def stale_plan(loaded: Any, ctx: Context) -> Iterator[tuple]:
    changes = last_changes(loaded, ctx)
    if not changes:
        return
    limit = ctx.settings.checks.limits.stale_plan_days
    for section, words in SECTIONS.items():
        changed = changes.get(section)
        if changed is None:
            continue
        days = (ctx.as_of - changed).days
        if days > limit:
            yield (section,), f"{words} unchanged for {days} days (last changed {changed.isoformat()}; limit {limit})"


@check("KAM802", "plan-year-ended", "warning",
       "The development plan's year is over and the plan has not changed since it ended: there is no plan "
       "for this year. Outside a git repository this rule is silent.",
       "Write this year's plan: set plan.year and new objectives, strategies and tactics.",
       "history")
def plan_year_ended(loaded: Any, ctx: Context) -> Iterator[tuple]:
    year = loaded.account.plan.year
    if year is None or year >= ctx.as_of.year:
        return
    changes = last_changes(loaded, ctx)
    if not changes or changes.get("plan") is None:
        return
    ended = dt.date(year, 12, 31)
    if changes["plan"] <= ended:
        yield ("plan", "year"), (f"plan year {year} ended on {ended.isoformat()} and the plan has not changed "
                                 f"since (last changed {changes['plan'].isoformat()}); write the {ctx.as_of.year} plan")
