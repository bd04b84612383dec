"""kamctl check, rules and report: the real commands on real files in tmp folders."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import EXAMPLES

GITHUB_LINE = re.compile(r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,title=KAM\d{3}::.*$")
PARSABLE_LINE = re.compile(r"^[^:]+:\d+:\d+: \[(error|warning|info)\] KAM\d{3} .+$")

CLEAN = """\
name: Clean Co
strategy:
  key_business_objectives: [Grow]
"""
GAPS = """\
name: Gappy Ltd
decision_makers:
  - name: Ann Buyer
    last_contact: 2026-01-02
performance:
  alerts:
    - date: 2026-06-01
      message: "Rival quote: 50% cheaper, says buyer\\r\\nsecond line"
"""
BROKEN = "name: Broken\nstrategy: {barriers: 3}\n"


@pytest.fixture
def ws(workspace):
    return workspace({"clean": CLEAN, "gaps": GAPS})


def test_text_groups_by_file_with_summary_and_completeness(kamctl, ws):
    r = kamctl("check", "--as-of", "2026-06-30", ws=ws)
    assert r.exit_code == 0, r
    out = r.stdout
    assert "\x1b[" not in out  # NO_COLOR (set for every test) and not a terminal
    header = next(ln for ln in out.splitlines() if ln.endswith("accounts/gaps.yaml"))
    block = out.split(header, 1)[1].split("\n\n", 1)[0]
    assert "KAM404" in block and "KAM702" in block
    assert re.search(r"^  \d+:\d+  warning KAM404 ", block, re.M)
    assert "Completeness" in out and re.search(r"^  clean\s+\d+", out, re.M)
    counts = next(ln for ln in out.splitlines() if ln.startswith("0 errors"))
    assert re.search(r"0 errors, \d+ warnings, \d+ info in 2 files \(2 accounts checked\); passed", counts)


def test_fail_on_sets_the_exit_code(kamctl, ws):
    assert kamctl("check", "--as-of", "2026-06-30", ws=ws).exit_code == 0
    assert kamctl("check", "--as-of", "2026-06-30", "--fail-on", "warning", ws=ws).exit_code == 1
    assert kamctl("check", "--as-of", "2026-06-30", "--fail-on", "info", "--select", "KAM702", ws=ws).exit_code == 1
    # clean has only an info finding (KAM703): it fails --fail-on info only
    sel = ("--select", "KAM201,KAM703")
    assert kamctl("check", "clean", *sel, "--as-of", "2026-06-30", "--fail-on", "warning", ws=ws).exit_code == 0
    assert kamctl("check", "clean", *sel, "--as-of", "2026-06-30", "--fail-on", "info", ws=ws).exit_code == 1


def test_schema_errors_fail_and_are_always_reported(kamctl, workspace):
    root = workspace({"broken": BROKEN, "clean": CLEAN})
    r = kamctl("check", "--format", "parsable", "--select", "KAM2", ws=root)
    assert r.exit_code == 1
    assert re.search(r"broken\.yaml:2:\d+: \[error\] KAM102 ", r.stdout)


def test_ids_limit_the_check(kamctl, ws):
    r = kamctl("check", "clean", "--as-of", "2026-06-30", "--format", "json", ws=ws)
    data = json.loads(r.stdout)
    assert set(data["completeness"]) == {"clean"}
    assert {f["account"] for f in data["findings"]} <= {"clean"}
    assert kamctl("check", "nope", ws=ws).exit_code == 2


def test_parsable(kamctl, ws):
    r = kamctl("check", "--as-of", "2026-06-30", "--format", "parsable", ws=ws)
    lines = r.stdout.splitlines()
    assert lines and all(PARSABLE_LINE.match(ln) for ln in lines), r.stdout
    assert any("[warning] KAM404" in ln for ln in lines)
    alert = next(ln for ln in lines if "KAM702" in ln)  # a message with a line break stays on one line
    assert alert.endswith("says buyer second line")


def test_json(kamctl, ws):
    r = kamctl("check", "--as-of", "2026-06-30", "--format", "json", ws=ws)
    data = json.loads(r.stdout)
    assert set(data) == {"findings", "summary", "completeness"}
    f = data["findings"][0]
    assert set(f) == {"rule", "severity", "account", "file", "line", "column", "message"}
    assert data["summary"]["warnings"] == sum(x["severity"] == "warning" for x in data["findings"])
    assert data["summary"]["accounts"] == 2 and data["summary"]["passed"] is True
    for pct in data["completeness"].values():
        assert set(pct) == {"strategy", "plan", "relationships", "pipeline", "performance", "overall"}
        assert all(0 <= v <= 100 for v in pct.values())


def test_github_lines_and_escaping(kamctl, workspace):
    root = workspace({"gaps": GAPS}, name="ws,with:odd")  # ':' and ',' in the file property
    r = kamctl("check", "--as-of", "2026-06-30", "--format", "github", ws=root)
    lines = r.stdout.splitlines()
    assert lines and all(GITHUB_LINE.match(ln) for ln in lines), r.stdout
    alert = next(ln for ln in lines if "title=KAM702" in ln)
    assert "ws%2Cwith%3Aodd" in alert
    message = alert.split("::", 2)[2]
    assert "50%25 cheaper" in message and "%0D%0Asecond line" in message
    assert "Rival quote: 50%25 cheaper, says buyer" in message  # ':' and ',' stay in the message


def test_github_escaping_functions():
    from kamctl.findings import Finding, Severity
    from kamctl.formats import escape_data, escape_property, github

    assert escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"
    out = github([Finding("KAM201", Severity.info, "x.yaml", 3, 1, "m")])
    assert out == "::notice file=x.yaml,line=3,col=1,title=KAM201::m\n"


def test_github_is_the_default_on_github_actions(kamctl, ws):
    r = kamctl("check", "--as-of", "2026-06-30", ws=ws, env={"GITHUB_ACTIONS": "true"})
    assert r.stdout.startswith("::") and all(GITHUB_LINE.match(ln) for ln in r.stdout.splitlines())
    r = kamctl("check", "--as-of", "2026-06-30", "--format", "text", ws=ws, env={"GITHUB_ACTIONS": "true"})
    assert not r.stdout.startswith("::")


def test_junit(kamctl, workspace):
    root = workspace({"clean": CLEAN, "gaps": GAPS, "broken": BROKEN})
    r = kamctl("check", "--as-of", "2026-06-30", "--format", "junit", "--fail-on", "warning", ws=root)
    assert r.exit_code == 1
    tree = ET.fromstring(r.stdout)
    cases = tree.findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == ["broken", "clean", "gaps"]
    by_name = {c.get("name"): c for c in cases}
    json_out = json.loads(kamctl("check", "--as-of", "2026-06-30", "--format", "json", ws=root).stdout)
    for name, case in by_name.items():
        expected = [f for f in json_out["findings"] if f["account"] == name and f["severity"] in ("error", "warning")]
        assert len(case.findall("failure")) == len(expected)
    assert by_name["broken"].find("failure").get("type") == "KAM102"
    # at the default --fail-on error only the schema error is a failure
    strict = ET.fromstring(kamctl("check", "--as-of", "2026-06-30", "--format", "junit", ws=root).stdout)
    assert len(strict.findall(".//failure")) == 1


def test_colour_only_when_asked():
    from kamctl.findings import Finding, Severity
    from kamctl.formats import text

    f = [Finding("KAM404", Severity.warning, "a.yaml", 1, 1, "m")]
    assert "\x1b[" in text(f, colour=True)
    assert "\x1b[" not in text(f, colour=False)


def test_colour_respects_no_color(monkeypatch):
    import sys

    from kamctl.cli.check import _colour

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert _colour() is False
    monkeypatch.delenv("NO_COLOR")
    assert _colour() is True


@pytest.mark.parametrize("args", [["--select", "KAM999"], ["--ignore", "XYZ"], ["--as-of", "2026-13-01"],
                                  ["--format", "xml"], ["--fail-on", "fatal"]])
def test_usage_errors_exit_2(kamctl, ws, args):
    r = kamctl("check", *args, ws=ws)
    assert r.exit_code == 2, r


def test_unknown_code_in_kam_yaml_is_a_settings_error(kamctl, workspace):
    root = workspace({"clean": CLEAN}, settings="checks:\n  rules: {KAM999: 'off'}\n")
    r = kamctl("check", ws=root)
    assert r.exit_code == 2 and "KAM999" in r.stderr


def test_kam_yaml_policy_applies(kamctl, workspace):
    root = workspace({"gaps": GAPS}, settings="checks:\n  rules: {KAM404: error}\n")
    r = kamctl("check", "--as-of", "2026-06-30", "--format", "parsable", ws=root)
    assert r.exit_code == 1 and "[error] KAM404" in r.stdout


def test_no_workspace_is_exit_2(kamctl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert kamctl("check").exit_code == 2


# --- rules -------------------------------------------------------------------------------------------


def test_rules_lists_every_rule(kamctl):
    from kamctl.checks import RULES

    r = kamctl("rules")
    assert r.exit_code == 0
    codes = re.findall(r"^(KAM\d{3})\s+(error|warning|info)\s", r.stdout, re.M)
    assert {c for c, _ in codes} == set(RULES)


def test_rules_code_explains_one(kamctl):
    from kamctl.checks import RULES

    r = kamctl("rules", "KAM404")
    assert r.exit_code == 0
    assert RULES["KAM404"].explanation in r.stdout and RULES["KAM404"].fix in r.stdout
    assert kamctl("rules", "kam404").stdout == r.stdout
    data = json.loads(kamctl("rules", "KAM6", "--json").stdout)
    assert data and all(d["code"].startswith("KAM6") for d in data)


def test_rules_unknown_code_exit_2(kamctl):
    r = kamctl("rules", "KAM999")
    assert r.exit_code == 2 and "KAM999" in r.stderr


# --- report ------------------------------------------------------------------------------------------

SOLD = """\
name: Sold Co
decision_makers:
  - {name: A, counterpart: X, strength: 4}
  - {name: B}
opportunities:
  - {id: a, title: A, stage: identification}
  - {id: b, title: B, stage: pursuit, decision: {decision: go, reason: r}}
performance:
  sales: [{period: 2026, target: 1000, achieved: 400, forecast: 1100}]
  surveys: [{date: 2026-01-01, score: 3.0}, {date: 2026-05-01, score: 4.0}]
"""


def test_report_json(kamctl, workspace):
    root = workspace({"sold": SOLD, "clean": CLEAN})
    r = kamctl("report", "--as-of", "2026-06-30", "--format", "json", ws=root)
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    sold = next(a for a in data["accounts"] if a["account"] == "sold")
    assert sold["opportunities"]["identified"] == 2 and sold["opportunities"]["pursued"] == 1
    assert sold["sales"]["attainment_percent"] == 40.0
    assert sold["relationships"]["covered"] == 1 and sold["satisfaction"]["trend"] == "up"
    assert data["portfolio"]["accounts"] == 2
    assert data["portfolio"]["opportunities"]["identified"] == 2


def test_report_table_and_markdown(kamctl, workspace):
    root = workspace({"sold": SOLD})
    table = kamctl("report", "--as-of", "2026-06-30", ws=root)
    assert table.exit_code == 0 and "sold" in table.stdout and "portfolio" in table.stdout
    md = kamctl("report", "--as-of", "2026-06-30", "--format", "markdown", ws=root).stdout
    rows = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(rows) == 4  # header, rule, one account, portfolio
    assert len({ln.count("|") for ln in rows}) == 1
    assert re.search(r"\| sold \| [0-9.]+ \| 2 \| 1 \| 1 \| 1,000 EUR \| 400 EUR \| 1,100 EUR \| 40.0 \|", md)


# --- the examples ------------------------------------------------------------------------------------

def test_examples_pass_with_warnings(kamctl):
    r = kamctl("check", "--as-of", "2026-12-31", "--format", "json", ws=EXAMPLES)
    assert r.exit_code == 0, r
    data = json.loads(r.stdout)
    assert data["summary"]["errors"] == 0 and data["summary"]["warnings"] > 0
    # the deliberate gaps the examples are written with
    expected = {"KAM403", "KAM404", "KAM601", "KAM501", "KAM305", "KAM405", "KAM203", "KAM603", "KAM702",
                "KAM701", "KAM503"}
    assert expected <= {f["rule"] for f in data["findings"]}


def test_examples_fail_on_warning(kamctl):
    assert kamctl("check", "--as-of", "2026-12-31", "--fail-on", "warning", ws=EXAMPLES).exit_code == 1


def test_examples_report(kamctl):
    r = kamctl("report", "--as-of", "2026-12-31", "--format", "json", ws=EXAMPLES)
    assert r.exit_code == 0 and json.loads(r.stdout)["portfolio"]["accounts"] >= 1


def test_junit_adds_kam_yaml_only_when_it_has_findings():
    from kamctl.findings import Finding, Severity
    from kamctl.formats import junit

    cases = {"a": "accounts/a.yaml"}
    settings = [Finding("KAM101", Severity.error, "kam.yaml", 2, 3, "unknown key 'x'")]
    with_settings = ET.fromstring(junit(settings, cases, "error", "kam.yaml"))
    assert [c.get("name") for c in with_settings.iter("testcase")] == ["a", "kam.yaml"]
    assert with_settings.find("testsuite").get("failures") == "1"
    without = ET.fromstring(junit([], cases, "error", "kam.yaml"))
    assert [c.get("name") for c in without.iter("testcase")] == ["a"]
