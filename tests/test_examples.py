"""The demo workspace in examples/: valid, schema-true, byte-stable, and covering the whole method.

Other tests and the README's Quick start run on these files, so this module pins down what they
promise: every quadrant, level, stage and owner role appears; the text edge cases renderers must
survive are there; and the deliberate gaps the checks report are still in the data.
"""

from __future__ import annotations

import datetime as dt
import json
import typing
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel

from conftest import EXAMPLES, ROOT
from kamctl.model.account import (AGENDA, AXES, END_STAGES, FIVE_QUESTIONS, WON_STAGES,
                                  Account, Level, Owner, Stage)
from kamctl.model.settings import Quadrants, Settings
from kamctl.scoring import relationship_level, ready_to_farm, score_account
from kamctl.loader import load_workspace
from kamctl.yamlio.read import read_file
from kamctl.yamlio.write import open_roundtrip, render

ACCOUNT_FILES = sorted((EXAMPLES / "accounts").glob("*.yaml"))
ALL_FILES = [EXAMPLES / "kam.yaml", *ACCOUNT_FILES]
AS_OF = dt.date(2026, 12, 31)  # the date CI checks the examples at


def _ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(EXAMPLES).as_posix() for p in paths]


@pytest.fixture(scope="module")
def ws():
    return load_workspace(EXAMPLES, use_cache=False)


@pytest.fixture(scope="module")
def accounts(ws):
    assert all(a.account is not None for a in ws.accounts)
    return {a.id: a.account for a in ws.accounts}


@pytest.fixture(scope="module")
def scores(ws, accounts):
    return {i: score_account(a, ws.settings) for i, a in accounts.items()}


def _strings(value):
    """Every string in a plain data tree."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _jsonable(value):
    """Plain YAML data as JSON would carry it: dates become ISO strings."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# --- valid, schema-true, byte-stable ----------------------------------------------------------------


def test_there_are_eight_to_twelve_accounts():
    assert 8 <= len(ACCOUNT_FILES) <= 12


def test_examples_validate_through_the_cli(kamctl):
    result = kamctl("validate", ws=EXAMPLES)
    assert result.exit_code == 0, result


def test_examples_load_without_findings(ws):
    assert ws.findings == []


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_example_validates_against_the_committed_json_schema(path):
    name = "kam.schema.json" if path.name == "kam.yaml" else "account.schema.json"
    schema = json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))
    doc = read_file(path)
    assert doc.ok, doc.findings
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(_jsonable(doc.data))]
    assert errors == []


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_example_starts_with_the_schema_line_for_editors(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first[len(prefix):]).resolve()
    assert target.is_file()
    assert target.name == ("kam.schema.json" if path.name == "kam.yaml" else "account.schema.json")


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_noop_roundtrip_is_byte_identical(path):
    rt = open_roundtrip(path)
    assert rt.baseline == rt.text  # ruamel re-dumps the file exactly, so edits touch only their lines
    assert render(rt) == path.read_bytes()


# --- coverage of the method -------------------------------------------------------------------------


def test_every_quadrant_is_covered(scores):
    got = {s.quadrant.key for s in scores.values() if s.quadrant is not None}
    assert got == set(Quadrants.model_fields)


def test_every_relationship_level_is_covered(accounts):
    got = {relationship_level(a).level for a in accounts.values()}
    assert set(Level) <= got


def test_one_declared_level_disagrees_with_the_evidence(accounts):
    results = [relationship_level(a) for a in accounts.values()]
    assert [r for r in results if r.agrees is False]
    assert [r for r in results if r.agrees is True]


def test_every_stage_is_covered(accounts):
    got = {o.stage for a in accounts.values() for o in a.opportunities}
    assert got == set(Stage)


def test_hunters_and_farmers(accounts):
    roles = {a.owner.role for a in accounts.values() if a.owner is not None}
    assert roles == set(typing.get_args(Owner.model_fields["role"].annotation))
    farmers = [a for a in accounts.values() if a.owner is not None and a.owner.role == "farmer"]
    assert all(a.owner.cycle is not None for a in farmers)
    assert any(a.hunted_by for a in farmers)


def test_a_hunter_account_is_ready_to_farm(accounts):
    assert any(ready_to_farm(a) for a in accounts.values())
    assert any(a.owner is not None and a.owner.role == "hunter" and not ready_to_farm(a) for a in accounts.values())


def test_one_account_is_partially_scored(scores):
    partial = [i for i, s in scores.items() if s.partial]
    assert partial
    assert all(scores[i].quadrant is not None for i in partial)  # partial still places it on the grid


def test_only_one_axis_score_sits_on_a_cut_point(scores):
    """One account is exactly on a cut point (>= is high); the others are clear of it by 0.2."""
    on_cut, near_cut = [], []
    for account_id, s in scores.items():
        for axis in (s.attractiveness, s.relative_strength):
            if axis.score == axis.cut_point:
                on_cut.append((account_id, axis.axis))
            elif abs(axis.score - axis.cut_point) < 0.2:
                near_cut.append((account_id, axis.axis, axis.score))
    assert len(on_cut) == 1
    assert near_cut == []


def test_settings_use_non_default_weights_and_rates(ws, accounts):
    defaults = Settings()
    for axis in ("attractiveness", "relative_strength"):
        assert ws.settings.scoring.weights_for(axis) != defaults.scoring.weights_for(axis)
    company = ws.settings.company.currency
    foreign = {o.currency for a in accounts.values() for o in a.opportunities} - {company, None}
    assert foreign  # mixed currencies in the pipeline ...
    assert foreign <= set(ws.settings.pipeline.rates)  # ... each one convertible


def test_opportunity_histories_are_consistent(accounts):
    order = [s for s in Stage if s not in END_STAGES]
    for account_id, account in accounts.items():
        for opp in account.opportunities:
            where = f"{account_id}/{opp.id}"
            assert opp.history, where
            dates = [e.date for e in opp.history]
            assert dates == sorted(set(dates)), where
            stages = [e.stage for e in opp.history]
            assert stages[-1] == opp.stage, where
            reached = [s for s in stages if s not in END_STAGES]
            assert reached == order[:len(reached)], where  # one entry per stage reached, in order
            for before, after in zip(opp.history, opp.history[1:]):
                if before.stage == Stage.decision:  # the step out of decision records the decision
                    assert after.decision and after.reason and after.by, where
                    assert opp.decision is not None, where
                    assert (opp.decision.decision, opp.decision.reason, opp.decision.by) == (
                        after.decision, after.reason, after.by), where
            if opp.stage in WON_STAGES:
                assert opp.decision is not None and opp.decision.decision == "go", where


def _filled(value) -> bool:
    if isinstance(value, BaseModel):
        return bool(value.model_dump(exclude_none=True, exclude_defaults=True))
    return bool(value)


def test_one_rich_and_one_sparse_account(accounts):
    """Rich: every section of the account model filled in. Sparse: name, owner and scores only."""
    filled = {i: {k for k in Account.model_fields if _filled(getattr(a, k))} for i, a in accounts.items()}
    assert [i for i, f in filled.items() if f == set(Account.model_fields)]
    sparse = {"name", "industry", "owner", *AXES}
    assert [i for i, f in filled.items() if {"name", "owner", *AXES} <= f <= sparse]


def test_survey_and_sales_history_on_most_accounts(accounts):
    n = len(accounts)
    assert sum(bool(a.performance.surveys) for a in accounts.values()) > n / 2
    assert sum(bool(a.performance.sales) for a in accounts.values()) > n / 2
    kinds = {i.kind for a in accounts.values() for i in a.interactions}
    assert len(kinds) >= 5


# --- text that renderers must survive ---------------------------------------------------------------


def test_text_edge_cases_are_present():
    raw = {p: p.read_text(encoding="utf-8") for p in ACCOUNT_FILES}
    data = {p: read_file(p).data for p in ACCOUNT_FILES}
    strings = [s for d in data.values() for s in _strings(d)]
    assert any("|" in s for s in strings)
    assert any("\n" in s.rstrip("\n") for s in strings)  # a multi-line block scalar
    assert any(line.startswith("#") for s in strings if "\n" in s for line in s.splitlines())
    assert any(": " in d.get("name", "") for d in data.values())
    names = [dm["name"] for d in data.values() for dm in d.get("decision_makers", [])]
    assert any("'" in n and "(" in n and not n.isascii() for n in names)
    assert any(line.rstrip().endswith(": |") for text in raw.values() for line in text.splitlines())  # literal style


# --- the deliberate gaps stay in the data --------------------------------------------------------------


def test_deliberate_gaps_are_present(ws, accounts):
    limits = ws.settings.checks.limits
    dms = [d for a in accounts.values() for d in a.decision_makers]
    assert any(d.counterpart is None for d in dms)
    assert any(d.last_contact and (AS_OF - d.last_contact).days > limits.contact_days for d in dms)
    latest = [a.performance.surveys[-1].date for a in accounts.values() if a.performance.surveys]
    assert any((AS_OF - d).days > limits.survey_days for d in latest)
    drops = [a.performance.surveys[-2].score - a.performance.surveys[-1].score
             for a in accounts.values() if len(a.performance.surveys) >= 2]
    assert max(drops) >= 1
    stale = [o for a in accounts.values() for o in a.opportunities
             if ws.settings.pipeline.stages[o.stage].stale_days is not None
             and (AS_OF - o.entered_stage()).days > ws.settings.pipeline.stages[o.stage].stale_days]
    assert [o.stage for o in stale] == [Stage.pursuit]
    tactics = [t for a in accounts.values() for ob in a.plan.objectives for s in ob.strategies for t in s.tactics]
    assert any(t.due and t.due < AS_OF and t.status not in ("done", "dropped") for t in tactics)
    assert any(len(a.decision_makers) == 1 for a in accounts.values())
    assert any(a.strategy.current_situation and any(getattr(a.strategy, q) is None for q in FIVE_QUESTIONS)
               for a in accounts.values())
    assert any(s.target and s.achieved is not None and s.achieved < s.target * (1 - limits.sales_behind_percent / 100)
               for a in accounts.values() for s in a.performance.sales if s.period.startswith(str(AS_OF.year)))
    assert any(a.performance.alerts for a in accounts.values())


def test_rich_account_is_complete_and_current(ws, accounts):
    """The richest account gives the checks something true to say the other way: nothing missing."""
    limits = ws.settings.checks.limits
    rich = [a for a in accounts.values()
            if a.plan.objectives and len(a.decision_makers) >= limits.min_decision_makers
            and all(getattr(a.strategy, q) for q in FIVE_QUESTIONS)
            and all(d.counterpart and all(getattr(d, k) for k in AGENDA)
                    and (AS_OF - d.last_contact).days <= limits.contact_days for d in a.decision_makers)
            and a.performance.surveys and (AS_OF - a.performance.surveys[-1].date).days <= limits.survey_days
            and all(t.quarter and t.owner and t.due and (t.due >= AS_OF or t.status == "done")
                    for ob in a.plan.objectives for s in ob.strategies for t in s.tactics)]
    assert rich
