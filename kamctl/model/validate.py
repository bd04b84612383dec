"""Validate plain data against a model and turn Pydantic errors into findings at YAML lines.

As rendercv maps Pydantic errors to ruamel's line info, kamctl maps each error's location to the
position table the reader built; a missing key points at its parent.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kamctl.findings import Finding, Severity
from kamctl.ids import MAX_ID_LENGTH, SLUG
from kamctl.yamlio.read import Document

M = TypeVar("M", bound=BaseModel)

_RANGE = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"}
_DATE = {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type",
         "datetime_parsing", "datetime_type"}
_CHOICE = {"literal_error", "enum"}


def model_at(model: Any, loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the last element of loc (for 'did you mean' suggestions)."""
    current: Any = model
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[-1] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            fld = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            current = fld.annotation if fld else None
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    """Strip Optional and Annotated down to the type that matters."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        else:
            return tp


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else ("a mapping" if isinstance(value, dict) else "a list")
    return text if len(text) <= 60 else text[:57] + "..."


def error_to_finding(model: type[BaseModel], doc: Document, err: dict) -> Finding:
    loc = tuple(err["loc"])
    kind = err["type"]
    line, col = doc.position(loc)
    where = _dotted(loc)
    if kind == "extra_forbidden":
        key = loc[-1]
        holder = model_at(model, loc)
        message = f"unknown key '{key}'"
        if holder is not None:
            names = _field_names(holder)
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
            parent = _dotted(loc[:-1])
            message += f" in {parent}" if loc[:-1] else ""
            message += f"; did you mean '{close[0]}'?" if close else f"; allowed here: {', '.join(names)}"
        return Finding("KAM101", Severity.error, doc.path, line, col, message)
    if kind == "missing":
        parent = _dotted(loc[:-1]) if loc[:-1] else "the top level"
        return Finding("KAM104", Severity.error, doc.path, line, col, f"missing key '{loc[-1]}' under {parent}")
    got = _describe(err.get("input"))
    if kind in _RANGE:
        return Finding("KAM103", Severity.error, doc.path, line, col, f"{where}: {err['msg'].lower()} (got {got})")
    if kind in _DATE:
        return Finding("KAM105", Severity.error, doc.path, line, col,
                       f"{where}: {got} is not a valid date; write YYYY-MM-DD")
    if kind in _CHOICE:
        expected = (err.get("ctx") or {}).get("expected", "")
        return Finding("KAM106", Severity.error, doc.path, line, col, f"{where}: {got} is not one of {expected}")
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        hint = (f"a lowercase id of letters, digits and dashes, at most {MAX_ID_LENGTH} characters"
                if pattern == SLUG else "a 3-letter currency code such as EUR" if "A-Z]{3}" in pattern
                else f"text matching {pattern}")
        return Finding("KAM108", Severity.error, doc.path, line, col, f"{where}: {got} should be {hint}")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        expected = model_at(model, loc + ("",))
        if expected is not None and expected.__name__ == "Factor":
            return Finding("KAM102", Severity.error, doc.path, line, col,
                           f"{where}: should be a number from 0 to 10, or {{score: N, note: ...}} (got {got})")
        return Finding("KAM102", Severity.error, doc.path, line, col,
                       f"{where}: should be a mapping of keys (got {got})")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return Finding("KAM102", Severity.error, doc.path, line, col, f"{where}: {err['msg'].lower()} (got {got})")
    return Finding("KAM108", Severity.error, doc.path, line, col, f"{where}: {err['msg']}")


def validate(model: type[M], doc: Document) -> tuple[M | None, list[Finding]]:
    """Validate doc.data against model; all errors come back as findings, sorted by line."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        findings = [error_to_finding(model, doc, e) for e in exc.errors(include_url=False)]
        findings.sort(key=lambda f: (f.line, f.column))
        return None, findings


def duplicate_ids(doc: Document, lists: tuple[str, ...]) -> list[Finding]:
    """Two items in one list with the same id (KAM107)."""
    findings = []
    data = doc.data if isinstance(doc.data, dict) else {}
    for name in lists:
        items = data.get(name)
        if not isinstance(items, list):
            continue
        seen: dict[Any, int] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict) or item.get("id") is None:
                continue
            ident = item["id"]
            if ident in seen:
                line, col = doc.position((name, i, "id"))
                first = doc.position((name, seen[ident], "id"))[0]
                findings.append(Finding("KAM107", Severity.error, doc.path, line, col,
                                        f"{name}[{i}]: id '{ident}' is already used at line {first}"))
            else:
                seen[ident] = i
    return findings
