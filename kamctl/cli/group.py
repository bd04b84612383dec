"""The root command group: global options written after the command (`kamctl check -w DIR`) still work.

Click reads -w/--workspace and --no-cache only before the command name; people write them after it
too. They are moved to the front before parsing, skipping the values of the command's own options
(`--note -w` keeps -w as the note) and everything after `--`. A name too long for the file system,
from any folder, file or id given, ends as a one-line usage error here rather than a traceback.

Commands load lazily (click's LazyGroup pattern): the group lists names from a table and imports a
command's module only when that command runs, so `kamctl --help` never imports the core (pydantic).
"""

from __future__ import annotations

import errno
import importlib
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from kamctl.cli.base import USAGE, fail
from kamctl.ids import shown

WITH_VALUE = ("-w", "--workspace")
FLAGS = ("--no-cache",)
NAME_MAX = 255  # bytes in one file or folder name on common file systems


def hoist(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """args with the global options found after the command name (or between `opp` and `add`) moved
    before it."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":  # options already in front
        i += 2 if args[i] in WITH_VALUE else 1
    command: Any = group
    moved: list[str] = []
    kept: list[str] = []
    takes_value: set[str] = set()
    k = i
    while k < len(args):
        token = args[k]
        if token == "--":
            kept += args[k:]
            break
        if token in WITH_VALUE:
            if k + 1 == len(args):
                ctx.fail(f"{token} needs a folder: kamctl -w DIR {' '.join(a for a in kept if not a.startswith('-'))}")
            moved += args[k:k + 2]
            k += 2
            continue
        if token in FLAGS or token.startswith(("--workspace=", "-w")):
            moved.append(token)
        elif hasattr(command, "get_command") and not token.startswith("-"):  # a (sub)command name
            command = command.get_command(ctx, token)
            if command is None:
                return args  # click says what is wrong with the name
            if {name for p in command.params for name in (*p.opts, *p.secondary_opts)} & {*WITH_VALUE, *FLAGS}:
                return args  # the command has an option of that name itself
            takes_value = {name for p in command.params if getattr(p, "param_type_name", "") == "option"
                           and not p.is_flag and not p.count for name in p.opts}
            kept.append(token)
        else:
            kept.append(token)
            if token in takes_value and k + 1 < len(args):
                kept.append(args[k + 1])
                k += 1
        k += 1
    return args[:i] + moved + kept if moved else args


class KamctlGroup(TyperGroup):
    """The root group. lazy: command name -> (module with register(app), one-line summary for --help)."""

    lazy: dict[str, tuple[str, str]] = {}
    listing = False  # True while the root --help is written: summaries come from the table

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in self.commands or name not in self.lazy:
            return super().get_command(ctx, name)
        module, summary = self.lazy[name]
        if self.listing:
            return TyperCommand(name, help=summary)
        loaded = typer.Typer()
        importlib.import_module(module).register(loaded)
        self.commands.update(typer.main.get_group(loaded).commands)
        return self.commands[name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            for name in self.lazy:  # a mistyped name: load every command so typer can say "Did you mean"
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist(self, ctx, list(args)))

    def invoke(self, ctx: Any) -> Any:
        """A name too long for the file system (any folder, file or id given) is a usage error, not a traceback."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            path = str(exc.filename or "")
            long = [part for part in path.split("/") if len(part.encode()) > NAME_MAX]
            name = shown(long[0] if long else path) if path else "a path given"
            fail(f"file or folder name too long: {name}; use a shorter name", USAGE)
