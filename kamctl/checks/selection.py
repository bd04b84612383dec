"""KAM9xx: the account is scored on the Key Account Model and has an owner.

Without both scores the account sits in no quadrant (only the `unscored` policy applies), and
without an owner nobody runs its plan.
"""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.model.account import FarmerCycle

F = "scores and owner"


@check("KAM901", "scores-incomplete", "warning",
       "An account is placed in the Key Account Model by two scores: client attractiveness and our "
       "relative strength. An axis with no factor scored leaves the account unscored (in no "
       "quadrant: only kam.yaml's `unscored` policy applies); a missing factor makes the score partial, the "
       "weighted mean of the factors present, which may put the account in the wrong box.",
       "Score the factors named in the message (0-10) under the axis shown, or weight a factor 0 in "
       "kam.yaml scoring.weights if it does not apply to your business.", F)
def scores_incomplete(acc: Any, ctx: Context) -> Iterator:
    """Both axes scored, every factor weighted above 0 given (else unscored or partial)."""
    score = ctx.summary.score
    for axis in (score.attractiveness, score.relative_strength):
        if axis.score is None:
            yield (axis.axis,), f"{axis.axis} not scored: the account is in no quadrant"
        elif axis.missing:
            names = ", ".join(f"`{n}`" for n in axis.missing)
            yield (axis.axis,), f"{axis.axis} partly scored: {names} not scored"


@check("KAM902", "no-owner", "warning",
       "Every key account has one named owner, the hunter who wins it or the farmer who grows it, who "
       "answers for its plan. An account without an owner has a plan nobody runs.",
       "Set owner.name (and owner.email) to the account manager.", F)
def no_owner(acc: Any, ctx: Context) -> Iterator:
    """The account has an owner (`owner.name`)."""
    owner = acc.account.owner
    if owner is None or not owner.name:
        yield ("owner", "name"), "the account has no owner: owner.name is not set"


@check("KAM903", "farmer-without-cycle", "info",
       f"A farmer grows an account through a cycle ({', '.join(c.value for c in FarmerCycle)}). "
       "Recording where the account stands tells the team what the farmer's next step is.",
       "Set owner.cycle to the stage of the farmer's cycle the account is in.", F)
def farmer_without_cycle(acc: Any, ctx: Context) -> Iterator:
    """A farmer records where the account stands in the farmer's cycle."""
    owner = acc.account.owner
    if owner is not None and owner.name and owner.role == "farmer" and owner.cycle is None:
        yield ("owner", "cycle"), f"farmer {owner.name!r} has not recorded where the account stands in the cycle (owner.cycle)"
