"""What comes due in the next days: the other side of `check`, which speaks only once a thing is late.

Each item is a day something must be done by so that a rule does not fire: a tactic's due date
(KAM305 the day after), the last day of contact before a decision maker goes cold (last_contact
+ checks.limits.contact_days, KAM404 the day after), the latest survey + checks.limits.survey_days
(KAM601), an open opportunity's expected close, the last day in its stage before it is stale
(pipeline.stages.STAGE.stale_days, as pipeline.stale_by counts), and the end of the plan's year
(KAM802). Items already overdue are check's; the agenda holds those from as_of to as_of + days.
Plain data in, plain items out: nothing here prints or reads files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Iterator

from kamctl.checks.performance import surveys_by_date
from kamctl.checks.plan import OPEN_TACTIC
from kamctl.model.account import Account
from kamctl.pipeline import currency_of, is_open
from kamctl.present import money

DAYS = 14  # the default window: two weeks, the horizon of a weekly planning meeting and the one after
KINDS = ("tactic", "contact", "survey", "close", "stale", "plan")  # the order of items on one day


@dataclass(frozen=True)
class Item:
    """One thing due: its day, kind (KINDS), account id and name, what to do, who owns it.

    ref names the item within its account and kind (a tactic's key, a contact's key, an
    opportunity's id and stage, the plan year), so a calendar event keeps its identity when its
    date or wording change."""

    date: dt.date
    kind: str
    account: str
    name: str
    what: str
    owner: str | None
    ref: str

    def record(self) -> dict[str, Any]:
        """The item as JSON-able data (ref is the calendar's, not shown)."""
        data = asdict(self)
        del data["ref"]
        data["date"] = self.date.isoformat()
        return data


def _norm(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def _items(account_id: str, account: Account, settings: Any) -> Iterator[Item]:
    """Every dated thing the account has coming, whatever the window."""
    lead = account.owner.name if account.owner and account.owner.name else None
    name = account.name

    def item(date: dt.date, kind: str, what: str, ref: str, owner: str | None = None) -> Item:
        return Item(date, kind, account_id, name, what, owner or lead, ref)

    seen: dict[str, int] = {}
    for objective in account.plan.objectives:
        for strategy in objective.strategies:
            for tactic in strategy.tactics:
                seen[tactic.key] = seen.get(tactic.key, 0) + 1
                ref = tactic.key if seen[tactic.key] == 1 else f"{tactic.key}-{seen[tactic.key]}"
                if tactic.due is not None and tactic.status in OPEN_TACTIC:
                    yield item(tactic.due, "tactic", f"tactic: {tactic.title} ({tactic.status.replace('_', ' ')})",
                               ref, tactic.owner)
    limits = settings.checks.limits
    for dm in account.decision_makers:
        if dm.last_contact is not None:
            who = f"{dm.name} ({dm.title})" if dm.title else dm.name
            yield item(dm.last_contact + dt.timedelta(days=limits.contact_days), "contact",
                       f"contact {who} (last {dm.last_contact.isoformat()}; cold after "
                       f"{limits.contact_days} days)", dm.key, dm.counterpart)
    for opp in account.opportunities:
        if is_open(opp) and opp.close is not None:
            value = f", {money(opp.value, currency_of(opp, settings))}" if opp.value is not None else ""
            yield item(opp.close, "close", f"expected close: {opp.title} ({opp.stage.label}{value})",
                       opp.id)
        limit = settings.pipeline.stages[opp.stage].stale_days
        entered = opp.entered_stage()
        if limit is not None and entered is not None:
            # the last day pipeline.stale_by does not count it stale
            yield item(entered + dt.timedelta(days=limit), "stale",
                       f"move on from {opp.stage.label}: {opp.title} (stale after {limit} days there)",
                       f"{opp.id}-{opp.stage.value}")
    yield from _survey(account, limits.survey_days, item)
    if account.plan.year is not None:
        year = account.plan.year
        yield item(dt.date(year, 12, 31), "plan", f"plan year {year} ends: write the {year + 1} plan", str(year))


def _survey(account: Account, limit: int, item: Any) -> Iterator[Item]:
    dated = surveys_by_date(account)
    if dated:
        latest = dated[-1][1]
        yield item(latest.date + dt.timedelta(days=limit), "survey",
                   f"satisfaction survey due (latest {latest.date.isoformat()}; one every {limit} days)", "survey")


def agenda(accounts: list[tuple[str, Account]], settings: Any, as_of: dt.date, days: int = DAYS,
           owner: str | None = None) -> list[Item]:
    """Items due from as_of to as_of + days (both included), soonest first; owner: only items whose
    owner (a tactic's owner, a contact's counterpart, else the account owner) or account owner it is,
    case and spacing aside."""
    end = as_of + dt.timedelta(days=days)
    wanted = _norm(owner) if owner is not None else None
    out = []
    for account_id, account in accounts:
        lead = _norm(account.owner.name if account.owner else None)
        for found in _items(account_id, account, settings):
            if not as_of <= found.date <= end:
                continue
            if wanted is not None and wanted not in (_norm(found.owner), lead):
                continue
            out.append(found)
    out.sort(key=lambda i: (i.date, KINDS.index(i.kind), i.account, i.ref))
    return out
