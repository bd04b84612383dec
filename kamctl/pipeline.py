"""The opportunities pipeline: stage machine, transitions, values, forecast, funnel, stale.

Plain functions over the models: they take accounts and settings and return plain data
(JSON-able dicts and lists). Nothing here prints, exits or touches files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kamctl.ids import slugify
from kamctl.model.account import (CHAIN, DECISIONS, FINAL_STAGES, GATE, GATE_QUESTIONS, OPEN_STAGES, OUTCOMES, PAST_GATE,
                                  QUALIFICATION, WON_STAGES, Account, ForecastCategory, Opportunity, Stage, filled)
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
        "forecast_category": opp.forecast_category().value,
        "qualification": qualification(opp)["score"],
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
    return {"opportunities": rows, "open_value": open_value, "weighted_value": weighted,
            "measures": measures(account.opportunities, settings, as_of)}


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
    qualification: dict[str, str] | None = None  # MEDDPICC fields to set (the others stay as they are)


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
                note: str | None = None, account_id: str = "ACCOUNT", answers: dict[str, str] | None = None,
                fields: dict[str, str] | None = None, required: Any = ()) -> Change:
    """Record go (-> pursuit) or no_go (-> no_go) at the decision stage, with the answers to the gate
    questions (compete, win, worth) and MEDDPICC fields given; a go needs every name in required
    (kam.yaml pipeline.gate.require) recorded, now or before."""
    if decision not in DECISIONS:
        raise Refused(f"decision must be go or no-go, not {decision!r}")
    if opp.stage is not GATE:
        raise Refused(f"decisions are recorded at the decision stage; {_where(opp, account_id)}")
    if not reason or not reason.strip():
        raise Refused("a decision needs --reason saying why")
    answers = {k: v for k, v in (answers or {}).items() if v is not None}
    fields = {k: v for k, v in (fields or {}).items() if filled(v)}
    missing = gate_missing(opp, required, answers, fields) if decision == "go" else []
    if missing:
        flags = " ".join(f"--{name.replace('_', '-')} ..." for name in missing)
        raise Refused(f"kam.yaml pipeline.gate.require needs {', '.join(missing)} recorded before a go: "
                      f"give {flags}")
    target = DECISIONS[decision]
    record: dict[str, Any] = {"decision": decision, "reason": reason}
    if by:
        record["by"] = by
    record["date"] = date
    previous = opp.decision
    for name in GATE_QUESTIONS:  # an answer given before (a decision recorded by hand) is kept
        answer = answers.get(name) or (getattr(previous, name) if previous is not None else None)
        if answer is not None:
            record[name] = answer
    return Change(target, _entry(target, date, note, decision=decision, reason=reason, by=by), record,
                  {k: fields[k] for k in QUALIFICATION if k in fields} or None)


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
    currency when the rates cover every currency, else null). funnel: counts of opportunities that
    reached identification, qualification, pursuit and contract in the calendar year of as_of, up to
    as_of (period counts, with no rate: each step counts whoever reached it then), and the cohort of
    those identified in that period followed to where they are (the conversions). measures: win
    rate, days per stage, cycle length and forecast categories over every opportunity.
    forecast: weighted value of open opportunities by quarter of expected close (first those overdue,
    expected before as_of; last those with no close date). stale: open or
    won opportunities longer in their stage than its stale_days.
    """
    company = settings.company.currency
    rows: list[dict[str, Any]] = []
    by_stage = {s: {"count": 0, "value": {}, "weighted": {}} for s in Stage}
    forecast: dict[str, dict[str, Any]] = {}
    start = period_start(as_of)
    funnel = {name: 0 for name, _ in FUNNEL}
    for account_id, account in accounts:
        for opp in account.opportunities:
            row = {"account": account_id, **opportunity_row(opp, settings, as_of),
                   "qualification_missing": qualification(opp)["missing"]}
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
    every = [opp for _, account in accounts for opp in account.opportunities]
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
                   "counts": funnel, "cohort": cohort_funnel(every, start, as_of)},
        "measures": measures(every, settings, as_of),
        "forecast": forecast_rows,
        "stale": stale,
        "opportunities": rows,
    }


# --- measures: qualification, win rate, days per stage, cycle length, cohort funnel -----------------


def qualification(opp: Opportunity) -> dict[str, Any]:
    """The MEDDPICC score: how many of the qualification fields are filled in, and which are not."""
    q = opp.qualification
    missing = [name for name in QUALIFICATION if q is None or not filled(getattr(q, name))]
    return {"score": len(QUALIFICATION) - len(missing), "of": len(QUALIFICATION), "missing": missing}


def gate_missing(opp: Opportunity, required: Any, answers: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    """The kam.yaml pipeline.gate.require names neither recorded on the opportunity nor given now."""
    decision, q = opp.decision, opp.qualification
    out = []
    for name in required:
        if name in GATE_QUESTIONS:
            known = answers.get(name) or (decision is not None and getattr(decision, name))
        else:
            known = filled(fields.get(name)) or (q is not None and filled(getattr(q, name)))
        if not known:
            out.append(name)
    return out


def period_start(as_of: dt.date) -> dt.date:
    """The measures' period runs from 1 January of the as_of year up to as_of (as the funnel)."""
    return dt.date(as_of.year, 1, 1)


def closed_on(opp: Opportunity) -> dt.date | None:
    """When the opportunity was won (reached contract) or lost; None when open, no-go or undated."""
    if opp.stage.is_won:
        return opp.reached_on(WON_STAGES[0])
    if opp.stage is Stage.lost:
        return opp.reached_on(Stage.lost)
    return None


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def win_rate(opps: list[Opportunity], settings: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Won against won plus lost, among the opportunities closed from start to end (a no-go is
    decided against at the gate, never lost). By count, and by value in the company currency when
    the rates cover every currency (else None; the values per currency are there either way)."""
    won = lost = 0
    won_value: dict[str, float] = {}
    lost_value: dict[str, float] = {}
    for opp in opps:
        when = closed_on(opp)
        if when is None or not start <= when <= end:
            continue
        if opp.stage.is_won:
            won += 1
            _add(won_value, currency_of(opp, settings), opp.value)
        else:
            lost += 1
            _add(lost_value, currency_of(opp, settings), opp.value)
    won_company = to_company(won_value, settings)
    lost_company = to_company(lost_value, settings)
    by_value = None
    if won_company is not None and lost_company is not None:
        by_value = _rate(won_company, won_company + lost_company)
    return {"won": won, "lost": lost, "by_count": _rate(won, won + lost), "won_value": won_value,
            "lost_value": lost_value, "by_value": by_value}


def _stays(opp: Opportunity, as_of: dt.date) -> list[tuple[Stage, int]]:
    """(stage, days) for each finished stay in the history: from an entry to the next one, up to as_of."""
    entries = []
    for entry in sorted((h for h in opp.history if h.date <= as_of), key=lambda h: h.date):
        if not entries or entries[-1].stage is not entry.stage:  # a second entry in a stage does not restart it
            entries.append(entry)
    return [(a.stage, (b.date - a.date).days) for a, b in zip(entries, entries[1:])]


def stage_days(opps: list[Opportunity], as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Average days per stage over the finished stays the histories record (the stage an opportunity
    is still in is not finished and not counted), per open stage of the chain."""
    days: dict[Stage, list[int]] = {s: [] for s in OPEN_STAGES}
    for opp in opps:
        for stage, n in _stays(opp, as_of):
            if stage in days:
                days[stage].append(n)
    return {s.value: {"stays": len(v), "average_days": (sum(v) / len(v)) if v else None} for s, v in days.items()}


def cycle_length(opps: list[Opportunity], start: dt.date, end: dt.date) -> dict[str, Any]:
    """Days from first history entry (identified) to close, over the opportunities won or lost from
    start to end; won alone, and won and lost together."""
    won: list[int] = []
    closed: list[int] = []
    for opp in opps:
        when, first = closed_on(opp), opp.reached_on(Stage.identification)
        if when is None or first is None or not start <= when <= end:
            continue
        closed.append((when - first).days)
        if opp.stage.is_won:
            won.append((when - first).days)
    return {"closed": len(closed), "average_days": (sum(closed) / len(closed)) if closed else None,
            "won": len(won), "won_average_days": (sum(won) / len(won)) if won else None}


def _depth(opp: Opportunity, as_of: dt.date) -> int:
    """How far along FUNNEL the opportunity got by as_of: -1 none, 0 identified .. 3 won. A step the
    history dates after as_of is not reached yet; one reached but undated counts as reached."""
    depth = -1
    for i, (_, stage) in enumerate(FUNNEL):
        when = opp.reached_on(stage)
        if (when is not None and when <= as_of) or (when is None and opp.reached(stage)):
            depth = i
    return depth


def cohort_funnel(opps: list[Opportunity], start: dt.date, as_of: dt.date) -> dict[str, Any]:
    """The opportunities identified from start to as_of, followed to wherever they are at as_of:
    each step counts the cohort members that got at least that far, so a count never exceeds the
    one before it and no conversion is above 100%."""
    names = [name for name, _ in FUNNEL]
    counts = {name: 0 for name in names}
    for opp in opps:
        identified = opp.reached_on(FUNNEL[0][1])
        if identified is None or not start <= identified <= as_of:
            continue
        for name in names[:_depth(opp, as_of) + 1]:
            counts[name] += 1
    conversions = [{"from": a, "to": b, "rate": _rate(counts[b], counts[a])} for a, b in zip(names, names[1:])]
    conversions.append({"from": names[0], "to": names[-1], "rate": _rate(counts[names[-1]], counts[names[0]])})
    return {"counts": counts, "conversions": conversions}


def due_weighted(opps: list[Opportunity], settings: Any, end: dt.date) -> dict[str, float]:
    """Weighted value per currency of the open opportunities expected to close by end (overdue ones
    included; those with no close date or a later one are not)."""
    out: dict[str, float] = {}
    for opp in opps:
        if is_open(opp) and opp.close is not None and opp.close <= end:
            _add(out, currency_of(opp, settings), weighted_value(opp, settings))
    return out


def forecast_categories(opps: list[Opportunity], settings: Any) -> list[dict[str, Any]]:
    """Count, value and weighted value per currency in each forecast category."""
    cells = {c: {"category": c.value, "count": 0, "value": {}, "weighted": {}} for c in ForecastCategory}
    for opp in opps:
        cell = cells[opp.forecast_category()]
        cell["count"] += 1
        _add(cell["value"], currency_of(opp, settings), opp.value)
        _add(cell["weighted"], currency_of(opp, settings), weighted_value(opp, settings))
    return list(cells.values())


def measures(opps: list[Opportunity], settings: Any, as_of: dt.date) -> dict[str, Any]:
    """The pipeline measures of a set of opportunities (one account's, or the portfolio's) for the
    period from 1 January of the as_of year up to as_of."""
    start = period_start(as_of)
    return {"period": {"from": start.isoformat(), "to": as_of.isoformat()},
            "win_rate": win_rate(opps, settings, start, as_of),
            "stage_days": stage_days(opps, as_of),
            "cycle": cycle_length(opps, start, as_of),
            "forecast_categories": forecast_categories(opps, settings)}
