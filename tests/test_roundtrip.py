"""Load + save keeps a person's file: byte-identical when nothing changed, only the edited lines otherwise.

tests/fixtures/roundtrip/ holds valid account files written in other styles than kamctl's own
(4-space mappings, flush sequences, flow style, CRLF, a BOM, comments everywhere, every quoting
style, a `---` line, extra spaces after colons, long lines, no final newline).
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES, FIXTURES
from kamctl.yamlio.read import parse_bytes
from kamctl.yamlio.write import ConflictError, EditError, detect_indent, open_roundtrip, render, save

ROUNDTRIP = FIXTURES / "roundtrip"


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _valid(path: Path) -> bool:
    return parse_bytes(path.read_bytes(), str(path)).ok


FIXTURE_FILES = _yaml_files(ROUNDTRIP)
EXAMPLE_FILES = [p for p in _yaml_files(EXAMPLES) if _valid(p)]


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    return dst


def _assert_noop_roundtrip(src: Path, tmp_path: Path) -> None:
    file = _copy(src, tmp_path)
    before = file.stat()
    rt = open_roundtrip(file)
    assert render(rt) == src.read_bytes()
    assert save(rt) is False
    after = file.stat()
    assert file.read_bytes() == src.read_bytes()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino), "the file was rewritten"
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]


def test_fixture_folder_covers_every_style():
    raw = {p.name: p.read_bytes() for p in FIXTURE_FILES}
    assert len(raw) >= 10
    everything = b"".join(raw.values())
    assert any(b"\r\n" in r for r in raw.values()), "a CRLF fixture"
    assert any(r.startswith(b"\xef\xbb\xbf") for r in raw.values()), "a BOM fixture"
    assert any(r.lstrip(b"\xef\xbb\xbf").startswith(b"---") for r in raw.values()), "a --- fixture"
    assert any(not r.endswith(b"\n") for r in raw.values()), "a fixture without a final newline"
    assert b"'" in everything and b'"' in everything and b": |" in everything and b": >" in everything
    assert any(max(len(line) for line in r.splitlines()) > 150 for r in raw.values()), "a long-lines fixture"
    indents = {detect_indent(r.decode("utf-8-sig").replace("\r\n", "\n")) for r in raw.values()}
    assert len({(i.mapping, i.offset) for i in indents}) >= 3, indents


@pytest.mark.parametrize("src", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixtures_are_valid_accounts(src):
    from kamctl.workspace import load_account

    loaded = load_account(src, src.parent)
    assert loaded.findings == [] and loaded.account is not None


@pytest.mark.parametrize("src", FIXTURE_FILES, ids=lambda p: p.name)
def test_noop_roundtrip_of_fixture_is_byte_identical_and_writes_nothing(src, tmp_path):
    _assert_noop_roundtrip(src, tmp_path)


@pytest.mark.parametrize("src", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_noop_roundtrip_of_example_is_byte_identical_and_writes_nothing(src, tmp_path):
    _assert_noop_roundtrip(src, tmp_path)


def test_noop_roundtrip_of_scaffolded_files(tmp_path, kamctl):
    ws = tmp_path / "ws"
    assert kamctl("init", ws).exit_code == 0
    assert kamctl("new", "acme", "--name", "Acme \"Quoted\" Co", ws=ws).exit_code == 0
    files = [ws / "kam.yaml", *sorted((ws / "accounts").glob("*.yaml"))]
    assert len(files) == 3
    for src in files:
        out = tmp_path / "out"
        out.mkdir()
        _assert_noop_roundtrip(src, out)
        shutil.rmtree(out)


# --- real edits change only what they must ------------------------------------------------------


def _changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """(removed, added) lines, each with its own line ending (a missing final newline is not a change)."""
    a, b = (t.decode("utf-8").splitlines(keepends=True) for t in (before, after))
    for lines in (a, b):
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\r\n" if lines[0].endswith("\r\n") else "\n"
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def _edit(file: Path, change) -> bytes:
    rt = open_roundtrip(file)
    change(rt.data)
    assert save(rt) is True
    return file.read_bytes()


@pytest.mark.parametrize("src", FIXTURE_FILES, ids=lambda p: p.name)
def test_changing_one_scalar_changes_only_its_line(src, tmp_path):
    file = _copy(src, tmp_path)
    original = file.read_bytes()

    new = _edit(file, lambda d: d.__setitem__("name", "Renamed Holdings"))

    removed, added = _changed_lines(original, new)
    assert len(removed) == 1 and len(added) == 1, (removed, added)
    assert "name:" in removed[0] and "Renamed Holdings" in added[0]
    eol = "\r\n" if b"\r\n" in original else "\n"
    assert added[0].endswith(eol) or not removed[0].endswith("\n")
    assert new.startswith(b"\xef\xbb\xbf") == original.startswith(b"\xef\xbb\xbf")
    if eol == "\r\n":
        assert new.count(b"\n") == new.count(b"\r\n")
    reread = parse_bytes(new, str(file))
    assert reread.ok and reread.data["name"] == "Renamed Holdings"
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name], "a temp file was left behind"


def _append_barrier(data) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    strategy = data.setdefault("strategy", CommentedMap())
    barriers = strategy.get("barriers")
    if barriers is None:
        strategy["barriers"] = CommentedSeq(["Budget freeze until Q3"])
    else:
        barriers.append("Budget freeze until Q3")


@pytest.mark.parametrize("src", FIXTURE_FILES, ids=lambda p: p.name)
def test_appending_to_a_list_only_adds_lines(src, tmp_path):
    file = _copy(src, tmp_path)
    original = file.read_bytes()
    before = parse_bytes(original, str(file)).data
    had_block_list = isinstance(before.get("strategy"), dict) and bool(before["strategy"].get("barriers"))

    new = _edit(file, _append_barrier)

    removed, added = _changed_lines(original, new)
    assert any("Budget freeze until Q3" in line for line in added)
    if had_block_list and b"barriers: [" not in original:
        assert removed == [] and len(added) == 1, (removed, added)
    else:  # a new key, or a flow list rewritten: still only the lines of that list
        assert all("barriers" in line for line in removed), removed
    after = parse_bytes(new, str(file)).data
    assert after["strategy"]["barriers"][-1] == "Budget freeze until Q3"
    assert {k: v for k, v in after.items() if k != "strategy"} == {k: v for k, v in before.items() if k != "strategy"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]


def test_edit_keeps_comments_quotes_and_file_indentation(tmp_path):
    file = _copy(ROUNDTRIP / "four-space.yaml", tmp_path)
    original = file.read_text(encoding="utf-8")

    def change(d):
        d["decision_makers"].append({"id": "new-person", "name": "New Person"})
        d["opportunities"][0]["history"].append({"stage": "decision", "date": "2026-03-01"})

    new = _edit(file, change).decode()

    removed, added = _changed_lines(original.encode(), new.encode())
    assert removed == []
    assert added == ["    - id: new-person\n", "      name: New Person\n",
                     "          - stage: decision\n", "            date: '2026-03-01'\n"]


def test_edit_next_to_comments_and_quotes_keeps_them(tmp_path):
    file = _copy(ROUNDTRIP / "comments-everywhere.yaml", tmp_path)
    original = file.read_text(encoding="utf-8")

    new = _edit(file, lambda d: d["owner"].__setitem__("role", "hunter")).decode()

    removed, added = _changed_lines(original.encode(), new.encode())
    assert removed == ["  role: farmer\n"] and added == ["  role: hunter\n"]
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#") or " # " in line]
    for line in comments:
        assert line in new.splitlines()

    qfile = _copy(ROUNDTRIP / "quotes.yaml", tmp_path)
    qoriginal = qfile.read_text(encoding="utf-8")
    qnew = _edit(qfile, lambda d: d["owner"].__setitem__("email", "zola@example.com")).decode()
    removed, added = _changed_lines(qoriginal.encode(), qnew.encode())
    assert removed == ["  email: 'emile@example.com'\n"]
    assert added == ["  email: 'zola@example.com'\n"], "the quoting style of the edited value is kept"


def test_edit_of_a_line_with_extra_spaces_leaves_its_neighbours_alone(tmp_path):
    file = _copy(ROUNDTRIP / "extra-spaces.yaml", tmp_path)
    original = file.read_bytes()
    new = _edit(file, lambda d: d["relationship"].__setitem__("loyalty", "high"))
    removed, added = _changed_lines(original, new)
    assert len(removed) == 1 and "loyalty" in removed[0]
    assert len(added) == 1 and "loyalty" in added[0] and "high" in added[0]


def test_edit_keeps_crlf_and_bom(tmp_path):
    file = _copy(ROUNDTRIP / "bom-crlf.yaml", tmp_path)
    original = file.read_bytes()
    assert original.startswith(b"\xef\xbb\xbf") and b"\r\n" in original
    new = _edit(file, lambda d: d["opportunities"][0].__setitem__("stage", "pursuit"))
    assert new.startswith(b"\xef\xbb\xbf") and not new[3:].startswith(b"\xef\xbb\xbf")
    assert new.count(b"\n") == new.count(b"\r\n")
    removed, added = _changed_lines(original[3:], new[3:])
    assert removed == ["    stage: decision\r\n"] and added == ["    stage: pursuit\r\n"]


def test_edit_of_file_without_final_newline(tmp_path):
    file = _copy(ROUNDTRIP / "no-final-newline.yaml", tmp_path)
    original = file.read_bytes()
    assert not original.endswith(b"\n")

    renamed = _edit(file, lambda d: d.__setitem__("name", "Renamed"))
    assert not renamed.endswith(b"\n"), "the untouched last line keeps having no newline"
    assert renamed.replace(b"Renamed", b"No Newline AG") == original

    appended = _edit(file, _append_barrier)
    last_two = appended.decode().splitlines()[-2:]
    assert last_two == ["    - One", "    - Budget freeze until Q3"]


def test_doc_start_line_is_kept_on_edit(tmp_path):
    file = _copy(ROUNDTRIP / "doc-start.yaml", tmp_path)
    new = _edit(file, lambda d: d.__setitem__("industry", "Broadcasting")).decode()
    assert new.startswith("---\n# A document start marker")


def test_long_lines_are_not_wrapped_on_edit(tmp_path):
    file = _copy(ROUNDTRIP / "long-lines.yaml", tmp_path)
    original = file.read_bytes()
    long = "x " * 200
    new = _edit(file, lambda d: d["strategy"].__setitem__("current_situation", long.strip()))
    removed, added = _changed_lines(original, new)
    assert len(removed) == 1 and len(added) == 1


# --- safety --------------------------------------------------------------------------------------


def test_save_refuses_when_the_file_changed_on_disk(tmp_path):
    file = _copy(ROUNDTRIP / "flush-sequences.yaml", tmp_path)
    rt = open_roundtrip(file)
    rt.data["name"] = "Our edit"
    theirs = file.read_bytes().replace(b"Flush Sequences plc", b"Their edit")
    file.write_bytes(theirs)

    with pytest.raises(ConflictError, match="changed on disk"):
        save(rt)

    assert file.read_bytes() == theirs, "their version is on disk"
    assert rt.data["name"] == "Our edit" and b"Our edit" in render(rt), "ours is still in memory"
    assert sorted(p.name for p in tmp_path.iterdir()) == [file.name]


def test_save_refuses_when_the_file_was_deleted(tmp_path):
    file = _copy(ROUNDTRIP / "flush-sequences.yaml", tmp_path)
    rt = open_roundtrip(file)
    rt.data["name"] = "Our edit"
    file.unlink()
    with pytest.raises(ConflictError):
        save(rt)
    assert not file.exists()


def test_atomic_save_replaces_the_file_and_leaves_no_temp_files(tmp_path):
    file = _copy(ROUNDTRIP / "quotes.yaml", tmp_path)
    os.chmod(file, 0o640)
    inode = file.stat().st_ino
    rt = open_roundtrip(file)
    rt.data["industry"] = "Wholesale"
    assert save(rt) is True
    assert sorted(p.name for p in tmp_path.iterdir()) == [file.name]
    assert file.stat().st_mode & 0o777 == 0o640, "permissions kept"
    assert file.stat().st_ino != inode, "written to a temp file and renamed over"


def test_failed_write_leaves_the_original_and_no_temp_file(tmp_path, monkeypatch):
    file = _copy(ROUNDTRIP / "quotes.yaml", tmp_path)
    original = file.read_bytes()
    rt = open_roundtrip(file)
    rt.data["industry"] = "Wholesale"

    def broken_replace(src, dst, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save(rt)
    assert file.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [file.name]


@pytest.mark.parametrize("raw", [b"name: [unclosed\n", b"name: A\nname: B\n", b"name: caf\xe9\n"],
                         ids=["malformed", "duplicate-key", "latin1"])
def test_open_roundtrip_refuses_files_it_cannot_keep(tmp_path, raw):
    file = tmp_path / "bad.yaml"
    file.write_bytes(raw)
    with pytest.raises(EditError):
        open_roundtrip(file)
    assert file.read_bytes() == raw


def test_words_a_yaml_1_1_reader_takes_as_bools_are_written_quoted(tmp_path):
    """`yes`, `no`, `on`, `off`, `null` ... are text to kamctl (YAML 1.2) but true/false/None to
    PyYAML and yamllint's truthy rule: kamctl writes them quoted, and leaves the person's own lines
    as they are."""
    import yaml

    from kamctl.yamlio import write

    f = tmp_path / "a.yaml"
    f.write_text("name: Acme\nanswer: yes   # theirs, untouched\n", encoding="utf-8")
    rt = write.open_roundtrip(f)
    for word in ("yes", "No", "on", "OFF", "null", "~", "y"):
        rt.data[f"w{len(rt.data)}"] = word
    rt.data["plain"] = "yesterday"
    write.save(rt)
    text = f.read_text(encoding="utf-8")
    assert text.startswith("name: Acme\nanswer: yes   # theirs, untouched\n")
    assert 'w2: "yes"\nw3: "No"\nw4: "on"\nw5: "OFF"\nw6: "null"\nw7: "~"\nw8: "y"\nplain: yesterday\n' in text
    assert yaml.safe_load(text)["w2"] == "yes"  # a YAML 1.1 reader now agrees
