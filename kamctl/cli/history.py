"""history, diff: plans that remember, from git (kamctl.history and kamctl.movement do the work)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from kamctl.cli.common import Output, console, fail, id_argument, print_json, print_table, state, workspace_root
from kamctl.ids import did_you_mean
from kamctl.present import plural
from kamctl.model.vocabulary import label
from kamctl.present import totals
from kamctl.render import RenderError, environment, render_template
from kamctl.workspace import WorkspaceError, account_files
from kamctl.history import account_history, diff as compute


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _markdown(ctx: typer.Context, template: str, context: dict) -> None:
    try:
        typer.echo(render_template(environment(workspace_root(ctx)), template, context), nl=False)
    except RenderError as exc:
        fail(str(exc), 1)


def _chart(rows: list[dict]) -> dict | None:
    """Points of the Mermaid chart: commits where both scores are known."""
    points = [r for r in rows if r["attractiveness"] is not None and r["relative_strength"] is not None]
    if not points:
        return None
    labels: list[str] = []
    for r in points:
        label, n = r["date"], 2
        while label in labels:
            label, n = f"{r['date']} ({n})", n + 1
        labels.append(label)
    return {"labels": labels, "attractiveness": [r["attractiveness"] for r in points],
            "relative_strength": [r["relative_strength"] for r in points]}


def history(
    ctx: typer.Context,
    account_id: str = id_argument(help="The account id (its file name without .yaml)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="DATE|REV",
                                        help="Only commits on or after a date (YYYY-MM-DD), or after a revision."),
    fmt: Output = typer.Option(Output.table, "--format", "-f", help="Output format."),
) -> None:
    """Show how an account changed, commit by commit (renames followed).

    Per commit: scores, quadrant, level, open pipeline, satisfaction, health and the changes in words. Needs the workspace in git; reads git only, never touching the working tree, index or HEAD.

    Example: kamctl history alpenmilch-foods --since 2026-01-01 --format markdown
    """

    root = workspace_root(ctx)
    try:
        result = account_history(root, account_id, since)
    except WorkspaceError as exc:
        known = [p.stem for p in account_files(root)]
        fail(str(exc) + ("" if account_id in known else did_you_mean(account_id, known)))
    rows = result["rows"]
    if fmt is Output.json:
        print_json(result)
        return
    if fmt is Output.markdown:
        _markdown(ctx, "history.md.j2", {**result, "chart": _chart(rows)})
        return
    if not rows:
        typer.echo(f"No commit changed {account_id}" + (f" since {result['since']}." if result["since"] else "."))
        return
    table = [[r["date"], r["short"], _num(r["attractiveness"]), _num(r["relative_strength"]), r["quadrant"] or "-",
              label(r["level"]) if r["level"] else "-", totals(r["open_value"]) or "-", _num(r["satisfaction"]),
              _num(r["health"])] for r in rows]
    title = f"{result['name'] or account_id} ({account_id})"
    typer.echo(f"History of {title}" + (f" since {result['since']}" if result["since"] else ""))
    print_table(console(), [("Date", "date"), ("Commit", "key"), ("Attr", "number"), ("Rel", "number"),
                            ("Quadrant", "text"), ("Level", "text"), ("Open pipeline", "money"), ("Sat", "number"),
                            ("Health", "number")],
                table, leading=0)
    typer.echo("")
    typer.echo("Changes:")
    for r in rows:
        typer.echo(f"  {r['date']} {r['short']} ({r['author']}): "
                   + ("; ".join(r["changes"]) or "no change in the figures"))


def _rev(r: dict) -> str:
    return r["label"] + (f" ({r['commit'][:7]}, {r['date']})" if r.get("commit") else "")


def diff(
    ctx: typer.Context,
    rev_a: Optional[str] = typer.Argument(None, metavar="REV_A",
                                          help="From: a revision or YYYY-MM-DD (default: the last tag, else the "
                                               "last commit 90 or more days ago)."),
    rev_b: Optional[str] = typer.Argument(None, metavar="REV_B", help="To: a revision or date (default: the working tree)."),
    fmt: Output = typer.Option(Output.table, "--format", "-f", help="Output format."),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0,
                                    help="Report score changes of at least this much (0-10 scale)."),
) -> None:
    """Show what changed in the portfolio between two revisions.

    Accounts added and removed, quadrant moves, score and level changes, opportunities won, lost, no-go and advanced, new alerts.

    Example: kamctl diff HEAD --format markdown > CHANGES.md
    """

    root = workspace_root(ctx)
    try:
        result = compute(root, rev_a, rev_b, threshold, use_cache=not state(ctx).no_cache)
    except WorkspaceError as exc:
        fail(str(exc))
    for side in ("before", "after"):
        count = len(result["problems"][side])
        if count:
            rev = _rev(result["from"] if side == "before" else result["to"])
            typer.echo(f"note: {plural(count, 'problem')} in files at {rev} "
                       "(those accounts are compared as invalid):", err=True)
            for f in result["problems"][side][:20]:
                typer.echo(f"  {f['file']}:{f['line']}:{f['column']}: {f['rule']} {f['message']}", err=True)
    if fmt is Output.json:
        print_json(result)
        return
    if fmt is Output.markdown:
        _markdown(ctx, "diff.md.j2", result)
        return
    typer.echo(f"{_rev(result['from'])} -> {_rev(result['to'])}")
    if not result["accounts"]:
        typer.echo(f"No changes ({plural(result['unchanged'], 'account')} compared).")
        return
    table = []
    for a in result["accounts"]:
        b, c = a["before"], a["after"]

        def arrow(x: Any, y: Any, fmt_: Any = str) -> str:
            x, y = ("-" if x is None else fmt_(x)), ("-" if y is None else fmt_(y))
            return x if x == y else f"{x} -> {y}"

        table.append([a["id"], arrow(b["quadrant"], c["quadrant"]), arrow(b["attractiveness"], c["attractiveness"], _num),
                      arrow(b["relative_strength"], c["relative_strength"], _num), arrow(b["level"], c["level"], label)])
    print_table(console(), [("Account", "key"), ("Quadrant", "text"), ("Attr", "number"), ("Rel", "number"),
                            ("Level", "text")], table)
    typer.echo("")
    typer.echo("Changes:")
    for a in result["accounts"]:
        typer.echo(f"  {a['id']}: " + "; ".join(a["changes"]))
    opps = ", ".join(f"{len(moves)} {label(kind)}" for kind, moves in result["opportunities"].items())
    typer.echo(f"{len(result['added'])} added, {len(result['removed'])} removed, "
               f"{plural(len(result['quadrant_moves']), 'quadrant move')}, "
               f"{plural(len(result['score_changes']), 'score change')} >= {result['threshold']}, "
               f"{plural(len(result['level_changes']), 'level change')}; opportunities {opps}; "
               f"{plural(len(result['new_alerts']), 'new alert')}; {result['unchanged']} unchanged")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(history)
    app.command()(diff)
