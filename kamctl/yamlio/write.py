"""Edit a person's YAML file and save it, keeping everything they wrote that the edit did not touch.

ruamel.yaml's round-trip mode keeps comments, key order and quoting, but re-emitting a document
can still normalise things a person chose (spacing after a colon, a `---` line, wrapping). So the
saved text is not ruamel's dump: it is the original text with only the lines that differ between
ruamel's dump before and after the edit replaced. Lines outside the edit are the person's bytes.
CRLF line endings and a UTF-8 BOM are kept. Writes are atomic (temp file in the same folder,
fsync, rename) and refused when the file changed on disk since it was read. The file is read and
written through kamctl.fsafe from the workspace root: a regular file within MAX_BYTES, no symlink
on the way (an edit never writes through a link, nor into a folder a link leads to).

Edits of one folder's files are serialised with locked(): an flock on the folder itself, because
the rename replaces the file's inode (a lock on the file would be on the old one). An edit keeps
the file's mode and refuses a file we may not write; new files get the process umask. Nothing
edited is written as an anchor or alias: only nodes that had an anchor in the file keep one.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import fcntl
import io
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kamctl import fsafe
from kamctl.yamlio.read import MAX_BYTES, inside

_BOM = b"\xef\xbb\xbf"


class ConflictError(Exception):
    """The file changed on disk after kamctl read it; nothing was written."""


class EditError(Exception):
    """The file cannot be edited as asked (it does not parse round-trip)."""


class ReadOnlyError(EditError):
    """The file's mode says we may not write it; it is left as it is."""


class BusyError(ConflictError):
    """Another edit of the folder held the lock for longer than LOCK_TIMEOUT."""


LOCK_TIMEOUT = 10.0  # seconds an edit waits for another one before it is refused
_held: dict[str, list[int]] = {}  # folder -> [fd, depth]: locked() is re-entrant within a process


@contextlib.contextmanager
def locked(file: str | os.PathLike, timeout: float | None = None) -> Iterator[None]:
    """Hold the edit lock of file's folder: the read-modify-write of another kamctl waits, then re-reads."""
    folder = os.path.realpath(Path(file).parent)
    if folder in _held:
        _held[folder][1] += 1
        try:
            yield
        finally:
            _held[folder][1] -= 1
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(f"{file}: another edit of this folder is still running; nothing was changed. "
                                    "Run the command again when it has finished.") from None
                time.sleep(0.02)
        _held[folder] = [fd, 1]
        try:
            yield
        finally:
            del _held[folder]
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _may_write(st: os.stat_result) -> bool:
    """Whether the mode bits let us write (checked even for root: a 0444 file means 'leave me alone')."""
    if st.st_uid == os.geteuid():
        return bool(st.st_mode & stat.S_IWUSR)
    if st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        return bool(st.st_mode & stat.S_IWGRP)
    return bool(st.st_mode & stat.S_IWOTH)


def check_writable(dir_fd: int, name: str, shown: str | os.PathLike) -> None:
    """Refuse (ReadOnlyError) a file of an open folder whose mode does not let us write it."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not _may_write(st) or not os.access(name, os.W_OK, dir_fd=dir_fd, follow_symlinks=False):
        raise ReadOnlyError(f"{shown} is read-only (mode {stat.S_IMODE(st.st_mode):04o}); nothing was changed. "
                            "Make it writable (chmod u+w) to edit it.")


def _place(file: Path, root: str | os.PathLike | None) -> tuple[str, str, str]:
    """(root, folder inside root, file name): root None is the file's own folder."""
    if root is None:
        root = os.path.dirname(os.path.abspath(file))
    folder, name = os.path.split(inside(file, root))
    return os.fspath(root), folder, name


@contextlib.contextmanager
def _folder(file: Path, root: str | os.PathLike | None) -> Iterator[tuple[int, str]]:
    """The open folder of file (no symlink on the way from root) and the file's name in it."""
    top, folder, name = _place(file, root)
    fd = fsafe.open_dir(top, folder, follow=False)
    try:
        yield fd, name
    finally:
        os.close(fd)


def read_for_edit(file: str | os.PathLike, root: str | os.PathLike | None = None) -> bytes:
    """The file's bytes through fsafe: a regular file, no symlink, at most MAX_BYTES (UnsafePath else)."""
    with _folder(Path(file), root) as (fd, name):
        return fsafe.read_at(fd, name, MAX_BYTES)


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
    yaml.representer.ignore_aliases = _ignore_aliases
    yaml.representer.add_representer(str, _represent_str)
    return yaml


# Words a YAML 1.1 reader (PyYAML, yamllint's truthy rule, many editors' plugins) takes as a bool or
# null. kamctl reads YAML 1.2, where they are text; written by kamctl they are quoted, so every tool
# reads `compete: "yes"` as the answer it is.
_YAML11_WORDS = re.compile(r"(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
                           r"|null|Null|NULL|~)")


def _represent_str(representer: Any, data: str) -> Any:
    if _YAML11_WORDS.fullmatch(data):
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return type(representer).represent_str(representer, data)


def _ignore_aliases(data: Any) -> bool:
    """Alias only a node the person anchored; a value an edit writes twice is written twice."""
    anchor = getattr(data, "anchor", None)
    return getattr(anchor, "value", None) is None


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
    # When only part of the file is open (see open_roundtrip's window): `text` is `header` plus
    # that part, and the saved file is head + the edited part + tail.
    head: str = ""
    tail: str = ""
    header: str = ""
    root: str | os.PathLike | None = None  # the workspace: read and written through fsafe from here

    def dump(self) -> str:
        stream = io.StringIO()
        self.yaml.dump(self.data, stream)
        return stream.getvalue()


Window = Callable[[str], "tuple[str, int, int] | None"]


def open_roundtrip(file: str | os.PathLike, window: Window | None = None,
                   root: str | os.PathLike | None = None) -> RoundTrip:
    """Read a file for editing. Raises EditError when it is not a YAML mapping ruamel can keep.

    window(text) may name the only part an edit needs, as (key, start, end): text[start:end] holds
    whole lines, items of the top-level key. Then only `key:` plus that part goes through ruamel,
    which is the slow part of an edit (about 50 KB/s), so an edit's cost does not grow with the
    rest of the file. When the part does not parse on its own (an alias of an anchor outside it),
    the whole file is opened. root: the workspace (None: the file's folder); a file that is a link,
    not a regular file or too big is refused (fsafe.UnsafePath, an OSError).
    """
    path = Path(file)
    original = read_for_edit(path, root)
    bom = original.startswith(_BOM)
    body = original[len(_BOM):] if bom else original
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"{path}: not UTF-8 text; re-save it as UTF-8") from exc
    crlf = "\r\n" in decoded
    text = decoded.replace("\r\n", "\n")
    yaml = _yaml(detect_indent(text))
    part = window(text) if window is not None else None
    if part is not None:
        key, start, end = part
        header = f"{key}:\n"
        try:
            mini = header + text[start:end]
            data, baseline = _load(yaml, mini)
            return RoundTrip(path, original, mini, baseline, data, yaml, crlf, bom, text[:start], text[end:], header,
                             root)
        except Exception:  # noqa: BLE001 - the part needs the rest of the file: open all of it
            pass
    try:
        data, baseline = _load(yaml, text)
    except Exception as exc:  # ruamel's parser and constructor errors
        raise EditError(f"{path}: cannot be edited safely: {str(exc).splitlines()[0]}; run `kamctl validate`") from exc
    return RoundTrip(path, original, text, baseline, data, yaml, crlf, bom, root=root)


def _load(yaml: Any, text: str) -> tuple[Any, str]:
    """ruamel's round-trip tree of text and its dump before any edit."""
    data = yaml.load(text)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return data, stream.getvalue()


_HUNK_LINES = 2000  # a changed region up to this size is diffed line by line; larger ones are one hunk


def _common_ends(x: list[str], y: list[str], x0: int, x1: int, y0: int, y1: int) -> tuple[int, int]:
    """Lengths of the equal prefix and (non-overlapping) equal suffix of x[x0:x1] and y[y0:y1]."""
    p = 0
    while x0 + p < x1 and y0 + p < y1 and x[x0 + p] == y[y0 + p]:
        p += 1
    s = 0
    while x1 - s > x0 + p and y1 - s > y0 + p and x[x1 - s - 1] == y[y1 - s - 1]:
        s += 1
    return p, s


def _pair_gap(b: list[str], o: list[str], b0: int, b1: int, o0: int, o1: int, to_orig: dict[int, int]) -> None:
    """Map a gap between anchors: equal ends line by line, then a rest of the same length one to one
    (the same lines written differently: extra spaces after a colon, an escape ruamel re-spells)."""
    p, s = _common_ends(b, o, b0, b1, o0, o1)
    for k in range(p):
        to_orig[b0 + k] = o0 + k
    for k in range(1, s + 1):
        to_orig[b1 - k] = o1 - k
    b0, b1, o0, o1 = b0 + p, b1 - s, o0 + p, o1 - s
    if b1 - b0 == o1 - o0:
        for k in range(b1 - b0):
            to_orig[b0 + k] = o0 + k


def align(b: list[str], o: list[str]) -> dict[int, int]:
    """Map lines of ruamel's dump b to the person's lines o in O(n log n) (patience-style, no recursion).

    Lines that occur once on each side and keep their order (longest increasing run) are anchors;
    the gaps between them are paired by _pair_gap.
    """
    count_b = Counter(b)
    count_o = Counter(o)
    where_o = {line: j for j, line in enumerate(o) if count_o[line] == 1}
    pairs = [(i, where_o[line]) for i, line in enumerate(b) if count_b[line] == 1 and line in where_o]
    # longest increasing subsequence of the original positions (patience sorting)
    tails: list[int] = []  # original position ending the best run of each length
    tail_at: list[int] = []  # index into pairs of that end
    back: list[int] = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        back[n] = tail_at[k - 1] if k else -1
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k], tail_at[k] = j, n
    anchors: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        anchors.append(pairs[n])
        n = back[n]
    anchors.reverse()
    to_orig: dict[int, int] = {}
    b0 = o0 = 0
    for i, j in [*anchors, (len(b), len(o))]:
        _pair_gap(b, o, b0, i, o0, j, to_orig)
        if i < len(b):
            to_orig[i] = j
        b0, o0 = i + 1, j + 1
    return to_orig


def _opcodes(before: list[str], after: list[str]) -> list[tuple[str, int, int, int, int]]:
    """The changes before->after: the region between the equal first and last lines, diffed inside
    when it is small (one opportunity), so the cost stays linear in the file's size."""
    p, s = _common_ends(before, after, 0, len(before), 0, len(after))
    b1, a1 = len(before) - s, len(after) - s
    if (b1 - p) + (a1 - p) > _HUNK_LINES:
        return [("replace", p, b1, p, a1)]
    matcher = difflib.SequenceMatcher(None, before[p:b1], after[p:a1], autojunk=False)
    return [(tag, i1 + p, i2 + p, j1 + p, j2 + p) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def _bound(to_orig: dict[int, int], i: int, n_before: int, n_original: int) -> int | None:
    """The line of original where line i of before starts, from i's own match or the line before it
    (a line of before with no match, such as ruamel's `...` end marker, stands for nothing)."""
    if i in to_orig:
        return to_orig[i]
    if i == 0:
        return 0
    if i - 1 in to_orig:
        return to_orig[i - 1] + 1
    return n_original if i == n_before else None


def patch_lines(original: str, before: str, after: str) -> str:
    """Apply the line changes before->after to original, where original ~ before line by line.

    original is the person's text, before is ruamel's re-dump of it, after is the dump with the edit.
    Lines of original that before reproduces are matched; each changed block of before is replaced
    in original (a block whose lines have no match replaces the original lines between its matched
    neighbours). When a block's place in original is unknown, the whole dump is used.
    """
    if before == original:
        return after
    o_lines = original.splitlines(keepends=True)
    b_lines = before.splitlines(keepends=True)
    a_lines = after.splitlines(keepends=True)
    to_orig = align(b_lines, o_lines)
    out: list[str] = []
    cursor = 0  # next line of original not yet copied
    for tag, i1, i2, j1, j2 in _opcodes(b_lines, a_lines):
        if tag == "equal":
            continue
        start = _bound(to_orig, i1, len(b_lines), len(o_lines))
        end = to_orig[i2 - 1] + 1 if i1 < i2 and i2 - 1 in to_orig else _bound(to_orig, i2, len(b_lines), len(o_lines))
        if i1 == i2:  # pure insertion before line i1 of before
            end = start
        if start is None or end is None or end < start:
            return after
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
    if rt.header:
        if not text.startswith(rt.header):
            raise EditError(f"{rt.file}: the edit changed more than the part of the file it opened; nothing was written")
        text = rt.head + text[len(rt.header):] + rt.tail
    if rt.crlf:
        text = text.replace("\n", "\r\n")
    return (_BOM if rt.bom else b"") + text.encode("utf-8")


def save(rt: RoundTrip) -> bool:
    """Write the edit atomically. Returns False when nothing changed (the file is not touched)."""
    new = render(rt)
    if new == rt.original:
        return False
    with _folder(rt.file, rt.root) as (fd, name):
        try:
            current = fsafe.read_at(fd, name, MAX_BYTES)
        except OSError as exc:
            raise ConflictError(f"{rt.file} can no longer be read ({exc.strerror or exc}); nothing was written") from exc
        if current != rt.original:
            raise ConflictError(f"{rt.file} changed on disk after kamctl read it; nothing was written. "
                                "Run the command again on the new version.")
        check_writable(fd, name, rt.file)
        _write_at(fd, name, new)
    return True


def atomic_write(file: str | os.PathLike, data: bytes, root: str | os.PathLike | None = None) -> None:
    """Temp file in the same folder, fsync, rename over the target: a reader never sees half a file.

    Through fsafe: the folder is reached from root (None: the file's folder) without a symlink, and
    the rename replaces a link planted under the name, never follows it. A file that exists keeps
    its mode; a new one gets 0o666 less the umask (0644 under umask 022), like any file a person's
    tools create, so a shared folder or a docs site can read it.
    """
    with _folder(Path(file), root) as (fd, name):
        _write_at(fd, name, data)


def _write_at(dir_fd: int, name: str, data: bytes) -> None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None
    except FileNotFoundError:
        mode = None
    fsafe.write_file(dir_fd, name, data, keep_mode=mode, durable=True)
