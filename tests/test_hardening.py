"""Safe on an untrusted pull request: edits, staleness, history, schema and terminal output never
follow a link out of the workspace, hang on a FIFO, or pass a control character to the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import make_workspace

KAMCTL = Path(sys.executable).with_name("kamctl")  # the installed console script

ACCOUNT = """\
# Acme: key account plan
name: Acme
owner: {name: Ann, role: farmer}
opportunities:
  - id: film
    title: Film for the ready-meal range
    stage: decision
    history:
      - {stage: identification, date: 2026-01-05}
      - {stage: decision, date: 2026-02-01}
"""

SECRET = ACCOUNT.replace("name: Acme", "name: Secret Outside")


def run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("KAMCTL_WORKSPACE", None)
    return subprocess.run([str(KAMCTL), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "acme.yaml").write_text(SECRET, encoding="utf-8")
    return outside


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- 1. the edit path ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["opp", "add", "acme", "--title", "New", "--id", "new", "--date", "2026-03-01"],
                                     ["opp", "advance", "acme", "film", "--date", "2026-03-01"]],
                         ids=["add", "advance"])
def test_an_edit_refuses_an_account_file_linked_outside(tmp_path, command):
    outside = _outside(tmp_path)
    ws = make_workspace(tmp_path / "ws")
    (ws / "accounts" / "acme.yaml").symlink_to(outside / "acme.yaml")
    before = _listing(outside)
    done = run("-w", str(ws), *command)
    assert done.returncode in (1, 2), done
    assert "outside the workspace" in done.stderr or "link" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert _listing(outside) == before
    assert (ws / "accounts" / "acme.yaml").is_symlink()


def test_an_edit_refuses_an_accounts_folder_linked_outside(tmp_path):
    outside = _outside(tmp_path)
    ws = make_workspace(tmp_path / "ws")
    (ws / "accounts").rmdir()
    (ws / "accounts").symlink_to(outside, target_is_directory=True)
    before = _listing(outside)
    done = run("-w", str(ws), "opp", "add", "acme", "--title", "New", "--id", "new", "--date", "2026-03-01")
    assert done.returncode in (1, 2), done
    assert "Traceback" not in done.stderr
    assert _listing(outside) == before


def test_an_edit_never_writes_into_a_folder_swapped_for_a_link_after_reading(tmp_path):
    """The race: accounts/ becomes a link to a folder holding the same bytes between read and write."""
    from kamctl.yamlio import write

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "acme.yaml").write_text(ACCOUNT, encoding="utf-8")
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    rt = write.open_roundtrip(ws / "accounts" / "acme.yaml", root=ws)
    rt.data["industry"] = "Packaging"
    (ws / "accounts").rename(ws / "moved")
    (ws / "accounts").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError):
        write.save(rt)
    assert _listing(outside) == {"acme.yaml": ACCOUNT.encode()}


def test_an_edit_refuses_a_file_swapped_for_a_fifo_after_reading(tmp_path):
    from kamctl.yamlio import write

    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    file = ws / "accounts" / "acme.yaml"
    rt = write.open_roundtrip(file, root=ws)
    rt.data["industry"] = "Packaging"
    file.unlink()
    os.mkfifo(file)
    with pytest.raises(write.ConflictError, match="can no longer be read"):
        write.save(rt)  # without a writer on the FIFO, a read by name would wait for ever


def test_an_edit_through_fsafe_still_keeps_the_mode_and_writes(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    file = ws / "accounts" / "acme.yaml"
    file.chmod(0o640)
    done = run("-w", str(ws), "opp", "add", "acme", "--title", "New", "--id", "new", "--date", "2026-03-01")
    assert done.returncode == 0, done
    assert "id: new" in file.read_text(encoding="utf-8")
    assert file.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in file.parent.iterdir()) == ["acme.yaml"]  # no temp file left


def test_the_conflict_side_file_replaces_a_planted_link(tmp_path):
    from kamctl import edits
    from kamctl.yamlio import write

    outside = _outside(tmp_path)
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    file = ws / "accounts" / "acme.yaml"
    (ws / "accounts" / "acme.yaml.kamctl-new").symlink_to(outside / "acme.yaml")
    rt = write.open_roundtrip(file, root=ws)
    rt.data["industry"] = "Packaging"
    file.write_text(ACCOUNT + "# someone else\n", encoding="utf-8")
    with pytest.raises(write.ConflictError, match="kamctl-new"):
        edits.save(rt)
    assert (outside / "acme.yaml").read_text(encoding="utf-8") == SECRET
    side = ws / "accounts" / "acme.yaml.kamctl-new"
    assert not side.is_symlink() and "Packaging" in side.read_text(encoding="utf-8")


# --- 2. staleness and history read through fsafe ------------------------------------------------------


def _repo(tmp_path: Path) -> Path:
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT + "strategy: {current_situation: Grow}\n"})
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "T"], ["config", "user.email", "t@e.x"],
                 ["config", "commit.gpgsign", "false"], ["add", "-A"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_DATE": "2026-01-10T12:00:00", "GIT_COMMITTER_DATE":
                            "2026-01-10T12:00:00"})
    return ws


_SWAP = textwrap.dedent("""\
    import datetime as dt, os, sys
    from pathlib import Path
    from kamctl import history
    from kamctl.checks import staleness
    from kamctl.checks.registry import Context
    from kamctl.loader import load_workspace
    root, how, target = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    ws = load_workspace(root, use_cache=False)
    (loaded,) = ws.accounts
    assert loaded.ok, loaded.findings
    file = root / "accounts" / "acme.yaml"
    file.unlink()
    os.mkfifo(file) if how == "fifo" else file.symlink_to(target)
    print("blobs", len(history.blob_ids(ws)))
    print("changes", staleness.last_changes(loaded, Context(ws.settings, dt.date(2026, 6, 1), root)))
    """)


@pytest.mark.parametrize("how", ["fifo", "link"])
def test_staleness_and_history_do_not_reread_a_swapped_file_by_name(tmp_path, how):
    ws = _repo(tmp_path)
    outside = _outside(tmp_path)
    (outside / "acme.yaml").write_text(ACCOUNT + "strategy: {current_situation: Secret plan}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _SWAP, str(ws), how, str(outside / "acme.yaml")],
                          capture_output=True, text=True, timeout=60)  # a read of the FIFO would hang
    assert done.returncode == 0, done.stderr
    assert "blobs 0" in done.stdout  # the swapped file is not hashed (the outside file is not read)
    # read through fsafe the file is refused, so no section counts as edited from the outside text
    assert "'strategy': None" in done.stdout, done.stdout


@pytest.mark.parametrize("how", ["fifo", "link"])
@pytest.mark.parametrize("command", [["history", "acme"], ["check", "--select", "KAM8"], ["diff"]])
def test_history_check_and_diff_survive_a_fifo_or_link_in_the_working_tree(tmp_path, how, command):
    ws = _repo(tmp_path)
    outside = _outside(tmp_path)
    file = ws / "accounts" / "acme.yaml"
    file.unlink()
    os.mkfifo(file) if how == "fifo" else file.symlink_to(outside / "acme.yaml")
    done = run("-w", str(ws), *command, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    assert "Secret Outside" not in done.stdout + done.stderr


# --- 3. schema --out and --check ---------------------------------------------------------------------


def test_schema_out_never_writes_through_a_link_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "bashrc").write_text("keep me\n", encoding="utf-8")
    ws = tmp_path / "ws"
    (ws / "schemas").mkdir(parents=True)
    (ws / "schemas" / "account.schema.json").symlink_to(outside / "bashrc")
    done = run("schema", "--out", "schemas", cwd=ws)
    assert done.returncode == 1, done
    assert "symlink" in done.stderr and "Traceback" not in done.stderr
    assert (outside / "bashrc").read_text(encoding="utf-8") == "keep me\n"


def test_schema_out_refuses_a_folder_linked_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "schemas").symlink_to(outside, target_is_directory=True)
    done = run("schema", "--out", "schemas", cwd=ws)
    assert done.returncode == 1, done
    assert "outside" in done.stderr and "Traceback" not in done.stderr
    assert list(outside.iterdir()) == []


def test_schema_check_reads_through_fsafe(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    assert run("schema", "--out", "schemas", cwd=ws).returncode == 0
    assert run("schema", "--check", "--out", "schemas", cwd=ws).returncode == 0
    good = (ws / "schemas" / "kam.schema.json").read_bytes()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kam.schema.json").write_bytes(good)
    (ws / "schemas" / "kam.schema.json").unlink()
    (ws / "schemas" / "kam.schema.json").symlink_to(outside / "kam.schema.json")
    done = run("schema", "--check", "--out", "schemas", cwd=ws)
    assert done.returncode == 1 and "symlink" in done.stderr, done  # same bytes, but not read through a link
    (ws / "schemas" / "kam.schema.json").unlink()
    os.mkfifo(ws / "schemas" / "kam.schema.json")
    done = run("schema", "--check", "--out", "schemas", cwd=ws, timeout=30)  # a FIFO: no hang
    assert done.returncode == 1 and "Traceback" not in done.stderr, done


# --- 4. control characters never reach the terminal -------------------------------------------------

EVIL = r"North\e[2J\e]0;pwned\a\x01\rX"
HOSTILE = f"""\
name: "{EVIL}"
owner: {{name: "Ann\\e[31m", role: farmer}}
attractiveness: {{size: 8}}
relative_strength: {{price: 6}}
opportunities:
  - id: film
    title: "Film\\e[2J"
    value: 1000
    currency: EUR
    stage: qualification
    history:
      - {{stage: identification, date: 2026-01-05}}
      - {{stage: qualification, date: 2026-02-01}}
"""


@pytest.mark.parametrize("command", [["score"], ["opp", "list"], ["portfolio"], ["report"], ["level"], ["owners"],
                                     ["pipeline"], ["render", "plan", "acme"], ["portfolio", "--format", "markdown"]],
                         ids=lambda c: " ".join(c))
def test_control_characters_in_names_never_reach_the_terminal(tmp_path, command):
    ws = make_workspace(tmp_path / "ws", {"acme": HOSTILE})
    done = run("-w", str(ws), *command)
    assert "Traceback" not in done.stderr, done.stderr
    out = done.stdout + done.stderr
    for raw in ("\x1b", "\x07", "\x01"):
        assert raw not in out, (command, out)


def test_a_name_with_escapes_is_shown_visibly_in_a_table(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"acme": HOSTILE})
    done = run("-w", str(ws), "score")
    assert done.returncode == 0, done
    assert r"North\x1b[2J\x1b]0;pwned\x07\x01" in done.stdout
