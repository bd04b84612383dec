"""The root command group: global options written after the command (`kamctl check -w DIR`) still work.

Click reads -w/--workspace and --no-cache only before the command name; people write them after it
too. They are moved to the front before parsing, skipping the values of the command's own options
(`--note -w` keeps -w as the note) and everything after `--`.
"""

from __future__ import annotations

import errno
from typing import Any

from typer.core import TyperGroup

from kamctl.cli.common import USAGE, fail
from kamctl.ids import shown

WITH_VALUE = ("-w", "--workspace")
FLAGS = ("--no-cache",)
NAME_MAX = 255  # bytes in one file or folder name on common file systems


def hoist(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """args with the global options found after the command name moved before it."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":  # options already in front
        i += 2 if args[i] in WITH_VALUE else 1
    command, at = group, i
    while at < len(args) and hasattr(command, "get_command"):  # down to the (sub)command named
        command = command.get_command(ctx, args[at])
        if command is None:
            return args  # click says what is wrong with the name
        at += 1
    own = {name for p in getattr(command, "params", []) for name in (*p.opts, *p.secondary_opts)}
    if own & {*WITH_VALUE, *FLAGS}:
        return args
    takes_value = {name for p in command.params if getattr(p, "param_type_name", "") == "option"
                   and not p.is_flag and not p.count for name in p.opts}
    moved: list[str] = []
    kept: list[str] = []
    rest = args[at:]
    k = 0
    while k < len(rest):
        token = rest[k]
        if token == "--":
            kept += rest[k:]
            break
        if token in WITH_VALUE:
            if k + 1 == len(rest):
                ctx.fail(f"{token} needs a folder: kamctl -w DIR {' '.join(args[i:at])}")
            moved += rest[k:k + 2]
            k += 2
            continue
        if token in FLAGS or token.startswith("--workspace=") or token.startswith("-w"):
            moved.append(token)
        else:
            kept.append(token)
            if token in takes_value and k + 1 < len(rest):
                kept.append(rest[k + 1])
                k += 1
        k += 1
    if not moved:
        return args
    return args[:i] + moved + args[i:at] + kept


class KamctlGroup(TyperGroup):
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
