"""What a check rule module uses: the `check` decorator and the Context a rule function gets.

A rule function takes (loaded account, Context) and yields (loc, message) pairs; loc is the path
of the key to point at, e.g. ("decision_makers", 0, "counterpart"). The runner turns each into a
Finding at that key's line (a missing key points at its parent), with the rule's severity after
kam.yaml's policy. The decorator only labels the function; kamctl.checks builds the one registry
from its explicit list of rule modules (no import side effects).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from kamctl.rules import Rule, rule

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


def check(code: str, name: str, severity: str, explanation: str, fix: str, family: str,
          alert: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Decorator: declare the rule a function finds (it sets fn.rule and fn.alert, nothing else).

    alert: the rule is an early-warning flag of retention risk (`kamctl.checks.alerts`, report).
    A rule function may also yield (loc, message, severity) to set one finding's severity itself
    (manual alerts carry their own); a severity set in kam.yaml still wins.
    """
    def wrap(fn: CheckFn) -> CheckFn:
        fn.rule = rule(code, name, severity, explanation, fix, family)  # type: ignore[attr-defined]
        fn.alert = alert  # type: ignore[attr-defined]
        return fn
    return wrap


def checks_in(module: ModuleType) -> list[tuple[Rule, CheckFn, bool]]:
    """(rule, function, alert) of each rule function defined in a module, in the order written."""
    return [(fn.rule, fn, fn.alert) for fn in vars(module).values()
            if callable(fn) and isinstance(getattr(fn, "rule", None), Rule)
            and getattr(fn, "__module__", None) == module.__name__]
