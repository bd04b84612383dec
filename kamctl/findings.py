"""Findings are data: every problem kamctl reports, from a YAML syntax error to a stale plan."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
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


def sort_key(f: Finding) -> tuple:
    return (f.file, f.line, f.column, f.rule)
