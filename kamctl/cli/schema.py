"""kamctl schema: write or check the JSON Schemas generated from the models."""

from __future__ import annotations

from pathlib import Path

import typer

from kamctl.cli.common import DATA_PROBLEM, fail
from kamctl.model.schema import generate
from kamctl.yamlio.write import atomic_write


def schema(
    out: Path = typer.Option(Path("schemas"), "--out", help="Folder for account.schema.json and kam.schema.json."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the files differ from the models."),
) -> None:
    """Write account.schema.json and kam.schema.json from the models (no workspace needed).

    Example: kamctl schema --check   (in CI: fails when schemas/ is out of date)
    """

    stale = []
    for name, text in generate().items():
        target = out / name
        try:
            current = target.read_bytes() if target.is_file() else None
        except OSError:
            current = None
        if current == text.encode():
            continue
        stale.append(str(target))
        if not check:
            try:
                out.mkdir(parents=True, exist_ok=True)
                atomic_write(target, text.encode())
            except OSError as exc:
                fail(f"cannot write {target}: {exc.strerror or exc}")
    if check:
        if stale:
            typer.echo(f"out of date: {', '.join(stale)}; run `kamctl schema --out {out}`", err=True)
            raise typer.Exit(DATA_PROBLEM)
        typer.echo(f"{out} is up to date", err=True)
    else:
        typer.echo(f"wrote {', '.join(stale)}" if stale else f"{out} already up to date", err=True)


def register(app: typer.Typer) -> None:
    app.command()(schema)
