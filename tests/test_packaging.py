"""The wheel ships what kamctl needs (templates, schemas), the console script works from anywhere,
and the README's Quick start is the two commands CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """A clean environment: nothing points back at the source checkout or a workspace."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "KAMCTL_WORKSPACE", "VIRTUAL_ENV", "PYTHONHOME")}
    env["NO_COLOR"] = "1"
    return env


def run(*args, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{proc.args}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _ok(run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT, cwd=out))
    wheels = list(out.glob("kamctl-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel (and its dependencies from the index) installed."""
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    _ok(run(sys.executable, "-m", "venv", env_dir, cwd=env_dir.parent))
    _ok(run(env_dir / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel,
            cwd=env_dir.parent))
    return env_dir


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working folder outside the repository."""
    assert ROOT not in tmp_path.resolve().parents
    return tmp_path


def test_wheel_contains_templates_and_schemas(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    scaffold = sorted(p for p in (ROOT / "templates" / "scaffold").iterdir() if p.is_file())
    assert scaffold
    for template in scaffold:
        assert f"kamctl/_data/templates/scaffold/{template.name}" in names
    for schema in ("account.schema.json", "kam.schema.json"):
        inside = f"kamctl/_data/schemas/{schema}"
        assert inside in names
        assert zipfile.ZipFile(wheel).read(inside) == (ROOT / "schemas" / schema).read_bytes()
    assert "kamctl/cli/app.py" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "kamctl = kamctl.cli.entry:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_wheel_runs_from_outside_the_repo(venv, outside):
    from kamctl import __version__

    kamctl = venv / "bin" / "kamctl"
    proc = _ok(run(kamctl, "--version", cwd=outside))
    assert proc.stdout.strip() == f"kamctl {__version__}"

    where = _ok(run(venv / "bin" / "python", "-c",
                    "import kamctl.resources as r; print(r.data_dir('templates'))", cwd=outside))
    assert Path(where.stdout.strip()).is_relative_to(venv), "templates must come from the wheel, not the checkout"


def test_installed_wheel_validates_the_examples(venv, outside):
    proc = run(venv / "bin" / "kamctl", "-w", EXAMPLES, "validate", cwd=outside)
    _ok(proc)
    assert proc.stdout == ""


def test_installed_wheel_scaffolds_init_and_new(venv, outside):
    kamctl = venv / "bin" / "kamctl"
    _ok(run(kamctl, "init", "ws", cwd=outside))
    ws = outside / "ws"
    assert sorted(p.name for p in (ws / "schemas").iterdir()) == ["account.schema.json", "kam.schema.json"]
    assert (ws / "schemas" / "account.schema.json").read_bytes() == (ROOT / "schemas" / "account.schema.json").read_bytes()
    _ok(run(kamctl, "new", "acme-corp", "--name", "Acme Corp", cwd=ws))
    text = (ws / "accounts" / "acme-corp.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/account.schema.json")
    proc = _ok(run(kamctl, "validate", cwd=ws / "accounts"))
    assert proc.stdout == ""
    refused = run(kamctl, "new", "acme-corp", "--name", "Again", cwd=ws)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_dev_venv_entry_point(outside):
    """The console script of the venv running these tests (the editable install)."""
    from kamctl import __version__

    kamctl = Path(sys.executable).parent / "kamctl"
    if not kamctl.exists():
        pytest.skip(f"no kamctl console script next to {sys.executable}")
    assert _ok(run(kamctl, "--version", cwd=outside)).stdout.strip() == f"kamctl {__version__}"
    _ok(run(kamctl, "init", "ws", cwd=outside))
    _ok(run(kamctl, "new", "acme", "--name", "Acme", cwd=outside / "ws"))
    _ok(run(kamctl, "-w", outside / "ws", "validate", cwd=outside))
    missing = run(kamctl, "validate", cwd=outside)
    assert missing.returncode == 2 and "kamctl init" in missing.stderr and "Traceback" not in missing.stderr
    if (EXAMPLES / "kam.yaml").is_file():
        _ok(run(kamctl, "-w", EXAMPLES, "validate", cwd=outside))


# --- the README contract -------------------------------------------------------------------------


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section, "README.md has a '## Quick start' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.S | re.M)
    assert len(blocks) == 1, "one code block in Quick start"
    return [line for line in blocks[0].splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_quick_start_is_exactly_two_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    install_and_run, test = commands
    assert "pip install" in install_and_run and "examples" in install_and_run
    assert "pytest" in test and ".[test]" in test


def test_ci_runs_the_second_quick_start_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    second = _quick_start_commands()[1]
    assert second in ci.splitlines(), f"{second!r} is not a line of .ci/run"
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_readme_first_command_runs_verbatim_on_a_clean_copy(tmp_path):
    """The first Quick start command, as a newcomer pastes it, in a copy of the repo with no venv."""
    import shutil

    copy = tmp_path / "kamctl"
    skip = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", ".kamctl-cache", "*.egg-info",
                                  "build", "dist")
    shutil.copytree(ROOT, copy, ignore=skip)
    first = _quick_start_commands()[0]
    proc = run("bash", "-c", first, cwd=copy)
    assert proc.returncode == 0, f"{first}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
