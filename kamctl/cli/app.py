"""The `kamctl` command. Command modules import only typer at top level, so --help stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kamctl import __version__
from kamctl.cli import accounts, check, history, opp, render, schema, score
from kamctl.cli.common import State
from kamctl.cli.group import KamctlGroup

app = typer.Typer(
    name="kamctl",
    cls=KamctlGroup,
    help="Key Account Management plans kept as YAML in git: score, check, render and track key accounts.\n\n"
    "Example: kamctl -w examples check",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kamctl {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    workspace: Optional[Path] = typer.Option(
        None, "-w", "--workspace", help="Workspace folder (holds kam.yaml). Default: $KAMCTL_WORKSPACE, "
        "else the nearest folder at or above the current one with kam.yaml.", show_default=False),
    no_cache: bool = typer.Option(False, "--no-cache", help="Read every file afresh, ignoring .kamctl-cache/."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Key Account Management plans kept as YAML in git.

    Example: kamctl -w examples check
    """
    ctx.obj = State(workspace, no_cache)


for module in (accounts, schema, score, opp, render, check, history):
    module.register(app)


def main() -> None:
    import gc

    # A short-lived command holding thousands of accounts: collect cycles rarely (issue 7, ~35% of a
    # 10,000-account check was spent in the cyclic GC at the default threshold of 700).
    gc.set_threshold(100_000, 50, 100)
    app()
