"""The official YAML test suite (tests/yaml-test-suite/, MIT, see its License and README) through both
read paths: libyaml and ruamel's pure parser give the same data and findings on every case; where kamctl
accepts a case that has in.json, the data is that JSON; every invalid case is a finding.

kamctl refuses on purpose what it does not support (tags, explicit '?' keys, a second document) and
what the two parsers read differently (kamctl.yamlio.read.scan_divergent): such a case passes when both
paths refuse it with the same code at the same place.

JSON semantics, used to compare with in.json: numbers by value (1e3 == 1000), keys as JSON text
(``1`` -> "1", ``true`` -> "true", ``null`` -> "null"), and a date or timestamp (kamctl resolves
them, JSON has only text) equal to the string that resolves to the same date or timestamp.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kamctl.yamlio import read
from kamctl.yamlio.read import decode, parse_text
from test_read_differential import canon, findings_of

SUITE = Path(__file__).resolve().parent / "yaml-test-suite"
CASES = sorted(p.parent for p in SUITE.rglob("in.yaml"))
IDS = [c.relative_to(SUITE).as_posix() for c in CASES]
needs_c = pytest.mark.skipif(not read.c_parser_available(), reason="PyYAML's libyaml CParser is not installed")


def json_values(text: str) -> list:
    """The JSON values of an in.json file, one per YAML document, in order."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


def json_key(key) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (dt.date, dt.datetime)):
        return key.isoformat()
    return json.dumps(key)


def same_as_json(ours, theirs) -> bool:
    """Whether kamctl's value equals the in.json value under JSON semantics (see the module docstring)."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict) or len(ours) != len(theirs):
            return False
        return all(json_key(k) in theirs and same_as_json(v, theirs[json_key(k)]) for k, v in ours.items())
    if isinstance(ours, list):
        return isinstance(theirs, list) and len(ours) == len(theirs) and all(map(same_as_json, ours, theirs))
    if ours is None or isinstance(ours, bool):
        return theirs is ours
    if isinstance(ours, (int, float)):
        return isinstance(theirs, (int, float)) and not isinstance(theirs, bool) and ours == theirs
    if isinstance(ours, (dt.date, dt.datetime)):
        if not isinstance(theirs, str):
            return False
        resolved = read.resolve_plain(theirs)
        return type(resolved) is type(ours) and resolved == ours
    return isinstance(ours, str) and ours == theirs


def test_the_suite_is_vendored_whole_with_its_license():
    assert (SUITE / "License").read_text().startswith("MIT License")
    assert (SUITE / "README.md").is_file()
    assert len(CASES) == 402
    assert sum((c / "error").exists() for c in CASES) == 94


@needs_c
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_reads_the_same_on_both_paths_and_as_the_suite_expects(case):
    text, findings = decode((case / "in.yaml").read_bytes(), "in.yaml")
    assert text is not None, findings  # the suite is UTF-8 throughout
    c = parse_text(text, "in.yaml", "c")
    pure = parse_text(text, "in.yaml", "pure")
    assert canon(c.data) == canon(pure.data)
    assert findings_of(c) == findings_of(pure)
    assert c.positions == pure.positions
    if (case / "error").exists():
        assert not c.ok, "invalid YAML read without a finding"
        return
    if c.ok and (case / "in.json").exists():
        expected = json_values((case / "in.json").read_text(encoding="utf-8"))
        if not expected:  # an empty stream
            assert c.data is None
        else:
            assert len(expected) == 1, "kamctl read more than one document"
            assert same_as_json(c.data, expected[0]), (c.data, expected[0])


def test_json_semantics_compare_dates_numbers_and_keys_as_json_does():
    assert same_as_json({1: dt.date(2001, 12, 14)}, {"1": "2001-12-14"})
    assert not same_as_json({1: dt.date(2001, 12, 14)}, {"1": "2001-12-15"})
    assert same_as_json([1000.0, True, None], [1000, True, None])
    assert not same_as_json([1], [True])
    assert not same_as_json(["2001-12-14"], [dt.date(2001, 12, 14).isoformat() + "x"])


# --- the divergences of issue 11, named ------------------------------------------------------------

DIVERGENT = {
    "anchor with a colon": ("name: &a:b x\n", "KAM003", 1, 7),
    "folded text after --- at column 0": ("--- >\nline1\nline2\n", "KAM003", 2, 1),
    "literal text after --- at column 0": ("--- |\nline1\n# no comment\n", "KAM003", 2, 1),
    "non-ASCII anchor": ("- &\u00e9t\u00e9 x\n", "KAM003", 1, 3),
    "trailing tab": ("a: b\t\nc: d\n", "KAM001", 1, 5),
    "tab after a colon": ("block:\t|\n  x\n", "KAM001", 1, 7),
    "empty key": ("a: 1\n: b\n", "KAM001", 2, 1),
    "colon starting a flow value": ("{x: :x}\n", "KAM001", 1, 5),
    "pair inside a flow list": ("- [ a : b ]\n", "KAM003", 1, 7),
    "reserved directive": ("%FOO bar\n---\na: 1\n", "KAM003", 1, 1),
    "text after the end marker": ("a: 1\n... x\n", "KAM001", 2, 5),
    "comment without a space after a block indicator": ("a: >#c\n  x\n", "KAM001", 1, 5),
    "blank line more indented than the text": ("a: |\n   \n  x\n", "KAM003", 2, 1),
    "tab leading block text": ("a: |-\n \tx\n", "KAM001", 2, 2),
    "explicit key": ("? a\n: b\n", "KAM003", 1, 1),
    "local tag": ("a: !local &x v\n", "KAM003", 1, 4),
    "tag with a comma": ("- !!str, x\n", "KAM003", 1, 3),
    "directive inside a document": ("---\na: 1\n%YAML 1.2\n---\nb: 2\n", "KAM003", 3, 1),
}


@needs_c
@pytest.mark.parametrize("text, code, line, column", DIVERGENT.values(), ids=list(DIVERGENT))
def test_what_the_parsers_read_differently_is_refused_the_same_way(text, code, line, column):
    for parser in ("c", "pure"):
        doc = parse_text(text, "a.yaml", parser)
        assert doc.data is None
        assert findings_of(doc) == [(code, line, column)], parser


@needs_c
@pytest.mark.parametrize("text, data", [
    ("a: |\n  text\n", {"a": "text\n"}),
    ("--- >\n  one\n  two\n", "one two\n"),
    ("a: &x-1 v\nb: *x-1\n", {"a": "v", "b": "v"}),
    ("a: R&D *really* good\n", {"a": "R&D *really* good"}),
    ("a: 'tab\tinside quotes'\nb: \"x: y, &z\"\n", {"a": "tab\tinside quotes", "b": "x: y, &z"}),
    ("a: {b: c, d: [1, 2]}\n", {"a": {"b": "c", "d": [1, 2]}}),
    ("a: |\n\n  x\n", {"a": "\nx\n"}),
    ("url: http://x.org/a#b\n", {"url": "http://x.org/a#b"}),
    ("a: !!str 12\n", {"a": "12"}),
])
def test_ordinary_files_are_not_refused(text, data):
    for parser in ("c", "pure"):
        doc = parse_text(text, "a.yaml", parser)
        assert not doc.findings, parser
        assert doc.data == data, parser
