"""render: Markdown documents from Jinja templates (issue 5).

Golden files in tests/golden/ are the reviewed output; regenerate them with
KAMCTL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render.py, then read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES

GOLDEN = Path(__file__).resolve().parent / "golden"
FIXTURE = GOLDEN / "workspace"
AS_OF = "2026-11-30"
UPDATE = os.environ.get("KAMCTL_UPDATE_GOLDEN", "") in ("1", "true", "yes")


def copy_workspace(source: Path, tmp_path: Path, name: str = "ws") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".kamctl-cache"))
    return target


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; create it with KAMCTL_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended, rerun with KAMCTL_UPDATE_GOLDEN=1 "
        "and review the diff")


@pytest.fixture
def fixture_ws(tmp_path):
    return copy_workspace(FIXTURE, tmp_path)


# --- golden files --------------------------------------------------------------------------------

GOLDEN_CASES = [
    ("rich-co-plan.md", ["plan", "rich-co"]),
    ("rich-co-questionnaire.md", ["questionnaire", "rich-co"]),
    ("rich-co-survey.md", ["survey", "rich-co"]),
    ("sparse-co-plan.md", ["plan", "sparse-co"]),
    ("sparse-co-questionnaire.md", ["questionnaire", "sparse-co"]),
    ("sparse-co-survey.md", ["survey", "sparse-co"]),
    ("rich-co-questionnaire-mkovacs-blank.md", ["questionnaire", "rich-co", "--contact", "mkovacs", "--blank"]),
    ("sparse-co-questionnaire-blank.md", ["questionnaire", "sparse-co", "--blank"]),
    ("portfolio.md", ["portfolio"]),
]


@pytest.mark.parametrize("name,args", GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden_fixture_documents(kamctl, fixture_ws, name, args):
    result = kamctl("render", *args, "--as-of", AS_OF, ws=fixture_ws)
    assert result.exit_code == 0, result
    check_golden(name, result.stdout)


EXAMPLE_ACCOUNTS = ["alpenmilch-foods", "westgrid-energy"]  # one rich, one sparse


@pytest.mark.parametrize("kind", ["plan", "questionnaire", "survey"])
@pytest.mark.parametrize("account_id", EXAMPLE_ACCOUNTS)
def test_golden_example_documents(kamctl, tmp_path, account_id, kind):
    ws = copy_workspace(EXAMPLES, tmp_path)
    result = kamctl("render", kind, account_id, "--as-of", AS_OF, ws=ws)
    assert result.exit_code == 0, result
    check_golden(f"examples/{account_id}-{kind}.md", result.stdout)


def test_golden_examples_portfolio(kamctl, tmp_path):
    result = kamctl("render", "portfolio", "--as-of", AS_OF, ws=copy_workspace(EXAMPLES, tmp_path))
    assert result.exit_code == 0, result
    check_golden("examples/portfolio.md", result.stdout)


def test_workspace_template_overrides_builtin(kamctl, fixture_ws):
    (fixture_ws / "templates").mkdir()
    shutil.copy(GOLDEN / "override" / "plan.md.j2", fixture_ws / "templates" / "plan.md.j2")
    result = kamctl("render", "plan", "rich-co", ws=fixture_ws)
    assert result.exit_code == 0, result
    check_golden("override-plan.md", result.stdout)
    # the templates not overridden still come from kamctl
    survey = kamctl("render", "survey", "rich-co", "--as-of", AS_OF, ws=fixture_ws)
    assert survey.stdout == (GOLDEN / "rich-co-survey.md").read_text(encoding="utf-8")


# --- valid Markdown ------------------------------------------------------------------------------

TRICKY = ["Consolidating suppliers", "not a heading", "Launch a chilled range", "be seen doing it"]


def table_problems(text: str) -> list[str]:
    """Rows whose cell count differs from their header's, and table-looking lines outside any table."""
    from markdown_it import MarkdownIt
    from markdown_it.rules_block.table import escapedSplit

    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    lines = text.split("\n")
    problems = []
    in_table: set[int] = set()
    for token in tokens:
        if token.type == "fence":
            in_table.update(range(*token.map))
        if token.type != "table_open":
            continue
        start, end = token.map
        in_table.update(range(start, end))
        counts = []
        for i in range(start, end):
            row = lines[i].strip()
            row = row[1:] if row.startswith("|") else row
            row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
            cells = escapedSplit(row)
            counts.append(len(cells))
        for i, count in zip(range(start, end), counts):
            if count != counts[0]:
                problems.append(f"line {i + 1}: {count} cells, header has {counts[0]}: {lines[i]}")
    for i, line in enumerate(lines):
        if line.startswith("|") and i not in in_table:
            problems.append(f"line {i + 1} looks like a table row but is not in a table: {line}")
    for token, inline in zip(tokens, tokens[1:]):
        if token.type == "heading_open" and any(t in inline.content for t in TRICKY):
            problems.append(f"account text became a heading: {inline.content}")
    return problems


def test_every_rendered_example_is_valid_markdown(kamctl, tmp_path):
    ws = copy_workspace(EXAMPLES, tmp_path)
    shutil.copy(FIXTURE / "accounts" / "rich-co.yaml", ws / "accounts" / "rich-co.yaml")  # | newlines #
    out = tmp_path / "out"
    result = kamctl("render", "all", "--out", out, "--as-of", AS_OF, ws=ws)
    assert result.exit_code in (0, 1), result
    files = sorted(out.glob("*.md"))
    assert len(files) == 3 * len(list((ws / "accounts").glob("*.yaml"))) + 1
    problems = {f.name: table_problems(f.read_text(encoding="utf-8")) for f in files}
    assert {k: v for k, v in problems.items() if v} == {}
    plan = (out / "rich-co-plan.md").read_text(encoding="utf-8")
    assert "| Preferred partner \\| ready meals |" in plan  # the pipe kept as text, not a cell border
    assert "\\# Consolidating suppliers" in plan


def test_table_check_finds_broken_tables():
    """The checker above must fail on the Markdown that unescaped text would produce."""
    assert table_problems("| a | b |\n| --- | --- |\n| x | y | z |\n")
    assert table_problems("| a | b |\n| --- | --- |\n| x\n| y |\n")  # a newline ended the row early
    assert table_problems("| a | b |\n| --- | --- |\n| x | y\nz |\n")  # a newline split the row
    assert table_problems("# Consolidating suppliers\n")
    assert not table_problems("| a | b |\n| --- | --- |\n| x \\| y | z |\n")


def test_escaping_filters():
    from kamctl.render import md_cell, md_inline, md_text, mermaid_label

    assert md_cell("a | b\nc") == "a \\| b<br>c"
    assert md_cell(None) == ""
    assert md_cell("<script>") == "&lt;script>"
    assert md_cell("C:\\temp|x") == "C:\\\\temp\\|x"
    assert md_text("# title\n> quote\n- item\n1. first\n    code\n===\n|---|") == \
        "\\# title\n\\> quote\n\\- item\n1\\. first\ncode\n\\===\n\\|---|"
    assert md_inline("# a\nb") == "\\# a<br>b"
    assert mermaid_label('Jean "JJ" #1; <b> & co\nnext') == "Jean #quot;JJ#quot; #35;1#59; #lt;b#gt; #amp; co next"


# --- sandbox and template errors ------------------------------------------------------------------


@pytest.mark.parametrize("source,expected", [
    ("# {{ account.name }}\n{{ ''.__class__.__mro__ }}\n", r"templates/plan\.md\.j2:2: refused by the template sandbox"),
    ("# {{ account.name }}\n{% if %}\n", r"templates/plan\.md\.j2:2: template syntax error"),
    ("# {{ account.name }}\n\n{{ no_such_name }}\n", r"templates/plan\.md\.j2:3: template error: 'no_such_name' is undefined"),
    ("{% include 'missing.md.j2' %}\n", r"templates/plan\.md\.j2: template 'missing\.md\.j2' not found"),
])
def test_bad_workspace_template_fails_cleanly(kamctl, fixture_ws, source, expected):
    (fixture_ws / "templates").mkdir()
    (fixture_ws / "templates" / "plan.md.j2").write_text(source, encoding="utf-8")
    result = kamctl("render", "plan", "rich-co", ws=fixture_ws)
    assert result.exit_code == 1, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(r"^kamctl: error: .*" + expected, lines[0]), lines[0]


def test_sandbox_blocks_internals_in_render_all(kamctl, fixture_ws, tmp_path):
    (fixture_ws / "templates").mkdir()
    (fixture_ws / "templates" / "portfolio.md.j2").write_text(
        "{{ settings.__class__.__init__.__globals__ }}\n", encoding="utf-8")
    result = kamctl("render", "all", "--out", tmp_path / "out", ws=fixture_ws)
    assert result.exit_code == 1, result
    assert "portfolio.md.j2:1: refused by the template sandbox" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing written when a document fails


# --- commands ----------------------------------------------------------------------------------


def test_render_all_twice_rewrites_nothing(kamctl, fixture_ws, tmp_path):
    out = tmp_path / "out"
    first = kamctl("render", "all", "--out", out, ws=fixture_ws)
    assert first.exit_code == 0, first
    names = sorted(p.name for p in out.iterdir())
    assert names == ["portfolio.md", "rich-co-plan.md", "rich-co-questionnaire.md", "rich-co-survey.md",
                     "sparse-co-plan.md", "sparse-co-questionnaire.md", "sparse-co-survey.md"]
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}
    second = kamctl("render", "all", "--out", out, ws=fixture_ws)
    assert second.exit_code == 0, second
    assert "0 written, 7 unchanged" in second.stderr
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}
    assert after == before
    # a data change rewrites only the documents it shows up in
    account = fixture_ws / "accounts" / "sparse-co.yaml"
    account.write_text(account.read_text(encoding="utf-8") + "industry: Retail\n", encoding="utf-8")
    third = kamctl("render", "all", "--out", out, ws=fixture_ws)
    changed = {p.name for p in out.iterdir() if p.read_bytes() != before[p.name][0]}
    assert changed == {"sparse-co-plan.md"}, third


def test_no_render_date_without_as_of(kamctl, fixture_ws):
    today = dt.date.today().isoformat()
    for kind in ("plan", "questionnaire", "survey"):
        result = kamctl("render", kind, "rich-co", ws=fixture_ws)
        assert result.exit_code == 0, result
        assert today not in result.stdout and "As of" not in result.stdout
    dated = kamctl("render", "plan", "rich-co", "--as-of", AS_OF, ws=fixture_ws)
    assert f"As of {AS_OF}." in dated.stdout


def test_out_writes_named_file(kamctl, fixture_ws, tmp_path):
    result = kamctl("render", "survey", "rich-co", "--out", tmp_path / "docs", ws=fixture_ws)
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert (tmp_path / "docs" / "rich-co-survey.md").read_text(encoding="utf-8").startswith(
        "# Customer satisfaction survey: Rich & Co")


def test_unknown_contact_lists_known_ones(kamctl, fixture_ws):
    result = kamctl("render", "questionnaire", "rich-co", "--contact", "nobody", ws=fixture_ws)
    assert result.exit_code == 2, result
    assert "no decision maker 'nobody'" in result.stderr
    assert "known: mkovacs, jean-jj-o-brien-cfo, zhou-wei" in result.stderr


def test_questionnaire_asks_the_model_questions(kamctl, fixture_ws):
    from kamctl.model.account import AGENDA, DecisionMaker

    result = kamctl("render", "questionnaire", "rich-co", "--contact", "zhou-wei", "--blank", ws=fixture_ws)
    assert result.exit_code == 0, result
    for name in AGENDA:
        assert DecisionMaker.model_fields[name].description in result.stdout
    assert "## Zhou Wei 周伟" in result.stdout and "Márta" not in result.stdout


def test_unknown_account_and_bad_date_are_usage_errors(kamctl, fixture_ws):
    assert kamctl("render", "plan", "nope", ws=fixture_ws).exit_code == 2
    assert kamctl("render", "plan", "rich-co", "--as-of", "yesterday", ws=fixture_ws).exit_code == 2


def test_invalid_account_is_a_data_problem(kamctl, fixture_ws, tmp_path):
    (fixture_ws / "accounts" / "broken.yaml").write_text("name: Broken\nsize: 3\n", encoding="utf-8")
    single = kamctl("render", "plan", "broken", ws=fixture_ws)
    assert single.exit_code == 1, single
    assert "broken.yaml:2:1" in single.stderr
    everything = kamctl("render", "all", "--out", tmp_path / "out", ws=fixture_ws)
    assert everything.exit_code == 1, everything
    assert (tmp_path / "out" / "rich-co-plan.md").exists()
    assert not (tmp_path / "out" / "broken-plan.md").exists()
    assert "broken" not in (tmp_path / "out" / "portfolio.md").read_text(encoding="utf-8")
