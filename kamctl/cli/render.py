"""render: account plans, relationship questionnaires, satisfaction surveys and the portfolio as Markdown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import typer

from kamctl.assessment import Assessments
from kamctl.cli.common import (AT, DATA_PROBLEM, USAGE, as_of_date, fail, id_argument, id_option, load, print_findings,
                               write_output)
from kamctl.render import RenderError
from kamctl import render
from kamctl.present import plural

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


def account_document(kind: str) -> Any:
    """The command of an account document with no options of its own (render.ACCOUNT_DOCUMENTS)."""

    def command(ctx: typer.Context, account_id: str = ACCOUNT_ID, out: Optional[Path] = OUT,
                as_of: Optional[str] = AS_OF, at: Optional[str] = AT) -> None:
        _account_document(ctx, kind, account_id, out, as_of, at)
    return command


def questionnaire(ctx: typer.Context, account_id: str = ACCOUNT_ID, out: Optional[Path] = OUT,
                  contact: Optional[str] = id_option("--contact", kind="contact id", metavar="ID", show_default=False,
                                                     help="Only this decision maker (their id, or name as a slug)."),
                  blank: bool = typer.Option(False, "--blank", help="Ruled lines to fill in by hand instead of the answers on file."),
                  with_counterparts: bool = typer.Option(False, "--with-counterparts",
                                                         help="With --blank: name our counterpart of each decision maker."),
                  as_of: Optional[str] = AS_OF, at: Optional[str] = AT) -> None:
    """render.ACCOUNT_DOCUMENTS["questionnaire"], with the options only a questionnaire has."""
    if with_counterparts and not blank:
        fail("--with-counterparts needs --blank (the questionnaire with answers always names them)", USAGE)
    _account_document(ctx, "questionnaire", account_id, out, as_of, at, contact=contact, blank=blank,
                      with_counterparts=with_counterparts)


def portfolio(ctx: typer.Context, out: Optional[Path] = OUT, as_of: Optional[str] = AS_OF,
              at: Optional[str] = AT) -> None:
    """The portfolio: Key Account Model chart, accounts per quadrant, relationship levels, scoring worksheets.

    Example: kamctl -w examples render portfolio --out docs/
    """

    ws = load(ctx, at=at)
    _report_invalid(ws)
    when = _date(ws, as_of)
    text = _run(lambda: render.render_portfolio(_valid(ws), ws.settings, ws.root, as_of=when))
    _emit(text, out, "portfolio.md")
    if any(not a.ok for a in ws.accounts):
        raise typer.Exit(DATA_PROBLEM)


def render_all(ctx: typer.Context,
               out: Path = typer.Option(..., "--out", help="Folder for the documents (created if missing)."),
               as_of: Optional[str] = AS_OF, at: Optional[str] = AT) -> None:
    """Every document of every account (ID-plan.md, ID-questionnaire.md, ID-survey.md) and portfolio.md.

    Files whose bytes would not change are not rewritten, so a rerun leaves git with nothing to show.

    Example: kamctl -w examples render all --out docs/kam
    """

    ws = load(ctx, at=at)
    _report_invalid(ws)
    when = _date(ws, as_of)
    env = render.environment(ws.root)
    assessed = Assessments(ws.settings, when or dt.date.today())  # each account assessed once for all its documents
    documents: list[tuple[str, Any]] = []
    for loaded in ws.accounts:
        if not loaded.ok:
            continue
        for kind in render.ACCOUNT_DOCUMENTS:
            documents.append((f"{loaded.id}-{kind}.md", lambda kind=kind, loaded=loaded: render.render_account(
                kind, loaded.id, loaded, ws.settings, ws.root, as_of=when, env=env, assessments=assessed)))
    documents.append(("portfolio.md", lambda: render.render_portfolio(_valid(ws), ws.settings, ws.root,
                                                                      as_of=when, env=env, assessments=assessed)))
    texts = [(name, _run(make)) for name, make in documents]  # render everything before writing anything
    written = sum(_write(out / name, text) for name, text in texts)
    typer.echo(f"{plural(len(texts), 'document')} in {out}: {written} written, {len(texts) - written} unchanged", err=True)
    if any(not a.ok for a in ws.accounts):
        raise typer.Exit(DATA_PROBLEM)


# --- helpers -------------------------------------------------------------------------------------


def _account_document(ctx: typer.Context, kind: str, account_id: str, out: Path | None, as_of: str | None,
                      at: str | None, **options: Any) -> None:

    ws = load(ctx, [account_id], at=at)
    when = _date(ws, as_of)
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


def _date(ws: Any, value: str | None) -> Any:
    """--as-of; without it the document carries no date, except at a revision (--at): that commit's date."""
    if value is None and getattr(ws, "revision", None) is None:
        return None
    return as_of_date(ws, value)


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
    """Write only when the bytes differ (atomic, through fsafe: see common.write_output)."""
    return write_output(path, text.encode("utf-8"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    for kind, document in render.ACCOUNT_DOCUMENTS.items():
        command = questionnaire if kind == "questionnaire" else account_document(kind)
        render_app.command(kind, help=document.help)(command)
    render_app.command()(portfolio)
    render_app.command("all")(render_all)
    app.add_typer(render_app)
