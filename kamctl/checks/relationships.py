"""KAM4xx: the relationship plan (stage 2): the customer's power base and our mirror relationships."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.present import plural
from kamctl.model.account import AGENDA, filled

F = "relationship plan"


@check("KAM401", "too-few-decision-makers", "warning",
       "The relationship plan maps the key decision makers in the customer's power base. Fewer "
       "than the limit (checks.limits.min_decision_makers) means the map is missing people who "
       "make things happen.",
       "Add the missing decision makers under `decision_makers:`.", F)
def too_few_decision_makers(acc: Any, ctx: Context) -> Iterator:
    """At least `min_decision_makers` mapped."""
    need = ctx.settings.checks.limits.min_decision_makers
    have = len(acc.account.decision_makers)
    if have < need:
        yield ("decision_makers",), f"{plural(have, 'decision maker')} mapped; at least {need} expected"


@check("KAM402", "agenda-unknown", "warning",
       "For each decision maker we should know their business agenda, their personal and social "
       "agenda, by whom they need to be recognised and how they are measured; that is what a "
       "relationship plan gives value against.",
       "Fill in business_agenda, personal_agenda, recognised_by and measured_by for the person.", F)
def agenda_unknown(acc: Any, ctx: Context) -> Iterator:
    """The four agenda answers for each decision maker."""
    for i, dm in enumerate(acc.account.decision_makers):
        missing = [k for k in AGENDA if not filled(getattr(dm, k))]
        if missing:
            yield ("decision_makers", i, missing[0]), f"decision maker '{dm.name}': {', '.join(missing)} not known"


@check("KAM403", "no-counterpart", "warning",
       "Each decision maker has a counterpart in our company who mirrors them (a mirror "
       "relationship: our executive to their executive, our engineer to their engineer). A decision "
       "maker with no counterpart is a relationship nobody owns.",
       "Set `counterpart:` to the person on our side who owns this relationship.", F)
def no_counterpart(acc: Any, ctx: Context) -> Iterator:
    """Each decision maker has a counterpart: the mirror relationship."""
    for i, dm in enumerate(acc.account.decision_makers):
        if not filled(dm.counterpart):
            yield ("decision_makers", i, "counterpart"), f"decision maker '{dm.name}' has no counterpart on our side"


@check("KAM404", "contact-overdue", "warning",
       "A decision maker not contacted for longer than checks.limits.contact_days (at --as-of) is a "
       "relationship going cold: an early warning of retention risk.",
       "Meet or call them and update `last_contact:`.", F, alert=True)
def contact_overdue(acc: Any, ctx: Context) -> Iterator:
    """Nobody uncontacted longer than `contact_days`."""
    limit = ctx.settings.checks.limits.contact_days
    for i, dm in enumerate(acc.account.decision_makers):
        if dm.last_contact is not None and (ctx.as_of - dm.last_contact).days > limit:
            days = (ctx.as_of - dm.last_contact).days
            yield (("decision_makers", i, "last_contact"),
                   f"decision maker '{dm.name}' last contacted {dm.last_contact.isoformat()}, "
                   f"{days} days ago (limit {limit})")


@check("KAM405", "single-threaded", "warning",
       "The account hangs on one thread: only one decision maker has a counterpart, or every "
       "counterpart is the same person on our side. If that one person leaves either company the "
       "relationship goes with them: an early warning of retention risk.",
       "Give other decision makers their own counterparts (mirror relationships at several levels).",
       F, alert=True)
def single_threaded(acc: Any, ctx: Context) -> Iterator:
    """More than one decision maker covered, by more than one of our people."""
    covered = [(i, dm) for i, dm in enumerate(acc.account.decision_makers) if filled(dm.counterpart)]
    if not covered:
        return
    ours = {_norm(dm.counterpart) for _, dm in covered}
    if len(covered) == 1:
        i, dm = covered[0]
        yield ("decision_makers",), f"single-threaded: '{dm.name}' is the only decision maker with a counterpart"
    elif len(ours) == 1:
        yield (("decision_makers",), f"single-threaded: every relationship runs through "
               f"{covered[0][1].counterpart} on our side")


def _norm(name: str | None) -> str:
    return " ".join((name or "").lower().split())
