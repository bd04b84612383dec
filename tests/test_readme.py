"""The README's account-file table names exactly the keys the models define (no drift)."""

from __future__ import annotations

import re

from conftest import ROOT

from kamctl.model.account import AXES, Account, DecisionMaker, Strategy


def _table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The account file", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 2 and cells[0] not in ("key", "---"):
            rows[cells[0]] = cells[1]
    return rows


def _names(cell: str) -> list[str]:
    return re.findall(r"`([a-z_]+)", cell)


def test_every_top_level_key_is_in_the_table():
    listed = [n for key in _table() for n in _names(key)]
    assert set(listed) == set(Account.model_fields)


def test_factor_lists_match_the_models_in_order():
    rows = _table()
    for axis in AXES:
        assert _names(rows[f"`{axis}`"]) == list(AXES[axis].model_fields)


def test_strategy_and_decision_maker_fields_are_all_named():
    rows = _table()
    assert set(_names(rows["`strategy`"])) == set(Strategy.model_fields)
    assert set(_names(rows["`decision_makers`"])) == set(DecisionMaker.model_fields)
