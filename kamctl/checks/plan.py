"""KAM3xx: the Key Account Development Plan: objectives -> strategies -> tactics by quarter."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.present import plural

F = "development plan"
TACTIC_NEEDS = ("quarter", "owner", "due")  # what makes a tactic executable
OPEN_TACTIC = ("planned", "in_progress")


@check("KAM301", "plan-empty", "warning",
       "The development plan turns the account strategy into objectives for the year. An account "
       "with no objective has no plan to execute or review.",
       "Add at least one objective under plan.objectives, with its strategies and tactics.", F)
def plan_empty(acc: Any, ctx: Context) -> Iterator:
    """The development plan has an objective."""
    if not acc.account.plan.objectives:
        yield ("plan", "objectives"), "the development plan has no objective"


@check("KAM302", "objective-without-strategy", "warning",
       "Each objective of the development plan needs at least one strategy saying how it will be "
       "reached; an objective without one is a wish.",
       "Add a strategy under the objective's `strategies:`.", F)
def objective_without_strategy(acc: Any, ctx: Context) -> Iterator:
    """Every objective has a strategy."""
    for i, obj in enumerate(acc.account.plan.objectives):
        if not obj.strategies:
            yield ("plan", "objectives", i, "strategies"), f"objective '{obj.title}' has no strategy"


@check("KAM303", "strategy-without-tactic", "warning",
       "A strategy is executed through tactics: concrete actions for a quarter. A strategy with no "
       "tactic will not happen.",
       "Add at least one tactic under the strategy's `tactics:`.", F)
def strategy_without_tactic(acc: Any, ctx: Context) -> Iterator:
    """Every strategy has a tactic."""
    for i, obj in enumerate(acc.account.plan.objectives):
        for j, strat in enumerate(obj.strategies):
            if not strat.tactics:
                yield (("plan", "objectives", i, "strategies", j, "tactics"),
                       f"strategy '{strat.title}' has no tactic")


@check("KAM304", "tactic-incomplete", "warning",
       "Every tactic has a quarter, an owner and a due date, so that someone is accountable for it "
       "and the quarterly review can see whether it happened.",
       "Add the missing keys (quarter, owner, due) to the tactic.", F)
def tactic_incomplete(acc: Any, ctx: Context) -> Iterator:
    """Every tactic has a quarter, owner and due date."""
    for loc, tactic in _tactics(acc.account):
        missing = [k for k in TACTIC_NEEDS if getattr(tactic, k) in (None, "")]
        if missing:
            yield loc, f"tactic '{tactic.title}' has no {', '.join(missing)}"


@check("KAM305", "tactic-past-due", "warning",
       "A tactic whose due date has passed (at --as-of) and that is neither done nor dropped: the plan "
       "is slipping, an early warning for the account.",
       "Do it and set `status: done`, move its due date, or set `status: dropped`.", F, alert=True)
def tactic_past_due(acc: Any, ctx: Context) -> Iterator:
    """No tactic past due and not done."""
    for loc, tactic in _tactics(acc.account):
        if tactic.due is not None and tactic.due < ctx.as_of and tactic.status in OPEN_TACTIC:
            days = (ctx.as_of - tactic.due).days
            yield (loc + ("due",), f"tactic '{tactic.title}' was due {tactic.due.isoformat()} "
                   f"({plural(days, 'day')} ago) and is {tactic.status.replace('_', ' ')}")


def _tactics(account: Any) -> Iterator:
    for i, obj in enumerate(account.plan.objectives):
        for j, strat in enumerate(obj.strategies):
            for k, tactic in enumerate(strat.tactics):
                yield ("plan", "objectives", i, "strategies", j, "tactics", k), tactic
