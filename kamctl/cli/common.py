"""What every command shares: the workspace option, exits, output helpers. Imports stay light."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from kamctl import ids
from kamctl.cli.base import DATA_PROBLEM, OK, USAGE, State, fail, state  # noqa: F401 - the commands use them from here
from kamctl.formats import finite, one_line, shown
from kamctl.history import load_workspace_at
from kamctl.ids import id_problem
from kamctl.workspace import WorkspaceError, find_workspace, load_workspace

class Output(str, Enum):
    """--format of the read-only reports (portfolio, pipeline, report, history, diff)."""

    table = "table"
    json = "json"
    markdown = "markdown"


class TableOrJson(str, Enum):
    """--format of the listings that have no Markdown form (level, owners)."""

    table = "table"
    json = "json"


def _id_check(kind: str) -> Any:
    """A parameter callback refusing a bad or too-long id (exit 2) before it becomes a path or git path."""
    def check(ctx: typer.Context, param: Any, value: Any) -> Any:
        if ctx.resilient_parsing or value is None:
            return value
        for item in value if isinstance(value, (list, tuple)) else [value]:
            problem = id_problem(item, kind)
            if problem:
                name = param.opts[0] if param.param_type_name == "option" else (param.metavar or kind).strip("[].")
                fail(f"{name} {ids.shown(item)} {problem}")
        return value
    return check


def id_argument(default: Any = ..., *, kind: str = "account id", metavar: str = "ID", help: str) -> Any:
    """An id argument (account, opportunity): every command declares its ids with this or id_option."""
    return typer.Argument(default, metavar=metavar, help=help, callback=_id_check(kind))


def id_option(*names: str, kind: str = "account id", help: str, **kwargs: Any) -> Any:
    """An id option (--id, --account, --contact), checked like id_argument."""
    return typer.Option(None, *names, help=help, callback=_id_check(kind), **kwargs)


def workspace_root(ctx: typer.Context) -> Path:
    try:
        return find_workspace(state(ctx).workspace)
    except WorkspaceError as exc:
        fail(str(exc))


def load(ctx: typer.Context, ids: list[str] | None = None, *, at: str | None = None,
         settings_must_be_valid: bool = True) -> Any:
    """Load the workspace for a read-only command; kam.yaml problems are a settings error (exit 2).

    at: a git revision or YYYY-MM-DD date; the workspace as it was then (kamctl.history).
    """

    root = workspace_root(ctx)
    try:
        if at is not None:
            ws = load_workspace_at(root, at, ids)
        else:
            ws = load_workspace(root, ids, use_cache=not state(ctx).no_cache)
    except WorkspaceError as exc:
        fail(str(exc))
    if settings_must_be_valid and any(f.severity.value == "error" for f in ws.settings_findings):
        print_findings(ws.settings_findings)
        fail(f"{ws.settings_path} has problems; fix them first (see above)")
    return ws


def invalid_note(ws: Any) -> int:
    """Read-only commands leave invalid account files out but never hide them: say so on stderr.

    Returns the exit code to end with after printing the results: 1 when files were left out, else 0.
    """
    bad = [a for a in ws.accounts if a.account is None]
    if not bad:
        return OK
    typer.echo(f"{len(bad)} account file(s) have problems; run kamctl validate", err=True)
    return DATA_PROBLEM


def print_findings(findings: list[Any], stream: Any = None) -> None:
    """The plain `path:line:col: CODE message` form (validate's output, and errors elsewhere)."""
    out = stream or sys.stderr
    for f in shown(findings):  # one record per line, whatever a file name or key holds
        out.write(f"{f.file}:{f.line}:{f.column}: {f.rule} {one_line(f.message)}\n")


def print_json(data: Any) -> None:
    """Strict JSON (RFC 8259): a number that is not finite (a sum that overflowed) is null."""
    typer.echo(json.dumps(finite(data), indent=2, ensure_ascii=False, allow_nan=False, default=_json_default))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+1`, `@SUM(1)`) gets a
    leading `'` (OWASP CSV injection); numbers stay numbers (a negative number is a value, not text).
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    # the writer quotes a cell holding LF (its line end) but not one holding a lone CR, which
    # readers would take as the end of the row: line breaks inside a cell are written as LF
    return value.replace("\r\n", "\n").replace("\r", "\n")


def print_csv(header: list[str], rows: Any) -> None:
    """Every CSV kamctl prints: header, then rows (sequences), cells through csv_cell."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def console(width: int | None = None) -> Any:
    """A rich console for tables: plain when not a terminal; NO_COLOR respected by rich itself."""
    from rich.console import Console

    return Console(width=width, highlight=False, soft_wrap=False)


def parse_date(value: str | None, option: str = "--as-of") -> Any:
    """YYYY-MM-DD or today; a bad date is a usage error."""
    import datetime as dt

    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; write YYYY-MM-DD")
