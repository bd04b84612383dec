"""KAM7xx: the relationship level and alerts on file."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.scoring import relationship_level

F = "relationship level and alerts"


@check("KAM701", "level-disagrees", "warning",
       "The declared relationship level (relationship.level) differs from the level the evidence "
       "gives: loyalty sets the level and price sensitivity caps it. Believing the relationship is "
       "closer than the customer sees it is a retention risk.",
       "Correct relationship.level, or update price_sensitivity and loyalty if the evidence changed.",
       F, alert=True)
def level_disagrees(acc: Any, ctx: Context) -> Iterator:
    """The declared relationship level matches the evidence."""
    result = ctx.summary.level if ctx.summary is not None else relationship_level(acc.account)
    if result.agrees is False:
        yield (("relationship", "level"),
               f"declared level {result.declared.title} but the evidence (price sensitivity "
               f"{result.price_sensitivity}, loyalty {result.loyalty}) gives {result.level.title}")


@check("KAM702", "manual-alert", "warning",
       "An early-warning alert raised by hand under performance.alerts and not yet resolved. The "
       "finding takes the alert's own severity (error, warning or info) unless kam.yaml sets one "
       "for this rule.",
       "Deal with the cause, then set `resolved: true` on the alert.", F, alert=True)
def manual_alert(acc: Any, ctx: Context) -> Iterator:
    """Unresolved alerts under performance.alerts, at their own severity."""
    for i, alert in enumerate(acc.account.performance.alerts):
        if not alert.resolved and alert.date <= ctx.as_of:
            by = f" by {alert.raised_by}" if alert.raised_by else ""
            yield (("performance", "alerts", i, "message"),
                   f"alert raised {alert.date.isoformat()}{by}: {alert.message}", alert.severity)


@check("KAM703", "level-unknown", "info",
       "Without the customer's price sensitivity and loyalty the relationship level (commodity, "
       "product provider, value-add, partner) cannot be classified, and with it the next step the "
       "account needs.",
       "Record relationship.price_sensitivity (high|medium|low) and relationship.loyalty (none|low|some|high).", F)
def level_unknown(acc: Any, ctx: Context) -> Iterator:
    """Price sensitivity and loyalty recorded."""
    rel = acc.account.relationship
    missing = [k for k in ("price_sensitivity", "loyalty") if getattr(rel, k) is None]
    if missing:
        yield ("relationship", missing[0]), f"relationship level unknown: {' and '.join(missing)} not recorded"
