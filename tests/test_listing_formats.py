"""Listings whose rows are flat records (level, owners, rules) come as table, json and csv; the csv
holds exactly the json's records, one column per key (issue 13: csv where rows are flat)."""

import csv
import io
import json

import pytest

from tests.conftest import EXAMPLES


def _text(value):
    return "" if value is None else str(value)


@pytest.mark.parametrize("command", [["level"], ["owners"], ["rules"]])
def test_csv_holds_the_json_records(kamctl, command):
    as_json = kamctl(*command, "--format", "json", ws=EXAMPLES)
    as_csv = kamctl(*command, "--format", "csv", ws=EXAMPLES)
    assert as_json.exit_code == as_csv.exit_code == 0, (as_json, as_csv)
    records = json.loads(as_json.stdout)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == len(records) > 0
    assert list(rows[0]) == list(records[0])
    for row, record in zip(rows, records):
        assert row == {k: _text(v) for k, v in record.items()}


def test_an_unknown_format_is_a_usage_error(kamctl):
    assert kamctl("owners", "--format", "xml", ws=EXAMPLES).exit_code == 2
