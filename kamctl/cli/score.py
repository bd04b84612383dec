"""score, portfolio, level, owners: which customers are key accounts and what each one needs."""

from __future__ import annotations

from enum import Enum
from typing import Any, List, Optional

import typer

from kamctl.cli.common import (AT, Listing, Output, console, id_argument, invalid_note, load, print_csv, print_json,
                               print_records, print_table)
from kamctl.present import compact_money, visible
from kamctl.present import score as one_decimal
from kamctl.model.account import Level, factor_title
from kamctl.scoring import RESPONSE, ready_to_farm, summarise
from kamctl import portfolio as pf
from kamctl.present import rounded
from kamctl.present import md_table

IDS_HELP = "Account ids (default: every account)."


class ScoreFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def _summaries(ws: Any) -> list:
    """Scoring summaries of the valid accounts, in file order."""

    return [summarise(a.id, a.account, ws.settings) for a in ws.valid_accounts()]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _no_accounts(ws: Any) -> None:
    """Nothing to show: say why (invalid files are reported by invalid_note instead)."""
    if not ws.accounts:
        typer.echo("No accounts yet. Create one with: kamctl new ID --name NAME", err=True)


# --- score -------------------------------------------------------------------------------------------


def _score_record(s: Any, explain: bool) -> dict:
    sc = s.score
    record = {
        "id": s.id, "name": s.name,
        "attractiveness": rounded(sc.attractiveness.score),
        "relative_strength": rounded(sc.relative_strength.score),
        "quadrant": sc.quadrant.key if sc.quadrant else None,
        "quadrant_name": sc.quadrant.name if sc.quadrant else None,
        "partial": sc.partial,
        "missing": sc.missing,
    }
    if explain:
        record["explain"] = {axis.axis: {
            "score": None if axis.score is None else round(axis.score, 4),
            "cut_point": axis.cut_point,
            "high": axis.high,
            "missing": axis.missing,
            "factors": [{"name": f.name, "title": f.title, "score": f.score, "weight": f.weight,
                         "share_percent": round(f.share * 100, 2), "contribution": round(f.contribution, 4),
                         "note": f.note} for f in axis.factors],
        } for axis in (sc.attractiveness, sc.relative_strength)}
    return record


def _explain_rows(summaries: list) -> list[list]:
    rows = []
    for s in summaries:
        for axis in (s.score.attractiveness, s.score.relative_strength):
            for f in axis.factors:
                rows.append([s.id, axis.axis, f.name, f"{f.score:g}", f"{f.weight:g}", f"{f.share * 100:.1f}",
                             f"{f.contribution:.2f}"])
    return rows


EXPLAIN_HEADERS = ["id", "axis", "factor", "score", "weight", "share_percent", "contribution"]


def _print_explain(s: Any, out: Any) -> None:
    from rich.markup import escape

    out.print(f"[bold]{escape(s.name)}[/bold] ({s.id})")
    for axis in (s.score.attractiveness, s.score.relative_strength):
        title = axis.axis.replace("_", " ").capitalize()
        if axis.score is None:
            out.print(f"  {title}: no factor scored (cut point {axis.cut_point:g})")
            continue
        rows = [[f.title, f"{f.score:g}", f"{f.weight:g}", f"{f.share * 100:.1f}%", f"{f.contribution:.2f}"]
                for f in axis.factors]
        total = sum(f.contribution for f in axis.factors)
        rows.append(["Sum = score", "", f"{sum(f.weight for f in axis.factors):g}", "100%", f"{total:.2f}"])
        print_table(out, [("Factor", "text"), ("Score", "number"), ("Weight", "number"), ("Share", "number"),
                          ("Contribution", "number")], rows, title=title, title_justify="left")
        side = "high" if axis.high else "low"
        out.print(f"  {title} {_num(rounded(axis.score))} (cut point {axis.cut_point:g}: {side})")
        if axis.missing:
            names = ", ".join(factor_title(axis.axis, n) for n in axis.missing)
            out.print(f"  Missing, so partial: {names}", markup=False)
    q = s.score.quadrant
    out.print(f"  Quadrant: {q.name} - {q.strategy}" if q else "  Quadrant: none (an axis is unscored)",
              markup=False)
    out.print("")


def score(
    ctx: typer.Context,
    ids: Optional[List[str]] = id_argument(None, help=IDS_HELP),
    explain: bool = typer.Option(False, "--explain", help="Show each factor's score, weight, share and "
                                 "contribution, and the cut points, so the result can be recomputed by hand."),
    fmt: ScoreFormat = typer.Option(ScoreFormat.table, "--format", "-f", help="Output format."),
    at: Optional[str] = AT,
) -> None:
    """Attractiveness, relative strength and Key Account Model quadrant of each account.

    Each score is the weighted mean of the factors present (weights in kam.yaml), shown to one decimal. An account missing factors is partial; one with no factor on an axis has no quadrant.

    Example: kamctl score alpenmilch-foods --explain
    """
    ws = load(ctx, ids, at=at)
    summaries = _summaries(ws)
    if fmt is ScoreFormat.json:
        print_json([_score_record(s, explain) for s in summaries])
    elif fmt is ScoreFormat.csv:
        _score_csv(summaries, explain)
    elif fmt is ScoreFormat.markdown:
        _score_markdown(summaries, explain)
    elif not summaries:
        _no_accounts(ws)
    elif explain:
        out = console()
        settings = ws.settings.scoring.cut_points
        out.print(f"Cut points: attractiveness {settings.attractiveness:g}, "
                  f"relative strength {settings.relative_strength:g} (high when the score shown is >= it)\n")
        for s in summaries:
            _print_explain(s, out)
    else:
        _score_table(summaries)
    raise typer.Exit(invalid_note(ws))


def _score_table(summaries: list) -> None:
    rows = []
    for s in summaries:
        sc = s.score
        rows.append([s.id, s.name, _num(rounded(sc.attractiveness.score)),
                     _num(rounded(sc.relative_strength.score)), sc.quadrant.name if sc.quadrant else "-",
                     "partial" if sc.partial else ""])
    print_table(console(), [("ID", "key"), ("Account", "text"), ("Attract.", "number"), ("Strength", "number"),
                            ("Quadrant", "text"), ("Partial", "text?")], rows)


def _score_csv(summaries: list, explain: bool) -> None:
    if explain:
        print_csv(EXPLAIN_HEADERS, _explain_rows(summaries))
        return
    rows = []
    for s in summaries:
        r = _score_record(s, False)
        rows.append([r["id"], r["name"], one_decimal(r["attractiveness"]), one_decimal(r["relative_strength"]),
                     r["quadrant"] or "", "true" if r["partial"] else "false", " ".join(r["missing"])])
    print_csv(["id", "name", "attractiveness", "relative_strength", "quadrant", "partial", "missing"], rows)


def _score_markdown(summaries: list, explain: bool) -> None:

    if explain:
        typer.echo(md_table(EXPLAIN_HEADERS, _explain_rows(summaries)), nl=False)
        return
    body = []
    for s in summaries:
        r = _score_record(s, False)
        body.append([f"{r['name']} ({r['id']})", one_decimal(r["attractiveness"]), one_decimal(r["relative_strength"]),
                     r["quadrant_name"] or "", "partial" if r["partial"] else ""])
    typer.echo(md_table(["Account", "Attractiveness", "Relative strength", "Quadrant", "Partial"], body), nl=False)


# --- portfolio ---------------------------------------------------------------------------------------


def portfolio(
    ctx: typer.Context,
    fmt: Output = typer.Option(Output.table, "--format", "-f", help="Output format."),
    at: Optional[str] = AT,
) -> None:
    """The Key Account Model: accounts placed by attractiveness and relative strength, with strategies.

    The terminal shows a 2x2 grid and a table sorted by quadrant, then attractiveness. Markdown gives a Mermaid quadrantChart followed by the same table.

    Example: kamctl portfolio --format markdown > portfolio.md
    """

    ws = load(ctx, at=at)
    summaries = _summaries(ws)
    if fmt is Output.json:
        print_json(pf.rows(summaries, ws.settings))
    elif fmt is Output.markdown:
        typer.echo(pf.markdown(summaries, ws.settings), nl=False)
    elif not summaries:
        _no_accounts(ws)
    else:
        _portfolio_terminal(summaries, ws.settings)
    raise typer.Exit(invalid_note(ws))


def _portfolio_terminal(summaries: list, settings: Any) -> None:
    from rich import box
    from rich.table import Table

    cells = pf.grid(summaries, settings)

    def cell(key: str) -> str:
        from rich.markup import escape

        c = cells[key]
        lines = [f"[bold]{escape(c['name'])}[/bold]", f"[italic]{escape(c['strategy'])}[/italic]"]
        for s in c["accounts"]:
            a, r = rounded(s.score.attractiveness.score), rounded(s.score.relative_strength.score)
            lines.append(f"- {escape(visible(s.name, False))} ({_num(a)}, {_num(r)})")
        if not c["accounts"]:
            lines.append("(none)")
        return "\n".join(lines)

    out = console()
    grid = Table(box=box.SQUARE, show_header=True, show_lines=True, expand=True,
                 title="Key Account Model: (attractiveness, relative strength)")
    grid.add_column("", no_wrap=True, width=5)
    grid.add_column("Low strength", ratio=1)
    grid.add_column("High strength", ratio=1)
    (top_left, top_right), (bottom_left, bottom_right) = pf.GRID
    grid.add_row("High\nattr.", cell(top_left), cell(top_right))
    grid.add_row("Low\nattr.", cell(bottom_left), cell(bottom_right))
    out.print(grid)
    unscored = cells[pf.UNSCORED]["accounts"]
    if unscored:
        names = ", ".join(f"{visible(s.name, False)} ({s.id})" for s in unscored)
        out.print(f"Unscored (score both axes to place them): {names}", markup=False)
    revenue = pf.has_revenue(summaries)
    rows = []
    for r in pf.rows(summaries, settings):
        row = [r["quadrant_name"] or "Unscored", f"{r['name']} ({r['id']})" + (" partial" if r["partial"] else ""),
               _num(r["attractiveness"]), _num(r["relative_strength"])]
        if revenue:
            row += [compact_money(r["revenue_current"], r["currency"]), compact_money(r["revenue_potential"], r["currency"])]
        rows.append(row)
    columns = [("Quadrant", "text"), ("Account (ID)", "words"), ("Attr.", "number"), ("Rel.", "number")] + ([("Current", "money"), ("Potential", "money")] if revenue else [])
    print_table(out, columns, rows)




# --- level -------------------------------------------------------------------------------------------


def _level_record(s: Any) -> dict:
    lv = s.level
    return {
        "id": s.id, "name": s.name,
        "level": lv.level.value if lv.level else None,
        "level_number": lv.level.number if lv.level else None,
        "level_name": lv.level.title if lv.level else None,
        "price_sensitivity": lv.price_sensitivity, "loyalty": lv.loyalty,
        "declared": lv.declared.value if lv.declared else None,
        "agrees": lv.agrees,
        "response": lv.response, "next_step": lv.next_step,
    }


def level(
    ctx: typer.Context,
    ids: Optional[List[str]] = id_argument(None, help=IDS_HELP),
    fmt: Listing = typer.Option(Listing.table, "--format", "-f", help="table, json or csv."),
    at: Optional[str] = AT,
) -> None:
    """The relationship level the customer perceives, and the next step up.

    Loyalty sets the level (none 1 Commodity, low 2 Product Provider, some 3 Value-add, high 4 Partner). Price sensitivity caps it (high at 2, medium at 3). A declared level that disagrees is shown.

    Example: kamctl level --format json
    """
    ws = load(ctx, ids, at=at)
    summaries = _summaries(ws)
    if print_records([_level_record(s) for s in summaries], fmt):
        raise typer.Exit(invalid_note(ws))
    if not summaries:
        _no_accounts(ws)
    else:
        _level_table(summaries)
    raise typer.Exit(invalid_note(ws))


def _level_table(summaries: list) -> None:
    rows = []
    for s in summaries:
        lv = s.level
        shown = f"{lv.level.number} {lv.level.title}" if lv.level else "no level"
        evidence = (f"price sensitivity {lv.price_sensitivity or '?'}, loyalty {lv.loyalty or '?'}"
                    if lv.price_sensitivity or lv.loyalty else "no evidence")
        shown += f"\n{evidence}"
        if lv.declared is not None:
            verdict = {True: "agrees", False: "DISAGREES", None: "nothing to compare"}[lv.agrees]
            shown += f"\ndeclared {lv.declared.title}: {verdict}"
        rows.append([s.id, shown, lv.next_step or "Record the relationship's price sensitivity and loyalty."])
    out = console()
    print_table(out, [("ID", "key"), ("Level and evidence", "text"), ("Next step", "text")], rows)
    for lv in Level:  # what each level shown means
        if any(s.level.level is lv for s in summaries):
            out.print(f"{lv.number} {lv.title}: {RESPONSE[lv]}", markup=False)


# --- owners ------------------------------------------------------------------------------------------


def _owner_record(loaded: Any, ready: bool) -> dict:
    acc = loaded.account
    o = acc.owner
    return {
        "id": loaded.id, "name": acc.name,
        "owner": o.name if o else None, "email": o.email if o else None,
        "role": o.role if o else None,
        "status": "ready_to_farm" if ready else ("hunted" if o and o.role == "hunter" else
                                                  "farmed" if o else None),
        "ready_to_farm": ready,
        "hunted_by": acc.hunted_by,
        "cycle": o.cycle.value if o and o.cycle else None,
    }


def owners(
    ctx: typer.Context,
    fmt: Listing = typer.Option(Listing.table, "--format", "-f", help="table, json or csv."),
    at: Optional[str] = AT,
) -> None:
    """Accounts by owner and role: hunted, farmed, and those ready to hand from hunter to farmer.

    A hunter's account with an opportunity that reached contract or engagement is ready to farm.

    Example: kamctl owners
    """

    ws = load(ctx, at=at)
    records = [_owner_record(a, ready_to_farm(a.account)) for a in ws.valid_accounts()]
    records.sort(key=lambda r: (r["owner"] is None, (r["owner"] or "").casefold(), r["role"] or "", r["id"]))
    if print_records(records, fmt):
        raise typer.Exit(invalid_note(ws))
    if not records:
        _no_accounts(ws)
    else:
        _owners_table(records)
    raise typer.Exit(invalid_note(ws))


def _owners_table(records: list[dict]) -> None:
    rows = []
    for r in records:
        status = {"ready_to_farm": "READY TO FARM", "hunted": "hunted", "farmed": "farmed"}.get(r["status"], "")
        lines = [f"{r['role']}: {status}" if r["role"] else "no owner"]
        if r["cycle"]:
            lines.append("cycle: " + r["cycle"].replace("_", " "))
        if r["hunted_by"]:
            lines.append(f"won by {r['hunted_by']}")
        rows.append([r["owner"] or "(no owner)", r["id"], "\n".join(lines)])
    out = console()
    print_table(out, [("Owner", "text"), ("ID", "key"), ("Role and status", "text")], rows)
    counts = {k: sum(r["status"] == k for r in records) for k in ("hunted", "farmed", "ready_to_farm")}
    out.print(f"{counts['hunted'] + counts['ready_to_farm']} hunted, {counts['farmed']} farmed, "
              f"{counts['ready_to_farm']} ready to farm", markup=False)


def register(app: typer.Typer) -> None:
    """Add score, portfolio, level and owners to the app."""
    app.command()(score)
    app.command()(portfolio)
    app.command()(level)
    app.command()(owners)
