"""The pipeline core (values, staleness, funnel, forecast) and the read-only commands over it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import yaml

from conftest import EXAMPLES
from kamctl import pipeline
from kamctl.model.account import Account, Opportunity, Stage
from kamctl.model.settings import Settings

D = dt.date


def opp(**kw) -> Opportunity:
    return Opportunity.model_validate({"id": "o", "title": "O", **kw})


SETTINGS = Settings.model_validate({
    "company": {"currency": "EUR"},
    "pipeline": {"stages": {"pursuit": {"probability": 0.4, "stale_days": 10}}, "rates": {"USD": 0.5}},
})


def test_days_in_stage_uses_last_entry_for_current_stage():
    o = opp(stage="pursuit", history=[{"stage": "identification", "date": "2026-01-01"},
                                      {"stage": "pursuit", "date": "2026-02-01"},
                                      {"stage": "pursuit", "date": "2026-03-01"}])
    assert pipeline.days_in_stage(o, D(2026, 3, 11)) == 10
    assert pipeline.days_in_stage(opp(stage="pursuit"), D(2026, 3, 11)) is None


@pytest.mark.parametrize("as_of,expected", [(D(2026, 3, 11), None), (D(2026, 3, 12), 1), (D(2026, 4, 1), 21)])
def test_stale_by_counts_days_over_the_stage_limit(as_of, expected):
    o = opp(stage="pursuit", history=[{"stage": "pursuit", "date": "2026-03-01"}])
    assert pipeline.stale_by(o, SETTINGS, as_of) == expected


def test_no_limit_is_never_stale():
    o = opp(stage="contract", history=[{"stage": "contract", "date": "2020-01-01"}])
    assert SETTINGS.pipeline.stages[Stage.contract].stale_days is None
    assert pipeline.stale_by(o, SETTINGS, D(2026, 1, 1)) is None


def test_probability_and_weighted_value_from_settings():
    o = opp(stage="pursuit", value=1000)
    assert pipeline.probability(o, SETTINGS) == 0.4  # from kam.yaml
    assert pipeline.weighted_value(o, SETTINGS) == pytest.approx(400)
    assert pipeline.probability(opp(stage="closing"), SETTINGS) == Settings().pipeline.stages[Stage.closing].probability
    assert pipeline.weighted_value(opp(stage="pursuit"), SETTINGS) is None


def test_account_pipeline_totals_open_opportunities_per_currency():
    account = Account.model_validate({"name": "A", "opportunities": [
        {"id": "a", "title": "A", "stage": "pursuit", "value": 1000},
        {"id": "b", "title": "B", "stage": "pursuit", "value": 100, "currency": "USD"},
        {"id": "c", "title": "C", "stage": "contract", "value": 5000},
        {"id": "d", "title": "D", "stage": "identification"},
    ]})
    out = pipeline.account_pipeline(account, SETTINGS, D(2026, 1, 1))
    assert out["open_value"] == {"EUR": 1000, "USD": 100}
    assert out["weighted_value"] == pytest.approx({"EUR": 400, "USD": 40})
    rows = {r["id"]: r for r in out["opportunities"]}
    assert rows["a"]["currency"] == "EUR" and rows["d"]["weighted"] is None
    json.dumps(out)  # plain data


def _portfolio(opps: list[dict], settings=SETTINGS, as_of=D(2026, 12, 31)):
    account = Account.model_validate({"name": "A", "opportunities": opps})
    return pipeline.portfolio_pipeline([("a", account)], settings, as_of)


def test_company_total_only_when_rates_cover_every_currency():
    opps = [{"id": "a", "title": "A", "stage": "pursuit", "value": 1000},
            {"id": "b", "title": "B", "stage": "pursuit", "value": 100, "currency": "USD"}]
    covered = {s["stage"]: s for s in _portfolio(opps)["stages"]}["pursuit"]
    assert covered["weighted"] == pytest.approx({"EUR": 400, "USD": 40})
    assert covered["weighted_company"] == pytest.approx(400 + 40 * 0.5)
    no_rate = Settings.model_validate({"pipeline": {"rates": {}}})
    uncovered = {s["stage"]: s for s in _portfolio(opps, no_rate)["stages"]}["pursuit"]
    assert uncovered["weighted_company"] is None and uncovered["count"] == 2


def test_funnel_counts_stages_reached_in_the_year_of_as_of():
    h = lambda *steps: [{"stage": s, "date": d} for s, d in steps]  # noqa: E731
    opps = [
        {"id": "a", "title": "A", "stage": "contract", "history": h(("identification", "2026-01-05"),
         ("qualification", "2026-02-01"), ("decision", "2026-03-01"), ("pursuit", "2026-03-05"),
         ("closing", "2026-04-01"), ("contract", "2026-05-01"))},
        {"id": "b", "title": "B", "stage": "qualification", "history": h(("identification", "2026-06-01"),
                                                                          ("qualification", "2026-07-01"))},
        {"id": "c", "title": "C", "stage": "identification", "history": h(("identification", "2025-12-31"))},
        # skipped identification and qualification: reaching pursuit counts for the earlier steps too
        {"id": "d", "title": "D", "stage": "pursuit", "history": h(("pursuit", "2026-08-01"))},
        {"id": "e", "title": "E", "stage": "identification", "history": h(("identification", "2027-01-01"))},
    ]
    funnel = _portfolio(opps)["funnel"]
    assert funnel["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert funnel["counts"] == {"identified": 3, "qualified": 3, "pursued": 2, "won": 1}
    # here the cohort identified in 2026 (a, b, d) is also everyone counted at each step
    assert funnel["cohort"]["counts"] == funnel["counts"]
    rates = {(c["from"], c["to"]): c["rate"] for c in funnel["cohort"]["conversions"]}
    assert rates[("qualified", "pursued")] == pytest.approx(2 / 3)
    assert rates[("identified", "won")] == pytest.approx(1 / 3)
    # up to --as-of only: in June, b has been identified but not qualified yet
    june = _portfolio(opps, as_of=D(2026, 6, 15))["funnel"]["counts"]
    assert june == {"identified": 2, "qualified": 1, "pursued": 1, "won": 1}


def test_open_opportunity_past_its_close_date_is_forecast_as_overdue():
    """Not into a quarter already past: an overdue row first, quarters still to come after it."""
    opps = [{"id": "late", "title": "L", "stage": "pursuit", "value": 1000, "close": "2026-03-31"},
            {"id": "due", "title": "D", "stage": "pursuit", "value": 1000, "close": "2026-07-01"},
            {"id": "next", "title": "N", "stage": "closing", "value": 1000, "close": "2026-10-01"},
            {"id": "lost", "title": "X", "stage": "lost", "value": 1000, "close": "2026-01-31"}]
    forecast = {q["quarter"]: q for q in _portfolio(opps, as_of=D(2026, 7, 1))["forecast"]}
    assert list(forecast) == ["overdue", "2026-Q3", "2026-Q4"]  # due today is not overdue; lost is not open
    assert forecast["overdue"]["count"] == 1
    assert forecast["overdue"]["weighted"]["EUR"] == pytest.approx(1000 * SETTINGS.pipeline.stages[Stage.pursuit].probability)


def test_forecast_by_quarter_of_expected_close_open_only():
    opps = [{"id": "a", "title": "A", "stage": "pursuit", "value": 1000, "close": "2026-08-15"},
            {"id": "b", "title": "B", "stage": "closing", "value": 1000, "close": "2026-09-30"},
            {"id": "c", "title": "C", "stage": "identification", "value": 1000},
            {"id": "w", "title": "W", "stage": "contract", "value": 9999, "close": "2026-07-01"}]
    forecast = {q["quarter"]: q for q in _portfolio(opps, as_of=D(2026, 7, 1))["forecast"]}
    assert list(forecast) == ["2026-Q3", "no close date"]
    probs = SETTINGS.pipeline.stages
    assert forecast["2026-Q3"]["count"] == 2
    assert forecast["2026-Q3"]["weighted"]["EUR"] == pytest.approx(
        1000 * probs[Stage.pursuit].probability + 1000 * probs[Stage.closing].probability)
    assert forecast["no close date"]["weighted"]["EUR"] == pytest.approx(1000 * probs[Stage.identification].probability)


def test_stale_list_names_days_over_limit():
    opps = [{"id": "a", "title": "A", "stage": "pursuit", "history": [{"stage": "pursuit", "date": "2026-12-01"}]},
            {"id": "b", "title": "B", "stage": "pursuit", "history": [{"stage": "pursuit", "date": "2026-12-25"}]}]
    stale = _portfolio(opps)["stale"]
    assert [(s["id"], s["days_in_stage"], s["stale_days"], s["stale_by"]) for s in stale] == [("a", 30, 10, 20)]


# --- commands ------------------------------------------------------------------------------------


WS_ACCOUNTS = {
    "acme": """\
        name: Acme
        opportunities:
          - {id: film, title: Film, value: 1000, stage: pursuit, close: 2026-08-01,
             history: [{stage: pursuit, date: 2026-01-01}]}
          - {id: trays, title: Trays, value: 200, currency: USD, stage: identification}
          - {id: won, title: Won, value: 50, stage: contract}
        """,
    "beta": """\
        name: Beta
        opportunities:
          - {id: lids, title: Lids, value: 300, stage: pursuit}
        """,
}


def test_pipeline_json_and_markdown(workspace, kamctl):
    ws = workspace(WS_ACCOUNTS, settings="pipeline:\n  rates: {USD: 0.5}\n")
    result = kamctl("pipeline", "--as-of", "2026-06-30", "--format", "json", ws=ws)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    stages = {s["stage"]: s for s in data["stages"]}
    p = Settings().pipeline.stages
    assert stages["pursuit"]["count"] == 2
    assert stages["pursuit"]["weighted"]["EUR"] == pytest.approx(1300 * p[Stage.pursuit].probability)
    assert data["open"]["weighted_company"] == pytest.approx(
        1300 * p[Stage.pursuit].probability + 200 * 0.5 * p[Stage.identification].probability)
    assert [s["id"] for s in data["stale"]] == ["film"]
    md = kamctl("pipeline", "--as-of", "2026-06-30", "--format", "markdown", ws=ws)
    assert md.exit_code == 0
    assert "## Stages" in md.stdout and "| pursuit | 50% | 2 |" in md.stdout
    assert "## Funnel 2026-01-01 to 2026-06-30" in md.stdout and "## Stale at 2026-06-30" in md.stdout
    table = kamctl("pipeline", "--as-of", "2026-06-30", ws=ws)
    assert table.exit_code == 0 and "Forecast" in table.stdout and "film" in table.stdout


def test_pipeline_rejects_bad_format_and_date(workspace, kamctl):
    ws = workspace(WS_ACCOUNTS)
    assert kamctl("pipeline", "--format", "xml", ws=ws).exit_code == 2
    assert kamctl("pipeline", "--as-of", "tomorrow", ws=ws).exit_code == 2


def test_invalid_file_left_out_and_reported(workspace, kamctl):
    ws = workspace({**WS_ACCOUNTS, "broken": "name: Broken\nopportunities: [{id: x}]\n"})
    result = kamctl("pipeline", "--format", "json", "--as-of", "2026-06-30", ws=ws)
    assert result.exit_code == 1
    assert "1 account file has problems" in result.stderr
    accounts = {r["account"] for r in json.loads(result.stdout)["opportunities"]}
    assert accounts == {"acme", "beta"}
    listed = kamctl("opp", "list", "--format", "json", ws=ws)
    assert listed.exit_code == 1 and {r["account"] for r in json.loads(listed.stdout)} == {"acme", "beta"}


def test_opp_list_filters_and_formats(workspace, kamctl):
    ws = workspace(WS_ACCOUNTS)
    rows = json.loads(kamctl("opp", "list", "--format", "json", ws=ws).stdout)
    assert [(r["account"], r["id"]) for r in rows] == [("acme", "film"), ("acme", "trays"), ("acme", "won"), ("beta", "lids")]
    open_rows = json.loads(kamctl("opp", "list", "--open", "--format", "json", ws=ws).stdout)
    assert [r["id"] for r in open_rows] == ["film", "trays", "lids"]
    pursuit = json.loads(kamctl("opp", "list", "--stage", "pursuit", "--account", "beta", "--format", "json", ws=ws).stdout)
    assert [r["id"] for r in pursuit] == ["lids"]
    out = kamctl("opp", "list", "--format", "csv", "--as-of", "2026-01-11", ws=ws)
    parsed = list(csv.DictReader(io.StringIO(out.stdout)))
    assert parsed[0]["id"] == "film" and parsed[0]["days_in_stage"] == "10" and parsed[1]["currency"] == "USD"
    table = kamctl("opp", "list", ws=ws)
    assert table.exit_code == 0 and "lids" in table.stdout
    assert kamctl("opp", "list", "--stage", "won", ws=ws).exit_code == 2
    assert kamctl("opp", "list", "--account", "nobody", ws=ws).exit_code == 2


def test_examples_pipeline_json_matches_the_files(kamctl):
    result = kamctl("pipeline", "--as-of", "2026-12-31", "--format", "json", ws=EXAMPLES)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    # recompute from the YAML files, with PyYAML rather than kamctl's reader
    settings = yaml.safe_load((EXAMPLES / "kam.yaml").read_text(encoding="utf-8")) or {}
    company = (settings.get("company") or {}).get("currency", "EUR")
    configured = ((settings.get("pipeline") or {}).get("stages") or {})
    defaults = Settings().pipeline.stages
    prob = {s.value: configured.get(s.value, {}).get("probability", defaults[s].probability) for s in Stage}
    counts = {s.value: 0 for s in Stage}
    weighted: dict[str, dict[str, float]] = {s.value: {} for s in Stage}
    for path in sorted((EXAMPLES / "accounts").glob("*.yaml")):
        for o in yaml.safe_load(path.read_text(encoding="utf-8")).get("opportunities") or []:
            stage = o.get("stage", "identification")
            counts[stage] += 1
            if o.get("value") is not None:
                cur = o.get("currency") or company
                weighted[stage][cur] = weighted[stage].get(cur, 0) + o["value"] * prob[stage]
    got = {s["stage"]: s for s in data["stages"]}
    assert {k: v["count"] for k, v in got.items()} == counts
    assert sum(counts.values()) > 0
    for stage, per_currency in weighted.items():
        assert got[stage]["weighted"] == pytest.approx(per_currency), stage


def test_pipeline_shows_a_past_close_opportunity_as_overdue(workspace, kamctl):
    ws = workspace({"acc": "name: Acc\nopportunities:\n"
                           "  - {id: late, title: Late, value: 1000, stage: pursuit, close: 2026-03-31}\n"
                           "  - {id: soon, title: Soon, value: 1000, stage: pursuit, close: 2026-09-30}\n"})
    data = json.loads(kamctl("pipeline", "--as-of", "2026-06-30", "--format", "json", ws=ws).stdout)
    assert [(q["quarter"], q["count"]) for q in data["forecast"]] == [("overdue", 1), ("2026-Q3", 1)]
    md = kamctl("pipeline", "--as-of", "2026-06-30", "--format", "markdown", ws=ws).stdout
    assert "| overdue | 1 |" in md and "2026-Q1" not in md
    table = kamctl("pipeline", "--as-of", "2026-06-30", ws=ws).stdout
    assert "overdue" in table and "2026-Q1" not in table
