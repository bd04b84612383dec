"""kamctl agenda: what comes due in the next days, as a table, JSON or a calendar to subscribe to."""

from __future__ import annotations

import datetime as dt
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from kamctl import ical
from kamctl.agenda import DAYS, agenda
from kamctl.cli.common import AT, as_of_date, console, fail, invalid_note, load, print_json, print_table, write_output


class Format(str, Enum):
    table = "table"
    json = "json"
    ics = "ics"


def agenda_command(
    ctx: typer.Context,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The first day of the agenda (default: today)."),
    owner: Optional[str] = typer.Option(None, "--owner", metavar="NAME",
                                        help="Only items NAME owns (a tactic's owner, a contact's counterpart) "
                                             "or on accounts NAME owns; case aside."),
    days: int = typer.Option(DAYS, "--days", min=0, max=3660, help="How many days ahead."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json, or ics (iCalendar, to subscribe to)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    at: Optional[str] = AT,
) -> None:
    """What comes due in the next days, soonest first: tactics, contacts going cold, surveys, opportunities, plan years.

    From --as-of to --as-of + --days (14 by default): open tactics' due dates, the last day before a
    decision maker goes cold (last_contact + checks.limits.contact_days), the next survey (latest +
    checks.limits.survey_days), open opportunities' close dates and the last day in their stage
    before they are stale, and the end of the plan year. What is already overdue is `kamctl check`'s.
    --format ics writes all-day events whose UIDs stay the same when an item moves.

    Example: kamctl -w examples agenda --as-of 2026-12-01 --days 30
    """
    ws = load(ctx, at=at)
    day = as_of_date(ws, as_of)
    accounts = [(a.id, a.account) for a in ws.accounts if a.account is not None]
    items = agenda(accounts, ws.settings, day, days, owner)
    if fmt is Format.ics:
        title = f"KAM agenda ({owner})" if owner else "KAM agenda"
        data = ical.ics(items, day, title)
        if out is not None:
            write_output(out, data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    elif out is not None:
        fail("--out is for --format ics; redirect the table or JSON instead")
    elif fmt is Format.json:
        print_json([i.record() for i in items])
    else:
        rows = [[i.date.isoformat(), str((i.date - day).days), i.kind, i.account, i.what, i.owner or ""]
                for i in items]
        title = f"Agenda {day.isoformat()} to {(day + dt.timedelta(days=days)).isoformat()} ({len(rows)})"
        if rows:
            print_table(console(), [("Date", "date"), ("In days", "number?"), ("Kind", "key"), ("Account", "key"),
                                    ("What", "text"), ("Owner", "words?")], rows, title=title)
        else:
            typer.echo(f"{title}: nothing due")
    raise typer.Exit(invalid_note(ws))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("agenda")(agenda_command)
