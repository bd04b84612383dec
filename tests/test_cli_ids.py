"""Id arguments (issues 11, 13): one slug check before any id names a file or a git path, "did you
mean" for unknown ids, exit 2; global options after the command; names too long for the file system."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES

KAMCTL = Path(sys.executable).parent / "kamctl"  # the installed console script
LONG = "a" * 300
SECRET = "TOPSECRET-outside-the-workspace"
ACCOUNT = "cloudberry-software"  # in examples/, with opportunity kit-fulfilment-de-nl and contact jlaine


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes, but the read cache (a read may fill it)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".kamctl-cache" not in p.parts}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def ws(tmp_path) -> Path:
    """A copy of examples/ (not in git)."""
    return Path(shutil.copytree(EXAMPLES, tmp_path / "ws"))


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository holding a copy of examples/ in ws/ and, outside the workspace, secret/creds.yaml
    and cloud-notes.yaml: account-shaped files an id must never reach. Returns the workspace."""
    root = tmp_path / "repo"
    workspace = Path(shutil.copytree(EXAMPLES, root / "ws"))
    (root / "secret").mkdir()
    (root / "secret" / "creds.yaml").write_text(f"name: {SECRET}\n", encoding="utf-8")
    (root / "cloud-notes.yaml").write_text(f"name: {SECRET}\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "all")
    return workspace


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KAMCTL_WORKSPACE"}
    return subprocess.run([str(KAMCTL), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**env, "NO_COLOR": "1"}, timeout=120)


def one_clear_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kamctl: error: ") and "Traceback" not in stderr
    return lines[0]


# --- ids never become paths or pathspecs -------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../secret/creds", "../../secret/creds", "cloud*", ":(glob)*", ":(top)secret/creds",
                                 "*", "../cloud-notes", "cloudberry-software/../../../secret/creds"])
def test_history_refuses_paths_globs_and_pathspec_magic(repo, bad):
    assert KAMCTL.exists(), f"no console script at {KAMCTL}"

    proc = run("-w", repo, "history", bad, "--format", "json")

    assert proc.returncode == 2, proc
    assert "not a valid account id" in one_clear_line(proc.stderr)
    assert SECRET not in proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_history_of_a_real_account_still_works(repo, kamctl):
    result = kamctl("history", ACCOUNT, "--format", "json", ws=repo)
    assert result.exit_code == 0, result
    assert SECRET not in result.stdout


# every command kind that takes an id, with {} where the id goes
ID_COMMANDS = [
    ("score", "{}"), ("level", "{}"), ("check", "{}"), ("report", "{}"), ("history", "{}"),
    ("new", "{}", "--name", "X"),
    ("render", "plan", "{}"), ("render", "questionnaire", "{}"), ("render", "survey", "{}"),
    ("render", "questionnaire", ACCOUNT, "--contact", "{}"),
    ("opp", "add", "{}", "--title", "T"), ("opp", "add", ACCOUNT, "--title", "T", "--id", "{}"),
    ("opp", "advance", "{}", "kit-fulfilment-de-nl"), ("opp", "advance", ACCOUNT, "{}"),
    ("opp", "decide", ACCOUNT, "{}", "go", "--reason", "r"), ("opp", "close", "{}", "x", "won"),
    ("opp", "list", "--account", "{}"),
]


@pytest.mark.parametrize("args", ID_COMMANDS, ids=lambda a: " ".join(a))
def test_a_300_character_id_is_one_clear_line_exit_2(ws, kamctl, args):
    before = tree(ws.parent)

    result = kamctl(*[a.replace("{}", LONG) for a in args], ws=ws)

    assert result.exit_code == 2, result
    line = one_clear_line(result.stderr)
    assert "is too long" in line and "at most 64 characters" in line and len(line) < 200
    assert tree(ws.parent) == before


@pytest.mark.parametrize("args", ID_COMMANDS, ids=lambda a: " ".join(a))
def test_a_path_as_id_is_refused_before_use(ws, kamctl, args):
    before = tree(ws.parent)

    result = kamctl(*[a.replace("{}", "../ws/accounts/x") for a in args], ws=ws)

    assert result.exit_code == 2, result
    assert "is not a valid" in one_clear_line(result.stderr)
    assert tree(ws.parent) == before


def test_the_longest_id_allowed_is_accepted(ws, kamctl):
    ok = "a" * 64
    assert kamctl("new", ok, "--name", "Long", ws=ws).exit_code == 0
    assert kamctl("score", ok, ws=ws).exit_code == 0
    assert kamctl("new", ok + "b", "--name", "Too long", ws=ws).exit_code == 2


def test_an_opportunity_id_over_the_limit_in_a_file_is_a_finding(ws, kamctl):
    path = ws / "accounts" / f"{ACCOUNT}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: installer-packaging", f"id: {'x' * 65}"),
                    encoding="utf-8")
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1
    assert "KAM108" in result.stdout and "at most 64 characters" in result.stdout


# --- names too long for the file system --------------------------------------------------------------


def test_a_300_character_workspace_folder_is_a_clear_error(tmp_path, kamctl):
    proc = run("-w", tmp_path / LONG, "check")
    assert proc.returncode == 2, proc
    assert "too long" in one_clear_line(proc.stderr)

    for args in (("-w", str(tmp_path / LONG / "ws"), "score"), ("init", str(tmp_path / LONG))):
        result = kamctl(*args)
        assert result.exit_code == 2, result
        assert "file or folder name too long" in one_clear_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_300_character_render_out_folder_is_a_clear_error(ws, kamctl):
    result = kamctl("render", "plan", ACCOUNT, "--out", str(ws / LONG), ws=ws)
    assert result.exit_code == 2, result
    assert "Traceback" not in result.output and result.stderr.startswith("kamctl: error: ")


# --- unknown ids: did you mean, exit 2 ---------------------------------------------------------------


@pytest.mark.parametrize("args,suggested", [
    (("score", "cloudbery-software"), ACCOUNT),
    (("level", "cloudbery-software"), ACCOUNT),
    (("check", "cloudbery-software"), ACCOUNT),
    (("report", "cloudbery-software"), ACCOUNT),
    (("render", "plan", "cloudbery-software"), ACCOUNT),
    (("render", "questionnaire", ACCOUNT, "--contact", "jlain"), "jlaine"),
    (("opp", "add", "cloudbery-software", "--title", "T"), ACCOUNT),
    (("opp", "advance", "cloudbery-software", "kit-fulfilment-de-nl"), ACCOUNT),
    (("opp", "advance", ACCOUNT, "kit-fulfilment-de"), "kit-fulfilment-de-nl"),
    (("opp", "close", ACCOUNT, "installer-packagin", "won"), "installer-packaging"),
    (("opp", "list", "--account", "cloudbery-software"), ACCOUNT),
    (("history", "cloudbery-software"), ACCOUNT),
    (("score", "--at", "HEAD", "cloudbery-software"), ACCOUNT),
])
def test_unknown_id_says_did_you_mean_and_exits_2(repo, kamctl, args, suggested):
    before = tree(repo.parent)

    result = kamctl(*args, ws=repo)

    assert result.exit_code == 2, result
    assert f"did you mean '{suggested}'?" in one_clear_line(result.stderr)
    assert tree(repo.parent) == before


def test_unknown_id_with_nothing_close_has_no_guess(ws, kamctl):
    result = kamctl("score", "zzzz", ws=ws)
    assert result.exit_code == 2
    assert "no account 'zzzz'" in result.stderr and "did you mean" not in result.stderr


# --- global options after the command ----------------------------------------------------------------


def test_workspace_option_after_the_command_works(ws, kamctl):
    expected = kamctl("check", ws=ws)
    for args in (("check", "-w", str(ws)), ("check", "--workspace", str(ws)), ("check", f"--workspace={ws}"),
                 ("check", f"-w{ws}"), ("check", "--no-cache", "-w", str(ws))):
        result = kamctl(*args)
        assert (result.exit_code, result.stdout) == (expected.exit_code, expected.stdout), args
    for args in (("opp", "list", "--format", "json", "-w", str(ws)), ("opp", "-w", str(ws), "list", "--format", "json")):
        listed = kamctl(*args)
        assert listed.exit_code == 0, listed
        assert json.loads(listed.stdout), args


def test_workspace_option_after_the_command_through_the_console_script(ws, tmp_path):
    proc = run("check", "-w", ws, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc
    assert proc.stdout.lstrip().startswith(("{", "["))


def test_a_value_that_looks_like_the_option_stays_a_value(ws, kamctl):
    result = kamctl("opp", "add", ACCOUNT, "--title", "Trays", "--note", "-w", "-w", str(ws))
    assert result.exit_code == 0, result
    assert "note: -w" in (ws / "accounts" / f"{ACCOUNT}.yaml").read_text(encoding="utf-8")


def test_options_after_double_dash_are_not_moved(ws, kamctl):
    result = kamctl("score", "--", "-w", str(ws), ws=ws)
    assert result.exit_code == 2
    assert "'-w' is not a valid account id" in result.stderr


def test_workspace_option_without_a_folder_says_where_it_goes(kamctl):
    result = kamctl("check", "-w")
    assert result.exit_code == 2
    assert "kamctl -w DIR check" in result.output


# --- opp add: currency case, repeated titles ---------------------------------------------------------


def test_opp_add_upper_cases_the_currency(ws, kamctl):
    result = kamctl("opp", "add", ACCOUNT, "--title", "UK trays", "--value", "100", "--currency", "gbp", ws=ws)
    assert result.exit_code == 0, result
    listed = kamctl("opp", "list", "--account", ACCOUNT, "--format", "json", ws=ws)
    assert [r["currency"] for r in json.loads(listed.stdout) if r["id"] == "uk-trays"] == ["GBP"]


def test_opp_add_refuses_a_title_whose_id_exists(ws, kamctl):
    path = ws / "accounts" / f"{ACCOUNT}.yaml"
    before = path.read_bytes()

    result = kamctl("opp", "add", ACCOUNT, "--title", "Installer Packaging", ws=ws)

    assert result.exit_code == 1, result
    line = one_clear_line(result.stderr)
    assert "already has an opportunity 'installer-packaging'" in line and "--id" in line
    assert path.read_bytes() == before
    assert not list(ws.rglob("*-2*"))
    assert kamctl("opp", "add", ACCOUNT, "--title", "Installer Packaging", "--id", "installer-packaging-eu",
                  ws=ws).exit_code == 0
