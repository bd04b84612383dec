"""Account health 0-100: one explained number per account, from parts already measured.

Health is the weighted mean of up to six parts, each on 0-100: completeness of the plan,
relationship coverage, satisfaction, sales attainment, open alerts and freshness of the plan.
Weights come from kam.yaml (`health.weights`, defaults in kamctl.model.settings.HEALTH_WEIGHTS).
A part that cannot be known (no survey, no sales target, no dated entry) is left out and the
others are weighted up, as a missing factor is in the Key Account Model scores: it is not a zero.
Each part keeps its inputs in words (`basis`), so `kamctl health --explain` can be redone by hand:
health = sum(weight x value) / sum(weight) over the parts known, with each value as shown (one decimal).

Takes plain data (the assessment's completeness and performance) and the account model; nothing
here prints or exits. kamctl.assessment computes it once per account and run; history and diff
(kamctl.movement) use the same function on each commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kamctl.model.account import Account
from kamctl.model.settings import HEALTH_WEIGHTS
from kamctl.present import rounded
from kamctl.report import period_bounds

PARTS = tuple(HEALTH_WEIGHTS)  # the parts, in the order they are explained


def _part(value: float | None, basis: str) -> tuple[float | None, str]:
    return (None if value is None else max(0.0, min(100.0, value))), basis


def _completeness(completeness: dict[str, float]) -> tuple[float | None, str]:
    overall = completeness.get("overall")
    return _part(overall, f"overall completeness of the plan {overall:g}%" if overall is not None else "")


def _relationships(performance: dict) -> tuple[float | None, str]:
    rel = performance["relationships"]
    if not rel["decision_makers"]:
        return _part(0.0, "no decision maker mapped: nobody is covered")
    return _part(rel["covered"] / rel["decision_makers"] * 100,
                 f"{rel['covered']} of {rel['decision_makers']} decision makers have a counterpart")


def _satisfaction(performance: dict) -> tuple[float | None, str]:
    latest = performance["satisfaction"]["latest"]
    if latest is None:
        return None, "no survey with a score up to this date"
    return _part((latest - 1) / 4 * 100, f"latest survey {latest:g} on 1-5: ({latest:g} - 1) / 4 x 100")


def _attainment(performance: dict, as_of: dt.date) -> tuple[float | None, str]:
    sales = performance["sales"]
    target, achieved = sales["target"], sales["achieved"]
    bounds = period_bounds(sales["period"]) if sales["period"] else None
    if not target or achieved is None or bounds is None or not bounds[0] <= as_of <= bounds[1]:
        return None, f"no sales target and achieved for {as_of.year}"
    elapsed, days = (as_of - bounds[0]).days + 1, (bounds[1] - bounds[0]).days + 1
    due = target * elapsed / days
    return _part(achieved / due * 100, f"achieved {achieved:,.0f} of {due:,.0f} due by now ({target:,.0f} x "
                 f"{elapsed}/{days} days of {sales['period']}), at most 100")


def _alerts(performance: dict, settings: Any) -> tuple[float | None, str]:
    count, points = performance["alerts"]["count"], settings.health.alert_points
    return _part(100 - points * count, f"100 - {points:g} x {count} open alert(s), at least 0")


def newest_entry(account: Account, as_of: dt.date) -> dt.date | None:
    """The newest date, up to as_of, on which the file records something done: an opportunity step,
    a decision, a contact, a survey, an interaction held, an alert raised."""
    dates = [h.date for o in account.opportunities for h in o.history]
    dates += [o.decision.date for o in account.opportunities if o.decision and o.decision.date]
    dates += [d.last_contact for d in account.decision_makers if d.last_contact]
    dates += [s.date for s in account.performance.surveys]
    dates += [i.date for i in account.interactions if i.status == "done"]
    dates += [a.date for a in account.performance.alerts]
    past = [d for d in dates if d <= as_of]
    return max(past) if past else None


def _freshness(account: Account, settings: Any, as_of: dt.date) -> tuple[float | None, str]:
    newest = newest_entry(account, as_of)
    if newest is None:
        return None, "no dated entry up to this date"
    days, fresh, stale = (as_of - newest).days, settings.health.fresh_days, settings.checks.limits.stale_plan_days
    basis = f"newest entry {newest.isoformat()}, {days} days ago; 100 up to {fresh} days, 0 from {stale} days"
    if days <= fresh:
        return _part(100.0, basis)
    if days >= stale:
        return _part(0.0, basis)
    return _part((stale - days) / (stale - fresh) * 100, basis + f", between: ({stale} - {days}) / ({stale} - {fresh}) x 100")


def health(account: Account, completeness: dict[str, float], performance: dict, settings: Any,
           as_of: dt.date) -> dict[str, Any]:
    """Health of one account: score (0-100, one decimal; None when no part is known), and per part
    its value, weight, contribution (weight x value / sum of the known weights) and basis."""
    weights = settings.health.weights.model_dump()
    found = {"completeness": _completeness(completeness), "relationships": _relationships(performance),
             "satisfaction": _satisfaction(performance), "attainment": _attainment(performance, as_of),
             "alerts": _alerts(performance, settings), "freshness": _freshness(account, settings, as_of)}
    shown = {p: rounded(found[p][0]) for p in PARTS}  # the score is computed from the values as shown
    known = [p for p in PARTS if shown[p] is not None and weights[p] > 0]
    total = sum(weights[p] for p in known)
    parts = []
    for p in PARTS:
        value, basis = shown[p], found[p][1]
        used = p in known
        parts.append({"part": p, "value": value, "weight": weights[p],
                      "contribution": rounded(weights[p] * value / total) if used and total else None,
                      "basis": basis if weights[p] > 0 else "weight 0: left out"})
    score = sum(weights[p] * shown[p] for p in known) / total if total else None  # type: ignore[operator]
    return {"score": rounded(score), "weight_total": total,
            "missing": [p for p in PARTS if shown[p] is None and weights[p] > 0], "parts": parts}
