"""The agenda as an iCalendar file (RFC 5545) a person subscribes to, written by the icalendar library.

Each item is an all-day event. Its UID is made of the item's kind, ref and account, never of its
date or wording, so a calendar that re-reads the file moves or rewords the event instead of adding
a second one. DTSTAMP is the agenda's --as-of day (midnight UTC): the same workspace and day give
the same bytes. icalendar escapes commas, semicolons, backslashes and line breaks in text; the
control characters RFC 5545 does not allow in text are shown as escapes first (present.visible).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from kamctl.present import visible

PRODID = "-//kamctl//agenda//EN"


def uid(item: Any) -> str:
    """The event's identity: kind, ref and account are slugs, so the UID needs no escaping."""
    return f"{item.kind}.{item.ref}.{item.account}@kamctl"


def _text(value: str) -> str:
    """Text for a property: line breaks as LF (icalendar writes them as \\n), other controls escaped."""
    return visible(value.replace("\r\n", "\n").replace("\r", "\n"))


def ics(items: Iterable[Any], as_of: dt.date, title: str) -> bytes:
    """The VCALENDAR of the items, CRLF line endings, lines folded at 75 octets (by icalendar)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _text(title))
    stamp = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.timezone.utc)
    for item in items:
        event = Event()
        event.add("uid", uid(item))
        event.add("dtstamp", stamp)
        event.add("dtstart", item.date)
        event.add("dtend", item.date + dt.timedelta(days=1))
        event.add("summary", _text(f"{item.name}: {item.what}"))
        owner = f"\nOwner: {item.owner}" if item.owner else ""
        event.add("description", _text(f"{item.what}\nAccount: {item.name} ({item.account}){owner}"))
        event.add("categories", [item.kind])
        event.add("transp", "TRANSPARENT")  # a reminder, not a meeting: it does not block the day
        cal.add_component(event)
    return cal.to_ical()
