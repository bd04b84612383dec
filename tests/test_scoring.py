"""The scoring core and the portfolio data: plain models in, plain data out (no CLI here)."""

from __future__ import annotations

import re

import pytest

from kamctl.model.account import Account, Level, factor_names
from kamctl.model.settings import Settings
from kamctl.present import mermaid_label
from kamctl.portfolio import coordinate, quadrant_chart, rows
from kamctl.scoring import NEXT_STEP, RESPONSE, ready_to_farm, relationship_level, score_account, summarise
from kamctl.present import rounded


def account(**data) -> Account:
    return Account.model_validate({"name": "Acme", **data})


# --- rounding and the cut point ----------------------------------------------------------------------


@pytest.mark.parametrize("exact, shown", [
    (0.15, 0.2),  # binary 0.1499999...: Python's round() gives 0.1, a person writes 0.2
    (1.15, 1.2),
    (4.25, 4.3),
    (4.24, 4.2),
    (5.999999999999999, 6.0),  # float noise from a weighted mean
    (10.0, 10.0),
])
def test_scores_round_half_up_to_one_decimal(exact, shown):
    assert rounded(exact) == shown


def test_the_cut_point_is_compared_with_the_score_as_shown():
    settings = Settings()  # cut points 5.0
    # (4.96 + 4.94) / 2 = 4.95, shown as 5.0 -> high; 4.9 / 1 = 4.9 -> low
    sc = score_account(account(attractiveness={"size": 4.96, "growth_potential": 4.94},
                               relative_strength={"price": 4.9}), settings)
    assert rounded(sc.attractiveness.score) == 5.0 and sc.attractiveness.high is True
    assert sc.relative_strength.high is False
    assert sc.quadrant.key == "star"


# --- weights -------------------------------------------------------------------------------------------


def test_a_factor_weighted_zero_is_neither_counted_nor_missing():
    settings = Settings.model_validate({"scoring": {"weights": {"attractiveness": {"size": 0}}}})
    sc = score_account(account(attractiveness={"size": 10, "growth_potential": 4}), settings)
    # size counts 0: (0*10 + 1*4) / (0 + 1) = 4.0
    assert sc.attractiveness.score == 4.0
    assert "size" not in sc.attractiveness.missing
    assert len(sc.attractiveness.missing) == len(factor_names("attractiveness")) - 2


def test_only_zero_weighted_factors_leave_the_axis_unscored():
    settings = Settings.model_validate({"scoring": {"weights": {"attractiveness": {"size": 0}}}})
    sc = score_account(account(attractiveness={"size": 10}, relative_strength={"price": 7}), settings)
    assert sc.attractiveness.score is None and sc.attractiveness.missing == []
    assert sc.quadrant is None


def test_every_factor_present_is_not_partial():
    full = {n: 6 for n in factor_names("attractiveness")}
    strength = {n: 2 for n in factor_names("relative_strength")}
    sc = score_account(account(attractiveness=full, relative_strength=strength), Settings())
    assert (sc.attractiveness.score, sc.relative_strength.score) == (6.0, 2.0)
    assert sc.partial is False and sc.missing == []
    assert sc.quadrant.key == "star"


# --- relationship level --------------------------------------------------------------------------------

C, P, V, PA = Level.commodity, Level.product_provider, Level.value_add, Level.partner

# The rule written out by hand: loyalty sets the level (none 1, low 2, some 3, high 4),
# price sensitivity caps it (high 2, medium 3, low 4), the level is the lower of the two.
LEVELS = [
    ("high", "none", C), ("high", "low", P), ("high", "some", P), ("high", "high", P),
    ("medium", "none", C), ("medium", "low", P), ("medium", "some", V), ("medium", "high", V),
    ("low", "none", C), ("low", "low", P), ("low", "some", V), ("low", "high", PA),
]


@pytest.mark.parametrize("sensitivity, loyalty, expected", LEVELS)
def test_relationship_level_from_price_sensitivity_and_loyalty(sensitivity, loyalty, expected):
    result = relationship_level(account(relationship={"price_sensitivity": sensitivity, "loyalty": loyalty}))
    assert result.level is expected
    assert result.response == RESPONSE[expected] and result.next_step == NEXT_STEP[expected]


@pytest.mark.parametrize("evidence", [{}, {"price_sensitivity": "low"}, {"loyalty": "high"}])
def test_missing_evidence_gives_no_level(evidence):
    result = relationship_level(account(relationship={**evidence, "level": "partner"}))
    assert result.level is None and result.next_step is None
    assert result.declared is Level.partner and result.agrees is None


def test_a_declared_level_is_compared_with_the_evidence():
    agrees = relationship_level(account(relationship={"price_sensitivity": "low", "loyalty": "high",
                                                      "level": "partner"}))
    disagrees = relationship_level(account(relationship={"price_sensitivity": "high", "loyalty": "high",
                                                         "level": "partner"}))
    assert agrees.agrees is True
    assert disagrees.level is P and disagrees.agrees is False


def test_next_steps_follow_the_kam_stages():
    assert "differentiate" in NEXT_STEP[C].lower()
    assert "stage 1" in NEXT_STEP[P] and "stages 2-3" in NEXT_STEP[V] and "stage 4" in NEXT_STEP[PA]


# --- hunter and farmer ---------------------------------------------------------------------------------


def opp(stage: str, history: tuple = ()) -> dict:
    return {"id": "deal", "title": "Deal", "stage": stage,
            "history": [{"stage": s, "date": "2026-01-0" + str(i + 1)} for i, s in enumerate(history)]}


@pytest.mark.parametrize("owner, opportunities, ready", [
    ({"name": "Hanna", "role": "hunter"}, [opp("contract")], True),
    ({"name": "Hanna", "role": "hunter"}, [opp("engagement")], True),
    ({"name": "Hanna", "role": "hunter"}, [opp("lost", ("closing", "contract", "lost"))], True),  # reached contract
    ({"name": "Hanna", "role": "hunter"}, [opp("closing"), opp("lost")], False),
    ({"name": "Hanna", "role": "hunter"}, [], False),
    ({"name": "Fred", "role": "farmer"}, [opp("contract")], False),
    (None, [opp("contract")], False),
])
def test_ready_to_farm(owner, opportunities, ready):
    data = {"opportunities": opportunities}
    if owner:
        data["owner"] = owner
    assert ready_to_farm(account(**data)) is ready


# --- portfolio and the Mermaid chart -------------------------------------------------------------------

POINT = re.compile(r'^    "([^"`]*)": \[(1|0(?:\.\d+)?), (1|0(?:\.\d+)?)\]$')  # the quadrant.jison point tokens


@pytest.mark.parametrize("score, text", [(10, "1"), (0, "0"), (6.6, "0.66"), (5, "0.5"), (0.04, "0")])
def test_coordinates_are_what_the_mermaid_lexer_accepts(score, text):
    assert coordinate(score) == text


def test_point_labels_survive_quotes_brackets_colons_and_non_ascii():
    names = ['Müller & Söhne "Prime" [EU]: Ltd', "`Tick` <b>bold</b> %%{init}%%", "Ωmega; #1 (Zürich)", "  "]
    summaries = [summarise(f"acc-{i}", account(name=n, attractiveness={"size": 2 + i},
                                                relative_strength={"price": 9 - i}), Settings())
                 for i, n in enumerate(names)]
    chart = quadrant_chart(summaries, Settings())
    points = [POINT.match(line) for line in chart.splitlines() if line.startswith('    "')]
    assert all(points) and len(points) == 4
    labels = {m.group(1) for m in points}
    assert "Müller #amp; Söhne #quot;Prime#quot; [EU]: Ltd" in labels and "Ωmega#59; #35;1 (Zürich)" in labels
    assert "acc-3" in labels  # a blank name falls back to the id
    assert all("%%" not in lbl and "<" not in lbl for lbl in labels)
    assert mermaid_label("a\nb") == "a b"
    assert mermaid_label("Shop #1; Hall #amp;") == "Shop #35;1#59; Hall #35;amp#59;"  # not taken as entity codes


def test_chart_quadrant_labels_come_from_kam_yaml_in_mermaid_order():
    settings = Settings.model_validate({"quadrants": {
        "strategic": {"name": 'Key "A"', "strategy": "x"}, "star": {"name": "Grow", "strategy": "x"},
        "status": {"name": "Keep", "strategy": "x"}, "streamline": {"name": "Trim", "strategy": "x"}}})
    chart = quadrant_chart([], settings)
    assert chart.startswith("```mermaid\nquadrantChart\n") and chart.endswith("```\n")
    for line in ('quadrant-1 "Key #quot;A#quot;"', 'quadrant-2 "Grow"', 'quadrant-3 "Trim"', 'quadrant-4 "Keep"'):
        assert f"    {line}\n" in chart


def test_portfolio_rows_sort_by_quadrant_then_attractiveness():
    data = {"strat-low": (6, 6), "star": (9, 1), "strat-high": (8, 8), "none": (None, 3), "stream": (1, 1)}
    summaries = []
    for i, (a, s) in data.items():
        acc = account(name=i, attractiveness={"size": a} if a is not None else {}, relative_strength={"price": s})
        summaries.append(summarise(i, acc, Settings()))
    assert [r["id"] for r in rows(summaries, Settings())] == ["strat-high", "strat-low", "star", "stream", "none"]
