"""contact, tactic done, survey add, sales set: the small updates of a week, without opening YAML.

Each goes through the same path as `opp`: the account is read and validated under the edit lock,
the item is found by its id (a did-you-mean when unknown, exit 2), bad values are refused before
anything is read (exit 2), a refused edit exits 1, and kamctl.updates changes only the lines of
that item, atomically.
"""

from __future__ import annotations

import math
from typing import Optional

import typer

from kamctl import updates
from kamctl.cli.common import DATA_PROBLEM, fail, id_argument, parse_date
from kamctl.cli.opp import account_file, write_edit
from kamctl.ids import did_you_mean
from kamctl.model.account import MONEY_MAX, Survey

DATE_HELP = "The day, YYYY-MM-DD (default: today)."

tactic_app = typer.Typer(name="tactic", help="Mark a development-plan tactic done (the edit keeps the file's comments).",
                         no_args_is_help=True)
survey_app = typer.Typer(name="survey", help="Record a satisfaction survey or interview (the edit keeps the file's "
                         "comments).", no_args_is_help=True)
sales_app = typer.Typer(name="sales", help="Record the sales achieved in a period (the edit keeps the file's comments).",
                        no_args_is_help=True)


def _unknown(what: str, value: str, account_id: str, known: list[str]) -> None:
    fail(f"no {what} '{value}' in account '{account_id}'{did_you_mean(value, known)} "
         f"(its {what}s: {', '.join(known) or 'none yet'}); nothing was changed")


def contact(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    person: str = id_argument(kind="contact id", metavar="PERSON",
                              help="Decision maker: their id, else their name as a slug (katrin-weber)."),
    date: Optional[str] = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Record that we met or spoke to a decision maker: sets their last_contact.

    An earlier date than the one on file is refused (exit 1): the last contact never moves back.

    Example: kamctl contact alpenmilch-foods kweber --date 2026-11-30
    """
    when = parse_date(date, "--date")
    loaded = account_file(ctx, account_id)
    people = loaded.account.decision_makers
    keys = [dm.key for dm in people]
    if person not in keys:
        _unknown("decision maker", person, account_id, keys)
    index = keys.index(person)
    dm = people[index]
    if dm.last_contact is not None and when < dm.last_contact:
        fail(f"refused: {dm.name} was last contacted on {dm.last_contact.isoformat()}, after {when.isoformat()}; "
             "nothing was changed", DATA_PROBLEM)
    write_edit(lambda: updates.set_last_contact(loaded.file, index, dm.name, when, loaded._root), loaded)
    typer.echo(f"{loaded.id}/{person}: last contact {when.isoformat()} ({loaded.path})")


def tactic_done(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    tactic: str = id_argument(kind="tactic id", metavar="TACTIC",
                              help="The tactic's id, else its title as a slug (two-week-trial-on-line-4)."),
    date: Optional[str] = typer.Option(None, "--date", help="The day it was done, YYYY-MM-DD (default: today)."),
) -> None:
    """Mark a tactic of the development plan done: status done, completed DATE.

    A tactic already done or dropped is refused (exit 1); two tactics with the same title need an id: each.

    Example: kamctl tactic done alpenmilch-foods joint-line-layout-workshop-in-wroclaw --date 2026-11-28
    """
    when = parse_date(date, "--date")
    loaded = account_file(ctx, account_id)
    found = [((i, j, k), t) for i, obj in enumerate(loaded.account.plan.objectives)
             for j, strat in enumerate(obj.strategies) for k, t in enumerate(strat.tactics)]
    matches = [(place, t) for place, t in found if t.key == tactic]
    if not matches:
        _unknown("tactic", tactic, account_id, list(dict.fromkeys(t.key for _, t in found)))
    if len(matches) > 1:
        fail(f"refused: {len(matches)} tactics of account '{account_id}' are called '{tactic}'; give each an "
             "`id:` in the file and name it by that; nothing was changed", DATA_PROBLEM)
    place, item = matches[0]
    if item.status in ("done", "dropped"):
        fail(f"refused: tactic '{tactic}' is already {item.status}; nothing was changed", DATA_PROBLEM)
    write_edit(lambda: updates.complete_tactic(loaded.file, place, item.title, when, loaded._root), loaded)
    typer.echo(f"{loaded.id}/{tactic}: done {when.isoformat()} ({loaded.path})")


METHODS = Survey.model_fields["method"].annotation.__args__  # survey, interview: from the model


def survey_add(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    score: float = typer.Option(..., "--score", help="Overall satisfaction, 1 to 5."),
    date: Optional[str] = typer.Option(None, "--date", help="The day of the survey, YYYY-MM-DD (default: today)."),
    method: str = typer.Option("survey", "--method", help=f"{' or '.join(METHODS)}."),
) -> None:
    """Add a satisfaction survey or interview to performance.surveys.

    Example: kamctl survey add meridian-pharma --score 4.2 --method interview --date 2026-11-20
    """
    when = parse_date(date, "--date")
    if not (math.isfinite(score) and 1 <= score <= 5):
        fail(f"--score {score:g} must be a number from 1 to 5")
    if method not in METHODS:
        fail(f"--method {method!r}: choose {' or '.join(METHODS)}")
    loaded = account_file(ctx, account_id)
    entry = {"date": when, "method": method, "score": int(score) if score.is_integer() else score}
    write_edit(lambda: updates.add_survey(loaded.file, entry, loaded._root), loaded)
    typer.echo(f"{loaded.id}: survey {when.isoformat()} ({method}, score {score:g}) ({loaded.path})")


def sales_set(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    period: str = typer.Argument(..., metavar="PERIOD", help="A period already under performance.sales: 2026 or 2026-Q3."),
    achieved: float = typer.Option(..., "--achieved", help="Sales achieved in the period (a number >= 0)."),
) -> None:
    """Set the sales achieved in a period of performance.sales.

    Only a period already on file is set (an unknown one exits 2, with the periods there).

    Example: kamctl sales set alpenmilch-foods 2026-Q3 --achieved 1050000
    """
    if not (math.isfinite(achieved) and 0 <= achieved <= MONEY_MAX):
        fail(f"--achieved {achieved:g} must be a number from 0 to {MONEY_MAX:.0e}")
    loaded = account_file(ctx, account_id)
    periods = [p.period for p in loaded.account.performance.sales]
    if period not in periods:
        _unknown("sales period", period, account_id, periods)
    if periods.count(period) > 1:
        fail(f"refused: period {period} is under performance.sales {periods.count(period)} times; "
             "merge them by hand first; nothing was changed", DATA_PROBLEM)
    index = periods.index(period)
    write_edit(lambda: updates.set_achieved(loaded.file, index, period, achieved, loaded._root), loaded)
    typer.echo(f"{loaded.id}: sales {period} achieved {achieved:,.0f} ({loaded.path})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("contact")(contact)
    tactic_app.command("done")(tactic_done)
    survey_app.command("add")(survey_add)
    sales_app.command("set")(sales_set)
    app.add_typer(tactic_app)
    app.add_typer(survey_app)
    app.add_typer(sales_app)
