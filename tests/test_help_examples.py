"""Every `Example:` in every --help runs on the examples workspace (issue 13).

A user copies the example from the help and runs it: it must be a real command on real data, so
it may find problems (exit 1) but never be a usage error (exit 2, e.g. an account id that is not
in examples/accounts/) and never crash. Each example runs through the installed console script,
in a fresh copy of examples/ made a git repository with one commit (history and diff need one).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from conftest import EXAMPLES

from kamctl.cli.app import app

KAMCTL = Path(sys.executable).parent / "kamctl"
def _is_group(command: Any) -> bool:
    """A click group (typer vendors click, so this is duck-typed rather than an isinstance)."""
    return hasattr(command, "list_commands")


EXAMPLE = re.compile(r"Example:\s*(kamctl\b[^\n]*)")


def _commands() -> list[tuple[str, Any]]:
    """(path, command) for the app and every command and subcommand, walked through click."""
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []
    todo: list[tuple[str, Any, Any]] = [("kamctl", root, None)]
    while todo:
        path, command, parent = todo.pop()
        found.append((path, command))
        if _is_group(command):
            ctx = typer.Context(command, info_name=path.split()[-1], parent=parent)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    todo.append((f"{path} {name}", sub, ctx))
    return sorted(found, key=lambda item: item[0])


def _examples() -> list[tuple[str, str]]:
    """(command path, example line) of every `Example:` in a help text or epilog."""
    return [(path, line.strip()) for path, command in _commands()
            for line in EXAMPLE.findall(f"{command.help or ''}\n{command.epilog or ''}")]


COMMANDS = _commands()
EXAMPLES_IN_HELP = _examples()


def test_every_command_is_walked_and_most_have_an_example():
    """The walk reaches the subcommands (not just the top level), and examples are found."""
    paths = {path for path, _ in COMMANDS}
    assert {"kamctl check", "kamctl opp add", "kamctl render plan", "kamctl render all"} <= paths
    with_example = {path for path, _ in EXAMPLES_IN_HELP}
    leaves = {path for path, command in COMMANDS if not _is_group(command)}
    assert len(with_example & leaves) >= len(leaves) * 3 // 4


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """examples/ copied into a git repository with one commit (kept pristine; copied per example)."""
    base = tmp_path_factory.mktemp("help") / "examples"
    shutil.copytree(EXAMPLES, base, ignore=shutil.ignore_patterns(".kamctl-cache"))
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for argv in (["init", "-q", "."], ["add", "-A"],
                 ["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-qm", "examples"]):
        subprocess.run(["git", *argv], cwd=base, env=env, check=True, capture_output=True)
    return base


@pytest.mark.parametrize(("path", "example"), EXAMPLES_IN_HELP, ids=[e for _, e in EXAMPLES_IN_HELP])
def test_help_example_runs(path, example, repo, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(repo, work / "examples", symlinks=True)
    # `-w examples` is written for the folder holding examples/ (the repository root); otherwise
    # the example is meant to be run inside the workspace.
    cwd = work if re.search(r"(^|\s)(-w|--workspace)(\s|=)examples\b", example) else work / "examples"
    env = {k: v for k, v in os.environ.items() if k not in ("KAMCTL_WORKSPACE", "GITHUB_ACTIONS")}
    env.update(PATH=f"{KAMCTL.parent}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1", COLUMNS="100")
    proc = subprocess.run(["bash", "-c", example], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), f"`{example}` (help of {path}) exited {proc.returncode}:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
