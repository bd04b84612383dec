"""Edits never lose anything: concurrent edits, file modes, no new aliases, blank lines, edit locality."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import folder_locked, make_workspace

KAMCTL = Path(sys.executable).with_name("kamctl")

ACCOUNT = """\
# Acme: key account plan
name: Acme
opportunities:
  - id: film
    title: Film for the ready-meal range
    stage: decision
    history:
      - {stage: identification, date: 2026-01-05}
      - {stage: decision, date: 2026-02-01}

# closing comment
"""


def _anchors(text: str) -> int:
    """Anchors and aliases in the text, counted by the YAML parser (not by looking for & and *)."""
    return sum(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) is not None for e in yaml.parse(text))


# --- concurrent edits ----------------------------------------------------------------------------


def test_concurrent_adds_never_lose_one(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    target = ws / "accounts" / "acme.yaml"
    for round_ in range(20):
        target.write_text(ACCOUNT, encoding="utf-8")
        procs = {name: subprocess.Popen([str(KAMCTL), "-w", str(ws), "opp", "add", "acme", "--title", name,
                                         "--id", name, "--date", "2026-03-01"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name in (f"a-{round_}", f"b-{round_}")}
        results = {name: (p.wait(timeout=120), p.stderr.read()) for name, p in procs.items()}
        ids = [o["id"] for o in yaml.safe_load(target.read_text(encoding="utf-8"))["opportunities"]]
        for name, (code, err) in results.items():
            if code == 0:
                assert name in ids, f"round {round_}: {name} exited 0 but is missing: {ids}"
            else:
                assert code == 1 and "nothing was changed" in err, (round_, code, err)
        assert ids[0] == "film" and len(ids) == 1 + sum(code == 0 for code, _ in results.values())


def test_edit_waits_for_the_lock_then_refuses(tmp_path, kamctl, monkeypatch):
    from kamctl.yamlio import write

    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    target = ws / "accounts" / "acme.yaml"
    with folder_locked(target.parent):
        monkeypatch.setattr(write, "LOCK_TIMEOUT", 0.3)
        result = kamctl("opp", "add", "acme", "--title", "New", "--date", "2026-03-01", ws=ws)
        assert result.exit_code == 1, result
        assert "another edit of this folder is still running; nothing was changed" in result.stderr
        assert target.read_text(encoding="utf-8") == ACCOUNT
        with pytest.raises(write.BusyError):
            with write.locked(target, timeout=0.1):
                pass
    result = kamctl("opp", "add", "acme", "--title", "New", "--date", "2026-03-01", ws=ws)
    assert result.exit_code == 0, result


def test_add_refuses_an_id_added_since_the_file_was_read(tmp_path):
    from kamctl import edits

    file = make_workspace(tmp_path / "ws", {"acme": ACCOUNT}) / "accounts" / "acme.yaml"
    with pytest.raises(edits.write.EditError, match="already has an opportunity 'film'"):
        edits.add_opportunity(file, {"id": "film", "title": "Again", "stage": "identification"},
                              {"stage": "identification", "date": dt.date(2026, 3, 1)})
    assert file.read_text(encoding="utf-8") == ACCOUNT


# --- modes -----------------------------------------------------------------------------------------


def test_read_only_file_is_refused_and_untouched(tmp_path, kamctl):
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    target = ws / "accounts" / "acme.yaml"
    target.chmod(0o444)
    before = target.read_bytes()
    result = kamctl("opp", "add", "acme", "--title", "New", "--date", "2026-03-01", ws=ws)
    assert result.exit_code == 1, result
    assert "is read-only (mode 0444); nothing was changed" in result.stderr and "chmod u+w" in result.stderr
    assert target.read_bytes() == before
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert not list(target.parent.glob(".*tmp")) and not list(target.parent.glob("*.kamctl-new"))


def test_edit_keeps_the_file_mode(tmp_path, kamctl):
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    target = ws / "accounts" / "acme.yaml"
    target.chmod(0o640)
    result = kamctl("opp", "decide", "acme", "film", "go", "--reason", "Fits", "--date", "2026-03-01", ws=ws)
    assert result.exit_code == 0, result
    assert "stage: pursuit" in target.read_text(encoding="utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_files_follow_the_umask(tmp_path):
    ws = tmp_path / "ws"
    script = (f"umask 022; {KAMCTL} init {ws} && {KAMCTL} -w {ws} new beta --name Beta "
              f"&& {KAMCTL} -w {ws} render plan beta --out {ws / 'out'}")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = [ws / "kam.yaml", ws / "accounts" / "beta.yaml", ws / "accounts" / "northwind-foods.yaml",
             ws / "out" / "beta-plan.md", *sorted((ws / "schemas").iterdir())]
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {f.name: "0o644" for f in files}


def test_side_file_of_a_conflict_follows_the_umask(tmp_path):
    from kamctl.yamlio import write

    old = os.umask(0o027)
    try:
        write.atomic_write(tmp_path / "x.yaml.kamctl-new", b"a: 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.yaml.kamctl-new").stat().st_mode) == 0o640


# --- what the edit writes ---------------------------------------------------------------------------


def test_decide_writes_no_anchor_or_alias(tmp_path, kamctl):
    ws = make_workspace(tmp_path / "ws", {"acme": ACCOUNT})
    target = ws / "accounts" / "acme.yaml"
    result = kamctl("opp", "decide", "acme", "film", "go", "--reason", "Fits", "--date", "2026-12-01", ws=ws)
    assert result.exit_code == 0, result
    text = target.read_text(encoding="utf-8")
    assert _anchors(text) == 0 and "&id" not in text and "*id" not in text
    assert text.count("2026-12-01") == 2


def test_anchors_the_person_wrote_stay(tmp_path, kamctl):
    text = ACCOUNT.replace("name: Acme\n", "name: &n Acme\nhunted_by: *n\n")
    ws = make_workspace(tmp_path / "ws", {"acme": text})
    result = kamctl("opp", "decide", "acme", "film", "go", "--reason", "Fits", "--date", "2026-12-01", ws=ws)
    assert result.exit_code == 0, result
    after = (ws / "accounts" / "acme.yaml").read_text(encoding="utf-8")
    assert "name: &n Acme\nhunted_by: *n\n" in after and _anchors(after) == 2


def test_blank_line_after_a_block_scalar_stays(tmp_path, kamctl):
    text = ACCOUNT.replace("    stage: decision\n", "    stage: decision\n    notes: |\n      two\n      lines\n\n")
    text = text.replace("\n# closing comment\n", "  - id: box\n    title: Box\n    stage: identification\n"
                                                  "    notes: |\n      some text\n\n# closing comment\n")
    ws = make_workspace(tmp_path / "ws", {"acme": text})
    result = kamctl("opp", "add", "acme", "--title", "New", "--date", "2026-03-01", ws=ws)
    assert result.exit_code == 0, result
    added = "  - id: new\n    title: New\n    stage: identification\n    history:\n" \
            "      - {stage: identification, date: 2026-03-01}\n"
    assert (ws / "accounts" / "acme.yaml").read_text(encoding="utf-8") == \
        text.replace("      some text\n\n", "      some text\n" + added + "\n")


def test_patch_is_linear_in_the_file_size():
    """30,000 look-alike lines the dump writes differently (one space after the colon), one insertion:
    the old line diff took minutes on this, the linear patch well under a second."""
    from kamctl.yamlio.write import patch_lines

    original = "".join(f"- {{stage: s{i % 3}, date:  2026-01-0{i % 9 + 1}}}\n" for i in range(30_000))
    before = original.replace(":  ", ": ")
    middle = before.index("\n", len(before) // 2) + 1
    after = before[:middle] + "new: 1\n" + before[middle:]
    started = time.perf_counter()
    patched = patch_lines(original, before, after)
    assert time.perf_counter() - started < 5
    assert patched.count("new: 1") == 1 and patched.replace("new: 1\n", "") == original
    assert patched.splitlines()[before[:middle].count("\n")] == "new: 1"


# --- property: an edit changes only the node it edits ----------------------------------------------

STYLES = st.sampled_from(["|", ">", "|-", ">+"])


@st.composite
def account_files(draw):
    """(text, items): a hand-written-looking account; items[i] = (first line, line after) of opportunity i,
    the last one running to the end of the list (its closing comments included)."""
    lines = ["# header comment"] if draw(st.booleans()) else []
    lines.append("name: &acct Acme" if draw(st.booleans()) else "name: Acme")
    if draw(st.booleans()):
        lines += [f"notes: {draw(STYLES)}", "  first line", "  second line"] + ([""] if draw(st.booleans()) else [])
    if draw(st.booleans()):
        lines.append("revenue: {current: 100, potential: 200}  # flow map")
    lines.append("opportunities:")
    items = []
    n = draw(st.integers(1, 4))
    for i in range(n):
        start = len(lines)
        lines += [f"  - id: o{i}", f"    title: 'Title {i}'" if draw(st.booleans()) else f"    title: Title {i}"]
        if draw(st.booleans()):
            lines.append("    stage: identification")
        if draw(st.booleans()):
            lines += [f"    vision: {draw(STYLES)}", "      what they want"] + ([""] if draw(st.booleans()) else [])
        if draw(st.booleans()):
            lines.append("    # a comment inside the item")
        if i == 0 and draw(st.booleans()):
            lines.append("    dormant_problem: &dp the problem")
        if i == n - 1 and n > 1 and lines[items[0][0]:].count("    dormant_problem: &dp the problem") and draw(st.booleans()):
            lines.append("    notes: *dp")
        if draw(st.booleans()):
            lines.append("    history:")
            if draw(st.booleans()):
                lines.append("      - {stage: identification, date: 2026-01-05}")
            else:
                lines += ["      - stage: identification", "        date: 2026-01-05"]
        if i < n - 1 and draw(st.booleans()):
            lines.append("")
        items.append([start, None])
    for k in range(n - 1):
        items[k][1] = items[k + 1][0]
    if draw(st.booleans()):
        lines += ["", "# closing the list"]
    items[-1][1] = len(lines)
    if draw(st.booleans()):
        lines += ["interactions: []", "five_forces: {rivalry: {rating: low}}"]
    return "\n".join(lines) + "\n", [tuple(x) for x in items]


EDITS = st.sampled_from(["add", "advance", "decide"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(account_files(), EDITS, st.data())
def test_edit_changes_only_the_edited_node(tmp_path, file_and_items, edit, data):
    from kamctl import edits
    from kamctl.model.account import Stage
    from kamctl.pipeline import Change

    text, items = file_and_items
    file = tmp_path / "acme.yaml"
    file.write_text(text, encoding="utf-8")
    day = dt.date(2026, 6, 1)
    if edit == "add":
        edits.add_opportunity(file, {"id": "fresh", "title": "Fresh", "stage": "identification"},
                              {"stage": "identification", "date": day})
        first, end = items[-1][0], items[-1][1]
    else:
        index = data.draw(st.integers(0, len(items) - 1))
        if edit == "advance":
            change = Change(Stage("qualification"), {"stage": "qualification", "date": day})
        else:
            change = Change(Stage("pursuit"), {"stage": "pursuit", "date": day, "decision": "go", "reason": "Fits"},
                            {"decision": "go", "reason": "Fits", "date": day})
        edits.apply_change(file, f"o{index}", change)
        first, end = items[index]
    after = file.read_text(encoding="utf-8")
    parsed = yaml.safe_load(after)
    assert _anchors(after) == _anchors(text)
    old, new = text.splitlines(keepends=True), after.splitlines(keepends=True)
    tail = len(old) - end
    assert new[:first] == old[:first] and new[len(new) - tail:] == old[end:], after
    opps = {o["id"]: o for o in parsed["opportunities"]}
    if edit == "add":
        assert opps["fresh"]["history"] == [{"stage": "identification", "date": day}]
        assert list(opps)[-1] == "fresh"
    else:
        assert opps[f"o{index}"]["stage"] == change.stage.value
        assert opps[f"o{index}"]["history"][-1]["date"] == day
    # nothing the person wrote in the edited node is lost either
    kept = [line for line in old[first:end] if not line.startswith("    stage:")]
    assert all(line in new[first:len(new) - tail] for line in kept), after
