"""Check rules, policy, completeness, alerts and performance measures (the core, no CLI).

Every check rule has a minimal account that triggers it (the line marked `# <-` is where the
finding must point) and one that does not.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import make_workspace

AS_OF = dt.date(2026, 6, 30)

CHARTER_FULL = """\
strategy:
  current_situation: Growing fast in two markets
  key_business_objectives: [Double exports by 2029]
  barriers: [Old plants]
  enablers: [New CEO]
  initiatives: [Plant upgrade]
  value_we_add: Cut their changeover time
  whom_to_influence: COO, by our MD
  where_to_target: Operations
  when_to_pursue: Before the 2027 budget
  why_they_buy: Proven results in their sector
"""


def _without(text: str, key: str, marked: str) -> str:
    """CHARTER_FULL with one key's line replaced by `marked`."""
    lines = [marked if ln.strip().startswith(f"{key}:") else ln for ln in text.splitlines()]
    return "\n".join(lines) + "\n"


DM = """\
  - id: {id}
    name: {name}
    counterpart: {counterpart}
    last_contact: 2026-06-01
    business_agenda: Growth
    personal_agenda: Promotion
    recognised_by: The board
    measured_by: Margin
"""


def dms(*pairs: tuple[str, str]) -> str:
    return "decision_makers:\n" + "".join(DM.format(id=f"p{i}", name=n, counterpart=c) for i, (n, c) in enumerate(pairs))


def scores(skip: str | None = None, marked: str = "attractiveness") -> str:
    """Every factor of both axes scored 6 (from the model's lists), but `skip`; `# <-` on an axis."""
    from kamctl.model.account import AXES, factor_names

    return "".join(f"{axis}:{'  # <-' if axis == marked else ''}\n" + "".join(
        f"  {n}: 6\n" for n in factor_names(axis) if n != skip) for axis in AXES)


# code -> (triggering account body, non-triggering account body); `name:` is added to each
CASES: dict[str, tuple[str, str]] = {
    "KAM201": (_without(CHARTER_FULL, "key_business_objectives", "  key_business_objectives: []  # <-"), CHARTER_FULL),
    "KAM202": (_without(CHARTER_FULL, "barriers", "  barriers:  # <-"), CHARTER_FULL),
    "KAM203": (_without(CHARTER_FULL, "why_they_buy", "  why_they_buy: ''  # <-"), CHARTER_FULL),
    "KAM301": ("plan:\n  year: 2026\n  objectives: []  # <-\n",
               "plan:\n  objectives:\n    - title: Grow\n"),
    "KAM302": ("plan:\n  objectives:\n    - title: Grow  # <-\n",
               "plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell\n"),
    "KAM303": ("plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell  # <-\n",
               "plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell\n"
               "          tactics: [{title: Demo}]\n"),
    "KAM304": ("plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell\n          tactics:\n"
               "            - title: Demo  # <-\n              quarter: Q3\n              due: 2026-09-30\n",
               "plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell\n          tactics:\n"
               "            - {title: Demo, quarter: Q3, owner: Ann, due: 2026-09-30}\n"),
    "KAM305": ("plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell\n          tactics:\n"
               "            - title: Demo\n              due: 2026-05-31  # <-\n              status: in_progress\n",
               "plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Upsell\n          tactics:\n"
               "            - title: Demo\n              due: 2026-05-31\n              status: done\n"),
    "KAM401": ("decision_makers: []  # <-\n", dms(("A", "X"), ("B", "Y"), ("C", "Z"))),
    "KAM402": (dms(("A", "X")).replace("    personal_agenda: Promotion\n", "") .replace("  - id: p0", "  - id: p0  # <-"),
               dms(("A", "X"))),
    "KAM403": (dms(("A", "X")).replace("counterpart: X", "counterpart:  # <-"), dms(("A", "X"))),
    "KAM404": (dms(("A", "X")).replace("last_contact: 2026-06-01", "last_contact: 2026-03-01  # <-"),
               dms(("A", "X")).replace("last_contact: 2026-06-01", "last_contact: 2026-04-01")),
    "KAM405": (dms(("A", "Sam Lee"), ("B", "sam  lee")).replace("decision_makers:", "decision_makers:  # <-"),
               dms(("A", "Sam Lee"), ("B", "Kim Park"))),
    "KAM501": ("opportunities:\n  - id: o1\n    title: Film\n    stage: qualification  # <-\n"
               "    history: [{stage: identification, date: 2026-01-05}, {stage: qualification, date: 2026-05-01}]\n",
               "opportunities:\n  - id: o1\n    title: Film\n    stage: qualification\n"
               "    history: [{stage: identification, date: 2026-01-05}, {stage: qualification, date: 2026-06-01}]\n"),
    "KAM502": ("opportunities:\n  - id: o1  # <-\n    title: Film\n    stage: pursuit\n",
               "opportunities:\n  - id: o1\n    title: Film\n    stage: pursuit\n"
               "    decision: {decision: go, reason: Fits the plan}\n"),
    "KAM503": ("owner:\n  name: Hal\n  role: hunter  # <-\nopportunities:\n  - {id: o1, title: Film, stage: contract}\n",
               "owner:\n  name: Fay\n  role: farmer\nhunted_by: Hal\nopportunities:\n  - {id: o1, title: Film, stage: contract}\n"),
    "KAM601": ("performance:\n  surveys:\n    - date: 2025-06-01  # <-\n      score: 4\n",
               "performance:\n  surveys:\n    - date: 2025-07-15\n      score: 4\n"),
    "KAM602": ("performance:\n  surveys:\n    - {date: 2025-12-01, score: 4.5}\n    - date: 2026-06-01\n      score: 3.5  # <-\n",
               "performance:\n  surveys:\n    - {date: 2025-12-01, score: 4.0}\n    - date: 2026-06-01\n      score: 3.8\n"),
    "KAM603": ("performance:\n  sales:\n    - period: 2026\n      target: 1000000\n      achieved: 300000  # <-\n",
               "performance:\n  sales:\n    - period: 2026\n      target: 1000000\n      achieved: 420000\n"),
    "KAM701": ("relationship:\n  price_sensitivity: high\n  loyalty: none\n  level: partner  # <-\n",
               "relationship:\n  price_sensitivity: high\n  loyalty: none\n  level: commodity\n"),
    "KAM703": ("relationship:  # <-\n  loyalty: some\n",
               "relationship:\n  price_sensitivity: low\n  loyalty: some\n"),
    "KAM504": ("opportunities:\n  - id: o1\n    title: Film\n    stage: pursuit\n    close: 2026-06-29  # <-\n",
               "opportunities:\n  - id: o1\n    title: Film\n    stage: pursuit\n    close: 2026-06-30\n"
               "  - {id: o2, title: Old, stage: lost, close: 2026-01-31}\n"),
    "KAM901": (scores(skip="early_adopter"), scores(marked="")),
    "KAM902": ("owner:  # <-\n  email: a@example.com\n  role: hunter\n", "owner:\n  name: Hal\n  role: hunter\n"),
    "KAM903": ("owner:  # <-\n  name: Fay\n  role: farmer\n", "owner:\n  name: Fay\n  role: farmer\n  cycle: seeding\n"),
    "KAM702": ("performance:\n  alerts:\n    - date: 2026-06-01\n      message: Buyer asked for a rival quote  # <-\n",
               "performance:\n  alerts:\n    - date: 2026-06-01\n      message: Buyer asked for a rival quote\n      resolved: true\n"),
    "KAM406": ("decision_makers:\n  - name: A\n    influence: high  # <-\n    attitude: sceptic\n",
               "decision_makers:\n  - name: A\n    influence: high\n    attitude: sceptic\n    counterpart: X\n"
               "  - {name: B, influence: high, attitude: supporter}\n  - {name: C, influence: low}\n"),
    "KAM407": (scores(marked="") + "decision_makers:  # <-\n  - {name: A, attitude: supporter}\n",
               scores(marked="") + "decision_makers:\n  - {name: A, attitude: champion}\n"),
    "KAM408": ("decision_makers:\n  - name: A\n    buying_role: economic_buyer\n    coverage: none  # <-\n",
               "decision_makers:\n  - name: A\n    buying_role: economic_buyer\n    coverage: contact\n"
               "  - {name: B, buying_role: user}\n"),
    "KAM409": ("decision_makers:\n  - {id: ann, name: Ann}\n  - id: bo\n    name: Bo\n    reports_to: anne  # <-\n",
               "decision_makers:\n  - {id: ann, name: Ann, influences: [bo]}\n  - id: bo\n    name: Bo\n    reports_to: ann\n"),
    "KAM410": ("decision_makers:\n  - {id: cy, name: Cy}\n  - id: ann\n    name: Ann\n    reports_to: bo  # <-\n"
               "  - {id: bo, name: Bo, reports_to: ann}\n",
               "decision_makers:\n  - {id: cy, name: Cy}\n  - {id: ann, name: Ann, reports_to: cy}\n"
               "  - {id: bo, name: Bo, reports_to: ann}\n"),
    "KAM510": ("buying_centres:\n  - id: plant\n    name: Plant\n    offerings:\n      films:\n        status: potential  # <-\n"
               "      labels: {status: potential}\n"
               "opportunities:\n  - {id: o1, title: Labels, centre: plant, offering: labels}\n",
               "buying_centres:\n  - id: plant\n    name: Plant\n    offerings:\n      films:\n        status: potential\n"
               "      labels: {status: competitor, competitor: Rival}\n"
               "plan:\n  objectives:\n    - title: Grow\n      strategies:\n        - title: Films\n          tactics:\n"
               "            - {title: Trial, centre: plant, offering: films}\n"),
    "KAM511": ("buying_centres:\n  - id: plant\n    name: Plant\n    offerings:\n      film:  # <-\n        status: sold\n",
               "buying_centres:\n  - id: plant\n    name: Plant\n    offerings:\n      films:\n        status: sold\n"
               "opportunities:\n  - {id: o1, title: Film, centre: plant, offering: films}\n"),
}

# kam.yaml for a case (both accounts): the whitespace rules need offerings
CASE_SETTINGS = {code: "offerings:\n  - {id: films, name: Films}\n  - {id: labels, name: Labels}\n"
                 for code in ("KAM510", "KAM511")}


def _account(body: str) -> str:
    return "name: Test Account\n" + body


def _check(tmp_path, body: str, code: str | None = None, settings: str = "", as_of: dt.date = AS_OF, name="ws"):
    from kamctl.checks import run
    from kamctl.loader import load_workspace

    root = make_workspace(tmp_path / name, {"acc": _account(body)}, settings)
    ws = load_workspace(root)
    assert ws.findings == [], ws.findings  # the test accounts themselves are valid
    return run(ws, as_of, select=[code] if code else None)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_triggers_at_the_marked_line(tmp_path, code):
    body, _ = CASES[code]
    result = _check(tmp_path, body, code, settings=CASE_SETTINGS.get(code, ""))
    found = [f for f in result.findings if f.rule == code]
    assert len(found) == 1, result.findings
    marked = next(i for i, ln in enumerate(_account(body).splitlines(), 1) if "# <-" in ln)
    assert found[0].line == marked
    assert found[0].account == "acc" and found[0].file.endswith("accounts/acc.yaml")
    assert found[0].column >= 1 and found[0].message


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_quiet_on_a_good_account(tmp_path, code):
    _, body = CASES[code]
    found = _check(tmp_path, body, code, settings=CASE_SETTINGS.get(code, "")).findings
    assert [f for f in found if f.rule == code] == []


def test_every_check_rule_has_a_case():
    from kamctl.checks import CHECKS

    mine = {c for c in CHECKS if not c.startswith("KAM8")}  # KAM8xx are kamctl history's
    assert mine == set(CASES)


def test_rules_are_documented():
    import re

    from kamctl.checks import RULES

    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))
    for r in RULES.values():
        assert re.fullmatch(r"KAM\d{3}", r.code)
        assert re.fullmatch(r"[a-z][a-z0-9-]+", r.name)
        assert len(r.explanation) > 40 and r.fix


def test_charter_rules_follow_the_model_lists(tmp_path):
    """Blank keys written in the file get a finding each, at their line; keys not written at all
    get one finding per rule naming every one of them (from the model's CHARTER and FIVE_QUESTIONS)."""
    from kamctl.model.account import CHARTER, FIVE_QUESTIONS

    written = "strategy:\n" + "".join(f"  {n}:\n" for n in CHARTER + FIVE_QUESTIONS)
    result = _check(tmp_path, written, "KAM2")
    assert sorted(f.rule for f in result.findings) == sorted(
        ["KAM201"] + ["KAM202"] * (len(CHARTER) - 1) + ["KAM203"] * len(FIVE_QUESTIONS))
    assert len({f.line for f in result.findings}) == len(CHARTER + FIVE_QUESTIONS)
    absent = _check(tmp_path, "strategy: {}\n", "KAM2", name="absent").findings
    assert sorted(f.rule for f in absent) == ["KAM201", "KAM202", "KAM203"]
    by_rule = {f.rule: f.message for f in absent}
    assert all(f"`{n}`" in by_rule["KAM203"] for n in FIVE_QUESTIONS)
    assert all(f"`{n}`" in by_rule["KAM202"] for n in CHARTER if n != "key_business_objectives")


def test_a_missing_section_points_at_line_one(tmp_path):
    result = _check(tmp_path, "", "KAM301")
    assert [(f.rule, f.line, f.column) for f in result.findings] == [("KAM301", 1, 1)]


# --- policy -----------------------------------------------------------------------------------------


def test_severity_and_off_from_kam_yaml(tmp_path):
    body = CASES["KAM404"][0] + CASES["KAM601"][0]
    result = _check(tmp_path, body, settings="checks:\n  rules: {KAM404: error, KAM6: 'off'}\n")
    rules = {f.rule: f.severity.value for f in result.findings}
    assert rules["KAM404"] == "error"
    assert not any(r.startswith("KAM6") for r in rules)


def test_limits_from_kam_yaml(tmp_path):
    body = CASES["KAM404"][1]  # contacted 90 days before AS_OF
    assert "KAM404" not in {f.rule for f in _check(tmp_path, body).findings}
    tight = _check(tmp_path, body, settings="checks:\n  limits: {contact_days: 30}\n", name="tight")
    assert "KAM404" in {f.rule for f in tight.findings}
    few = _check(tmp_path, dms(("A", "X")), settings="checks:\n  limits: {min_decision_makers: 1}\n", name="few")
    assert "KAM401" not in {f.rule for f in few.findings}


SCORED_LOW = "attractiveness: {size: 2}\nrelative_strength: {price: 2}\n"  # streamline


def test_quadrant_policy_ignore_and_select(tmp_path):
    body = SCORED_LOW + "strategy: {}\nperformance: {}\n"
    plain = {f.rule for f in _check(tmp_path, body).findings}
    assert {"KAM201", "KAM601"} <= plain
    ignored = {f.rule for f in _check(tmp_path, body, settings="checks:\n  quadrants:\n    streamline: {ignore: [KAM2]}\n",
                                      name="ign").findings}
    assert "KAM201" not in ignored and "KAM601" in ignored
    selected = {f.rule for f in _check(tmp_path, body, settings="checks:\n  quadrants:\n    streamline: {select: [KAM6]}\n",
                                       name="sel").findings}
    assert selected and all(r.startswith("KAM6") for r in selected)
    other = {f.rule for f in _check(tmp_path, body, settings="checks:\n  quadrants:\n    strategic: {ignore: [KAM2]}\n",
                                    name="other").findings}
    assert "KAM201" in other  # the policy of another quadrant does not apply
    unscored = {f.rule for f in _check(tmp_path, "strategy: {}\n", settings="checks:\n  quadrants:\n    unscored: {ignore: [KAM2]}\n",
                                       name="unscored").findings}
    assert "KAM201" not in unscored


def test_select_and_ignore_take_prefixes(tmp_path):
    from kamctl.checks import run
    from kamctl.loader import load_workspace

    root = make_workspace(tmp_path / "ws", {"acc": _account("strategy: {}\n")})
    ws = load_workspace(root)
    assert {f.rule for f in run(ws, AS_OF, select=["KAM2"]).findings} == {"KAM201", "KAM202", "KAM203"}
    assert {f.rule for f in run(ws, AS_OF, select=["KAM2"], ignore=["KAM202,KAM203"]).findings} == {"KAM201"}
    assert "KAM201" not in {f.rule for f in run(ws, AS_OF, ignore=["kam20"]).findings}


def test_manual_alert_takes_its_own_severity_unless_kam_yaml_sets_one(tmp_path):
    body = "performance:\n  alerts:\n    - {date: 2026-06-01, message: Churn risk, severity: error}\n"
    assert [f.severity.value for f in _check(tmp_path, body, "KAM702").findings] == ["error"]
    forced = _check(tmp_path, body, "KAM702", settings="checks:\n  rules: {KAM702: info}\n", name="forced")
    assert [f.severity.value for f in forced.findings] == ["info"]


def test_date_rules_use_as_of(tmp_path):
    body = CASES["KAM305"][0]
    assert _check(tmp_path, body, "KAM305", as_of=dt.date(2026, 5, 31)).findings == []
    assert len(_check(tmp_path, body, "KAM305", as_of=dt.date(2026, 6, 1), name="later").findings) == 1


def test_invalid_account_gives_schema_findings_and_no_checks(tmp_path):
    from kamctl.checks import run
    from kamctl.loader import load_workspace

    root = make_workspace(tmp_path / "ws", {"bad": "name: B\nstrategy: {barriers: 3, colour: red}\n",
                                            "good": _account(CHARTER_FULL)})
    result = run(load_workspace(root), AS_OF, select=["KAM2"])
    bad = [f for f in result.findings if f.account == "bad"]
    assert bad and all(f.rule.startswith("KAM1") for f in bad)
    assert "bad" not in result.completeness and "good" in result.completeness
    assert result.findings == sorted(result.findings, key=lambda f: (f.file, f.line, f.column, f.rule))


# --- completeness -----------------------------------------------------------------------------------


def test_completeness_sections(tmp_path):
    empty = _check(tmp_path, "").completeness["acc"]
    assert set(empty) == {"strategy", "plan", "relationships", "pipeline", "performance", "overall"}
    assert all(v == 0 for v in empty.values())
    full_body = (CHARTER_FULL + CASES["KAM304"][1] + dms(("A", "X"), ("B", "Y"), ("C", "Z"))
                 + "opportunities:\n  - {id: o1, title: Film, value: 10, close: 2026-09-30, dormant_problem: Waste, vision: Less waste}\n"
                 + "performance:\n  sales: [{period: 2026, target: 10, achieved: 5, forecast: 10}]\n"
                 + "  surveys: [{date: 2026-01-10, score: 4}]\n")
    full = _check(tmp_path, full_body, name="full").completeness["acc"]
    assert all(v == 100 for v in full.values()), full
    half = _check(tmp_path, _without(CHARTER_FULL, "barriers", "  barriers: []"), name="half").completeness["acc"]
    assert half["strategy"] == 90.0
    assert half["overall"] == round(sum(half[k] for k in ("strategy", "plan", "relationships", "pipeline", "performance")) / 5, 1)


# --- alerts -----------------------------------------------------------------------------------------


def test_alerts_are_the_early_warnings_and_manual_alerts(tmp_path):
    from kamctl.checks import ALERTS, alerts
    from kamctl.loader import load_workspace

    body = "strategy: {}\n" + CASES["KAM404"][0] + CASES["KAM702"][0]
    root = make_workspace(tmp_path / "ws", {"acc": _account(body)})
    ws = load_workspace(root)
    found = alerts(ws.get("acc"), ws.settings, AS_OF)
    codes = {f.rule for f in found}
    assert {"KAM404", "KAM702", "KAM601"} <= codes and codes <= ALERTS
    assert "KAM201" not in codes  # incompleteness is not an alert
    line = next(f.line for f in found if f.rule == "KAM404")
    assert _account(body).splitlines()[line - 1].strip().startswith("last_contact")
    # a bare model works too (no positions), and kam.yaml can switch an alert off
    from kamctl.model.settings import Settings

    off = Settings.model_validate({"checks": {"rules": {"KAM702": "off"}}})
    assert "KAM702" not in {f.rule for f in alerts(ws.get("acc").account, off, AS_OF)}


# --- performance measures ---------------------------------------------------------------------------


def test_period_bounds_and_pro_rata():
    from kamctl.model.account import SalesPeriod
    from kamctl.report import period_bounds, pro_rata

    assert period_bounds("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert period_bounds("2024-Q1") == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert period_bounds("2026") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    year = SalesPeriod(period="2026", target=365.0)
    assert pro_rata(year, dt.date(2026, 12, 31))["pro_rata_target"] == pytest.approx(365.0)
    assert pro_rata(year, dt.date(2026, 1, 10))["pro_rata_target"] == pytest.approx(10.0)
    assert pro_rata(year, dt.date(2027, 1, 1)) is None


def test_quarter_behind_is_found(tmp_path):
    body = "performance:\n  sales:\n    - {period: 2026-Q2, target: 900, achieved: 100}\n    - {period: 2026-Q1, target: 900, achieved: 100}\n"
    found = _check(tmp_path, body, "KAM603").findings
    assert len(found) == 1 and "2026-Q2" in found[0].message


def test_performance_measures(tmp_path):
    from kamctl.assessment import assess
    from kamctl.report import portfolio
    from kamctl.loader import load_workspace

    body = (dms(("A", "X"), ("B", "")).replace("last_contact: 2026-06-01", "strength: 4")
            + "opportunities:\n"
            "  - {id: a, title: A, stage: identification}\n"
            "  - {id: b, title: B, stage: qualification}\n"
            "  - {id: c, title: C, stage: closing, decision: {decision: go, reason: r}}\n"
            "  - id: d\n    title: D\n    stage: lost\n    history: [{stage: pursuit, date: 2026-01-01}, {stage: lost, date: 2026-02-01}]\n"
            "performance:\n"
            "  sales: [{period: 2026, target: 1000, achieved: 250, forecast: 900}]\n"
            "  surveys: [{date: 2025-06-01, score: 4.0}, {date: 2026-06-01, score: 3.0}]\n"
            "  alerts: [{date: 2026-06-01, message: m}]\n")
    root = make_workspace(tmp_path / "ws", {"acc": _account(body)})
    ws = load_workspace(root)
    m = assess(ws.get("acc"), ws.settings, AS_OF).performance
    assert m["opportunities"]["identified"] == 4
    assert m["opportunities"]["qualified"] == 3  # b, c, and d through its history
    assert m["opportunities"]["pursued"] == 2
    assert (m["sales"]["target"], m["sales"]["achieved"], m["sales"]["forecast"]) == (1000, 250, 900)
    assert m["sales"]["attainment_percent"] == 25.0 and m["sales"]["currency"] == "EUR"
    assert m["relationships"] == {"decision_makers": 2, "covered": 1, "coverage_percent": 50.0, "average_strength": 4.0}
    assert (m["satisfaction"]["latest"], m["satisfaction"]["trend"]) == (3.0, "down")
    assert m["alerts"]["count"] >= 3 and m["alerts"]["by_rule"]["KAM702"] == 1
    total = portfolio([m, m], ws.settings)
    assert total["opportunities"]["identified"] == 8
    assert total["sales"]["EUR"]["target"] == 2000 and total["sales"]["EUR"]["attainment_percent"] == 25.0
    assert total["alerts"]["count"] == 2 * m["alerts"]["count"]


def test_hunter_rule_agrees_with_scoring(tmp_path):
    """KAM503 fires exactly when scoring says the account is ready to farm."""
    from kamctl.scoring import ready_to_farm
    from kamctl.loader import load_workspace

    for i, (body, _) in enumerate([CASES["KAM503"], CASES["KAM503"][::-1]]):
        root = make_workspace(tmp_path / f"w{i}", {"acc": _account(body)})
        ws = load_workspace(root)
        fired = bool(_check(tmp_path, body, "KAM503", name=f"c{i}").findings)
        assert fired == ready_to_farm(ws.get("acc").account)


# --- the README documents the rules and the policy --------------------------------------------------


def _readme_check_section() -> str:
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Checking plans", 1)[1].split("\n## ", 1)[0]


def test_readme_lists_every_check_rule():
    import re

    from kamctl.checks import CHECKS

    listed = dict(re.findall(r"^\| (KAM\d{3}) \| ([a-z0-9-]+) \|", _readme_check_section(), re.M))
    assert listed == {code: rule.name for code, (rule, _) in CHECKS.items() if not code.startswith("KAM8")}


def test_readme_snippets_are_valid():
    import re

    import yaml

    from kamctl.model.settings import Settings

    blocks = re.findall(r"```yaml\n(.*?)```", _readme_check_section(), re.S)
    policy = next(yaml.safe_load(b) for b in blocks if b.startswith("checks:"))
    settings = Settings.model_validate(policy)
    from kamctl.checks import policy_problems

    assert policy_problems(settings) == []
    workflow = next(yaml.safe_load(b) for b in blocks if b.startswith("name:"))
    steps = workflow["jobs"]["check"]["steps"]
    assert any("kamctl check" in s.get("run", "") for s in steps)
    assert "pull_request" in str(workflow[True])  # PyYAML reads the `on:` key as True
