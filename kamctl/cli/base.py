"""What the root command needs before any command module loads: exit codes, the global options, fail.

Kept apart from kamctl.cli.common (which imports the core) so that `kamctl --help` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer

from kamctl.present import visible

OK, DATA_PROBLEM, USAGE = 0, 1, 2


def _flag_type(self: Any, ctx: Any, _shown: Any = typer.core.TyperOption.display_type_rich) -> Any:
    """Help lists a flag (--no-cache, --help) bare: `<bool>` suggests it takes a value."""
    return None if self.is_flag and self.metavar is None else _shown(self, ctx)


typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]
# An argument's name (ID, CODE) says what it takes; typer's `<list[str]>` beside it is Python, not help.
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


class State:
    """Options given before the command (`kamctl -w DIR ...`)."""

    def __init__(self, workspace: Path | None = None, no_cache: bool = False) -> None:
        self.workspace = workspace
        self.no_cache = no_cache


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Print a one-line error to stderr and exit with code (2 usage/settings, 1 data)."""
    typer.echo(f"kamctl: error: {visible(message)}", err=True)  # a file name's ESC is shown, not run
    raise typer.Exit(code)
