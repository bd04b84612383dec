"""`kamctl schema`: the JSON Schemas generated from the models, and the committed copies in schemas/."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import EXAMPLES, ROOT
from kamctl.model.schema import SCHEMA_FILES, generate
from kamctl.yamlio.read import read_file

COMMITTED = ROOT / "schemas"


def as_json(value):
    """What an editor's YAML language server hands the schema: dates are strings."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def validator(schema_text: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def errors(name: str, data, schemas: dict[str, str] | None = None) -> list[str]:
    v = validator((schemas or generate())[name])
    return [f"{list(e.absolute_path)}: {e.message}" for e in v.iter_errors(as_json(data))]


# --- the command ---------------------------------------------------------------------------------


def test_check_passes_on_the_committed_schemas(kamctl):
    result = kamctl("schema", "--check", "--out", COMMITTED)
    assert result.exit_code == 0, result
    assert "up to date" in result.stderr


def test_out_writes_both_files_matching_the_models(tmp_path, kamctl):
    out = tmp_path / "nested" / "schemas"
    result = kamctl("schema", "--out", out)
    assert result.exit_code == 0, result
    assert sorted(p.name for p in out.iterdir()) == sorted(SCHEMA_FILES)
    expected = generate()
    for name in SCHEMA_FILES:
        assert (out / name).read_text(encoding="utf-8") == expected[name]
        json.loads(expected[name])
    assert kamctl("schema", "--check", "--out", out).exit_code == 0


def test_default_out_is_schemas_under_the_current_folder_without_a_workspace(tmp_path, kamctl, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = kamctl("schema")
    assert result.exit_code == 0, result
    assert sorted(p.name for p in (tmp_path / "schemas").iterdir()) == sorted(SCHEMA_FILES)


def test_rewriting_up_to_date_schemas_touches_nothing(tmp_path, kamctl):
    out = tmp_path / "schemas"
    kamctl("schema", "--out", out)
    stamps = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}
    result = kamctl("schema", "--out", out)
    assert result.exit_code == 0
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()} == stamps


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_check_fails_on_a_stale_file_and_writes_nothing(tmp_path, kamctl, name):
    out = tmp_path / "schemas"
    shutil.copytree(COMMITTED, out)
    stale = json.loads((out / name).read_text(encoding="utf-8"))
    stale["title"] = "an older title"
    (out / name).write_text(json.dumps(stale, indent=2) + "\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    result = kamctl("schema", "--check", "--out", out)

    assert result.exit_code == 1, result
    assert name in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_check_fails_on_a_missing_file(tmp_path, kamctl, name):
    out = tmp_path / "schemas"
    shutil.copytree(COMMITTED, out)
    (out / name).unlink()

    result = kamctl("schema", "--check", "--out", out)

    assert result.exit_code == 1, result
    assert name in result.stderr
    assert not (out / name).exists()


def test_check_fails_on_a_missing_folder(tmp_path, kamctl):
    result = kamctl("schema", "--check", "--out", tmp_path / "nowhere")
    assert result.exit_code == 1, result
    assert not (tmp_path / "nowhere").exists()


def test_out_pointing_at_a_file_is_a_clean_error(tmp_path, kamctl):
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    result = kamctl("schema", "--out", blocker)
    assert result.exit_code == 2, result
    assert "Traceback" not in result.output
    assert blocker.read_text(encoding="utf-8") == "x"


def test_generation_is_deterministic():
    assert generate() == generate()


# --- what the schema accepts and rejects ---------------------------------------------------------


@pytest.fixture
def scaffolded(tmp_path, kamctl) -> Path:
    ws = tmp_path / "ws"
    assert kamctl("init", ws).exit_code == 0
    assert kamctl("new", "blank", "--name", "Blank Co", ws=ws).exit_code == 0
    return ws


def test_schema_accepts_the_scaffold_files(scaffolded):
    for file in sorted((scaffolded / "accounts").glob("*.yaml")):
        assert errors("account.schema.json", read_file(file).data) == [], file.name
    assert errors("kam.schema.json", read_file(scaffolded / "kam.yaml").data) == []


def test_schema_rejects_an_unknown_key(scaffolded):
    sample = next(p for p in (scaffolded / "accounts").glob("*.yaml") if p.stem != "blank")
    data = read_file(sample).data
    assert errors("account.schema.json", data) == []

    typo = json.loads(json.dumps(as_json(data)))
    typo["attractiveness"]["growth_potental"] = 6
    assert errors("account.schema.json", typo)

    top = json.loads(json.dumps(as_json(data)))
    top["nmae"] = "typo at the top"
    assert any("nmae" in e for e in errors("account.schema.json", top))


@pytest.mark.parametrize("change, ok", [
    (lambda d: d["attractiveness"].__setitem__("size", 7), True),
    (lambda d: d["attractiveness"].__setitem__("size", {"score": 7, "note": "evidence"}), True),
    (lambda d: d["attractiveness"].__setitem__("size", 11), False),
    (lambda d: d["attractiveness"].__setitem__("size", "high"), False),
    (lambda d: d["strategy"].__setitem__("barriers", None), True),  # `barriers:` left empty
    (lambda d: d["performance"]["sales"].append({"period": 2026}), True),
    (lambda d: d["performance"]["sales"].append({"period": "2026-Q3"}), True),
    (lambda d: d["performance"]["sales"].append({"period": "Q3"}), False),
    (lambda d: d["relationship"].__setitem__("loyalty", "undying"), False),
    (lambda d: d.pop("name"), False),
], ids=["bare-score", "score-and-note", "score-11", "score-text", "empty-list", "year-period",
        "quarter-period", "bad-period", "bad-choice", "no-name"])
def test_schema_agrees_with_the_models(scaffolded, change, ok):
    """The editor's schema accepts what `kamctl validate` accepts, and rejects what it rejects."""
    from kamctl.model.account import Account

    sample = next(p for p in (scaffolded / "accounts").glob("*.yaml") if p.stem != "blank")
    data = json.loads(json.dumps(as_json(read_file(sample).data)))
    change(data)
    schema_ok = not errors("account.schema.json", data)
    try:
        Account.model_validate(json.loads(json.dumps(data)))
        model_ok = True
    except Exception:
        model_ok = False
    assert (schema_ok, model_ok) == (ok, ok)


def test_every_example_validates_against_the_committed_schema():
    committed = {name: (COMMITTED / name).read_text(encoding="utf-8") for name in SCHEMA_FILES}
    files = sorted((EXAMPLES / "accounts").glob("*.yaml"))
    assert files
    for file in files:
        assert errors("account.schema.json", read_file(file).data, committed) == [], file.name
    assert errors("kam.schema.json", read_file(EXAMPLES / "kam.yaml").data or {}, committed) == []
