"""The console script's entry point: `kamctl --version` answers before typer is even imported."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from kamctl import __version__

        print(f"kamctl {__version__}")
        return
    from kamctl.cli.app import main as run

    run()
