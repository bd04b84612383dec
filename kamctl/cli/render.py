"""render: account plans, relationship questionnaires, satisfaction surveys and the portfolio as Markdown."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer

from kamctl import fsafe
from kamctl.cli.common import DATA_PROBLEM, USAGE, fail, id_argument, id_option, load, parse_date, print_findings
from kamctl.markdown import plural

render_app = typer.Typer(
    name="render",
    help="Render Markdown with Jinja templates (the workspace's templates/ first, then the built-in ones).",
    no_args_is_help=True,
)

ACCOUNT_ID = id_argument(help="Account id (the file name in accounts/ without .yaml).")
OUT = typer.Option(None, "--out", help="Write into this folder (as ID-KIND.md or portfolio.md) instead of stdout.",
                   show_default=False)
AS_OF = typer.Option(None, "--as-of", metavar="DATE", show_default=False,
                     help="Compute and show the document as of YYYY-MM-DD (default: today, and no date shown).")


def plan(ctx: typer.Context, account_id: str = ACCOUNT_ID, out: Optional[Path] = OUT,
         as_of: Optional[str] = AS_OF) -> None:
    """The account plan: scores and quadrant, strategy charter, development plan, relationship map,
    pipeline, performance and five forces.

    Example: kamctl -w examples render plan acme-corp --as-of 2026-11-30
    """
    _account_document(ctx, "plan", account_id, out, as_of)


def questionnaire(ctx: typer.Context, account_id: str = ACCOUNT_ID, out: Optional[Path] = OUT,
                  contact: Optional[str] = id_option("--contact", kind="contact id", metavar="ID", show_default=False,
                                                     help="Only this decision maker (their id, or name as a slug)."),
                  blank: bool = typer.Option(False, "--blank", help="Ruled lines to fill in by hand instead of the answers on file."),
                  as_of: Optional[str] = AS_OF) -> None:
    """The relationship-map questionnaire (the four agenda questions) for each key decision maker.

    Example: kamctl -w examples render questionnaire acme-corp --contact mkovacs --blank
    """
    _account_document(ctx, "questionnaire", account_id, out, as_of, contact=contact, blank=blank)


def survey(ctx: typer.Context, account_id: str = ACCOUNT_ID, out: Optional[Path] = OUT,
           as_of: Optional[str] = AS_OF) -> None:
    """The customer satisfaction survey for the account's annual review.

    Example: kamctl -w examples render survey acme-corp --out review/
    """
    _account_document(ctx, "survey", account_id, out, as_of)


def portfolio(ctx: typer.Context, out: Optional[Path] = OUT, as_of: Optional[str] = AS_OF) -> None:
    """The portfolio: Key Account Model chart, accounts per quadrant, relationship levels, scoring worksheets.

    Example: kamctl -w examples render portfolio --out docs/
    """
    from kamctl import render

    ws = load(ctx)
    _report_invalid(ws)
    when = _date(as_of)
    text = _run(lambda: render.render_portfolio(_valid(ws), ws.settings, ws.root, as_of=when))
    _emit(text, out, "portfolio.md")
    if any(not a.ok for a in ws.accounts):
        raise typer.Exit(DATA_PROBLEM)


def render_all(ctx: typer.Context,
               out: Path = typer.Option(..., "--out", help="Folder for the documents (created if missing)."),
               as_of: Optional[str] = AS_OF) -> None:
    """Every document of every account (ID-plan.md, ID-questionnaire.md, ID-survey.md) and portfolio.md.

    Files whose bytes would not change are not rewritten, so a rerun leaves git with nothing to show.

    Example: kamctl -w examples render all --out docs/kam
    """
    from kamctl import render

    ws = load(ctx)
    _report_invalid(ws)
    when = _date(as_of)
    env = render.environment(ws.root)
    documents: list[tuple[str, Any]] = []
    for loaded in ws.accounts:
        if not loaded.ok:
            continue
        for kind in render.ACCOUNT_DOCUMENTS:
            documents.append((f"{loaded.id}-{kind}.md", lambda kind=kind, loaded=loaded: render.render_account(
                kind, loaded.id, loaded, ws.settings, ws.root, as_of=when, env=env)))
    documents.append(("portfolio.md", lambda: render.render_portfolio(_valid(ws), ws.settings, ws.root,
                                                                      as_of=when, env=env)))
    texts = [(name, _run(make)) for name, make in documents]  # render everything before writing anything
    written = sum(_write(out / name, text) for name, text in texts)
    typer.echo(f"{plural(len(texts), 'document')} in {out}: {written} written, {len(texts) - written} unchanged", err=True)
    if any(not a.ok for a in ws.accounts):
        raise typer.Exit(DATA_PROBLEM)


# --- helpers -------------------------------------------------------------------------------------


def _account_document(ctx: typer.Context, kind: str, account_id: str, out: Path | None, as_of: str | None,
                      **options: Any) -> None:
    from kamctl import render

    ws = load(ctx, [account_id])
    when = _date(as_of)
    loaded = ws.accounts[0]
    if not loaded.ok:
        print_findings(loaded.findings)
        fail(f"{loaded.path} has problems; fix them first (see above, or run `kamctl validate`)", DATA_PROBLEM)
    try:
        text = _run(lambda: render.render_account(kind, loaded.id, loaded, ws.settings, ws.root,
                                                  as_of=when, **options))
    except render.ContactError as exc:
        fail(str(exc), USAGE)
    _emit(text, out, f"{loaded.id}-{kind}.md")


def _date(value: str | None) -> Any:
    return None if value is None else parse_date(value)


def _valid(ws: Any) -> list[tuple[str, Any]]:
    return [(a.id, a.account) for a in ws.accounts if a.ok]


def _report_invalid(ws: Any) -> None:
    """Invalid accounts are left out of the documents; their problems go to stderr (exit 1 at the end)."""
    bad = [a for a in ws.accounts if not a.ok]
    for loaded in bad:
        print_findings(loaded.findings)
    if bad:
        typer.echo(f"kamctl: {plural(len(bad), 'invalid account file')} left out "
                   f"({', '.join(a.id for a in bad)})", err=True)


def _run(make: Any) -> str:
    """Render; a template problem is a one-line error naming the template file, exit 1."""
    from kamctl.render import RenderError

    try:
        return make()
    except RenderError as exc:
        fail(str(exc), DATA_PROBLEM)


def _emit(text: str, out: Path | None, name: str) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    changed = _write(out / name, text)
    typer.echo(f"{'wrote' if changed else 'unchanged'} {out / name}", err=True)


def _write(path: Path, text: str) -> bool:
    """Write only when the bytes differ (atomic); True when the file was written. The existing file
    is read and replaced through kamctl.fsafe: a FIFO, folder or symlink under that name (the --out
    folder may be in an untrusted workspace) is refused with a one-line error, exit 1; never a hang,
    never a write through a link."""
    data = text.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = fsafe.open_dir(path.parent, "")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", USAGE)
    try:
        try:
            if fsafe.read_at(folder, path.name, len(data)) == data:
                return False
        except (FileNotFoundError, fsafe.TooLarge):
            pass
        except fsafe.UnsafePath:
            fail(f"refusing to write {path}: it is a symlink, folder, pipe or device, not a regular file; "
                 "remove it (kamctl never writes through it)", DATA_PROBLEM)
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror}", USAGE)
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


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    render_app.command()(plan)
    render_app.command()(questionnaire)
    render_app.command()(survey)
    render_app.command()(portfolio)
    render_app.command("all")(render_all)
    app.add_typer(render_app)
