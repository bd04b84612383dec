"""The whitespace grid: each account's buying centres against our offerings, and share of wallet.

Plain data in (an Account, kam.yaml's offerings), plain data out; nothing here prints. A cell's
status is the one written, except that an open opportunity naming the centre and offering makes it
an open opportunity (unless it is written as sold: the opportunity is then an upsell), and a won one
makes an unwritten cell sold. An opportunity naming a cell nobody wrote adds that cell. Amounts are
in the account's currency (Account.currency).

Share of wallet is our sales against the customer's total spend in our category: per centre, the
centre's `current` values summed against its `category_spend`; per account, revenue.current against
revenue.category_spend when that is written, else the centres whose share is known, summed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from kamctl.model.account import Account, WhitespaceStatus

Status = WhitespaceStatus


@dataclass
class Cell:
    """One offering at one centre, with its status after the opportunities (see the module doc)."""

    centre: str
    offering: str
    status: Status | None
    written: Status | None = None
    current: float | None = None
    potential: float | None = None
    competitor: str | None = None
    opportunities: list[str] = field(default_factory=list)  # open opportunities naming it
    won: list[str] = field(default_factory=list)  # won opportunities naming it
    tactics: list[str] = field(default_factory=list)  # tactics (not dropped) naming it
    in_file: bool = True  # written under the centre, not only named by an opportunity


@dataclass
class Share:
    """Our sales against the customer's spend in our category; share None when either is unknown
    (or the spend is 0). known/of: how many centres the account figure rests on (0/0 when it comes
    from revenue)."""

    ours: float | None
    spend: float | None
    share: float | None
    known: int = 0
    of: int = 0


@dataclass
class Centre:
    id: str
    name: str
    kind: str | None
    cells: dict[str, Cell]
    share: Share


@dataclass
class Grid:
    """One account's whitespace: offerings are the columns (kam.yaml's, then any others named)."""

    account: str
    name: str
    currency: str
    offerings: list[str]
    centres: list[Centre]
    share: Share


def ratio(ours: float | None, spend: float | None, known: int = 0, of: int = 0) -> Share:
    """A Share of two amounts, either possibly unknown."""
    share = ours / spend if ours is not None and spend else None
    return Share(ours, spend, share, known, of)


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def centre_share(spend: float | None, cells: Iterable[Cell]) -> Share:
    """The centre's current values (those written) against its category spend."""
    return ratio(_sum(c.current for c in cells), spend)


def account_share(account: Account, centres: list[Centre]) -> Share:
    """revenue.current against revenue.category_spend when written; else the centres whose share is known."""
    revenue = account.revenue
    if revenue is not None and revenue.category_spend is not None:
        return ratio(revenue.current, revenue.category_spend)
    known = [c.share for c in centres if c.share.share is not None]
    if not known:
        return Share(None, None, None, 0, len(centres))
    return ratio(sum(s.ours for s in known), sum(s.spend for s in known), len(known), len(centres))


def _effective(written: Status | None, open_opps: list[str], won: list[str]) -> Status | None:
    if open_opps and written is not Status.sold:
        return Status.open_opportunity
    if written is None and won:
        return Status.sold
    return written


def grid(account_id: str, account: Account, offerings: list[str], company_currency: str) -> Grid:
    """The account's grid; offerings: kam.yaml's offering ids in order."""
    named: dict[tuple[str, str], tuple[list[str], list[str], list[str]]] = {}

    def at(centre: str | None, offering: str | None) -> tuple[list[str], list[str], list[str]] | None:
        if not centre or not offering:
            return None
        return named.setdefault((centre, offering), ([], [], []))

    for opp in account.opportunities:
        slot = at(opp.centre, opp.offering)
        if slot is not None and (opp.stage.is_open or opp.stage.is_won):
            slot[0 if opp.stage.is_open else 1].append(opp.id)
    for objective in account.plan.objectives:
        for strategy in objective.strategies:
            for tactic in strategy.tactics:
                slot = at(tactic.centre, tactic.offering)
                if slot is not None and tactic.status != "dropped":
                    slot[2].append(tactic.title)

    columns = list(dict.fromkeys(offerings))
    centres = []
    for bc in account.buying_centres:
        cells: dict[str, Cell] = {}
        for offering, written in bc.offerings.items():
            open_opps, won, tactics = named.get((bc.id, offering), ([], [], []))
            cells[offering] = Cell(bc.id, offering, _effective(written.status, open_opps, won), written.status,
                                   written.current, written.potential, written.competitor, list(open_opps),
                                   list(won), list(tactics))
        for (centre, offering), (open_opps, won, tactics) in named.items():
            if centre == bc.id and offering not in cells and (open_opps or won):
                cells[offering] = Cell(bc.id, offering, _effective(None, open_opps, won), None,
                                       opportunities=list(open_opps), won=list(won), tactics=list(tactics),
                                       in_file=False)
        columns += [o for o in cells if o not in columns]
        centres.append(Centre(bc.id, bc.name, bc.kind, cells, centre_share(bc.category_spend, cells.values())))
    return Grid(account_id, account.name, account.currency(company_currency), columns, centres,
                account_share(account, centres))


# --- the portfolio summary -------------------------------------------------------------------------

# what each status adds to the summary, and from which amount of the cell
SUMMED = {Status.sold: ("sold", "current"), Status.open_opportunity: ("pursued", "potential"),
          Status.potential: ("unpursued", "potential"), Status.competitor: ("competitor", "potential")}


def summary(grids: list[Grid], offerings: list[str]) -> list[dict[str, Any]]:
    """Per offering (kam.yaml's order, then others named): sold (current of sold cells), pursued
    (potential of open-opportunity cells), unpursued (potential of potential cells: the potential
    not yet pursued), competitor (potential of cells a competitor holds), each per currency, and
    how many potential cells there are. Amounts not written add nothing."""
    order = list(dict.fromkeys([*offerings, *(o for g in grids for o in g.offerings)]))
    rows = {o: {"offering": o, "sold": {}, "pursued": {}, "unpursued": {}, "competitor": {}, "potential_cells": 0}
            for o in order}
    for g in grids:
        for centre in g.centres:
            for cell in centre.cells.values():
                row = rows[cell.offering]
                if cell.status is Status.potential:
                    row["potential_cells"] += 1
                if cell.status not in SUMMED:
                    continue
                key, amount = SUMMED[cell.status]
                value = getattr(cell, amount)
                if value is not None:
                    row[key][g.currency] = row[key].get(g.currency, 0.0) + value
    return list(rows.values())


def unpursued(g: Grid) -> list[Cell]:
    """Potential cells with neither an open opportunity nor a tactic: whitespace nobody works on."""
    return [cell for c in g.centres for cell in c.cells.values()
            if cell.status is Status.potential and not cell.opportunities and not cell.tactics]
