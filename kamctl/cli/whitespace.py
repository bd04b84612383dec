"""whitespace: each account's buying centres against our offerings, and the potential not yet pursued."""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from kamctl import whitespace as ws_core
from kamctl.cli.common import AT, Output, console, id_argument, invalid_note, load, print_json, print_table
from kamctl.present import md_inline, md_table, totals, visible
from kamctl.render import plain, whitespace_grid, whitespace_view

def whitespace(
    ctx: typer.Context,
    ids: Optional[List[str]] = id_argument(None, help="Account ids (default: every account)."),
    fmt: Output = typer.Option(Output.table, "--format", "-f", help="table, json or markdown."),
    at: Optional[str] = AT,
) -> None:
    """Buying centres against our offerings per account, with share of wallet, and the potential not yet pursued.

    Offerings are kam.yaml's `offerings:`; an account's rows are its `buying_centres:`. An open opportunity naming a centre and offering makes that cell an open opportunity. Amounts are annual, in the account's currency; the summary adds them per currency.

    Example: kamctl whitespace --format markdown
    """
    ws = load(ctx, ids, at=at)
    offerings = [o.id for o in ws.settings.offerings]
    grids = [g for g in (whitespace_grid(a.id, a.account, ws.settings) for a in ws.valid_accounts()) if g is not None]
    summary = ws_core.summary(grids, offerings)
    names = {o.id: o.name for o in ws.settings.offerings}
    if fmt is Output.json:
        print_json({"accounts": plain(grids), "summary": summary})
    elif fmt is Output.markdown:
        typer.echo(_markdown(grids, summary, names, ws.settings), nl=False)
    else:
        _table(grids, summary, names, ws.settings)
    raise typer.Exit(invalid_note(ws))


def _summary_rows(summary: list[dict[str, Any]], names: dict[str, str]) -> list[list[Any]]:
    return [[names.get(r["offering"], r["offering"]), totals(r["sold"]), totals(r["pursued"]),
             totals(r["unpursued"]), totals(r["competitor"]), r["potential_cells"]] for r in summary]


SUMMARY_HEADERS = ["Offering", "Sold (current)", "Open opportunities", "Not yet pursued", "Competitor holds",
                   "Potential cells"]


def _markdown(grids: list, summary: list[dict[str, Any]], names: dict[str, str], settings: Any) -> str:
    parts = ["# Whitespace\n"]
    if not grids:
        parts.append("\nNo account lists buying centres yet.\n")
    for g in grids:
        view = whitespace_view(g, settings)
        parts.append(f"\n## {md_inline(view['name'])} (`{view['id']}`)\n\n")
        rows = [[c["name"] + (f" ({c['kind']})" if c["kind"] else ""), *c["cells"], c["share"]] for c in view["centres"]]
        parts.append(md_table(["Buying centre", *view["offerings"], "Share of wallet"], rows))
        parts.append(f"\nShare of wallet for the account: {md_inline(view['share'])}. Amounts in {view['currency']}.\n")
    parts.append("\n## Portfolio summary\n\n")
    parts.append(md_table(SUMMARY_HEADERS, _summary_rows(summary, names)))
    return "".join(parts)


def _table(grids: list, summary: list[dict[str, Any]], names: dict[str, str], settings: Any) -> None:
    out = console()
    if not grids:
        typer.echo("No account lists buying centres yet (buying_centres: in the account file).", err=True)
    for g in grids:
        view = whitespace_view(g, settings)
        out.print(f"{visible(view['name'], False)} ({view['id']}), {view['currency']}", markup=False)
        rows = [[c["name"], *c["cells"], c["share"]] for c in view["centres"]]
        print_table(out, [("Buying centre", "key"), *((o, "text") for o in view["offerings"]),
                          ("Share of wallet", "text")], rows)
        out.print(f"Share of wallet: {view['share']}", markup=False)
        out.print("")
    if summary:
        out.print("Portfolio summary", markup=False)
        print_table(out, [("Offering", "key"), ("Sold (current)", "money"), ("Open opportunities", "money"),
                          ("Not yet pursued", "money"), ("Competitor holds", "money?"), ("Potential cells", "number?")],
                    _summary_rows(summary, names))


def register(app: typer.Typer) -> None:
    """Add whitespace to the app."""
    app.command()(whitespace)
