"""Findings as text for people and machines: plain functions that return strings.

text (grouped by file, optional ANSI colour), parsable (`path:line:col: [severity] CODE message`),
json, github (workflow commands) and junit (XML). Nothing here prints.

Every format shows the same text: every format and the validate listing pass findings through
shown() once, which makes control characters visible (`\x1b`), so no format can break on them.

A warm `kamctl check` hands render() the accounts the check cache holds as they are (served, see
kamctl.checks.incremental.Served) with a view cache: every format is written file by file, and a served account's part is taken from the view cache when it is there (made,
and put there, when not), so the cost of a warm run follows the accounts, not their findings.
"""

from __future__ import annotations

import json as _json
import math
from json.encoder import encode_basestring as _string
from typing import Any, Iterable

from kamctl.findings import BY_VALUE, Finding, Severity, tally
from kamctl.present import plural, visible

FORMATS = ("text", "parsable", "json", "github", "junit")
_COLOUR = {"error": "\x1b[1;31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_DIM, _BOLD, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def shown(findings: Iterable[Finding]) -> list[Finding]:
    """Findings as every format shows them: file and account on one line, no control characters.
    Files and accounts repeat across findings, so each distinct one is made visible once."""
    names: dict[str | None, str | None] = {None: None}
    out = []
    for f in findings:
        rule, severity, file, line, column, message, account = f
        if file not in names:
            names[file] = visible(file, False)
        if account not in names:
            names[account] = visible(account, False)
        shown_file, shown_account = names[file], names[account]
        if message.isprintable() and shown_file is file and shown_account is account:
            out.append(f)  # nothing to show differently (the usual case): no new finding
        else:
            out.append(Finding(rule, severity, shown_file, line, column, visible(message), shown_account))
    return out


def finite(value: object) -> object:
    """value with every float that is not finite (an overflowed sum) as None: JSON stays strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def summary(findings: list[Finding], fail_on: str = "error", accounts: int | None = None,
            served: list[Any] = ()) -> dict:
    """The counts every format ends with; served accounts (kamctl.checks.incremental.Served) count
    from their tallies, so a warm check never goes through their findings."""
    by_severity = dict.fromkeys(Severity, 0)
    for (_, severity), n in tally(findings, served).items():
        by_severity[severity] += n
    files = {visible(file, False) for file in {f.file for f in findings}}  # counted as the formats show them
    files.update(visible(part.file, False) for part in served if part.tally)
    counts = {s.value: n for s, n in by_severity.items()}
    threshold = Severity(fail_on).rank
    failing = sum(n for s, n in by_severity.items() if s.rank >= threshold)
    out = {"errors": counts["error"], "warnings": counts["warning"], "info": counts["info"],
           "total": sum(counts.values()), "files": len(files),
           "fail_on": fail_on, "failing": failing, "passed": failing == 0}
    if accounts is not None:
        out["accounts"] = accounts
    return out


def one_line(message: str) -> str:
    """Line breaks inside a message (a manual alert's text) become spaces in line-based formats."""
    if "\n" not in message and "\r" not in message:
        return message
    return " ".join(message.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def summary_line(s: dict) -> str:
    parts = [plural(s["errors"], "error"), plural(s["warnings"], "warning"), f"{s['info']} info"]
    where = f" in {plural(s['files'], 'file')}" if s["total"] else ""
    scope = f" ({plural(s['accounts'], 'account')} checked)" if "accounts" in s else ""
    verdict = "passed" if s["passed"] else f"failed: {s['failing']} at or above {s['fail_on']}"
    return f"{', '.join(parts)}{where}{scope}; {verdict}"


def _painter(colour: bool) -> Any:
    return (lambda code, s: f"{code}{s}{_RESET}") if colour else (lambda code, s: s)


def _text_lines(findings: list[Finding], paint: Any, by_file: dict[Any, list[str]]) -> None:
    """Each finding's line, added to its file's lines in by_file (files in the order they first come)."""
    severities = {s: paint(_COLOUR[s.value], f"{s.value:<7}") for s in Severity}
    rules: dict[str, str] = {}
    for rule, severity, file, line, column, message, _ in findings:
        shown_rule = rules.get(rule)
        if shown_rule is None:
            shown_rule = rules[rule] = paint(_BOLD, rule)
        group = by_file.get(file)
        if group is None:
            group = by_file[file] = []
        group.append(f"  {line}:{column}  {severities[severity]} {shown_rule} {one_line(message)}")


def _text_block(file: str, lines: list[str], paint: Any) -> str:
    """One file's part of the text format: its name, its findings' lines, a blank line."""
    return paint(_BOLD, file) + "\n" + "".join(line + "\n" for line in lines) + "\n"


def text(findings: list[Finding], completeness: dict | None = None, fail_on: str = "error",
         accounts: int | None = None, colour: bool = False, served: list[Any] = (), views: Any = None) -> str:
    """Findings grouped by file, then completeness per account, then one summary line."""
    paint = _painter(colour)
    by_file: dict[Any, Any] = {}  # shown file -> its lines; a served account -> None (its block is made whole)
    for piece in _pieces(findings, served):
        if type(piece) is list:
            _text_lines(piece, paint, by_file)
        else:
            by_file[piece] = None
    blocks = [_text_block(key, lines, paint) if lines is not None
              else _viewed(key, views, lambda part: _served_text(part, paint)) for key, lines in by_file.items()]
    lines = []
    if completeness:
        lines.append(paint(_BOLD, "Completeness (%)"))
        # each column as wide as its heading, so the table fits 80 columns beside a 22-character id
        keys = {"strategy": "strategy", "plan": "plan", "relationships": "relations", "pipeline": "pipeline",
                "performance": "perform.", "overall": "overall"}
        width = max(len(a) for a in [*completeness, "account"])
        lines.append(f"  {'account':<{width}}  " + "  ".join(keys.values()))
        for acc, pct in sorted(completeness.items()):
            lines.append(f"  {acc:<{width}}  " + "  ".join(f"{pct[k]:>{len(h)}.0f}" for k, h in keys.items()))
        lines.append("")
    s = summary(findings, fail_on, accounts, served)
    lines.append(paint(_COLOUR["error"] if not s["passed"] else _DIM, summary_line(s)))
    return "".join(blocks) + "\n".join(lines) + "\n"


def _served_text(part: Any, paint: Any) -> str:
    by_file: dict[Any, list[str]] = {}
    _text_lines(shown(part.findings()), paint, by_file)
    return "".join(_text_block(file, lines, paint) for file, lines in by_file.items())


def _pieces(findings: list[Finding], served: list[Any]) -> list[Any]:
    """The findings in the order the formats write them: runs of findings of one file (lists) and
    served accounts, merged by file. Without served accounts, one run in the findings' own order."""
    if not served:
        return [shown(findings)] if findings else []
    runs: list[Any] = []
    for f in findings:  # sorted by file, as a check gives them: one run per file
        if runs and runs[-1][0] == f.file:
            runs[-1][1].append(f)
        else:
            runs.append((f.file, [f]))
    merged = sorted([*runs, *((part.file, part) for part in served)], key=lambda p: p[0])  # stable
    return [shown(p[1]) if type(p[1]) is list else p[1] for p in merged]


def view_name(fmt: str, colour: bool, fail_on: str) -> str:
    """The view cache (kamctl.cache.ViewCache) a format's parts go to: one per way a part can differ
    (painted text; junit's failures are the findings at or above fail_on)."""
    return fmt + ("-colour" if colour else "") + (f"-{fail_on}" if fmt == "junit" else "")


def _viewed(part: Any, views: Any, make: Any) -> str:
    """A served account's part of one format: as the view cache has it, else made (and kept)."""
    if views is None:
        return make(part)
    key = views.key(part.key, part.file)
    text = views.get(key)
    if text is None:
        text = make(part)
        views.put(key, text)
    return text


def parsable(findings: Iterable[Finding], served: list[Any] = (), views: Any = None) -> str:
    return "".join(_parsable(p) if type(p) is list else _viewed(p, views, lambda part: _parsable(shown(part.findings())))
                   for p in _pieces(list(findings), served))


def _parsable(findings: list[Finding]) -> str:
    tags = {s: f"[{s.value}]" for s in Severity}  # Severity.value is a Python-level lookup: once each
    return "".join(f"{file}:{line}:{column}: {tags[severity]} {rule} {one_line(message)}\n"
                   for rule, severity, file, line, column, message, _ in findings)


def _number(value: object) -> str:
    """A number as json.dumps writes it (a float that is not finite as null, as finite() has it)."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else "null"
    return _json.dumps(finite(value), allow_nan=False)


def _records(findings: list[Finding]) -> str:
    """The findings as json.dumps([f.as_dict() ...], indent=2) writes them inside the findings list.

    Rule and severity repeat across findings, and so do file and account: the text around them is
    made once per distinct value, so each finding costs its numbers and its message."""
    rules: dict[tuple, str] = {}
    files: dict[str, str] = {}
    tails: dict[str | None, str] = {}
    out = []
    for rule, severity, file, line, column, message, account in findings:
        opening = rules.get((rule, severity))
        if opening is None:
            opening = rules[rule, severity] = (f'\n    {{\n      "rule": {_string(rule)},\n      "severity": '
                                               f'{_string(severity.value)},\n      "file": ')
        place = files.get(file)
        if place is None:
            place = files[file] = f'{_string(file)},\n      "line": '
        tail = tails.get(account)
        if tail is None:
            tail = tails[account] = f',\n      "account": {"null" if account is None else _string(account)}\n    }}'
        out.append(f'{opening}{place}{line if type(line) is int else _number(line)},\n      "column": '
                   f'{column if type(column) is int else _number(column)},\n      "message": {_string(message)}{tail}')
    return ",".join(out)


def _completeness(completeness: dict) -> str:
    """json.dumps(completeness, indent=2) as it sits at the end of the document (one level in)."""
    if not completeness:
        return "{}"
    accounts = []
    for account, sections in completeness.items():
        if type(sections) is not dict or not sections:
            accounts.append(f"\n    {_string(account)}: " + _json.dumps(finite(sections), indent=2, ensure_ascii=False,
                                                                      allow_nan=False).replace("\n", "\n    "))
            continue
        rows = ",".join(f"\n      {_string(k)}: {_number(v)}" for k, v in sections.items())
        accounts.append(f"\n    {_string(account)}: {{{rows}\n    }}")
    return "{" + ",".join(accounts) + "\n  }"


def json(findings: list[Finding], completeness: dict | None = None, fail_on: str = "error",
         accounts: int | None = None, served: list[Any] = (), views: Any = None) -> str:
    """The same bytes as json.dumps(..., indent=2) of findings, summary and completeness, but each
    finding and completeness row written straight from its fields (a generic encoder per finding
    is most of a run)."""
    head = _json.dumps(finite({"summary": summary(findings, fail_on, accounts, served)}), indent=2,
                       ensure_ascii=False, allow_nan=False)
    records = [_records(p) if type(p) is list else _viewed(p, views, lambda part: _records(shown(part.findings())))
               for p in _pieces(findings, served)]
    listed = ",".join(r for r in records if r)
    return "".join(('{\n  "findings": [', listed, "\n  " if listed else "", "],\n", head[2:-2], ',\n  "completeness": ',
                    _completeness(completeness or {}), "\n}\n"))  # one copy of the records, not one per +


def escape_data(value: str) -> str:
    """GitHub workflow command message: % CR LF escaped."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """GitHub workflow command property value: also : and , escaped."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: Iterable[Finding], served: list[Any] = (), views: Any = None) -> str:
    return "".join(_github(p) if type(p) is list else _viewed(p, views, lambda part: _github(shown(part.findings())))
                   for p in _pieces(list(findings), served))


def _github(findings: list[Finding]) -> str:
    out = []
    files: dict[str, str] = {}  # escaped files and rules: they repeat across findings
    rules: dict[str, str] = {}
    levels = {s: GITHUB_LEVEL[s.value] for s in Severity}
    for rule, severity, file, line, column, message, _ in findings:
        shown_file = files.get(file)
        if shown_file is None:
            shown_file = files[file] = escape_property(file)
        shown_rule = rules.get(rule)
        if shown_rule is None:
            shown_rule = rules[rule] = escape_property(rule)
        line = str(line) if type(line) is int else escape_property(str(line))
        column = str(column) if type(column) is int else escape_property(str(column))
        if "%" in message or "\r" in message or "\n" in message:
            message = escape_data(message)
        out.append(f"::{levels[severity]} file={shown_file},line={line},col={column},title={shown_rule}::{message}\n")
    return "".join(out)


def junit(findings: list[Finding], cases: dict[str, str], fail_on: str = "error",
          settings_file: str | None = None, served: list[Any] = (), views: Any = None) -> str:
    """JUnit XML: one testcase per account (cases: account id -> file, as shown), plus one for
    kam.yaml when it has findings; a <failure> per finding at or above fail_on, lower ones in
    <system-out>. Written as ElementTree.indent + tostring write it (Python 3.11), testcase by
    testcase, so a served account's testcase can come from the view cache."""
    threshold = Severity(fail_on).rank
    by_file: dict[str, list[Finding]] = {}
    for f in shown(findings):
        by_file.setdefault(f.file, []).append(f)
    parts = {visible(part.file, False): part for part in served}
    rows = list(cases.items())
    if settings_file and by_file.get(settings_file):
        rows.append((settings_file, settings_file))
    failures = 0
    testcases = []
    for name, file in rows:
        part = parts.get(file)
        if part is None:
            found = by_file.get(file, [])
            failures += sum(f.severity.rank >= threshold for f in found)
            testcases.append(_testcase(name, file, found, threshold))
            continue
        failures += sum(n for _, severity, n in part.tally if BY_VALUE[severity].rank >= threshold)
        testcases.append(_viewed(part, views, lambda p: _testcase(name, file, shown(p.findings()), threshold)))
    counts = f'tests="{len(rows)}" failures="{failures}"'
    suite = f'  <testsuite name="kamctl check" {counts} errors="0"'
    suite += ">\n" + "\n".join(testcases) + "\n  </testsuite>" if testcases else " />"
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kamctl" {counts}>\n{suite}\n</testsuites>\n'


def _testcase(name: str, file: str, findings: list[Finding], threshold: int) -> str:
    head = f'    <testcase name="{_attribute(name)}" classname="{_attribute(file)}" file="{_attribute(file)}"'
    if not findings:
        return head + " />"
    children, other = [], []
    for rule, severity, where, line, column, message, _ in findings:
        said = f"{where}:{line}:{column}: [{severity.value}] {rule} {message}"
        if severity.rank >= threshold:
            children.append(f'<failure type="{_attribute(rule)}" message="{_attribute(rule + " " + message)}">'
                            f"{_characters(said)}</failure>")
        else:
            other.append(said)
    if other:
        children.append(f"<system-out>{_characters(chr(10).join(other))}</system-out>")
    return head + ">\n      " + "\n      ".join(children) + "\n    </testcase>"


def _characters(text: str) -> str:
    """XML character data, escaped as ElementTree escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attribute(text: str) -> str:
    """An XML attribute value, escaped as ElementTree escapes it (line breaks and tabs as entities)."""
    text = _characters(text)
    for char, entity in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if char in text:
            text = text.replace(char, entity)
    return text


def render(fmt: str, findings: list[Finding], completeness: dict | None = None, fail_on: str = "error",
           accounts: dict[str, str] | None = None, settings_file: str | None = None,
           colour: bool = False, served: list[Any] = (), views: Any = None) -> str:
    """One entry point for `kamctl check`: fmt is one of FORMATS.

    served: accounts whose findings the check cache holds (kamctl.checks.incremental.Served, sorted
    by file; findings then holds the others, sorted, in other files). views: a kamctl.cache.ViewCache
    for this format, or None: a served account's part of the output is taken from it when there,
    else made and put in it."""
    n = len(accounts) if accounts is not None else None
    if completeness:
        completeness = {visible(k, False): v for k, v in completeness.items()}
    if accounts is not None:
        accounts = {visible(k, False): visible(v, False) for k, v in accounts.items()}
    if settings_file is not None:
        settings_file = visible(settings_file, False)
    if fmt == "text":
        return text(findings, completeness, fail_on, n, colour, served, views)
    if fmt == "parsable":
        return parsable(findings, served, views)
    if fmt == "json":
        return json(findings, completeness, fail_on, n, served, views)
    if fmt == "github":
        return github(findings, served, views)
    if fmt == "junit":
        return junit(findings, accounts or {}, fail_on, settings_file, served, views)
    raise ValueError(f"unknown format {fmt!r}")
