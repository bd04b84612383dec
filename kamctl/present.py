"""How kamctl presents values, in one place: money per currency, totals (per currency and in the
company currency with kam.yaml's rates), percentages, scores, labels, and Markdown / Mermaid / CSV
escaping.

Every output (rendered documents, tables, `--format markdown` or csv of any command) shows an amount
as `400,000 EUR` and escapes user text here, so a `|`, a newline or a leading `#` in an account never
breaks a table or a heading, and a `=` never starts a spreadsheet formula. Only the model is
imported: this sits directly above kamctl.model.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

from kamctl.model.vocabulary import label


# --- control characters ----------------------------------------------------------------------

# C0 controls but tab/LF/CR, DEL, C1, the Unicode line/paragraph separators, lone surrogates and the
# non-characters XML 1.0 refuses: a terminal runs them, XML cannot hold them, splitlines() breaks on them.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_BREAK = re.compile("[\r\n]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return {10: "\\n", 13: "\\r"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str, breaks: bool = True) -> str:
    """text with unsafe characters shown as Python-style escapes (ESC -> `\\x1b`); breaks=False also
    escapes LF and CR (a file name or id must stay on its line; a message's breaks are handled per format).
    Every character either pattern matches is one isprintable() refuses: most text returns at once."""
    if text.isprintable():
        return text
    text = _UNSAFE.sub(_escape, text)
    return text if breaks else _BREAK.sub(_escape, text)



# --- escaping ------------------------------------------------------------------------------------

_BLOCK_START = re.compile(r"^([#>+*=_~`|-]|\d{1,9}[.)])")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return visible(str(value))  # no ESC or other control character reaches an editor or a pager


def _escape_inline(text: str) -> str:
    """Backslashes and HTML-ish `<` that Markdown would take as markup."""
    return text.replace("\\", "\\\\").replace("<", "&lt;")


def _escape_line_start(line: str) -> str:
    """A line that would start a heading, quote, list, fence or setext underline is escaped."""
    line = line.lstrip()  # four leading spaces would make a code block
    match = _BLOCK_START.match(line)
    if match:
        end = match.end()
        marker = match.group(1)
        if marker[0].isdigit():
            return marker[:-1] + "\\" + marker[-1] + line[end:]
        return "\\" + line
    return line


def md_text(value: Any) -> str:
    """Running text (a paragraph of its own): block markers at line starts escaped, lines kept."""
    text = _escape_inline(_plain(value)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_escape_line_start(line) for line in text.split("\n")]
    # a blank line would end the paragraph (and any list it sits in): keep one paragraph
    return "\n".join(line for line in lines if line.strip()) if any(l.strip() for l in lines) else ""


def md_inline(value: Any) -> str:
    """Text inside a list item or heading: one line, newlines become <br>."""
    text = _escape_inline(_plain(value)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return "<br>".join(_escape_line_start(line) if i == 0 else line for i, line in enumerate(lines))


def md_cell(value: Any) -> str:
    """A table cell: `|` escaped, newlines as <br>, nothing that ends the row."""
    text = _escape_inline(_plain(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("|", "\\|")
    return "<br>".join(line.strip() for line in text.split("\n") if line.strip())


_MERMAID_ENTITIES = {
    "#": "#35;", '"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;", ";": "#59;",
    "`": "#96;", "%": "#37;",
}


def mermaid_label(value: Any) -> str:
    """Mermaid text (a quoted label, a quadrantChart title): every character Mermaid parses is an
    entity, so no quote ends the string and no `%%` is left to start a directive or a comment.

    The one Mermaid escaper: templates use it as the `mermaid` filter, portfolio and render call it."""
    text = " ".join(_plain(value).split())  # newlines and runs of spaces become one space
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)


def words(value: Any) -> str:
    """economic_buyer -> economic buyer (for enum values shown to people)."""
    return _plain(value).replace("_", " ")


def plural(count: int, word: str, many: str | None = None) -> str:
    """1 decision maker, 2 decision makers: every count kamctl prints in words."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return ""
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def money(value: Any, currency: str | None = None) -> str:
    if value is None:
        return ""
    shown = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"
    return f"{shown} {currency}" if currency else shown


def compact_money(value: Any, currency: str) -> str:
    """Money where columns are narrow (the terminal portfolio): 12,500,000 -> 12.5M EUR."""
    if value is None:
        return ""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.3g}{unit} {currency}"
    return f"{value:g} {currency}"


def percent(value: Any) -> str:
    return "" if value is None else f"{round(value * 100):d}%"


def rounded(score: float | None, places: int = 1) -> float | None:
    """Scores are shown to one decimal, rounded half up as by hand (0.15 -> 0.2, not binary 0.1).

    Float noise is dropped first (6.000000000000001 and 5.999999999999999 are 6.0).
    """
    if score is None:
        return None
    exact = Decimal(repr(round(score, 9)))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)) + 0.0


def score(value: Any) -> str:
    shown = rounded(value)
    return "" if shown is None else f"{shown:.1f}"


def totals(by_currency: dict[str, float] | None) -> str:
    """{'EUR': 1.0, 'USD': 2.0} -> '1 EUR, 2 USD' (sorted by currency)."""
    if not by_currency:
        return ""
    return ", ".join(money(v, c) for c, v in sorted(by_currency.items()))


def missing_rates(by_currency: dict[str, Any], settings: Any) -> list[str]:
    """The currencies of by_currency that are not the company's and have no kam.yaml rate (sorted)."""
    company, rates = settings.company.currency, settings.pipeline.rates
    return sorted(c for c in by_currency if c != company and c not in rates)


def to_company(by_currency: dict[str, float], settings: Any) -> float | None:
    """Per-currency totals added up in the company currency with kam.yaml's pipeline.rates; None
    when a currency has no rate (then only the per-currency totals can be shown)."""
    if missing_rates(by_currency, settings):
        return None
    company, rates = settings.company.currency, settings.pipeline.rates
    return sum((amount if c == company else amount * rates[c] for c, amount in by_currency.items()), 0.0)


def md_table(headers: list[str], body: list[list[Any]]) -> str:
    """A GFM table; every cell escaped with md_cell, so each row has as many cells as the header."""
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


# --- CSV ------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+1`, `@SUM(1)`) gets a
    leading `'` (OWASP CSV injection); numbers stay numbers (a negative number is a value, not text).
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    # the writer quotes a cell holding LF (its line end) but not one holding a lone CR, which
    # readers would take as the end of the row: line breaks inside a cell are written as LF
    return value.replace("\r\n", "\n").replace("\r", "\n")


# --- whitespace ------------------------------------------------------------------------------------


def whitespace_cell(cell: Any, currency: str) -> str:
    """A whitespace cell in words (kamctl.whitespace.Cell): its status, the amount that counts for
    it (our current sales when sold, else the potential), who holds it, the open opportunities."""
    if cell is None:
        return ""
    status = getattr(cell.status, "value", cell.status)
    parts = [label(cell.status) if status else "status not known"]
    if status == "competitor" and cell.competitor:
        parts[0] += f" ({cell.competitor})"
    if cell.opportunities:
        parts[0] += " " + ", ".join(cell.opportunities)
    amount = cell.current if status == "sold" else cell.potential
    if amount is not None:
        parts.append(money(amount, currency))
    return ", ".join(parts)


def wallet_share(share: Any, currency: str) -> str:
    """Share of wallet in words (kamctl.whitespace.Share): '25% (400,000 of 1,600,000 EUR)'."""
    if share.share is not None:
        shown = f"{percent(share.share)} ({money(share.ours)} of {money(share.spend, currency)})"
        if share.of and share.known < share.of:
            shown += f"; {share.known} of {share.of} buying centres known"
        return shown
    if share.spend is None:
        return "not known (no category spend)"
    return f"not known (spend {money(share.spend, currency)}, our sales not recorded)"
