"""The check-rule registry: each rule is a function registered with its code (see kamctl.rules).

A rule function takes (loaded account, Context) and yields (loc, message) pairs; loc is the path
of the key to point at, e.g. ("decision_makers", 0, "counterpart"). The runner turns each into a
Finding at that key's line (a missing key points at its parent), with the rule's severity after
kam.yaml's policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from kamctl.rules import Rule, register

Loc = tuple
CheckFn = Callable[[Any, "Context"], Iterable[tuple[Loc, str]]]


@dataclass
class Context:
    """What a rule may use besides the account: settings, the as-of date, computed results."""

    settings: Any
    as_of: dt.date
    root: Path
    summary: Any = None  # kamctl.scoring.Summary of the account (scores, quadrant, level)
    cache: dict = field(default_factory=dict)  # for rules that share expensive lookups (e.g. git)


CHECKS: dict[str, tuple[Rule, CheckFn]] = {}
ALERTS: set[str] = set()  # codes whose findings are early-warning alerts (retention risk)


def check(code: str, name: str, severity: str, explanation: str, fix: str, family: str,
          alert: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Decorator: register a rule and the function that finds it.

    alert: the rule is an early-warning flag of retention risk (`kamctl.checks.alerts`, report).
    A rule function may also yield (loc, message, severity) to set one finding's severity itself
    (manual alerts carry their own); a severity set in kam.yaml still wins.
    """
    def wrap(fn: CheckFn) -> CheckFn:
        rule = register(code, name, severity, explanation, fix, family)
        CHECKS[code] = (rule, fn)
        if alert:
            ALERTS.add(code)
        return fn
    return wrap


def iter_checks() -> Iterator[tuple[Rule, CheckFn]]:
    return iter(CHECKS.values())
