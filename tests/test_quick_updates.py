"""contact, tactic done, survey add, sales set: real commands on a comment-rich file, checked with git diff.

Each update changes only the lines of its item (the rest of the file is the person's bytes), and
each refusal leaves the file byte for byte as it was, with the exit code of the README table.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, folder_locked, make_workspace
from test_opp_edit import diff_hunks, git

ACME = (FIXTURES / "updates" / "acme-corp.yaml").read_text(encoding="utf-8")
LINES = ACME.splitlines()


@pytest.fixture
def repo(tmp_path):
    """A git repo holding a workspace with the comment-rich acme-corp.yaml, committed."""
    root = make_workspace(tmp_path / "repo", {"acme-corp": ACME})
    for step in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "start"]):
        git(root, *step)
    return root


def account(root: Path):
    from kamctl.workspace import load_account

    loaded = load_account(root / "accounts" / "acme-corp.yaml", root)
    assert loaded.ok, loaded.findings
    return loaded.account


def line_of(text: str) -> int:
    """1-based number of the original line that is exactly `text` once stripped."""
    return next(i + 1 for i, line in enumerate(LINES) if line.strip() == text)


def one_line_changed(root: Path, old: str, new: str) -> None:
    """The diff is one hunk replacing the original line `old` by `new` (whitespace as in the file)."""
    hunks = diff_hunks(root)
    assert hunks == [(line_of(old.strip()), 1, [f"-{old}", f"+{new}"])], hunks


# --- contact ----------------------------------------------------------------------------------------


def test_contact_changes_only_the_last_contact_line(repo, kamctl):
    result = kamctl("contact", "acme-corp", "kweber", "--date", "2026-05-02", ws=repo)
    assert result.exit_code == 0, result
    assert "kweber: last contact 2026-05-02" in result.stdout
    one_line_changed(repo, "    last_contact: 2026-03-10   # the plant visit",
                     "    last_contact: 2026-05-02   # the plant visit")
    assert account(repo).decision_makers[0].last_contact == dt.date(2026, 5, 2)


def test_contact_by_name_slug_adds_last_contact_after_the_keys_before_it(repo, kamctl):
    result = kamctl("contact", "acme-corp", "jan-novak", "--date", "2026-05-03", ws=repo)
    assert result.exit_code == 0, result
    hunks = diff_hunks(repo)
    assert hunks == [(line_of("counterpart: Priya Shah"), 0, ["+    last_contact: 2026-05-03"])], hunks


def test_contact_defaults_to_today(repo, kamctl):
    assert kamctl("contact", "acme-corp", "kweber", ws=repo).exit_code == 0
    assert account(repo).decision_makers[0].last_contact == dt.date.today()


# --- tactic done ------------------------------------------------------------------------------------


def test_tactic_done_block_style_changes_status_and_adds_completed(repo, kamctl):
    result = kamctl("tactic", "done", "acme-corp", "two-week-trial-on-line-4", "--date", "2026-06-09", ws=repo)
    assert result.exit_code == 0, result
    status = line_of("status: in_progress")
    assert diff_hunks(repo) == [(status, 1, ["-              status: in_progress", "+              status: done",
                                             "+              completed: 2026-06-09"])]
    tactic = account(repo).plan.objectives[0].strategies[0].tactics[0]
    assert (tactic.status, tactic.completed) == ("done", dt.date(2026, 6, 9))


def test_tactic_done_flow_style_keeps_its_line_and_comment(repo, kamctl):
    result = kamctl("tactic", "done", "acme-corp", "present-results-to-the-coo", "--date", "2026-06-19", ws=repo)
    assert result.exit_code == 0, result
    old = next(l for l in LINES if "Present results" in l)
    # the line grows past its comment's column: ruamel keeps the comment one space after it
    new = old.replace("due: 2026-06-20}  #", "due: 2026-06-20, status: done, completed: 2026-06-19} #")
    one_line_changed(repo, old, new)


def test_a_tactic_id_names_it(repo, kamctl):
    text = ACME.replace("- title: Two-week trial on line 4", "- id: trial\n              title: Two-week trial on line 4")
    (repo / "accounts" / "acme-corp.yaml").write_text(text, encoding="utf-8")
    assert kamctl("tactic", "done", "acme-corp", "trial", "--date", "2026-06-09", ws=repo).exit_code == 0
    assert account(repo).plan.objectives[0].strategies[0].tactics[0].status == "done"


# --- survey add -------------------------------------------------------------------------------------


def test_survey_add_appends_one_line_in_the_lists_style_before_the_closing_comment(repo, kamctl):
    result = kamctl("survey", "add", "acme-corp", "--score", "4.5", "--method", "interview", "--date", "2026-05-20",
                    ws=repo)
    assert result.exit_code == 0, result
    last = line_of("- {date: 2025-11-20, method: interview, score: 4.1}")
    assert diff_hunks(repo) == [(last, 0, ["+    - {date: 2026-05-20, method: interview, score: 4.5}"])]
    survey = account(repo).performance.surveys[-1]
    assert (survey.date, survey.method, survey.score) == (dt.date(2026, 5, 20), "interview", 4.5)


def test_survey_add_creates_the_performance_section(tmp_path, kamctl, workspace):
    ws = workspace({"bare": "name: Bare   # no performance yet\nnotes: hello\n"})
    assert kamctl("survey", "add", "bare", "--score", "3", "--date", "2026-05-20", ws=ws).exit_code == 0
    text = (ws / "accounts" / "bare.yaml").read_text(encoding="utf-8")
    assert text.startswith("name: Bare   # no performance yet\n")
    assert "surveys:\n" in text and "{date: 2026-05-20, method: survey, score: 3}" in text
    from kamctl.workspace import load_account

    loaded = load_account(ws / "accounts" / "bare.yaml", ws)
    assert loaded.ok and loaded.account.performance.surveys[0].score == 3 and loaded.account.notes == "hello"


# --- sales set --------------------------------------------------------------------------------------


def test_sales_set_block_style_changes_only_achieved(repo, kamctl):
    result = kamctl("sales", "set", "acme-corp", "2026-Q2", "--achieved", "650000", ws=repo)
    assert result.exit_code == 0, result
    one_line_changed(repo, "      achieved: 400000  # so far", "      achieved: 650000  # so far")


def test_sales_set_flow_style(repo, kamctl):
    assert kamctl("sales", "set", "acme-corp", "2026-Q1", "--achieved", "1030000.5", ws=repo).exit_code == 0
    old = next(l for l in LINES if "2026-Q1" in l)
    one_line_changed(repo, old, old.replace("achieved: 1020000}   #", "achieved: 1030000.5} #"))


# --- refusals: the file is byte-identical, the exit code as in the README ------------------------------

REFUSALS = {
    # usage: unknown ids (did you mean) and bad values, exit 2
    "unknown account": (["contact", "acme-crop", "kweber"], 2, "did you mean 'acme-corp'"),
    "unknown person": (["contact", "acme-corp", "kwebber"], 2, "did you mean 'kweber'"),
    "malformed person": (["contact", "acme-corp", "K Weber"], 2, "not a valid contact id"),
    "bad date": (["contact", "acme-corp", "kweber", "--date", "2026-13-01"], 2, "not a date"),
    "unknown tactic": (["tactic", "done", "acme-corp", "two-week-trial"], 2, "did you mean 'two-week-trial-on-line-4'"),
    "score too high": (["survey", "add", "acme-corp", "--score", "6"], 2, "from 1 to 5"),
    "score not finite": (["survey", "add", "acme-corp", "--score", "nan"], 2, "from 1 to 5"),
    "bad method": (["survey", "add", "acme-corp", "--score", "4", "--method", "email"], 2, "survey or interview"),
    "unknown period": (["sales", "set", "acme-corp", "2026-Q3", "--achieved", "1"], 2, "did you mean '2026-Q"),
    "negative sales": (["sales", "set", "acme-corp", "2026-Q2", "--achieved", "-5"], 2, "from 0"),
    "sales too big": (["sales", "set", "acme-corp", "2026-Q2", "--achieved", "1e16"], 2, "from 0"),
    # refused edits, exit 1
    "contact moves back": (["contact", "acme-corp", "kweber", "--date", "2026-03-09"], 1, "last contacted on 2026-03-10"),
    "tactic already done": (["tactic", "done", "acme-corp", "old-kick-off"], 1, "already done"),
}


@pytest.mark.parametrize("args, code, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal_leaves_the_file_byte_identical(repo, kamctl, args, code, message):
    before = (repo / "accounts" / "acme-corp.yaml").read_bytes()
    result = kamctl(*args, ws=repo)
    assert result.exit_code == code, result
    assert message in result.stderr
    assert "nothing was changed" in result.stderr or code == 2
    assert (repo / "accounts" / "acme-corp.yaml").read_bytes() == before


def test_two_tactics_with_one_title_are_refused_until_one_has_an_id(repo, kamctl):
    text = ACME.replace("Old kick-off", "Two-week trial on line 4")
    (repo / "accounts" / "acme-corp.yaml").write_text(text, encoding="utf-8")
    result = kamctl("tactic", "done", "acme-corp", "two-week-trial-on-line-4", ws=repo)
    assert result.exit_code == 1 and "give each an `id:`" in result.stderr
    assert (repo / "accounts" / "acme-corp.yaml").read_text(encoding="utf-8") == text


def test_an_invalid_file_is_refused(repo, kamctl):
    text = ACME.replace("strength: 4", "strength: 9")
    (repo / "accounts" / "acme-corp.yaml").write_text(text, encoding="utf-8")
    result = kamctl("contact", "acme-corp", "kweber", "--date", "2026-05-02", ws=repo)
    assert result.exit_code == 1 and "fix them before editing" in result.stderr
    assert (repo / "accounts" / "acme-corp.yaml").read_text(encoding="utf-8") == text


def test_a_read_only_file_is_refused(repo, kamctl):
    path = repo / "accounts" / "acme-corp.yaml"
    path.chmod(0o444)
    result = kamctl("sales", "set", "acme-corp", "2026-Q2", "--achieved", "650000", ws=repo)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert path.read_text(encoding="utf-8") == ACME


def test_a_symlinked_account_file_is_not_written_through(repo, kamctl, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(ACME, encoding="utf-8")
    path = repo / "accounts" / "acme-corp.yaml"
    path.unlink()
    path.symlink_to(outside)
    result = kamctl("contact", "acme-corp", "kweber", "--date", "2026-05-02", ws=repo)
    assert result.exit_code in (1, 2), result
    assert outside.read_text(encoding="utf-8") == ACME


def test_a_file_changed_between_read_and_write_is_refused(repo, monkeypatch):
    """The item checked in the round-trip tree is the one the command read: a hand edit in between
    (here: the person renamed) refuses the update and writes nothing."""
    from kamctl import updates
    from kamctl.yamlio.write import EditError

    path = repo / "accounts" / "acme-corp.yaml"
    with pytest.raises(EditError, match="no longer where kamctl read it"):
        updates.set_last_contact(path, 0, "Someone Else", dt.date(2026, 5, 2), repo)
    assert path.read_text(encoding="utf-8") == ACME


def test_updates_run_through_the_installed_entry_point(repo):
    """The console script, as a person runs it: one update, exit 0, the file re-validates."""
    import sys

    kamctl = Path(sys.executable).parent / "kamctl"
    done = subprocess.run([str(kamctl), "-w", str(repo), "sales", "set", "acme-corp", "2026-Q2", "--achieved", "7"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert account(repo).performance.sales[1].achieved == 7


def test_updates_wait_for_the_edit_lock_then_refuse(repo, kamctl, monkeypatch):
    """Serialised with opp and each other: while another process holds the folder's lock, every
    quick update waits LOCK_TIMEOUT, then exits 1 and writes nothing."""
    from kamctl.yamlio import write

    target = repo / "accounts" / "acme-corp.yaml"
    with folder_locked(target.parent):
        monkeypatch.setattr(write, "LOCK_TIMEOUT", 0.2)
        for args in (["contact", "acme-corp", "kweber"], ["tactic", "done", "acme-corp", "two-week-trial-on-line-4"],
                     ["survey", "add", "acme-corp", "--score", "4"],
                     ["sales", "set", "acme-corp", "2026-Q2", "--achieved", "1"]):
            result = kamctl(*args, ws=repo)
            assert result.exit_code == 1 and "another edit of this folder" in result.stderr, (args, result)
        assert target.read_text(encoding="utf-8") == ACME
