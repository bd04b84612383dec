"""init, new, finding the workspace, --version and --help, through the real CLI on real folders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kamctl import __version__
from kamctl.model.account import AXES, FIVE_QUESTIONS, Account, FiveForces
from kamctl.yamlio.read import read_file

SECTIONS = [name for name in Account.model_fields if name != "notes"]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (to prove a refusal changed nothing)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- init ----------------------------------------------------------------------------------------


def test_init_creates_a_workspace_that_validates(tmp_path, kamctl):
    ws = tmp_path / "my-kam"

    result = kamctl("init", ws)

    assert result.exit_code == 0, result
    assert (ws / "kam.yaml").is_file()
    assert (ws / "accounts").is_dir()
    samples = list((ws / "accounts").glob("*.yaml"))
    assert len(samples) == 1
    assert sorted(p.name for p in (ws / "schemas").iterdir()) == ["account.schema.json", "kam.schema.json"]
    kam = (ws / "kam.yaml").read_text(encoding="utf-8")
    assert kam.startswith("# yaml-language-server: $schema=schemas/kam.schema.json\n")
    assert kam.count("#") > 10, "kam.yaml is commented"
    sample = samples[0].read_text(encoding="utf-8")
    assert sample.startswith("# yaml-language-server: $schema=../schemas/account.schema.json\n")
    assert (samples[0].parent / "../schemas/account.schema.json").resolve().is_file()

    check = kamctl("validate", ws=ws)
    assert check.exit_code == 0, check
    assert check.stdout == ""


def test_init_in_the_current_folder(tmp_path, kamctl, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = kamctl("init")
    assert result.exit_code == 0, result
    assert (tmp_path / "kam.yaml").is_file()
    assert kamctl("validate").exit_code == 0


def test_init_kam_yaml_holds_the_defaults(tmp_path, kamctl):
    """The commented kam.yaml spells out the defaults: loading it equals loading an empty one, but
    for the one policy it sets on purpose (the strategy, plan and relationship rules are errors for
    Strategic accounts) and the offerings the sample account's whitespace grid names."""
    from kamctl.model.settings import Settings

    ws = tmp_path / "ws"
    kamctl("init", ws)
    data = read_file(ws / "kam.yaml").data
    strict = {"checks": {"quadrants": {"strategic": {"error": ["KAM2", "KAM3", "KAM4"]}}},
              "offerings": [{"id": "films", "name": "Packaging films"}, {"id": "labels", "name": "Labels and sleeves"},
                            {"id": "logistics", "name": "Contract logistics"}]}
    assert Settings.model_validate(data) == Settings.model_validate(strict)


def test_init_refuses_to_overwrite(tmp_path, kamctl):
    ws = tmp_path / "ws"
    assert kamctl("init", ws).exit_code == 0
    (ws / "kam.yaml").write_text("company: {name: Mine}\n", encoding="utf-8")
    before = tree(ws)

    result = kamctl("init", ws)

    assert result.exit_code == 2, result
    assert "overwrite" in result.stderr and "kam.yaml" in result.stderr
    assert tree(ws) == before


def test_init_refuses_when_only_kam_yaml_exists(tmp_path, kamctl):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "kam.yaml").write_text("# mine\n", encoding="utf-8")
    result = kamctl("init", ws)
    assert result.exit_code == 2, result
    assert tree(ws) == {"kam.yaml": b"# mine\n"}


def test_init_on_a_file_is_a_clean_error(tmp_path, kamctl):
    target = tmp_path / "afile"
    target.write_text("x", encoding="utf-8")
    result = kamctl("init", target)
    assert result.exit_code == 2, result
    assert "afile" in result.stderr
    assert target.read_text(encoding="utf-8") == "x"


# --- new -----------------------------------------------------------------------------------------


def test_new_creates_a_commented_account_with_every_section(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)

    result = kamctl("new", "acme-corp", "--name", "Acme Corp", ws=ws)

    assert result.exit_code == 0, result
    file = ws / "accounts" / "acme-corp.yaml"
    text = file.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    ref = text.splitlines()[0].split("$schema=", 1)[1]
    assert (file.parent / ref).resolve() == (ws / "schemas" / "account.schema.json").resolve()
    data = read_file(file).data
    assert data["name"] == "Acme Corp"
    for section in SECTIONS:
        assert section in data, f"section {section} missing"
        assert re.search(rf"^{section}:", text, re.M)
    for axis, model in AXES.items():
        assert list(data[axis]) == list(model.model_fields)
    for question in FIVE_QUESTIONS:
        assert question in data["strategy"]
    assert list(data["five_forces"]) == list(FiveForces.model_fields)
    assert len([line for line in text.splitlines() if "#" in line]) > 20, "the template is commented"

    check = kamctl("validate", ws=ws)
    assert check.exit_code == 0, check


def test_new_keeps_a_name_with_quotes_and_symbols_readable(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    name = 'AT&T <Müller> "Ltd" #1: yes'
    assert kamctl("new", "att", "--name", name, ws=ws).exit_code == 0
    text = (ws / "accounts" / "att.yaml").read_text(encoding="utf-8")
    assert read_file(ws / "accounts" / "att.yaml").data["name"] == name
    assert "Müller" in text and "AT&T" in text, "no \\u escapes in a file a person reads"
    assert kamctl("validate", ws=ws).exit_code == 0


def test_new_name_with_a_line_break_cannot_inject_keys(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    name = "Evil\nindustry: injected"
    assert kamctl("new", "evil", "--name", name, ws=ws).exit_code == 0
    data = read_file(ws / "accounts" / "evil.yaml").data
    assert data["name"] == name and data["industry"] is None
    assert kamctl("validate", ws=ws).exit_code == 0


def test_new_name_with_control_characters_stays_valid_yaml(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    name = "Odd\u0085Name\u2028Co\ttab\u200b"
    assert kamctl("new", "odd", "--name", name, ws=ws).exit_code == 0
    assert read_file(ws / "accounts" / "odd.yaml").data["name"] == name
    assert kamctl("validate", ws=ws).exit_code == 0


def test_new_refuses_an_existing_id(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    assert kamctl("new", "acme", "--name", "Acme", ws=ws).exit_code == 0
    (ws / "accounts" / "acme.yaml").write_text("name: Acme, edited by hand\n", encoding="utf-8")
    before = tree(ws)

    result = kamctl("new", "acme", "--name", "Other", ws=ws)

    assert result.exit_code == 2, result
    assert "already exists" in result.stderr and "acme" in result.stderr
    assert tree(ws) == before


@pytest.mark.parametrize("bad", ["Bad_Id", "../x", "acme corp", "acme!", "Acme", "a/b", "", "caf\u00e9"])
def test_new_refuses_a_bad_slug(tmp_path, kamctl, bad):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    before = tree(ws)

    result = kamctl("new", bad, "--name", "X", ws=ws)

    assert result.exit_code == 2, result
    assert "not a valid account id" in result.stderr
    assert tree(ws) == before
    assert tree(tmp_path) == {f"ws/{k}": v for k, v in before.items()}, "nothing written outside either"


def test_new_refuses_an_empty_name(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    before = tree(ws)
    result = kamctl("new", "acme", "--name", "  ", ws=ws)
    assert result.exit_code == 2, result
    assert "--name" in result.stderr
    assert tree(ws) == before


def test_new_without_name_is_a_usage_error(tmp_path, kamctl):
    ws = tmp_path / "ws"
    kamctl("init", ws)
    result = kamctl("new", "acme", ws=ws)
    assert result.exit_code == 2
    assert not (ws / "accounts" / "acme.yaml").exists()


def test_new_without_a_workspace_says_how_to_make_one(tmp_path, kamctl, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = kamctl("new", "acme", "--name", "Acme")

    assert result.exit_code == 2, result
    assert "kamctl init" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_new_creates_accounts_folder_when_missing(tmp_path, kamctl):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "kam.yaml").write_text("", encoding="utf-8")
    assert kamctl("new", "acme", "--name", "Acme", ws=ws).exit_code == 0
    assert (ws / "accounts" / "acme.yaml").is_file()


# --- finding the workspace -----------------------------------------------------------------------


@pytest.fixture
def two_workspaces(tmp_path, kamctl):
    """Two workspaces; only 'found' gets the new account if the right one is picked."""
    found, other = tmp_path / "found", tmp_path / "other"
    assert kamctl("init", found).exit_code == 0
    assert kamctl("init", other).exit_code == 0
    return found, other


def test_workspace_from_dash_w(two_workspaces, kamctl, monkeypatch):
    found, other = two_workspaces
    monkeypatch.chdir(other)
    assert kamctl("new", "acme", "--name", "Acme", ws=found).exit_code == 0
    assert (found / "accounts" / "acme.yaml").is_file()
    assert not (other / "accounts" / "acme.yaml").exists()


def test_workspace_from_environment(two_workspaces, kamctl, monkeypatch):
    found, other = two_workspaces
    monkeypatch.chdir(other)
    monkeypatch.setenv("KAMCTL_WORKSPACE", str(found))
    assert kamctl("new", "acme", "--name", "Acme").exit_code == 0
    assert (found / "accounts" / "acme.yaml").is_file()
    assert not (other / "accounts" / "acme.yaml").exists()


def test_dash_w_wins_over_environment(two_workspaces, kamctl, monkeypatch):
    found, other = two_workspaces
    monkeypatch.setenv("KAMCTL_WORKSPACE", str(other))
    assert kamctl("new", "acme", "--name", "Acme", ws=found).exit_code == 0
    assert (found / "accounts" / "acme.yaml").is_file()
    assert not (other / "accounts" / "acme.yaml").exists()


def test_workspace_found_by_walking_up_from_a_subfolder(two_workspaces, kamctl, monkeypatch):
    found, _ = two_workspaces
    deep = found / "docs" / "meetings" / "2026"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)

    result = kamctl("new", "acme", "--name", "Acme")

    assert result.exit_code == 0, result
    assert (found / "accounts" / "acme.yaml").is_file()
    assert not (deep / "accounts").exists()
    assert kamctl("validate").exit_code == 0


@pytest.mark.parametrize("how", ["-w", "env"])
def test_workspace_given_without_kam_yaml_is_exit_2(tmp_path, kamctl, monkeypatch, how):
    empty = tmp_path / "empty"
    empty.mkdir()
    if how == "env":
        monkeypatch.setenv("KAMCTL_WORKSPACE", str(empty))
        result = kamctl("validate")
    else:
        result = kamctl("validate", ws=empty)
    assert result.exit_code == 2, result
    assert "kamctl init" in result.stderr and "kam.yaml" in result.stderr
    assert list(empty.iterdir()) == []


# --- version and help ----------------------------------------------------------------------------


def test_version(kamctl):
    result = kamctl("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"kamctl {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def test_python_dash_m_kamctl():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "kamctl", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"kamctl {__version__}"


def test_no_arguments_shows_help(kamctl):
    result = kamctl()
    assert "Usage" in result.output
    assert result.exit_code in (0, 2)


def _commands() -> list[list[str]]:
    """Every command path (e.g. ['opp', 'add']), and the top level."""
    import typer.main

    from kamctl.cli.app import app

    out: list[list[str]] = []

    def walk(cmd, path):
        if hasattr(cmd, "list_commands"):  # a group (the root loads its commands lazily)
            if not path:
                out.append(path)
            ctx = typer.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), path + [name])
        else:
            out.append(path)

    walk(typer.main.get_command(app), [])
    return out


def test_the_foundation_commands_exist():
    names = {c[0] for c in _commands() if c}
    assert {"init", "new", "validate", "schema"} <= names


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "kamctl")
def test_help_on_every_command_has_an_example(kamctl, command):
    result = kamctl(*command, "--help")
    assert result.exit_code == 0, result
    assert "Example" in result.stdout, f"`kamctl {' '.join(command)} --help` shows no example"


def test_unknown_option_is_a_usage_error_without_traceback(kamctl):
    result = kamctl("validate", "--no-such-flag")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
