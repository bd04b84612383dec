"""Findings are data: every problem kamctl reports, from a YAML syntax error to a stale plan."""

from __future__ import annotations

from enum import Enum
from operator import attrgetter
from typing import Any, Iterable, NamedTuple


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]  # not by .value: an Enum attribute is a Python-level look-up


_RANK = {Severity.error: 3, Severity.warning: 2, Severity.info: 1}


BY_VALUE = {s.value: s for s in Severity}  # "error" -> Severity.error: a dict look-up, not an Enum call


class Finding(NamedTuple):
    """One problem at file:line:column. A named tuple, not a frozen dataclass: a warm check of a
    workspace with 25,000 findings makes every one of them, and a tuple is made 3x faster."""

    rule: str
    severity: Severity
    file: str
    line: int
    column: int
    message: str
    account: str | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity.value, "file": self.file, "line": self.line,
                "column": self.column, "message": self.message, "account": self.account}


sort_key = attrgetter("file", "line", "column", "rule")  # Finding -> (file, line, column, rule), in C
place_key = attrgetter("line", "column", "rule")  # the order within one file: sort_key less the file


def tally(findings: Iterable[Finding], served: Iterable[Any] = ()) -> dict[tuple[str, Severity], int]:
    """(rule, severity) -> how many, of findings and of served accounts (each with a tally of
    [rule, severity value, how many], as kamctl.checks.incremental.Served has it)."""
    counts: dict[tuple[str, Severity], int] = {}
    for f in findings:
        counts[f.rule, f.severity] = counts.get((f.rule, f.severity), 0) + 1
    for part in served:
        for rule, severity, n in part.tally:
            key = (rule, BY_VALUE[severity])
            counts[key] = counts.get(key, 0) + n
    return counts
