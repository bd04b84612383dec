"""Issue 17, part 1: the numbers account managers are judged by, each computed by hand in comments.

Win rate, pipeline coverage, days per stage, cycle length, the cohort funnel, forecast categories,
the gate questions and MEDDPICC qualification at `opp decide`, and account health (0-100, explained),
with the empty cases (nothing closed, no target, no history).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from conftest import FIXTURES
from kamctl import health, pipeline, report
from kamctl.model.account import Account, Opportunity
from kamctl.model.settings import Settings

D = dt.date
SETTINGS = Settings.model_validate({"company": {"currency": "EUR"}, "pipeline": {"rates": {"USD": 0.5}}})


def h(*steps: tuple[str, str]) -> list[dict]:
    return [{"stage": s, "date": d} for s, d in steps]


def opp(oid: str, stage: str, history: list[dict], **kw) -> Opportunity:
    return Opportunity.model_validate({"id": oid, "title": oid.upper(), "stage": stage, "history": history, **kw})


# --- win rate ---------------------------------------------------------------------------------------


def test_win_rate_by_count_and_by_value_over_the_period():
    opps = [
        opp("a", "contract", h(("identification", "2026-01-05"), ("contract", "2026-03-01")), value=100),
        opp("b", "engagement", h(("identification", "2026-01-10"), ("contract", "2026-05-01"),
                                 ("engagement", "2026-06-01")), value=300),
        opp("c", "lost", h(("identification", "2026-02-01"), ("pursuit", "2026-03-01"), ("lost", "2026-04-01")), value=600),
        opp("d", "no_go", h(("decision", "2026-02-01"), ("no_go", "2026-02-10")), value=1000),  # no-go: never lost
        opp("e", "lost", h(("pursuit", "2025-11-01"), ("lost", "2025-12-01")), value=50),  # closed before the period
        opp("f", "pursuit", h(("pursuit", "2026-03-01")), value=70),  # open
    ]
    w = pipeline.win_rate(opps, SETTINGS, D(2026, 1, 1), D(2026, 12, 31))
    # closed in 2026: won a, b; lost c -> by count 2 / (2 + 1) = 0.667
    assert (w["won"], w["lost"]) == (2, 1)
    assert w["by_count"] == pytest.approx(2 / 3)
    # by value: won 100 + 300 = 400, lost 600 -> 400 / (400 + 600) = 0.4
    assert w["won_value"] == {"EUR": 400} and w["lost_value"] == {"EUR": 600}
    assert w["by_value"] == pytest.approx(0.4)
    # up to 2026-03-31 only a (won) closed: 1 / 1
    assert pipeline.win_rate(opps, SETTINGS, D(2026, 1, 1), D(2026, 3, 31))["by_count"] == 1.0


def test_win_rate_by_value_converts_with_the_rates_and_is_none_without_one():
    opps = [opp("a", "contract", h(("contract", "2026-03-01")), value=200, currency="USD"),  # 200 x 0.5 = 100 EUR
            opp("b", "lost", h(("lost", "2026-04-01")), value=300)]
    w = pipeline.win_rate(opps, SETTINGS, D(2026, 1, 1), D(2026, 12, 31))
    assert w["by_value"] == pytest.approx(100 / (100 + 300))  # 0.25
    no_rate = Settings()
    assert pipeline.win_rate(opps, no_rate, D(2026, 1, 1), D(2026, 12, 31))["by_value"] is None


def test_win_rate_when_nothing_closed():
    w = pipeline.win_rate([opp("f", "pursuit", h(("pursuit", "2026-03-01")))], SETTINGS, D(2026, 1, 1), D(2026, 12, 31))
    assert (w["won"], w["lost"], w["by_count"], w["by_value"]) == (0, 0, None, None)
    assert pipeline.win_rate([], SETTINGS, D(2026, 1, 1), D(2026, 12, 31))["by_count"] is None


# --- days per stage and cycle length -------------------------------------------------------------------


def test_days_per_stage_average_the_finished_stays():
    opps = [
        # identification 10 days (01-01 -> 01-11), qualification 30 (01-11 -> 02-10), decision 10 (02-10 -> 02-20);
        # pursuit since 02-20 is not finished: not counted
        opp("a", "pursuit", h(("identification", "2026-01-01"), ("qualification", "2026-01-11"),
                              ("decision", "2026-02-10"), ("pursuit", "2026-02-20"))),
        # identification 20 days (03-01 -> 03-21)
        opp("b", "qualification", h(("identification", "2026-03-01"), ("qualification", "2026-03-21"))),
    ]
    days = pipeline.stage_days(opps, D(2026, 12, 31))
    assert days["identification"] == {"stays": 2, "average_days": 15.0}  # (10 + 20) / 2
    assert days["qualification"] == {"stays": 1, "average_days": 30.0}
    assert days["decision"] == {"stays": 1, "average_days": 10.0}
    assert days["pursuit"] == {"stays": 0, "average_days": None}
    # up to 2026-02-15 the decision stay (ends 02-20) has not finished; b has not started
    early = pipeline.stage_days(opps, D(2026, 2, 15))
    assert early["identification"] == {"stays": 1, "average_days": 10.0} and early["decision"]["stays"] == 0


def test_a_second_entry_in_a_stage_does_not_restart_its_stay():
    # qualification from 01-01 to decision on 01-10: 9 days, the note on 01-05 does not cut it to 5
    o = opp("a", "decision", h(("qualification", "2026-01-01"), ("qualification", "2026-01-05"),
                               ("decision", "2026-01-10")))
    assert pipeline.stage_days([o], D(2026, 12, 31))["qualification"] == {"stays": 1, "average_days": 9.0}


def test_days_per_stage_without_history():
    days = pipeline.stage_days([opp("a", "pursuit", [])], D(2026, 12, 31))
    assert all(d == {"stays": 0, "average_days": None} for d in days.values())


def test_cycle_length_from_identified_to_closed():
    opps = [
        opp("a", "contract", h(("identification", "2026-01-01"), ("contract", "2026-04-11"))),  # 100 days
        opp("b", "lost", h(("identification", "2026-02-01"), ("lost", "2026-03-03"))),  # 30 days
        opp("c", "pursuit", h(("identification", "2026-01-01"))),  # open: no cycle
        opp("d", "contract", []),  # won, no history: no dates, left out
    ]
    c = pipeline.cycle_length(opps, D(2026, 1, 1), D(2026, 12, 31))
    # won and lost: (100 + 30) / 2 = 65; won alone: 100
    assert c == {"closed": 2, "average_days": 65.0, "won": 1, "won_average_days": 100.0}
    assert pipeline.cycle_length([], D(2026, 1, 1), D(2026, 12, 31)) == {
        "closed": 0, "average_days": None, "won": 0, "won_average_days": None}


# --- the cohort funnel ----------------------------------------------------------------------------------


def test_funnel_never_converts_above_100_percent():
    """The issue's case: 5 identified in 2026, all 5 qualified, plus one identified in 2025 and qualified
    in 2026. Period counts say identified 5, qualified 6 (no rate); the cohort says 5 -> 5, 100%."""
    opps = [opp(f"n{i}", "qualification", h(("identification", f"2026-0{i}-01"), ("qualification", f"2026-0{i}-15")))
            for i in range(1, 6)]
    opps.append(opp("old", "qualification", h(("identification", "2025-12-01"), ("qualification", "2026-01-10"))))
    data = pipeline.portfolio_pipeline([("acc", Account(name="A", opportunities=opps))], SETTINGS, D(2026, 12, 31))
    assert data["funnel"]["counts"] == {"identified": 5, "qualified": 6, "pursued": 0, "won": 0}
    cohort = data["funnel"]["cohort"]
    assert cohort["counts"] == {"identified": 5, "qualified": 5, "pursued": 0, "won": 0}
    rates = {(c["from"], c["to"]): c["rate"] for c in cohort["conversions"]}
    assert rates[("identified", "qualified")] == 1.0  # 5 / 5
    assert rates[("qualified", "pursued")] == 0.0  # 0 / 5
    assert rates[("pursued", "won")] is None  # 0 / 0: no rate
    assert all(r is None or r <= 1 for r in rates.values())


def test_cohort_follows_members_up_to_as_of_and_counts_skipped_steps():
    opps = [
        # identified 01-05, qualified 02-01, won 05-01
        opp("a", "contract", h(("identification", "2026-01-05"), ("qualification", "2026-02-01"),
                               ("decision", "2026-03-01"), ("pursuit", "2026-03-05"), ("contract", "2026-05-01"))),
        # identified 06-01, qualified only on 07-01 (after an as_of of 06-15)
        opp("b", "qualification", h(("identification", "2026-06-01"), ("qualification", "2026-07-01"))),
        # entered straight at pursuit on 08-01: identified, qualified and pursued that day
        opp("d", "pursuit", h(("pursuit", "2026-08-01"))),
    ]
    cohort = pipeline.cohort_funnel(opps, D(2026, 1, 1), D(2026, 12, 31))
    assert cohort["counts"] == {"identified": 3, "qualified": 3, "pursued": 2, "won": 1}
    # identified -> won: 1 / 3
    assert cohort["conversions"][-1] == {"from": "identified", "to": "won", "rate": pytest.approx(1 / 3)}
    june = pipeline.cohort_funnel(opps, D(2026, 1, 1), D(2026, 6, 15))
    assert june["counts"] == {"identified": 2, "qualified": 1, "pursued": 1, "won": 1}  # a; b identified only


def test_cohort_funnel_of_nothing():
    cohort = pipeline.cohort_funnel([], D(2026, 1, 1), D(2026, 12, 31))
    assert cohort["counts"] == {"identified": 0, "qualified": 0, "pursued": 0, "won": 0}
    assert all(c["rate"] is None for c in cohort["conversions"])


# --- forecast categories ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage, override, expected", [
    ("identification", None, "pipeline"), ("decision", None, "pipeline"), ("pursuit", None, "best_case"),
    ("closing", None, "commit"), ("contract", None, "closed"), ("engagement", None, "closed"),
    ("no_go", None, "omitted"), ("lost", None, "omitted"),
    ("pursuit", "commit", "commit"), ("closing", "omitted", "omitted"),
    ("contract", "omitted", "closed"),  # a won deal is closed whatever was set while open
])
def test_forecast_category_from_stage_with_override(stage, override, expected):
    o = opp("a", stage, [], **({"forecast": override} if override else {}))
    assert o.forecast_category().value == expected


def test_closed_cannot_be_set_by_hand():
    with pytest.raises(ValidationError):
        opp("a", "pursuit", [], forecast="closed")


def test_forecast_categories_add_counts_and_weighted_values():
    opps = [opp("a", "pursuit", [], value=1000), opp("b", "pursuit", [], value=400, forecast="commit"),
            opp("c", "closing", [], value=100)]
    cells = {c["category"]: c for c in pipeline.forecast_categories(opps, SETTINGS)}
    # best case: a 1000 x 0.5 = 500; commit: b 400 x 0.5 = 200 and c 100 x 0.8 = 80 -> 280
    assert cells["best_case"]["count"] == 1 and cells["best_case"]["weighted"] == {"EUR": 500}
    assert cells["commit"]["count"] == 2 and cells["commit"]["weighted"] == {"EUR": pytest.approx(280)}
    assert cells["pipeline"]["count"] == 0


# --- coverage -------------------------------------------------------------------------------------------


def _account(target: float | None, achieved: float | None, opps: list[Opportunity]) -> Account:
    sales = [{"period": "2026", "target": target, "achieved": achieved}] if target is not None else []
    return Account.model_validate({"name": "A", "opportunities": [o.model_dump() for o in opps],
                                   "performance": {"sales": sales}})


COVERAGE_OPPS = [
    opp("p", "pursuit", [], value=600, close="2026-09-30"),  # due in 2026: 600 x 0.5 = 300
    opp("c", "closing", [], value=250, close="2026-03-31"),  # overdue at 06-30, still due: 250 x 0.8 = 200
    opp("later", "identification", [], value=1000, close="2027-01-31"),  # closes after 2026: not counted
    opp("undated", "qualification", [], value=500),  # no close date: not counted
    opp("won", "contract", [], value=900, close="2026-02-01"),  # not open
]


def test_coverage_is_weighted_due_against_the_target_still_to_reach():
    perf = report.performance(_account(1000, 400, COVERAGE_OPPS), SETTINGS, D(2026, 6, 30))
    c = perf["coverage"]
    # to reach: 1000 - 400 = 600; weighted due by 2026-12-31: 300 + 200 = 500 -> 500 / 600 = 0.833
    assert c["remaining"] == {"EUR": 600} and c["weighted"] == {"EUR": pytest.approx(500)}
    assert c["ratio"] == pytest.approx(500 / 600)


def test_coverage_without_target_or_with_the_target_reached():
    no_target = report.performance(_account(None, None, COVERAGE_OPPS), SETTINGS, D(2026, 6, 30))["coverage"]
    assert no_target["remaining"] == {} and no_target["ratio"] is None
    reached = report.performance(_account(1000, 1200, COVERAGE_OPPS), SETTINGS, D(2026, 6, 30))["coverage"]
    assert reached["remaining"] == {"EUR": 0} and reached["ratio"] is None  # max(1000 - 1200, 0) = 0: nothing to cover


def test_portfolio_coverage_adds_accounts_in_the_company_currency():
    a = report.performance(_account(1000, 400, COVERAGE_OPPS), SETTINGS, D(2026, 6, 30))  # 500 / 600
    usd = Account.model_validate({"name": "U", "revenue": {"currency": "USD"},
                                  "opportunities": [{"id": "x", "title": "X", "stage": "closing", "value": 1000,
                                                     "currency": "USD", "close": "2026-10-01"}],
                                  "performance": {"sales": [{"period": "2026", "target": 2000, "achieved": 800}]}})
    b = report.performance(usd, SETTINGS, D(2026, 6, 30))
    # b alone in USD: weighted 1000 x 0.8 = 800 against 2000 - 800 = 1200 -> 0.667
    assert b["coverage"]["ratio"] == pytest.approx(800 / 1200)
    # together in EUR (USD x 0.5): weighted 500 + 400 = 900, to reach 600 + 600 = 1200 -> 0.75
    assert report.portfolio([a, b], SETTINGS)["coverage"]["ratio"] == pytest.approx(0.75)
    assert report.portfolio([a, b], Settings())["coverage"]["ratio"] is None  # no USD rate
    assert report.portfolio([], SETTINGS)["coverage"]["ratio"] is None  # no account, no target


# --- account health -------------------------------------------------------------------------------------


HEALTHY = Account.model_validate({
    "name": "Health Co",
    "decision_makers": [{"name": "A", "counterpart": "X", "last_contact": "2026-11-01"},
                        {"name": "B", "counterpart": "Y"}, {"name": "C", "counterpart": "Z"}, {"name": "D"}],
    "performance": {"sales": [{"period": "2026", "target": 1200, "achieved": 300}],
                    "surveys": [{"date": "2026-03-01", "score": 4.0}]},
})


def _alerts(n: int) -> list:
    return [SimpleNamespace(rule="KAM401") for _ in range(n)]


def test_health_by_hand():
    as_of = D(2026, 12, 31)
    perf = report.performance(HEALTHY, Settings(), as_of, "health-co", alerts=_alerts(2))
    got = health.health(HEALTHY, {"overall": 60.0}, perf, Settings(), as_of)
    parts = {p["part"]: p for p in got["parts"]}
    # completeness 60; relationships 3 of 4 covered = 75; satisfaction (4 - 1) / 4 x 100 = 75;
    # attainment 300 of 1200 x 365/365 due = 25; alerts 100 - 25 x 2 = 50;
    # freshness: newest entry 2026-11-01 is 60 days old: (180 - 60) / (180 - 30) x 100 = 80
    assert {k: p["value"] for k, p in parts.items()} == {
        "completeness": 60.0, "relationships": 75.0, "satisfaction": 75.0, "attainment": 25.0, "alerts": 50.0,
        "freshness": 80.0}
    # (20 x 60 + 15 x 75 + 20 x 75 + 20 x 25 + 15 x 50 + 10 x 80) / 100
    #   = (1200 + 1125 + 1500 + 500 + 750 + 800) / 100 = 58.75 -> 58.8 (half up)
    assert got["score"] == 58.8 and got["weight_total"] == 100 and got["missing"] == []
    assert parts["satisfaction"]["contribution"] == 15.0  # 20 x 75 / 100


def test_health_attainment_is_pro_rata_and_capped():
    # at 2026-03-31, 90 of 365 days have passed: due 1200 x 90/365 = 295.9; achieved 300 -> 101.4%, capped at 100
    perf = report.performance(HEALTHY, Settings(), D(2026, 3, 31))
    parts = {p["part"]: p for p in health.health(HEALTHY, {"overall": 60.0}, perf, Settings(), D(2026, 3, 31))["parts"]}
    assert parts["attainment"]["value"] == 100.0


def test_health_weights_come_from_kam_yaml():
    settings = Settings.model_validate({"health": {"weights": {"completeness": 1, "relationships": 0, "satisfaction": 0,
                                                               "attainment": 0, "alerts": 1, "freshness": 0}}})
    perf = report.performance(HEALTHY, settings, D(2026, 12, 31), alerts=_alerts(2))
    # (1 x 60 + 1 x 50) / 2 = 55
    assert health.health(HEALTHY, {"overall": 60.0}, perf, settings, D(2026, 12, 31))["score"] == 55.0


def test_health_of_an_empty_account_leaves_the_unknown_parts_out():
    empty = Account(name="Empty")
    perf = report.performance(empty, Settings(), D(2026, 12, 31))
    got = health.health(empty, {"overall": 0.0}, perf, Settings(), D(2026, 12, 31))
    # no survey, no sales, no dated entry: satisfaction, attainment, freshness unknown (not zero);
    # completeness 0, relationships 0 (nobody mapped), alerts 100 -> (20 x 0 + 15 x 0 + 15 x 100) / 50 = 30
    assert got["missing"] == ["satisfaction", "attainment", "freshness"]
    assert got["score"] == 30.0 and got["weight_total"] == 50
    zero = Settings.model_validate({"health": {"weights": dict.fromkeys(health.PARTS, 0)}})
    assert health.health(empty, {"overall": 0.0}, perf, zero, D(2026, 12, 31))["score"] is None


HEALTH_FILE = """name: Health Co
decision_makers:
  - {name: A, counterpart: X, last_contact: 2026-11-01}
  - {name: B, counterpart: Y}
performance:
  sales: [{period: 2026, target: 1000, achieved: 1000}]
  surveys: [{date: 2026-03-01, score: 5.0}]
"""
SICK_FILE = "name: Sick Co\n"


def test_health_command_explains_and_report_puts_least_healthy_first(kamctl, workspace):
    root = workspace({"health-co": HEALTH_FILE, "sick-co": SICK_FILE})
    data = json.loads(kamctl("health", "--as-of", "2026-12-31", "--format", "json", ws=root).stdout)
    assert [a["account"] for a in data["accounts"]] == ["sick-co", "health-co"]
    explained = kamctl("health", "health-co", "--as-of", "2026-12-31", "--explain", ws=root)
    assert explained.exit_code == 0, explained
    got = data["accounts"][1]
    used = [p for p in got["parts"] if p["contribution"] is not None]
    # the printed sum is the score: sum(weight x value) / sum(weight)
    assert round(sum(p["weight"] * p["value"] for p in used) / sum(p["weight"] for p in used), 1) == got["score"]
    assert f"/ {got['weight_total']:g} = {got['score']:.1f}" in explained.stdout.replace("\n", " ")
    for part in ("completeness", "relationships", "satisfaction", "attainment", "alerts", "freshness"):
        assert part in explained.stdout
    rep = json.loads(kamctl("report", "--as-of", "2026-12-31", "--format", "json", ws=root).stdout)
    assert [a["account"] for a in rep["accounts"]] == ["sick-co", "health-co"]
    assert rep["accounts"][1]["health"]["score"] == got["score"]
    md = kamctl("report", "--as-of", "2026-12-31", "--format", "markdown", ws=root).stdout
    assert md.index("| sick-co |") < md.index("| health-co |")


def test_health_trend_in_history(tmp_path, kamctl):
    def git(*args: str, date: str = "2026-06-01") -> None:
        env = {"GIT_AUTHOR_DATE": f"{date}T12:00:00+00:00", "GIT_COMMITTER_DATE": f"{date}T12:00:00+00:00",
               "PATH": "/usr/bin:/bin"}
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                        *args], cwd=tmp_path, check=True, capture_output=True, env=env)

    (tmp_path / "accounts").mkdir()
    (tmp_path / "kam.yaml").write_text("", encoding="utf-8")
    git("init", "-q")
    (tmp_path / "accounts" / "health-co.yaml").write_text(SICK_FILE.replace("Sick", "Health"), encoding="utf-8")
    git("add", ".")
    git("commit", "-qm", "start", date="2026-06-01")
    (tmp_path / "accounts" / "health-co.yaml").write_text(HEALTH_FILE, encoding="utf-8")
    git("commit", "-qam", "mapped and surveyed", date="2026-11-15")
    data = json.loads(kamctl("history", "health-co", "--format", "json", ws=tmp_path).stdout)
    first, second = (r["health"] for r in data["rows"])
    assert first is not None and second is not None and second > first
    table = kamctl("history", "health-co", ws=tmp_path).stdout
    assert "Health" in table
    md = kamctl("history", "health-co", "--format", "markdown", ws=tmp_path).stdout
    assert "| Health |" in md


# --- pipeline and report output ------------------------------------------------------------------------


MEASURED = """name: Measured Co
performance:
  sales: [{period: 2026, target: 1000, achieved: 400}]
opportunities:
  - id: won-deal
    title: Won
    value: 100
    stage: contract
    history:
      - {stage: identification, date: 2026-01-01}
      - {stage: contract, date: 2026-04-11}
  - id: lost-deal
    title: Lost
    value: 600
    stage: lost
    history:
      - {stage: identification, date: 2026-02-01}
      - {stage: lost, date: 2026-03-03, reason: Price}
  - id: open-deal
    title: Open
    value: 600
    stage: pursuit
    close: 2026-09-30
    forecast: commit
    qualification: {pain: Tears, champion: Lena}
    history:
      - {stage: identification, date: 2026-03-01}
      - {stage: pursuit, date: 2026-03-11}
"""


def test_pipeline_and_report_show_the_measures(kamctl, workspace):
    root = workspace({"measured": MEASURED})
    data = json.loads(kamctl("pipeline", "--as-of", "2026-06-30", "--format", "json", ws=root).stdout)
    m = data["measures"]
    # won 1 of won + lost 2: 50% by count; by value 100 / (100 + 600) = 0.143
    assert m["win_rate"]["by_count"] == 0.5 and m["win_rate"]["by_value"] == pytest.approx(100 / 700)
    # cycle: won 100 days (01-01 -> 04-11), lost 30 (02-01 -> 03-03): 65 on average
    assert m["cycle"]["average_days"] == 65.0 and m["cycle"]["won_average_days"] == 100.0
    assert m["stage_days"]["identification"] == {"stays": 3, "average_days": (100 + 30 + 10) / 3}
    # coverage: weighted 600 x 0.5 = 300 due by year end against 1000 - 400 = 600 -> 0.5
    assert data["coverage"]["ratio"] == 0.5
    commit = next(c for c in m["forecast_categories"] if c["category"] == "commit")
    assert commit["count"] == 1 and commit["weighted"] == {"EUR": 300}
    row = next(r for r in data["opportunities"] if r["id"] == "open-deal")
    assert row["forecast_category"] == "commit" and row["qualification"] == 2
    table = kamctl("pipeline", "--as-of", "2026-06-30", "--format", "markdown", ws=root).stdout
    assert "| win rate by count | 1 of 2 (50%) |" in table
    assert "| coverage | 0.50x (300 EUR due / 600 EUR to reach) |" in table
    assert "| measured | open-deal | pursuit | commit | 2/8 |" in table
    rep = json.loads(kamctl("report", "--as-of", "2026-06-30", "--format", "json", ws=root).stdout)
    assert rep["accounts"][0]["pipeline"]["win_rate"]["by_count"] == 0.5
    assert rep["portfolio"]["pipeline"]["cycle"]["average_days"] == 65.0
    assert rep["portfolio"]["coverage"]["ratio"] == 0.5
    listing = kamctl("opp", "list", "--format", "csv", "--as-of", "2026-06-30", ws=root).stdout
    assert "forecast_category,qualification" in listing.splitlines()[0]


def test_pipeline_measures_when_nothing_closed_and_no_target(kamctl, workspace):
    root = workspace({"bare": "name: Bare\nopportunities:\n  - {id: a, title: A, stage: identification}\n"})
    out = kamctl("pipeline", "--as-of", "2026-06-30", "--format", "markdown", ws=root)
    assert out.exit_code == 0, out
    assert "| win rate by count | - |" in out.stdout and "| cycle length | - |" in out.stdout
    assert "| coverage | no target |" in out.stdout
    assert "| identification | 0 | - |" in out.stdout  # no finished stay: no average


# --- opp decide: gate questions and qualification -----------------------------------------------------


ACME = (FIXTURES / "opp" / "acme-corp.yaml").read_text(encoding="utf-8")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def gate_repo(tmp_path):
    """acme-corp.yaml with trays taken to decision and committed; kam.yaml requires compete and champion."""
    root = tmp_path / "repo"
    (root / "accounts").mkdir(parents=True)
    (root / "kam.yaml").write_text("pipeline:\n  gate:\n    require: [compete, champion]\n", encoding="utf-8")
    text = ACME.replace("    stage: identification   # not yet qualified\n", "    stage: decision         # not yet qualified\n")
    assert text != ACME
    (root / "accounts" / "acme-corp.yaml").write_text(text, encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "start")
    return root


def test_decide_records_gate_answers_and_qualification_touching_only_its_lines(gate_repo, kamctl):
    result = kamctl("opp", "decide", "acme-corp", "trays", "go", "--reason", "Fits our tray line", "--date", "2026-04-03",
                    "--compete", "yes", "--win", "Unsure", "--worth", "yes", "--champion", "Lena Berg",
                    "--pain", "Film tears on the line", ws=gate_repo)
    assert result.exit_code == 0, result
    diff = _git(gate_repo, "diff", "-U0", "--", "accounts/acme-corp.yaml")
    changed = [l for l in diff.splitlines() if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    assert changed == [
        "-    stage: decision         # not yet qualified",
        "+    stage: pursuit          # not yet qualified",
        "+    decision:",
        "+      decision: go",
        "+      reason: Fits our tray line",
        "+      date: 2026-04-03",
        "+      compete: \"yes\"",  # quoted: a YAML 1.1 reader (PyYAML, yamllint) would take yes as true
        "+      win: unsure",
        "+      worth: \"yes\"",
        "+    qualification:",
        "+      pain: Film tears on the line",  # MEDDPICC order: pain before champion
        "+      champion: Lena Berg",
        "+      - {stage: pursuit, date: 2026-04-03, decision: go, reason: Fits our tray line}",
    ]
    from kamctl.workspace import load_account

    loaded = load_account(gate_repo / "accounts" / "acme-corp.yaml", gate_repo)
    trays = loaded.account.opportunity("trays")
    assert (trays.decision.compete, trays.decision.win, trays.decision.worth) == ("yes", "unsure", "yes")
    assert trays.qualification.champion == "Lena Berg"
    assert pipeline.qualification(trays)["score"] == 2


def test_decide_adds_to_an_existing_qualification_block(gate_repo, kamctl):
    path = gate_repo / "accounts" / "acme-corp.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    value: 300000\n", "    value: 300000\n    qualification:\n      metrics: 5% less waste  # agreed\n      champion: Lena Berg\n", 1)
    path.write_text(text, encoding="utf-8")
    _git(gate_repo, "commit", "-qam", "qualified")
    result = kamctl("opp", "decide", "acme-corp", "trays", "go", "--reason", "Fits", "--date", "2026-04-03",
                    "--compete", "yes", "--pain", "Tears", ws=gate_repo)
    assert result.exit_code == 0, result  # champion was recorded before: the requirement is met
    diff = _git(gate_repo, "diff", "-U0", "--", "accounts/acme-corp.yaml")
    added = [l for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert "+      pain: Tears" in added
    assert "      metrics: 5% less waste  # agreed" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, code, message", [
    (["go", "--reason", "Fits"], 1, "needs compete, champion recorded before a go"),
    (["go", "--reason", "Fits", "--compete", "yes"], 1, "--champion"),
    (["go", "--reason", "Fits", "--compete", "maybe", "--champion", "L"], 2, "answer yes, no, unsure"),
    (["go", "--reason", "Fits", "--compete", "yes", "--champion", " "], 2, "--champion must not be empty"),
])
def test_decide_refusals_leave_the_file_byte_identical(gate_repo, kamctl, args, code, message):
    path = gate_repo / "accounts" / "acme-corp.yaml"
    before = path.read_bytes()
    result = kamctl("opp", "decide", "acme-corp", "trays", *args, ws=gate_repo)
    assert result.exit_code == code, result
    assert message in result.stderr
    assert path.read_bytes() == before


def test_no_go_needs_no_gate_requirements(gate_repo, kamctl):
    result = kamctl("opp", "decide", "acme-corp", "trays", "no-go", "--reason", "Too small", ws=gate_repo)
    assert result.exit_code == 0, result


def test_unknown_gate_requirement_is_a_settings_error(gate_repo, kamctl):
    (gate_repo / "kam.yaml").write_text("pipeline:\n  gate:\n    require: [champoin]\n", encoding="utf-8")
    path = gate_repo / "accounts" / "acme-corp.yaml"
    before = path.read_bytes()
    result = kamctl("opp", "decide", "acme-corp", "trays", "go", "--reason", "Fits", ws=gate_repo)
    assert result.exit_code == 2, result
    assert path.read_bytes() == before
