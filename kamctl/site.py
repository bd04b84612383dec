"""The portfolio as a static site: pages as data (path -> HTML), charts as SVG drawn at build time.

For people who never open a terminal: an index (the Key Account Model chart, headline figures, a
table of accounts), one page per account (the plan, its findings, its history from git) and a
pipeline page. Every page is self-contained but for site.css beside it: no request leaves the
folder, so it opens from the file system and from any static host.

Charts: the geometry (positions, sizes, paths) is computed here as plain numbers and the templates
draw it as SVG elements. Five small charts (scatter, two bar charts, a line chart, a two-column link
diagram) are a few dozen lines of template each; a chart library would add a dependency and its
start-up time to every build for no better output.

Templates are HTML Jinja templates (templates/site/), autoescaped, in kamctl.sandbox's sandbox and
given plain data only (render.plain), as the Markdown documents; a workspace's templates/site/
overrides them. Nothing here prints, exits or writes files: build() returns the pages.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from kamctl import pool, portfolio, render
from kamctl.assessment import Assessment, Assessments
from kamctl.errors import WorkspaceError
from kamctl.findings import Severity
from kamctl.history import portfolio_history
from kamctl.ids import id_problem
from kamctl.model.account import Quadrant, Stage
from kamctl.pipeline import FUNNEL, portfolio_pipeline
from kamctl.present import label, money, rounded, totals, words
from kamctl.report import portfolio as roll_up

TEMPLATES = {"index": "site/index.html.j2", "account": "site/account.html.j2", "pipeline": "site/pipeline.html.j2"}
STYLESHEET = "site.css"  # copied from the built-in templates/site/ (or the workspace's): the one asset
ACCOUNTS = "accounts"  # folder of the account pages


def account_page(account_id: str) -> str:
    """The path of an account's page inside the site."""
    return f"{ACCOUNTS}/{account_id}.html"


# --- chart geometry ------------------------------------------------------------------------------

KAM = {"width": 640, "height": 480, "left": 56, "top": 24, "right": 16, "bottom": 48}


def _box(spec: dict[str, int]) -> dict[str, float]:
    return {**spec, "plot_w": spec["width"] - spec["left"] - spec["right"],
            "plot_h": spec["height"] - spec["top"] - spec["bottom"]}


def _r(value: float) -> float:
    return round(value, 1)


def kam_chart(summaries: list[Any], settings: Any) -> dict[str, Any]:
    """The Key Account Model: x relative strength, y attractiveness (0-10), a point per scored account
    with its area in proportion to revenue (current, else potential) and its relationship level."""
    box = _box(KAM)
    cut = settings.scoring.cut_points
    cx = box["left"] + box["plot_w"] * cut.relative_strength / 10
    cy = box["top"] + box["plot_h"] * (1 - cut.attractiveness / 10)
    right, bottom = box["left"] + box["plot_w"], box["top"] + box["plot_h"]
    spans = {True: (box["top"], cy), False: (cy, bottom)}
    columns = {False: (box["left"], cx), True: (cx, right)}
    quadrants = []
    for high_a, high_s in ((True, True), (True, False), (False, True), (False, False)):
        key = Quadrant.of(high_a, high_s).value
        q = getattr(settings.quadrants, key)
        (y0, y1), (x0, x1) = spans[high_a], columns[high_s]
        quadrants.append({"key": key, "name": q.name, "strategy": q.strategy, "x": _r(x0), "y": _r(y0),
                          "width": _r(x1 - x0), "height": _r(y1 - y0)})

    def revenue(s: Any) -> float | None:
        rev = s.revenue
        value = rev and (rev.current if rev.current is not None else rev.potential)
        return float(value) if value else None

    scored = [s for s in summaries if s.score.quadrant is not None]
    largest = max((revenue(s) or 0.0 for s in scored), default=0.0)
    points = []
    for s in sorted(scored, key=lambda s: -(revenue(s) or 0.0)):  # the big ones first, small ones drawn on top
        a, st = rounded(s.score.attractiveness.score), rounded(s.score.relative_strength.score)
        value = revenue(s)
        radius = 4 + 14 * math.sqrt(value / largest) if value and largest else 4
        level = s.level.level or s.level.declared
        rev = s.revenue
        currency = (rev.currency if rev and rev.currency else None) or settings.company.currency
        points.append({"id": s.id, "name": s.name, "href": account_page(s.id), "x": _r(box["left"] + box["plot_w"] * st / 10),
                       "y": _r(box["top"] + box["plot_h"] * (1 - a / 10)), "r": _r(radius),
                       "attractiveness": a, "relative_strength": st, "quadrant": s.score.quadrant.name,
                       "level": level.number if level else None, "level_label": level.label if level else None,
                       "revenue": money(value, currency) if value else None})
    ticks = [{"value": v, "x": _r(box["left"] + box["plot_w"] * v / 10),
              "y": _r(box["top"] + box["plot_h"] * (1 - v / 10))} for v in range(0, 11, 2)]
    return {**box, "right_x": _r(right), "bottom_y": _r(bottom), "cut_x": _r(cx), "cut_y": _r(cy),
            "quadrants": quadrants, "points": points, "ticks": ticks,
            "unscored": len(summaries) - len(scored)}


def bars(items: list[tuple[str, float, str]], width: int = 600, row: int = 28, left: int = 150) -> dict[str, Any]:
    """A horizontal bar chart: (label, value, shown value) per bar, the longest bar the full width
    less room for its value's label."""
    top = max((v for _, v, _ in items), default=0.0)
    plot = width - left - 160
    return {"width": width, "height": row * len(items) + 8, "left": left, "row": row,
            "bars": [{"label": name, "value": value, "shown": shown, "y": 4 + i * row,
                      "length": _r(plot * value / top) if top else 0.0} for i, (name, value, shown) in enumerate(items)]}


def relationship_chart(account: Any, settings: Any) -> dict[str, Any] | None:
    """Decision makers (left) linked to our counterparts (right), the line as thick as the strength."""
    dms = account.decision_makers
    if not dms:
        return None
    ours: list[str] = []
    for dm in dms:
        name = (dm.counterpart or "").strip()
        if name and name not in ours:
            ours.append(name)
    row, top = 44, 40
    height = top + row * max(len(dms), len(ours), 1)
    people = [{"name": dm.name, "title": dm.title, "role": words(dm.buying_role) if dm.buying_role else None,
               "y": top + i * row} for i, dm in enumerate(dms)]
    counterparts = [{"name": name, "y": top + i * row} for i, name in enumerate(ours)]
    links = []
    for i, dm in enumerate(dms):
        name = (dm.counterpart or "").strip()
        if name:
            links.append({"from_y": top + i * row + 14, "to_y": top + ours.index(name) * row + 14,
                          "strength": dm.strength, "width": dm.strength or 1, "dm": dm.name, "us": name})
    return {"width": 640, "height": height, "box_w": 220, "right_x": 400, "people": people,
            "counterparts": counterparts, "links": links, "customer": account.name, "us": settings.company.name}


def history_chart(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Scores over the account's commits: one polyline per axis on 0-10, a dot per commit."""
    points = [r for r in rows if r["attractiveness"] is not None and r["relative_strength"] is not None]
    if not points:
        return None
    width, height, left, top, bottom = 560, 200, 40, 12, 36
    plot_w, plot_h = width - left - 16, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def y(v: float) -> float:
        return _r(top + plot_h * (1 - v / 10))

    series = []
    for axis, name in (("attractiveness", "Attractiveness"), ("relative_strength", "Relative strength")):
        dots = [{"x": _r(left + i * step), "y": y(r[axis]), "value": r[axis], "date": r["date"],
                 "quadrant": r["quadrant"]} for i, r in enumerate(points)]
        series.append({"axis": axis, "name": name, "dots": dots,
                       "path": " ".join(f"{d['x']},{d['y']}" for d in dots)})
    return {"width": width, "height": height, "left": left, "top": top, "bottom_y": top + plot_h,
            "right_x": left + plot_w, "series": series, "first": points[0]["date"], "last": points[-1]["date"],
            "ticks": [{"value": v, "y": y(v)} for v in (0, 5, 10)]}


# --- the pages' data -----------------------------------------------------------------------------


def _alert_counts(alerts: list[Any]) -> dict[str, int]:
    return {sev.value: sum(a.severity is sev for a in alerts) for sev in Severity}


def index_context(loaded: list[Any], settings: Any, assessed: list[Assessment],
                  pipeline: dict[str, Any]) -> dict[str, Any]:
    """The index's data: loaded accounts and their assessments, the portfolio pipeline."""
    summaries = sorted((a.summary for a in assessed), key=portfolio.sort_key)
    by_id = {a.id: a for a in assessed}
    accounts = {la.id: la.account for la in loaded}
    grid = portfolio.grid(summaries, settings)
    alerts = [f for a in assessed for f in a.alerts]
    rows = []
    for s in summaries:
        a, account = by_id[s.id], accounts[s.id]
        level = s.level.level or s.level.declared
        owner = account.owner
        rows.append({"id": s.id, "name": s.name, "href": account_page(s.id),
                     "quadrant": s.score.quadrant.name if s.score.quadrant else None,
                     "attractiveness": rounded(s.score.attractiveness.score),
                     "relative_strength": rounded(s.score.relative_strength.score),
                     "level": level.number if level else None, "level_label": level.label if level else None,
                     "owner": owner.name if owner else None,
                     "completeness": round(a.completeness.get("overall", 0.0)),
                     "alerts": len(a.alerts), "open": totals(a.pipeline["open_value"])})
    return {
        "grid": [{"key": k, "name": q["name"], "strategy": q["strategy"], "count": len(q["accounts"])}
                 for k, q in grid.items()],
        "chart": kam_chart(summaries, settings),
        "open": pipeline["open"],
        "performance": roll_up([a.performance for a in assessed], settings),
        "alerts": _alert_counts(alerts),
        "accounts": rows,
    }


def pipeline_context(pipeline: dict[str, Any], settings: Any) -> dict[str, Any]:
    counts = pipeline["funnel"]["counts"]
    funnel = bars([(label(name), counts[name], str(counts[name])) for name, _ in FUNNEL])
    rows = pipeline["forecast"]
    in_company = all(r["weighted_company"] is not None for r in rows)
    company = settings.company.currency
    forecast = bars([(label(r["quarter"]) if r["quarter"] in ("overdue", "no close date") else r["quarter"],
                      r["weighted_company"] if in_company else r["count"],
                      money(r["weighted_company"], company) if in_company else str(r["count"])) for r in rows])
    overdue = [r for r in pipeline["opportunities"]
               if r["close"] and r["close"] < pipeline["as_of"] and Stage(r["stage"]).is_open]
    return {"funnel_chart": funnel, "forecast_chart": forecast, "forecast_in": company if in_company else None,
            "overdue": overdue}


def account_context(la: Any, settings: Any, as_of: dt.date, memo: Assessments,
                    history: dict[str, Any] | None) -> dict[str, Any]:
    context = render.account_context(la.id, la, settings, as_of, memo)
    assessed = memo.of(la)
    rows = history["rows"] if history else None
    context.update(render.plain({
        "relationship_chart": relationship_chart(la.account, settings),
        "completeness": assessed.completeness,
        "history": rows,
        "history_chart": history_chart(rows) if rows else None,
    }))
    return context


def git_history(root: Path, until: dt.date | None = None, use_cache: bool = True) -> dict[str, Any] | None:
    """Each account's history from git (kamctl.history), up to the day until; None when the
    workspace is not in git (or its repository has no commit yet)."""
    try:
        histories = portfolio_history(root, use_cache=use_cache)
    except WorkspaceError:
        return None
    if until is not None:
        for result in histories.values():
            result["rows"] = [r for r in result["rows"] if r["date"] <= until.isoformat()]
    return histories


def build(loaded: list[Any], settings: Any, root: Path | None, as_of: dt.date,
          history: dict[str, Any] | None = None, env: Any = None) -> dict[str, str]:
    """Every page of the site: path inside the site -> text. loaded: the valid accounts (a
    LoadedAccount each); history: account id -> its history (git_history), None: not in git.

    The account pages (each assessed, made plain and rendered: most of the work) are shared out
    to kamctl.pool's forked workers, which also send back the assessments the index shows."""
    env = env or environment(root)
    accounts = [la for la in loaded if la.account is not None and id_problem(la.id, "account id") is None]
    base = render.plain({"company": settings.company, "as_of": as_of,
                         "pages": {"index": "index.html", "pipeline": "pipeline.html"}})
    _JOB.update(accounts=accounts, settings=settings, as_of=as_of, history=history, env=env, base=base)
    try:
        n = pool.workers(len(accounts))
        chunks = [list(range(i, len(accounts), n * 4)) for i in range(n * 4)] if n > 1 else [list(range(len(accounts)))]
        done = (pool.run(_account_pages, chunks, n) if n > 1 else None) or [_account_pages(c) for c in chunks]
    finally:
        _JOB.clear()
    made = sorted((item for chunk in done for item in chunk), key=lambda item: item[0])
    assessed = {a.id: a for _, _, a in made}
    pipeline = portfolio_pipeline([(la.id, la.account) for la in accounts], settings, as_of)
    pages = {"index.html": _page(env, base, "index.html", TEMPLATES["index"], render.plain(
        index_context(accounts, settings, [assessed[la.id] for la in accounts], pipeline)))}
    pages["pipeline.html"] = _page(env, base, "pipeline.html", TEMPLATES["pipeline"], render.plain(
        {"pipeline": pipeline, **pipeline_context(pipeline, settings), "accounts": {la.id: {"name": la.account.name, "href": account_page(la.id)} for la in accounts}}))
    pages.update((path, text) for path, text, _ in made)
    pages[STYLESHEET] = asset(env, f"site/{STYLESHEET}")
    return pages


_JOB: dict[str, Any] = {}  # build()'s inputs, read by _account_pages in this process or in forked workers


def _account_pages(chunk: list[int]) -> list[tuple[str, str, Assessment]]:
    """(path, page, assessment) of the accounts at the chunk's positions in _JOB's accounts."""
    job = _JOB
    memo = Assessments(job["settings"], job["as_of"])
    history = job["history"]
    out = []
    for i in chunk:
        la = job["accounts"][i]
        path = account_page(la.id)
        context = account_context(la, job["settings"], job["as_of"], memo,
                                  history.get(la.id, {"rows": []}) if history is not None else None)
        out.append((path, _page(job["env"], job["base"], path, TEMPLATES["account"], context), memo.of(la)))
    return out


def _page(env: Any, base: dict[str, Any], path: str, template: str, data: dict[str, Any]) -> str:
    """One page; links and the stylesheet relative to its folder, so the site opens from anywhere."""
    up = "../" * path.count("/")
    return render.render_data(env, template, {**base, **data, "root": up, "stylesheet": up + STYLESHEET})


def asset(env: Any, name: str) -> str:
    """A file of the site copied as it is (the stylesheet), found as templates are: the workspace's first."""
    from jinja2 import TemplateError

    try:
        return env.loader.get_source(env, name)[0]
    except TemplateError as exc:
        raise render.RenderError(f"{name}: {exc.message or exc}") from None


def environment(root: Path | None) -> Any:
    """The Markdown documents' sandboxed environment, autoescaping HTML."""
    return render.environment(root, autoescape=True)
