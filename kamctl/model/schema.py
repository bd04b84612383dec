"""JSON Schemas generated from the models: what editors and `kamctl schema` use."""

from __future__ import annotations

import json

SCHEMA_FILES = ("account.schema.json", "kam.schema.json")


def generate() -> dict[str, str]:
    """File name -> JSON text, deterministic (sorted keys are not used: field order is the file order)."""
    from kamctl.model.account import Account
    from kamctl.model.settings import Settings

    out = {}
    for name, model, title in (("account.schema.json", Account, "kamctl account file"),
                               ("kam.schema.json", Settings, "kamctl workspace settings (kam.yaml)")):
        schema = model.model_json_schema(mode="validation")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
                  **{k: v for k, v in schema.items() if k != "title"}}
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out
