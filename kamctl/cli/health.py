"""health: one explained 0-100 number per account, least healthy first (kamctl.health does the work)."""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from kamctl.assessment import assess_all
from kamctl.cli.common import AT, Output, as_of_date, console, id_argument, invalid_note, load, print_json, print_table
from kamctl.present import md_table, score, words
from kamctl.report import least_healthy_first


def _record(a: Any) -> dict:
    return {"account": a.id, "name": a.performance["name"], **a.health}


def _missing(h: dict) -> str:
    return ", ".join(h["missing"]) or "-"


def _formula(h: dict) -> str:
    """`(20 x 80.0 + 15 x 100.0) / 35 = 88.6`: the sum anyone can redo from the parts."""
    used = [p for p in h["parts"] if p["contribution"] is not None]
    if not used:
        return "no part is known: no health"
    terms = " + ".join(f"{p['weight']:g} x {p['value']:.1f}" for p in used)
    return f"({terms}) / {h['weight_total']:g} = {score(h['score'])}"


def _explain_rows(h: dict) -> list[list[str]]:
    return [[words(p["part"]), "-" if p["value"] is None else f"{p['value']:.1f}", f"{p['weight']:g}",
             "-" if p["contribution"] is None else f"{p['contribution']:.1f}", p["basis"]] for p in h["parts"]]


EXPLAIN_HEADER = ["Part", "Value", "Weight", "Contribution", "From"]


def health(
    ctx: typer.Context,
    ids: Optional[List[str]] = id_argument(None, help="Accounts (default: all)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Date of the measures, YYYY-MM-DD (default: today)."),
    explain: bool = typer.Option(False, "--explain", help="Each part's value, weight, contribution and where it "
                                 "comes from, and the sum, so the health can be recomputed by hand."),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or markdown."),
    at: Optional[str] = AT,
) -> None:
    """Account health 0-100 per account, least healthy first, with --explain to recompute it.

    Health is the weighted mean (kam.yaml health.weights) of completeness, relationship coverage, satisfaction, sales attainment, open alerts and freshness of the plan; a part that cannot be known is left out and named.

    Example: kamctl -w examples health rhein-logistik --explain --as-of 2026-12-31
    """
    ws = load(ctx, ids or None, at=at)
    day = as_of_date(ws, as_of)
    records = sorted((_record(a) for a in assess_all(ws.valid_accounts(), ws.settings, day)),
                     key=lambda r: least_healthy_first({"health": r}))
    if fmt is Output.json:
        print_json({"as_of": day.isoformat(), "accounts": records})
    elif fmt is Output.markdown:
        lines = [f"## Account health ({day.isoformat()})", ""]
        lines.append(md_table(["account", "health", "missing"],
                              [[r["account"], score(r["score"]) or "-", _missing(r)] for r in records]))
        if explain:
            for r in records:
                lines += ["", f"### {r['account']}: {score(r['score']) or '-'}", "",
                          md_table(EXPLAIN_HEADER, _explain_rows(r)), _formula(r)]
        typer.echo("\n".join(lines))
    elif explain:
        out = console()
        for r in records:
            print_table(out, list(zip(EXPLAIN_HEADER, ["text", "number", "number", "number", "words"])),
                        _explain_rows(r), title=f"{r['name']} ({r['account']}): health {score(r['score']) or '-'}",
                        title_justify="left")
            out.print(f"  {_formula(r)}", markup=False)
            out.print("")
    else:
        print_table(console(), [("Account", "key"), ("Health", "number"), ("Missing", "words?")],
                    [[r["account"], score(r["score"]) or "-", _missing(r)] for r in records],
                    title=f"Account health ({day.isoformat()}), least healthy first")
    raise typer.Exit(invalid_note(ws))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("health")(health)
