"""One assessment per account, computed once per run: what the core knows about an account at a date.

An Assessment gathers scores, quadrant and level (kamctl.scoring), the pipeline (kamctl.pipeline),
the performance measures (kamctl.report), the early-warning alerts and the plan's completeness
(kamctl.checks) and the account's health (kamctl.health) as plain data. Rendering a plan, a report or a diff reads it instead of computing
these again; Assessments is the memo of one run, so `render all` assesses each account once
however many documents show it.

Layers: above checks, scoring, pipeline and report; below movement, history, render, formats and cli.
Nothing here prints or exits.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any, Iterable

from kamctl import checks
from kamctl.findings import Finding
from kamctl.health import health
from kamctl.pipeline import account_pipeline
from kamctl.report import performance
from kamctl.scoring import Summary, summarise


class Assessment:
    """One account at one date: summary (scores, quadrant, level), pipeline, performance, alerts,
    completeness (0-100 per section of the plan), health (0-100, explained).

    Each part is computed on first use and then kept, so a reader that needs only the scores (a
    history row) pays for no alert rule, and one that needs everything computes each part once.
    """

    def __init__(self, loaded: Any, settings: Any, as_of: dt.date, summary: Summary | None = None) -> None:
        self.id, self._loaded, self.settings, self.as_of = loaded.id, loaded, settings, as_of
        self.summary = summary or summarise(loaded.id, loaded.account, settings)

    @cached_property
    def pipeline(self) -> dict[str, Any]:
        return account_pipeline(self._loaded.account, self.settings, self.as_of)

    @cached_property
    def alerts(self) -> list[Finding]:
        """The early-warning alerts (computed and unresolved manual ones); the rules run once."""
        return checks.alerts(self._loaded, self.settings, self.as_of, summary=self.summary)

    @cached_property
    def performance(self) -> dict[str, Any]:
        """The KAM performance measures; their alert count is this assessment's alerts."""
        loaded = self._loaded
        return performance(loaded.account, self.settings, self.as_of, loaded.id or None, alerts=self.alerts)

    @cached_property
    def completeness(self) -> dict[str, float]:
        return checks.account_completeness(self._loaded.account, self.settings, self.as_of)

    @cached_property
    def health(self) -> dict[str, Any]:
        """kamctl.health: the score 0-100 and its parts, from the parts measured above."""
        return health(self._loaded.account, self.completeness, self.performance, self.settings, self.as_of)


def assess(loaded: Any, settings: Any, as_of: dt.date, summary: Summary | None = None) -> Assessment:
    """Assess one valid loaded account (a LoadedAccount: alerts point at its lines) at as_of."""
    return Assessment(loaded, settings, as_of, summary)


class Assessments:
    """The assessments of one run (one workspace, settings and date): each account is assessed on
    first ask and then reused. Callers that show the same accounts (the documents of `render all`,
    the portfolio beside them) share one instance."""

    def __init__(self, settings: Any, as_of: dt.date) -> None:
        self.settings, self.as_of = settings, as_of
        self._done: dict[str, Assessment] = {}
        self._summaries: dict[str, Summary] = {}

    def of(self, loaded: Any) -> Assessment:
        """The assessment of one valid loaded account."""
        done = self._done.get(loaded.id)
        if done is None:
            done = assess(loaded, self.settings, self.as_of, self._summaries.get(loaded.id))
            self._done[loaded.id] = done
        return done

    def summary(self, account_id: str, account: Any) -> Summary:
        """An account's scores alone (the portfolio needs no more): the assessment's if one was made."""
        done = self._done.get(account_id)
        if done is not None:
            return done.summary
        if account_id not in self._summaries:
            self._summaries[account_id] = summarise(account_id, account, self.settings)
        return self._summaries[account_id]


def assess_all(loaded_accounts: Iterable[Any], settings: Any, as_of: dt.date,
               assessments: Assessments | None = None) -> list[Assessment]:
    """The assessment of each valid account (invalid ones are left out), in the given order."""
    memo = assessments or Assessments(settings, as_of)
    return [memo.of(loaded) for loaded in loaded_accounts if loaded.account is not None]
