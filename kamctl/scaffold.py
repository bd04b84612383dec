"""New workspaces and account files, from the commented templates in templates/scaffold/.

The lists in them (factors, the five questions, quadrants, stages, limits) come from the models.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from kamctl.model.account import Level, Quadrant, WhitespaceStatus
from kamctl.pipeline import quarter
from kamctl.resources import data_dir
from kamctl.model.account import AXES, FIVE_QUESTIONS, FarmerCycle, FiveForces, Strategy
from kamctl.model.settings import Settings

QUADRANT_POSITIONS = {q.value: q.position for q in Quadrant}


def yaml_str(value: str) -> str:
    """A YAML double-quoted scalar for any text (JSON strings are YAML; non-ASCII stays readable)."""
    import json

    quoted = json.dumps(str(value), ensure_ascii=False)
    # YAML allows only printable characters in a file, even inside quotes: escape the rest.
    return "".join(c if c.isprintable() else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
                   for c in quoted)


def one_line(value: str) -> str:
    """Text safe inside a `#` comment: line breaks become spaces."""
    return " ".join(str(value).split())


@functools.lru_cache(maxsize=1)
def _env():
    """One environment per process: an import of a thousand accounts compiles the template once."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_dir("templates") / "scaffold")),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["yaml_str"] = yaml_str
    env.filters["one_line"] = one_line
    return env


def _axes(settings) -> dict[str, list[dict]]:
    return {axis: [{"name": n, "title": f.title, "description": f.description,
                    "weight": settings.scoring.weights_for(axis)[n]}
                   for n, f in model.model_fields.items()] for axis, model in AXES.items()}


def settings_text(schema_ref: str) -> str:
    settings = Settings()
    quadrants = {k: {**q, "position": QUADRANT_POSITIONS[k]} for k, q in settings.quadrants.model_dump().items()}
    return _env().get_template("kam.yaml.j2").render(
        settings=settings, axes=_axes(settings), quadrants=quadrants, schema_ref=schema_ref)


def account_text(account_id: str, name: str, schema_ref: str) -> str:
    questions = [{"name": q, "description": Strategy.model_fields[q].description} for q in FIVE_QUESTIONS]
    return _env().get_template("account.yaml.j2").render(
        id=account_id, name=name, schema_ref=schema_ref, axes=_axes(Settings()), questions=questions,
        cycle=[c.value for c in FarmerCycle], forces=list(FiveForces.model_fields),
        levels=[lv.value for lv in Level], whitespace_statuses=[s.value for s in WhitespaceStatus])


def sample_account_text(schema_ref: str, today: dt.date | None = None) -> str:
    """The sample account, its dates set around today so that it passes `kamctl check` when written."""
    today = today or dt.date.today()

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    trial = today + dt.timedelta(days=60)
    return _env().get_template("sample-account.yaml").render(
        schema_ref=schema_ref, day=day, year=today.year, trial_quarter=quarter(trial).split("-")[1])


def schema_ref(account_dir: Path, workspace: Path, name: str) -> str:
    """Relative path from a file's folder to the workspace's schemas/NAME (for editors)."""
    import os

    return os.path.relpath(workspace / "schemas" / name, account_dir).replace(os.sep, "/")
