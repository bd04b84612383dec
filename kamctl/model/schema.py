"""JSON Schemas generated from the models: what editors and `kamctl schema` use.

Pydantic's schema describes what a model *outputs*; a person's file may use the shorthands the
models accept before validation, so the generated schema is widened to match:
- a factor may be a bare number 0-10 (`size: 7`) as well as `{score, note}`;
- a list or section with a default may be left empty (`barriers:` with nothing after it);
- a sales period may be a bare year (`period: 2026`).
"""

from __future__ import annotations

import json
from typing import Any

from kamctl.model.account import Account
from kamctl.model.settings import Settings

SCHEMA_FILES = ("account.schema.json", "kam.schema.json")


def _models(root: Any) -> dict[str, Any]:
    """Every model class reachable from root, by name (the keys pydantic uses in $defs)."""
    import typing

    from pydantic import BaseModel

    found: dict[str, Any] = {}
    todo = [root]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                continue
            found[tp.__name__] = tp
            todo.extend(f.annotation for f in tp.model_fields.values())
        else:
            todo.extend(typing.get_args(tp))
    return found


def _allow_null(prop: dict) -> dict:
    if prop.get("type") == "null" or any(p.get("type") == "null" for p in prop.get("anyOf", ())):
        return prop
    meta = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
    return {"anyOf": [prop, {"type": "null"}], **meta}


def _widen(schema: dict, root: Any) -> dict:
    defs = schema.get("$defs", {})
    models = _models(root)
    for name, model in models.items():
        target = schema if model is root else defs.get(name)
        if not target:
            continue
        props = target.get("properties", {})
        for field_name, info in model.model_fields.items():
            key = info.alias or field_name
            if info.default_factory is not None and key in props:
                props[key] = _allow_null(props[key])
    factor = defs.get("Factor")
    if factor is not None:
        defs["Factor"] = {
            "title": factor.get("title", "Factor"),
            "description": "A score from 0 to 10 (higher is better for us), or {score, note}.",
            "anyOf": [{"type": "number", "minimum": 0, "maximum": 10}, factor],
        }
    period = defs.get("SalesPeriod", {}).get("properties", {}).get("period")
    if period is not None:
        meta = {k: period.pop(k) for k in ("title", "description") if k in period}
        defs["SalesPeriod"]["properties"]["period"] = {
            "anyOf": [{"type": "integer", "minimum": 1000, "maximum": 9999}, period], **meta}
    return schema


def generate() -> dict[str, str]:
    """File name -> JSON text, deterministic (sorted keys are not used: field order is the file order)."""

    out = {}
    for name, model, title in (("account.schema.json", Account, "kamctl account file"),
                               ("kam.schema.json", Settings, "kamctl workspace settings (kam.yaml)")):
        schema = _widen(model.model_json_schema(mode="validation"), model)
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
                  **{k: v for k, v in schema.items() if k != "title"}}
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out
