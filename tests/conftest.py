"""Shared fixtures: real workspaces in tmp folders, and the real CLI through Typer's CliRunner."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch):
    """No test sees the developer's own workspace, colours or CI environment."""
    monkeypatch.delenv("KAMCTL_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")


def make_workspace(root: Path, accounts: dict[str, str] | None = None, settings: str = "") -> Path:
    """A workspace: kam.yaml (settings text, dedented) and accounts/ID.yaml for each entry."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kam.yaml").write_text(textwrap.dedent(settings), encoding="utf-8")
    (root / "accounts").mkdir(exist_ok=True)
    for account_id, text in (accounts or {}).items():
        (root / "accounts" / f"{account_id}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def workspace(tmp_path):
    """Factory: workspace(accounts={...}, settings='...') -> path of a new workspace."""
    def factory(accounts: dict[str, str] | None = None, settings: str = "", name: str = "ws") -> Path:
        return make_workspace(tmp_path / name, accounts, settings)
    return factory


class Result:
    def __init__(self, result):
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.output = result.output
        self.exception = result.exception

    def __repr__(self) -> str:
        return f"<exit {self.exit_code}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}>"


@pytest.fixture
def kamctl():
    """kamctl(*args, ws=path) runs the real CLI in-process and returns exit code, stdout, stderr."""
    from kamctl.cli.app import app

    runner = CliRunner()

    def run(*args: str, ws: Path | None = None, input: str | None = None, env: dict | None = None) -> Result:
        argv = (["-w", str(ws)] if ws is not None else []) + [str(a) for a in args]
        result = runner.invoke(app, argv, input=input, env=env, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result)

    return run


@contextlib.contextmanager
def folder_locked(folder: Path):
    """Another process holds the edit lock of folder (as a second `kamctl opp ...` would) until exit."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, time
        fd = os.open({str(folder)!r}, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()
