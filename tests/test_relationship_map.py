"""The relationship map (render.relationship_map): the reporting tree, influence, attitude and
coverage on each person, our counterpart beside them with the levels now and wanted."""

from __future__ import annotations

import typing

from kamctl.model.account import Account, DecisionMaker
from kamctl.model.settings import Settings
from kamctl.render import ATTITUDE_STYLES, relationship_map


def chart(*people: dict) -> list[str]:
    account = Account.model_validate({"name": "Acme", "decision_makers": list(people)})
    return relationship_map(account, Settings()).split("\n")


def test_reporting_tree_influence_attitude_coverage_and_levels():
    lines = chart(
        {"id": "ceo", "name": "Cy", "attitude": "champion", "coverage": "deep"},
        {"id": "cfo", "name": "Di", "reports_to": "ceo", "attitude": "sceptic", "counterpart": "Sam",
         "strength": 2, "level_now": "commodity", "level_wanted": "value_add"},
        {"id": "eng", "name": "Ed", "reports_to": "cfo", "influences": ["ceo", "ceo"], "coverage": "none"},
    )
    assert '    dm1["Cy<br>champion, coverage deep"]' in lines
    assert '    dm3["Ed<br>coverage none"]' in lines
    assert '  us1 -- "strength 2/5, now Commodity, want Value-add" --- dm2' in lines
    assert "  dm1 --> dm2" in lines and "  dm2 --> dm3" in lines  # boss --> report
    assert lines.count('  dm3 -. "influences" .-> dm1') == 1  # named twice, drawn once
    assert ["  classDef champion " + ATTITUDE_STYLES["champion"], "  class dm1 champion"] == \
        lines[lines.index("  classDef champion " + ATTITUDE_STYLES["champion"]):][:2]
    assert "  class dm2 sceptic" in lines


def test_names_of_nobody_self_links_and_loops_do_not_break_the_chart():
    lines = chart(
        {"id": "a", "name": "A", "reports_to": "b", "influences": ["ghost", "a"]},
        {"id": "b", "name": "B", "reports_to": "a"},
        {"id": "c", "name": "C", "reports_to": "c"},
    )
    assert "  dm2 --> dm1" in lines and "  dm1 --> dm2" in lines  # the loop (KAM410) is drawn as written
    assert not any("ghost" in ln or "dm3 --> dm3" in ln or ".-> dm1" in ln for ln in lines)


def test_a_map_without_the_new_fields_is_unchanged():
    assert chart({"name": "A", "title": "COO", "counterpart": "Sam", "strength": 3}) == [
        "flowchart LR", '  subgraph customer["Acme"]', '    dm1["A<br>COO"]', "  end",
        '  subgraph ours["Our company"]', '    us1["Sam"]', "  end", '  us1 -- "strength 3/5" --- dm1']


def test_every_attitude_has_a_style():
    attitude = DecisionMaker.model_fields["attitude"].annotation
    literal = next(a for a in typing.get_args(attitude) if a is not type(None))
    assert list(ATTITUDE_STYLES) == list(typing.get_args(literal))
