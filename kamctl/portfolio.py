"""The Key Account Model portfolio as plain data: rows, the 2x2 grid, a Mermaid quadrantChart, Markdown.

The terminal grid, `kamctl portfolio --format markdown` and the rendered portfolio document all
come from here, so every view places an account in the same box at the same point.
"""

from __future__ import annotations

from typing import Any

from kamctl.present import md_table, mermaid_label, money
from kamctl.present import score as one_decimal
from kamctl.model.account import UNSCORED, Quadrant
from kamctl.scoring import QUADRANTS, Summary
from kamctl.present import rounded

# the 2x2 grid as drawn: rows high then low attractiveness, columns low then high relative strength
GRID = ((Quadrant.of(True, False), Quadrant.of(True, True)), (Quadrant.of(False, False), Quadrant.of(False, True)))
# Mermaid's quadrant numbers: 1 top right, 2 top left, 3 bottom left, 4 bottom right.
MERMAID_QUADRANTS = {1: Quadrant.of(True, True), 2: Quadrant.of(True, False),
                     3: Quadrant.of(False, False), 4: Quadrant.of(False, True)}


def sort_key(s: Summary) -> tuple:
    """Quadrant in the model's order (unscored last), then attractiveness high to low, then name."""
    order = list(QUADRANTS) + [UNSCORED]
    a = s.score.attractiveness.score
    return (order.index(s.score.quadrant_key), -(rounded(a) if a is not None else -1.0), s.name.casefold(), s.id)


def has_revenue(summaries: list[Summary]) -> bool:
    return any(s.revenue is not None and (s.revenue.current is not None or s.revenue.potential is not None)
               for s in summaries)


def rows(summaries: list[Summary], settings: Any) -> list[dict]:
    """One plain row per account, sorted for the portfolio table (and its JSON)."""
    out = []
    for s in sorted(summaries, key=sort_key):
        q = s.score.quadrant
        rev = s.revenue
        out.append({
            "id": s.id,
            "name": s.name,
            "quadrant": q.key if q else None,
            "quadrant_name": q.name if q else None,
            "strategy": q.strategy if q else None,
            "attractiveness": rounded(s.score.attractiveness.score),
            "relative_strength": rounded(s.score.relative_strength.score),
            "partial": s.score.partial,
            "revenue_current": rev.current if rev else None,
            "revenue_potential": rev.potential if rev else None,
            "currency": (rev.currency if rev and rev.currency else settings.company.currency),
        })
    return out


def grid(summaries: list[Summary], settings: Any) -> dict[str, dict]:
    """Each quadrant (and 'unscored') with its name, strategy and accounts, in portfolio order."""
    out: dict[str, dict] = {}
    for key in QUADRANTS:
        q = getattr(settings.quadrants, key)
        out[key] = {"name": q.name, "strategy": q.strategy, "accounts": []}
    out[UNSCORED] = {"name": "Unscored", "strategy": "Score both axes to place the account.", "accounts": []}
    for s in sorted(summaries, key=sort_key):
        out[s.score.quadrant_key]["accounts"].append(s)
    return out


# --- Mermaid ------------------------------------------------------------------------------------------


def coordinate(score: float) -> str:
    """A score 0-10 as a Mermaid point coordinate: its lexer takes exactly `1` or `0` / `0.dd`."""
    value = rounded(score) / 10
    if value >= 1:
        return "1"
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def quadrant_chart(summaries: list[Summary], settings: Any) -> str:
    """The full ```mermaid block: one point per scored account at (strength / 10, attractiveness / 10)."""
    lines = [
        "```mermaid",
        "quadrantChart",
        f"    title {mermaid_label(settings.company.name)} key account portfolio",
        "    x-axis Low relative strength --> High relative strength",
        "    y-axis Low attractiveness --> High attractiveness",
    ]
    for number, quadrant in MERMAID_QUADRANTS.items():
        name = mermaid_label(getattr(settings.quadrants, quadrant.value).name) or quadrant.label
        lines.append(f'    quadrant-{number} "{name}"')
    for s in sorted(summaries, key=sort_key):
        if s.score.quadrant is None:
            continue
        label = mermaid_label(s.name) or mermaid_label(s.id)
        x = coordinate(s.score.relative_strength.score)
        y = coordinate(s.score.attractiveness.score)
        lines.append(f'    "{label}": [{x}, {y}]')
    lines.append("```")
    return "\n".join(lines) + "\n"


# --- Markdown -------------------------------------------------------------------------------------------


def portfolio_table(summaries: list[Summary], settings: Any) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the portfolio table (revenue columns only when some account has revenue)."""
    revenue = has_revenue(summaries)
    headers = ["Quadrant", "Account", "Attractiveness", "Relative strength", "Partial"]
    if revenue:
        headers += ["Current sales", "Potential sales"]
    body = []
    for r in rows(summaries, settings):
        row = [r["quadrant_name"] or "Unscored", f"{r['name']} ({r['id']})", one_decimal(r["attractiveness"]),
               one_decimal(r["relative_strength"]), "partial" if r["partial"] else ""]
        if revenue:
            row += [money(r["revenue_current"], r["currency"]), money(r["revenue_potential"], r["currency"])]
        body.append(row)
    return headers, body


def markdown(summaries: list[Summary], settings: Any) -> str:
    """The portfolio as Markdown: the quadrantChart, then the table sorted by quadrant."""
    headers, body = portfolio_table(summaries, settings)
    return quadrant_chart(summaries, settings) + "\n" + md_table(headers, body)
