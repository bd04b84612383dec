"""The parse/validate cache in <workspace>/.kamctl-cache/: an unchanged account file is not parsed again.

An entry is keyed by the blake2b hash of the file's bytes, the account id, and a hash of kamctl's
version plus the source of the read path and the models (a changed model or reader is a new key).
The hash is keyed with a random secret kept outside the workspace ($XDG_CACHE_HOME/kamctl/secret,
mode 0600): a cache folder committed to a repository or planted by someone else has names that
never match, so it cannot make an invalid file pass `kamctl check` on another machine.
Never pickle (unpickling planted bytes runs code). An entry is: a JSON first line with the format,
key and a MAC of the rest (blake2b keyed with the same secret, so an entry written by anyone else
is refused); the validated account as Pydantic JSON (exclude_unset), validated again by Pydantic
when the model is first used; the positions tree (kamctl.yamlio.read.Positions) in marshal format,
loaded only when a position is asked for - marshal runs no code, and is read only after the MAC
proved that this user's kamctl, with the same code and Python, wrote it. An entry that is
truncated, corrupt, foreign (another key, format or secret) or fails validation is ignored and
the file read afresh: planting files in the folder can at worst cost a re-parse.

Only files that loaded without findings are stored: files with problems are re-read every time
(they are few, and need their positions for the report), and kamctl writes nothing for them -
a read-only command on hostile input never writes. The folder is created on first store, with
its own .gitignore (`*`) so it never shows in `git status`. Writes are best effort: a read-only
or full disk just means no cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CACHE_DIR = ".kamctl-cache"
FORMAT = "kamctl-cache-1"
_SOURCES = ("model/account.py", "model/validate.py", "yamlio/read.py", "workspace.py", "cache.py")
_code_hash: str | None = None


def code_hash() -> str:
    """kamctl's version and the source of everything that shapes a cached result."""
    global _code_hash
    if _code_hash is None:
        from kamctl import __version__

        import sys

        h = hashlib.blake2b(f"{__version__} {sys.version}".encode(), digest_size=16)
        pkg = Path(__file__).resolve().parent
        for name in _SOURCES:
            try:
                h.update((pkg / name).read_bytes())
            except OSError:
                h.update(name.encode())
        _code_hash = h.hexdigest()
    return _code_hash


def secret_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kamctl" / "secret"


def _secret(create: bool) -> bytes | None:
    """This user's cache secret; created (only when storing) if missing. None: no secret, no cache."""
    path = secret_file()
    try:
        with open(path, "rb") as fh:
            secret = fh.read(64)
        if len(secret) >= 32:
            return secret[:32]
    except OSError:
        pass
    if not create:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    except FileExistsError:
        pass
    except OSError:
        return None
    return _secret(False)


def entry_key(raw: bytes, account_id: str, secret: bytes) -> str:
    h = hashlib.blake2b(raw, digest_size=20, key=secret, person=b"kamctl-acct")
    h.update(b"\0" + account_id.encode() + b"\0" + code_hash().encode())
    return h.hexdigest()


def _mac(body: bytes, secret: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16, key=secret, person=b"kamctl-entry").hexdigest()


class Cache:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / CACHE_DIR
        self.entries = self.dir / "accounts"
        self._ready = False
        self._secret = _secret(create=False)

    def path(self, key: str) -> Path:
        return self.entries / key

    def key(self, raw: bytes, account_id: str) -> str | None:
        """The entry name for these bytes; None before any entry was ever stored by this user."""
        return entry_key(raw, account_id, self._secret) if self._secret else None

    def store(self, raw: bytes, account_id: str, account: bytes, positions: Any, key: str | None = None) -> None:
        """Store a valid account (its Pydantic JSON) and positions under the key of raw."""
        if key is None:
            if self._secret is None:
                self._secret = _secret(create=True)
                if self._secret is None:
                    return
            key = self.key(raw, account_id)
        self.put(key, account, positions)

    def get(self, key: str) -> tuple[bytes, bytes] | None:
        """(account JSON, marshalled positions) for key, or None (missing, corrupt, foreign)."""
        if self._secret is None:
            return None
        try:
            with open(self.entries / key, "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        return parse_entry(blob, key, self._secret)

    def put(self, key: str, account: bytes, positions: Any) -> None:
        """Store an entry; failures are silent (the cache is an optimisation)."""
        if self._secret is None or b"\n" in account:
            return
        try:
            import marshal

            body = account + b"\n" + marshal.dumps(positions.root)
            head = json.dumps({"format": FORMAT, "key": key, "mac": _mac(body, self._secret)}).encode()
            self._prepare()
            tmp = self.entries / f".{key}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(head + b"\n" + body)
            os.replace(tmp, self.entries / key)
        except (OSError, ValueError, TypeError):
            pass

    def _prepare(self) -> None:
        if self._ready:
            return
        self.entries.mkdir(parents=True, exist_ok=True)
        ignore = self.dir / ".gitignore"
        if not ignore.is_file():
            ignore.write_text("# created by kamctl: the cache never belongs in git\n*\n", encoding="utf-8")
        self._ready = True


def _head_ok(head: bytes, key: str, body: bytes, secret: bytes) -> bool:
    meta = json.loads(head)
    return (isinstance(meta, dict) and meta.get("format") == FORMAT and meta.get("key") == key
            and meta.get("mac") == _mac(body, secret))


def parse_entry(blob: bytes, key: str, secret: bytes) -> tuple[bytes, bytes] | None:
    """An entry's account JSON and marshalled positions when its head and MAC check out, else None."""
    try:
        head, rest = blob.split(b"\n", 1)
        if not _head_ok(head, key, rest, secret):
            return None
        account_json, positions_json = rest.split(b"\n", 1)
        return account_json, positions_json
    except (ValueError, TypeError):
        return None
