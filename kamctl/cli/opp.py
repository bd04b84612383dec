"""opp add/advance/decide/close/list and pipeline: the opportunities pipeline (KAM stage 3)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from kamctl.cli.common import (AT, DATA_PROBLEM, Output, as_of_date, console, fail, id_argument, id_option, invalid_note,
                               load, parse_date, print_csv, print_findings, print_json, print_table, workspace_root)
from kamctl.ids import did_you_mean
from kamctl.present import md_table
from kamctl.model.account import GATE, GATE_ANSWERS, GATE_QUESTIONS, OPEN_STAGES, QUALIFICATION, Stage
from kamctl.model.vocabulary import label
from kamctl.present import money, number, percent, to_company, totals
from kamctl.assessment import assess_all
from kamctl.model.vocabulary import ForecastCategory
from kamctl.report import portfolio
from kamctl.yamlio.write import BusyError, locked
from kamctl.workspace import ACCOUNTS_DIR, account_files, display, load_account, load_settings
from kamctl.yamlio.write import ConflictError, EditError
from kamctl.pipeline import Refused, opportunity_row, portfolio_pipeline
from kamctl import edits, pipeline

opp_app = typer.Typer(
    name="opp",
    help="Add opportunities and move them through the pipeline stages (edits keep the file's comments).",
    no_args_is_help=True,
)

DATE_HELP = "Date of the step, YYYY-MM-DD (default: today)."


# --- editing ----------------------------------------------------------------------------------------


def account_file(ctx: typer.Context, account_id: str) -> Any:
    """The account, read and validated first; an unknown account is a usage error (exit 2), an invalid
    one refuses the edit (exit 1)."""

    root = workspace_root(ctx)
    by_id = {p.stem: p for p in account_files(root)}
    if account_id not in by_id:
        fail(f"no account '{account_id}' in {display(root / ACCOUNTS_DIR)}{did_you_mean(account_id, by_id)}; "
             "nothing was changed. `kamctl score` lists the accounts, `kamctl new ID --name NAME` creates one")
    _lock(ctx, by_id[account_id])
    loaded = load_account(by_id[account_id], root)
    if not loaded.ok:
        print_findings(loaded.findings)
        fail(f"{loaded.path} has problems (see above); fix them before editing it", DATA_PROBLEM)
    return loaded


def _lock(ctx: typer.Context, file: Any) -> None:
    """Hold the edit lock until the command ends: a concurrent edit waits, then reads our result."""
    try:
        ctx.with_resource(locked(file))
    except BusyError as exc:
        fail(str(exc), DATA_PROBLEM)


def _gate_require(ctx: typer.Context) -> list[str]:
    """kam.yaml pipeline.gate.require: what a go needs recorded (kam.yaml with errors: exit 2)."""
    settings, shown, findings = load_settings(workspace_root(ctx))
    if any(f.severity.value == "error" for f in findings):
        print_findings(findings)
        fail(f"{shown} has problems; fix them first (see above); nothing was changed")
    return list(settings.pipeline.gate.require)


def _opportunity(loaded: Any, opp_id: str) -> Any:
    opp = loaded.account.opportunity(opp_id)
    if opp is None:
        ids = [o.id for o in loaded.account.opportunities]
        fail(f"no opportunity '{opp_id}' in account '{loaded.id}'{did_you_mean(opp_id, ids)} "
             f"(its opportunities: {', '.join(ids) or 'none yet'}); nothing was changed")
    return opp


def write_edit(action: Any, loaded: Any) -> None:
    """Run an edit; write conflicts and files ruamel cannot keep become exit 1 with the reason."""

    try:
        action()
    except ConflictError as exc:
        fail(str(exc), DATA_PROBLEM)
    except (EditError, OSError) as exc:
        fail(f"{loaded.path}: not changed: {exc}", DATA_PROBLEM)


def _plan(planner: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return planner(*args, **kwargs)
    except Refused as exc:
        fail(f"refused: {exc}; nothing was changed", DATA_PROBLEM)


def _stage(value: Optional[str], option: str) -> Any:
    if value is None:
        return None
    try:
        return Stage(value.replace("-", "_"))
    except ValueError:
        fail(f"{option} {value!r} is not a stage; stages: {', '.join(s.value for s in Stage)}")


def add(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id (file name without .yaml)."),
    title: str = typer.Option(..., "--title", help="What the opportunity is."),
    opp_id: Optional[str] = id_option("--id", kind="opportunity id", help="Opportunity id (default: the title as a slug)."),
    value: Optional[float] = typer.Option(None, "--value", help="Expected value (a number, >= 0)."),
    currency: Optional[str] = typer.Option(None, "--currency", help="ISO 4217 code, e.g. EUR (default: the company currency)."),
    close: Optional[str] = typer.Option(None, "--close", help="Expected close date, YYYY-MM-DD."),
    note: Optional[str] = typer.Option(None, "--note", help="Note for the history entry."),
    date: Optional[str] = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Add an opportunity at identification, after the account's last one.

    Example: kamctl opp add alpenmilch-foods --title "Film for the ready-meal range" --value 1200000 --close 2026-09-30
    """
    import math
    import re

    when = parse_date(date, "--date")
    close_date = parse_date(close, "--close") if close is not None else None
    if not title.strip():
        fail("--title must not be empty")
    code = currency.strip().upper() if currency is not None else None  # gbp is GBP
    if code is not None and not re.match(r"^[A-Z]{3}$", code):
        fail(f"--currency {currency!r} is not an ISO 4217 code such as EUR or USD")
    if value is not None and (value < 0 or not math.isfinite(value)):
        fail(f"--value {value} must be a number >= 0")
    loaded = account_file(ctx, account_id)
    taken = {o.id for o in loaded.account.opportunities}
    new = opp_id or pipeline.new_id(title)
    if new in taken:
        fix = "choose another --id" if opp_id is not None else "pass --id ID (or a different --title) to add another"
        fail(f"account '{account_id}' already has an opportunity '{new}'; {fix}; nothing was changed", DATA_PROBLEM)
    fields = {"id": new, "title": title, "value": value, "currency": code,
              "stage": pipeline.CHAIN[0].value, "close": close_date}
    entry = {"stage": pipeline.CHAIN[0].value, "date": when}
    if note:
        entry["note"] = note
    write_edit(lambda: edits.add_opportunity(loaded.file, fields, entry, loaded._root), loaded)
    typer.echo(f"Added opportunity '{new}' to {loaded.path} at {pipeline.CHAIN[0].value}")


def _apply(loaded: Any, opp: Any, change: Any) -> None:

    write_edit(lambda: edits.apply_change(loaded.file, opp.id, change, loaded._root), loaded)
    forced = " (forced)" if change.entry.get("forced") else ""
    typer.echo(f"{loaded.id}/{opp.id}: {opp.stage.label} -> {change.stage.label}{forced} ({loaded.path})")


def advance(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    opp_id: str = id_argument(kind="opportunity id", metavar="OPPORTUNITY", help="Opportunity id."),
    to: Optional[str] = typer.Option(None, "--to", help="Target stage (default: the next one)."),
    force: bool = typer.Option(False, "--force", help="Skip forward past stages (needs --note; recorded as forced)."),
    note: Optional[str] = typer.Option(None, "--note", help="Note for the history entry."),
    date: Optional[str] = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Move an opportunity to its next stage (or skip forward with --to, --force and --note).

    identification -> qualification -> decision, pursuit -> closing, contract -> engagement.
    Decision is left only with `opp decide`, pursuit and closing end with `opp close`;
    engagement, no_go and lost are final. Stages never move backwards.

    Example: kamctl opp advance cloudberry-software installer-packaging --note "Budget confirmed"
    """

    when = parse_date(date, "--date")
    target = _stage(to, "--to")
    if force and not (note and note.strip()):
        fail("--force needs --note saying why the stages are skipped")
    loaded = account_file(ctx, account_id)
    opp = _opportunity(loaded, opp_id)
    change = _plan(pipeline.plan_advance, opp, when, target, force, note, account_id)
    _apply(loaded, opp, change)


def decide(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    opp_id: str = id_argument(kind="opportunity id", metavar="OPPORTUNITY", help="Opportunity id."),
    decision: str = typer.Argument(..., metavar="go|no-go", help="go moves it to pursuit, no-go ends it (no_go)."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in decision: and in history)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decided."),
    note: Optional[str] = typer.Option(None, "--note", help="Note for the history entry."),
    date: Optional[str] = typer.Option(None, "--date", help=DATE_HELP),
    compete: Optional[str] = typer.Option(None, "--compete", metavar="yes|no|unsure", help="Can we compete?"),
    win: Optional[str] = typer.Option(None, "--win", metavar="yes|no|unsure", help="Can we win?"),
    worth: Optional[str] = typer.Option(None, "--worth", metavar="yes|no|unsure", help="Is it worth winning?"),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="MEDDPICC: the measurable gain they expect."),
    economic_buyer: Optional[str] = typer.Option(None, "--economic-buyer", help="MEDDPICC: who has the final say on the money."),
    decision_criteria: Optional[str] = typer.Option(None, "--decision-criteria", help="MEDDPICC: what they judge offers by."),
    decision_process: Optional[str] = typer.Option(None, "--decision-process", help="MEDDPICC: the steps from choice to signature."),
    paper_process: Optional[str] = typer.Option(None, "--paper-process", help="MEDDPICC: legal, procurement and contract steps."),
    pain: Optional[str] = typer.Option(None, "--pain", help="MEDDPICC: the business pain that makes them act."),
    champion: Optional[str] = typer.Option(None, "--champion", help="MEDDPICC: who sells for us inside the customer."),
    competition: Optional[str] = typer.Option(None, "--competition", help="MEDDPICC: who else they consider."),
) -> None:
    """Record the go/no-go decision of an opportunity at the decision stage.

    The answers to the gate questions (--compete, --win, --worth) go into decision:, MEDDPICC fields into qualification:; kam.yaml pipeline.gate.require names those a go needs.

    Example: kamctl opp decide st-brigid-hospitals pharmacy-logistics go --reason "Extends the hospital desk" --by "Dana Reyes" --compete yes --win yes --worth yes --economic-buyer "Zoë O'Neill (CFO)"
    """

    when = parse_date(date, "--date")
    choice = decision.lower().replace("-", "_")
    if choice not in pipeline.DECISIONS:
        fail(f"decision must be go or no-go, not {decision!r}")
    if not reason.strip():
        fail("--reason must say why")
    answers = {}
    for name, given in zip(GATE_QUESTIONS, (compete, win, worth)):
        if given is not None and given.strip().lower() not in GATE_ANSWERS:
            fail(f"--{name} {given!r}: answer {', '.join(GATE_ANSWERS)}")
        answers[name] = given.strip().lower() if given is not None else None
    fields = dict(zip(QUALIFICATION, (metrics, economic_buyer, decision_criteria, decision_process, paper_process,
                                      pain, champion, competition)))
    for name, given in fields.items():
        if given is not None and not given.strip():
            fail(f"--{name.replace('_', '-')} must not be empty")
    loaded = account_file(ctx, account_id)
    opp = _opportunity(loaded, opp_id)
    change = _plan(pipeline.plan_decide, opp, choice, reason, when, by, note, account_id, answers, fields,
                   _gate_require(ctx))
    _apply(loaded, opp, change)


def close(
    ctx: typer.Context,
    account_id: str = id_argument(metavar="ACCOUNT", help="Account id."),
    opp_id: str = id_argument(kind="opportunity id", metavar="OPPORTUNITY", help="Opportunity id."),
    outcome: str = typer.Argument(..., metavar="won|lost", help="won moves it to contract, lost ends it."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why it was won or lost (required for lost; "
                                         "recorded in history as reason:)."),
    note: Optional[str] = typer.Option(None, "--note", help="Note for the history entry."),
    date: Optional[str] = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Close an opportunity in pursuit or closing: won -> contract, lost -> lost (with --reason).

    Example: kamctl opp close kingsbridge-university science-quarter-move lost --reason "Price 20% above the winner"
    """

    when = parse_date(date, "--date")
    problem = pipeline.close_problem(outcome.lower(), reason)
    if problem:
        fail(problem)
    loaded = account_file(ctx, account_id)
    opp = _opportunity(loaded, opp_id)
    change = _plan(pipeline.plan_close, opp, outcome.lower(), when, note, account_id, reason)
    _apply(loaded, opp, change)


# --- reading ----------------------------------------------------------------------------------------


def _per_currency(by_currency: dict[str, float]) -> str:
    return totals(by_currency) or "-"


def _valid(ws: Any, ids: Optional[list[str]] = None) -> list[tuple[str, Any]]:
    return [(a.id, a.account) for a in ws.accounts if a.account is not None and (not ids or a.id in ids)]


def list_(
    ctx: typer.Context,
    account: Optional[str] = id_option("--account", help="Only this account."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Only opportunities at this stage."),
    open_only: bool = typer.Option(False, "--open", help="Only open ones (identification to closing)."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date for days in stage and staleness (default: today)."),
    at: Optional[str] = AT,
) -> None:
    """List opportunities with stage, value, probability, weighted value, days in stage, forecast category and qualification.

    Qual. is the MEDDPICC score: how many of the eight qualification fields are filled in.

    Example: kamctl -w examples opp list --open --format csv
    """

    if fmt not in ("table", "json", "csv"):
        fail(f"--format {fmt!r}: choose table, json or csv")
    wanted = _stage(stage, "--stage")
    ws = load(ctx, [account] if account else None, at=at)
    day = as_of_date(ws, as_of)
    rows = []
    for account_id, acc in _valid(ws):
        for opp in acc.opportunities:
            if wanted is not None and opp.stage is not wanted:
                continue
            if open_only and opp.stage not in OPEN_STAGES:
                continue
            rows.append({"account": account_id, **opportunity_row(opp, ws.settings, day)})
    if fmt == "json":
        print_json(rows)
    elif fmt == "csv":
        columns = ["account", "id", "title", "stage", "value", "currency", "probability", "weighted", "close",
                   "days_in_stage", "stale_by", "forecast_category", "qualification"]
        print_csv(columns, [["" if r[k] is None else r[k] for k in columns] for r in rows])
    else:
        table = [[f"{r['account']} {r['id']}\n{r['title']}", label(r["stage"]),
                  money(r["value"], r["currency"]), r["close"], f"{r['probability']:.0%}",
                  money(r["weighted"]), r["days_in_stage"], r["stale_by"], label(r["forecast_category"]),
                  f"{r['qualification']}/{len(QUALIFICATION)}"] for r in rows]
        print_table(console(), [("Account opportunity", "words"), ("Stage", "text"), ("Value", "money"),
                                ("Close", "date"), ("Prob.", "number?"), ("Weighted", "money?"), ("Days", "number?"),
                                ("Stale by", "number?"), ("Forecast", "text?"), ("Qual.", "number?")], table,
                    title=f"Opportunities ({len(rows)}), as of {day.isoformat()}")
    raise typer.Exit(invalid_note(ws))


def pipeline_command(
    ctx: typer.Context,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date the pipeline is seen at (default: today)."),
    fmt: Output = typer.Option(Output.table, "--format", help="Output format."),
    at: Optional[str] = AT,
) -> None:
    """The portfolio pipeline: stages, funnel, forecast by quarter and stale opportunities.

    Per stage: count, value and probability-weighted value (per currency, plus a total in the company currency when kam.yaml's pipeline.rates cover every currency); the funnel from 1 January of the --as-of year up to --as-of: counts per step in the period (no rate) and the cohort identified in the period followed to where it is now (conversions, never above 100%); forecast categories (pipeline, best case, commit, closed, omitted); the weighted forecast of open opportunities by quarter of expected close; win rate, cycle length, coverage and days per stage for the portfolio and per account; the MEDDPICC qualification of open opportunities from decision on; stale opportunities.

    Example: kamctl -w examples pipeline --as-of 2026-12-31 --format markdown
    """

    ws = load(ctx, at=at)
    day = as_of_date(ws, as_of)
    data = portfolio_pipeline(_valid(ws), ws.settings, day)
    assessed = assess_all(ws.valid_accounts(), ws.settings, day)
    data["coverage"] = portfolio([a.performance for a in assessed], ws.settings)["coverage"]
    for cell in data["measures"]["forecast_categories"]:
        cell["weighted_company"] = to_company(cell["weighted"], ws.settings)
    data["accounts"] = [account_measures(a) for a in assessed]
    if fmt == "json":
        print_json(data)
    elif fmt == "markdown":
        typer.echo(_markdown(data), nl=False)
    else:
        _table(data)
    raise typer.Exit(invalid_note(ws))


def account_measures(a: Any) -> dict:
    """One account's line of the pipeline: open weighted value, commit, win rate, cycle, coverage."""
    m = a.pipeline["measures"]
    commit = next(c for c in m["forecast_categories"] if c["category"] == ForecastCategory.commit.value)
    return {"account": a.id, "weighted": a.pipeline["weighted_value"], "commit": commit["weighted"],
            "win_rate": m["win_rate"], "cycle": m["cycle"], "stage_days": m["stage_days"],
            "coverage": a.performance["coverage"]}


def _company(amount: float | None, currency: str) -> str:
    return "n/a (no rate)" if amount is None else money(amount, currency)


def _sections(data: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """The pipeline as (title, header, rows) tables, shared by the table and Markdown output."""
    cur = data["company_currency"]
    stages = ("Stages", ["Stage", "Prob.", "Count", "Value", "Weighted", f"Weighted in {cur}"],
              [[label(s["stage"]), f"{s['probability']:.0%}", str(s["count"]), _per_currency(s["value"]),
                _per_currency(s["weighted"]), _company(s["weighted_company"], cur)] for s in data["stages"]])
    o = data["open"]
    stages[2].append(["open total", "", "", _per_currency(o["value"]), _per_currency(o["weighted"]),
                      _company(o["weighted_company"], cur)])
    f, m = data["funnel"], data["measures"]
    cohort = f["cohort"]
    conv = {(c["from"], c["to"]): c["rate"] for c in cohort["conversions"]}
    names = list(f["counts"])
    funnel_rows = []
    for i, name in enumerate(names):
        rate = conv.get((names[i - 1], name)) if i else None
        funnel_rows.append([name, str(f["counts"][name]), str(cohort["counts"][name]), percent(rate)])
    funnel_rows.append([f"{names[0]} -> {names[-1]}", "", "", percent(conv.get((names[0], names[-1])))])
    funnel = (f"Funnel {f['period']['from']} to {f['period']['to']} (cohort: identified in the period, "
              "followed to now)", ["Reached", "In the period", "Cohort", "Cohort from previous"], funnel_rows)
    categories = ("Forecast categories", ["Category", "Count", "Value", "Weighted", f"Weighted in {cur}"],
                  [[label(c["category"]), str(c["count"]), _per_currency(c["value"]), _per_currency(c["weighted"]),
                    _company(c["weighted_company"], cur)] for c in m["forecast_categories"]])
    forecast = ("Forecast (open, weighted, by expected close)", ["Quarter", "Count", "Weighted", f"In {cur}"],
                [[q["quarter"], str(q["count"]), _per_currency(q["weighted"]), _company(q["weighted_company"], cur)]
                 for q in data["forecast"]])
    period = f"{m['period']['from']} to {m['period']['to']}"
    measures = (f"Measures {period}", ["Measure", "Portfolio"],
                [["win rate by count", win_words(m["win_rate"])],
                 ["win rate by value", value_words(m["win_rate"], cur)],
                 ["cycle length", cycle_words(m["cycle"])],
                 ["coverage", coverage_words(data["coverage"], cur)]])
    days = (f"Days per stage (finished stays up to {data['as_of']})", ["Stage", "Stays", "Average days"],
            [[label(stage), str(d["stays"]), number(d["average_days"], 1) or "-"] for stage, d in m["stage_days"].items()])
    per_account = ("Per account", ["Account", "Open weighted", "Commit", "Win rate", "Cycle", "Coverage"],
                   [[a["account"], _per_currency(a["weighted"]), _per_currency(a["commit"]),
                     win_words(a["win_rate"]), cycle_words(a["cycle"]), coverage_words(a["coverage"], cur)]
                    for a in data["accounts"]])
    qualified = ("Qualification (open, from decision on)", ["Account", "Opportunity", "Stage", "Forecast", "Qual.",
                                                               "Missing"],
                 [[r["account"], r["id"], label(r["stage"]), label(r["forecast_category"]),
                   f"{r['qualification']}/{len(QUALIFICATION)}", ", ".join(r["qualification_missing"]) or "-"]
                  for r in data["opportunities"] if Stage(r["stage"]).is_open and Stage(r["stage"]).at_or_past(GATE)])
    stale = (f"Stale at {data['as_of']}", ["Account", "Opportunity", "Stage", "Days in stage", "Limit", "Over by"],
             [[s["account"], s["id"], label(s["stage"]), str(s["days_in_stage"]), str(s["stale_days"]), str(s["stale_by"])]
              for s in data["stale"]])
    return [stages, funnel, categories, forecast, measures, days, per_account, qualified, stale]


def win_words(w: dict) -> str:
    """Won against won plus lost, by count: `2 of 3 (67%)`; `-` when nothing closed."""
    closed = w["won"] + w["lost"]
    return f"{w['won']} of {closed} ({percent(w['by_count'])})" if closed else "-"


def value_words(w: dict, currency: str) -> str:
    if not (w["won"] + w["lost"]):
        return "-"
    if w["by_value"] is None:
        return f"n/a (no rate); won {_per_currency(w['won_value'])}, lost {_per_currency(w['lost_value'])}"
    return f"{percent(w['by_value'])} (won {_per_currency(w['won_value'])}, lost {_per_currency(w['lost_value'])})"


def cycle_words(c: dict) -> str:
    if not c["closed"]:
        return "-"
    won = f", won {number(c['won_average_days'], 1)}" if c["won"] else ""
    return f"{number(c['average_days'], 1)} days ({c['closed']} closed{won})"


def coverage_words(c: dict, currency: str) -> str:
    """`2.1x (weighted 210,000 EUR / to reach 100,000 EUR)`; why not, when there is no ratio."""
    if not c["remaining"]:
        return "no target"
    if not any(c["remaining"].values()):
        return "target reached"
    if c["ratio"] is None:
        return "n/a (no rate)"
    return f"{c['ratio']:.2f}x ({totals(c['weighted']) or 0} due / {totals(c['remaining'])} to reach)"


# how the columns of each pipeline section are laid out in the terminal (kinds of print_table)
SECTION_KINDS = (["text", "number", "number", "money", "money", "money"], ["text", "number", "number", "number"],
                 ["text", "number", "money", "money", "money"], ["date", "number", "money", "money"],
                 ["text", "words"], ["text", "number", "number"], ["key", "money", "money?", "text", "text?", "words"],
                 ["key", "key", "text?", "text?", "number", "words?"],
                 ["key", "key", "text?", "number", "number", "number"])


def _table(data: dict) -> None:
    out = console()
    for (title, header, rows), kinds in zip(_sections(data), SECTION_KINDS):
        if not rows:
            out.print(f"{title}: none")
            continue
        rows = [[c.replace(", ", "\n") if k == "money" else c for c, k in zip(row, kinds)] for row in rows]
        print_table(out, list(zip(header, kinds)), rows, title=title, leading=0)  # one currency a line


def _markdown(data: dict) -> str:
    lines = [f"# Pipeline as of {data['as_of']}", ""]
    for title, header, rows in _sections(data):
        lines += [f"## {title}", ""]
        if not rows:
            lines += ["None.", ""]
            continue
        lines.append(md_table(header, rows))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    opp_app.command()(add)
    opp_app.command()(advance)
    opp_app.command()(decide)
    opp_app.command()(close)
    opp_app.command("list")(list_)
    app.add_typer(opp_app)
    app.command("pipeline")(pipeline_command)
