"""The `kamctl` command. Command modules load only when their command runs, so --help stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kamctl import __version__
from kamctl.cli.base import State
from kamctl.cli.group import KamctlGroup

# Command name -> (module whose register(app) adds it, the summary the root --help shows): the
# first paragraph of the command's docstring (a test keeps them equal), in the order --help lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("kamctl.cli.accounts",
             "Create a workspace: a commented kam.yaml, accounts/ with one sample account, and schemas/."),
    "new": ("kamctl.cli.accounts",
            "Create accounts/ID.yaml from the commented template, every section present and empty."),
    "validate": ("kamctl.cli.accounts",
                 "Validate kam.yaml and the account files; print each problem as path:line:col: CODE message."),
    "schema": ("kamctl.cli.schema",
               "Write account.schema.json and kam.schema.json from the models (no workspace needed)."),
    "score": ("kamctl.cli.score",
              "Attractiveness, relative strength and Key Account Model quadrant of each account."),
    "portfolio": ("kamctl.cli.score",
                  "The Key Account Model: accounts placed by attractiveness and relative strength, with strategies."),
    "level": ("kamctl.cli.score", "The relationship level the customer perceives, and the next step up."),
    "owners": ("kamctl.cli.score",
               "Accounts by owner and role: hunted, farmed, and those ready to hand from hunter to farmer."),
    "pipeline": ("kamctl.cli.opp",
                 "The portfolio pipeline: stages, funnel, forecast by quarter and stale opportunities."),
    "check": ("kamctl.cli.check", "Check account plans: validity, completeness and early-warning alerts, with "
              "completeness per section."),
    "rules": ("kamctl.cli.check",
              "List every rule with its code, severity and explanation; `rules CODE` explains one in full."),
    "report": ("kamctl.cli.check", "KAM performance measures per account and for the portfolio: opportunities, "
               "sales, relationships, satisfaction, alerts."),
    "health": ("kamctl.cli.health", "Account health 0-100 per account, least healthy first, with --explain to "
               "recompute it."),
    "history": ("kamctl.cli.history", "Show how an account changed, commit by commit (renames followed)."),
    "diff": ("kamctl.cli.history", "Show what changed in the portfolio between two revisions."),
    "opp": ("kamctl.cli.opp",
            "Add opportunities and move them through the pipeline stages (edits keep the file's comments)."),
    "render": ("kamctl.cli.render",
               "Render Markdown with Jinja templates (the workspace's templates/ first, then the built-in ones)."),
    "agenda": ("kamctl.cli.agenda", "What comes due in the next days, soonest first: tactics, contacts going cold, "
               "surveys, opportunities, plan years."),
    "contact": ("kamctl.cli.update", "Record that we met or spoke to a decision maker: sets their last_contact."),
    "tactic": ("kamctl.cli.update", "Mark a development-plan tactic done (the edit keeps the file's comments)."),
    "survey": ("kamctl.cli.update",
               "Record a satisfaction survey or interview (the edit keeps the file's comments)."),
    "sales": ("kamctl.cli.update", "Record the sales achieved in a period (the edit keeps the file's comments)."),
    "site": ("kamctl.cli.site",
             "The portfolio as a static HTML site with SVG charts: index, one page per account, pipeline."),
    "whitespace": ("kamctl.cli.whitespace", "Buying centres against our offerings per account, with share of wallet, "
                   "and the potential not yet pursued."),
    "import": ("kamctl.cli.crm",
               "Bring key accounts in from the CRM: Salesforce or HubSpot exports, or any CSV with a map."),
    "export": ("kamctl.cli.crm", "Write the portfolio out: Salesforce CSVs, or JSON with the computed results."),
}


class RootGroup(KamctlGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="kamctl",
    cls=RootGroup,
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


def main() -> None:
    import gc

    # A short-lived command holding thousands of accounts: collect cycles rarely (issue 7, ~35% of a
    # 10,000-account check was spent in the cyclic GC at the default threshold of 700).
    gc.set_threshold(100_000, 50, 100)
    app()
