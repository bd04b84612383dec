"""Read YAML into plain data plus the line/column of every key and item.

One builder turns a YAML event stream into plain Python (dict, list, str, int, float, bool, None,
date, datetime) and a position table. Two parsers can feed it: libyaml through PyYAML's C parser
(fast) and ruamel.yaml's pure parser (fallback). Both give the same events, so both give the
same data, positions and findings. Scalars are resolved by the YAML 1.2 core schema exactly as
ruamel.yaml's round-trip loader resolves them (``no``/``on`` stay text, ``0o17`` is 15, ``1:30``
is text, ``2026-01-01`` is a date); tests/test_read_differential.py holds both to that.

Nothing here raises for bad input: every problem becomes a Finding.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, NamedTuple

from kamctl import fsafe
from kamctl.findings import Finding, Severity

Path_ = tuple  # a location: keys and indices from the document root, e.g. ("opportunities", 0, "stage")

MAX_BYTES = 2 * 1024 * 1024  # the richest real account plan is well under 100 KB
MAX_DEPTH = 64  # below libyaml's own 1000, so both parsers stop at the same place
MAX_NODES = 200_000  # values built, counting what aliases expand to
MAX_NUMBER = 1000  # characters in an integer; Python refuses to print one of more than 4,300 digits
CORE = "tag:yaml.org,2002:"


class Positions(Mapping):
    """Line and column of every key and item, as a tree shaped like the data.

    A node is [line, column] or [line, column, children], children a dict (mapping keys -> nodes)
    or a list (items -> nodes). Read-only and a Mapping of locations: positions[("plan", "year")]
    -> (line, column). The tree is plain JSON for the cache (kamctl.cache) and costs far less
    memory than a dict keyed by location tuples.
    """

    __slots__ = ("root",)

    def __init__(self, root: list | None = None) -> None:
        self.root = root

    def node(self, loc: Iterable[Any]) -> list | None:
        node = self.root
        for part in loc:
            if node is None or len(node) < 3:
                return None
            children = node[2]
            if isinstance(children, dict):
                node = children.get(part) if not isinstance(part, (list, dict)) else None
            elif isinstance(part, int) and not isinstance(part, bool) and 0 <= part < len(children):
                node = children[part]
            else:
                return None
        return node

    def nearest(self, loc: Iterable[Any]) -> tuple[int, int]:
        """loc's line and column, or its nearest ancestor's (a missing key -> its parent); (1, 1) at worst."""
        node = self.root
        if node is None:
            return (1, 1)
        for part in loc:
            if len(node) < 3:
                break
            children = node[2]
            if isinstance(children, dict):
                child = children.get(part) if not isinstance(part, (list, dict)) else None
            elif isinstance(part, int) and not isinstance(part, bool) and 0 <= part < len(children):
                child = children[part]
            else:
                child = None
            if child is None:
                break
            node = child
        return (node[0], node[1])

    def __getitem__(self, loc: Any) -> tuple[int, int]:
        node = self.node(loc) if isinstance(loc, tuple) else None
        if node is None:
            raise KeyError(loc)
        return (node[0], node[1])

    def __contains__(self, loc: object) -> bool:
        return isinstance(loc, tuple) and self.node(loc) is not None

    def __iter__(self) -> Iterator[Path_]:
        if self.root is None:
            return
        stack: list[tuple[Path_, list]] = [((), self.root)]
        while stack:
            loc, node = stack.pop()
            yield loc
            if len(node) > 2:
                children = node[2]
                pairs = children.items() if isinstance(children, dict) else enumerate(children)
                stack.extend((loc + (k,), n) for k, n in reversed(list(pairs)))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"Positions({dict(self.items())!r})"


@dataclass
class Document:
    """A parsed file: data is None when the file could not be read at all."""

    path: str
    data: Any = None
    positions: Any = field(default_factory=Positions)  # a Positions tree (or any Mapping loc -> (line, col))
    findings: list[Finding] = field(default_factory=list)

    def position(self, loc: Path_) -> tuple[int, int]:
        """Line and column of loc, or of its nearest ancestor that has one (a missing key -> its parent)."""
        if isinstance(self.positions, Positions):
            return self.positions.nearest(loc)
        loc = tuple(loc)
        while loc:
            pos = self.positions.get(loc)
            if pos is not None:
                return pos
            loc = loc[:-1]
        return self.positions.get((), (1, 1))

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.error for f in self.findings)


# --- scalar resolution: the YAML 1.2 resolvers of ruamel.yaml's VersionedResolver ------------------

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TIMESTAMP = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
_TS_PARTS = re.compile(
    r"""^(?P<year>[0-9][0-9][0-9][0-9])-(?P<month>[0-9][0-9]?)-(?P<day>[0-9][0-9]?)
    (?:(?:[Tt]|[ \t]+)(?P<hour>[0-9][0-9]?):(?P<minute>[0-9][0-9]):(?P<second>[0-9][0-9])
    (?:\.(?P<fraction>[0-9]*))?
    (?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)(?::(?P<tz_minute>[0-9][0-9]))?))?)?$""",
    re.X,
)
_INVALID = object()


def _int(text: str) -> Any:
    if len(text) > MAX_NUMBER:  # the builder reports it (KAM004), whatever the base
        return _INVALID
    s = text.replace("_", "")
    sign = -1 if s[0] == "-" else 1
    if s[0] in "+-":
        s = s[1:]
    if s.startswith("0b"):
        return sign * int(s[2:], 2)
    if s.startswith("0x"):
        return sign * int(s[2:], 16)
    if s.startswith("0o"):
        return sign * int(s[2:], 8)
    return sign * int(s)


def _float(text: str) -> Any:
    s = text.replace("_", "").lower()
    if s.endswith(".inf"):
        return float("-inf") if s[0] == "-" else float("inf")
    if s == ".nan":
        return float("nan")
    try:
        return float(s)
    except ValueError:  # '._' matches the 1.2 float pattern but is no number (ruamel fails on it too)
        return _INVALID


def _timestamp(text: str) -> Any:
    m = _TS_PARTS.match(text)
    if m is None:
        return _INVALID
    try:
        y, mo, d = int(m["year"]), int(m["month"]), int(m["day"])
        if m["hour"] is None:
            return _dt.date(y, mo, d)
        fraction = m["fraction"] or ""
        frac = int(fraction[:6].ljust(6, "0"))
        if len(fraction) > 6 and fraction[6] > "4":  # rounded as ruamel.yaml's create_timestamp does
            frac += 1
        if frac > 999_999:
            frac = 0
        tz = None
        if m["tz"] == "Z":
            tz = _dt.timezone.utc
        elif m["tz"]:
            delta = _dt.timedelta(hours=int(m["tz_hour"]), minutes=int(m["tz_minute"] or 0))
            tz = _dt.timezone(-delta if m["tz_sign"] == "-" else delta)
        return _dt.datetime(y, mo, d, int(m["hour"]), int(m["minute"]), int(m["second"]), frac, tz)
    except ValueError:
        return _INVALID


def _too_long(text: str) -> str:
    return (f"a number of {len(text):,} characters; the limit is {MAX_NUMBER:,}: shorten it, "
            "or quote it if it is meant as text")


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar under the YAML 1.2 core schema (plus timestamps)."""
    first = text[:1]
    if first in ("", "~", "n", "N") and _NULL.match(text):
        return None
    if first in "tTfF" and _BOOL.match(text):
        return text[0] in "tT"
    if first in "-+0123456789.":
        if _INT.match(text) and first != ".":
            return _int(text)
        if _FLOAT.match(text):
            return _float(text)
        if first.isdigit() and _TIMESTAMP.match(text):
            return _timestamp(text)
    return text


_TAGGED = {
    CORE + "str": lambda t: t,
    CORE + "int": lambda t: _int(t) if _INT.match(t) else _INVALID,
    CORE + "float": lambda t: _float(t) if _FLOAT.match(t) or _INT.match(t) else _INVALID,
    CORE + "bool": lambda t: (t[0] in "tT") if _BOOL.match(t) else _INVALID,
    CORE + "null": lambda t: None if _NULL.match(t) else _INVALID,
    CORE + "timestamp": _timestamp,
    "!": lambda t: t,
}


# --- event sources -------------------------------------------------------------------------------


def c_parser_available() -> bool:
    try:
        from yaml._yaml import CParser  # noqa: F401
    except ImportError:
        return False
    return True


def _events_pure(text: str) -> Iterator[Any]:
    from ruamel.yaml import YAML

    yield from YAML(typ="safe", pure=True).parse(text)


def _error_position(exc: Exception, text: str = "", in_bytes: bool = False) -> tuple[int, int, str]:
    position = getattr(exc, "position", None)  # a reader error (bad character): an offset into the text
    if isinstance(position, int) and type(exc).__name__ == "ReaderError" and 0 <= position <= len(text) * 4:
        # libyaml counts UTF-8 bytes, ruamel counts characters
        before = text.encode("utf-8")[:position].decode("utf-8", "ignore") if in_bytes else text[:position]
        line = before.count("\n") + 1
        character = getattr(exc, "character", "")
        if isinstance(character, str) and len(character) == 1:
            character = ord(character)
        code = f"U+{character:04X}" if isinstance(character, int) else repr(character)
        return line, len(before) - (before.rfind("\n") + 1) + 1, f"character {code} is not allowed in YAML; remove it"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context else str(problem)
    if mark is None:
        return 1, 1, message
    # ruamel marks the character after a bad backslash escape, libyaml the backslash: point at the backslash
    shift = 1 if not in_bytes and "escape character" in str(problem) and mark.column else 0
    return mark.line + 1, mark.column + 1 - shift, message


# --- constructs the two parsers read differently: refused before either parser runs ---------------
# libyaml implements YAML 1.1 and ruamel's pure parser has its own gaps; on the official YAML test
# suite they disagree on anchors with ':' or non-ASCII names, tabs used as whitespace, zero-indented
# block text, empty keys, ':' at the start of a value in [..]/{..}, unusual directives and tags.
# None of these belongs in an account file, so a parser-independent scan refuses them at their line
# with the fix, and both paths report exactly the same finding (tests/test_yaml_suite.py).

_SECOND_DOCUMENT = "a second YAML document ('---' or '...'); an account file holds exactly one"
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_TAGS = {"!", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!map", "!!seq"}
_DIRECTIVE = re.compile(r"%(?:YAML +1\.2|TAG +\S+ +\S+) *(?: #.*)?")
# most lines of an account file: 'key: plain text', '- item', 'key:' with nothing the rules look at
_SIMPLE = re.compile(r" *(?:- +)*(?:[A-Za-z0-9_][\w ./()+-]*:(?: +[\w(.+-][^\t#:\"'\[\]{}]*)?|[\w(][^\t#:\"'\[\]{}]*)\r?")
_DOUBLE_QUOTED = re.compile(r'(?:[^"\\]+|\\.)*')  # up to the closing quote or the line's end
_BLOCK_HEADER = re.compile(r"[|>][-+1-9]{0,2}")
_PLAIN_STOP = re.compile(r"[:#\t,\]}]")  # the characters that can end or change a plain scalar
_DIVERGES = "YAML readers disagree on it"
TAB_MESSAGE = "a tab is used as whitespace here; YAML needs spaces: replace the tab with spaces"
TAB_INDENT = "a tab is used for indentation; YAML needs spaces: replace the tab with spaces"


def _ws(ch: str) -> bool:
    return ch in " \t\r\n" or ch == ""


def scan_divergent(text: str) -> tuple[str, int, int, str] | None:
    """The first construct libyaml and the pure parser read differently: (code, line, column, message)."""
    if not any(c in text for c in "\t&*!%:?|>.-"):  # nothing the rules below look at
        return None
    lines = text.split("\n")
    flow: list[str] = []
    quote = ""  # the open quote of a multi-line quoted scalar
    block: list | None = None  # [parent indent, content indent or None, leading blank lines]
    content = started = ended = False
    held = -1  # a line continuing an open [..], {..} or quoted text must be indented more than this
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if block is not None:
            parent, body, blanks = block
            if not stripped.strip(" \t"):
                if "\t" in line and body is None:
                    return "KAM001", number, line.index("\t") + 1, TAB_MESSAGE
                if body is None:
                    blanks.append((number, len(line)))
                continue
            if parent < 0 and body is None and indent == 0 and line[:3] not in ("---", "..."):
                return ("KAM003", number, 1, "the text under a top-level '|' or '>' is not indented "
                        f"({_DIVERGES}); indent its lines by two spaces")
            if body is None and indent > parent:
                for where, spaces in blanks:
                    if spaces and spaces != indent:
                        return ("KAM003", where, 1, "a blank line at the start of a '|' or '>' text has "
                                f"a different number of spaces than its first line ({_DIVERGES}); "
                                "make the blank line empty")
                block[1] = body = indent
            if body is not None and indent >= body:
                if stripped[:1] == "\t":
                    return "KAM001", number, indent + 1, TAB_INDENT
                continue
            block = None
        if not quote and (not stripped or stripped[0] == "#"):  # blank or a comment
            continue
        if not (quote or flow or ended) and _SIMPLE.fullmatch(line):
            content = True
            continue
        if not stripped.strip(" \t") and not quote:
            if "\t" in line:
                return "KAM001", number, line.index("\t") + 1, TAB_MESSAGE
            continue
        i, n = 0, len(line)
        at_start = True  # the next token starts a node
        closed = -1  # where a quoted text or [..] ended: a '#' there needs a space before it
        if (quote or flow) and stripped.strip(" \t") and not (flow and stripped.startswith("#")):
            if quote and "\t" in line[:n - len(line.lstrip(" \t"))]:
                return "KAM001", number, line.index("\t") + 1, TAB_INDENT
            if indent <= held:
                return ("KAM001", number, indent + 1, "this line continues the [..], {..} or quoted text "
                        "opened above; indent it more than the line that opened it, or close what is left open "
                        "(a ']', '}' or quote)")
        if not quote and not flow:
            head = line[:3]
            marker = head in ("---", "...") and _ws(line[3:4])
            if stripped.startswith("#"):
                continue
            if ended and not (head == "..." and marker):
                return "KAM003", number, 1, _SECOND_DOCUMENT
            if line.startswith("%"):
                if content or started:
                    return "KAM003", number, 1, _SECOND_DOCUMENT
                if not _DIRECTIVE.fullmatch(line):
                    return ("KAM003", number, 1, f"directive '{line.strip()[:40]}'; account files are "
                            "YAML 1.2 and need no directives: remove that line")
                continue
            if marker and head == "---":
                if started or content:
                    return "KAM003", number, 1, _SECOND_DOCUMENT
                started, i = True, 3
            elif marker:
                rest = line[3:].strip(" \t")
                if rest and not rest.startswith("#"):
                    return "KAM001", number, 5, "text after the '...' end marker; remove it"
                ended = started or content
                continue
        while i < n:
            ch = line[i]
            if quote:
                if quote == '"':
                    m = _DOUBLE_QUOTED.match(line, i)
                    j = m.end()
                else:
                    j = line.find("'", i)
                    while j != -1 and line[j + 1:j + 2] == "'":
                        j = line.find("'", j + 2)
                    j = n if j == -1 else j
                if j >= n:
                    break
                quote, i, at_start, closed = "", j + 1, False, j + 1
                if flow and line[i:i + 1] == ":":  # JSON-like "key":value
                    i, at_start = i + 1, True
                continue
            if ch == " ":
                i += 1
                continue
            if ch == "\t":
                return "KAM001", number, i + 1, TAB_INDENT if not line[:i].strip(" -") else TAB_MESSAGE
            if ch == "#" and (i == 0 or line[i - 1] in " \t"):
                break
            if ch == "#" and i == closed:
                return "KAM001", number, i + 1, "put a space before the '#' of this comment"
            content = True
            nxt = line[i + 1:i + 2]
            if at_start:
                if ch in "\"'":
                    if not flow:
                        held = -1 if indent == 0 and line[:i].strip() in ("", "---") else indent
                    quote, i = ch, i + 1
                    continue
                if flow and (ch == "-" and (_ws(nxt) or nxt in ",[]{}") or ch == "?" and not _ws(nxt)):
                    return ("KAM003", number, i + 1, f"'{ch}' at the start of a value inside [..] or {{..}} "
                            f"({_DIVERGES}); quote the value")
                if ch in "&*!":
                    j = i + 1
                    while j < n and line[j] not in " \t" and not (flow and line[j] in ",[]{}" and ch != "!"):
                        j += 1
                    name = line[i + 1:j]
                    if ch == "!":
                        if "!" + name not in _TAGS:
                            return ("KAM003", number, i + 1,
                                    f"unsupported tag '!{name}'; remove it and write a plain value")
                    elif not _NAME.fullmatch(name):
                        what = "anchor" if ch == "&" else "alias"
                        return ("KAM003", number, i + 1, f"{what} name '{ch}{name}' may hold only letters, "
                                f"digits, '-' and '_' ({_DIVERGES}); rename it")
                    i, at_start = j, ch != "*"
                    continue
                if ch == "?" and _ws(nxt):
                    return ("KAM003", number, i + 1, "'?' explicit keys are not supported; write 'key: value'")
                if ch == ":" and (flow or _ws(nxt)):
                    return ("KAM001", number, i + 1, "a value with no key before its ':'; write the key, "
                            "or quote the text if the ':' belongs to it")
                if ch == "-" and _ws(nxt) and not flow:
                    i += 1
                    continue
                if ch in "|>" and not flow:
                    m = _BLOCK_HEADER.match(line, i)
                    after = line[m.end():m.end() + 1]
                    if after == "#":
                        return "KAM001", number, m.end() + 1, "put a space before the '#' of this comment"
                    if _ws(after):
                        root = indent == 0 and line[:i].strip() in ("", "---")
                        block = [-1 if root else indent, None, []]
                        break
            if ch in "[{" and at_start:
                if not flow:
                    held = -1 if indent == 0 and line[:i].strip() in ("", "---") else indent
                flow.append(ch)
                i, at_start = i + 1, True
                continue
            if flow and ch in "]}":
                flow.pop()
                i, at_start, closed = i + 1, False, i + 1
                if line[i:i + 1] == ":":
                    return "KAM003", number, i + 1, "a mapping or list used as a key; keys must be plain text"
                continue
            if flow and ch == ",":
                i, at_start, closed = i + 1, True, i + 1
                continue
            if ch == ":" and (_ws(nxt) or (flow and nxt in ",[]{}")):
                if flow and flow[-1] == "[":
                    return ("KAM003", number, i + 1, f"a 'key: value' pair inside [..] ({_DIVERGES}); "
                            "write it as {key: value}")
                if flow and nxt in ",]}":
                    return ("KAM003", number, i + 1, f"a ':' with no value before '{nxt}' ({_DIVERGES}); "
                            "write a value or remove the ':'")
                i, at_start = i + 1, True
                continue
            m = _PLAIN_STOP.search(line, i + 1)  # inside a plain scalar: on to the next character that matters
            i, at_start = (m.start() if m else n), False
    if block is not None and lines[-1].strip(" ") == "" and lines[-1]:
        return ("KAM003", len(lines), 1, f"the file ends in a line of spaces inside '|' or '>' text "
                f"({_DIVERGES}); remove the spaces")
    return None


# --- the parsers' syntax errors in plain words --------------------------------------------------

_EMPTY_THEN_ITEMS = re.compile(r" *(?:- +)?([^\s:#][^:#]*?): *(\[\]|\{\}) *(?:#.*)?")
_KEY_VALUE = re.compile(r" *(?:- +)?([^\s:#\"'][^:#]*?): +(\S.*)")


def _content(line: str) -> bool:
    s = line.strip(" ")
    return bool(s) and not s.startswith("#")


def _levels(lines: list[str], before: int) -> dict[int, int]:
    """The indentations a line after lines[:before] may use: ancestors' and siblings' -> their line."""
    levels: dict[int, int] = {}
    low = 1 << 30
    for k in range(before - 1, -1, -1):
        line = lines[k]
        if not _content(line):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent > low:
            continue
        low = indent
        rest, at = line[indent:], indent
        levels.setdefault(at, k + 1)
        while rest.startswith("- ") or rest == "-":  # '- key:' opens a level after the dash
            stripped = rest[1:].lstrip(" ")
            at += len(rest) - len(stripped)
            rest = stripped
            levels.setdefault(at, k + 1)
        if indent == 0:
            break
    return levels


def explain(text: str, line: int, column: int) -> tuple[int, int, str] | None:
    """A plain message, with the line to fix, for the common mistakes behind a parser's syntax error:
    items under 'key: []', indentation that lines up with nothing, a missing ':' after a key, and
    ': ' inside unquoted text. None when the error is none of these."""
    lines = text.split("\n")
    at = min(line, len(lines)) - 1
    while at > 0 and not _content(lines[at]):
        at -= 1
    here = lines[at]
    prev = next((k for k in range(at - 1, -1, -1) if _content(lines[k])), None)
    indent = len(here) - len(here.lstrip(" "))
    if prev is not None:
        before = lines[prev]
        empty = _EMPTY_THEN_ITEMS.fullmatch(before)
        if empty and indent > len(before) - len(before.lstrip(" ")):
            key, brackets = empty[1], empty[2]
            what = "an empty list" if brackets == "[]" else "an empty mapping"
            return (prev + 1, before.index(brackets, before.index(":")) + 1,
                    f"'{key}: {brackets}' says '{key}' is {what}, but indented lines follow it: "
                    f"remove the '{brackets}' after '{key}:'")
    if at < line - 1 or prev is None:  # the error is past the last line: the last line is at fault
        levels = None
    else:
        levels = _levels(lines, at)
    if levels and indent not in levels:
        near = sorted(levels, key=lambda lv: (abs(lv - indent), -lv))[0]
        spaces = lambda n: f"{n} space" + ("" if n == 1 else "s")  # noqa: E731
        return (at + 1, indent + 1, f"this line is indented by {spaces(indent)}, which lines up with no "
                f"line above it: indent it by {spaces(near)} like line {levels[near]}")
    if prev is not None and (line - 1 > at or ":" in here or line - 1 == at):
        before = lines[prev]
        b_indent = len(before) - len(before.lstrip(" "))
        body = before.strip(" ")
        if (":" not in body and "#" not in body and b_indent == indent and " " in body
                and not body.startswith(("-", '"', "'", "[", "{", "?", "%", "&", "*", "!", "|", ">"))):
            key, _, value = body.partition(" ")
            return (prev + 1, b_indent + len(key) + 1,
                    f"no ':' after '{key}': write '{key}: {value.strip()}'")
    pair = _KEY_VALUE.fullmatch(here)
    if pair and 0 < column - 1 < len(here) and here[column - 1] == ":" and column - 1 > here.index(": "):
        key, value = pair[1], pair[2]
        return (at + 1, column, f"the value of '{key}' holds ': ', which YAML reads as a new key: "
                f"put the value in quotes: {key}: \"{value}\"")
    return None


# --- the builder ---------------------------------------------------------------------------------


def _show(tag: Any) -> str:
    return str(tag).replace(CORE, "!!")




class _Stop(Exception):
    pass


class _NoKey:
    def __repr__(self) -> str:
        return "<no key>"


_NO_KEY = _NoKey()


class _Mark(NamedTuple):
    line: int
    column: int


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("container", "children", "key", "key_node", "skip", "anchor", "nodes_at_start")

    def __init__(self, container: Any, node: list | None, anchor: str | None, nodes: int) -> None:
        self.container, self.anchor = container, anchor
        self.children: Any = None  # the position children of this container; None: not recorded
        if node is not None:
            self.children = {} if isinstance(container, dict) else []
            node.append(self.children)
        self.key: Any = _NO_KEY  # _NO_KEY: the next value is a key; otherwise it belongs to self.key
        self.key_node: list | None = None  # the position node of the current key
        self.skip = False  # the next value is dropped (duplicate key, merge key, complex key)
        self.nodes_at_start = nodes


class _Builder:
    """Turns events into plain data and positions, iteratively (deep nesting cannot overflow)."""

    def __init__(self, path: str, text: str = "") -> None:
        self.doc = Document(path)
        self.text = text
        self.ended = False  # the first document's end was seen
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.root_node: list | None = None
        self.documents = 0

    def finding(self, code: str, mark: Any, message: str) -> None:
        self.doc.findings.append(Finding(code, Severity.error, self.doc.path, mark.line + 1, mark.column + 1, message))

    def mark(self, event: Any) -> Any:
        """Where a node starts. With a tag and an anchor libyaml marks the first, ruamel the anchor:
        both paths take the anchor."""
        mark = event.start_mark
        if getattr(event, "anchor", None) is None or getattr(event, "tag", None) is None:
            return mark
        line = self.text.split("\n", mark.line + 1)[mark.line] if self.text else ""
        at = line.find("&" + event.anchor, mark.column)
        return mark if at <= mark.column else _Mark(mark.line, at)

    def count(self, n: int, mark: Any) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            self.finding("KAM004", mark, f"more than {MAX_NODES:,} values (counting alias expansions); "
                         "refusing to read further")
            raise _Stop

    def attach(self, value: Any, mark: Any, is_container: bool, is_merge: bool = False) -> list | None:
        """Place value in its parent; returns its position node when its positions are recorded."""
        if not self.stack:
            self.root = value
            self.root_node = [1, 1]
            return self.root_node
        frame = self.stack[-1]
        container, children = frame.container, frame.children
        if isinstance(container, list):
            container.append(value)
            if children is None:
                return None
            node = [mark.line + 1, mark.column + 1]
            children.append(node)
            return node
        if frame.key is _NO_KEY:  # this value is a key
            frame.key, frame.skip, frame.key_node = value, False, None
            if is_container:
                self.finding("KAM003", mark, "a mapping or list used as a key; keys must be plain text")
                frame.key, frame.skip = None, True
            elif is_merge:
                self.finding("KAM003", mark, "merge key '<<' is not supported; write the keys out")
                frame.skip = True
            elif value in container:
                first = children.get(value, (0,))[0] if children is not None else 0
                self.finding("KAM002", mark, f"duplicate key '{value}' (first at line {first}); the first value is kept")
                frame.skip = True
            elif children is not None:
                frame.key_node = children[value] = [mark.line + 1, mark.column + 1]
            return None
        key, skip, node = frame.key, frame.skip, frame.key_node
        frame.key, frame.skip, frame.key_node = _NO_KEY, False, None
        if skip:
            return None
        container[key] = value
        return node

    def scalar(self, event: Any, mark: Any) -> Any:
        tag = event.tag
        text = event.value
        if tag is None:
            if not event.implicit[0]:
                return text
            value = resolve_plain(text)
            if value is _INVALID and len(text) > MAX_NUMBER and _INT.match(text):
                self.finding("KAM004", mark, _too_long(text))
                return None
            if value is _INVALID:  # looks like a date or number but is none (2026-02-30, '._')
                what = "real date" if text[:4].isdigit() and text[4:5] == "-" else "number"
                code = "KAM105" if what == "real date" else "KAM102"
                self.finding(code, mark,
                             f"'{text}' is not a {what}; correct it, or quote it if it is meant as text")
                return text
            return value
        tag = str(tag)
        convert = _TAGGED.get(tag)
        if convert is None:
            self.finding("KAM003", mark, f"unsupported tag '{_show(tag)}'; remove it and write a plain value")
            return None
        value = convert(text)
        if value is _INVALID and len(text) > MAX_NUMBER and _INT.match(text):
            self.finding("KAM004", mark, _too_long(text))
            return None
        if value is _INVALID:
            self.finding("KAM102", mark, f"'{text}' is not a valid {tag.removeprefix(CORE)}")
            return None
        return value

    def scalar_event(self, event: Any) -> None:
        """A scalar: the common case (plain, untagged, no anchor) inline, for speed; the rest via feed."""
        self.nodes += 1
        if (self.nodes > MAX_NODES or event.tag is not None or event.anchor is not None or not self.stack
                or not event.implicit[0]):
            self.nodes -= 1
            return self.feed(event)
        text = event.value
        value = resolve_plain(text)
        frame = self.stack[-1]
        container = frame.container
        if container.__class__ is list:
            container.append(value)
            children = frame.children
            if children is not None:
                mark = event.start_mark
                children.append([mark.line + 1, mark.column + 1])
            if value is _INVALID:
                self.nodes -= 1
                container.pop()
                if children is not None:
                    children.pop()
                return self.feed(event)
            return None
        if frame.key is _NO_KEY:
            if value is _INVALID or text == "<<" or value in container:
                self.nodes -= 1
                return self.feed(event)
            frame.key, frame.skip = value, False
            children = frame.children
            if children is not None:
                mark = event.start_mark
                frame.key_node = children[value] = [mark.line + 1, mark.column + 1]
            else:
                frame.key_node = None
            return None
        if value is _INVALID:
            self.nodes -= 1
            return self.feed(event)
        if not frame.skip:
            container[frame.key] = value
        frame.key, frame.skip, frame.key_node = _NO_KEY, False, None
        return None

    def feed(self, event: Any) -> None:
        kind = type(event).__name__
        mark = self.mark(event)
        if kind == "ScalarEvent":
            self.count(1, mark)
            value = self.scalar(event, mark)
            is_merge = event.tag is None and event.implicit[0] and event.value == "<<"
            self.attach(value, mark, False, is_merge)
            if event.anchor:
                self.anchors[event.anchor] = (value, 1)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            self.count(1, mark)
            expected = CORE + ("map" if kind == "MappingStartEvent" else "seq")
            if event.tag is not None and str(event.tag) not in (expected, "!"):
                self.finding("KAM003", mark, f"unsupported tag '{_show(event.tag)}'; remove it")
            if len(self.stack) >= MAX_DEPTH:
                self.finding("KAM004", mark, f"nested more than {MAX_DEPTH} levels deep; refusing to read further")
                raise _Stop
            container: Any = {} if kind == "MappingStartEvent" else []
            node = self.attach(container, mark, True)
            self.stack.append(_Frame(container, node, event.anchor, self.nodes))
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            frame = self.stack.pop()
            if frame.anchor:
                self.anchors[frame.anchor] = (frame.container, self.nodes - frame.nodes_at_start + 1)
        elif kind == "AliasEvent":
            target = self.anchors.get(event.anchor)
            if target is None:
                self.finding("KAM001", mark, f"malformed YAML: unknown alias '*{event.anchor}'")
                raise _Stop
            value, size = target
            self.count(size, mark)
            self.attach(value, mark, isinstance(value, (dict, list)))
        elif kind == "DocumentEndEvent":
            self.ended = True
        elif kind == "DocumentStartEvent":
            self.documents += 1
            version = getattr(event, "version", None)
            if version and tuple(version) != (1, 2):  # ruamel would switch to YAML 1.1 rules (no: false)
                # the parsers mark the directive differently: point at its own line
                line = next((i for i, t in enumerate(self.text.splitlines()) if t.startswith("%YAML")), 0)
                self.doc.findings.append(Finding(
                    "KAM003", Severity.error, self.doc.path, line + 1, 1,
                    f"'%YAML {version[0]}.{version[1]}' directive; account files are YAML 1.2: remove that line"))
                raise _Stop
            if self.documents > 1:
                self.finding("KAM003", mark, _SECOND_DOCUMENT)
                raise _Stop


def parse_text(text: str, path: str, parser: str = "auto") -> Document:
    """Parse YAML text. parser: 'c' (libyaml), 'pure' (ruamel.yaml) or 'auto' (c when installed)."""
    if parser == "auto":
        parser = "c" if c_parser_available() else "pure"
    risky = scan_divergent(text)
    if risky is not None:
        code, line, column, message = risky
        return Document(path, None, Positions(None), [Finding(code, Severity.error, path, line, column, message)])
    builder = _Builder(path, text)
    try:
        if parser == "c":
            from yaml._yaml import CParser
            from yaml.events import ScalarEvent

            get = CParser(text).get_event
        else:
            from ruamel.yaml.events import ScalarEvent

            events = _events_pure(text)
            get = lambda: next(events, None)  # noqa: E731
        feed, scalar = builder.feed, builder.scalar_event
        while (event := get()) is not None:
            if event.__class__ is ScalarEvent:
                scalar(event)
            else:
                feed(event)
    except _Stop:
        pass
    except RecursionError:
        builder.doc.findings.append(Finding("KAM004", Severity.error, path, 1, 1, "nested too deeply to read"))
    except Exception as exc:  # the parsers' own errors: syntax, tabs, bad characters
        if type(exc).__name__ in ("AttributeError", "NameError", "TypeError", "KeyError", "IndexError"):
            raise
        if parser == "c" and "maximum nesting depth" in str(exc):
            # libyaml's scanner reads 1,000 flow levels ahead before the builder can stop at MAX_DEPTH;
            # the pure parser stops at the same event as the builder, so both paths report one place
            return parse_text(text, path, "pure")
        line, col, message = _error_position(exc, text, parser == "c")
        if builder.ended:  # libyaml (YAML 1.1) wants '---' after '...'; ruamel sees a second document there
            builder.doc.findings.append(Finding("KAM003", Severity.error, path, line, 1, _SECOND_DOCUMENT))
        else:
            plain = explain(text, line, col) if type(exc).__name__ != "ReaderError" else None
            if plain is not None:
                line, col, message = plain
            else:
                message = f"malformed YAML: {message}"
            builder.doc.findings.append(Finding("KAM001", Severity.error, path, line, col, message))
    doc = builder.doc
    doc.data = builder.root if not any(f.rule in ("KAM001", "KAM004") for f in doc.findings) else None
    doc.positions = Positions(builder.root_node or [1, 1]) if doc.data is not None else Positions(builder.root_node)
    return doc


def decode(raw: bytes, path: str) -> tuple[str | None, list[Finding]]:
    """Bytes to text: UTF-8 with an optional BOM; anything else is a KAM005 finding with its line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [Finding("KAM005", Severity.error, path, line, col,
                              f"byte 0x{raw[exc.start]:02x} is not UTF-8; re-save the file as UTF-8")]


def read_file(file: str | os.PathLike, display: str | None = None, parser: str = "auto",
              root: str | os.PathLike | None = None) -> Document:
    """Read and parse one file, refusing what is too large or leads outside root."""
    display = display or os.fspath(file)
    raw, findings = read_bytes(file, display, root)
    if raw is None:
        return Document(display, findings=findings)
    return parse_bytes(raw, display, parser)


def parse_bytes(raw: bytes, display: str, parser: str = "auto") -> Document:
    text, findings = decode(raw, display)
    if text is None:
        return Document(display, findings=findings)
    return parse_text(text, display, parser)


def read_bytes(file: str | os.PathLike, display: str, root: str | os.PathLike | None = None
               ) -> tuple[bytes | None, list[Finding]]:
    """A file's bytes through kamctl.fsafe (regular file, no link out of root, MAX_BYTES while
    reading, one open: race-free), or None and the finding that says why kamctl refuses it.
    root None: the file's own folder is the limit."""
    if root is None:
        root = os.path.dirname(os.path.abspath(file))

    def refuse(code: str, message: str) -> tuple[None, list[Finding]]:
        return None, [Finding(code, Severity.error, display, 1, 1, message)]

    try:
        return fsafe.read_bytes(root, inside(file, root), MAX_BYTES), []
    except fsafe.Outside:
        return refuse("KAM008", "this file is a link to a place outside the workspace; kamctl does not follow it")
    except fsafe.NotRegular:  # a FIFO or device would block or never end
        return refuse("KAM008", "this is not a regular file (a folder, pipe or device); replace it with a file")
    except fsafe.TooLarge as exc:
        if exc.size is not None:
            return refuse("KAM004", f"file is {exc.size:,} bytes; the limit is {MAX_BYTES:,}")
        return refuse("KAM004", f"file is larger than the limit of {MAX_BYTES:,} bytes")
    except OSError as exc:
        return refuse("KAM008", f"cannot read the file: {exc.strerror or exc}")


def inside(file: str | os.PathLike, root: str | os.PathLike) -> str:
    """file's path below root: by text, else through the real path of its folder (a workspace named
    through a link); only a name to walk - fsafe checks every step of it again."""
    try:
        return fsafe.relative(root, file)
    except fsafe.Outside:
        folder, name = os.path.split(os.path.abspath(file))
        return fsafe.relative(os.path.realpath(root), os.path.join(os.path.realpath(folder), name))
