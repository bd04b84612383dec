"""The opportunities pipeline: stage machine, transitions, values, forecast, funnel, stale.

Plain functions over the models: they take accounts and settings and return plain data
(JSON-able dicts and lists). Nothing here prints, exits or touches files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kamctl.ids import slugify
from kamctl.model.account import (CHAIN, DECISIONS, FINAL_STAGES, GATE, OUTCOMES, PAST_GATE, WON_STAGES, Account,
                                  Opportunity, Stage)
from kamctl.present import to_company


def days_in_stage(opp: Opportunity, as_of: dt.date) -> int | None:
    """Days since the opportunity entered its current stage (last history entry for it); None if unknown."""
    entered = opp.entered_stage()
    if entered is None:
        return None
    return (as_of - entered).days


def stale_by(opp: Opportunity, settings: Any, as_of: dt.date) -> int | None:
    """Days over the stage's stale_days limit at as_of; None when not stale, no limit or no history."""
    limit = settings.pipeline.stages[opp.stage].stale_days
    days = days_in_stage(opp, as_of)
    if limit is None or days is None or days <= limit:
        return None
    return days - limit


def probability(opp: Opportunity, settings: Any) -> float:
    """Win probability of the opportunity's stage (kam.yaml pipeline.stages)."""
    return settings.pipeline.stages[opp.stage].probability


def currency_of(opp: Opportunity, settings: Any) -> str:
    """The opportunity's currency, else the company currency."""
    return opp.currency or settings.company.currency


def weighted_value(opp: Opportunity, settings: Any) -> float | None:
    """value x probability, in the opportunity's currency; None when it has no value."""
    if opp.value is None:
        return None
    return opp.value * probability(opp, settings)


def is_open(opp: Opportunity) -> bool:
    return opp.stage.is_open


def _add(totals: dict[str, float], currency: str, amount: float | None) -> None:
    if amount is not None:
        totals[currency] = totals.get(currency, 0.0) + amount


def opportunity_row(opp: Opportunity, settings: Any, as_of: dt.date) -> dict[str, Any]:
    """One opportunity as plain data."""
    return {
        "id": opp.id,
        "title": opp.title,
        "stage": opp.stage.value,
        "value": opp.value,
        "currency": currency_of(opp, settings),
        "probability": probability(opp, settings),
        "weighted": weighted_value(opp, settings),
        "close": opp.close.isoformat() if opp.close else None,
        "days_in_stage": days_in_stage(opp, as_of),
        "stale_by": stale_by(opp, settings, as_of),
    }


def account_pipeline(account: Account, settings: Any, as_of: dt.date) -> dict[str, Any]:
    """An account's opportunities and its open and weighted values per currency (open stages only)."""
    open_value: dict[str, float] = {}
    weighted: dict[str, float] = {}
    rows = []
    for opp in account.opportunities:
        rows.append(opportunity_row(opp, settings, as_of))
        if is_open(opp):
            cur = currency_of(opp, settings)
            _add(open_value, cur, opp.value)
            _add(weighted, cur, weighted_value(opp, settings))
    return {"opportunities": rows, "open_value": open_value, "weighted_value": weighted}


# --- the stage machine ------------------------------------------------------------------------------

# the stage `opp advance` moves to without --to; decision is left by decide, closing by close
_ADVANCE_NEXT = {Stage.identification: Stage.qualification, Stage.qualification: Stage.decision,
                 Stage.pursuit: Stage.closing, Stage.contract: Stage.engagement}
_CLOSABLE = (Stage.pursuit, Stage.closing)


class Refused(Exception):
    """An edit the stage machine does not allow; the message says what to do instead."""


@dataclass
class Change:
    """What an edit does to one opportunity: its new stage, the history entry, maybe a decision."""

    stage: Stage
    entry: dict[str, Any]  # plain, in the key order written to the file
    decision: dict[str, Any] | None = None


def next_steps(opp: Opportunity, account_id: str = "ACCOUNT") -> list[str]:
    """The commands that may move this opportunity on, as the user would type them."""
    ref = f"{account_id} {opp.id}"
    stage = opp.stage
    steps = []
    if stage in _ADVANCE_NEXT:
        steps.append(f"`kamctl opp advance {ref}` (to {_ADVANCE_NEXT[stage].value})")
    if stage is GATE:
        steps.append(f"`kamctl opp decide {ref} go|no-go --reason TEXT`")
    if stage in _CLOSABLE:
        steps.append(f"`kamctl opp close {ref} won|lost`")
    return steps


def _where(opp: Opportunity, account_id: str) -> str:
    steps = next_steps(opp, account_id)
    if not steps:
        return f"'{opp.id}' is at {opp.stage.label}, a final stage: nothing comes after it"
    return f"'{opp.id}' is at {opp.stage.label}; the next step is " + " or ".join(steps)


def _entry(stage: Stage, date: dt.date, note: str | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"stage": stage.value, "date": date}
    entry.update({k: v for k, v in extra.items() if v is not None})
    if note:
        entry["note"] = note
    return entry


def plan_advance(opp: Opportunity, date: dt.date, to: Stage | None = None, force: bool = False,
                 note: str | None = None, account_id: str = "ACCOUNT") -> Change:
    """Move one step forward (or, with force and a note, skip forward to `to`)."""
    stage = opp.stage
    if stage in FINAL_STAGES:
        raise Refused(f"{_where(opp, account_id)}; add a new opportunity with `kamctl opp add {account_id} --title ...`")
    if stage is GATE:
        raise Refused(f"'{opp.id}' is at decision: it leaves decision only with a recorded decision, "
                      f"`kamctl opp decide {account_id} {opp.id} go|no-go --reason TEXT`")
    if to is not None and to not in CHAIN:
        how = "decide no-go" if to is Stage.no_go else "close lost"
        raise Refused(f"{to.value} is reached with `kamctl opp {how}`, not advance; {_where(opp, account_id)}")
    natural = _ADVANCE_NEXT.get(stage)
    target = to or natural
    if target is None:  # closing without --to
        raise Refused(f"{_where(opp, account_id)} (winning is `close won`)")
    if stage.at_or_past(target):
        raise Refused(f"stages only move forward: {target.value} is not after {stage.value}; {_where(opp, account_id)}")
    if target is natural:
        return Change(target, _entry(target, date, note))
    if not force:
        raise Refused(f"{stage.value} -> {target.value} skips a stage; {_where(opp, account_id)}, "
                      "or skip with --force --note WHY (recorded as forced)")
    if not note:
        raise Refused("--force needs --note saying why the stages are skipped")
    decided_go = opp.decision is not None and opp.decision.decision == "go"
    if not stage.at_or_past(GATE) and target in PAST_GATE and not decided_go:
        raise Refused(f"'{opp.id}' cannot skip past decision without a go decision: advance it to decision "
                      f"(--to decision), then `kamctl opp decide {account_id} {opp.id} go|no-go --reason TEXT`")
    return Change(target, _entry(target, date, note, forced=True))


def plan_decide(opp: Opportunity, decision: str, reason: str, date: dt.date, by: str | None = None,
                note: str | None = None, account_id: str = "ACCOUNT") -> Change:
    """Record go (-> pursuit) or no_go (-> no_go) at the decision stage."""
    if decision not in DECISIONS:
        raise Refused(f"decision must be go or no-go, not {decision!r}")
    if opp.stage is not GATE:
        raise Refused(f"decisions are recorded at the decision stage; {_where(opp, account_id)}")
    if not reason or not reason.strip():
        raise Refused("a decision needs --reason saying why")
    target = DECISIONS[decision]
    record: dict[str, Any] = {"decision": decision, "reason": reason}
    if by:
        record["by"] = by
    record["date"] = date
    return Change(target, _entry(target, date, note, decision=decision, reason=reason, by=by), record)


def close_problem(outcome: str, reason: str | None) -> str | None:
    """Why a close cannot be recorded as given (None: it can): a loss must say why it was lost."""
    if outcome not in OUTCOMES:
        return f"outcome must be won or lost, not {outcome!r}"
    if outcome == "lost" and not (reason and reason.strip()):
        return "closing as lost needs --reason saying why it was lost (e.g. --reason \"Price 20% above the winner\")"
    return None


def plan_close(opp: Opportunity, outcome: str, date: dt.date, note: str | None = None,
               account_id: str = "ACCOUNT", reason: str | None = None) -> Change:
    """won -> contract, lost -> lost; only from pursuit or closing. reason (the win/loss reason, required
    for lost) goes into the history entry."""
    problem = close_problem(outcome, reason)
    if problem:
        raise Refused(problem)
    if opp.stage not in _CLOSABLE:
        raise Refused(f"only opportunities in {' or '.join(s.value for s in _CLOSABLE)} can be closed; "
                      f"{_where(opp, account_id)}")
    target = OUTCOMES[outcome]
    return Change(target, _entry(target, date, note, reason=reason.strip() if reason else None))


def new_id(title: str) -> str:
    """The id `opp add` gives without --id: the title as a slug (a taken one is refused, never renumbered)."""
    return slugify(title)[:60].strip("-") or "opportunity"


# --- the portfolio view -----------------------------------------------------------------------------


def quarter(date: dt.date) -> str:
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


OVERDUE, NO_CLOSE = "overdue", "no close date"  # forecast rows that are not a quarter


def overdue(opp: Opportunity, as_of: dt.date) -> bool:
    """Open with an expected close date before as_of: not forecast into a quarter already past."""
    return is_open(opp) and opp.close is not None and opp.close < as_of


def forecast_key(opp: Opportunity, as_of: dt.date) -> str:
    """The forecast row of an open opportunity: its close quarter, overdue, or no close date."""
    if opp.close is None:
        return NO_CLOSE
    return OVERDUE if opp.close < as_of else quarter(opp.close)


FUNNEL = (("identified", Stage.identification), ("qualified", Stage.qualification),
          ("pursued", Stage.pursuit), ("won", WON_STAGES[0]))


def portfolio_pipeline(accounts: list[tuple[str, Account]], settings: Any, as_of: dt.date) -> dict[str, Any]:
    """Everything `kamctl pipeline` shows, as plain data.

    stages: count, value and weighted value per currency for every stage (and in the company
    currency when the rates cover every currency, else null). funnel: opportunities that reached
    identification, qualification, pursuit and contract in the calendar year of as_of, up to as_of.
    forecast: weighted value of open opportunities by quarter of expected close (first those overdue,
    expected before as_of; last those with no close date). stale: open or
    won opportunities longer in their stage than its stale_days.
    """
    company = settings.company.currency
    rows: list[dict[str, Any]] = []
    by_stage = {s: {"count": 0, "value": {}, "weighted": {}} for s in Stage}
    forecast: dict[str, dict[str, Any]] = {}
    start = dt.date(as_of.year, 1, 1)
    funnel = {name: 0 for name, _ in FUNNEL}
    for account_id, account in accounts:
        for opp in account.opportunities:
            row = {"account": account_id, **opportunity_row(opp, settings, as_of)}
            rows.append(row)
            cell = by_stage[opp.stage]
            cell["count"] += 1
            _add(cell["value"], row["currency"], opp.value)
            _add(cell["weighted"], row["currency"], row["weighted"])
            if is_open(opp):
                key = forecast_key(opp, as_of)
                bucket = forecast.setdefault(key, {"quarter": key, "count": 0, "weighted": {}})
                bucket["count"] += 1
                _add(bucket["weighted"], row["currency"], row["weighted"])
            for name, stage in FUNNEL:
                when = opp.reached_on(stage)
                if when is not None and start <= when <= as_of:
                    funnel[name] += 1
    stages = []
    for stage in Stage:
        cell = by_stage[stage]
        stages.append({"stage": stage.value, "probability": settings.pipeline.stages[stage].probability,
                       "count": cell["count"], "value": cell["value"], "weighted": cell["weighted"],
                       "value_company": to_company(cell["value"], settings),
                       "weighted_company": to_company(cell["weighted"], settings)})
    open_value: dict[str, float] = {}
    open_weighted: dict[str, float] = {}
    for cell in stages:
        if Stage(cell["stage"]).is_open:
            for cur, amount in cell["value"].items():
                _add(open_value, cur, amount)
            for cur, amount in cell["weighted"].items():
                _add(open_weighted, cur, amount)
    names = [name for name, _ in FUNNEL]
    conversions = [{"from": a, "to": b, "rate": (funnel[b] / funnel[a]) if funnel[a] else None}
                   for a, b in zip(names, names[1:])]
    conversions.append({"from": names[0], "to": names[-1],
                        "rate": (funnel[names[-1]] / funnel[names[0]]) if funnel[names[0]] else None})
    quarters = [OVERDUE] * (OVERDUE in forecast) + sorted(q for q in forecast if q not in (OVERDUE, NO_CLOSE))
    quarters += [NO_CLOSE] * (NO_CLOSE in forecast)
    forecast_rows = []
    for key in quarters:
        bucket = forecast[key]
        bucket["weighted_company"] = to_company(bucket["weighted"], settings)
        forecast_rows.append(bucket)
    stale = [{"account": r["account"], "id": r["id"], "title": r["title"], "stage": r["stage"],
              "days_in_stage": r["days_in_stage"],
              "stale_days": settings.pipeline.stages[Stage(r["stage"])].stale_days, "stale_by": r["stale_by"]}
             for r in rows if r["stale_by"] is not None]
    stale.sort(key=lambda s: -s["stale_by"])
    return {
        "as_of": as_of.isoformat(),
        "company_currency": company,
        "stages": stages,
        "open": {"value": open_value, "weighted": open_weighted,
                 "value_company": to_company(open_value, settings),
                 "weighted_company": to_company(open_weighted, settings)},
        "funnel": {"period": {"from": start.isoformat(), "to": as_of.isoformat()},
                   "counts": funnel, "conversions": conversions},
        "forecast": forecast_rows,
        "stale": stale,
        "opportunities": rows,
    }
