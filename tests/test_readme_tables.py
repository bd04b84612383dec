"""The README's command, exit-code and rule tables say what kamctl does (issue 13).

tests/test_readme.py keeps the account-file table in step with the models; this file does the same
for the other tables, against the real CLI.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from conftest import EXAMPLES, ROOT

from test_help_examples import COMMANDS, _is_group

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _rows(heading: str, first: str) -> list[list[str]]:
    """The rows of the table under `## heading` whose header starts with `first`."""
    section = README.split(f"\n## {heading}", 1)[1].split("\n## ", 1)[0]
    rows, inside = [], False
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if not cells:
            inside = False
        elif cells[0] == first:
            inside = True
        elif inside and not set(cells[0]) <= set("-: "):
            rows.append(cells)
    assert rows, f"no table starting with `{first}` under ## {heading}"
    return rows


# --- commands ---------------------------------------------------------------------------------------


def test_the_command_table_comes_right_after_the_quick_start():
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[:2] == ["Quick start", "Commands"]


def test_the_command_table_lists_every_command_and_only_real_ones():
    listed = [name for row in _rows("Commands", "command") for name in re.findall(r"`([a-z][a-z -]*)`", row[0])]
    real = {path.removeprefix("kamctl ") for path, command in COMMANDS
            if path != "kamctl" and not _is_group(command)}
    assert len(listed) == len(set(listed)), "a command is listed twice"
    assert not set(listed) - real, f"not kamctl commands: {sorted(set(listed) - real)}"
    assert not real - set(listed), f"commands missing from the README's command table: {sorted(real - set(listed))}"


# --- exit codes -------------------------------------------------------------------------------------

# What each row of the exit-code table means, as commands on a copy of examples/ that give that code.
SCENARIOS = {
    0: [["check"], ["score"], ["render", "survey", "alpenmilch-foods"]],
    1: [["check", "--fail-on", "warning"],                        # check findings at the failing level
        ["opp", "advance", "alpenmilch-foods", "yoghurt-cups"],  # a refused edit: engagement is final
        ["validate"]],                                            # invalid files (made so below)
    2: [["check", "--no-such-flag"],                              # bad flag
        ["score", "acme-corp"],                                   # unknown account id
        ["opp", "advance", "alpenmilch-foods", "no-such-opp"],   # unknown opportunity id
        ["render", "questionnaire", "alpenmilch-foods", "--contact", "nobody"],  # unknown contact
        ["score", "Not_An-ID"],                                   # malformed id
        ["check", "--select", "KAM999"]],                         # unknown rule code
}


def test_the_exit_code_table_has_exactly_the_codes_kamctl_uses():
    codes = [int(row[0]) for row in _rows("Exit codes", "code")]
    assert codes == sorted(SCENARIOS)


@pytest.fixture
def examples_copy(tmp_path):
    ws = tmp_path / "examples"
    shutil.copytree(EXAMPLES, ws, ignore=shutil.ignore_patterns(".kamctl-cache"))
    return ws


@pytest.mark.parametrize(("code", "args"), [(c, a) for c, runs in SCENARIOS.items() for a in runs],
                         ids=[f"{c}:{' '.join(a)}" for c, runs in SCENARIOS.items() for a in runs])
def test_each_exit_code_means_what_the_table_says(kamctl, examples_copy, code, args):
    if args == ["validate"]:
        (examples_copy / "accounts" / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (examples_copy / "accounts").iterdir()}
    result = kamctl(*args, ws=examples_copy)
    assert result.exit_code == code, result
    assert "Traceback" not in result.output
    assert before == {p.name: p.read_bytes() for p in (examples_copy / "accounts").iterdir()}, "a file changed"


@pytest.mark.parametrize("settings", ["checks: [unclosed\n", "scoring: {cut_points: high}\n", "nonsense_key: 1\n"],
                         ids=["malformed", "wrong-type", "unknown-key"])
def test_a_bad_kam_yaml_is_a_settings_error(kamctl, examples_copy, settings):
    (examples_copy / "kam.yaml").write_text(settings, encoding="utf-8")
    assert kamctl("check", ws=examples_copy).exit_code == 2


def test_no_workspace_is_a_settings_error(kamctl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert kamctl("check").exit_code == 2


# --- rules ------------------------------------------------------------------------------------------


def _rules() -> dict[str, str]:
    """code -> name of every rule, as `kamctl rules` prints them."""
    from typer.testing import CliRunner

    from kamctl.cli.app import app

    out = CliRunner().invoke(app, ["rules"], env={"COLUMNS": "200", "NO_COLOR": "1"}).stdout
    return dict(re.findall(r"^[\s│|]*(KAM\d{3})[\s│|]+(?:error|warning|info|off)[\s│|]+([a-z0-9-]+)", out, re.M))


def rule_table() -> str:
    """The README's rule table, made from the rule registry: code, name, and what the rule checks
    (the first paragraph of its function's docstring; "(alert)", "(error)" or "(info)" from the rule).

    Adding a rule is its function in a family module (and its tests): this table is regenerated
    with `KAMCTL_GOLDEN=1 pytest tests/test_readme_tables.py`, never written by hand."""
    from kamctl import checks

    rows = ["| code | name | checks |", "| --- | --- | --- |"]
    for code, (rule, fn) in sorted(checks.CHECKS.items()):
        if code[3] not in "2345679":  # KAM8xx are described under history
            continue
        what = " ".join((fn.__doc__ or "").split("\n\n")[0].split()).rstrip(".")
        assert what, f"{code}: the rule's function has no docstring saying what it checks"
        if code in checks.ALERTS:
            what += " (alert)"
        elif rule.severity.value != "warning":
            what += f" ({rule.severity.value})"
        rows.append(f"| {code} | {rule.name} | {what} |")
    return "\n".join(rows) + "\n"


def test_the_rule_table_is_made_from_the_rules():
    """Every check rule (KAM2xx-KAM7xx, KAM9xx: KAM0xx/1xx are the reading rules, KAM8xx are
    described under history) is a row, as the registry and each rule's docstring say."""
    table = rule_table()
    start = README.index("| code | name | checks |\n")
    end = README.index("\n\n", start) + 1
    if os.environ.get("KAMCTL_GOLDEN") == "1":
        (ROOT / "README.md").write_text(README[:start] + table + README[end:], encoding="utf-8")
        return
    assert README[start:end] == table, "README's rule table is out of date: run KAMCTL_GOLDEN=1 pytest tests/test_readme_tables.py"
    assert set(re.findall(r"^\| (KAM\d{3}) \|", table, re.M)) == {
        code for code in _rules() if code[3] in "2345679"}, "`kamctl rules` lists other rules"


