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
from kamctl.loader import load_workspace
from kamctl.workspace import WorkspaceError, find_workspace
from kamctl.cli.base import DATA_PROBLEM, OK, USAGE, fail, state  # noqa: F401 - re-exported for the commands
from kamctl.history import load_workspace_at
from kamctl.present import plural


class Output(str, Enum):
    """--format of the read-only reports (portfolio, pipeline, report, history, diff)."""

    table = "table"
    json = "json"
    markdown = "markdown"


class Listing(str, Enum):
    """--format of the listings whose rows are flat records (level, owners, rules): csv too."""

    table = "table"
    json = "json"
    csv = "csv"


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
    typer.echo(f"{plural(len(bad), 'account file')} {'has' if len(bad) == 1 else 'have'} problems; "
               "run kamctl validate", err=True)
    return DATA_PROBLEM


def print_findings(findings: list[Any], stream: Any = None) -> None:
    """The plain `path:line:col: CODE message` form (validate's output, and errors elsewhere)."""
    out = stream or sys.stderr
    for f in shown(findings):  # one record per line, whatever a file name or key holds
        out.write(f"{f.file}:{f.line}:{f.column}: {f.rule} {one_line(f.message)}\n")


def print_json(data: Any) -> None:
    """Strict JSON (RFC 8259): a number that is not finite (a sum that overflowed) is null."""
    typer.echo(json.dumps(finite(data), indent=2, ensure_ascii=False, allow_nan=False, default=_json_default))


def print_records(records: list[dict[str, Any]], fmt: "Listing") -> bool:
    """json or csv of flat records (one column per key); False for table, which each command draws."""
    if fmt is Listing.json:
        print_json(records)
    elif fmt is Listing.csv:
        print_csv(list(records[0]) if records else [], [list(r.values()) for r in records])
    return fmt is not Listing.table


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


def console(width: int | None = None) -> Any:
    """A rich console for tables: plain when not a terminal; NO_COLOR respected by rich itself.

    Piped or captured, rich takes the width from $COLUMNS, else 80: output does not depend on who reads it.
    """
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


WHOLE = ("key", "money", "date", "number")  # cells people type or compare: never wrapped, never cut
KINDS = WHOLE + ("words", "text")  # both wrap between words; only free text folds a word too long (a URL)
FOLD_AT = 16  # free text gives a longer word no more than this


def print_table(out: Any, columns: list[tuple[str, str]], rows: list[list[Any]], **kw: Any) -> None:
    """Every table kamctl prints: columns are (title, kind), cells plain text (never markup).

    A kind ending in `?` (`number?`) marks a column of low value, dropped first when short of room.
    Widths are shared out here, not by rich, which squeezes wrapping columns below their longest
    word and cuts the others with an ellipsis. Whole columns (key, money, date, number) get their
    widest cell; words columns (ids among words) at least their longest word; text columns at least
    FOLD_AT; the spare room goes in proportion to need, so they wrap between words. Short of room,
    `?` columns go (rightmost first); a table that still cannot fit is printed as records, never cut.
    """
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    kinds = [kind.rstrip("?") for _, kind in columns]
    assert all(kind in KINDS for kind in kinds), columns
    # control characters (ESC, C0, C1) shown as escapes: a name in an untrusted file cannot rewrite the terminal
    cells = [["" if c is None else visible(str(c)) for c in row] for row in rows]

    def measure(keep: list[int]) -> tuple[list[int], list[int], int]:
        lines = [[ln for cell in [columns[i][0]] + [r[i] for r in cells] for ln in cell.splitlines() or [""]]
                 for i in keep]
        widest = [max(cell_len(ln) for ln in col) for col in lines]
        word = [max((cell_len(w) for ln in col for w in ln.split()), default=1) for col in lines]
        low = [min(w, FOLD_AT) if kinds[i] == "text" else w if kinds[i] == "words" else full
               for i, w, full in zip(keep, word, widest)]
        return widest, low, out.width - 3 * (len(keep) - 1)  # a space each side, one between

    keep = list(range(len(columns)))
    widest, low, room = measure(keep)
    while sum(low) > room and any(columns[i][1].endswith("?") for i in keep):
        keep.remove(max(i for i in keep if columns[i][1].endswith("?")))
        widest, low, room = measure(keep)
    if sum(low) > room:  # too many whole columns for the console: one block of `title: value` lines per row
        _print_records(out, columns, cells, kw.get("title"))
        return
    wraps = [kinds[i] in ("words", "text") for i in keep]
    widths = list(widest)
    if sum(widest) > room:
        widths = list(low)
        spare = room - sum(widths)
        need = [full - lo for full, lo in zip(widest, low)]
        if spare > 0 and sum(need):
            total = sum(need)
            for n, _ in enumerate(need):
                widths[n] += min(need[n], spare * need[n] // total)
    kw.setdefault("leading", 1 if any("\n" in c for r in cells for c in r) else 0)  # rows of several lines apart
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, **kw)
    for n, i in enumerate(keep):
        table.add_column(columns[i][0], width=widths[n], no_wrap=not wraps[n], overflow="fold",
                         justify="right" if kinds[i] in ("money", "number") else "left")
    for r in cells:
        table.add_row(*(Text(r[i]) for i in keep))
    out.print(table)


def _print_records(out: Any, columns: list[tuple[str, str]], cells: list[list[str]], title: Any) -> None:
    """A table too wide to fit, as records: the first cell heads each block, then `title: value`
    fields filling lines of the console's width (a field is never split unless longer than a line)."""
    from rich.cells import cell_len

    lines = [str(title), ""] if title else []
    for r in cells:
        lines.append(r[0])
        line = ""
        for (name, _), cell in zip(columns[1:], r[1:]):
            if not cell.strip():
                continue
            field = f"{name}: " + " / ".join(cell.splitlines())
            if line and cell_len(line) + 3 + cell_len(field) > out.width:
                lines.append(line)
                line = ""
            line = f"{line}   {field}" if line else f"  {field}"
        if line:
            lines.append(line)
    out.print("\n".join(lines), markup=False, highlight=False)


def parse_date(value: str | None, option: str = "--as-of") -> Any:
    """YYYY-MM-DD or today; a bad date is a usage error."""
    import datetime as dt

    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; write YYYY-MM-DD")
