"""opp add/advance/decide/close: real commands on hand-written files, checked with git diff."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES

ACME = (FIXTURES / "opp" / "acme-corp.yaml").read_text(encoding="utf-8")
STAGES = (FIXTURES / "opp" / "stages.yaml").read_text(encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    """A git repo holding a workspace with the comment-full acme-corp.yaml and stages.yaml, committed."""
    root = tmp_path / "repo"
    (root / "accounts").mkdir(parents=True)
    (root / "kam.yaml").write_text("company: {name: Brightpack, currency: EUR}\n", encoding="utf-8")
    (root / "accounts" / "acme-corp.yaml").write_text(ACME, encoding="utf-8")
    (root / "accounts" / "stages.yaml").write_text(STAGES, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    return root


def load(root: Path, account: str = "acme-corp"):
    from kamctl.workspace import load_account

    loaded = load_account(root / "accounts" / f"{account}.yaml", root)
    assert loaded.ok, loaded.findings
    return loaded.account


def diff_hunks(root: Path, account: str = "acme-corp") -> list[tuple[int, int, list[str]]]:
    """(old start, old count, lines) per hunk of `git diff -U0` for the account file."""
    out = git(root, "diff", "-U0", "--", f"accounts/{account}.yaml")
    hunks = []
    for match in re.finditer(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@.*\n((?:[-+].*\n?)*)", out, re.M):
        hunks.append((int(match[1]), int(match[2] or 1), match[3].splitlines()))
    return hunks


def opp_span(text: str, opp_id: str) -> range:
    """1-based line numbers of one opportunity's block in the original text (dash line to its last line)."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == f"- id: {opp_id}")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return range(start + 1, end + 1)


def comment_lines(text: str) -> list[str]:
    return [l for l in text.splitlines() if l.lstrip().startswith("#")]


# --- the full life of a new opportunity ---------------------------------------------------------


def test_lifecycle_of_new_opportunity_changes_only_its_lines(repo, kamctl):
    steps = [
        ("opp", "add", "acme-corp", "--title", "Lidding film for yoghurt", "--value", "450000",
         "--currency", "EUR", "--close", "2026-11-30", "--date", "2026-04-01", "--note", "Met at the fair"),
        ("opp", "advance", "acme-corp", "lidding-film-for-yoghurt", "--date", "2026-04-15"),
        ("opp", "advance", "acme-corp", "lidding-film-for-yoghurt", "--date", "2026-05-01"),
        ("opp", "decide", "acme-corp", "lidding-film-for-yoghurt", "go", "--reason", "Fits our film line",
         "--by", "Dana Reyes", "--date", "2026-05-10"),
        ("opp", "advance", "acme-corp", "lidding-film-for-yoghurt", "--date", "2026-06-01"),
        ("opp", "close", "acme-corp", "lidding-film-for-yoghurt", "won", "--date", "2026-07-01",
         "--note", "Signed: 3 years"),
    ]
    for args in steps:
        result = kamctl(*args, ws=repo)
        assert result.exit_code == 0, result

    hunks = diff_hunks(repo)
    # one hunk, lines only added, right after the last opportunity's last line
    assert len(hunks) == 1
    old_start, old_count, lines = hunks[0]
    assert old_count == 0 and all(l.startswith("+") for l in lines)
    original = ACME.splitlines()
    assert original[old_start - 1].strip() == "- {stage: identification, date: 2026-03-01}"  # trays' last line
    assert lines[0] == "+" and lines[1] == "+  - id: lidding-film-for-yoghurt"  # blank line, as the file separates them

    text = (repo / "accounts" / "acme-corp.yaml").read_text(encoding="utf-8")
    # every comment kept, in order; the block closing the list still comes after the new opportunity
    assert comment_lines(text) == comment_lines(ACME)
    assert text.index("- id: lidding-film-for-yoghurt") < text.index("# ---- end of opportunities")
    assert text.index("(kamctl keeps this block last)") < text.index("# Programme of interaction")

    opp = load(repo).opportunity("lidding-film-for-yoghurt")
    assert (opp.stage.value, opp.value, opp.close) == ("contract", 450000, dt.date(2026, 11, 30))
    assert [(h.stage.value, h.date) for h in opp.history] == [
        ("identification", dt.date(2026, 4, 1)), ("qualification", dt.date(2026, 4, 15)),
        ("decision", dt.date(2026, 5, 1)), ("pursuit", dt.date(2026, 5, 10)),
        ("closing", dt.date(2026, 6, 1)), ("contract", dt.date(2026, 7, 1))]
    assert opp.history[0].note == "Met at the fair" and opp.history[-1].note == "Signed: 3 years"
    assert (opp.decision.decision, opp.decision.reason, opp.decision.by, opp.decision.date) == (
        "go", "Fits our film line", "Dana Reyes", dt.date(2026, 5, 10))
    assert (opp.history[3].decision, opp.history[3].reason, opp.history[3].by) == ("go", "Fits our film line", "Dana Reyes")
    # the file already writes history as one flow mapping per line: the new entries follow it
    assert "      - {stage: decision, date: 2026-05-01}" in text.splitlines()


def test_lifecycle_of_existing_opportunity_touches_only_its_block(repo, kamctl):
    for args in [("advance", "acme-corp", "trays", "--date", "2026-04-01"),
                 ("advance", "acme-corp", "trays", "--date", "2026-04-02"),
                 ("decide", "acme-corp", "trays", "no-go", "--reason", "Too small", "--date", "2026-04-03")]:
        result = kamctl("opp", *args, ws=repo)
        assert result.exit_code == 0, result
    span = opp_span(ACME, "trays")
    removed = []
    for start, count, lines in diff_hunks(repo):
        assert all(n in span or n == span.stop for n in range(start, start + max(count, 1))), (start, count, lines)
        removed += [l[1:] for l in lines if l.startswith("-")]
    assert [l.split("#")[0].strip() for l in removed] == ["stage: identification"]
    text = (repo / "accounts" / "acme-corp.yaml").read_text(encoding="utf-8")
    assert "    stage: no_go" in text and "# not yet qualified" in text  # the person's comment stays
    assert comment_lines(text) == comment_lines(ACME)
    trays = load(repo).opportunity("trays")
    assert trays.stage.value == "no_go" and trays.decision.decision == "no_go"
    assert trays.history[-1].decision == "no_go" and trays.history[-1].reason == "Too small"


def test_ready_meal_film_is_not_last_and_edit_stays_in_its_block(repo, kamctl):
    result = kamctl("opp", "advance", "acme-corp", "ready-meal-film", "--date", "2026-03-01", ws=repo)
    assert result.exit_code == 0, result
    span = opp_span(ACME, "ready-meal-film")
    for start, count, _ in diff_hunks(repo):
        assert start in span
    assert load(repo).opportunity("ready-meal-film").stage.value == "decision"


def test_add_slugs_the_title_refuses_a_repeat_and_honours_id(repo, kamctl):
    assert kamctl("opp", "add", "acme-corp", "--title", "Recyclable trays!", ws=repo).exit_code == 0
    before = (repo / "accounts" / "acme-corp.yaml").read_bytes()
    again = kamctl("opp", "add", "acme-corp", "--title", "Recyclable  Trays", ws=repo)
    assert again.exit_code == 1, again
    assert "already has an opportunity 'recyclable-trays'" in again.stderr and "--id" in again.stderr
    assert (repo / "accounts" / "acme-corp.yaml").read_bytes() == before
    result = kamctl("opp", "add", "acme-corp", "--title", "Other", "--id", "my-deal", ws=repo)
    assert result.exit_code == 0, result
    ids = [o.id for o in load(repo).opportunities]
    assert ids == ["ready-meal-film", "trays", "recyclable-trays", "my-deal"]
    assert all(o.currency is None for o in load(repo).opportunities[2:])  # company currency by default


def test_date_defaults_to_today_and_is_a_yaml_date(repo, kamctl):
    assert kamctl("opp", "add", "acme-corp", "--title", "Today", ws=repo).exit_code == 0
    text = (repo / "accounts" / "acme-corp.yaml").read_text(encoding="utf-8")
    assert f"- {{stage: identification, date: {dt.date.today().isoformat()}}}" in text
    assert load(repo).opportunity("today").history[0].date == dt.date.today()


def test_block_style_history_is_followed(repo, kamctl):
    result = kamctl("opp", "advance", "stages", "qual", "--date", "2026-03-05", "--note", "Budget: yes", ws=repo)
    assert result.exit_code == 0, result
    text = (repo / "accounts" / "stages.yaml").read_text(encoding="utf-8")
    assert "      - stage: decision\n        date: 2026-03-05\n        note: 'Budget: yes'\n  - id: dec" in text
    assert text.endswith("# end of Stages Ltd\n")


def test_history_created_when_missing(repo, kamctl):
    result = kamctl("opp", "decide", "stages", "dec", "go", "--reason", "Strong fit", "--date", "2026-03-05", ws=repo)
    assert result.exit_code == 0, result
    dec = load(repo, "stages").opportunity("dec")
    assert dec.stage.value == "pursuit" and [h.stage.value for h in dec.history] == ["pursuit"]
    assert dec.decision.by is None and dec.decision.date == dt.date(2026, 3, 5)
    span = opp_span(STAGES, "dec")
    for start, count, _ in diff_hunks(repo, "stages"):
        assert start in span


@pytest.mark.parametrize("text", [
    "# Acme\nname: Acme\n# Stage 3: opportunities\nopportunities: []   # none yet\n\n# Programme\ninteractions: []\n",
    "name: Acme\nopportunities: []\n# end of file\n",
    "name: Acme\nnotes: hello\n# end of file\n",
    "name: Acme\ninteractions: []  # later\n# closing words\n",
])
def test_add_to_empty_or_missing_list(workspace, kamctl, text):
    ws = workspace({"acme": text})
    result = kamctl("opp", "add", "acme", "--title", "First deal", "--value", "10", "--date", "2026-01-02", ws=ws)
    assert result.exit_code == 0, result
    after = (ws / "accounts" / "acme.yaml").read_text(encoding="utf-8")
    assert comment_lines(after) == comment_lines(text)
    assert after.rstrip().endswith(text.rstrip().splitlines()[-1])  # the last line stays last
    for line in text.splitlines():
        if "opportunities" not in line:
            assert line in after.splitlines()
    assert kamctl("validate", ws=ws).exit_code == 0
    from kamctl.workspace import load_account

    acc = load_account(ws / "accounts" / "acme.yaml", ws).account
    assert [(o.id, o.value, o.history[0].date) for o in acc.opportunities] == [("first-deal", 10, dt.date(2026, 1, 2))]


def test_forced_skip_is_recorded(repo, kamctl):
    result = kamctl("opp", "advance", "stages", "ident", "--to", "decision", "--force", "--note", "Board asked",
                    "--date", "2026-02-01", ws=repo)
    assert result.exit_code == 0, result
    entry = load(repo, "stages").opportunity("ident").history[-1]
    assert (entry.stage.value, entry.forced, entry.note) == ("decision", True, "Board asked")


def test_contract_advances_to_engagement(repo, kamctl):
    assert kamctl("opp", "advance", "stages", "contract", ws=repo).exit_code == 0
    assert load(repo, "stages").opportunity("contract").stage.value == "engagement"


def test_close_lost_from_closing(repo, kamctl):
    assert kamctl("opp", "close", "stages", "closing", "lost", "--reason", "Price", ws=repo).exit_code == 0
    assert load(repo, "stages").opportunity("closing").stage.value == "lost"


# --- refusals: exit 1, a message that says what to do, the file unchanged byte for byte ------------


REFUSALS = [
    (("advance", "stages", "dec"), "opp decide stages dec go|no-go"),
    (("advance", "stages", "dec", "--to", "pursuit", "--force", "--note", "hurry"), "opp decide stages dec"),
    (("close", "stages", "dec", "won"), "opp decide stages dec"),
    (("advance", "stages", "engaged"), "final"),
    (("advance", "stages", "nogo"), "final"),
    (("advance", "stages", "gone"), "final"),
    (("close", "stages", "contract", "won"), "opp advance stages contract"),
    (("advance", "stages", "closing"), "opp close stages closing won|lost"),
    (("advance", "stages", "qual", "--to", "identification"), "opp advance stages qual` (to decision)"),
    (("advance", "stages", "ident", "--to", "decision"), "--force --note"),
    (("advance", "stages", "ident", "--to", "pursuit", "--force", "--note", "x"), "without a go decision"),
    (("advance", "stages", "ident", "--to", "no_go"), "decide no-go"),
    (("decide", "stages", "ident", "go", "--reason", "x"), "opp advance stages ident` (to qualification)"),
    (("close", "stages", "ident", "won"), "opp advance stages ident"),
    (("add", "stages", "--title", "x", "--id", "qual"), "already has an opportunity 'qual'"),
]


@pytest.mark.parametrize("args,message", REFUSALS, ids=[" ".join(a[:3]) + f" {i}" for i, (a, _) in enumerate(REFUSALS)])
def test_refusals_leave_file_unchanged(repo, kamctl, args, message):
    before = {p.name: p.read_bytes() for p in (repo / "accounts").iterdir()}
    result = kamctl("opp", *args, ws=repo)
    assert result.exit_code == 1, result
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in (repo / "accounts").iterdir()} == before
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("args,message", [
    (("advance", "stages", "ident", "--to", "decision", "--force"), "--force needs --note"),
    (("advance", "stages", "ident", "--to", "nowhere"), "is not a stage"),
    (("decide", "stages", "dec", "maybe", "--reason", "x"), "go or no-go"),
    (("close", "stages", "closing", "drawn"), "won or lost"),
    (("add", "stages", "--title", "x", "--id", "Bad Id"), "not a valid opportunity id"),
    (("advance", "stages", "nope"), "no opportunity 'nope'"),
    (("advance", "nobody", "ident"), "no account 'nobody'"),
    (("add", "nobody", "--title", "x"), "no account 'nobody'"),
    (("add", "stages", "--title", "x", "--currency", "euro"), "ISO 4217"),
    (("add", "stages", "--title", "x", "--date", "2026-13-01"), "not a date"),
])
def test_usage_errors_exit_2(repo, kamctl, args, message):
    result = kamctl("opp", *args, ws=repo)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_invalid_account_file_is_refused_with_findings(workspace, kamctl):
    text = "name: Acme\nopportunities:\n  - id: a\n    title: A\n    stage: nowhere\n"
    ws = workspace({"acme": text})
    result = kamctl("opp", "add", "acme", "--title", "B", ws=ws)
    assert result.exit_code == 1
    assert "acme.yaml:5:" in result.stderr and "fix them before editing" in result.stderr
    assert (ws / "accounts" / "acme.yaml").read_text(encoding="utf-8") == text


def test_file_changed_on_disk_between_read_and_write(repo, kamctl, monkeypatch):
    from kamctl.yamlio import write

    target = repo / "accounts" / "acme-corp.yaml"
    original_open = write.open_roundtrip

    def open_then_someone_edits(path, *args, **kwargs):
        rt = original_open(path, *args, **kwargs)
        target.write_text(ACME.replace("industry: 'Food manufacturing'", "industry: 'Dairy'"), encoding="utf-8")
        return rt

    monkeypatch.setattr(write, "open_roundtrip", open_then_someone_edits)
    result = kamctl("opp", "advance", "acme-corp", "trays", "--date", "2026-04-01", ws=repo)
    assert result.exit_code == 1, result
    assert "changed on disk" in result.stderr
    # their change is on disk, untouched; ours is kept next to the file
    assert target.read_text(encoding="utf-8") == ACME.replace("'Food manufacturing'", "'Dairy'")
    side = target.with_name("acme-corp.yaml.kamctl-new")
    assert str(side.name) in result.stderr
    ours = side.read_text(encoding="utf-8")
    assert "'Food manufacturing'" in ours and "- {stage: qualification, date: 2026-04-01}" in ours
    # the side file is not an account file: the workspace still lists only the real accounts
    from kamctl.workspace import account_files

    assert [p.name for p in account_files(repo)] == ["acme-corp.yaml", "stages.yaml"]


def test_keys_added_to_last_opportunity_stay_above_closing_comments(workspace, kamctl):
    text = "name: X\nopportunities:\n  - id: a\n    title: A   # t\n  # closing the list\n\n# tail\nnotes: n\n"
    ws = workspace({"x": text})
    result = kamctl("opp", "advance", "x", "a", "--date", "2026-02-01", ws=ws)
    assert result.exit_code == 0, result
    after = (ws / "accounts" / "x.yaml").read_text(encoding="utf-8")
    assert after == text.replace(
        "# t\n", "# t\n    stage: qualification\n    history:\n      - {stage: qualification, date: 2026-02-01}\n")
