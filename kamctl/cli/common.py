"""What every command shares: the workspace option, exits, output helpers. Imports stay light."""

from __future__ import annotations

import csv
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from kamctl import fsafe, ids
from kamctl.formats import finite, one_line, shown
from kamctl.present import visible
from kamctl.ids import id_problem
from kamctl.present import csv_cell
from kamctl.workspace import WorkspaceError, find_workspace, load_workspace
from kamctl.cli.base import fail, state
from kamctl.history import load_workspace_at

OK, DATA_PROBLEM, USAGE = 0, 1, 2


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


AT = typer.Option(None, "--at", metavar="REV|DATE", show_default=False,
                  help="The workspace as it was at a git revision or date (YYYY-MM-DD: the last commit "
                       "that day), with that commit's kam.yaml; --as-of defaults to the commit's date.")


def load(ctx: typer.Context, ids: list[str] | None = None, *, at: str | None = None,
         settings_must_be_valid: bool = True) -> Any:
    """Load the workspace for a read-only command; kam.yaml problems are a settings error (exit 2).

    at: a git revision or YYYY-MM-DD date (every read-only command's --at, option AT); the workspace
    as it was then, read from git only (kamctl.history): no cache is read or written, so nothing
    in the working tree changes.
    """

    root = workspace_root(ctx)
    try:
        if at is not None:

            ws = load_workspace_at(root, at, ids, use_cache=False)
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


def write_output(path: Path, data: bytes, check: bool = False) -> bool:
    """Write path when its bytes differ (check: compare only); True when they differed. Through
    kamctl.fsafe, as the folder may be in an untrusted workspace: it is reached from the current
    folder without a link leading out of it (a path outside it is the user's own choice); a symlink,
    FIFO or folder under the name is refused (exit 1), never followed; the write is atomic and keeps
    an existing file's mode."""
    try:
        try:
            root, rel = Path.cwd(), fsafe.relative(Path.cwd(), path.parent)
        except fsafe.Outside:
            root, rel = path.parent, ""
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
        folder = fsafe.open_dir(root, rel, create=not check)
    except FileNotFoundError:
        if check:
            return True
        fail(f"cannot write {path}: its folder does not exist", USAGE)
    except fsafe.UnsafePath as exc:
        fail(f"refusing to write {path}: {exc} (kamctl never writes through it)", DATA_PROBLEM)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", USAGE)
    try:
        try:
            if fsafe.read_at(folder, path.name, len(data)) == data:
                return False
        except (FileNotFoundError, fsafe.TooLarge):
            pass
        except fsafe.UnsafePath:
            fail(f"refusing to {'read' if check else 'write'} {path}: it is a symlink, folder, pipe or device, "
                 "not a regular file; remove it (kamctl never follows it)", DATA_PROBLEM)
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror}", USAGE)
        if check:
            return True
        try:
            mode = os.stat(path.name, dir_fd=folder, follow_symlinks=False).st_mode  # kept, as an edit keeps it
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror}", USAGE)
        try:
            fsafe.write_file(folder, path.name, data, keep_mode=mode, durable=True)
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror or exc}", USAGE)
    finally:
        os.close(folder)
    return True


def cell(value: Any) -> Any:
    """A table cell as rich Text: no markup read from it, and control characters (ESC, C0, C1) shown
    as escapes, so a name in an untrusted file cannot rewrite the terminal. Line breaks stay: some
    cells are several lines on purpose; rich drops a CR itself."""
    from rich.text import Text

    return Text(visible(str(value)))


def console(width: int | None = None) -> Any:
    """A rich console for tables: plain when not a terminal; NO_COLOR respected by rich itself."""
    from rich.console import Console

    return Console(width=width, highlight=False, soft_wrap=False)


def as_of_date(ws: Any, value: str | None, option: str = "--as-of") -> Any:
    """The date of a command's date rules: --as-of, else the --at commit's date, else today.

    So `check --at 2026-03-31` says what check said that day, not what the old plan looks like now.
    """
    revision = getattr(ws, "revision", None)
    if value is None and revision is not None:
        return revision.day
    return parse_date(value, option)


def parse_date(value: str | None, option: str = "--as-of") -> Any:
    """YYYY-MM-DD or today; a bad date is a usage error."""
    import datetime as dt

    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; write YYYY-MM-DD")
