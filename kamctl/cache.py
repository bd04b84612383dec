"""The caches in <workspace>/.kamctl-cache/: an unchanged account file is not parsed, nor checked, again.

Parse/validate entries (Cache, in accounts/*.pack). An entry is keyed by the blake2b hash of the
file's bytes, the account id, and a hash of kamctl's version plus the source of the read path and
the models (a changed model or reader is a new key). The hash is keyed with a random secret kept
outside the workspace ($XDG_CACHE_HOME/kamctl/secret, mode 0600): a cache folder committed to a
repository or planted by someone else has keys that never match, so it cannot make an invalid
file pass `kamctl check` on another machine. Never pickle (unpickling planted bytes runs code).
The entries a run stores are written together as one pack file (one file per run, not per
account: creating files is what a cold run paid for). A pack is a run of records, each a JSON
head line with the format, key, body size and a MAC of key and body (blake2b keyed with the same
secret, so a record written by anyone else, or moved under another key, is refused), then the
body: the validated account as Pydantic JSON (exclude_unset), validated again by Pydantic when
the model is first used, and the positions tree (kamctl.yamlio.read.Positions) in marshal format,
loaded only when a position is asked for - marshal runs no code, and is read only after the MAC
proved that this user's kamctl, with the same code and Python, wrote it. A record that is
truncated, corrupt, foreign (another key, format or secret) or fails validation is ignored and
the file read afresh: planting files in the folder can at worst cost a re-parse.

Check results (CheckCache, in check.pack): per account, the findings of the check rules and the
completeness, under a key of everything they depend on (see CheckCache); one file per workspace
with the same MAC scheme, written once at the end of a `kamctl check`. Views (ViewCache, in
view-FORMAT.pack): per account, its part of one format's output, under its check result's key and
its file as shown, so a warm check writes an unchanged account's part without going through its
findings (a warm json check of 25,000 findings spent most of its time formatting them).

Only files that loaded without findings are stored: files with problems are re-read every time
(they are few, and need their positions for the report), and kamctl writes nothing for them -
a read-only command on hostile input never writes. The folder is created on first store, with
its own .gitignore (`*`) so it never shows in `git status`. Writes are best effort (no fsync: a
cache is disposable): a read-only or full disk just means no cache.

The folder is as untrusted as the rest of the workspace (it may be committed): it is used only
when .kamctl-cache/ and .kamctl-cache/accounts/ are real folders (no symlink anywhere, else no
cache at all); every file in it is opened through kamctl.fsafe (no link followed, regular files
only, a size limit while reading) and written under an unpredictable name created exclusively,
then renamed; an existing .gitignore, whatever it is, is left alone.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
from pathlib import Path
from typing import Any

from kamctl import __version__, fsafe
from kamctl.findings import BY_VALUE, Finding, tally

CACHE_DIR = ".kamctl-cache"
FORMAT = "kamctl-cache-2"
_SOURCES = ("model/account.py", "model/validate.py", "yamlio/read.py", "workspace.py", "loader.py", "cache.py")
_code_hash: str | None = None


def code_hash() -> str:
    """kamctl's version and the source of everything that shapes a cached result."""
    global _code_hash
    if _code_hash is None:
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


MAX_PACKS = 16  # more pack files than this: the next write merges what the run used into one
MAX_PACK_BYTES = 512 * 1024 * 1024  # all packs together, read at most (10,000 accounts make about 115 MB)
MAX_CHECK_BYTES = 64 * 1024 * 1024  # check.pack: findings of 10,000 accounts are a few MB
MAX_VIEW_BYTES = 256 * 1024 * 1024  # view-json.pack: 250,000 findings as JSON are about 75 MB
ACCOUNTS_SUBDIR = "accounts"


class Cache:
    """The parse/validate entries of a workspace, in pack files under .kamctl-cache/accounts/.

    One run writes at most one pack (creating a file costs more than parsing a small one): entries
    stored during a run wait in memory and are written together by flush() (load_workspace calls it;
    otherwise at exit). A pack is a run of records, each a JSON head line (format, key, MAC of the
    body, body size) and the body; a record whose MAC or key does not check out is skipped, a pack
    that stops making sense is read no further. Packs are only ever added whole (written to a
    temporary name, then renamed), and merged into one when there are more than MAX_PACKS.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / CACHE_DIR
        self.entries = self.dir / ACCOUNTS_SUBDIR
        self._secret = _secret(create=False)
        self._index: dict[str, list[tuple[bytes, int, int, str]]] | None = None
        self._packs: list[str] = []  # names of the pack files read, in .kamctl-cache/accounts/
        self.pending: dict[str, tuple[bytes, bytes]] = {}  # key -> (account JSON, positions), for flush()
        self._used: dict[str, tuple[bytes, bytes]] = {}  # entries served this run (kept when packs are merged)
        self._atexit = False

    def key(self, raw: bytes, account_id: str) -> str | None:
        """The entry name for these bytes; None before any entry was ever stored by this user."""
        return entry_key(raw, account_id, self._secret) if self._secret else None

    def store(self, raw: bytes, account_id: str, account: bytes, positions: Any, key: str | None = None) -> None:
        """Store a valid account (its Pydantic JSON) and positions (a Positions tree, or its
        root already in marshal format) under the key of raw (written by flush())."""
        if key is None:
            if self._secret is None:
                self._secret = _secret(create=True)
                if self._secret is None:
                    return
            key = self.key(raw, account_id)
        self.put(key, account, positions)

    def _load_index(self) -> dict[str, list[tuple[bytes, int, int, str]]]:
        if self._index is not None:
            return self._index
        self._index = {}
        if self._secret is None:
            return self._index
        try:
            fd = fsafe.open_dir(self.root, os.path.join(CACHE_DIR, ACCOUNTS_SUBDIR), follow=False)
        except OSError:  # none yet, or a link or a file where the folder should be: no cache
            return self._index
        try:
            names = sorted(n for n in os.listdir(fd) if n.endswith(PACK_SUFFIX) and not n.startswith("."))
            budget = MAX_PACK_BYTES  # planted packs cannot make a run hold more than this
            for name in names:
                try:
                    blob = fsafe.read_at(fd, name, budget)
                except OSError:  # a link, FIFO, device, folder, too big or unreadable: not a pack
                    continue
                budget -= len(blob)
                self._packs.append(name)
                _read_pack(blob, self._index)
        except OSError:
            pass
        finally:
            os.close(fd)
        return self._index

    def get(self, key: str) -> tuple[bytes, bytes] | None:
        """(account JSON, marshalled positions) for key, or None (missing, corrupt, foreign)."""
        if self._secret is None:
            return None
        for blob, start, end, mac in self._load_index().get(key, ()):
            body = blob[start:end]
            if _record_mac(key, body, self._secret) != mac:
                continue
            account_json, sep, positions = body.partition(b"\n")
            if sep:
                self._used[key] = (account_json, positions)
                return account_json, positions
        return None

    def put(self, key: str, account: bytes, positions: Any) -> None:
        """Keep an entry for the next flush(); failures are silent (the cache is an optimisation)."""
        if b"\n" in account:
            return
        try:
            import marshal

            packed = positions if isinstance(positions, bytes) else marshal.dumps(positions.root)
        except (ValueError, TypeError):
            return
        self.pending[key] = (account, packed)  # the caller's bytes, not a copy: 10,000 entries are 100 MB
        if not self._atexit:
            import atexit

            atexit.register(self.flush)
            self._atexit = True

    def flush(self) -> None:
        """Write the pending entries as one pack (best effort; nothing when none are pending)."""
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        if self._secret is None:
            self._secret = _secret(create=True)
            if self._secret is None:
                return
        fd = None
        try:
            fd = self._prepare()
            merge = len(self._packs) >= MAX_PACKS
            records = {**self._used, **pending} if merge else pending
            secret = self._secret

            def chunks() -> Any:
                for key, (account, positions) in records.items():
                    yield pack_record(key, (account, positions), secret)
                    yield account
                    yield b"\n"
                    yield positions

            fsafe.write_file(fd, f"{os.urandom(8).hex()}{PACK_SUFFIX}", chunks())
            if merge:
                for old in self._packs:
                    try:
                        os.unlink(old, dir_fd=fd)
                    except OSError:
                        pass
                self._packs = []
        except (OSError, ValueError, TypeError):
            pass
        finally:
            if fd is not None:
                os.close(fd)

    def _prepare(self) -> int:
        """A descriptor of .kamctl-cache/accounts/ (created when missing; OSError when it is not a real folder)."""
        os.close(self._prepare_dir())
        return fsafe.open_dir(self.root, os.path.join(CACHE_DIR, ACCOUNTS_SUBDIR), create=True, follow=False)

    def _prepare_dir(self) -> int:
        """A descriptor of the cache folder, created with its .gitignore (`*`) when missing."""
        fd = fsafe.open_dir(self.root, CACHE_DIR, create=True, follow=False)
        try:
            if not fsafe.exists_at(fd, ".gitignore"):
                fsafe.write_file(fd, ".gitignore", b"# created by kamctl: the cache never belongs in git\n*\n",
                                 replace=False)
        except FileExistsError:
            pass
        except BaseException:
            os.close(fd)
            raise
        return fd


PACK_SUFFIX = ".pack"


def _record_mac(key: str, body: bytes | tuple[bytes, bytes], secret: bytes) -> str:
    """The MAC covers the key too: a record moved under another key does not check out.
    body: the bytes, or (account JSON, positions) that make it (joined by a newline)."""
    h = hashlib.blake2b(key.encode() + b"\0", digest_size=16, key=secret, person=b"kamctl-entry")
    if isinstance(body, tuple):
        h.update(body[0])
        h.update(b"\n")
        h.update(body[1])
    else:
        h.update(body)
    return h.hexdigest()


def pack_record(key: str, body: bytes | tuple[bytes, bytes], secret: bytes) -> bytes:
    """One record of a pack: the JSON head line (format, key, MAC, body size), then the body - only
    the head line when body is given as (account JSON, positions) (the writer adds those itself)."""
    size = len(body[0]) + 1 + len(body[1]) if isinstance(body, tuple) else len(body)
    head = json.dumps({"format": FORMAT, "key": key, "mac": _record_mac(key, body, secret), "size": size})
    return head.encode() + b"\n" + (b"" if isinstance(body, tuple) else body)


def _read_pack(blob: bytes, index: dict[str, list[tuple[bytes, int, int, str]]]) -> None:
    """Index a pack's records (key -> where the body is, and its MAC); stops where it stops making sense."""
    pos, total = 0, len(blob)
    while pos < total:
        nl = blob.find(b"\n", pos)
        if nl < 0:
            return
        try:
            meta = json.loads(blob[pos:nl])
        except (ValueError, TypeError):
            return
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            return
        key, mac, size = meta.get("key"), meta.get("mac"), meta.get("size")
        if not (isinstance(key, str) and isinstance(mac, str) and isinstance(size, int)) or size < 0:
            return
        start, end = nl + 1, nl + 1 + size
        if end > total:
            return
        index.setdefault(key, []).append((blob, start, end, mac))
        pos = end


# --- check results: one file per workspace ------------------------------------------------------------

CHECK_FILE = "check.pack"
CHECK_FORMAT = "kamctl-check-3"
_check_code_hash: str | None = None


def check_code_hash() -> str:
    """kamctl's version, Python's and pydantic's, and the source of every kamctl module (rules included)."""
    global _check_code_hash
    if _check_code_hash is None:
        import sys

        pydantic = sys.modules.get("pydantic")
        h = hashlib.blake2b(f"{__version__} {sys.version} {getattr(pydantic, 'VERSION', '')}".encode(),
                            digest_size=16)
        pkg = Path(__file__).resolve().parent
        for path in sorted(pkg.rglob("*.py")):
            h.update(str(path.relative_to(pkg)).encode() + b"\0")
            try:
                h.update(path.read_bytes())
            except OSError:
                pass
        _check_code_hash = h.hexdigest()
    return _check_code_hash


class _MarshalFile:
    """One MAC'd file of marshalled entries in .kamctl-cache/: a JSON head line with the format and
    a MAC (keyed with this user's secret, see the top of this module) of the body, then the entries
    (a dict of plain lists, strings and numbers), decoded only once the MAC matched. Anything else -
    truncated, corrupt, foreign, another format - is ignored and rewritten at the end of the run.
    self.new holds this run's entries: the ones used (get) and the ones made (put)."""

    name = ""
    format = ""
    limit = 0  # bytes read at most

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.file = self.root / CACHE_DIR / self.name
        self._secret = _secret(create=False)
        self._old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.loaded = False

    def load(self) -> bool:
        """Read the file; False when there is none usable (then every entry is made afresh)."""
        if self._secret is None:
            return False
        try:
            fd = fsafe.open_dir(self.root, CACHE_DIR, follow=False)
            try:
                blob = fsafe.read_at(fd, self.name, self.limit)
            finally:
                os.close(fd)
            nl = blob.index(b"\n")
            head, body = blob[:nl], memoryview(blob)[nl + 1:]  # the body is not copied: views make MBs
            meta = json.loads(head)
            if not (isinstance(meta, dict) and meta.get("format") == self.format
                    and meta.get("mac") == _check_mac(body, self._secret)):
                return False
            # marshal, read only after the MAC proved this user's kamctl wrote it: a warm check of
            # 1,000 accounts with 25,000 findings decodes it about 5x faster than the same as JSON
            entries = marshal.loads(body)
        except (OSError, ValueError, TypeError, EOFError):
            return False
        if not isinstance(entries, dict):
            return False
        self._old, self.loaded = entries, True
        return True

    def save(self, limit: int) -> None:
        """Write this run's entries (plus older ones, up to limit) when anything is new; best effort."""
        fresh = [k for k in self.new if k not in self._old]
        if not fresh:
            return
        entries = dict(self.new)
        for k, v in self._old.items():
            if len(entries) >= limit:
                break
            entries.setdefault(k, v)
        try:
            if self._secret is None:
                self._secret = _secret(create=True)
                if self._secret is None:
                    return
            body = marshal.dumps(entries)
            head = json.dumps({"format": self.format, "mac": _check_mac(body, self._secret)}).encode()
            fd = Cache(self.root)._prepare_dir()
            try:
                fsafe.write_file(fd, self.name, head + b"\n" + body)
            finally:
                os.close(fd)
        except (OSError, ValueError, TypeError):
            pass


class CheckCache(_MarshalFile):
    """Per-account check results (findings and completeness) of one workspace, in check.pack.

    A result is stored under a hash of everything it depends on: check_code_hash(), kam.yaml's bytes,
    as_of, select/ignore, the workspace's place and (in git) HEAD, and per account its id, the hash
    of its bytes and its git status (KAM8xx read the history). Only accounts that loaded without
    findings are stored. An entry is [findings, completeness, tally]: the findings as [rule,
    severity, line, column, message] in the order a check shows them (line, column, rule) and the
    tally as [rule, severity, how many], so a warm check that finds a rendered view (ViewCache) of
    an account never looks at its findings one by one. The findings are marshalled once more on
    their own (bytes in the entry): loading the file makes one object per account, not five per
    finding, and only an account whose findings are asked for is decoded (rows()).
    """

    name = CHECK_FILE
    format = CHECK_FORMAT
    limit = MAX_CHECK_BYTES

    def __init__(self, root: Path, context: list[Any]) -> None:
        super().__init__(root)
        self._context = hashlib.blake2b(json.dumps([check_code_hash(), *context]).encode(),
                                        digest_size=16).hexdigest()

    def key(self, account_id: str, digest: str, git_status: str) -> str:
        return hashlib.blake2b(f"{self._context}\0{account_id}\0{digest}\0{git_status}".encode(),
                               digest_size=16).hexdigest()

    def get(self, key: str) -> tuple[bytes, dict[str, float], list[list]] | None:
        """(findings as rows() reads them, completeness, tally) or None.

        The entries are as this user's kamctl wrote them (the MAC proved it when the file was
        loaded), so only their shape is checked here, once per entry, not each value."""
        entry = self._old.get(key)
        if (type(entry) is not list or len(entry) != 3 or type(entry[0]) is not bytes or type(entry[1]) is not dict
                or type(entry[2]) is not list
                or not all(type(t) is list and len(t) == 3 and t[1] in BY_VALUE for t in entry[2])):
            return None
        self.new[key] = entry  # still current: kept when the file is written again
        return entry[0], entry[1], entry[2]

    def put(self, key: str, findings: list[Finding], completeness: dict[str, float]) -> tuple[bytes, list[list]]:
        """Store one account's result, its findings in the order a check shows them (place_key);
        returns (findings, tally) as get() will give them."""
        packed = marshal.dumps([[f.rule, f.severity.value, f.line, f.column, f.message] for f in findings])
        counted = [[rule, severity.value, n] for (rule, severity), n in tally(findings).items()]
        self.new[key] = [packed, completeness, counted]
        return packed, counted

    @staticmethod
    def rows(packed: bytes) -> list[list]:
        """An entry's findings: [rule, severity, line, column, message] each, in the order shown."""
        return marshal.loads(packed)  # from a file whose MAC proved this user's kamctl wrote it


class ViewCache(_MarshalFile):
    """Rendered text of one check format per account (view-FORMAT.pack): key -> text, where the key
    names the check result (CheckCache.key), the account's file as shown and the format. A warm
    `kamctl check` writes an unchanged account's part of the output as it was written last time."""

    format = "kamctl-view-1"
    limit = MAX_VIEW_BYTES

    def __init__(self, root: Path, view: str) -> None:
        if not view.replace("-", "").isalnum():
            raise ValueError(f"not a view name: {view!r}")
        self.name = f"view-{view}.pack"
        super().__init__(root)

    @staticmethod
    def key(result: str, shown_file: str) -> str:
        return hashlib.blake2b(f"{result}\0{shown_file}".encode(), digest_size=16).hexdigest()

    def get(self, key: str) -> str | None:
        text = self._old.get(key)
        if type(text) is not str:
            return None
        self.new[key] = text
        return text

    def put(self, key: str, text: str) -> None:
        self.new[key] = text


def _check_mac(body: bytes, secret: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16, key=secret, person=b"kamctl-check").hexdigest()
