"""KAM performance measures (stage 4): opportunities, sales, relationships, satisfaction, alerts.

Plain functions over the models returning JSON-able dicts; nothing here prints or exits.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable, Sequence

from kamctl.model.account import Account, Opportunity, Stage, filled
from kamctl.pipeline import due_weighted, measures as pipeline_measures
from kamctl.present import missing_rates, to_company

_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a sales period: '2026' or '2026-Q3'."""
    m = _PERIOD.match(period)
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2) is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    q = int(m.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def pro_rata(period: Any, as_of: dt.date) -> dict | None:
    """For a period containing as_of with a target: the share of the year/quarter elapsed
    (as_of counted as elapsed) and the matching share of the target. None otherwise."""
    bounds = period_bounds(period.period)
    if bounds is None or period.target is None or not bounds[0] <= as_of <= bounds[1]:
        return None
    start, end = bounds
    share = ((as_of - start).days + 1) / ((end - start).days + 1)
    return {"elapsed_percent": share * 100, "pro_rata_target": period.target * share}


def _sales(account: Account, settings: Any, as_of: dt.date) -> dict:
    """The sales of the year containing as_of: its annual period, else its quarters added."""
    year = str(as_of.year)
    periods = [p for p in account.performance.sales if p.period == year]
    if not periods:
        periods = [p for p in account.performance.sales if p.period.startswith(year + "-Q")]
    def total(attr: str) -> float | None:
        values = [getattr(p, attr) for p in periods if getattr(p, attr) is not None]
        return sum(values) if values else None
    target, achieved, forecast = total("target"), total("achieved"), total("forecast")
    company = settings.company.currency
    currency = next((p.currency for p in periods if p.currency), None) or account.currency(company)
    return {
        "period": year if periods else None,
        "currency": currency,
        "target": target,
        "achieved": achieved,
        "forecast": forecast,
        "attainment_percent": round(achieved / target * 100, 1) if target and achieved is not None else None,
        "forecast_percent": round(forecast / target * 100, 1) if target and forecast is not None else None,
    }


def _ratio(weighted: dict[str, float], remaining: dict[str, float], settings: Any) -> float | None:
    """weighted / remaining: directly when both are in one currency, else in the company currency
    (None when a rate is missing or nothing remains to reach)."""
    currencies = set(weighted) | set(remaining)
    if len(currencies) <= 1:
        whole, part = sum(remaining.values()), sum(weighted.values())
    else:
        whole, part = to_company(remaining, settings), to_company(weighted, settings)
        if whole is None or part is None:
            return None
    return part / whole if whole else None


def _coverage(account: Account, settings: Any, as_of: dt.date, sales: dict) -> dict:
    """Pipeline coverage of the year of as_of: the weighted value of open opportunities expected to
    close by its end (overdue ones too) against the target still to reach (target - achieved, at
    least 0). No target: no coverage; target reached: nothing to cover (null)."""
    end = dt.date(as_of.year, 12, 31)
    weighted = due_weighted(account.opportunities, settings, end)
    remaining: dict[str, float] = {}
    if sales["target"] is not None:
        remaining[sales["currency"]] = max(sales["target"] - (sales["achieved"] or 0.0), 0.0)
    return {"until": end.isoformat(), "weighted": weighted, "remaining": remaining,
            "ratio": _ratio(weighted, remaining, settings) if remaining else None}


def _satisfaction(account: Account, as_of: dt.date) -> dict:
    scored = sorted((s for s in account.performance.surveys if s.score is not None and s.date <= as_of),
                    key=lambda s: s.date)
    latest = scored[-1] if scored else None
    previous = scored[-2] if len(scored) > 1 else None
    trend = None
    if latest and previous:
        trend = "up" if latest.score > previous.score else "down" if latest.score < previous.score else "flat"
    return {
        "latest": latest.score if latest else None,
        "latest_date": latest.date.isoformat() if latest else None,
        "previous": previous.score if previous else None,
        "trend": trend,
        "surveys": len(account.performance.surveys),
    }


def _relationships(account: Account) -> dict:
    dms = account.decision_makers
    covered = [d for d in dms if filled(d.counterpart)]
    strengths = [d.strength for d in dms if d.strength is not None]
    return {
        "decision_makers": len(dms),
        "covered": len(covered),
        "coverage_percent": round(len(covered) / len(dms) * 100, 1) if dms else None,
        "average_strength": round(sum(strengths) / len(strengths), 2) if strengths else None,
    }


def performance(account: Account, settings: Any, as_of: dt.date, account_id: str | None = None,
                alerts: Sequence[Any] = ()) -> dict:
    """The KAM performance measures of one account at as_of; alerts: its early-warning findings
    (kamctl.assessment runs the alert rules once and passes them here)."""
    opps = account.opportunities
    sales = _sales(account, settings, as_of)
    return {
        "account": account_id,
        "name": account.name,
        "opportunities": {
            "identified": len(opps),
            "qualified": sum(o.reached(Stage.qualification) for o in opps),
            "pursued": sum(o.reached(Stage.pursuit) for o in opps),
            "won": sum(o.stage.is_won for o in opps),
            "open": sum(o.stage.is_open for o in opps),
        },
        "sales": sales,
        "coverage": _coverage(account, settings, as_of, sales),
        "relationships": _relationships(account),
        "satisfaction": _satisfaction(account, as_of),
        "alerts": {
            "count": len(alerts),
            "by_rule": {code: sum(f.rule == code for f in alerts) for code in sorted({f.rule for f in alerts})},
        },
    }


def portfolio(measures: Iterable[dict], settings: Any) -> dict:
    """Roll-up of per-account measures: counts added, averages of averages, sales added per currency
    and, when kam.yaml's pipeline.rates cover every currency (as `pipeline` converts), in the
    company currency (sales_company; else None and rates_missing names the currencies)."""
    rows = list(measures)
    opp_keys = ("identified", "qualified", "pursued", "won", "open")
    sales: dict[str, dict] = {}
    for r in rows:
        s = r["sales"]
        if s["target"] is None and s["achieved"] is None and s["forecast"] is None:
            continue
        t = sales.setdefault(s["currency"], {"target": 0.0, "achieved": 0.0, "forecast": 0.0})
        for k in ("target", "achieved", "forecast"):
            t[k] += s[k] or 0.0
    for t in sales.values():
        t["attainment_percent"] = round(t["achieved"] / t["target"] * 100, 1) if t["target"] else None
    missing = missing_rates(sales, settings)
    company = None
    if not missing:
        company = {"currency": settings.company.currency,
                   **{k: to_company({c: t[k] for c, t in sales.items()}, settings)
                      for k in ("target", "achieved", "forecast")}}
        company["attainment_percent"] = (round(company["achieved"] / company["target"] * 100, 1)
                                         if company["target"] else None)
    weighted: dict[str, float] = {}
    remaining: dict[str, float] = {}
    for r in rows:
        for into, part in ((weighted, r["coverage"]["weighted"]), (remaining, r["coverage"]["remaining"])):
            for cur, amount in part.items():
                into[cur] = into.get(cur, 0.0) + amount
    dms = sum(r["relationships"]["decision_makers"] for r in rows)
    covered = sum(r["relationships"]["covered"] for r in rows)
    strengths = [r["relationships"]["average_strength"] for r in rows if r["relationships"]["average_strength"] is not None]
    latest = [r["satisfaction"]["latest"] for r in rows if r["satisfaction"]["latest"] is not None]
    trends = [r["satisfaction"]["trend"] for r in rows if r["satisfaction"]["trend"]]
    return {
        "accounts": len(rows),
        "opportunities": {k: sum(r["opportunities"][k] for r in rows) for k in opp_keys},
        "sales": sales,
        "sales_company": company,
        "rates_missing": missing,
        "coverage": {"weighted": weighted, "remaining": remaining,
                     "ratio": _ratio(weighted, remaining, settings) if remaining else None},
        "relationships": {
            "decision_makers": dms,
            "covered": covered,
            "coverage_percent": round(covered / dms * 100, 1) if dms else None,
            "average_strength": round(sum(strengths) / len(strengths), 2) if strengths else None,
        },
        "satisfaction": {
            "average_latest": round(sum(latest) / len(latest), 2) if latest else None,
            "surveyed_accounts": len(latest),
            "trend": {k: trends.count(k) for k in ("up", "flat", "down")},
        },
        "alerts": {"count": sum(r["alerts"]["count"] for r in rows),
                   "accounts_with_alerts": sum(1 for r in rows if r["alerts"]["count"])},
    }


def least_healthy_first(row: dict) -> tuple:
    """Sort key: lowest health first, accounts without a health last."""
    score = (row.get("health") or {}).get("score")
    return (score is None, score if score is not None else 0.0)


def report(measures: Iterable[dict], settings: Any, as_of: dt.date,
           opportunities: Sequence[Opportunity] = ()) -> dict:
    """The accounts' measures (their assessments' performance, health and pipeline measures), least
    healthy first (no health last), and the portfolio roll-up with the pipeline measures over every
    opportunity."""
    rows = sorted(measures, key=least_healthy_first)  # stable: ties keep the given order
    return {"as_of": as_of.isoformat(), "accounts": rows,
            "portfolio": {**portfolio(rows, settings), "pipeline": pipeline_measures(list(opportunities), settings, as_of)}}
