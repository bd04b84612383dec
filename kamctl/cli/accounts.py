"""init, new, validate: create workspaces and accounts, and say what is wrong with them."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import List, Optional

import typer

from kamctl import fsafe
from kamctl.cli.common import AT, DATA_PROBLEM, USAGE, fail, id_argument, load, print_findings, state, workspace_root
from kamctl.workspace import ACCOUNTS_DIR, WorkspaceError, find_workspace
from kamctl.model.schema import generate
from kamctl import scaffold
from kamctl.workspace import SETTINGS_FILE, load_account, load_settings
from kamctl.present import plural


def init(
    directory: Path = typer.Argument(Path("."), help="Folder for the new workspace (created if missing)."),
) -> None:
    """Create a workspace: a commented kam.yaml, accounts/ with one sample account, and schemas/.

    Example: kamctl init kam && cd kam && kamctl validate
    """

    targets = [directory / "kam.yaml", directory / "accounts" / "northwind-foods.yaml"]
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        fail(f"{', '.join(existing)} already exists; kamctl init never overwrites. "
             "Choose an empty folder, or use `kamctl new ID --name NAME` to add an account.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _create(directory, "accounts", {})
        _create(directory, "schemas", generate(), missing_only=True)
        _create(directory, "", {"kam.yaml": scaffold.settings_text("schemas/kam.schema.json")})
        _create(directory, "accounts",
                {"northwind-foods.yaml": scaffold.sample_account_text("../schemas/account.schema.json")})
    except FileExistsError as exc:
        fail(f"{exc.filename} already exists; kamctl init never overwrites.")
    except OSError as exc:
        fail(f"cannot create a workspace in {directory}: {exc if isinstance(exc, fsafe.UnsafePath) else exc.strerror}")
    typer.echo(f"Created workspace {directory}: kam.yaml, accounts/northwind-foods.yaml, schemas/.")
    typer.echo("Next: kamctl new ID --name NAME   (then: kamctl validate)")


def new(
    ctx: typer.Context,
    account_id: str = id_argument(help="Account id: lowercase letters, digits, dashes (at most 64)."),
    name: str = typer.Option(..., "--name", help="The customer's name."),
) -> None:
    """Create accounts/ID.yaml from the commented template, every section present and empty.

    Example: kamctl new acme-corp --name "Acme Corp"
    """

    if not name.strip():
        fail("--name must not be empty: give the customer's name, e.g. --name \"Acme Corp\"")
    root = workspace_root(ctx)
    folder = root / ACCOUNTS_DIR
    target = folder / f"{account_id}.yaml"
    if target.exists():
        fail(f"account '{account_id}' already exists ({target}); pick another id or edit that file")
    ref = scaffold.schema_ref(folder, root, "account.schema.json")
    try:
        _create(root, ACCOUNTS_DIR, {target.name: scaffold.account_text(account_id, name, ref)})
    except FileExistsError:
        fail(f"account '{account_id}' already exists ({target}); pick another id or edit that file")
    except OSError as exc:
        fail(f"cannot create {target}: {exc if isinstance(exc, fsafe.UnsafePath) else exc.strerror}")
    typer.echo(f"Created {target}")


def validate(
    ctx: typer.Context,
    files: Optional[List[Path]] = typer.Argument(None, exists=True, help="Files to validate (default: kam.yaml and every account)."),
    at: Optional[str] = AT,
) -> None:
    """Validate kam.yaml and the account files; print each problem as path:line:col: CODE message.

    Exit 0 when everything is valid, 1 when a file has problems, 2 when no workspace is found.

    Example: kamctl -w examples validate
    """

    if files and at is not None:
        fail("--at validates the workspace at a revision; it takes no FILES (drop them, or drop --at)", USAGE)
    if files:
        findings = []
        root = _root_for(files[0], ctx)
        for file in files:
            if file.name == SETTINGS_FILE:
                findings.extend(load_settings(file.parent)[2])
            else:
                findings.extend(load_account(file, root).findings)
        count = len(files)
    else:
        ws = load(ctx, at=at, settings_must_be_valid=False)
        findings = ws.findings
        count = len(ws.accounts)
    order = {name: i for i, name in enumerate(dict.fromkeys(f.file for f in findings))}
    findings = sorted(findings, key=lambda f: (order[f.file], f.line, f.column, f.rule))  # by line within each file
    print_findings(findings, stream=_stdout())
    if findings:
        files_with = len({f.file for f in findings})
        typer.echo(f"{plural(len(findings), 'problem')} in {plural(files_with, 'file')}", err=True)
        raise typer.Exit(DATA_PROBLEM)
    typer.echo(f"{plural(count, 'account file')} valid" + ("" if files else " (and kam.yaml)"), err=True)


def _folder(root: Path, name: str) -> int:
    """A real folder in the (possibly untrusted) workspace, created if missing; a link out is refused."""
    try:
        return fsafe.open_dir(root, name, create=True)
    except fsafe.Outside:
        raise fsafe.Outside(f"{root / name} is a link to a place outside the workspace; "
                            "kamctl does not write through it") from None


def _create(root: Path, folder: str, files: dict[str, str], missing_only: bool = False) -> None:
    """New files in a folder of root, never overwriting, never through a link; FileExistsError
    (filename: the path) for one that exists, unless missing_only (then it is left as it is)."""
    fd = _folder(root, folder)
    try:
        for name, text in files.items():
            try:
                fsafe.write_file(fd, name, text.encode(), replace=False, durable=True)
            except FileExistsError:
                if not missing_only:
                    raise FileExistsError(errno.EEXIST, "already exists", str(root / folder / name)) from None
    finally:
        os.close(fd)


def _root_for(file: Path, ctx: typer.Context) -> Path:
    """The workspace a loose file belongs to (for the outside-link check), else its own folder."""

    try:
        return find_workspace(state(ctx).workspace, start=file.resolve().parent)
    except WorkspaceError:
        return file.resolve().parent


def _stdout():
    import sys

    return sys.stdout


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(new)
    app.command()(validate)
