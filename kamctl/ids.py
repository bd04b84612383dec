"""The one slug rule for ids (accounts, opportunities, contacts), and "did you mean" for unknown ones.

An id becomes a file name (accounts/ID.yaml, ID-plan.md) and a git path, so it is checked against
this rule before it is used for either: no slashes, dots, globs or git pathspec magic, and short
enough for any file system.
"""

from __future__ import annotations

import difflib
import re
from typing import Iterable

MAX_ID_LENGTH = 64
SLUG = rf"^[a-z0-9][a-z0-9-]{{0,{MAX_ID_LENGTH - 1}}}$"
ID_RE = re.compile(SLUG)


def slugify(text: str) -> str:
    """Lowercase letters and digits, every other run of characters one dash ('' when none is left)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def shown(value: str, limit: int = 40) -> str:
    """A user's value quoted for a one-line message, cut short when long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def id_problem(value: str, kind: str = "account id") -> str | None:
    """Why value is not a valid id, to follow the value in a message (None when it is valid)."""
    if ID_RE.match(value):
        return None
    if len(value) > MAX_ID_LENGTH:
        return f"is too long: {kind}s have at most {MAX_ID_LENGTH} characters"
    return f"is not a valid {kind}: use lowercase letters, digits and dashes, e.g. acme-corp"


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest known id, or '' when none is close."""
    close = difflib.get_close_matches(value, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
