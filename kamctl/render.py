"""Render accounts and the portfolio to Markdown with Jinja templates.

Templates are looked up in the workspace's own templates/ folder first, then in kamctl's built-in
templates/ (as a theme's custom_dir is searched before the theme). They run in Jinja's sandbox, so
a workspace template cannot reach Python internals, and receive the validated models plus the
computed results (scores, quadrant, level, pipeline, performance, alerts); they never recompute.

Plain core: functions take data and return text or raise RenderError / ContactError. Nothing here
prints, exits or writes files.
"""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path
from typing import Any

from kamctl.markdown import (_plain, md_cell, md_inline, md_text, mermaid_label, money, number, percent, score,
                             totals, words)
from kamctl.model.vocabulary import label

ACCOUNT_DOCUMENTS = ("plan", "questionnaire", "survey")
DOCUMENTS = (*ACCOUNT_DOCUMENTS, "portfolio")
TEMPLATES = {name: f"{name}.md.j2" for name in DOCUMENTS}
WORKSPACE_TEMPLATES = "templates"


class RenderError(Exception):
    """A template failed (syntax, undefined name, sandbox violation): a one-line message, exit 1."""


class ContactError(Exception):
    """--contact names no decision maker of the account (a usage error, exit 2)."""


# --- the environment ----------------------------------------------------------------------------


def builtin_templates() -> Path:
    from kamctl.resources import data_dir

    return data_dir("templates")


def environment(root: Path | None) -> Any:
    """A sandboxed Jinja environment: the workspace's templates/ first, then the built-in ones."""
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    paths = []
    if root is not None and (Path(root) / WORKSPACE_TEMPLATES).is_dir():
        paths.append(str(Path(root) / WORKSPACE_TEMPLATES))
    paths.append(str(builtin_templates()))
    env = SandboxedEnvironment(
        loader=FileSystemLoader(paths, encoding="utf-8"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_plain, md=md_text, inline=md_inline, cell=md_cell, mermaid=mermaid_label, words=words,
                       number=number, money=money, percent=percent, score=score, totals=totals, label=label)
    return env


def _shown(path: str | None) -> str:
    from kamctl.workspace import display

    return display(path) if path else "template"


def _template_line(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where a runtime error happened (Jinja rewrites the traceback)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and frame.filename.endswith(".j2"):
            return frame.filename, frame.lineno
    return None, None


def render_template(env: Any, name: str, context: dict[str, Any]) -> str:
    """Render one template; every Jinja failure becomes a one-line RenderError naming the file."""
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError
    from jinja2.sandbox import SecurityError

    filename: str | None = None
    try:
        template = env.get_template(name)
        filename = template.filename
        text = template.render(**context)
    except TemplateSyntaxError as exc:
        where = _shown(exc.filename or filename)
        raise RenderError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from None
    except TemplateNotFound as exc:
        where = f"{_shown(filename)}: " if filename else ""
        raise RenderError(f"{where}template {exc.name!r} not found (searched the workspace's "
                          f"{WORKSPACE_TEMPLATES}/ and the built-in templates)") from None
    except SecurityError as exc:
        file, line = _template_line(exc)
        where = _shown(file or filename) + (f":{line}" if line else "")
        raise RenderError(f"{where}: refused by the template sandbox: {exc}") from None
    except TemplateError as exc:  # undefined names and other template errors
        file, line = _template_line(exc)
        where = _shown(file or filename) + (f":{line}" if line else "")
        raise RenderError(f"{where}: template error: {exc.message or exc}") from None
    except Exception as exc:  # a template calling something with the wrong arguments, dividing by 0...
        file, line = _template_line(exc)
        if file is None:
            raise
        raise RenderError(f"{_shown(file)}:{line}: template error: {type(exc).__name__}: {exc}") from None
    return tidy(text)


def tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, exactly one final newline."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


# --- context: the models plus what other modules computed ------------------------------------------


def _optional(module: str, name: str) -> Any:
    """A computed result from a sibling module, or None when that module is not there yet."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def model_lists() -> dict[str, Any]:
    """Titles and descriptions from the models, so templates never keep a second copy."""
    from kamctl.model.account import (AGENDA, AXES, CHARTER, FIVE_QUESTIONS, DecisionMaker, FiveForces, Quarter,
                                      Stage, Strategy)

    def title(model: Any, name: str) -> str:
        field = model.model_fields[name]
        return field.title or name.replace("_", " ").capitalize()

    return {
        "axes": {axis: [{"name": n, "title": model.model_fields[n].title or n,
                         "description": model.model_fields[n].description or ""}
                        for n in model.model_fields]
                 for axis, model in AXES.items()},
        "axis_titles": {axis: (model.__doc__ or axis).split(":")[0].strip() for axis, model in AXES.items()},
        "charter": [{"name": n, "title": title(Strategy, n),
                     "description": Strategy.model_fields[n].description or ""} for n in CHARTER],
        "five_questions": [{"name": n, "question": Strategy.model_fields[n].description or n}
                           for n in FIVE_QUESTIONS],
        "agenda": [{"name": n, "question": DecisionMaker.model_fields[n].description or n} for n in AGENDA],
        "quarters": [q.value for q in Quarter],
        "stages": [s.value for s in Stage],
        "forces": list(FiveForces.model_fields),
    }


def account_context(account_id: str, loaded: Any, settings: Any, as_of: dt.date | None) -> dict[str, Any]:
    """Everything an account template may show. as_of None: dates computed at today, never shown."""
    from kamctl.scoring import summarise

    account = loaded.account
    when = as_of or dt.date.today()
    context: dict[str, Any] = {
        "id": account_id,
        "account": account,
        "settings": settings,
        "company": settings.company,
        "as_of": as_of,
        "summary": summarise(account_id, account, settings),
        **model_lists(),
    }
    pipeline = _optional("kamctl.pipeline", "account_pipeline")
    context["pipeline"] = pipeline(account, settings, when) if pipeline else None
    performance = _optional("kamctl.report", "performance")
    context["performance"] = performance(account, settings, when) if performance else None
    alerts = _optional("kamctl.checks", "alerts")
    context["alerts"] = list(alerts(loaded, settings, when)) if alerts else None
    moments: dict[str, None] = {}  # every moment of truth on file, latest survey first, once each
    for survey in sorted(account.performance.surveys, key=lambda s: s.date, reverse=True):
        moments.update((m.strip(), None) for m in survey.moments_of_truth if m.strip() and m.strip() not in moments)
    context["moments_of_truth"] = list(moments)
    return context


def portfolio_context(accounts: list[tuple[str, Any]], settings: Any, as_of: dt.date | None) -> dict[str, Any]:
    """accounts: (id, Account) pairs of the valid accounts. Shown in kamctl.portfolio's order."""
    from kamctl.scoring import summarise

    summaries = [summarise(account_id, account, settings) for account_id, account in accounts]
    by_id = dict(accounts)
    chart = _optional("kamctl.portfolio", "quadrant_chart")
    order = _optional("kamctl.portfolio", "sort_key")
    grid = _optional("kamctl.portfolio", "grid")
    if order:
        summaries.sort(key=order)
    lists = model_lists()
    worksheets = {}
    for axis, factors in lists["axes"].items():
        weights = settings.scoring.weights_for(axis)
        rows = []
        for f in factors:
            scores = []
            for s in summaries:
                value = getattr(getattr(by_id[s.id], axis), f["name"])
                scores.append(None if value is None else value.score)
            rows.append({**f, "weight": weights[f["name"]], "scores": scores})
        worksheets[axis] = {"rows": rows, "totals": [getattr(s.score, axis) for s in summaries],
                            "cut_point": getattr(settings.scoring.cut_points, axis)}
    return {
        "settings": settings,
        "company": settings.company,
        "as_of": as_of,
        "summaries": summaries,
        "accounts": {s.id: by_id[s.id] for s in summaries},
        "quadrant_chart": chart(summaries, settings).strip() if chart else None,
        "grid": grid(summaries, settings) if grid else None,
        "worksheets": worksheets,
        **lists,
    }


# --- documents ---------------------------------------------------------------------------------


def select_contact(account: Any, contact: str | None) -> list[Any]:
    """The decision makers to question: all, or the one whose key is contact."""
    if contact is None:
        return list(account.decision_makers)
    chosen = [dm for dm in account.decision_makers if dm.key == contact]
    if not chosen:
        known = ", ".join(dm.key for dm in account.decision_makers) or "none on file"
        raise ContactError(f"no decision maker '{contact}' in this account; known: {known}")
    return chosen


def render_account(kind: str, account_id: str, loaded: Any, settings: Any, root: Path | None, *,
                   as_of: dt.date | None = None, contact: str | None = None, blank: bool = False,
                   env: Any = None) -> str:
    """plan, questionnaire or survey for one valid account."""
    if kind not in ACCOUNT_DOCUMENTS:
        raise ValueError(f"unknown account document {kind!r}")
    context = account_context(account_id, loaded, settings, as_of)
    context["contacts"] = select_contact(loaded.account, contact) if kind == "questionnaire" else []
    context["blank"] = blank
    context["relationship_map"] = relationship_map(loaded.account, settings)
    return render_template(env or environment(root), TEMPLATES[kind], context)


def render_portfolio(accounts: list[tuple[str, Any]], settings: Any, root: Path | None, *,
                     as_of: dt.date | None = None, env: Any = None) -> str:
    return render_template(env or environment(root), TEMPLATES["portfolio"],
                           portfolio_context(accounts, settings, as_of))


def relationship_map(account: Any, settings: Any) -> str | None:
    """A Mermaid flowchart linking each decision maker to our counterpart (None: no decision makers).

    Node ids are generated (dm1, us1, ...), labels are quoted with Mermaid entity codes, so names
    with quotes, brackets, colons or non-ASCII letters cannot break the diagram.
    """
    dms = account.decision_makers
    if not dms:
        return None
    ours: dict[str, str] = {}
    for dm in dms:
        if dm.counterpart and dm.counterpart.strip() and dm.counterpart.strip() not in ours:
            ours[dm.counterpart.strip()] = f"us{len(ours) + 1}"
    lines = ["flowchart LR",
             f'  subgraph customer["{mermaid_label(account.name)}"]']
    for i, dm in enumerate(dms, 1):
        label = mermaid_label(dm.name)
        if dm.title:
            label += "<br>" + mermaid_label(dm.title)
        lines.append(f'    dm{i}["{label}"]')
    lines.append("  end")
    if ours:
        lines.append(f'  subgraph ours["{mermaid_label(settings.company.name)}"]')
        for name, node in ours.items():
            lines.append(f'    {node}["{mermaid_label(name)}"]')
        lines.append("  end")
    for i, dm in enumerate(dms, 1):
        if dm.counterpart and dm.counterpart.strip():
            node = ours[dm.counterpart.strip()]
            link = f' -- "strength {dm.strength}/5" --- ' if dm.strength else " --- "
            lines.append(f"  {node}{link}dm{i}")
    return "\n".join(lines)
