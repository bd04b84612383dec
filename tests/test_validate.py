"""`kamctl validate`: every problem in every file, each at its line, as `path:line:col: CODE message`.

Line numbers are found in the fixture text itself (the line holding a given snippet), so each
assertion says "the finding points at the line where the mistake is", not "what the output said".
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES, FIXTURES
from kamctl.yamlio.read import c_parser_available, parse_text, read_file

INVALID = FIXTURES / "invalid"
LINE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<code>KAM\d{3}) (?P<message>\S.*)$")

VALID_ACCOUNT = """\
name: Valid Co
industry: Software
attractiveness:
  size: 7
  growth_potential: {score: 6, note: two new plants}
relative_strength:
  price: 5
"""


def line_of(text: str, snippet: str) -> int:
    """1-based number of the only line of text containing snippet."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(hits) == 1, f"{snippet!r} should be on exactly one line, found {hits}"
    return hits[0]


def findings(stdout: str) -> list[dict]:
    """Parse validate's output; every line must have the exact `path:line:col: CODE message` form."""
    out = []
    for raw in stdout.splitlines():
        m = LINE.match(raw)
        assert m, f"not in path:line:col: CODE message form: {raw!r}"
        out.append({**m.groupdict(), "line": int(m["line"]), "col": int(m["col"])})
    return out


def fixture_text(name: str) -> str:
    return (INVALID / name).read_text(encoding="utf-8")


def add_fixture(ws: Path, name: str, account_id: str | None = None) -> Path:
    target = ws / "accounts" / f"{account_id or Path(name).stem}.yaml"
    shutil.copyfile(INVALID / name, target)
    return target


def in_file(found: list[dict], account_id: str) -> list[dict]:
    return [f for f in found if Path(f["path"]).name == f"{account_id}.yaml"]


# --- the Done-when scenario: five mistakes in two files, one run --------------------------------


def test_one_run_reports_all_five_mistakes_each_at_its_line(workspace, kamctl):
    ws = workspace({"valid-co": VALID_ACCOUNT})
    add_fixture(ws, "mistakes.yaml")
    add_fixture(ws, "tabbed.yaml")
    text, tabbed = fixture_text("mistakes.yaml"), fixture_text("tabbed.yaml")
    # the fixture as written: duplicate `size` on line 6, typo 7, score 11 on 8, text on 9, tab on 4
    assert [line_of(text, s) for s in ("size: 8", "growth_potental", ": 11", ": high")] == [6, 7, 8, 9]
    assert line_of(tabbed, "\t") == 4

    result = kamctl("validate", ws=ws)

    assert result.exit_code == 1, result
    found = findings(result.stdout)
    got = {(Path(f["path"]).stem, f["code"], f["line"]) for f in found}
    assert got == {
        ("mistakes", "KAM002", line_of(text, "size: 8")),            # duplicate key
        ("mistakes", "KAM101", line_of(text, "growth_potental")),    # typo'd key
        ("mistakes", "KAM103", line_of(text, ": 11")),               # score out of range
        ("mistakes", "KAM102", line_of(text, ": high")),             # text where a number belongs
        ("tabbed", "KAM001", line_of(tabbed, "\t")),                 # tab-indented line
    }
    by_code = {f["code"]: f for f in found}
    assert "did you mean 'growth_potential'" in by_code["KAM101"]["message"]
    assert "'growth_potental'" in by_code["KAM101"]["message"]
    assert "11" in by_code["KAM103"]["message"]
    assert "number" in by_code["KAM102"]["message"] and "'high'" in by_code["KAM102"]["message"]
    assert "size" in by_code["KAM002"]["message"]
    assert by_code["KAM001"]["col"] == 1
    assert by_code["KAM002"]["col"] == 3 and by_code["KAM101"]["col"] == 3
    assert not in_file(found, "valid-co")
    assert "5 problems in 2 files" in result.stderr


def test_duplicate_key_does_not_stop_the_checks_after_it(workspace, kamctl):
    text = "name: Dup Co\nname: Dup Again\nattractiveness:\n  sise: 4\nrelationship:\n  loyalty: eternal\n"
    ws = workspace({"dup-co": text})

    result = kamctl("validate", ws=ws)

    assert result.exit_code == 1, result
    codes = [(f["code"], f["line"]) for f in findings(result.stdout)]
    assert codes == [("KAM002", line_of(text, "Dup Again")), ("KAM101", line_of(text, "sise")),
                     ("KAM106", line_of(text, "eternal"))]


def test_findings_are_sorted_by_line_within_a_file(workspace, kamctl):
    ws = workspace()
    add_fixture(ws, "mistakes.yaml")
    lines = [f["line"] for f in findings(kamctl("validate", ws=ws).stdout)]
    assert lines == sorted(lines) and len(lines) == 4


def test_a_duplicate_key_alone_fails_validation(workspace, kamctl):
    ws = workspace({"only-dup": "name: A\nindustry: X\nindustry: Y\n"})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1
    assert [(f["code"], f["line"], f["col"]) for f in findings(result.stdout)] == [("KAM002", 3, 1)]


# --- one kind of mistake at a time ---------------------------------------------------------------


def test_bad_date_unknown_choice_and_missing_key(workspace, kamctl):
    ws = workspace()
    add_fixture(ws, "bad-values.yaml")
    text = fixture_text("bad-values.yaml")

    result = kamctl("validate", ws=ws)

    assert result.exit_code == 1, result
    found = {f["code"]: f for f in findings(result.stdout)}
    assert set(found) == {"KAM105", "KAM106", "KAM104"}
    assert found["KAM105"]["line"] == line_of(text, "2026-02-30")
    assert "2026-02-30" in found["KAM105"]["message"]
    assert found["KAM106"]["line"] == line_of(text, "undying")
    for allowed in ("none", "low", "some", "high"):
        assert f"'{allowed}'" in found["KAM106"]["message"]
    # a missing key points at its parent: the list item that lacks `title`
    assert found["KAM104"]["line"] == line_of(text, "id: no-title")
    assert "'title'" in found["KAM104"]["message"]


@pytest.mark.parametrize("text, needle", [
    ("name: A\nopportunities:\n  - id: x\n    title: X\n    stage: negotiating\n", "negotiating"),
    ("name: A\nowner:\n  role: gardener\n", "gardener"),
    ("name: A\nfive_forces:\n  rivalry: {rating: extreme}\n", "extreme"),
])
def test_unknown_enum_value_is_kam106_at_its_line(workspace, kamctl, text, needle):
    ws = workspace({"acct": text})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1, result
    found = findings(result.stdout)
    assert [(f["code"], f["line"]) for f in found] == [("KAM106", line_of(text, needle))]
    assert needle in found[0]["message"]


def test_missing_name_points_at_the_top_of_the_file(workspace, kamctl):
    ws = workspace({"nameless": "# no name\nindustry: Mining\n"})
    found = findings(kamctl("validate", ws=ws).stdout)
    assert [(f["code"], f["line"], f["col"]) for f in found] == [("KAM104", 1, 1)]
    assert "'name'" in found[0]["message"]


def test_missing_key_deep_down_points_at_its_parent(workspace, kamctl):
    text = "name: A\nplan:\n  objectives:\n    - strategies:\n        - tactics:\n            - quarter: Q1\n"
    ws = workspace({"deep": text})
    found = findings(kamctl("validate", ws=ws).stdout)
    got = sorted((f["code"], f["line"]) for f in found)
    assert got == [("KAM104", line_of(text, "- strategies")), ("KAM104", line_of(text, "- tactics")),
                   ("KAM104", line_of(text, "- quarter"))]


@pytest.mark.parametrize("text, kind", [
    ("- just\n- a list\n", "list"),
    ("just some text\n", "str"),
    ("42\n", "int"),
])
def test_wrong_top_level_type(workspace, kamctl, text, kind):
    ws = workspace({"odd": text})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1, result
    found = findings(result.stdout)
    assert [(f["code"], f["line"], f["col"]) for f in found] == [("KAM006", 1, 1)]
    assert kind in found[0]["message"] and "mapping" in found[0]["message"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(workspace, kamctl, text):
    ws = workspace({"empty": text})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1, result
    found = findings(result.stdout)
    assert [(f["code"], f["line"]) for f in found] == [("KAM006", 1)]
    assert "empty" in found[0]["message"]


def test_non_utf8_bytes_are_kam005_at_their_line_and_column(workspace, kamctl):
    ws = workspace()
    (ws / "accounts" / "latin1.yaml").write_bytes("name: Caf\u00e9 Noir\nindustry: Bars\n".encode("latin-1"))
    (ws / "accounts" / "later.yaml").write_bytes(b"name: X\nindustry: ok\nnotes: bad \xff here\n")

    result = kamctl("validate", ws=ws)

    assert result.exit_code == 1, result
    got = sorted((Path(f["path"]).stem, f["code"], f["line"], f["col"]) for f in findings(result.stdout))
    assert got == [("later", "KAM005", 3, len("notes: bad ") + 1),
                   ("latin1", "KAM005", 1, len("name: Caf") + 1)]
    assert "UTF-8" in findings(result.stdout)[0]["message"]


def test_utf8_with_bom_and_crlf_is_valid(workspace, kamctl):
    ws = workspace()
    (ws / "accounts" / "bom.yaml").write_bytes(b"\xef\xbb\xbfname: Caf\xc3\xa9\r\nindustry: Bars\r\n")
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 0, result
    assert result.stdout == ""


def test_malformed_yaml_is_kam001_and_other_files_are_still_checked(workspace, kamctl):
    text = "name: Broken\nstrategy:\n  barriers: [unclosed\n"
    ws = workspace({"broken": text, "typo": "name: T\nindustri: X\n"})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1, result
    got = {(Path(f["path"]).stem, f["code"]) for f in findings(result.stdout)}
    assert got == {("broken", "KAM001"), ("typo", "KAM101")}


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(workspace, kamctl):
    ws = workspace({"acct": "name: A\nrelationship:\n  zzz: 1\n"})
    found = findings(kamctl("validate", ws=ws).stdout)
    assert [f["code"] for f in found] == ["KAM101"]
    assert "did you mean" not in found[0]["message"]
    assert "price_sensitivity" in found[0]["message"] and "loyalty" in found[0]["message"]


def test_bad_account_file_name_is_kam007(workspace, kamctl):
    ws = workspace({"Bad_Name": VALID_ACCOUNT})
    found = findings(kamctl("validate", ws=ws).stdout)
    assert [f["code"] for f in found] == ["KAM007"]


# --- valid input ---------------------------------------------------------------------------------


def test_valid_workspace_exits_0_and_prints_no_findings(workspace, kamctl):
    ws = workspace({"valid-co": VALID_ACCOUNT, "other": "name: Other\n"})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert "2 account files valid" in result.stderr


def test_examples_validate():
    from typer.testing import CliRunner

    from kamctl.cli.app import app

    result = CliRunner().invoke(app, ["-w", str(EXAMPLES), "validate"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""


# --- validate FILE... ----------------------------------------------------------------------------


def test_validate_given_files_checks_only_those(workspace, kamctl, monkeypatch):
    ws = workspace({"valid-co": VALID_ACCOUNT})
    add_fixture(ws, "mistakes.yaml")
    add_fixture(ws, "tabbed.yaml")
    monkeypatch.chdir(ws)

    ok = kamctl("validate", "accounts/valid-co.yaml")
    assert ok.exit_code == 0, ok
    assert ok.stdout == ""

    bad = kamctl("validate", "accounts/tabbed.yaml")
    assert bad.exit_code == 1, bad
    found = findings(bad.stdout)
    assert [(f["path"], f["code"]) for f in found] == [("accounts/tabbed.yaml", "KAM001")]

    both = kamctl("validate", "accounts/valid-co.yaml", "accounts/mistakes.yaml")
    assert both.exit_code == 1
    assert {f["path"] for f in findings(both.stdout)} == {"accounts/mistakes.yaml"}


def test_validate_given_file_outside_any_workspace(tmp_path, kamctl, monkeypatch):
    loose = tmp_path / "loose.yaml"
    loose.write_text("name: Loose\nattractiveness:\n  size: 12\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = kamctl("validate", "loose.yaml")
    assert result.exit_code == 1, result
    assert [(f["path"], f["line"], f["code"]) for f in findings(result.stdout)] == [("loose.yaml", 3, "KAM103")]


def test_validate_missing_file_is_a_usage_error(workspace, kamctl, monkeypatch):
    monkeypatch.chdir(workspace())
    result = kamctl("validate", "accounts/nope.yaml")
    assert result.exit_code == 2, result
    assert "nope.yaml" in result.output
    assert "Traceback" not in result.output


def test_validate_without_workspace_is_exit_2(tmp_path, kamctl, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = kamctl("validate")
    assert result.exit_code == 2, result
    assert "kamctl init" in result.stderr
    assert result.stdout == ""


# --- kam.yaml ------------------------------------------------------------------------------------


def test_kam_yaml_problems_are_findings_at_their_lines(workspace, kamctl):
    text = fixture_text("bad-kam.yaml")
    ws = workspace({"valid-co": VALID_ACCOUNT}, settings=text)

    result = kamctl("validate", ws=ws)

    assert result.exit_code == 1, result
    found = findings(result.stdout)
    assert {(Path(f["path"]).name, f["code"], f["line"]) for f in found} == {
        ("kam.yaml", "KAM101", line_of(text, "curency")),
        ("kam.yaml", "KAM103", line_of(text, "attractiveness: 12")),
    }
    assert "did you mean 'currency'" in "".join(f["message"] for f in found)


def test_malformed_kam_yaml_is_reported_with_its_line(workspace, kamctl):
    ws = workspace({"valid-co": VALID_ACCOUNT}, settings="company:\n  name: [oops\n")
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1, result
    found = findings(result.stdout)
    assert [(Path(f["path"]).name, f["code"]) for f in found] == [("kam.yaml", "KAM001")]
    assert "Traceback" not in result.output


def test_kam_yaml_that_is_not_a_mapping(workspace, kamctl):
    ws = workspace(settings="- a\n- b\n")
    found = findings(kamctl("validate", ws=ws).stdout)
    assert [(Path(f["path"]).name, f["code"], f["line"]) for f in found] == [("kam.yaml", "KAM006", 1)]


def test_validate_kam_yaml_given_as_a_file(workspace, kamctl, monkeypatch):
    text = fixture_text("bad-kam.yaml")
    ws = workspace(settings=text)
    monkeypatch.chdir(ws)
    result = kamctl("validate", "kam.yaml")
    assert result.exit_code == 1, result
    assert {(f["path"], f["line"]) for f in findings(result.stdout)} == {
        ("kam.yaml", line_of(text, "curency")), ("kam.yaml", line_of(text, "attractiveness: 12"))}


def test_empty_kam_yaml_is_a_valid_workspace(workspace, kamctl):
    ws = workspace({"valid-co": VALID_ACCOUNT}, settings="")
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 0, result



# --- common YAML mistakes in plain words (issue 13) ----------------------------------------------

MISTAKES = FIXTURES / "yaml-mistakes"
PLAIN = {
    "tab-indentation.yaml": (3, 1, "a tab is used for indentation; YAML needs spaces: replace the tab with spaces"),
    "indented-one-more.yaml": (4, 4, "this line is indented by 3 spaces, which lines up with no line above it: "
                                     "indent it by 2 spaces like line 3"),
    "indented-one-less.yaml": (4, 2, "this line is indented by 1 space, which lines up with no line above it: "
                                     "indent it by 2 spaces like line 3"),
    "items-under-empty-list.yaml": (2, 18, "'decision_makers: []' says 'decision_makers' is an empty list, but "
                                           "indented lines follow it: remove the '[]' after 'decision_makers:'"),
    "missing-colon.yaml": (2, 9, "no ':' after 'industry': write 'industry: Food and beverages'"),
    "colon-in-text.yaml": (2, 17, "the value of 'notes' holds ': ', which YAML reads as a new key: put the value "
                                  "in quotes: notes: \"Next step: workshop in March\""),
}


@pytest.mark.parametrize("parser", ["c", "pure"])
@pytest.mark.parametrize("name", list(PLAIN))
def test_a_common_yaml_mistake_is_named_in_plain_words_at_its_line(name, parser):
    if parser == "c" and not c_parser_available():
        pytest.skip("PyYAML's libyaml CParser is not installed")
    doc = read_file(MISTAKES / name, name, parser)
    assert [(f.rule, f.line, f.column, f.message) for f in doc.findings] == [("KAM001", *PLAIN[name])]


def test_validate_prints_the_plain_message_and_the_line(workspace, kamctl, monkeypatch):
    ws = workspace()
    for name in PLAIN:
        shutil.copyfile(MISTAKES / name, ws / "accounts" / name)
    monkeypatch.chdir(ws)
    result = kamctl("validate", *(f"accounts/{name}" for name in PLAIN))
    assert result.exit_code == 1, result
    found = {Path(f["path"]).name: (f["line"], f["col"], f["message"]) for f in findings(result.stdout)
             if f["code"] == "KAM001"}
    assert found == PLAIN
    assert "did not find expected key" not in result.stdout and "cannot start any token" not in result.stdout


def test_a_syntax_error_that_is_none_of_the_common_mistakes_keeps_the_parsers_words():
    for parser in ("c", "pure") if c_parser_available() else ("pure",):
        doc = parse_text("a: b\n- c\n", "a.yaml", parser)
        assert [(f.rule, f.line) for f in doc.findings] == [("KAM001", 2)]
        assert doc.findings[0].message.startswith("malformed YAML: while parsing a block mapping")
