"""KAM51x: the whitespace grid: potential nobody works on, and names that match no centre or offering."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.ids import did_you_mean
from kamctl.whitespace import grid, unpursued

F = "whitespace"


def _grid(acc: Any, ctx: Context) -> Any:
    offerings = [o.id for o in ctx.settings.offerings]
    return grid(acc.id, acc.account, offerings, ctx.settings.company.currency)


@check("KAM510", "potential-unpursued", "warning",
       "A cell of the whitespace grid marked potential is business the customer buys and we could "
       "win; with neither an opportunity nor a tactic naming its buying centre and offering, nobody "
       "is working on it.",
       "Add an opportunity with `centre:` and `offering:` (kamctl opp add, then set them), or a "
       "tactic in the development plan naming them; or mark the cell `not_relevant`.", F)
def potential_unpursued(acc: Any, ctx: Context) -> Iterator:
    """Every whitespace cell marked potential has an opportunity or a tactic naming it."""
    index = {bc.id: i for i, bc in enumerate(acc.account.buying_centres)}
    for cell in unpursued(_grid(acc, ctx)):
        yield (("buying_centres", index[cell.centre], "offerings", cell.offering, "status"),
               f"{cell.offering} at {cell.centre}: potential with no opportunity or tactic")


@check("KAM511", "whitespace-unknown-name", "error",
       "The whitespace grid's columns are kam.yaml's `offerings` and its rows the account's "
       "`buying_centres`; a cell, opportunity or tactic naming an offering or centre that is not "
       "there is left out of the grid and the summary (often a typo).",
       "Use an id from kam.yaml `offerings:` / the account's `buying_centres:`, or add it there.", F)
def whitespace_unknown_name(acc: Any, ctx: Context) -> Iterator:
    """Cells, opportunities and tactics name offerings of kam.yaml and centres of the account."""
    account = acc.account
    offerings = [o.id for o in ctx.settings.offerings]
    centres = [bc.id for bc in account.buying_centres]
    for i, bc in enumerate(account.buying_centres):
        for offering in bc.offerings:
            if offering not in offerings:
                yield (("buying_centres", i, "offerings", offering),
                       f"offering '{offering}' at {bc.id} is not in kam.yaml offerings{did_you_mean(offering, offerings)}")
    named = [(("opportunities", i), f"opportunity '{o.id}'", o) for i, o in enumerate(account.opportunities)]
    for a, objective in enumerate(account.plan.objectives):
        for b, strategy in enumerate(objective.strategies):
            named += [(("plan", "objectives", a, "strategies", b, "tactics", c), f"tactic '{t.title}'", t)
                      for c, t in enumerate(strategy.tactics)]
    for loc, what, item in named:
        if item.centre is not None and item.centre not in centres:
            yield (*loc, "centre"), f"{what}: no buying centre '{item.centre}'{did_you_mean(item.centre, centres)}"
        if item.offering is not None and item.offering not in offerings:
            yield (*loc, "offering"), f"{what}: offering '{item.offering}' is not in kam.yaml offerings{did_you_mean(item.offering, offerings)}"
