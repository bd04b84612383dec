"""check, rules, report: check plans against the rules (for CI), explain rules, KAM performance measures."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from kamctl.assessment import assess_all
from kamctl.cli.common import (AT, DATA_PROBLEM, Listing, Output, as_of_date, fail, id_argument, load, parse_date,
                               print_findings, print_json, print_records, print_table, state, workspace_root)
from kamctl.present import md_table, money, percent
from kamctl.report import report as build
from kamctl import formats
from kamctl.checks import RULES, policy_problems, run, split_codes, top_rules, unknown_codes
from kamctl.cache import ViewCache
from kamctl.checks.incremental import check_workspace
from kamctl.findings import Severity, tally
from kamctl.cli.common import console
from kamctl.workspace import WorkspaceError


CheckFormat = Enum("CheckFormat", [(name, name) for name in formats.FORMATS], type=str)  # formats.py owns the list


def _colour() -> bool:
    """ANSI colour only on a terminal, never with NO_COLOR set (https://no-color.org)."""
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "":
        return False
    return sys.stdout.isatty()


def check(
    ctx: typer.Context,
    ids: Optional[List[str]] = id_argument(None, help="Accounts to check (default: all)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Date the date rules use, YYYY-MM-DD (default: today)."),
    fmt: Optional[CheckFormat] = typer.Option(None, "--format", help="Output format (default: text; github when GITHUB_ACTIONS=true)."),
    fail_on: Severity = typer.Option(Severity.error, "--fail-on", help="Exit 1 when any finding is at or above this severity."),
    select: Optional[List[str]] = typer.Option(None, "--select", metavar="CODES", help="Only these rules: codes or prefixes, comma-separated (KAM2,KAM401)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", metavar="CODES", help="Skip these rules: codes or prefixes, comma-separated."),
    at: Optional[str] = AT,
) -> None:
    """Check account plans: validity, completeness and early-warning alerts, with completeness per section.

    Reading and schema problems (KAM0xx, KAM1xx) are always reported. Exit 0 when no finding is at or above --fail-on, 1 otherwise, 2 for a usage or settings error.

    Example: kamctl -w examples check --as-of 2026-12-31 --fail-on warning
    """

    day = parse_date(as_of)
    sel, ign = split_codes(select), split_codes(ignore)
    bad = unknown_codes(sel + ign)
    if bad:
        fail(f"no rule matches {', '.join(bad)}; `kamctl rules` lists the codes")
    if at is not None:  # checked afresh: the check cache keys on the working tree's files
        ws = load(ctx, ids or None, at=at)
        problems = policy_problems(ws.settings)
        if problems:
            fail(f"{ws.settings_path}: no rule matches {'; '.join(problems)}; `kamctl rules` lists the codes")
        # the staleness rules read the working tree's git history: not run at a revision
        history = [r.code for r in RULES.values() if r.family == "history"]
        result = run(ws, as_of_date(ws, as_of), sel, ign + history)
        cases, settings_path = {a.id: a.path for a in ws.accounts}, ws.settings_path
        loose, served = result.findings, []
        counted = tally(loose)
    else:
        try:
            result, cases, settings_path = check_workspace(workspace_root(ctx), ids or None, day, sel, ign,
                                                           use_cache=not state(ctx).no_cache)
        except WorkspaceError as exc:
            print_findings(getattr(exc, "findings", []))
            fail(str(exc))
        loose, served, counted = result.loose, result.served, result.tally()
    chosen = fmt.value if fmt else ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    colour = chosen == "text" and _colour()
    views = None
    if served:  # an unchanged account's part of the output, as written last time
        views = ViewCache(workspace_root(ctx), formats.view_name(chosen, colour, fail_on.value))
        views.load()
    sys.stdout.write(formats.render(chosen, loose, result.completeness, fail_on.value, cases, settings_path,
                                    colour=colour, served=served, views=views))
    if chosen == "text":
        sys.stdout.write(_next_steps(counted))
    sys.stdout.flush()
    if views is not None:
        views.save(limit=4 * len(served) + 100)
    if any(n and severity.rank >= fail_on.rank for (_, severity), n in counted.items()):
        raise typer.Exit(DATA_PROBLEM)


def _next_steps(tally: dict) -> str:
    """What a newcomer does next (text format only: machine formats stay as they are)."""

    top = top_rules(tally)
    if not top:
        return ""
    width = max(len(r.name) for r, _, _ in top)
    lines = [f"  {r.code}  {r.name:<{width}}  {n} finding{'s' if n != 1 else ''} ({sev.value})" for r, n, sev in top]
    return ("\nWhat to do next: the rules found most (errors first)\n" + "\n".join(lines)
            + f"\nRun `kamctl rules CODE` to learn more, e.g. `kamctl rules {top[0][0].code}`.\n")


def rules(
    code: Optional[str] = typer.Argument(None, metavar="CODE", help="A rule code (e.g. KAM201) or prefix (KAM2)."),
    fmt: Listing = typer.Option(Listing.table, "--format", "-f", help="table, json or csv."),
    as_json: bool = typer.Option(False, "--json", help="Print the rules as JSON (the same as --format json)."),
) -> None:
    """List every rule with its code, severity and explanation; `rules CODE` explains one in full.

    Example: kamctl rules KAM404
    """

    chosen = sorted(RULES.values(), key=lambda r: r.code)
    if code:
        wanted = code.strip().upper()
        chosen = [r for r in chosen if r.code.startswith(wanted)]
        if not chosen:
            fail(f"no rule {code!r}; `kamctl rules` lists the codes")
    records = [{"code": r.code, "name": r.name, "severity": r.severity.value, "family": r.family,
                "explanation": r.explanation, "fix": r.fix} for r in chosen]
    if print_records(records, Listing.json if as_json else fmt):
        return
    if code and len(chosen) == 1:
        r = chosen[0]
        typer.echo(f"{r.code} {r.name} ({r.severity.value}, {r.family})\n\n{r.explanation}\n\nFix: {r.fix}")
        return
    print_table(console(), [("Code", "key"), ("Severity", "text?"), ("Name", "key"), ("Explanation", "text")],
                [[r.code, r.severity.value, r.name, r.explanation] for r in chosen])


def report(
    ctx: typer.Context,
    ids: Optional[List[str]] = id_argument(None, help="Accounts (default: all)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Date of the measures, YYYY-MM-DD (default: today)."),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or markdown."),
    at: Optional[str] = AT,
) -> None:
    """KAM performance measures per account and for the portfolio: opportunities, sales, relationships, satisfaction, alerts.

    Also account health (least healthy first; `kamctl health --explain` shows how it is made), win rate and pipeline coverage.

    Example: kamctl -w examples report --as-of 2026-12-31 --format markdown
    """
    ws = load(ctx, ids or None, at=at)
    day = as_of_date(ws, as_of)
    assessed = assess_all(ws.valid_accounts(), ws.settings, day)
    data = build([{**a.performance, "health": a.health, "pipeline": a.pipeline["measures"]} for a in assessed],
                 ws.settings, day, [o for loaded in ws.valid_accounts() for o in loaded.account.opportunities])
    if fmt is Output.json:
        print_json(data)
        return
    rows = [_row(r["account"], r) for r in data["accounts"]]
    rows.append(_row("portfolio", data["portfolio"], portfolio=True))
    headers = ["account", "health", "identified", "qualified", "pursued", "target", "achieved", "forecast",
               "attain %", "covered", "strength", "satisfaction", "trend", "alerts", "win rate", "coverage"]
    missing = data["portfolio"]["rates_missing"]
    note = f"totals per currency: rates missing for {', '.join(missing)}" if missing else None
    if fmt is Output.markdown:
        typer.echo(f"## KAM performance measures ({data['as_of']})\n")
        typer.echo(md_table(headers, rows), nl=False)
        if note:
            typer.echo(f"\n{note}")
        return
    kinds = ["key", "number", "number", "number", "number", "money", "money", "money", "number", "number", "number",
             "number", "text", "number", "text?", "text?"]
    rows = [[c.replace(" / ", "\n") if k == "money" else c for c, k in zip(row, kinds)] for row in rows]
    print_table(console(), list(zip(headers, kinds)), rows, title=f"KAM performance measures ({data['as_of']})")
    if note:
        typer.echo(note)


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _row(name: str, r: dict, portfolio: bool = False) -> list[str]:
    o, rel, sat = r["opportunities"], r["relationships"], r["satisfaction"]
    if portfolio and r["sales_company"] is not None:  # the rates cover every currency: one total
        s = r["sales_company"]
        amounts = [money(s[k], s["currency"]) or "-" for k in ("target", "achieved", "forecast")]
        attain = _num(s["attainment_percent"], 1)
    elif portfolio:
        sales = r["sales"]
        amounts = [" / ".join(money(v[k], c) for c, v in sales.items()) or "-" for k in ("target", "achieved", "forecast")]
        attain = " / ".join(_num(v["attainment_percent"], 1) for v in sales.values()) or "-"
    else:
        s = r["sales"]
        amounts = [money(s[k], s["currency"]) or "-" for k in ("target", "achieved", "forecast")]
        attain = _num(s["attainment_percent"], 1)
    if portfolio:
        satisfaction, trend = _num(sat["average_latest"], 2), ", ".join(f"{k} {v}" for k, v in sat["trend"].items() if v) or "-"
    else:
        satisfaction, trend = _num(sat["latest"], 1), sat["trend"] or "-"
    covered = f"{rel['covered']}/{rel['decision_makers']}"
    health = "" if portfolio else _num((r["health"] or {}).get("score"), 1)
    coverage = r["coverage"]["ratio"]
    return [name, health, str(o["identified"]), str(o["qualified"]), str(o["pursued"]), *amounts, attain, covered,
            _num(rel["average_strength"], 1), satisfaction, trend, str(r["alerts"]["count"]),
            percent(r["pipeline"]["win_rate"]["by_count"]) or "-", "-" if coverage is None else f"{coverage:.2f}x"]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(check)
    app.command()(rules)
    app.command()(report)
