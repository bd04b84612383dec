"""kamctl schema: write or check the JSON Schemas generated from the models (through fsafe: a
schemas/ file that is a link, FIFO or folder is refused, never followed)."""

from __future__ import annotations

from pathlib import Path

import typer

from kamctl.cli.common import DATA_PROBLEM, write_output
from kamctl.model.schema import generate


def schema(
    out: Path = typer.Option(Path("schemas"), "--out", help="Folder for account.schema.json and kam.schema.json."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the files differ from the models."),
) -> None:
    """Write account.schema.json and kam.schema.json from the models (no workspace needed).

    In CI, --check fails when schemas/ is out of date.

    Example: kamctl schema --check
    """

    stale = [str(out / name) for name, text in generate().items() if write_output(out / name, text.encode(), check)]
    if check:
        if stale:
            typer.echo(f"out of date: {', '.join(stale)}; run `kamctl schema --out {out}`", err=True)
            raise typer.Exit(DATA_PROBLEM)
        typer.echo(f"{out} is up to date", err=True)
    else:
        typer.echo(f"wrote {', '.join(stale)}" if stale else f"{out} already up to date", err=True)


def register(app: typer.Typer) -> None:
    app.command()(schema)
