"""KAM4xx: the relationship plan (stage 2): the customer's power base and our mirror relationships."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.ids import did_you_mean
from kamctl.present import plural
from kamctl.model.account import AGENDA, Quadrant, filled

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


NEGATIVE = ("sceptic", "opponent")


@check("KAM406", "influencer-unsupported", "warning",
       "A person of high influence whose attitude toward us is unknown or negative (sceptic, "
       "opponent), with nobody on our side to work on it, can sway the decision against us "
       "unseen.",
       "Find out where they stand (`attitude:`) and give them a `counterpart:` who owns the relationship.", F)
def influencer_unsupported(acc: Any, ctx: Context) -> Iterator:
    """Nobody of high influence with an unknown or negative attitude and no counterpart."""
    for i, dm in enumerate(acc.account.decision_makers):
        if dm.influence == "high" and (dm.attitude is None or dm.attitude in NEGATIVE) and not filled(dm.counterpart):
            stands = "attitude unknown" if dm.attitude is None else dm.attitude
            yield ("decision_makers", i, "influence"), f"'{dm.name}' has high influence, {stands}, and no counterpart"


@check("KAM407", "no-champion", "warning",
       "A Strategic or Star account is worth investing in; without a champion (someone in the "
       "customer who sells for us when we are not in the room) the investment rests on our own "
       "voice alone.",
       "Build a champion: set `attitude: champion` on the decision maker who is one, or plan how to win one.", F)
def no_champion(acc: Any, ctx: Context) -> Iterator:
    """A Strategic or Star account has a champion (`attitude: champion`)."""
    quadrant = ctx.summary.score.quadrant_key if ctx.summary is not None else None
    if quadrant not in (Quadrant.strategic.value, Quadrant.star.value):
        return
    if not any(dm.attitude == "champion" for dm in acc.account.decision_makers):
        yield ("decision_makers",), f"no champion among the decision makers of a {quadrant} account"


@check("KAM408", "economic-buyer-uncovered", "warning",
       "The economic buyer releases the money. If we have not met them (coverage none, or not "
       "recorded), the deal can stop where we cannot see it.",
       "Meet the economic buyer and record how well we know them in `coverage:` (contact, regular, deep).", F)
def economic_buyer_uncovered(acc: Any, ctx: Context) -> Iterator:
    """Every economic buyer covered (`coverage` contact or deeper)."""
    for i, dm in enumerate(acc.account.decision_makers):
        if dm.buying_role == "economic_buyer" and (dm.coverage is None or not dm.coverage.covered):
            why = "coverage not recorded" if dm.coverage is None else "coverage none"
            yield (("decision_makers", i, "coverage" if dm.coverage is not None else "buying_role"),
                   f"economic buyer '{dm.name}' is not covered ({why})")


@check("KAM409", "unknown-person", "error",
       "`reports_to` and `influences` name other decision makers of the account by id; a name "
       "that matches nobody breaks the relationship map (often a typo or a person removed).",
       "Use the `id` of a decision maker in this account, or add the person.", F)
def unknown_person(acc: Any, ctx: Context) -> Iterator:
    """`reports_to` and `influences` name decision makers of the account."""
    dms = acc.account.decision_makers
    keys = [dm.key for dm in dms]
    for i, dm in enumerate(dms):
        if dm.reports_to is not None and dm.reports_to not in keys:
            yield (("decision_makers", i, "reports_to"),
                   f"'{dm.name}' reports to '{dm.reports_to}': no such decision maker{did_you_mean(dm.reports_to, keys)}")
        for j, other in enumerate(dm.influences):
            if other not in keys:
                yield (("decision_makers", i, "influences", j),
                       f"'{dm.name}' influences '{other}': no such decision maker{did_you_mean(other, keys)}")


@check("KAM410", "reporting-loop", "error",
       "The reporting lines (`reports_to`) form an org chart, which has no loops: someone who "
       "reports, through others, to themselves is a mistake in the map.",
       "Correct `reports_to` of one of the people in the loop.", F)
def reporting_loop(acc: Any, ctx: Context) -> Iterator:
    """Nobody reports, through others, to themselves."""
    dms = acc.account.decision_makers
    for start, names in reporting_loops(dms):
        yield ("decision_makers", start, "reports_to"), "reporting loop: " + " -> ".join(names)


def reporting_loops(dms: list[Any]) -> list[tuple[int, list[str]]]:
    """Each loop in the reporting lines once: (index of the first person in file order on it, the
    keys around it back to that person)."""
    index = {dm.key: i for i, dm in reversed(list(enumerate(dms)))}
    done: set[int] = set()
    loops = []
    for i in range(len(dms)):
        path: list[int] = []
        j: int | None = i
        while j is not None and j not in done and j not in path:
            path.append(j)
            boss = dms[j].reports_to
            j = index.get(boss) if boss is not None else None
        if j is not None and j in path:
            ring = path[path.index(j):]
            first = min(ring)
            at = ring.index(first)
            ring = ring[at:] + ring[:at]
            loops.append((first, [dms[k].key for k in ring + [first]]))
        done.update(path)
    return loops
