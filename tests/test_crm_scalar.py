"""New account files from an import are text kamctl writes: every value must read back as itself (issue 14)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings, strategies as st

from kamctl.crm.apply import scalar
from kamctl.loader import load_account_bytes

FILE = Path("accounts/x.yaml")


def read_back(line: str):
    loaded = load_account_bytes(line.encode("utf-8"), FILE, str(FILE))
    assert loaded.ok, (line, [f.message for f in loaded.findings])
    return loaded.account


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
def test_any_text_reads_back_as_written(text):
    assert read_back(f"name: {scalar(text)}\n").name == text


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip()))
def test_any_text_reads_back_inside_a_flow_mapping(text):
    line = ("name: x\nopportunities:\n  - id: a\n    title: t\n    history:\n"
            f"      - {{stage: identification, date: 2026-01-01, note: {scalar(text, True)}}}\n")
    assert read_back(line).opportunities[0].history[0].note == text


def test_words_numbers_and_dates_that_yaml_would_misread_are_quoted():
    for text in ("yes", "No", "null", "true", "0012", "1e3", "0o17", "12:30", "- x", "# x", "a: b", "[x]", "~"):
        assert read_back(f"name: {scalar(text)}\n").name == text
    assert scalar("Alpen Foods") == "Alpen Foods" and scalar(120000.0) == "120000"
    assert scalar(dt.date(2026, 7, 27)) == "2026-07-27"
