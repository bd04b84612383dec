"""CRM export files read into plain records: untrusted CSV, so sizes are capped and bad rows reported.

A file is read through fsafe (a regular file, never a FIFO or device, at most MAX_FILE bytes), with
or without a UTF-8 BOM, CRLF or LF, quoted fields holding commas and line breaks. Each record keeps
`where` ("Opportunity.csv:12", the line it starts on) so every problem is `file:row: message`; a
row that cannot be read is an Issue and is skipped, never half used.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamctl import fsafe

MAX_FILE = 256 * 1024 * 1024  # bytes in one export file (a 10,000-deal export is a few MB)
MAX_FIELD = 1024 * 1024  # characters in one cell
DATE_FORMATS = ("yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy")


class SourceError(Exception):
    """A file that cannot be used at all (missing, not UTF-8, not CSV, no header): nothing is imported."""


@dataclass
class Issue:
    where: str  # file:row
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Table:
    """One CSV file: its header and its rows as {header: text or None}, with the line each starts on."""

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str | None]]]

    def column(self, *names: str) -> str | None:
        """The first of names the header has (CRMs and their versions spell columns differently)."""
        lowered = {h.lower(): h for h in self.header}
        return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def read_table(folder: str | os.PathLike, name: str, shown: str | None = None) -> Table:
    """Read folder/name as CSV (the folder is the user's choice; nothing in it is trusted)."""
    shown = shown or name
    try:
        raw = fsafe.read_bytes(folder, name, MAX_FILE)
    except FileNotFoundError:
        raise SourceError(f"{shown}: no such file") from None
    except fsafe.UnsafePath as exc:
        raise SourceError(f"{shown}: refused: {exc}") from None
    except OSError as exc:
        raise SourceError(f"{shown}: cannot read it: {exc.strerror or exc}") from None
    return parse_table(raw, shown)


def parse_table(raw: bytes, shown: str) -> Table:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{shown}: byte {exc.start} is not UTF-8; export the file as UTF-8 CSV") from None
    if "\x00" in text:
        raise SourceError(f"{shown}: holds NUL bytes; it is not a CSV text file")
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise SourceError(f"{shown}:1: the header cannot be read: {exc}") from None
    header = [h.strip() for h in header or []]
    if not any(header):
        raise SourceError(f"{shown}: no header row; the first line must name the columns")
    seen: set[str] = set()
    for h in header:
        if h and h.lower() in seen:
            raise SourceError(f"{shown}:1: column {h!r} appears twice in the header")
        seen.add(h.lower())
    rows: list[tuple[int, dict[str, str | None]]] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SourceError(f"{shown}:{start}: {exc}") from None
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) != len(header):
            rows.append((start, {"\0bad": f"has {len(cells)} fields, the header has {len(header)}"}))
            continue
        rows.append((start, {h: _cell(c) for h, c in zip(header, cells) if h}))
    return Table(shown, header, rows)


def _cell(text: str) -> str | None:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def bad_row(row: dict[str, Any]) -> str | None:
    """Why a row could not be split into the header's columns (None: it could)."""
    return row.get("\0bad")


# --- values ----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_GROUPED = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


def number(text: str) -> int | float:
    """123, 123.0 (-> 123), 1,234.50, 1.5e6; anything else is a ValueError."""
    value = text.strip().replace("\u00a0", "")
    if _GROUPED.match(value):
        value = value.replace(",", "")
    if not _NUMBER.match(value):
        raise ValueError(f"{text!r} is not a number")
    parsed = float(value)
    if parsed != parsed or parsed in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return int(parsed) if parsed.is_integer() and abs(parsed) < 2 ** 53 else parsed


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_SLASH = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?$")


def date(text: str, fmt: str) -> dt.date:
    """2026-07-27, 2022-07-27T17:40:52.000+0000 (the date as the CRM wrote it), or 27/07/2026 in
    the given dd/mm/yyyy or mm/dd/yyyy order; anything else is a ValueError."""
    value = text.strip()
    iso = _ISO.match(value)
    if iso:
        return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
    slash = _SLASH.match(value)
    if slash and fmt in ("dd/mm/yyyy", "mm/dd/yyyy"):
        a, b, year = int(slash[1]), int(slash[2]), int(slash[3])
        day, month = (a, b) if fmt == "dd/mm/yyyy" else (b, a)
        return dt.date(year, month, day)
    if slash:
        raise ValueError(f"{text!r}: day and month order unknown; set crm.date_format or --date-format")
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD, or dd/mm/yyyy or mm/dd/yyyy)")


def detect_date_format(values: list[str]) -> str | None:
    """dd/mm/yyyy or mm/dd/yyyy when the slash dates show it (a part over 12), None when there are
    none; ValueError when they contradict each other or none of them tells (all parts <= 12)."""
    day_first = month_first = False
    seen = 0
    for value in values:
        slash = _SLASH.match(value.strip())
        if not slash:
            continue
        seen += 1
        a, b = int(slash[1]), int(slash[2])
        day_first |= a > 12
        month_first |= b > 12
    if not seen:
        return None
    if day_first and month_first:
        raise ValueError("the dates mix dd/mm/yyyy and mm/dd/yyyy")
    if not (day_first or month_first):
        raise ValueError(f"{seen} date(s) such as 03/04/2026 could be dd/mm or mm/dd")
    return "dd/mm/yyyy" if day_first else "mm/dd/yyyy"


# --- the records an export holds ---------------------------------------------------------------------


@dataclass
class CrmAccount:
    crm_id: str
    name: str
    where: str
    industry: str | None = None
    owner: str | None = None  # a name (HubSpot) or an owner id resolved through User.csv (Salesforce)
    owner_email: str | None = None
    row: dict[str, str | None] = field(default_factory=dict)  # every column, for --where


@dataclass
class CrmContact:
    crm_id: str
    account: str
    name: str
    where: str
    title: str | None = None
    last_contact: dt.date | None = None
    role: str | None = None  # the CRM's contact role (OpportunityContactRole.Role), mapped later


@dataclass
class CrmOpportunity:
    crm_id: str
    account: str
    title: str
    where: str
    stage: str | None = None  # the CRM's stage, label or internal id
    value: int | float | None = None
    currency: str | None = None
    close: dt.date | None = None
    created: dt.date | None = None
    stage_date: dt.date | None = None  # when it entered its stage (LastStageChangeDate)


@dataclass
class Extract:
    """What one import read: the records of every file, and the rows it skipped."""

    source: str  # salesforce, hubspot, csv
    accounts: list[CrmAccount] = field(default_factory=list)
    contacts: list[CrmContact] = field(default_factory=list)
    opportunities: list[CrmOpportunity] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def exists(folder: str | os.PathLike, name: str) -> bool:
    return (Path(folder) / name).exists() or (Path(folder) / name).is_symlink()
