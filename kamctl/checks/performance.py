"""KAM6xx: performance and satisfaction measurement (stage 4)."""

from __future__ import annotations

from typing import Any, Iterator

from kamctl.checks.registry import Context, check
from kamctl.report import pro_rata

F = "performance and satisfaction"


def surveys_by_date(account: Any) -> list[tuple[int, Any]]:
    """(index in the file, survey), oldest first."""
    return sorted(enumerate(account.performance.surveys), key=lambda p: (p[1].date, p[0]))


@check("KAM601", "survey-overdue", "warning",
       "Each key account gets an annual performance and satisfaction survey (or interview) before "
       "its plan is updated. None on file, or the latest older than checks.limits.survey_days at "
       "--as-of, is an early warning.",
       "Survey or interview the customer and add it under performance.surveys.", F, alert=True)
def survey_overdue(acc: Any, ctx: Context) -> Iterator:
    """A satisfaction survey within `survey_days`."""
    limit = ctx.settings.checks.limits.survey_days
    dated = [p for p in surveys_by_date(acc.account) if p[1].date <= ctx.as_of]
    if not dated:
        yield ("performance", "surveys"), "no satisfaction survey on file"
        return
    i, latest = dated[-1]
    days = (ctx.as_of - latest.date).days
    if days > limit:
        yield (("performance", "surveys", i, "date"),
               f"latest satisfaction survey is from {latest.date.isoformat()}, {days} days ago (limit {limit})")


@check("KAM602", "satisfaction-dropped", "warning",
       "The latest satisfaction score fell against the previous survey by at least "
       "checks.limits.satisfaction_drop points (1-5 scale): a symptom of a potential retention issue.",
       "Find out what changed (moments of truth, people, service) and add actions to the plan.", F, alert=True)
def satisfaction_dropped(acc: Any, ctx: Context) -> Iterator:
    """The latest score not down `satisfaction_drop` or more."""
    drop = ctx.settings.checks.limits.satisfaction_drop
    scored = [p for p in surveys_by_date(acc.account) if p[1].score is not None and p[1].date <= ctx.as_of]
    if len(scored) < 2:
        return
    (_, prev), (i, latest) = scored[-2], scored[-1]
    fell = prev.score - latest.score
    if fell > 0 and fell >= drop:
        yield (("performance", "surveys", i, "score"),
               f"satisfaction fell from {prev.score:g} ({prev.date.isoformat()}) to {latest.score:g} "
               f"({latest.date.isoformat()})")


@check("KAM603", "sales-behind-target", "warning",
       "For each sales period containing --as-of (a year or a quarter), the sales achieved are "
       "compared with the share of the target that has elapsed (pro rata by days). Being behind by "
       "more than checks.limits.sales_behind_percent is an early warning.",
       "Update `achieved:`, or act on the gap and record it in the plan.", F, alert=True)
def sales_behind_target(acc: Any, ctx: Context) -> Iterator:
    """Achieved not behind the pro-rata target by over `sales_behind_percent`."""
    limit = ctx.settings.checks.limits.sales_behind_percent
    for i, period in enumerate(acc.account.performance.sales):
        status = pro_rata(period, ctx.as_of)
        if status is None or period.achieved is None:
            continue
        due = status["pro_rata_target"]
        if due > 0 and (due - period.achieved) / due * 100 > limit:
            behind = (due - period.achieved) / due * 100
            yield (("performance", "sales", i, "achieved"),
                   f"sales {period.period}: achieved {period.achieved:,.0f} is {behind:.0f}% behind the "
                   f"pro-rata target {due:,.0f} ({status['elapsed_percent']:.0f}% of {period.target:,.0f}; "
                   f"limit {limit:g}%)")
