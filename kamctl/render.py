"""Render accounts and the portfolio to Markdown with Jinja templates.

Templates are looked up in the workspace's own templates/ folder first, then in kamctl's built-in
templates/ (as a theme's custom_dir is searched before the theme). A workspace template is untrusted
(a fork's pull request): it runs in a tightened Jinja sandbox and receives plain data only (the
models and the computed results dumped to dicts, lists, strings, numbers, booleans and dates; see
plain()), never a model object, path or method, so it cannot reach Python or the file system. Limits
(size of strings and output, loop steps, time, memory) stop a runaway template with a RenderError.

The sandbox and its limits are kamctl/sandbox.py. Plain core: functions take data and return text or
raise RenderError / ContactError. Nothing here prints, exits or writes files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import traceback
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from kamctl import fsafe, portfolio, whitespace
from kamctl.assessment import Assessments
from kamctl.ids import did_you_mean
from kamctl.present import (_plain, label, md_cell, md_inline, md_text, mermaid_label, money, number, percent, score,
                            totals, wallet_share, whitespace_cell, words)
from kamctl.sandbox import TemplateLimit, generate, guarded, sandbox
from kamctl.model import audience
from kamctl.model.account import Account, DecisionMaker
from kamctl.model.account import AGENDA, AXES, CHARTER, FIVE_QUESTIONS, FiveForces, Quarter, Stage, Strategy
from kamctl.resources import data_dir
from kamctl.workspace import display



@dataclasses.dataclass(frozen=True)
class Document:
    """An account document: `kamctl render KIND ID` renders templates/KIND.md.j2 with it.

    help: the command's help (first paragraph: its summary; an Example line is run by the tests).
    customer: handed to the customer, so it gets only the fields kamctl.model.audience allows.
    """

    help: str
    customer: bool = False


# Adding a document is this entry and its template: `kamctl render` makes its command from here.
ACCOUNT_DOCUMENTS: dict[str, Document] = {
    "plan": Document("The account plan: scores and quadrant, strategy charter, development plan, relationship "
                     "map, pipeline, performance and five forces.\n\n"
                     "Example: kamctl -w examples render plan alpenmilch-foods --as-of 2026-11-30"),
    "questionnaire": Document("The relationship-map questionnaire (the four agenda questions) for each key "
                              "decision maker.\n\n"
                              "With --blank it is a form for the customer: names and titles only, none of our "
                              "notes, roles, attitudes or strengths (and our counterparts only with "
                              "--with-counterparts).\n\n"
                              "Example: kamctl -w examples render questionnaire alpenmilch-foods --contact kweber "
                              "--blank"),
    "survey": Document("The customer satisfaction survey for the account's annual review. It goes to the customer, "
                       "so it holds none of our notes: the moments of truth on file are not listed, the customer "
                       "names and rates their own.\n\n"
                       "Example: kamctl -w examples render survey alpenmilch-foods --out review/", customer=True),
}
WORKSPACE_TEMPLATES = "templates"


class RenderError(Exception):
    """A template failed (syntax, undefined name, sandbox violation): a one-line message, exit 1."""


class ContactError(Exception):
    """--contact names no decision maker of the account (a usage error, exit 2)."""



# --- the environment ----------------------------------------------------------------------------


def builtin_templates() -> Path:
    return data_dir("templates")


def environment(root: Path | None, autoescape: bool = False) -> Any:
    """A sandboxed Jinja environment: the workspace's templates/ first, then the built-in ones.
    autoescape: for HTML (kamctl.site), so no user text can add markup."""
    from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, StrictUndefined

    loaders = [] if root is None else [FunctionLoader(_workspace_source(Path(root)))]
    loaders.append(FileSystemLoader(str(builtin_templates()), encoding="utf-8"))
    env = sandbox()(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_plain, md=md_text, inline=md_inline, cell=md_cell, mermaid=mermaid_label, words=words,
                       number=number, money=money, percent=percent, score=score, totals=totals, label=label)
    return env


MAX_TEMPLATE_BYTES = 1024 * 1024  # a workspace template bigger than this is not a document template


def _workspace_source(root: Path) -> Any:
    """Jinja's source of a workspace template, read through kamctl.fsafe (a template is untrusted:
    no link out of the workspace, no FIFO, size limit); None (not here) falls back to the built-ins."""
    def load(name: str) -> tuple[str, str, Any] | None:
        from jinja2 import TemplateError
        from jinja2.loaders import split_template_path

        rel = os.path.join(WORKSPACE_TEMPLATES, *split_template_path(name))
        try:
            raw = fsafe.read_bytes(root, rel, MAX_TEMPLATE_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise TemplateError(f"cannot read {rel}: {exc if isinstance(exc, fsafe.UnsafePath) else exc.strerror}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TemplateError(f"{rel} is not UTF-8; re-save it as UTF-8") from None
        return text, str(root / rel), lambda: True

    return load


def _shown(path: str | None) -> str:
    return display(path) if path else "template"


def _template_line(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where a runtime error happened (Jinja rewrites the traceback)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and frame.filename.endswith(".j2"):
            return frame.filename, frame.lineno
    return None, None


def render_template(env: Any, name: str, context: dict[str, Any]) -> str:
    """Render one template with context made plain(); every failure is a one-line RenderError."""
    return _render(env, name, plain(context))


def render_data(env: Any, name: str, data: dict[str, Any]) -> str:
    """Render one template with data that is plain() already (kamctl.site: a thousand pages, each made plain once)."""
    return _render(env, name, data)


def _render(env: Any, name: str, data: dict[str, Any]) -> str:
    """Render one template with data that is plain() already."""
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError
    from jinja2.sandbox import SecurityError

    filename: str | None = None
    try:
        with guarded():
            template = env.get_template(name)
            filename = template.filename
            text = generate(env, template, data)
    except (TemplateLimit, MemoryError, RecursionError) as exc:
        file, line = _template_line(exc)
        where = _shown(file or filename or name) + (f":{line}" if line else "")
        reason = {MemoryError: "ran out of memory", RecursionError: "nested too deeply"}.get(type(exc), str(exc))
        raise RenderError(f"{where}: template stopped: {reason}") from None
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


def plain(value: Any) -> Any:
    """value as template data: dicts, lists, str, int, float, bool, None and dates only.

    Models, dataclasses and named tuples become dicts of their fields and public properties (`dm.key`,
    `score.partial`), enums their values, paths strings. A template therefore holds no method
    (`parse_raw`, `parse_file`...), class or path to reach Python or files through.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k if type(k) is str else plain(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    names = _fields(kind)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    return _other(value)


_PLAIN = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})


def _other(value: Any) -> Any:
    """The rare kinds: enums, subclasses of plain types, sets, paths."""
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, str):
        return "".join((value,))  # a str subclass (Markup...) as a plain str
    for kind in (bool, int, float):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dict):
        return plain(dict(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be passed to a template")


@lru_cache(maxsize=None)
def _fields(kind: type) -> tuple[str, ...] | None:
    """The names a model, dataclass or named tuple shows a template: its fields, then its public properties."""
    fields = getattr(kind, "model_fields", None)
    if fields is not None:
        names = list(fields)
    elif dataclasses.is_dataclass(kind):
        names = [f.name for f in dataclasses.fields(kind)]
    elif issubclass(kind, tuple) and isinstance(getattr(kind, "_fields", None), tuple):  # a NamedTuple (Finding)
        names = list(kind._fields)
    else:
        return None
    return tuple(names + _properties(kind))


@lru_cache(maxsize=None)
def _properties(cls: type) -> list[str]:
    """The public properties kamctl's own classes define (not pydantic's model_extra & co.)."""
    names: list[str] = []
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "kamctl":
            continue
        names += [n for n, attr in vars(klass).items()
                  if isinstance(attr, property) and not n.startswith("_") and n not in names]
    return names


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


def model_lists() -> dict[str, Any]:
    """Titles and descriptions from the models, so templates never keep a second copy."""

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


def account_context(account_id: str, loaded: Any, settings: Any, as_of: dt.date | None,
                    assessments: Assessments | None = None) -> dict[str, Any]:
    """Everything an account template may show, as plain data. as_of None: dates computed at today, never shown.

    The computed parts (summary, pipeline, performance, alerts) are the account's Assessment, from
    assessments when the caller shares one run's memo."""
    account = loaded.account
    when = as_of or dt.date.today()
    assessed = (assessments or Assessments(settings, when)).of(loaded)
    context: dict[str, Any] = {
        "id": account_id,
        "settings": settings,
        "company": settings.company,
        "as_of": as_of,
        **model_lists(),
        "pipeline": assessed.pipeline,
        "performance": assessed.performance,
        "alerts": assessed.alerts,
    }
    moments: dict[str, None] = {}  # every moment of truth on file, latest survey first, once each
    for survey in sorted(account.performance.surveys, key=lambda s: s.date, reverse=True):
        moments.update((m.strip(), None) for m in survey.moments_of_truth if m.strip() and m.strip() not in moments)
    context["moments_of_truth"] = list(moments)
    context["whitespace"] = whitespace_view(whitespace_grid(account_id, account, settings), settings)
    return {**plain(context), "account": account_data(account, settings), "summary": summary_data(assessed.summary)}


def whitespace_grid(account_id: str, account: Any, settings: Any) -> whitespace.Grid | None:
    """The account's whitespace grid (kamctl.whitespace), None when it lists no buying centre."""
    if not account.buying_centres:
        return None
    return whitespace.grid(account_id, account, [o.id for o in settings.offerings], settings.company.currency)


def whitespace_view(grid: whitespace.Grid | None, settings: Any) -> dict[str, Any] | None:
    """A grid in words, as the plan and `kamctl whitespace --format markdown|table` show it: the
    offerings' names, per centre its cells (one per offering, '' where none) and share of wallet."""
    if grid is None:
        return None
    names = {o.id: o.name for o in settings.offerings}
    return {
        "id": grid.account, "name": grid.name, "currency": grid.currency,
        "offerings": [names.get(o, o) for o in grid.offerings],
        "centres": [{"id": c.id, "name": c.name, "kind": words(c.kind) if c.kind else None,
                     "cells": [whitespace_cell(c.cells.get(o), grid.currency) for o in grid.offerings],
                     "share": wallet_share(c.share, grid.currency)} for c in grid.centres],
        "share": wallet_share(grid.share, grid.currency),
    }


def account_data(account: Any, settings: Any) -> dict[str, Any]:
    """The account as plain data; each opportunity also says when it entered its stage, and each
    sales period states its currency (Account.sales_currency, as the performance measures do)."""
    data = plain(account)
    for row, opp in zip(data["opportunities"], account.opportunities):
        row["entered_stage"] = opp.entered_stage()
    for row, period in zip(data["performance"]["sales"], account.performance.sales):
        row["currency"] = account.sales_currency(period, settings.company.currency)
    return data


def summary_data(summary: Any) -> dict[str, Any]:
    """A scoring Summary as plain data; its levels as {value, number, title}, as the quadrant is a record."""
    data = plain(summary)
    for key in ("level", "declared"):
        level = getattr(summary.level, key)
        data["level"][key] = None if level is None else {"value": level.value, "number": level.number,
                                                         "title": level.title}
    return data


def portfolio_context(accounts: list[tuple[str, Any]], settings: Any, as_of: dt.date | None,
                      assessments: Assessments | None = None) -> dict[str, Any]:
    """The portfolio template's plain data; accounts: (id, Account) of the valid ones, in kamctl.portfolio's order."""
    memo = assessments or Assessments(settings, as_of or dt.date.today())
    summaries = [memo.summary(account_id, account) for account_id, account in accounts]
    by_id = dict(accounts)
    summaries.sort(key=portfolio.sort_key)
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
    shown = {s.id: summary_data(s) for s in summaries}
    quadrants = portfolio.grid(summaries, settings)
    context = plain({
        "settings": settings,
        "company": settings.company,
        "as_of": as_of,
        "quadrant_chart": portfolio.quadrant_chart(summaries, settings).strip(),
        "worksheets": worksheets,
        **lists,
    })
    return {
        **context,
        "summaries": [shown[s.id] for s in summaries],
        "accounts": {s.id: account_data(by_id[s.id], settings) for s in summaries},
        "grid": {
            key: {**plain({k: v for k, v in q.items() if k != "accounts"}),
                  "accounts": [shown[s.id] for s in q["accounts"]]} for key, q in quadrants.items()},
    }


# --- documents ---------------------------------------------------------------------------------


def select_contact(account: Any, contact: str | None) -> list[Any]:
    """The decision makers to question: all, or the one whose key is contact."""
    if contact is None:
        return list(account.decision_makers)
    chosen = [dm for dm in account.decision_makers if dm.key == contact]
    if not chosen:
        keys = [dm.key for dm in account.decision_makers]
        raise ContactError(f"no decision maker '{contact}' in this account{did_you_mean(contact, keys)}; "
                           f"known: {', '.join(keys) or 'none on file'}")
    return chosen


def render_account(kind: str, account_id: str, loaded: Any, settings: Any, root: Path | None, *,
                   as_of: dt.date | None = None, contact: str | None = None, blank: bool = False,
                   with_counterparts: bool = False, env: Any = None, assessments: Assessments | None = None) -> str:
    """plan, questionnaire or survey for one valid account; the survey and a blank questionnaire
    go to the customer and get customer_context() only."""
    if kind not in ACCOUNT_DOCUMENTS:
        raise ValueError(f"unknown account document {kind!r}")
    contacts = select_contact(loaded.account, contact) if kind == "questionnaire" else []
    if for_customer(kind, blank):
        context = customer_context(account_id, loaded.account, settings, as_of, contacts, with_counterparts)
    else:
        context = account_context(account_id, loaded, settings, as_of, assessments)
        context["contacts"] = plain(contacts)
        context["relationship_map"] = relationship_map(loaded.account, settings)
    context["blank"] = blank
    return _render(env or environment(root), f"{kind}.md.j2", context)


def for_customer(kind: str, blank: bool) -> bool:
    """Whether the document is handed to the customer: the survey, and a questionnaire to fill in."""
    return ACCOUNT_DOCUMENTS[kind].customer or (kind == "questionnaire" and blank)


def customer_context(account_id: str, account: Any, settings: Any, as_of: dt.date | None, contacts: list[Any],
                     with_counterparts: bool = False) -> dict[str, Any]:
    """The plain data of a document for the customer: only the fields kamctl.model.audience lets the
    customer see (our counterparts only when asked for), the company's name and the models' lists;
    no scores, pipeline, performance, alerts or settings.

    Moments of truth on file are internal (our words, notes among them), so the survey lists none:
    the customer names and rates their own (`moments_of_truth` is what is left of them here).
    """
    readers = audience.CUSTOMER_DOCUMENT | ({audience.COUNTERPARTS} if with_counterparts else set())
    shown = audience.visible(plain(account), Account, readers)
    surveys = shown.get("performance", {}).get("surveys", [])
    return {
        "id": account_id,
        "company": {"name": settings.company.name},
        "as_of": as_of,
        **plain(model_lists()),
        "account": shown,
        "contacts": audience.visible(plain(contacts), DecisionMaker, readers),
        "moments_of_truth": list(dict.fromkeys(m.strip() for s in surveys for m in s.get("moments_of_truth", [])
                                               if m.strip())),
    }


def render_portfolio(accounts: list[tuple[str, Any]], settings: Any, root: Path | None, *,
                     as_of: dt.date | None = None, env: Any = None, assessments: Assessments | None = None) -> str:
    return _render(env or environment(root), "portfolio.md.j2",
                   portfolio_context(accounts, settings, as_of, assessments))


def relationship_map(account: Any, settings: Any) -> str | None:
    """A Mermaid flowchart of the customer's people (None: no decision makers): each with their
    attitude and our coverage, the reporting tree (boss --> report), influence as dotted lines, and
    beside each person our counterpart, linked with the strength and the relationship levels now and
    wanted. Attitudes colour the people (one class each).

    Node ids are generated (dm1, us1, ...), labels are quoted with Mermaid entity codes, so names
    with quotes, brackets, colons or non-ASCII letters cannot break the diagram. A reports_to or
    influences naming nobody (KAM409) is left out.
    """
    dms = account.decision_makers
    if not dms:
        return None
    ours: dict[str, str] = {}
    for dm in dms:
        if dm.counterpart and dm.counterpart.strip() and dm.counterpart.strip() not in ours:
            ours[dm.counterpart.strip()] = f"us{len(ours) + 1}"
    node = {}
    for i, dm in enumerate(dms, 1):
        node.setdefault(dm.key, f"dm{i}")
    lines = ["flowchart LR",
             f'  subgraph customer["{mermaid_label(account.name)}"]']
    for i, dm in enumerate(dms, 1):
        label = mermaid_label(dm.name)
        if dm.title:
            label += "<br>" + mermaid_label(dm.title)
        stands = [s for s in (dm.attitude, f"coverage {dm.coverage.label}" if dm.coverage else None) if s]
        if stands:
            label += "<br>" + mermaid_label(", ".join(stands))
        lines.append(f'    dm{i}["{label}"]')
    lines.append("  end")
    if ours:
        lines.append(f'  subgraph ours["{mermaid_label(settings.company.name)}"]')
        for name, us in ours.items():
            lines.append(f'    {us}["{mermaid_label(name)}"]')
        lines.append("  end")
    for i, dm in enumerate(dms, 1):
        if dm.counterpart and dm.counterpart.strip():
            said = [f"strength {dm.strength}/5" if dm.strength else None,
                    f"now {dm.level_now.label}" if dm.level_now else None,
                    f"want {dm.level_wanted.label}" if dm.level_wanted else None]
            text = ", ".join(s for s in said if s)
            link = f' -- "{mermaid_label(text)}" --- ' if text else " --- "
            lines.append(f"  {ours[dm.counterpart.strip()]}{link}dm{i}")
    for i, dm in enumerate(dms, 1):
        boss = node.get(dm.reports_to) if dm.reports_to else None
        if boss is not None and boss != f"dm{i}":
            lines.append(f"  {boss} --> dm{i}")
    for i, dm in enumerate(dms, 1):
        for other in dict.fromkeys(dm.influences):
            target = node.get(other)
            if target is not None and target != f"dm{i}":
                lines.append(f'  dm{i} -. "influences" .-> {target}')
    attitudes = {dm.attitude for dm in dms if dm.attitude}
    for attitude, style in ATTITUDE_STYLES.items():
        if attitude in attitudes:
            members = ",".join(f"dm{i}" for i, dm in enumerate(dms, 1) if dm.attitude == attitude)
            lines += [f"  classDef {attitude} {style}", f"  class {members} {attitude}"]
    return "\n".join(lines)


# the colour of each attitude in the relationship map: green for us, grey neutral, red against
ATTITUDE_STYLES = {
    "champion": "fill:#b7e4c7,stroke:#2d6a4f",
    "supporter": "fill:#d8f3dc,stroke:#40916c",
    "neutral": "fill:#e9ecef,stroke:#6c757d",
    "sceptic": "fill:#ffe5d9,stroke:#e76f51",
    "opponent": "fill:#ffccd5,stroke:#c9184a",
}
