"""Two read paths, one truth: libyaml (C) and ruamel's pure parser feed one builder and must agree on
data, positions and findings; and the builder must resolve scalars exactly as ruamel's round-trip
loader (the writer's view of the file) does."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamctl.yamlio import read
from kamctl.yamlio.read import decode, parse_text

ROOT = Path(__file__).resolve().parent.parent
needs_c = pytest.mark.skipif(not read.c_parser_available(), reason="PyYAML's libyaml CParser is not installed")


def canon(x):
    """A comparable form that keeps the types apart (True != 1, 1 != 1.0, date != datetime, NaN == NaN)."""
    if isinstance(x, dict):
        return ("map", tuple((canon(k), canon(v)) for k, v in x.items()))
    if isinstance(x, list):
        return ("seq", tuple(canon(v) for v in x))
    if x is None or isinstance(x, bool):
        return (type(x).__name__, x)
    if isinstance(x, int):
        return ("int", int(x))
    if isinstance(x, float):
        return ("float", "nan" if math.isnan(x) else float(x))
    if isinstance(x, str):
        return ("str", str(x))
    if isinstance(x, dt.datetime):
        off = x.utcoffset()
        return ("datetime", x.replace(tzinfo=None).isoformat(), off)
    if isinstance(x, dt.date):
        return ("date", dt.date(x.year, x.month, x.day).isoformat())
    raise AssertionError(f"builder produced a {type(x).__name__}: {x!r}")


def roundtrip_plain(text: str):
    """ruamel.yaml's round-trip load, converted to plain Python; None when ruamel refuses the text."""
    from ruamel.yaml import YAML

    try:
        return True, YAML(typ="rt").load(text)
    except Exception:  # ruamel's parser/constructor/duplicate-key errors: not a valid document
        return False, None


def findings_of(doc):
    return [(f.rule, f.line, f.column) for f in doc.findings]


def assert_same_paths(text: str, where: str = "<text>"):
    c = parse_text(text, where, "c")
    p = parse_text(text, where, "pure")
    assert canon(c.data) == canon(p.data), where
    assert c.positions == p.positions, where
    assert findings_of(c) == findings_of(p), where
    return c


def assert_matches_roundtrip(text: str, doc, where: str = "<text>"):
    ok, rt = roundtrip_plain(text)
    if ok and doc.data is not None and not doc.findings:
        assert canon(doc.data) == canon(rt), where
    if not ok:
        assert doc.findings, f"{where}: ruamel refuses this text, the builder must report a finding"


def yaml_files():
    # the YAML test suite has its own test (tests/test_yaml_suite.py), held to the suite's expectations
    suite = ROOT / "tests" / "yaml-test-suite"
    files = sorted(p for p in (ROOT / "tests").rglob("*")
                   if p.suffix in (".yaml", ".yml") and p.is_file() and suite not in p.parents)
    if (ROOT / "examples").is_dir():
        files += sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return files


FILES = yaml_files()


@needs_c
@pytest.mark.parametrize("file", FILES, ids=[str(f.relative_to(ROOT)) for f in FILES])
def test_every_repo_file_reads_the_same_on_both_paths(file):
    text, findings = decode(file.read_bytes(), str(file))
    if text is None:
        assert findings and findings[0].rule == "KAM005"
        return
    doc = assert_same_paths(text, str(file))
    assert_matches_roundtrip(text.replace("\r\n", "\n"), doc, str(file))


def test_the_corpus_is_not_empty():
    assert len(FILES) >= 10


SCALARS = {
    "no": "no", "on": "on", "yes": "yes", "Off": "Off", "0o17": 15, "017": 17, "1:30": "1:30",
    "2026-01-01": dt.date(2026, 1, 1), "0x1F": 31, "1_000": 1000, ".inf": math.inf, "-.inf": -math.inf,
    "~": None, "null": None, "": None, "true": True, "False": False, "1e3": 1000.0, "+12": 12,
    "0b101": 5, "12:30:45": "12:30:45",
    "2026-01-01T10:00:00Z": dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone.utc),
    "2026-01-01 10:00:00.5 +01:00": dt.datetime(2026, 1, 1, 10, 0, 0, 500000, dt.timezone(dt.timedelta(hours=1))),
    "2026-01-01T10:00:00.123456789Z": dt.datetime(2026, 1, 1, 10, 0, 0, 123457, tzinfo=dt.timezone.utc),
}


@needs_c
@pytest.mark.parametrize("scalar", list(SCALARS), ids=[repr(s) for s in SCALARS])
def test_scalars_resolve_as_the_roundtrip_loader_does(scalar):
    text = f"k: {scalar}\n"
    doc = assert_same_paths(text)
    assert not doc.findings
    assert canon(doc.data) == canon({"k": SCALARS[scalar]})
    ok, rt = roundtrip_plain(text)
    assert ok and canon(doc.data) == canon(rt)


@needs_c
def test_nan_resolves_to_nan():
    doc = assert_same_paths("k: .nan\n")
    assert math.isnan(doc.data["k"])


@needs_c
@pytest.mark.parametrize("scalar", ["2026-02-30", "._", "2026-13-01"])
def test_values_ruamel_refuses_are_findings_on_both_paths(scalar):
    text = f"a: 1\nk: {scalar}\n"
    doc = assert_same_paths(text)
    assert [(f.line, f.column) for f in doc.findings] == [(2, 4)]
    assert doc.findings[0].rule in ("KAM105", "KAM102")
    assert roundtrip_plain(text)[0] is False


@needs_c
def test_duplicate_key_is_a_finding_and_the_first_value_is_kept_on_both_paths():
    text = "name: First\nindustry: x\nname: Second\n"
    for parser in ("c", "pure"):
        doc = parse_text(text, "f.yaml", parser)
        assert doc.data == {"name": "First", "industry": "x"}
        assert findings_of(doc) == [("KAM002", 3, 1)]
        assert "line 1" in doc.findings[0].message


@needs_c
def test_yaml_11_directive_is_refused_on_both_paths():
    doc = assert_same_paths("%YAML 1.1\n---\nk: no\n")
    assert [f.rule for f in doc.findings] == ["KAM003"]


def test_fallback_without_c_parser_gives_the_same_results(monkeypatch, workspace):
    from kamctl.loader import load_workspace

    texts = {
        "a": "name: A\nattractiveness: {size: 7, growth_potential: 11}\nname: again\n",
        "b": "name: B\nopportunities:\n  - {id: x, title: T, close: 2026-02-30}\n",
        "c": "name: [unclosed\n",
    }
    ws = workspace(texts)
    before = [(f.rule, f.file, f.line, f.column, f.message) for f in load_workspace(ws, use_cache=False).findings]
    monkeypatch.setattr(read, "c_parser_available", lambda: False)
    after = [(f.rule, f.file, f.line, f.column, f.message) for f in load_workspace(ws, use_cache=False).findings]
    assert parse_text("k: 0o17\n", "x").data == {"k": 15}
    assert [x[:4] for x in before] == [x[:4] for x in after]
    assert {x[0] for x in after} >= {"KAM002", "KAM103", "KAM001"}


# --- generated documents -------------------------------------------------------------------------

PLAIN_ALPHABET = "0123456789-+._:eExobTtZ~nulNaINFf "
plain_scalars = st.text(PLAIN_ALPHABET, min_size=1, max_size=12).map(str.strip).filter(
    lambda s: s and not s.startswith(("-", ":", "~ ", "#")) and ": " not in s and " #" not in s and not s.endswith(":"))
word = st.text("abcdefghij_", min_size=1, max_size=8)
scalar_text = st.one_of(plain_scalars, word, st.sampled_from(list(SCALARS)).filter(bool),
                        word.map(lambda w: f'"{w}"'), plain_scalars.map(lambda w: f"'{w}'"))


def render_block(value, indent=0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = ""
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out += f"{pad}{k}:\n" + render_block(v, indent + 2)
            else:
                out += f"{pad}{k}: {render_inline(v)}\n"
        return out
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = ""
        for v in value:
            if isinstance(v, (dict, list)) and v:
                inner = render_block(v, indent + 2)
                out += f"{pad}- " + inner[indent + 2:]
            else:
                out += f"{pad}- {render_inline(v)}\n"
        return out
    return pad + value + "\n"


def render_inline(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render_inline(v) for v in value) + "]"
    return value


trees = st.recursive(
    scalar_text,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(word, children, max_size=4)),
    max_leaves=12,
)
documents = st.dictionaries(word, trees, min_size=1, max_size=5)


@needs_c
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.booleans())
def test_generated_documents_read_the_same_everywhere(tree, flow):
    text = (render_inline(tree) + "\n") if flow else render_block(tree)
    doc = assert_same_paths(text)
    assert_matches_roundtrip(text, doc)


@needs_c
@settings(max_examples=100, deadline=None)
@given(plain_scalars)
def test_generated_plain_scalars_resolve_as_the_roundtrip_loader_does(scalar):
    text = f"k: {scalar}\n"
    doc = assert_same_paths(text)
    ok, rt = roundtrip_plain(text)
    if ok:
        assert not doc.findings
        assert canon(doc.data) == canon(rt)
    else:
        assert doc.findings


# --- numbers too long to be numbers (Python refuses to print an int of more than 4,300 digits) -----

LONG = {
    "decimal": ("name: A\nsize: " + "9" * 5000 + "\n", 2, 7),
    "hex": ("name: A\nsize: 0x" + "f" * 5000 + "\n", 2, 7),
    "tagged": ("name: A\nsize: !!int " + "1" * 5000 + "\n", 2, 7),
    "in a flow list": ("name: A\nlist: [1, " + "2" * 5000 + "]\n", 2, 11),
    "a list item": ("name: A\nlist:\n  - " + "-" + "3" * 5000 + "\n", 3, 5),
}


@needs_c
@pytest.mark.parametrize("text, line, column", LONG.values(), ids=list(LONG))
def test_a_number_too_long_is_a_limit_finding_at_its_line_on_both_paths(text, line, column):
    for parser in ("c", "pure"):
        doc = parse_text(text, "a.yaml", parser)
        assert doc.data is None, parser
        assert findings_of(doc) == [("KAM004", line, column)], parser
        assert "the limit is 1,000" in doc.findings[0].message


def test_a_number_at_the_limit_or_quoted_still_reads():
    assert parse_text("n: " + "9" * read.MAX_NUMBER + "\n", "a.yaml").data == {"n": int("9" * read.MAX_NUMBER)}
    assert parse_text("n: '" + "9" * 5000 + "'\n", "a.yaml").data == {"n": "9" * 5000}


def test_validate_reports_a_too_long_number_instead_of_a_traceback(workspace, kamctl):
    ws = workspace({"long-co": "name: Long\nattractiveness:\n  size: 0x" + "f" * 5000 + "\n"})
    result = kamctl("validate", ws=ws)
    assert result.exit_code == 1, result
    assert "KAM004" in result.stdout and "Traceback" not in result.output
    assert re.search(r"long-co\.yaml:3\b", result.stdout), result.stdout
