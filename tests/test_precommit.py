"""The pre-commit hook shipped in .pre-commit-hooks.yaml, run for real with `pre-commit try-repo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_workspace

GOOD = """\
name: Good Co
strategy:
  key_business_objectives: [Grow]
"""
BROKEN = "name: Broken\nstrategy: {barriers: 3}\n"


def test_hook_definition():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "kamctl-check")
    assert hook["language"] == "python" and hook["entry"] == "kamctl check"
    assert hook["pass_filenames"] is False
    import re

    files = re.compile(hook["files"])
    for path in ("kam.yaml", "accounts/acme.yaml", "sub/accounts/acme.yml", "sub/kam.yaml"):
        assert files.search(path), path
    for path in ("README.md", "templates/x.yaml", "kam.yaml.bak"):
        assert not files.search(path), path


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _commit_all(cwd: Path) -> None:
    _git(cwd, "add", "-A")
    _git(cwd, "commit", "-q", "--no-verify", "-m", "snapshot")


@pytest.mark.slow
def test_pre_commit_try_repo_runs_kamctl_check(tmp_path, monkeypatch):
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
    if pre_commit is None or shutil.which("git") is None:
        pytest.fail("pre-commit and git are needed (pip install -e '.[test]')")
    for var, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                       "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}.items():
        monkeypatch.setenv(var, value)
    # try-repo installs the hook from a git repository: a committed copy of this source tree, so the
    # test works on a clean clone and on a working tree with uncommitted changes alike
    repo = tmp_path / "kamctl"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis", ".kamctl-cache", "node_modules",
        "dist", "build", "*.egg-info", ".data", "out"))
    _git(repo, "init", "-q")
    _commit_all(repo)

    ws = make_workspace(tmp_path / "plans", {"good-co": GOOD})
    _git(ws, "init", "-q")
    _commit_all(ws)

    def try_repo() -> subprocess.CompletedProcess:
        return subprocess.run([pre_commit, "try-repo", str(repo), "kamctl-check", "--all-files"], cwd=ws,
                              capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=900)

    ok = try_repo()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "kamctl check" in ok.stdout and "Passed" in ok.stdout

    (ws / "accounts" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    _commit_all(ws)
    bad = try_repo()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout and "KAM102" in bad.stdout
