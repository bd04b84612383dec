"""KAM5xx: the opportunities pipeline (stage 3)."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.model.account import PAST_GATE, Opportunity, Stage
from kamctl.pipeline import overdue, stale_by
from kamctl.scoring import ready_to_farm

F = "pipeline"


def decided(opp: Opportunity) -> bool:
    return opp.decision is not None or any(h.decision is not None for h in opp.history)


@check("KAM501", "stale-opportunity", "warning",
       "An open opportunity has stayed in its stage longer than that stage's stale_days "
       "(kam.yaml pipeline.stages), counted from the history entry that put it there. Stalled "
       "deals are an early warning.",
       "Move it on (`kamctl opp move`), close it as lost or no-go, or record why it waits in its notes.",
       F, alert=True)
def stale_opportunity(acc: Any, ctx: Context) -> Iterator:
    """No open opportunity longer than its stage's `stale_days`."""
    for i, opp in enumerate(acc.account.opportunities):
        if opp.stage.is_open:
            over = stale_by(opp, ctx.settings, ctx.as_of)
            if over is not None:
                limit = ctx.settings.pipeline.stages[opp.stage].stale_days
                yield (("opportunities", i, "stage"),
                       f"opportunity '{opp.id}' has been in {opp.stage.label} for {limit + over} days "
                       f"(stale after {limit})")


@check("KAM502", "decision-not-recorded", "warning",
       "Past the decision stage an opportunity should carry its go/no-go decision with a reason, so "
       "the team knows why it is pursued (or dropped).",
       "Add `decision: {decision: go, reason: ...}` to the opportunity.", F)
def decision_not_recorded(acc: Any, ctx: Context) -> Iterator:
    """A go/no-go decision recorded past the decision stage."""
    for i, opp in enumerate(acc.account.opportunities):
        if opp.stage in PAST_GATE and not decided(opp):
            yield (("opportunities", i, "decision"),
                   f"opportunity '{opp.id}' is at {opp.stage.label} with no recorded go/no-go decision")


@check("KAM503", "hunter-not-handed-over", "warning",
       "A hunter wins accounts; once an opportunity is won (contract or engagement) the account "
       "should be handed to a farmer who grows it.",
       "Set owner.role to farmer with the farmer's name, and `hunted_by:` to the hunter.", F)
def hunter_not_handed_over(acc: Any, ctx: Context) -> Iterator:
    """A hunter-owned account with a won opportunity goes to a farmer."""
    account = acc.account
    if ready_to_farm(account):
        won = [o.id for o in account.opportunities if o.reached(Stage.contract)]
        yield (("owner", "role"),
               f"owned by a hunter but opportunity {', '.join(repr(w) for w in won)} is won; hand it to a farmer")



@check("KAM504", "past-close-date", "warning",
       "An open opportunity whose expected close date has passed: the forecast cannot place it in a "
       "quarter still to come (`kamctl pipeline` shows it as overdue), so the forecast overstates "
       "what is coming.",
       "Close it as won, lost or no-go (`kamctl opp close`), or set a new expected `close:` date.", F)
def past_close_date(acc: Any, ctx: Context) -> Iterator:
    """No open opportunity past its expected close date (`pipeline` forecasts it as overdue)."""
    for i, opp in enumerate(acc.account.opportunities):
        if overdue(opp, ctx.as_of):
            yield (("opportunities", i, "close"),
                   f"opportunity '{opp.id}' is still open ({opp.stage.label}) but was expected to close "
                   f"{opp.close.isoformat()}, {(ctx.as_of - opp.close).days} days ago")
