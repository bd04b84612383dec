"""Markdown and Mermaid text from user data: escaping and number formats, in one place.

Every Markdown kamctl writes (rendered documents, `--format markdown` of any command) escapes user
text here, so a `|`, a newline or a leading `#` in an account never breaks a table or a heading.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Any


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
    return str(value)


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


def percent(value: Any) -> str:
    return "" if value is None else f"{round(value * 100):d}%"


def score(value: Any) -> str:
    from kamctl.scoring import rounded

    shown = rounded(value)
    return "" if shown is None else f"{shown:.1f}"


def totals(by_currency: dict[str, float] | None) -> str:
    """{'EUR': 1.0, 'USD': 2.0} -> '1 EUR, 2 USD' (sorted by currency)."""
    if not by_currency:
        return ""
    return ", ".join(money(v, c) for c, v in sorted(by_currency.items()))


def md_table(headers: list[str], body: list[list[Any]]) -> str:
    """A GFM table; every cell escaped with md_cell, so each row has as many cells as the header."""
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in body]
    return "\n".join(lines) + "\n"
