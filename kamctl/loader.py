"""Load a workspace: the pure load of kamctl.workspace, wrapped in the cache and the process pool.

As beancount's loader wraps its pure load in a cache, this is the one boundary where the cache in
.kamctl-cache/ and the worker processes meet loading: kamctl.workspace parses and validates one
file and knows neither. An entry is taken from the cache only when its key (the file's bytes, the
account id and this very code) matches; a clean account is stored back, all in one pack per run.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable, Iterable

from kamctl import pool
from kamctl.cache import Cache
from kamctl.workspace import (MODELS_KEPT, LoadedAccount, Workspace, content_digest, display, load_settings,
                              named_account, open_account, parse_account, refuse_outside_accounts, select_files)
from kamctl.yamlio.read import Positions

# A picklable function run on each valid account right after it is parsed in a worker process
# (kamctl.checks.Checker): its result comes back in LoadedAccount.checked.
Checker = Callable[[LoadedAccount], object]


def load_account(file: Path, root: Path, parser: str = "auto", cache: Cache | None = None) -> LoadedAccount:
    """kamctl.workspace.load_account through the cache (None: no cache)."""
    loaded, raw = open_account(Path(file), root)
    if raw is None:
        return loaded
    _cached_parse(loaded, raw, parser, cache, _key(cache, raw, loaded))
    if cache is not None:
        cache.flush()
    return loaded


def load_account_bytes(raw: bytes, file: Path, shown: str, parser: str = "auto",
                       cache: Cache | None = None) -> LoadedAccount:
    """An account from bytes read elsewhere (a git blob, kamctl.history): the same checks and cache as
    load_account (the cache is keyed by content, so a blob equal to a cached file is not parsed)."""
    loaded = named_account(Path(file), shown)
    if loaded.findings:
        return loaded
    return _cached_parse(loaded, raw, parser, cache, _key(cache, raw, loaded))


def load_workspace(root: Path, ids: Iterable[str] | None = None, parser: str = "auto",
                   files: Iterable[Path] | None = None, use_cache: bool = True,
                   settings: tuple | None = None, checker: Checker | None = None) -> Workspace:
    """Settings plus every account (or the ids/files asked for), all findings collected.

    use_cache: allow the parse/validate cache in .kamctl-cache/ (off with --no-cache).
    settings: load_settings(root)'s result when the caller already has it.
    checker: when files are parsed in worker processes, each valid account is also checked there.
    """
    # Loading makes millions of small objects that live until the command ends. Python's cyclic
    # collector would scan all of them again and again (at 10,000 files, seconds of pure GC), so
    # it is paused while loading, and what was loaded is then frozen out of its scans (reference
    # counting still frees everything as usual).
    enabled = gc.isenabled()
    gc.disable()
    try:
        ws = _load_workspace(root, ids, parser, files, use_cache, settings, checker)
    finally:
        if enabled:
            gc.enable()
    gc.freeze()
    return ws


def _key(cache: Cache | None, raw: bytes, loaded: LoadedAccount) -> str | None:
    return cache.key(raw, loaded.id) if cache is not None else None


def _from_cache(loaded: LoadedAccount, cache: Cache, key: str) -> bool:
    hit = cache.get(key)
    if hit is None:
        return False
    loaded._account_json, positions = hit
    loaded._packed = ("marshal", positions)
    return True


def _cached_parse(loaded: LoadedAccount, raw: bytes, parser: str, cache: Cache | None, key: str | None,
                  as_json: bool = False) -> LoadedAccount:
    """parse_account wrapped in the cache: a hit is taken as stored, a clean miss is stored.

    as_json: keep the account as JSON rather than as a model (many files, or a worker's result).
    """
    if key is not None and _from_cache(loaded, cache, key):
        return loaded
    return _parse_and_store(loaded, raw, parser, cache, key, as_json)


def _parse_and_store(loaded: LoadedAccount, raw: bytes, parser: str, cache: Cache | None, key: str | None,
                     as_json: bool = False) -> LoadedAccount:
    parse_account(loaded, raw, parser)
    if cache is not None and loaded._packed is not None:
        account_json = loaded._account.model_dump_json(exclude_unset=True).encode()
        cache.store(raw, loaded.id, account_json, loaded._packed[1], key)
        loaded._account_json = account_json  # kept with the model: never dumped twice
        if as_json:
            loaded._account = None
    return loaded


def _load_workspace(root: Path, ids: Iterable[str] | None, parser: str, files: Iterable[Path] | None,
                    use_cache: bool, preloaded: tuple | None = None, checker: Checker | None = None) -> Workspace:
    settings, shown, settings_findings = preloaded if preloaded is not None else load_settings(root, parser)
    refuse_outside_accounts(root)
    if files is None:
        files = select_files(root, ids)
    files = [Path(f) for f in files]
    cache = None
    if use_cache:
        cache = Cache(root)
    accounts: list[LoadedAccount] = []
    todo: list[tuple[int, LoadedAccount, bytes | None, str | None]] = []  # files the cache does not have
    if pool.workers(len(files)) > 1 and (cache is None or not cache.entries.is_dir()):
        # nothing to look up (no cache yet, or --no-cache): the workers read the files themselves
        for f in files:
            loaded = LoadedAccount(f.stem, display(f), f)
            loaded._root = root
            accounts.append(loaded)
            todo.append((len(accounts) - 1, loaded, None, None))
        if _parse_parallel(todo, parser, cache, pool.workers(len(todo)), checker):
            if cache is not None:
                cache.flush()
            return Workspace(root, settings, shown, settings_findings, accounts)
        accounts, todo = [], []
    for f in files:
        loaded, raw = open_account(f, root)
        accounts.append(loaded)
        if raw is None:
            continue
        key = cache.key(raw, loaded.id) if cache is not None else None
        if key is not None and _from_cache(loaded, cache, key):
            continue
        todo.append((len(accounts) - 1, loaded, raw, key))
    workers = pool.workers(len(todo))
    if workers > 1 and _parse_parallel(todo, parser, cache, workers, checker):
        pass
    else:
        many = len(accounts) > MODELS_KEPT  # many files: keep bytes, not models
        for _, loaded, raw, key in todo:
            _parse_and_store(loaded, raw, parser, cache, key, as_json=many)
            if many and loaded._account is not None:
                if loaded._account_json is None:
                    loaded._account_json = loaded._account.model_dump_json(exclude_unset=True).encode()
                loaded._account = None
    if cache is not None:
        cache.flush()  # one pack file for the whole run
    return Workspace(root, settings, shown, settings_findings, accounts)


def _parse_chunk(args: tuple) -> list[tuple]:
    """In a worker: parse and validate, send back small results (and the cache key of each entry to
    store: the parent writes them all in one pack)."""
    items, root, parser, use_cache, checker = args
    cache = None
    if use_cache:
        cache = Cache(root)
    out = []
    for file, shown, raw, key in items:
        if raw is None:  # read here: the name, link and size checks of load_account, then the cache
            loaded, raw = open_account(file, root)
            if raw is None:
                out.append((None, loaded.findings, None, None, None, None, None))
                continue
            if cache is not None:
                key = cache.key(raw, loaded.id)
                if key is not None and _from_cache(loaded, cache, key):
                    checked = checker(loaded) if checker is not None and loaded.account is not None else None
                    if loaded._account is not None:
                        loaded._account = None
                    out.append((loaded._account_json, [], loaded._packed, None, loaded.digest, None, checked))
                    continue
        else:
            loaded = LoadedAccount(file.stem, shown, file)
            loaded.digest = content_digest(raw)
        _parse_and_store(loaded, raw, parser, cache, key, as_json=checker is None)
        checked = None
        if checker is not None and loaded.account is not None:
            checked = checker(loaded)
        stored = None
        if cache is not None and cache.pending:
            stored = next(iter(cache.pending))
            cache.pending.clear()
        model, account_json = loaded._account, loaded._account_json
        if account_json is None and model is not None:
            account_json = model.model_dump_json(exclude_unset=True).encode()
        out.append((account_json, loaded.findings, loaded._packed,
                    loaded._positions.root if loaded._packed is None and hasattr(loaded._positions, "root") else None,
                    loaded.digest, stored, checked))
    return out


def _parse_parallel(todo: list, parser: str, cache: Cache | None, workers: int, checker: Checker | None = None) -> bool:
    """Parse todo's files in a process pool; False when no pool can run here (then do it serially)."""
    size = max(1, min(100, len(todo) // (workers * 4) or 1))
    root = todo[0][1]._root
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    jobs = [([(lo.file, lo.path, raw, key) for _, lo, raw, key in chunk], root, parser, cache is not None, checker)
            for chunk in chunks]
    results = pool.run(_parse_chunk, jobs, workers)
    if results is None:
        return False
    for chunk, result in zip(chunks, results):
        for (_, loaded, _, _), (account, findings, packed, tree, digest, stored, checked) in zip(chunk, result):
            loaded._account_json, loaded.findings, loaded._packed = account, findings, packed
            loaded.digest, loaded.checked = digest, checked
            if stored is not None and cache is not None and account is not None and packed is not None:
                cache.put(stored, account, packed[1])
            loaded.positions = Positions(tree) if packed is None else None
    return True
