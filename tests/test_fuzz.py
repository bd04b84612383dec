"""Hypothesis properties: generated accounts read the same on both paths, edits stay inside the edited
node, and random byte mutations of real files never produce a traceback. Bounded (max_examples,
deadline=None) so CI stays fast."""

from __future__ import annotations

import datetime as dt
import difflib
import importlib.util
import io
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kamctl.model.account import Account
from kamctl.workspace import load_account
from kamctl.yamlio import read
from kamctl.yamlio.read import parse_text

ROOT = Path(__file__).resolve().parent.parent
KAMCTL = Path(sys.executable).with_name("kamctl")
_spec = importlib.util.spec_from_file_location("kam_bench_generate", ROOT / "benchmarks" / "generate.py")
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

needs_c = pytest.mark.skipif(not read.c_parser_available(), reason="PyYAML's libyaml CParser is not installed")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
seeds = st.integers(min_value=0, max_value=2**32 - 1)
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip)


def ruamel_dump(data: dict) -> str:
    from ruamel.yaml import YAML

    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.dump(data, out)
    return out.getvalue()


def read_both(text: str):
    docs = [parse_text(text, "gen.yaml", p) for p in ("c", "pure")]
    assert docs[0].positions == docs[1].positions
    assert [(f.rule, f.line, f.column) for f in docs[0].findings] == [(f.rule, f.line, f.column) for f in docs[1].findings]
    return docs


@needs_c
@FUZZ
@given(seeds, free_text, free_text, st.booleans())
def test_generated_accounts_dump_load_validate_the_same_on_both_paths(seed, name, note, commented):
    rng = random.Random(seed)
    data = generate.account_data(rng, name)
    data["notes"] = note
    expected = Account.model_validate(data)
    text = generate.account_text({**data, "name": "Generated", "notes": "n"}, rng) if commented else ruamel_dump(data)
    for doc in read_both(text):
        assert not doc.findings, doc.findings
        model = Account.model_validate(doc.data)
        if commented:
            assert model.model_copy(update={"name": name, "notes": note}) == expected
        else:
            assert model == expected


# --- edits stay inside the edited node ---------------------------------------------------------------


def _span(doc, loc: tuple, lines: list[str]) -> tuple[int, int]:
    """0-based [start, end) of the lines holding loc's node (trailing blank and comment lines excluded)."""
    start = doc.positions[loc][0] - 1
    parent, index = loc[:-1], loc[-1]
    siblings = [doc.positions[parent + (i,)][0] - 1 for i in range(index + 1, index + 2) if parent + (i,) in doc.positions]
    if siblings:
        end = siblings[0]
    else:  # the last item: up to the next top-level key
        later = [doc.positions[(k,)][0] - 1 for k in doc.data if doc.positions[(k,)][0] - 1 > start]
        end = min(later) if later else len(lines)
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end


def _changes(before: str, after: str) -> list[tuple]:
    b, a = before.splitlines(), after.splitlines()
    return [op for op in difflib.SequenceMatcher(None, b, a, autojunk=False).get_opcodes() if op[0] != "equal"]


from kamctl import edits as edits_module  # noqa: E402


@needs_c
@FUZZ
@given(seeds, st.integers(min_value=0, max_value=5), st.sampled_from(["advance", "decide", "add"]))
def test_generated_edits_change_only_the_edited_opportunity(tmp_path_factory, seed, pick, kind):
    from kamctl import pipeline

    rng = random.Random(seed)
    data = generate.account_data(rng, "Edited")
    text = generate.account_text(data, rng)
    folder = tmp_path_factory.mktemp("edit")
    file = folder / "edited.yaml"
    file.write_text(text, encoding="utf-8")
    doc = parse_text(text, str(file))
    model = Account.model_validate(doc.data)
    lines = text.splitlines()
    today = dt.date(2026, 11, 27)
    if kind == "add":
        last = len(model.opportunities) - 1
        start, end = _span(doc, ("opportunities", last), lines)
        entry = {"stage": "identification", "date": today}
        assert edits_module.add_opportunity(file, {"id": "new-opp", "title": "A new opportunity"}, entry)
        after = file.read_text(encoding="utf-8")
        for tag, i1, i2, _, _ in _changes(text, after):
            assert tag == "insert" and i1 == end, (tag, i1, i2, end)
    else:
        index = pick % len(model.opportunities)
        opp = model.opportunities[index]
        try:
            if kind == "decide":
                change = pipeline.plan_decide(opp, "go", "fuzzed reason", today)
            else:
                change = pipeline.plan_advance(opp, today)
        except pipeline.Refused:
            assume(False)
        start, end = _span(doc, ("opportunities", index), lines)
        assert edits_module.apply_change(file, opp.id, change)
        after = file.read_text(encoding="utf-8")
        changes = _changes(text, after)
        assert changes
        for tag, i1, i2, _, _ in changes:
            assert start <= i1 <= i2 <= end, (tag, i1, i2, start, end)
    reread = parse_text(after, str(file))
    assert not reread.findings
    new = Account.model_validate(reread.data)
    others = [o for o in new.opportunities if o.id != "new-opp"]
    assert len(others) == len(model.opportunities)
    for old, now in zip(model.opportunities, others):
        if kind == "add" or old.id != model.opportunities[pick % len(model.opportunities)].id:
            assert old == now
    assert new.model_copy(update={"opportunities": []}) == model.model_copy(update={"opportunities": []})


@FUZZ
@given(seeds, st.integers(min_value=0, max_value=3))
def test_edit_of_one_value_through_the_writer_changes_one_line(tmp_path_factory, seed, which):
    """Without kamctl.edits: change one scalar with yamlio.write; exactly that line changes."""
    from kamctl.yamlio import write

    rng = random.Random(seed)
    text = generate.account_text(generate.account_data(rng, "Edited"), rng)
    file = tmp_path_factory.mktemp("w") / "w.yaml"
    file.write_text(text, encoding="utf-8")
    doc = parse_text(text, str(file))
    loc = [("industry",), ("relative_strength", "price"), ("plan", "year"), ("owner", "name")][which]
    rt = write.open_roundtrip(file)
    node = rt.data
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = 2027 if loc[-1] == "year" else ((node["price"] + 1) % 10 if loc[-1] == "price" else "Changed Value")
    assert write.save(rt)
    line = doc.positions[loc][0] - 1
    for tag, i1, i2, j1, j2 in _changes(text, file.read_text(encoding="utf-8")):
        assert (tag, i1, i2) == ("replace", line, line + 1)


# --- random byte mutations of real files ---------------------------------------------------------------

SOURCES = sorted([*ROOT.joinpath("examples", "accounts").glob("*.yaml"), *ROOT.joinpath("tests", "fixtures").rglob("*.yaml"),
                  ROOT / "templates" / "scaffold" / "sample-account.yaml"])
mutation = st.tuples(st.sampled_from(["flip", "insert", "delete", "dup"]), st.floats(0, 1),
                     st.binary(min_size=1, max_size=4) | st.sampled_from([b"\t", b"\r", b":", b"- ", b"&a", b"*a",
                                                                         b"!!python/object ", b"\xff", b"\x00", b"{", b"[",
                                                                         b"'", b'"', b"\n  ", b"<<: ", b"---\n"]))


def mutate(raw: bytes, ops) -> bytes:
    data = bytearray(raw)
    for op, where, payload in ops:
        i = int(where * len(data))
        if op == "flip" and data:
            data[min(i, len(data) - 1)] ^= payload[0] or 1
        elif op == "insert":
            data[i:i] = payload
        elif op == "delete":
            del data[i:i + len(payload)]
        elif op == "dup":
            data[i:i] = data[max(0, i - 40):i]
    return bytes(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SOURCES) if SOURCES else st.nothing(), st.lists(mutation, min_size=1, max_size=6))
def test_byte_mutations_never_raise(tmp_path_factory, source, ops):
    folder = tmp_path_factory.mktemp("m")
    (folder / "accounts").mkdir()
    file = folder / "accounts" / "mutated.yaml"
    file.write_bytes(mutate(source.read_bytes(), ops))
    for parser in ("c", "pure") if read.c_parser_available() else ("pure",):
        loaded = load_account(file, folder, parser)  # must not raise
        assert loaded.ok == (not loaded.findings)
        for f in loaded.findings:
            assert f.file == loaded.path and f.line >= 1 and f.column >= 1 and f.rule.startswith("KAM")


@pytest.mark.slow
def test_cli_validate_on_mutated_files_never_tracebacks(tmp_path):
    assert SOURCES, "examples/ has no account files"
    rng = random.Random(20261127)
    (tmp_path / "kam.yaml").write_text("")
    (tmp_path / "accounts").mkdir()
    for i in range(8):
        raw = rng.choice(SOURCES).read_bytes()
        ops = [(rng.choice(["flip", "insert", "delete", "dup"]), rng.random(), bytes([rng.randrange(256)]))
               for _ in range(rng.randint(1, 5))]
        (tmp_path / "accounts" / f"m{i}.yaml").write_bytes(mutate(raw, ops))
    for flag in ([], ["--no-cache"]):
        r = subprocess.run([str(KAMCTL), "-w", str(tmp_path), *flag, "validate"], capture_output=True, text=True,
                           errors="replace", timeout=120)
        assert r.returncode in (0, 1), r.stderr[-2000:]
        assert "Traceback" not in r.stderr + r.stdout
