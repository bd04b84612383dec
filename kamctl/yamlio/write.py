"""Edit a person's YAML file and save it, keeping everything they wrote that the edit did not touch.

ruamel.yaml's round-trip mode keeps comments, key order and quoting, but re-emitting a document
can still normalise things a person chose (spacing after a colon, a `---` line, wrapping). So the
saved text is not ruamel's dump: it is the original text with only the lines that differ between
ruamel's dump before and after the edit replaced. Lines outside the edit are the person's bytes.
CRLF line endings and a UTF-8 BOM are kept. Writes are atomic (temp file in the same folder,
fsync, rename) and refused when the file changed on disk since it was read.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BOM = b"\xef\xbb\xbf"


class ConflictError(Exception):
    """The file changed on disk after kamctl read it; nothing was written."""


class EditError(Exception):
    """The file cannot be edited as asked (it does not parse round-trip)."""


@dataclass(frozen=True)
class Indent:
    mapping: int = 2
    sequence: int = 4
    offset: int = 2


def _content(line: str) -> str:
    """The line without a trailing comment (good enough for indentation guessing)."""
    stripped = line.rstrip()
    if stripped.lstrip().startswith("#"):
        return ""
    return stripped


def detect_indent(text: str) -> Indent:
    """The file's own mapping indent, sequence indent and dash offset (most common of each)."""
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    key_col: int | None = None  # column of the previous line's key when that line was `key:` alone
    for raw in text.splitlines():
        line = _content(raw)
        if not line:
            continue
        col = len(line) - len(line.lstrip(" "))
        body = line[col:]
        dash = body.startswith("- ")
        if key_col is not None:
            if dash and col >= key_col:
                gap = len(body) - len(body[1:].lstrip(" "))  # dash plus the spaces after it
                seqs[(col - key_col, col - key_col + gap)] += 1
            elif not dash and col > key_col:
                maps[col - key_col] += 1
        key_col = None
        if body.endswith(":") and ": " not in body and not body.startswith(("'", '"', "#")):
            key_col = col + (len(body) - len(body[1:].lstrip(" ")) if dash else 0)
    mapping = maps.most_common(1)[0][0] if maps else 2
    offset, sequence = seqs.most_common(1)[0][0] if seqs else (2, 4)
    return Indent(mapping, max(sequence, offset + 2), offset)


def _yaml(indent: Indent) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    return yaml


@dataclass
class RoundTrip:
    """A file opened for editing: `data` is ruamel's round-trip tree; edit it, then save()."""

    file: Path
    original: bytes
    text: str  # original text, BOM removed, CRLF as LF
    baseline: str  # ruamel's dump of the unedited document
    data: Any
    yaml: Any
    crlf: bool
    bom: bool

    def dump(self) -> str:
        stream = io.StringIO()
        self.yaml.dump(self.data, stream)
        return stream.getvalue()


def open_roundtrip(file: str | os.PathLike) -> RoundTrip:
    """Read a file for editing. Raises EditError when it is not a YAML mapping ruamel can keep."""
    path = Path(file)
    original = path.read_bytes()
    bom = original.startswith(_BOM)
    body = original[len(_BOM):] if bom else original
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"{path}: not UTF-8 text; re-save it as UTF-8") from exc
    crlf = "\r\n" in decoded
    text = decoded.replace("\r\n", "\n")
    yaml = _yaml(detect_indent(text))
    try:
        data = yaml.load(text)
        stream = io.StringIO()
        yaml.dump(data, stream)
    except Exception as exc:  # ruamel's parser and constructor errors
        raise EditError(f"{path}: cannot be edited safely: {str(exc).splitlines()[0]}; run `kamctl validate`") from exc
    return RoundTrip(path, original, text, stream.getvalue(), data, yaml, crlf, bom)


def patch_lines(original: str, before: str, after: str) -> str:
    """Apply the line changes before->after to original, where original ~ before line by line.

    original is the person's text, before is ruamel's re-dump of it, after is the dump with the edit.
    Lines of original that before reproduces are matched; each changed block of before is replaced
    in original. When a changed block touches a line with no match, the whole dump is used.
    """
    if before == original:
        return after
    o_lines = original.splitlines(keepends=True)
    b_lines = before.splitlines(keepends=True)
    a_lines = after.splitlines(keepends=True)
    to_orig: dict[int, int] = {}
    a_end = b_end = 0  # end of the previous matching block in before / original
    for block in difflib.SequenceMatcher(None, b_lines, o_lines, autojunk=False).get_matching_blocks():
        # A gap of the same length on both sides is the same lines written differently (extra
        # spaces after a colon, an escape ruamel re-spells): pair them one to one.
        if block.a - a_end == block.b - b_end:
            for k in range(block.a - a_end):
                to_orig[a_end + k] = b_end + k
        for k in range(block.size):
            to_orig[block.a + k] = block.b + k
        a_end, b_end = block.a + block.size, block.b + block.size
    out: list[str] = []
    cursor = 0  # next line of original not yet copied
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, b_lines, a_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:
            if any(i not in to_orig for i in range(i1, i2)):
                return after
            start, end = to_orig[i1], to_orig[i2 - 1] + 1
        else:  # pure insertion before line i1 of before
            if i1 in to_orig:
                start = to_orig[i1]
            elif i1 - 1 in to_orig or i1 == 0:
                start = to_orig[i1 - 1] + 1 if i1 else 0
            else:
                return after
            end = start
        if start < cursor:
            return after
        out.extend(o_lines[cursor:start])
        out.extend(a_lines[j1:j2])
        cursor = end
    out.extend(o_lines[cursor:])
    return "".join(out)


def render(rt: RoundTrip) -> bytes:
    """The bytes the file would have after the edit."""
    after = rt.dump()
    if after == rt.baseline:
        return rt.original
    original = rt.text
    unterminated = bool(original) and not original.endswith("\n")  # no newline at the end of the file
    text = patch_lines(original + "\n" if unterminated else original, rt.baseline, after)
    last = original.rsplit("\n", 1)[-1]
    if unterminated and text.endswith("\n" + last + "\n"):  # the edit left the last line alone
        text = text[:-1]
    if rt.crlf:
        text = text.replace("\n", "\r\n")
    return (_BOM if rt.bom else b"") + text.encode("utf-8")


def save(rt: RoundTrip) -> bool:
    """Write the edit atomically. Returns False when nothing changed (the file is not touched)."""
    new = render(rt)
    if new == rt.original:
        return False
    try:
        current = rt.file.read_bytes()
    except OSError as exc:
        raise ConflictError(f"{rt.file} can no longer be read ({exc.strerror}); nothing was written") from exc
    if current != rt.original:
        raise ConflictError(f"{rt.file} changed on disk after kamctl read it; nothing was written. "
                            "Run the command again on the new version.")
    atomic_write(rt.file, new)
    return True


def atomic_write(file: str | os.PathLike, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename over the target: a reader never sees half a file."""
    path = Path(file)
    mode = None
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
