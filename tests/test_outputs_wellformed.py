"""Outputs their consumers can read whatever an account file holds (issue 11): well-formed JUnit XML,
one record per line, strict JSON, Mermaid without directives, CSV without live formulas."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

NASTY = "\x1b\x01\x0b]]>"  # ESC, SOH, vertical tab (all illegal in XML 1.0) and a CDATA end
BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.S | re.M)


@pytest.fixture
def ws(tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES, root)
    return root


def plant(ws: Path, name: str, text: str) -> Path:
    path = ws / "accounts" / name
    path.write_bytes(text.encode())
    return path


def _raise(name: str):
    raise ValueError(f"not strict JSON: {name}")


# --- JUnit XML --------------------------------------------------------------------------------------


def test_junit_parses_with_control_characters_in_message_key_and_file_name(kamctl, ws):
    # the key and the message carry them (YAML escapes), and so does a file name
    plant(ws, "evil-key.yaml", 'name: Evil\n"bad\\e\\x01\\vkey]]>": 1\n')
    plant(ws, f"evil{NASTY}.yaml", "name: Evil file\n")
    rhein = ws / "accounts" / "rhein-logistik.yaml"  # a manual alert's text is the message itself
    rhein.write_text(rhein.read_text().replace("message: Procurement asked", 'message: "Procure\\e\\x01\\v]]>ment asked'
                                               ).replace("best-selling film", 'best-selling film"'))
    result = kamctl("check", "--format", "junit", ws=ws)
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.split("\n", 1)[1])  # raises on ill-formed XML
    texts = " ".join([el.get("message", "") + (el.text or "") for el in root.iter()] +
                     [el.get("file", "") + el.get("name", "") for el in root.iter("testcase")])
    assert "unknown key 'bad\\x1b\\x01\\x0bkey]]>'" in texts
    assert "accounts/evil\\x1b\\x01\\x0b]]>.yaml" in texts
    assert "Procure\\x1b\\x01\\x0b]]>ment asked" in texts


@pytest.mark.parametrize("fmt", ["text", "parsable", "json", "github", "junit"])
def test_every_format_shows_the_same_visible_escape(kamctl, ws, fmt):
    plant(ws, "evil-key.yaml", 'name: Evil\n"bad\\ekey": 1\n')
    result = kamctl("check", "--format", fmt, ws=ws)
    assert "\x1b" not in result.stdout
    shown = "bad\\\\x1bkey" if fmt == "json" else "bad\\x1bkey"  # json escapes the backslash itself
    assert shown in result.stdout


# --- one record per line --------------------------------------------------------------------------------


@pytest.fixture
def split_ws(ws) -> Path:
    plant(ws, "bad-key.yaml", 'name: Bad key\n"bad\\nkey": 1\n"cr\\rkey": 2\n"vt\\vkey\\u2028x": 3\n')
    plant(ws, "new\nline.yaml", "name: Newline file\n")
    return ws


def _records(out: str) -> list[str]:
    return [line for line in out.splitlines() if "bad-key.yaml" in line or "new" in line and "line.yaml" in line]


@pytest.mark.parametrize("args", [("check", "--format", "parsable"), ("validate",)])
def test_a_newline_in_a_key_or_file_name_keeps_each_finding_on_one_line(kamctl, split_ws, args):
    result = kamctl(*args, ws=split_ws)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()  # splitlines breaks on \v, \x1c-\x1e, \x85, U+2028 too
    assert all(re.match(r"^\S.*\.yaml:\d+:\d+: ", line) for line in lines), lines
    assert "accounts/new\\nline.yaml:1:1: " in result.stdout
    keys = [line for line in lines if "KAM101" in line and "bad-key.yaml" in line]
    assert len(keys) == 3
    assert any("'bad key'" in line for line in keys) and any("'cr key'" in line for line in keys)
    assert any("'vt\\x0bkey\\u2028x'" in line for line in keys)


def test_text_output_keeps_each_finding_and_file_heading_on_one_line(kamctl, split_ws):
    result = kamctl("check", "--format", "text", ws=split_ws)
    lines = result.stdout.splitlines()
    assert any(line.endswith("accounts/new\\nline.yaml") for line in lines)
    assert sum(1 for line in lines if re.match(r"^  \d+:\d+  error   KAM101 unknown key ", line)) == 3


def test_validate_of_named_files_keeps_one_line_per_finding(split_ws):
    kamctl = ROOT / ".venv" / "bin" / "kamctl"
    files = ["accounts/new\nline.yaml", "accounts/bad-key.yaml"]
    out = subprocess.run([str(kamctl), "validate", *files], capture_output=True, text=True, cwd=split_ws)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("accounts/new\\nline.yaml:1:1: KAM007 'new line' is not a valid account id")
    assert lines[1].startswith("accounts/bad-key.yaml:2:1: KAM101 unknown key 'bad key'")


# --- strict JSON -------------------------------------------------------------------------------------------


def test_huge_values_are_a_finding_and_pipeline_json_stays_strict(kamctl, ws):
    text = (EXAMPLES / "accounts" / "aurora-telecom.yaml").read_text().replace("value: 1250000", "value: 1e308")
    plant(ws, "huge-a.yaml", text)
    plant(ws, "huge-b.yaml", text)
    result = kamctl("pipeline", "--format", "json", ws=ws)
    json.loads(result.stdout, parse_constant=_raise)
    assert "Infinity" not in result.stdout
    check = kamctl("check", "--format", "parsable", ws=ws)
    assert re.search(r"accounts/huge-a.yaml:\d+:\d+: \[error\] KAM103 opportunities\[0\]\.value: "
                     r"input should be less than or equal to 1000000000000000", check.stdout), check.stdout


def test_the_largest_allowed_value_sums_finitely(kamctl, ws):
    text = (EXAMPLES / "accounts" / "aurora-telecom.yaml").read_text().replace("value: 1250000", "value: 1e15")
    plant(ws, "big.yaml", text)
    result = kamctl("pipeline", "--format", "json", ws=ws)
    assert result.exit_code == 0, result
    json.loads(result.stdout, parse_constant=_raise)
    assert kamctl("check", "--format", "parsable", "--select", "KAM103", ws=ws).stdout == ""


def test_print_json_writes_null_for_numbers_that_are_not_finite(capsys):
    from kamctl.cli.common import print_json

    print_json({"total": float("inf"), "rows": [float("nan"), 1.5, {"x": float("-inf")}]})
    out = capsys.readouterr().out
    assert json.loads(out, parse_constant=_raise) == {"total": None, "rows": [None, 1.5, {"x": None}]}


# --- Mermaid --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ['%%{init: {"theme":"dark"}}%%', "%% a comment", "50%% off %"])
def test_mermaid_blocks_hold_no_directive_or_comment(kamctl, ws, name, tmp_path):
    text = (EXAMPLES / "accounts" / "aurora-telecom.yaml").read_text()
    text = text.replace("name: Aurora Telecom Europe", f"name: {json.dumps(name)}", 1)
    (ws / "accounts" / "aurora-telecom.yaml").write_text(text)
    settings = (ws / "kam.yaml").read_text().replace("name: Brightpack Solutions", f"name: {json.dumps(name)}", 1)
    (ws / "kam.yaml").write_text(settings)
    out = tmp_path / "out"
    assert kamctl("render", "plan", "aurora-telecom", "--out", out, ws=ws).exit_code == 0
    assert kamctl("render", "portfolio", "--out", out, ws=ws).exit_code == 0
    portfolio = kamctl("portfolio", "--format", "markdown", ws=ws)
    blocks = [b for f in sorted(out.rglob("*.md")) for b in BLOCK.findall(f.read_text())]
    blocks += BLOCK.findall(portfolio.stdout)
    assert len(blocks) >= 3
    assert all("%%" not in b for b in blocks), blocks
    assert any("#37;#37;" in b for b in blocks)


def test_one_mermaid_escaper():
    from kamctl import portfolio
    from kamctl.present import mermaid_label

    assert not hasattr(portfolio, "mermaid_text")
    assert mermaid_label('%%{init: {"theme":"dark"}}%%') == "#37;#37;{init: {#quot;theme#quot;:#quot;dark#quot;}}#37;#37;"


# --- CSV ----------------------------------------------------------------------------------------------


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-cmd", "@SUM(1)", "\tx", "\rx"]
NEUTRAL = ["'" + n.replace("\r", "\n") for n in FORMULAS]  # a CR in a cell is written as a (quoted) LF


@pytest.fixture
def csv_ws(ws) -> Path:
    text = (EXAMPLES / "accounts" / "aurora-telecom.yaml").read_text()
    for i, name in enumerate(FORMULAS):
        body = text.replace("name: Aurora Telecom Europe", f"name: {json.dumps(name)}", 1)
        body = body.replace("title: Moulded-pulp router packaging, EU volumes", f"title: {json.dumps(name)}", 1)
        plant(ws, f"formula-{i}.yaml", body)
    return ws


def _cells(out: str, column: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    return {r["account"] if "account" in r else r["id"]: r[column] for r in rows}


def test_score_csv_neutralises_formulas_and_keeps_normal_names(kamctl, csv_ws):
    result = kamctl("score", "--format", "csv", ws=csv_ws)
    names = _cells(result.stdout, "name")
    assert [names[f"formula-{i}"] for i in range(len(FORMULAS))] == NEUTRAL
    assert names["aurora-telecom"] == "Aurora Telecom Europe"
    baseline = kamctl("score", "--format", "csv", ws=EXAMPLES).stdout
    assert all(line in result.stdout.splitlines() for line in baseline.splitlines())


def test_opp_list_csv_neutralises_formulas_and_keeps_numbers(kamctl, csv_ws):
    result = kamctl("opp", "list", "--format", "csv", "--as-of", "2026-06-01", ws=csv_ws)
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    titles = {r["account"]: r["title"] for r in rows if r["id"] == "router-packaging"}
    assert [titles[f"formula-{i}"] for i in range(len(FORMULAS))] == NEUTRAL
    assert titles["aurora-telecom"] == "Moulded-pulp router packaging, EU volumes"
    assert {r["value"] for r in rows if r["id"] == "router-packaging"} == {"1250000.0"}  # as on main: a float value


def test_csv_cell_prefixes_text_only():
    from kamctl.present import csv_cell

    assert csv_cell("-cmd") == "'-cmd" and csv_cell("a=b") == "a=b" and csv_cell("") == ""
    assert csv_cell("a\rb\r\nc") == "a\nb\nc"
    assert csv_cell(-5) == -5 and csv_cell(-1.5) == -1.5  # numbers are values, not formulas


# --- KAMCTL_WORKERS ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "٣", "4x", "-1"])
def test_workers_other_than_ascii_digits_is_a_settings_error(value):
    kamctl = ROOT / ".venv" / "bin" / "kamctl"
    env = {**os.environ, "KAMCTL_WORKERS": value}
    for args in (["score"], ["check"], ["validate"]):
        out = subprocess.run([str(kamctl), "-w", str(EXAMPLES), "--no-cache", *args], capture_output=True,
                             text=True, env=env)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr
        assert f"KAMCTL_WORKERS={value!r}: write a whole number" in out.stderr


def test_workers_ascii_digits_still_work(kamctl):
    assert kamctl("score", "--format", "json", ws=EXAMPLES, env={"KAMCTL_WORKERS": "2"}).exit_code == 0


def test_an_error_naming_a_file_shows_its_control_characters(kamctl, tmp_path):
    root = tmp_path / "ws\x1b[2J"  # ESC [2J would clear the terminal
    missing = kamctl("score", ws=root)
    assert missing.exit_code == 2 and "ws\\x1b[2J (-w/--workspace) is not a kamctl workspace" in missing.stderr
    root.mkdir()
    (root / "kam.yaml").write_text("company: [\n")
    broken = kamctl("score", ws=root)
    assert broken.exit_code == 2 and "\x1b" not in broken.stderr
    assert "ws\\x1b[2J/kam.yaml:2:1: KAM001 " in broken.stderr
