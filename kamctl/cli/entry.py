"""The console script's entry point: `kamctl --version` answers before typer is even imported."""

from __future__ import annotations

import sys

from kamctl import __version__


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(f"kamctl {__version__}")
        return
    from kamctl.cli.app import main as run  # lazy on purpose: --version above must not import typer

    run()
