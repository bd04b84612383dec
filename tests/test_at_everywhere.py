"""--at REV|DATE on every read-only command: the workspace as committed, with that commit's kam.yaml.

The spec is a checkout: `kamctl CMD --at REV` prints what `kamctl CMD --as-of <commit date>` prints in
a checkout of REV (a `git worktree`), file names aside (`accounts/x.yaml@abc1234` says the file came
from git). Nothing in the working tree, the index or HEAD changes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer.main

from kamctl.cli.app import app
from kamctl.cli.common import AT
from tests.conftest import EXAMPLES
from tests.test_history import commit, git, init_repo

OLD_DAY, NEW_DAY = "2026-11-01", "2026-11-25"
ACCOUNT = "accounts/alpenmilch-foods.yaml"

# every read-only command, with the arguments that make its output comparable (json where it has it)
COMMANDS = {
    "check": ["check", "--format", "json"],
    "check-text": ["check"],
    "validate": ["validate"],
    "level": ["level", "--format", "json"],
    "owners": ["owners", "--format", "json"],
    "report": ["report", "--format", "json"],
    "score": ["score", "--format", "json", "--explain"],
    "portfolio": ["portfolio", "--format", "json"],
    "pipeline": ["pipeline", "--format", "json"],
    "opp-list": ["opp", "list", "--format", "json"],
    "render-plan": ["render", "plan", "alpenmilch-foods"],
    "render-questionnaire": ["render", "questionnaire", "alpenmilch-foods"],
    "render-survey": ["render", "survey", "alpenmilch-foods"],
    "render-portfolio": ["render", "portfolio"],
}
TAKES_AS_OF = {"check", "check-text", "report", "pipeline", "opp-list", "render-plan", "render-questionnaire",
               "render-survey", "render-portfolio"}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """examples/ committed on OLD_DAY, then one account changed (two scores, an opportunity won) on NEW_DAY;
    plus a checkout of the first commit."""
    top = tmp_path_factory.mktemp("at")
    repo = top / "repo"
    shutil.copytree(EXAMPLES, repo, ignore=shutil.ignore_patterns(".kamctl-cache"))
    init_repo(repo)
    (repo / ".gitignore").write_text(".kamctl-cache/\n")
    old = commit(repo, "examples", OLD_DAY)
    path = repo / ACCOUNT
    text = path.read_text()
    for before, after in (("  ease_of_access: 8\n", "  ease_of_access: 2\n"),
                          ("  price: {score: 5,", "  price: {score: 9,"),
                          ("    stage: closing\n    close: 2027-01-31\n", "    stage: contract\n    close: 2027-01-31\n")):
        assert text.count(before) == 1
        text = text.replace(before, after)
    text = text.replace("      - {stage: closing, date: 2026-11-20, note: Final offer sent; board decision in January}\n",
                        "      - {stage: closing, date: 2026-11-20, note: Final offer sent; board decision in January}\n"
                        "      - {stage: contract, date: 2026-11-24, reason: Lowest cost per pack}\n")
    path.write_text(text)
    new = commit(repo, "alpenmilch: rescored, Wroclaw won", NEW_DAY)
    checkout = top / "checkout"
    git(repo, "worktree", "add", "-q", "--detach", str(checkout), old)
    return {"repo": repo, "old": old, "new": new, "checkout": checkout}


def run(kamctl, monkeypatch, where: Path, *args: str):
    monkeypatch.chdir(where)  # file names are shown relative to the current folder: the same in both runs
    return kamctl(*args, ws=Path("."))


def same(text: str) -> str:
    return re.sub(r"@[0-9a-f]{7,40}", "", text)  # accounts/x.yaml@abc1234 -> accounts/x.yaml


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("at", ["old", OLD_DAY, "2026-11-10"])
def test_at_equals_the_command_in_a_checkout_of_that_commit(kamctl, monkeypatch, history, name, at):
    at = history["old"] if at == "old" else at
    args = COMMANDS[name]
    past = run(kamctl, monkeypatch, history["repo"], *args, "--at", at)
    as_of = ["--as-of", OLD_DAY] if name in TAKES_AS_OF else []  # --at: --as-of defaults to the commit's date
    there = run(kamctl, monkeypatch, history["checkout"], *args, *as_of)
    assert (past.exit_code, same(past.stdout), same(past.stderr)) == (there.exit_code, there.stdout, there.stderr)
    assert past.stdout or past.stderr


def _score(result) -> dict:
    import json

    return {r["id"]: (r["attractiveness"], r["relative_strength"]) for r in json.loads(result.stdout)}


def test_at_gives_the_old_state_and_the_working_tree_the_new(kamctl, monkeypatch, history):
    now = _score(run(kamctl, monkeypatch, history["repo"], "score", "--format", "json"))
    old = _score(run(kamctl, monkeypatch, history["repo"], "score", "--format", "json", "--at", history["old"]))
    at_new = _score(run(kamctl, monkeypatch, history["repo"], "score", "--format", "json", "--at", NEW_DAY))
    assert now == at_new and now["alpenmilch-foods"] != old["alpenmilch-foods"]
    opps = run(kamctl, monkeypatch, history["repo"], "opp", "list", "--account", "alpenmilch-foods",
               "--format", "json", "--at", OLD_DAY)
    assert '"stage": "closing"' in opps.stdout and '"stage": "contract"' in opps.stdout  # wroclaw still closing
    plan = run(kamctl, monkeypatch, history["repo"], "render", "plan", "alpenmilch-foods").stdout
    assert "won (2026-11-24): Lowest cost per pack" in plan
    assert "Lowest cost per pack" not in run(kamctl, monkeypatch, history["repo"], "render", "plan",
                                             "alpenmilch-foods", "--at", OLD_DAY).stdout


def test_an_as_of_given_with_at_wins_over_the_commit_date(kamctl, monkeypatch, history):
    args = ["opp", "list", "--format", "json", "--at", history["old"]]
    default = run(kamctl, monkeypatch, history["repo"], *args)
    later = run(kamctl, monkeypatch, history["repo"], *args, "--as-of", "2026-12-31")
    on_the_day = run(kamctl, monkeypatch, history["repo"], *args, "--as-of", OLD_DAY)
    assert default.stdout == on_the_day.stdout != later.stdout


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("at", ["no-such-rev", "2001-01-01"])
def test_a_bad_revision_is_a_usage_error(kamctl, monkeypatch, history, name, at):
    result = run(kamctl, monkeypatch, history["repo"], *COMMANDS[name], "--at", at)
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("kamctl: error: ") and ("unknown revision 'no-such-rev'" in result.stderr
                                                           or "2001-01-01" in result.stderr)
    assert "Traceback" not in result.stderr


def test_validate_at_with_files_is_a_usage_error(kamctl, monkeypatch, history):
    result = run(kamctl, monkeypatch, history["repo"], "validate", "--at", history["old"], ACCOUNT)
    assert result.exit_code == 2 and "--at" in result.stderr and "FILES" in result.stderr


def _status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--ignored") + git(repo, "rev-parse", "HEAD")


def test_render_all_at_writes_the_old_plan_to_out_and_nothing_else(kamctl, monkeypatch, history, tmp_path):
    repo = history["repo"]
    before = _status(repo)
    out = tmp_path / "docs"
    result = run(kamctl, monkeypatch, repo, "render", "all", "--at", history["old"], "--out", str(out))
    assert result.exit_code == 0, result
    assert _status(repo) == before  # no cache, no document, no index change inside the repository
    there = run(kamctl, monkeypatch, history["checkout"], "render", "plan", "alpenmilch-foods", "--as-of", OLD_DAY)
    assert (out / "alpenmilch-foods-plan.md").read_text() == there.stdout
    assert len(list(out.iterdir())) == 3 * 10 + 1


def test_every_read_only_command_declares_the_one_at_option():
    """One declaration (kamctl.cli.common.AT) on every read-only command, none on the edits."""
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    read_only = {"agenda", "check", "validate", "level", "owners", "report", "health", "score", "portfolio", "pipeline",
                 "opp list", "render plan", "render questionnaire", "render survey", "render portfolio",
                 "render all", "site", "whitespace"}
    found = set()
    for name in group.list_commands(ctx):  # the root loads its command modules lazily
        command = group.get_command(ctx, name)
        for sub_name, sub in getattr(command, "commands", {None: command}).items():
            full = f"{name} {sub_name}" if sub_name else name
            at = [p for p in sub.params if "--at" in p.opts]
            if at:
                found.add(full)
                assert at[0].help == AT.help and at[0].metavar == "REV|DATE", full
    assert found == read_only


def test_the_installed_command_takes_at(history):
    """Through the entry point, as a user types it: global -w after the command, --at by date."""
    exe = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "kamctl"
    proc = subprocess.run([str(exe), "level", "--at", OLD_DAY, "-w", str(history["repo"]), "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert '"id": "alpenmilch-foods"' in proc.stdout


def test_check_at_leaves_out_the_staleness_rules(kamctl, monkeypatch, history):
    """KAM801/KAM802 read the working tree's git history; at a revision they are not run (README)."""
    args = ["check", "--format", "json", "--select", "KAM8", "--as-of", "2027-12-31"]
    there = run(kamctl, monkeypatch, history["checkout"], *args)
    assert '"rule": "KAM801"' in there.stdout
    past = run(kamctl, monkeypatch, history["repo"], *args, "--at", history["old"])
    assert past.exit_code == 0 and "KAM80" not in past.stdout
