"""The only way to open a workspace file: every file in a workspace is untrusted.

A workspace may come from a fork's pull request, so any name in it may be a symlink out of it, a
FIFO (a read never ends), a device (/dev/zero never ends) or a file that grows while read. Paths
are therefore never checked and then opened by name (a link swapped in between wins the race):
each component is opened from a descriptor of the workspace root with O_NOFOLLOW, a symlink is
read and its target walked the same way (refused when it leaves the workspace, or with
``follow=False``), the OPEN descriptor is fstat'ed (regular file, real directory), and the size
limit is enforced while reading. Writes go to an unpredictable name created exclusively
(O_CREAT|O_EXCL|O_NOFOLLOW, mode 0o666 & ~umask) in a real directory, then renamed over the target
(a rename replaces a planted link, never follows it).

A leaf: imports no kamctl module. Errors are OSError subclasses, so callers that already treat
an unreadable file as "cannot read" keep doing so.

API: read_bytes(root, relpath, limit), read_at(dir_fd, name, limit), open_file(root, relpath),
open_dir(root, relpath, create=False, follow=True), write_file(dir_fd, name, data, replace=True),
relative(root, path); errors UnsafePath > Outside, NotRegular, TooLarge.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_READ = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC
_DIR = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_DIRECTORY | _O_CLOEXEC
MAX_LINKS = 40  # as the kernel's own limit: a loop of links ends here


class UnsafePath(OSError):
    """kamctl refuses this workspace path (it leaves the workspace, is not a regular file, is too big)."""


class Outside(UnsafePath):
    """A symlink (or ..) that leads outside the workspace, or any link where links are not followed."""


class NotRegular(UnsafePath):
    """A folder, FIFO, device or socket where a file was expected (or a file where a folder was)."""


class TooLarge(UnsafePath):
    """More bytes than the limit: found by fstat or while reading (a file that grew)."""

    def __init__(self, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.size = size  # the size fstat gave, None when the limit was crossed while reading


def relative(root: str | os.PathLike, path: str | os.PathLike) -> str:
    """path as a path inside root, by text only (no lookups); Outside when it is not below root."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        raise Outside(f"{os.fspath(path)} is not inside the workspace {os.fspath(root)}")
    return rel


def _open_root(root: str | os.PathLike) -> int:
    # the root itself is the user's choice (-w DIR, the current folder): a link to it is followed
    return os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)


def _parts(path: str) -> list[str]:
    return [p for p in path.split(os.sep) if p not in ("", ".")]


def _walk(root_fd: int, root: str, relpath: str, last_flags: int, follow: bool, create_dirs: bool = False) -> int:
    """A descriptor of relpath below root_fd opened component by component without following a link
    blindly: a link's target is walked in turn and must stay inside (below the root descriptor)."""
    todo = _parts(relpath)
    todo.reverse()  # a stack: next component last
    stack = [root_fd]  # descriptors of the folders walked into; stack[0] is the root (the caller's)
    hops = 0
    try:
        while todo:
            name = todo.pop()
            if name == "..":
                if len(stack) == 1:
                    raise Outside(f"{relpath} leads outside the workspace")
                os.close(stack.pop())
                continue
            last = not todo
            flags = last_flags if last else _DIR
            try:
                fd = os.open(name, flags, dir_fd=stack[-1])
            except FileNotFoundError:
                if not create_dirs or flags != _DIR:
                    raise
                hops += 1
                if hops > MAX_LINKS:
                    raise
                try:
                    os.mkdir(name, 0o777, dir_fd=stack[-1])
                except FileExistsError:
                    pass
                todo.append(name)  # open what is there now (never trusting it was our mkdir)
                continue
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                hops += 1
                if hops > MAX_LINKS:
                    raise Outside(f"{relpath}: too many levels of symlinks") from None
                try:
                    target = os.readlink(name, dir_fd=stack[-1])
                except OSError:
                    if exc.errno == errno.ELOOP:  # was a link a moment ago, swapped since: look again
                        todo.append(name)
                        continue
                    raise NotRegular(f"{relpath}: {name} is not a folder") from None  # a file where a folder was expected
                if not follow:
                    raise Outside(f"{relpath}: {name} is a symlink; kamctl does not follow it") from None
                if os.path.isabs(target):
                    real_root = os.path.realpath(root)
                    inside = os.path.relpath(os.path.normpath(target), real_root)
                    if inside == ".." or inside.startswith(".." + os.sep):
                        raise Outside(f"{relpath}: {name} is a link to a place outside the workspace") from None
                    while len(stack) > 1:
                        os.close(stack.pop())
                    target = inside
                parts = _parts(target)
                todo.extend(reversed(parts))
                continue
            if last:
                return fd
            stack.append(fd)
        # relpath named the root itself (or walked back to it)
        if last_flags != _DIR:
            raise NotRegular(f"{relpath or '.'} is a folder")
        return os.dup(stack[-1])
    finally:
        for fd in stack[1:]:
            os.close(fd)


def open_file(root: str | os.PathLike, relpath: str, follow: bool = True) -> int:
    """A read-only descriptor of a regular file inside root (the caller closes it)."""
    root_fd = _open_root(root)
    try:
        fd = _walk(root_fd, os.fspath(root), relpath, _READ, follow)
    finally:
        os.close(root_fd)
    return _regular(fd, relpath)


def _regular(fd: int, shown: str) -> int:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, device or socket)"
        raise NotRegular(f"{shown} is {kind}")
    return fd


def read_fd(fd: int, limit: int, shown: str = "file") -> bytes:
    """Every byte of an open regular file, at most limit: TooLarge when it is (or grows) bigger."""
    size = os.fstat(fd).st_size
    if size > limit:
        raise TooLarge(f"{shown} is {size:,} bytes; the limit is {limit:,}", size)
    chunks, total = [], 0
    while chunk := os.read(fd, min(limit + 1 - total, max(size + 1, 1 << 20))):  # all of it in one read, as a rule
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"{shown} is larger than the limit of {limit:,} bytes")
    return b"".join(chunks)


def read_bytes(root: str | os.PathLike, relpath: str, limit: int, follow: bool = True) -> bytes:
    """The bytes of the regular file relpath inside root, never more than limit (see module doc)."""
    fd = open_file(root, relpath, follow)
    try:
        return read_fd(fd, limit, relpath)
    finally:
        os.close(fd)


def read_at(dir_fd: int, name: str, limit: int) -> bytes:
    """The bytes of the regular file name (no link, no folder) in an open folder, at most limit."""
    if os.sep in name or name in ("", ".", ".."):
        raise Outside(f"{name} is not a plain file name")
    try:
        fd = os.open(name, _READ, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Outside(f"{name} is a symlink; kamctl does not follow it") from None
        raise
    fd = _regular(fd, name)
    try:
        return read_fd(fd, limit, name)
    finally:
        os.close(fd)


def open_dir(root: str | os.PathLike, relpath: str, create: bool = False, follow: bool = True) -> int:
    """A descriptor of a real folder inside root (created, with its parents, when create is set).
    follow=False: no component may be a symlink at all (e.g. the cache folder)."""
    root_fd = _open_root(root)
    try:
        fd = _walk(root_fd, os.fspath(root), relpath, _DIR, follow, create_dirs=create)
    finally:
        os.close(root_fd)
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise NotRegular(f"{relpath} is not a folder")
    except OSError:
        os.close(fd)
        raise
    return fd


def exists_at(dir_fd: int, name: str) -> bool:
    """Whether anything (a link included, never followed) has this name in the open folder."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def write_file(dir_fd: int, name: str, data: bytes | Iterable[bytes], replace: bool = True,
               mode: int = 0o666, keep_mode: int | None = None, durable: bool = False) -> None:
    """Write name in the open folder atomically: an unpredictable temporary name created exclusively
    (never through a link), then renamed over name (replace) or linked to it only when name does not
    exist (replace=False: FileExistsError, nothing changed). data: bytes or chunks of them. The mode
    is mode & ~umask (as any new file, not mkstemp's 0600), or exactly keep_mode (an existing file's).
    durable: fsync the file and the folder (files people wrote; a cache is disposable)."""
    if os.sep in name or name in ("", ".", ".."):
        raise Outside(f"{name} is not a plain file name")
    tmp = f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
            for chunk in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
                fh.write(chunk)
            if keep_mode is not None:
                os.fchmod(fh.fileno(), keep_mode & 0o7777)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            os.unlink(tmp, dir_fd=dir_fd)
        if durable:
            os.fsync(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise
