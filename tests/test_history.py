"""Issue 8, plans that remember: history, diff, --at and the staleness rules, on real git repositories.

Every repository is built in a tmp folder with commits at set dates and authors; the workspace sits
in a subfolder (kam/) of the repository, as it may in a real monorepo.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import make_workspace


# --- building repositories ------------------------------------------------------------------------------


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    full = {**os.environ, **(env or {})}
    return subprocess.run(["git", *args], cwd=repo, env=full, check=True, capture_output=True, text=True).stdout


def init_repo(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "commit.gpgsign", "false")
    return repo


def commit(repo: Path, message: str, date: str, author: str = "Ann") -> str:
    stamp = f"{date}T12:00:00+00:00"
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_NAME": author,
           "GIT_COMMITTER_NAME": author}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def account(name: str, attr: float, rel: float, sensitivity: str = "high", loyalty: str = "low",
            stage: str | None = None, survey: float | None = None, extra: str = "") -> str:
    text = f"""\
name: {name}
attractiveness:
  size: {attr}
relative_strength:
  price: {rel}
relationship:
  price_sensitivity: {sensitivity}
  loyalty: {loyalty}
"""
    if stage:
        text += f"""\
opportunities:
  - id: big-deal
    title: Big deal
    value: 100000
    currency: EUR
    stage: {stage}
"""
    if survey is not None:
        text += f"""\
performance:
  surveys:
    - date: 2026-02-01
      score: {survey}
"""
    return text + textwrap.dedent(extra)


@pytest.fixture
def repo(tmp_path):
    """kam/ in a repository with five commits: acme moves Star -> Strategic, is invalid once and wins
    its deal; beta is renamed to beta-gmbh; delta is deleted; gamma is added."""
    top = init_repo(tmp_path / "repo")
    ws = make_workspace(top / "kam")
    acc = ws / "accounts"
    write(acc / "acme.yaml", account("Acme", 7, 3, stage="pursuit"))
    write(acc / "beta.yaml", account("Beta", 3, 3))
    write(acc / "delta.yaml", account("Delta", 6, 6))
    commit(top, "first plans", "2026-01-10", "Ann")
    git(top, "tag", "v1")
    write(acc / "acme.yaml", account("Acme", 7, 8, "medium", "some", stage="closing", survey=4.2))
    commit(top, "acme review", "2026-02-10", "Bob")
    write(acc / "acme.yaml", account("Acme", 11, 8, "medium", "some", stage="closing", survey=4.2))
    commit(top, "typo", "2026-03-10", "Ann")
    write(acc / "acme.yaml", account("Acme", 7, 8, "medium", "some", stage="contract", survey=4.2))
    git(top, "mv", "kam/accounts/beta.yaml", "kam/accounts/beta-gmbh.yaml")
    commit(top, "acme won; beta renamed", "2026-04-10", "Bob")
    (acc / "delta.yaml").unlink()
    write(acc / "gamma.yaml", account("Gamma", 8, 8))
    commit(top, "delta gone, gamma new", "2026-05-10", "Ann")
    return ws


def snapshot(top: Path) -> tuple:
    """What a read-only command must leave exactly as it was."""
    return (git(top, "status", "--porcelain", "--untracked-files=all"), git(top, "rev-parse", "HEAD"),
            (top / ".git" / "index").read_bytes(), git(top, "stash", "list"))


def run_json(kamctl, *args, ws):
    r = kamctl(*args, "--format", "json", ws=ws)
    assert r.exit_code == 0, r
    return json.loads(r.stdout)


# --- history --------------------------------------------------------------------------------------------


def test_history_rows_and_changes_in_words(kamctl, repo):
    data = run_json(kamctl, "history", "acme", ws=repo)
    rows = data["rows"]
    assert [r["date"] for r in rows] == ["2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10"]
    assert [r["author"] for r in rows] == ["Ann", "Bob", "Ann", "Bob"]
    first, review, broken, won = rows
    assert first["changes"] == ["added"]
    assert (first["attractiveness"], first["relative_strength"], first["quadrant"]) == (7.0, 3.0, "Star")
    assert first["level"] == "product_provider" and first["open_value"] == {"EUR": 100000.0}
    assert "quadrant Star -> Strategic" in review["changes"]
    assert "level Product Provider -> Value-add" in review["changes"]
    assert "opportunity big-deal: pursuit -> closing" in review["changes"]
    assert "relative strength 3.0 -> 8.0 (+5.0)" in review["changes"]
    assert review["satisfaction"] == 4.2
    # a revision where the file was invalid: reported, not fatal
    assert broken["valid"] is False and broken["attractiveness"] is None
    assert broken["changes"] == ["invalid (1 problem)"]
    assert [p["rule"] for p in broken["problems"]] == ["KAM103"]
    assert broken["problems"][0]["file"].startswith("accounts/acme.yaml@")
    assert "valid again" in won["changes"]
    assert "opportunity big-deal: closing -> contract (won)" in won["changes"]
    assert won["open_value"] == {}


def test_history_follows_a_renamed_file(kamctl, repo):
    rows = run_json(kamctl, "history", "beta-gmbh", ws=repo)["rows"]
    assert [(r["status"], r["path"]) for r in rows] == [("added", "accounts/beta.yaml"),
                                                         ("renamed", "accounts/beta-gmbh.yaml")]
    assert rows[1]["changes"] == ["renamed from accounts/beta.yaml"]


def test_history_of_a_deleted_account(kamctl, repo):
    rows = run_json(kamctl, "history", "delta", ws=repo)["rows"]
    assert [r["status"] for r in rows] == ["added", "deleted"]
    assert rows[1]["changes"] == ["file deleted"] and rows[1]["quadrant"] is None


def test_history_since_date_and_revision(kamctl, repo):
    assert [r["date"] for r in run_json(kamctl, "history", "acme", "--since", "2026-03-10", ws=repo)["rows"]] == [
        "2026-03-10", "2026-04-10"]
    since_tag = run_json(kamctl, "history", "acme", "--since", "v1", ws=repo)
    assert [r["date"] for r in since_tag["rows"]] == ["2026-02-10", "2026-03-10", "2026-04-10"]
    # the first row shown still describes its change from the commit before it
    assert "quadrant Star -> Strategic" in since_tag["rows"][0]["changes"]


def test_history_table_and_markdown(kamctl, repo):
    table = kamctl("history", "acme", ws=repo)
    assert table.exit_code == 0, table
    assert "Strategic" in table.stdout and "quadrant Star -> Strategic" in table.stdout
    assert "(Bob)" in table.stdout
    md = kamctl("history", "acme", "--format", "markdown", ws=repo)
    assert md.exit_code == 0, md
    assert "| Date | Commit | Author | Attractiveness | Relative strength |" in md.stdout
    chart = md.stdout.split("```mermaid\n")[1].split("```")[0]
    assert chart.startswith("xychart-beta")
    # the invalid revision has no scores, so it is not a point of the chart
    assert 'x-axis ["2026-01-10", "2026-02-10", "2026-04-10"]' in chart
    assert "line [7.0, 7.0, 7.0]" in chart and "line [3.0, 8.0, 8.0]" in chart


def test_history_of_an_unknown_account_is_a_usage_error(kamctl, repo):
    r = kamctl("history", "nobody", ws=repo)
    assert r.exit_code == 2 and "no history for account 'nobody'" in r.stderr


# --- --at ---------------------------------------------------------------------------------------------


def test_score_at_a_date_and_a_revision(kamctl, repo):
    # a date means the last commit on or before the end of that day
    at_day = {a["id"]: a["quadrant_name"] for a in run_json(kamctl, "score", "--at", "2026-02-10", ws=repo)}
    assert at_day == {"acme": "Strategic", "beta": "Streamline", "delta": "Strategic"}
    before = {a["id"]: a["quadrant_name"] for a in run_json(kamctl, "score", "--at", "2026-02-09", ws=repo)}
    assert before["acme"] == "Star"
    at_tag = {a["id"] for a in run_json(kamctl, "score", "--at", "v1", ws=repo)}
    assert at_tag == {"acme", "beta", "delta"}
    now = {a["id"] for a in run_json(kamctl, "score", "--at", "HEAD", ws=repo)}
    assert now == {"acme", "beta-gmbh", "gamma"}


def test_load_workspace_at_reports_invalid_files_as_findings(repo):
    from kamctl.history import load_workspace_at

    ws = load_workspace_at(repo, "2026-03-10")
    acme = ws.get("acme")
    assert acme.account is None and [f.rule for f in acme.findings] == ["KAM103"]
    assert ws.get("beta").ok
    assert ws.revision.author == "Ann"
    only = load_workspace_at(repo, "HEAD", ["gamma"])
    assert [a.id for a in only.accounts] == ["gamma"]


@pytest.mark.parametrize("at, message", [
    ("2025-12-31", "no commit on or before 2025-12-31: the first commit is from 2026-01-10"),
    ("no-such-tag", "unknown revision 'no-such-tag'"),
    ("2026-02-30", "not a real date"),
])
def test_at_errors_are_usage_errors(kamctl, repo, at, message):
    r = kamctl("score", "--at", at, ws=repo)
    assert r.exit_code == 2, r
    assert message in r.stderr and "Traceback" not in r.output


def test_not_a_git_repository(kamctl, workspace, monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    ws = workspace({"acme": account("Acme", 7, 3)})
    for args in (["history", "acme"], ["diff"], ["score", "--at", "HEAD"]):
        r = kamctl(*args, ws=ws)
        assert r.exit_code == 2, (args, r)
        assert "is not in a git repository" in r.stderr, args
        assert "Traceback" not in r.output
    # the staleness rules are silent outside git
    check = kamctl("check", "--select", "KAM8", "--format", "json", ws=ws)
    assert json.loads(check.stdout)["findings"] == []


def test_history_commands_leave_working_tree_index_and_head_alone(kamctl, repo):
    top = repo.parent
    write(repo / "accounts" / "acme.yaml", account("Acme", 9, 9))  # unstaged edit
    write(repo / "accounts" / "new.yaml", account("New", 1, 1))  # untracked file
    write(repo / "accounts" / "gamma.yaml", account("Gamma", 2, 2))
    git(top, "add", "kam/accounts/gamma.yaml")  # staged edit
    before = snapshot(top)
    for args in (["history", "acme"], ["history", "beta-gmbh", "--format", "markdown"], ["diff"],
                 ["diff", "v1", "HEAD", "--format", "json"], ["score", "--at", "2026-03-10"],
                 ["check", "--select", "KAM8"]):
        r = kamctl(*args, ws=repo)
        assert r.exit_code in (0, 1), (args, r)
        assert snapshot(top) == before, args


# --- diff ---------------------------------------------------------------------------------------------


def test_diff_defaults_to_the_last_tag_against_the_working_tree(kamctl, repo):
    write(repo / "accounts" / "gamma.yaml", account("Gamma", 8, 2))  # uncommitted: Strategic -> Star
    alert = "  alerts:\n    - date: 2026-05-02\n      message: Key contact left\n"
    write(repo / "accounts" / "acme.yaml", account("Acme", 7, 8, "medium", "some", stage="contract", survey=4.2) + alert)
    data = run_json(kamctl, "diff", ws=repo)
    assert any(a["account"] == "acme" and "Key contact left" in a["message"] for a in data["new_alerts"])
    assert not any(a["account"] == "beta-gmbh" for a in data["new_alerts"])  # same file, same alerts
    assert data["from"]["label"] == "tag v1" and data["to"]["label"] == "working tree"
    assert [a["id"] for a in data["added"]] == ["gamma"]
    assert [a["id"] for a in data["removed"]] == ["delta"]
    assert data["renamed"] == [{"from": "beta", "to": "beta-gmbh"}]
    assert data["quadrant_moves"] == [{"id": "acme", "from": "Star", "to": "Strategic"}]
    assert data["level_changes"] == [{"id": "acme", "from": "product_provider", "to": "value_add"}]
    assert [(s["id"], s["axis"], s["delta"]) for s in data["score_changes"]] == [("acme", "relative_strength", 5.0)]
    assert [(o["account"], o["id"], o["from"], o["to"]) for o in data["opportunities"]["won"]] == [
        ("acme", "big-deal", "pursuit", "contract")]
    gamma = next(a for a in data["accounts"] if a["id"] == "gamma")
    assert gamma["after"]["quadrant"] == "Star"


def test_diff_between_two_revisions_and_threshold(kamctl, repo):
    top = repo.parent
    write(repo / "accounts" / "gamma.yaml", account("Gamma", 8.3, 8))
    commit(top, "gamma up a little", "2026-06-01")
    small = run_json(kamctl, "diff", "HEAD~1", "HEAD", ws=repo)
    assert small["score_changes"] == [] and small["unchanged"] == 3 and small["to"]["date"] == "2026-06-01"
    assert small["accounts"] == []
    fine = run_json(kamctl, "diff", "HEAD~1", "HEAD", "--threshold", "0.2", ws=repo)
    assert [(s["id"], s["from"], s["to"]) for s in fine["score_changes"]] == [("gamma", 8.0, 8.3)]
    advanced = run_json(kamctl, "diff", "2026-01-10", "2026-02-10", ws=repo)
    assert [o["to"] for o in advanced["opportunities"]["advanced"]] == ["closing"]


def test_diff_markdown_has_before_after_table_with_arrows(kamctl, repo):
    r = kamctl("diff", "v1", "HEAD", "--format", "markdown", ws=repo)
    assert r.exit_code == 0, r
    assert r.stdout.startswith("# KAM changes: v1 (`")
    assert "| Account | Quadrant | Attractiveness | Relative strength | Level | Open pipeline |" in r.stdout
    assert "| Acme (`acme`) | Star → **Strategic** | 7.0 | 3.0 → 8.0 ↑ |" in r.stdout
    assert "**Won**" in r.stdout and "Big deal (`big-deal`): pursuit → contract" in r.stdout


def test_diff_default_without_tags_is_the_last_commit_90_days_ago(kamctl, tmp_path):
    top = init_repo(tmp_path / "repo")
    ws = make_workspace(top)
    today = dt.date.today()
    for days, attr in ((200, 2), (100, 4), (10, 6)):
        write(ws / "accounts" / "acme.yaml", account("Acme", attr, 8))
        commit(top, f"{days} days ago", (today - dt.timedelta(days=days)).isoformat())
    data = run_json(kamctl, "diff", ws=ws)
    assert data["from"]["date"] == (today - dt.timedelta(days=100)).isoformat()
    assert data["quadrant_moves"] == [{"id": "acme", "from": "Status", "to": "Strategic"}]


def test_diff_reports_files_invalid_at_a_revision(kamctl, repo):
    r = kamctl("diff", "2026-03-10", "HEAD", "--format", "json", ws=repo)
    assert r.exit_code == 0, r
    data = json.loads(r.stdout)
    assert [p["rule"] for p in data["problems"]["before"]] == ["KAM103"]
    assert "acme" in [a["id"] for a in data["accounts"]]
    assert "1 problem in files at 2026-03-10" in r.stderr


# --- staleness rules ------------------------------------------------------------------------------------


PLAN = """\
strategy:
  current_situation: Growing fast.
plan:
  year: 2025
  objectives:
    - title: Grow share
decision_makers:
  - name: Dana
"""


def _kam8(kamctl, ws, as_of):
    r = kamctl("check", "--select", "KAM8", "--as-of", as_of, "--format", "json", ws=ws)
    return [(f["rule"], f["message"]) for f in json.loads(r.stdout)["findings"]]


def test_staleness_rules_trigger_and_do_not(kamctl, tmp_path):
    top = init_repo(tmp_path / "repo")
    ws = make_workspace(top)
    write(ws / "accounts" / "acme.yaml", account("Acme", 7, 7, extra=PLAN))
    commit(top, "plan", "2025-03-01")
    write(ws / "accounts" / "acme.yaml", account("Acme", 8, 7, extra=PLAN))  # scores only
    commit(top, "rescore", "2025-11-01")
    found = _kam8(kamctl, ws, "2026-06-01")
    assert sorted(r for r, _ in found) == ["KAM801", "KAM801", "KAM801", "KAM802"]
    assert any("account strategy unchanged for 457 days (last changed 2025-03-01; limit 180)" in m for _, m in found)
    assert any(m.startswith("plan year 2025 ended on 2025-12-31") for r, m in found if r == "KAM802")
    # within the limit: nothing stale, and the 2025 plan is still this year's
    assert _kam8(kamctl, ws, "2025-06-01") == []
    # a committed change to the strategy clears it for the strategy only; renames are followed
    write(ws / "accounts" / "acme.yaml", account("Acme", 8, 7, extra=PLAN.replace("Growing fast.", "Slowing.")))
    git(top, "mv", "accounts/acme.yaml", "accounts/acme-corp.yaml")
    commit(top, "new situation", "2026-05-01")
    messages = [m for _, m in _kam8(kamctl, ws, "2026-06-01")]
    assert not any("strategy" in m for m in messages) and len(messages) == 3
    # an uncommitted edit of the plan counts as a change today: no KAM802, no stale plan
    text = (ws / "accounts" / "acme-corp.yaml").read_text().replace("year: 2025", "year: 2026")
    (ws / "accounts" / "acme-corp.yaml").write_text(text)
    assert [r for r, _ in _kam8(kamctl, ws, "2026-06-01")] == ["KAM801"]


def test_staleness_limit_comes_from_kam_yaml(kamctl, tmp_path):
    top = init_repo(tmp_path / "repo")
    ws = make_workspace(top, settings="checks:\n  limits:\n    stale_plan_days: 30\n")
    write(ws / "accounts" / "acme.yaml", account("Acme", 7, 7, extra=PLAN.replace("2025", "2026")))
    commit(top, "plan", "2026-03-01")
    assert len(_kam8(kamctl, ws, "2026-03-20")) == 0
    assert len(_kam8(kamctl, ws, "2026-04-20")) == 3


def test_at_before_the_workspace_existed_and_in_a_repository_without_commits(kamctl, tmp_path):
    top = init_repo(tmp_path / "repo")
    write(top / "README.md", "# our repo\n")
    commit(top, "readme", "2026-01-01")
    ws = make_workspace(top / "kam", {"acme": account("Acme", 7, 3)})
    commit(top, "workspace", "2026-02-01")
    r = kamctl("score", "--at", "2026-01-15", ws=ws)
    assert r.exit_code == 2 and "the workspace did not exist at 2026-01-15" in r.stderr
    # diff treats a base without the workspace as empty: every account is added
    assert [a["id"] for a in run_json(kamctl, "diff", "2026-01-15", ws=ws)["added"]] == ["acme"]
    empty = init_repo(tmp_path / "empty")
    ws2 = make_workspace(empty, {"acme": account("Acme", 7, 3)})
    for args in (["diff"], ["history", "acme"]):
        r = kamctl(*args, ws=ws2)
        assert r.exit_code == 2 and "no commits yet" in r.stderr, args


@pytest.mark.mermaid
def test_history_chart_renders_in_mermaid(kamctl, repo, tmp_path):
    from test_mermaid import _tools

    mmdc, config = _tools(tmp_path)
    write(repo / "accounts" / "acme.yaml", account('Acme "A&B" #1; <x>', 7, 8))
    commit(repo.parent, "odd name", "2026-06-01")
    md = kamctl("history", "acme", "--format", "markdown", ws=repo).stdout
    block = md.split("```mermaid\n")[1].split("```")[0]
    source = tmp_path / "chart.mmd"
    source.write_text(block, encoding="utf-8")
    r = subprocess.run([mmdc, "-p", config, "-q", "-i", str(source), "-o", str(tmp_path / "chart.svg")],
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, block + r.stderr[-800:]


def test_staleness_reads_a_merge_as_the_change_it_brought(kamctl, tmp_path):
    """Two branches edit the same account and are merged: the merged file is what was committed,
    not an uncommitted edit (before the fix, the newest non-merge version was compared with the
    working tree, they differed, and every section merged in looked edited today: never stale)."""
    top = init_repo(tmp_path / "repo")
    ws = make_workspace(top)
    write(ws / "accounts" / "acme.yaml", account("Acme", 7, 7, extra=PLAN))
    commit(top, "plan", "2025-03-01")
    git(top, "checkout", "-q", "-b", "side")
    write(ws / "accounts" / "acme.yaml", account("Acme", 7, 7, extra=PLAN.replace("Grow share", "Grow our share")))
    commit(top, "plan on a branch", "2025-04-01")
    git(top, "checkout", "-q", "main")
    write(ws / "accounts" / "acme.yaml", account("Acme", 7, 7, extra=PLAN.replace("Growing fast.", "Slowing.")))
    commit(top, "strategy on main", "2025-05-01")
    stamp = "2025-06-01T12:00:00+00:00"
    git(top, "merge", "-q", "--no-ff", "-m", "merge side", "side",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
    messages = sorted(m for r, m in _kam8(kamctl, ws, "2026-06-01") if r == "KAM801")
    # as of 2026-06-01: strategy last changed 2025-05-01 (396 days), the plan came in with the merge
    # on 2025-06-01 (365 days), the relationship map was last written 2025-03-01 (457 days)
    assert messages == ["account strategy unchanged for 396 days (last changed 2025-05-01; limit 180)",
                        "development plan unchanged for 365 days (last changed 2025-06-01; limit 180)",
                        "relationship map (decision makers) unchanged for 457 days (last changed 2025-03-01; limit 180)"]
