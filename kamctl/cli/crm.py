"""import salesforce|hubspot|csv and export salesforce|json: accounts in from the CRM and back out."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from kamctl import fsafe
from kamctl.cli.common import (DATA_PROBLEM, USAGE, as_of_date, fail, load, parse_date, print_findings,
                               print_json, workspace_root, write_output)
from kamctl.crm import apply, export, extract
from kamctl.crm.merge import Plan, Selection, SelectionError, plan_import
from kamctl.crm.sources import DATE_FORMATS, SourceError
from kamctl.present import plural
from kamctl.workspace import ACCOUNTS_DIR, display
from kamctl.yamlio.write import BusyError, ConflictError, locked

import_app = typer.Typer(name="import", no_args_is_help=True,
                         help="Bring key accounts in from the CRM: Salesforce or HubSpot exports, or any CSV with a map.")
export_app = typer.Typer(name="export", no_args_is_help=True,
                         help="Write the portfolio out: Salesforce CSVs, or JSON with the computed results.")

ACCOUNT = typer.Option(None, "--account", help="A CRM account to import, by id or name (repeatable).")
WHERE = typer.Option(None, "--where", help="Import the accounts whose column matches, e.g. 'AnnualRevenue>=1000000' "
                     "(repeatable: all must hold).")
LIST = typer.Option(None, "--accounts-file", help="A file of CRM account ids or names to import, one a line.")
ALL = typer.Option(False, "--all", help="Import every account of the export.")
STRICT = typer.Option(False, "--strict", help="Refuse the whole import when any row has a problem.")
DRY_RUN = typer.Option(False, "--dry-run", help="Show what would change; write nothing.")
DATE_FORMAT = typer.Option(None, "--date-format", help="dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd (default: crm.date_format, "
                           "auto: told from the dates, refused when they cannot tell).")
DATE = typer.Option(None, "--date", help="Date of stage changes the CRM does not date, YYYY-MM-DD (default: today).")
LIST_LIMIT = 1024 * 1024


def _names_file(path: Path) -> list[str]:
    try:
        raw = fsafe.read_bytes(path.parent, path.name, LIST_LIMIT)
    except OSError as exc:
        fail(f"--accounts-file {path}: cannot read it: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(f"--accounts-file {path}: not UTF-8 text")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _format(value: Optional[str], settings: Any) -> str:
    fmt = (value or settings.crm.date_format).lower()
    if fmt not in ("auto", *DATE_FORMATS):
        fail(f"--date-format {value!r}: use dd/mm/yyyy, mm/dd/yyyy, yyyy-mm-dd or auto")
    return fmt


def _show(plan: Plan) -> None:
    """Each change, one line per file and change (a new file: one line)."""
    for fp in plan.changed:
        shown = display(fp.file)
        if fp.new:
            typer.echo(f"{shown}: new account '{fp.crm.name}' ({plural(len(fp.contacts), 'decision maker')}, "
                       f"{plural(len(fp.opportunities), 'opportunity', 'opportunities')})")
        else:
            for change in fp.changes:
                typer.echo(f"{shown}: {change.describe()}")


def _counts(plan: Plan) -> str:
    added, updated, unchanged = plan.counts()
    return f"{added} account(s) added, {updated} updated, {unchanged} unchanged"


def _run(ctx: typer.Context, read: Callable[[str], Any], source: str, account: Optional[List[str]],
         where: Optional[List[str]], accounts_file: Optional[Path], everything: bool, strict: bool, dry_run: bool,
         date_format: Optional[str], date: Optional[str]) -> None:
    today = parse_date(date, "--date")
    root = workspace_root(ctx)
    names = list(account or []) + (_names_file(accounts_file) if accounts_file else [])
    selection = Selection(names, list(where or []), everything)
    try:
        os.close(fsafe.open_dir(root, ACCOUNTS_DIR, create=not dry_run))
    except FileNotFoundError:
        pass
    except OSError as exc:
        fail(f"{display(root / ACCOUNTS_DIR)}: {exc}", DATA_PROBLEM)
    try:
        with locked(apply.lock_target(root)) if (root / ACCOUNTS_DIR).is_dir() else contextlib.nullcontext():
            _import(ctx, root, read, source, selection, strict, dry_run, date_format, today)
    except BusyError as exc:
        fail(str(exc), DATA_PROBLEM)


def _import(ctx: typer.Context, root: Path, read: Callable[[str], Any], source: str, selection: Selection,
            strict: bool, dry_run: bool, date_format: Optional[str], today: dt.date) -> None:
    ws = load(ctx)
    bad = [a for a in ws.accounts if a.account is None]
    if bad:
        print_findings([f for a in bad for f in a.findings])
        fail(f"{plural(len(bad), 'account file')} cannot be read (see above); fix them first: the import matches "
             "accounts on the crm_id in each file and would otherwise add duplicates. Nothing was written.",
             DATA_PROBLEM)
    try:
        data = read(_format(date_format, ws.settings))
        plan = plan_import(data, ws.valid_accounts(), ws.settings, root / ACCOUNTS_DIR, selection, today)
    except SourceError as exc:
        fail(f"{exc}; nothing was imported", DATA_PROBLEM)
    except SelectionError as exc:
        fail(f"{exc}; nothing was imported", USAGE)
    for issue in plan.issues:
        typer.echo(str(issue), err=True)
    for note in plan.notes:
        typer.echo(note, err=True)
    if strict and plan.issues:
        fail(f"refused (--strict): {plural(len(plan.issues), 'row')} with problems (see above); nothing was written",
             DATA_PROBLEM)
    if not plan.files:
        typer.echo(f"No key accounts selected from the {source} export ({plural(len(data.accounts), 'account')} in it):"
                   " name them with --account, --where or --accounts-file, or take every one with --all.", err=True)
        return
    _show(plan)
    if dry_run:
        typer.echo(f"Dry run: {_counts(plan).replace(' added', ' would be added')}; nothing was written.")
        return
    try:
        rendered = apply.render(plan, root)
        apply.commit(rendered, root)
    except apply.ApplyError as exc:
        fail(str(exc), DATA_PROBLEM)
    except (ConflictError, OSError) as exc:
        fail(f"import stopped: {exc}", DATA_PROBLEM)
    skipped = f"; {plural(len(plan.issues), 'row')} skipped (see above)" if plan.issues else ""
    typer.echo(f"Imported from {source}: {_counts(plan)}{skipped}.")


def salesforce(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., metavar="DIR", help="The folder of the export (Account.csv, Contact.csv, ...)."),
    account: Optional[List[str]] = ACCOUNT, where: Optional[List[str]] = WHERE, accounts_file: Optional[Path] = LIST,
    everything: bool = ALL, strict: bool = STRICT, dry_run: bool = DRY_RUN, date_format: Optional[str] = DATE_FORMAT,
    date: Optional[str] = DATE,
) -> None:
    """Import a Salesforce data export: Account.csv, and Contact, Opportunity, OpportunityContactRole, User.

    Without --account, --where, --accounts-file or --all, only accounts already in the workspace are
    updated (matched by crm_id). A re-import changes only what changed in the CRM.

    Example: kamctl -w examples import salesforce examples/crm/salesforce --where 'AnnualRevenue>=1000000' --dry-run
    """
    _run(ctx, lambda fmt: extract.salesforce(folder, fmt), "Salesforce", account, where, accounts_file,
         everything, strict, dry_run, date_format, date)


def hubspot(
    ctx: typer.Context,
    files: List[Path] = typer.Argument(..., metavar="FILE...", help="Companies, contacts and deals CSV exports."),
    account: Optional[List[str]] = ACCOUNT, where: Optional[List[str]] = WHERE, accounts_file: Optional[Path] = LIST,
    everything: bool = ALL, strict: bool = STRICT, dry_run: bool = DRY_RUN, date_format: Optional[str] = DATE_FORMAT,
    date: Optional[str] = DATE,
) -> None:
    """Import HubSpot exports (companies, contacts, deals; property labels as headers).

    Deal stages may be labels (Closed Won) or internal ids (closedwon).

    Example: kamctl -w examples import hubspot examples/crm/hubspot/companies.csv examples/crm/hubspot/deals.csv --account "Aurora Telecom Europe" --dry-run
    """
    _run(ctx, lambda fmt: extract.hubspot(files, fmt), "HubSpot", account, where, accounts_file,
         everything, strict, dry_run, date_format, date)


def csv_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE", help="The CSV file."),
    map_file: Path = typer.Option(..., "--map", help="YAML: per account/contact/opportunity, kamctl field -> column."),
    account: Optional[List[str]] = ACCOUNT, where: Optional[List[str]] = WHERE, accounts_file: Optional[Path] = LIST,
    everything: bool = ALL, strict: bool = STRICT, dry_run: bool = DRY_RUN, date_format: Optional[str] = DATE_FORMAT,
    date: Optional[str] = DATE,
) -> None:
    """Import any CSV with a map from its columns to kamctl fields.

    The map, e.g.: {account: {crm_id: CustomerNo, name: Customer}, opportunity: {crm_id: DealNo,
    title: Deal, stage: Phase, value: Amount, close: Due}}.

    Example: kamctl -w examples import csv examples/crm/deals.csv --map examples/crm/deals-map.yaml --all --dry-run
    """
    columns = _map(map_file)
    _run(ctx, lambda fmt: extract.mapped(file, columns, fmt), "CSV", account, where, accounts_file,
         everything, strict, dry_run, date_format, date)


def _map(path: Path) -> dict:
    import yaml

    try:
        raw = fsafe.read_bytes(path.parent, path.name, LIST_LIMIT)
        data = yaml.safe_load(raw.decode("utf-8-sig"))
        return extract.check_map(data)
    except OSError as exc:
        fail(f"--map {path}: cannot read it: {exc.strerror or exc}")
    except (UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        fail(f"--map {path}: {str(exc).splitlines()[0]}")


def export_salesforce(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="Folder for Account.csv, Contact.csv, Opportunity.csv, "
                             "OpportunityContactRole.csv."),
) -> None:
    """Write Salesforce CSVs (API field names, CRM ids where known) for Data Loader.

    Example: kamctl -w examples export salesforce --out sf-export
    """
    ws = load(ctx)
    accounts = [(la.id, la.account) for la in ws.valid_accounts()]
    for name, rows in export.salesforce_rows(accounts).items():
        write_output(out / name, export.csv_bytes(rows))
    typer.echo(f"Wrote {', '.join(export.FILES)} to {out} ({plural(len(accounts), 'account')})")
    _invalid(ws)


def export_json(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date of the computed results (default: today)."),
) -> None:
    """Write the whole portfolio as JSON with the computed results (scores, pipeline, alerts), for BI tools.

    Example: kamctl -w examples export json --out portfolio.json
    """
    import json

    ws = load(ctx)
    data = export.portfolio(ws.valid_accounts(), ws.settings, as_of_date(ws, as_of))
    if out is None:
        print_json(data)
    else:
        write_output(out, (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8"))
    _invalid(ws)


def _invalid(ws: Any) -> None:
    bad = [a for a in ws.accounts if a.account is None]
    if bad:
        typer.echo(f"{plural(len(bad), 'account file')} left out: run kamctl validate", err=True)
        raise typer.Exit(DATA_PROBLEM)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    import_app.command("salesforce")(salesforce)
    import_app.command("hubspot")(hubspot)
    import_app.command("csv")(csv_command)
    export_app.command("salesforce")(export_salesforce)
    export_app.command("json")(export_json)
    app.add_typer(import_app)
    app.add_typer(export_app)
