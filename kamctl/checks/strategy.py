"""KAM2xx: the account strategy charter (stage 1) is filled in and answers the five questions."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.model.account import CHARTER, FIVE_QUESTIONS, Strategy, filled

F = "strategy"


def _label(name: str) -> str:
    return Strategy.model_fields[name].description or name.replace("_", " ")


@check("KAM201", "no-business-objectives", "warning",
       "The charter starts from the customer's agenda: what the customer wants to achieve over the "
       "next three to five years. Without at least one key business objective there is nothing for "
       "the strategy, the plan or the opportunities to serve.",
       "Add the customer's objectives under strategy.key_business_objectives, one line each.", F)
def no_business_objectives(acc: Any, ctx: Context) -> Iterator:
    """The charter names at least one key business objective."""
    if not filled(acc.account.strategy.key_business_objectives):
        yield ("strategy", "key_business_objectives"), "the strategy charter names no key business objective of the customer"


@check("KAM202", "charter-field-empty", "warning",
       "Every part of the account strategy charter is filled in: the customer's current situation, "
       "the barriers and enablers to their objectives, and their key initiatives. A gap here means "
       "the strategy rests on guesses about the customer's agenda.",
       "Fill in the field named in the message under `strategy:`.", F)
def charter_field_empty(acc: Any, ctx: Context) -> Iterator:
    """Current situation, barriers, enablers, initiatives filled in."""
    names = [n for n in CHARTER if n != "key_business_objectives"]
    yield from _gaps(acc, names, "strategy charter: {} not filled in")


@check("KAM203", "question-unanswered", "warning",
       "The strategy answers five questions: what value we can add, whom we must influence, where "
       "in the customer's organisation to target, when to pursue opportunities, and why the "
       "customer will buy from us. An unanswered question is a hole in the account strategy.",
       "Answer the question named in the message under `strategy:`.", F)
def question_unanswered(acc: Any, ctx: Context) -> Iterator:
    """The five questions answered (what, who, where, when, why)."""
    yield from _gaps(acc, FIVE_QUESTIONS, "strategy: {} unanswered", explain=True)


def _gaps(acc: Any, names: Any, template: str, explain: bool = False) -> Iterator:
    """A blank key written in the file: one finding at its line. Keys not written at all: one
    finding at `strategy:` (or line 1) naming them all, so an empty charter is not a wall of lines."""
    strategy = acc.account.strategy
    blank = [n for n in names if not filled(getattr(strategy, n))]
    absent = [n for n in blank if ("strategy", n) not in acc.positions]
    for name in blank:
        if name not in absent:
            why = f" ({_label(name)})" if explain else ""
            yield ("strategy", name), template.format(f"`{name}` is") + why
    if absent:
        listed = ", ".join(f"`{n}`" for n in absent)
        yield ("strategy", absent[0]), template.format(listed + (" is" if len(absent) == 1 else " are"))
