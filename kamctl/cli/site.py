"""site: the portfolio as a static HTML site with SVG charts, for people who never open a terminal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from kamctl import fsafe, site as core
from kamctl.cli.common import AT, DATA_PROBLEM, USAGE, as_of_date, fail, invalid_note, load, print_findings, state
from kamctl.present import plural
from kamctl.render import RenderError


def site(ctx: typer.Context,
         out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the site (created if missing)."),
         as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", show_default=False,
                                             help="Compute the figures as of YYYY-MM-DD (default: today, or the --at commit's date)."),
         at: Optional[str] = AT,
         history: bool = typer.Option(True, "--history/--no-history",
                                      help="Each account's history from git (off: faster, no git needed).")) -> None:
    """The portfolio as a static HTML site with SVG charts: index, one page per account, pipeline.

    Opens from the file system or any static host with no network request (every asset is in DIR).
    Templates in the workspace's templates/site/ override the built-in ones. Files whose bytes would
    not change are not rewritten.

    Example: kamctl -w examples site --out public --as-of 2026-11-30
    """
    ws = load(ctx, at=at)
    for loaded in ws.accounts:
        if not loaded.ok:
            print_findings(loaded.findings)
    when = as_of_date(ws, as_of)
    revision = getattr(ws, "revision", None)
    histories = core.git_history(ws.root, revision.day if revision else None, use_cache=at is None and
                                 not state(ctx).no_cache) if history else None
    try:
        pages = core.build([a for a in ws.accounts if a.ok], ws.settings, ws.root, when, histories)
    except RenderError as exc:
        fail(str(exc), DATA_PROBLEM)
    written = write_site(out, {path: text.encode("utf-8") for path, text in pages.items()})
    typer.echo(f"{plural(len(pages), 'file')} in {out}: {written} written, {len(pages) - written} unchanged", err=True)
    raise typer.Exit(invalid_note(ws))


def write_site(out: Path, files: dict[str, bytes]) -> int:
    """Write each file (path inside out) whose bytes differ, atomically; the count written. out is the
    user's choice; below it no symlink, FIFO or folder in a file's place is followed or replaced."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create {out}: {exc.strerror or exc}", USAGE)
    folders: dict[str, int] = {}
    written = 0
    try:
        for path, data in sorted(files.items()):
            folder, _, name = path.rpartition("/")
            shown = out / path
            try:
                if folder not in folders:
                    folders[folder] = fsafe.open_dir(out, folder, create=True, follow=False)
                fd = folders[folder]
                try:
                    if fsafe.read_at(fd, name, len(data)) == data:
                        continue
                except (FileNotFoundError, fsafe.TooLarge):
                    pass
                try:
                    mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    mode = None
                fsafe.write_file(fd, name, data, keep_mode=mode)
            except fsafe.UnsafePath as exc:
                fail(f"refusing to write {shown}: {exc} (a symlink, folder, pipe or device; kamctl never "
                     "writes through it)", DATA_PROBLEM)
            except OSError as exc:
                fail(f"cannot write {shown}: {exc.strerror or exc}", USAGE)
            written += 1
    finally:
        for fd in folders.values():
            os.close(fd)
    return written


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(site)
