"""Hostile input: every file people and attackers produce gets a finding with file and line (or a
refusal), exit 1 or 2, in bounded time and memory, never a traceback, and kamctl writes nothing.

The small files live in tests/hostile/; big or special ones (50 MB, 10,000-level nesting, links,
a FIFO, odd names) are made in a tmp folder at test time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kamctl.scaffold import sample_account_text
from kamctl.workspace import load_account, load_settings

HOSTILE = Path(__file__).resolve().parent / "hostile"
KAMCTL = Path(sys.executable).with_name("kamctl")

# file name -> (rule, line) expected for it
CORPUS = {
    "empty.yaml": ("KAM006", 1),
    "only-comments.yaml": ("KAM006", 1),
    "top-level-list.yaml": ("KAM006", 1),
    "multiple-documents.yaml": ("KAM003", 2),
    "tabs.yaml": ("KAM001", 3),
    "crlf.yaml": ("KAM103", 3),
    "bom.yaml": ("KAM103", 3),
    "latin1.yaml": ("KAM005", 1),
    "control-char.yaml": ("KAM001", 1),
    "syntax-error.yaml": ("KAM001", 3),
    "alias-bomb.yaml": ("KAM004", 7),
    "python-object.yaml": ("KAM003", 2),
    "unknown-tags.yaml": ("KAM003", 2),
    "merge-keys.yaml": ("KAM003", 5),
    "duplicate-keys.yaml": ("KAM002", 3),
    "nan-infinity.yaml": ("KAM103", 3),
    "impossible-date.yaml": ("KAM105", 4),
    "yaml-11.yaml": ("KAM003", 1),
}
GENERATED = {
    "deep-flow.yaml": ("KAM004", 2),
    "deep-block.yaml": ("KAM004", 3),
    "deep-mapping.yaml": ("KAM004", 66),
    "huge.yaml": ("KAM004", 1),
    "long-line.yaml": ("KAM103", 2),
    "Upper-Case.yaml": ("KAM007", 1),
    "with space.yaml": ("KAM007", 1),
    "-dash.yaml": ("KAM007", 1),
    "other-suffix.yml": ("KAM007", 1),
    "ünïcode.yaml": ("KAM007", 1),
    "outside-link.yaml": ("KAM008", 1),
    "link-loop.yaml": ("KAM008", 1),
    "pipe.yaml": ("KAM008", 1),
    "folder.yaml": ("KAM008", 1),
}


def build_corpus(root: Path, outside: Path) -> Path:
    """A workspace whose accounts/ holds the whole hostile corpus."""
    accounts = root / "accounts"
    accounts.mkdir(parents=True)
    (root / "kam.yaml").write_text("", encoding="utf-8")
    for name in CORPUS:
        shutil.copyfile(HOSTILE / name, accounts / name)
    (accounts / "deep-flow.yaml").write_text("name: Deep\nnotes: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (accounts / "deep-block.yaml").write_text("name: Deep\nnotes:\n" + "- " * 10_000 + "x\n")
    (accounts / "deep-mapping.yaml").write_text(
        "name: Deep\n" + "".join(" " * i + f"k{i}:\n" for i in range(2_000)))
    with open(accounts / "huge.yaml", "wb") as fh:  # 50 MB: sparse, instant to make
        fh.write(b"name: Huge\nnotes: ")
        fh.truncate(50 * 1024 * 1024)
    (accounts / "long-line.yaml").write_text(
        'name: Long\nattractiveness: {size: {score: 11, note: "' + "x" * 1_000_000 + '"}}\n')
    for name in ("Upper-Case.yaml", "with space.yaml", "-dash.yaml", "other-suffix.yml", "ünïcode.yaml"):
        (accounts / name).write_text("name: Odd\n")
    outside.write_text("name: Outside\n")
    (accounts / "outside-link.yaml").symlink_to(outside)
    (accounts / "link-loop.yaml").symlink_to(accounts / "link-loop.yaml")
    os.mkfifo(accounts / "pipe.yaml")
    (accounts / "folder.yaml").mkdir()
    return root


def snapshot(root: Path) -> dict:
    """Every path under root with its type, size, mtime and content hash (links and pipes not followed)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            st = p.lstat()
            digest = ""
            if p.is_file() and not p.is_symlink() and st.st_size < 10_000_000:
                digest = hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture
def corpus(tmp_path):
    return build_corpus(tmp_path / "ws", tmp_path / "outside.yaml")


@pytest.mark.parametrize("name", list(CORPUS) + list(GENERATED))
@pytest.mark.parametrize("parser", ["c", "pure"])
def test_each_hostile_file_is_a_finding_at_its_line_quickly(corpus, name, parser):
    rule, line = {**CORPUS, **GENERATED}[name]
    start = time.perf_counter()
    loaded = load_account(corpus / "accounts" / name, corpus, parser)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{name} took {elapsed:.2f} s"
    assert loaded.account is None and not loaded.ok
    assert (rule, line) in [(f.rule, f.line) for f in loaded.findings], loaded.findings
    assert all(f.file == loaded.path for f in loaded.findings)


def run_measured(args: list[str], cwd: Path, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run the installed kamctl in a fresh helper process; returns (result, seconds, max RSS in MB)."""
    helper = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors='replace', timeout=120)\n"
        "t = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps([r.returncode, r.stdout, r.stderr, t, rss]))\n"
    )
    out = subprocess.run([sys.executable, "-c", helper, *args], capture_output=True, text=True, cwd=cwd, env=env,
                         timeout=300)
    code, stdout, stderr, seconds, rss = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), seconds, rss


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "score", "check"])
@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_cli_on_the_corpus_reports_every_file_writes_nothing_and_stays_bounded(corpus, command, cache):
    before = snapshot(corpus.parent)
    args = [str(KAMCTL), "-w", str(corpus)] + ([] if cache else ["--no-cache"]) + [command]
    result, seconds, rss = run_measured(args, corpus.parent)
    after = snapshot(corpus.parent)
    output = result.stdout + result.stderr
    assert result.returncode in (1, 2), output[-2000:]
    assert "Traceback" not in output
    assert before == after, "kamctl wrote or changed files"
    assert not (corpus / ".kamctl-cache").exists()
    assert seconds < 2.0 * len({**CORPUS, **GENERATED}), seconds
    assert rss < 200, f"max RSS {rss:.0f} MB"
    if command == "validate":
        for name, (rule, line) in {**CORPUS, **GENERATED}.items():
            assert f"{name}:{line}:" in output and rule in output, name


@pytest.mark.slow
@pytest.mark.parametrize("account_id", ["../x", "../../etc/passwd", "a/b", "x/../../y", "..", "/tmp/abs", "UP"])
def test_new_refuses_ids_that_are_paths(tmp_path, account_id):
    ws = build_corpus(tmp_path / "ws", tmp_path / "outside.yaml")
    before = snapshot(tmp_path)
    result, _, _ = run_measured([str(KAMCTL), "-w", str(ws), "new", account_id, "--name", "X"], tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "not a valid account id" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("text,rule", [
    (HOSTILE.joinpath("alias-bomb.yaml").read_text(), "KAM004"),
    ("a: !!python/object:os.system x\n", "KAM003"),
    ("[1, 2]\n", "KAM006"),
    ("currency: [\n", "KAM001"),
])
def test_hostile_kam_yaml_is_a_finding(tmp_path, text, rule):
    (tmp_path / "kam.yaml").write_text(text)
    _, _, findings = load_settings(tmp_path)
    assert rule in [f.rule for f in findings]
    assert all(f.file.endswith("kam.yaml") and f.line >= 1 for f in findings)


def test_a_planted_python_object_never_runs(tmp_path):
    target = tmp_path / "pwned"
    (tmp_path / "accounts").mkdir()
    f = tmp_path / "accounts" / "evil.yaml"
    f.write_text(f'name: Evil\nnotes: !!python/object/apply:os.system ["touch {target}"]\n')
    for parser in ("c", "pure"):
        loaded = load_account(f, tmp_path, parser)
        assert "KAM003" in [x.rule for x in loaded.findings]
    assert not target.exists()


# --- the cache: never trusted, never in git, never written for files with problems ---------------------

SAMPLE = sample_account_text("x")  # the sample account as `kamctl init` writes it


@pytest.fixture
def cached_ws(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    root = tmp_path / "ws"
    (root / "accounts").mkdir(parents=True)
    (root / "kam.yaml").write_text("")
    for name in ("alpha", "beta"):
        (root / "accounts" / f"{name}.yaml").write_text(SAMPLE.replace("{{ schema_ref }}", "x"))
    return root


def _results(ws):
    return [(a.id, a.account, [(f.rule, f.line, f.column, f.message) for f in a.findings],
             a.position(("opportunities", 0, "history", 1, "note")), a.position(("strategy", "nope")))
            for a in ws.accounts]


def _packs(root):
    return sorted((root / ".kamctl-cache" / "accounts").glob("*.pack"))


def _records(pack):
    """The (head, body) records of a pack file."""
    blob, pos, out = pack.read_bytes(), 0, []
    try:
        while pos < len(blob):
            nl = blob.index(b"\n", pos)
            meta = json.loads(blob[pos:nl])
            end = nl + 1 + meta["size"]
            if end > len(blob):
                break
            out.append((meta, blob[nl + 1:end]))
            pos = end
    except (ValueError, TypeError, KeyError):  # a corrupt pack: what came before
        pass
    return out


def _n_entries(root):
    return sum(len(_records(p)) for p in _packs(root))


def _no_parsing(monkeypatch):
    from kamctl import workspace
    from kamctl.yamlio import read

    original = read.parse_bytes

    def boom(raw, shown, *args, **kwargs):
        if "accounts" in shown:
            raise AssertionError("parsed although the cache holds the file")
        return original(raw, shown, *args, **kwargs)
    monkeypatch.setattr(workspace, "parse_bytes", boom)  # where accounts are parsed


def test_cache_serves_unchanged_files_and_hides_from_git(cached_ws, monkeypatch):
    from kamctl.loader import load_workspace

    fresh = _results(load_workspace(cached_ws, use_cache=False))
    assert not (cached_ws / ".kamctl-cache").exists()
    assert _results(load_workspace(cached_ws)) == fresh
    assert (cached_ws / ".kamctl-cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert len(_packs(cached_ws)) == 1  # one pack file for the run
    assert _n_entries(cached_ws) == 2  # keyed by bytes and id
    with monkeypatch.context() as m:
        _no_parsing(m)
        assert _results(load_workspace(cached_ws)) == fresh
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(cached_ws)], check=True)
        status = subprocess.run(["git", "-C", str(cached_ws), "status", "--porcelain", "--untracked-files=all"],
                                capture_output=True, text=True, check=True).stdout
        assert ".kamctl-cache" not in status and "accounts/alpha.yaml" in status


def _corrupt(kind: str, pack: Path) -> None:
    blob = pack.read_bytes()
    records = _records(pack)
    if kind == "truncated":
        pack.write_bytes(blob[: len(blob) // 2])
    elif kind == "empty":
        pack.write_bytes(b"")
    elif kind == "flipped":  # a bit of each body
        out = b""
        for meta, body in records:
            i = len(body) - 100
            out += json.dumps(meta).encode() + b"\n" + body[:i] + bytes([body[i] ^ 0x20]) + body[i + 1:]
        pack.write_bytes(out)
    elif kind == "garbage":
        pack.write_bytes(b"\x80\x04\x95 not json at all \xff\n\n\n")
    elif kind == "pickle":
        import pickle

        pack.write_bytes(pickle.dumps({"a": 1}))
    elif kind == "foreign":  # each record's body and MAC under the other one's key
        (m0, b0), (m1, b1) = records
        m0["key"], m1["key"] = m1["key"], m0["key"]
        pack.write_bytes(b"".join(json.dumps(m).encode() + b"\n" + b for m, b in ((m0, b0), (m1, b1))))
    elif kind == "planted":  # well-formed, saying something else, with a MAC made without the secret
        out = b""
        for meta, body in records:
            account, positions = body.split(b"\n", 1)
            body = account.replace(b"Northwind Foods", b"Planted Inc") + b"\n" + positions
            meta["mac"] = hashlib.blake2b(meta["key"].encode() + b"\0" + body, digest_size=16,
                                          person=b"kamctl-entry").hexdigest()
            meta["size"] = len(body)
            out += json.dumps(meta).encode() + b"\n" + body
        pack.write_bytes(out)
    elif kind == "directory":
        pack.unlink()
        pack.mkdir()


@pytest.mark.parametrize("kind", ["truncated", "empty", "flipped", "garbage", "pickle", "foreign", "planted", "directory"])
def test_a_corrupt_or_foreign_cache_entry_is_ignored_and_rebuilt(cached_ws, kind):
    from kamctl.loader import load_workspace

    fresh = _results(load_workspace(cached_ws, use_cache=False))
    load_workspace(cached_ws)
    packs = _packs(cached_ws)
    assert len(packs) == 1 and _n_entries(cached_ws) == 2
    _corrupt(kind, packs[0])
    assert _results(load_workspace(cached_ws)) == fresh
    # rebuilt: a new pack, and the next run is served from the cache again
    assert _n_entries(cached_ws) >= 2 if kind != "directory" else len(_packs(cached_ws)) >= 1
    assert _results(load_workspace(cached_ws)) == fresh
    rebuilt = [p for p in _packs(cached_ws) if p != packs[0]]
    assert rebuilt and all(b"Planted" not in p.read_bytes() for p in rebuilt)


def test_a_cache_copied_from_elsewhere_never_matches(cached_ws, tmp_path, monkeypatch):
    """Entry names are keyed with this user's secret: a committed or copied cache folder is never used."""
    from kamctl.loader import load_workspace

    load_workspace(cached_ws)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-user"))
    with monkeypatch.context() as m:
        from kamctl import workspace

        calls = []
        original = workspace.parse_bytes
        m.setattr(workspace, "parse_bytes", lambda raw, shown, *a, **k: calls.append(shown) or original(raw, shown, *a, **k))
        load_workspace(cached_ws)
    assert len([c for c in calls if "accounts" in c]) == 2


def test_files_with_findings_are_never_cached_and_no_cache_writes_nothing(cached_ws):
    from kamctl.loader import load_workspace

    (cached_ws / "accounts" / "alpha.yaml").write_text("name: A\nattractiveness: {size: 11}\n")
    load_workspace(cached_ws, use_cache=False)
    assert not (cached_ws / ".kamctl-cache").exists()
    load_workspace(cached_ws)
    assert _n_entries(cached_ws) == 1  # beta only


@pytest.mark.parametrize("workers", ["1", "2"])
def test_parallel_and_serial_loading_agree(cached_ws, monkeypatch, workers):
    from kamctl.loader import load_workspace

    for i in range(6):
        (cached_ws / "accounts" / f"extra-{i}.yaml").write_text(SAMPLE.replace("Northwind", f"N{i}"))
    (cached_ws / "accounts" / "broken.yaml").write_text("name: [\n")
    fresh = _results(load_workspace(cached_ws, use_cache=False))
    monkeypatch.setenv("KAMCTL_WORKERS", workers)
    assert _results(load_workspace(cached_ws, use_cache=False)) == fresh
    assert _results(load_workspace(cached_ws)) == fresh  # cold, writing the cache from the workers
    assert _results(load_workspace(cached_ws)) == fresh  # warm


def test_an_entry_that_no_longer_validates_is_read_afresh(cached_ws):
    """Even an entry with a good MAC is validated by Pydantic before its model is used."""
    from kamctl import cache as cache_mod
    from kamctl.loader import load_workspace

    fresh = _results(load_workspace(cached_ws, use_cache=False))
    load_workspace(cached_ws)
    secret = cache_mod._secret(create=False)
    for pack in _packs(cached_ws):
        out = b""
        for meta, body in _records(pack):
            _, positions = body.split(b"\n", 1)
            body = b'{"name": 42, "attractiveness": {"size": {"score": 99}}}\n' + positions
            out += cache_mod.pack_record(meta["key"], body, secret)
        pack.write_bytes(out)
    ws = load_workspace(cached_ws)
    assert _results(ws) == fresh
    assert all(a.ok for a in ws.accounts)


def test_version_answers_without_importing_typer():
    code = ("import sys; sys.argv = ['kamctl', '--version']\n"
            "from kamctl.cli.entry import main; main()\n"
            "print('typer' in sys.modules, 'pydantic' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    from kamctl import __version__

    assert r.stdout.splitlines() == [f"kamctl {__version__}", "False False"], r


def test_the_corpus_reads_the_same_through_worker_processes(corpus, monkeypatch):
    from kamctl.loader import load_workspace

    def findings(workers: str, use_cache: bool):
        monkeypatch.setenv("KAMCTL_WORKERS", workers)
        ws = load_workspace(corpus, use_cache=use_cache)
        return [(f.rule, f.file, f.line, f.column, f.message, f.account) for f in ws.findings]

    serial = findings("1", False)
    assert findings("2", False) == serial
    assert findings("2", True) == serial
    assert not (corpus / ".kamctl-cache").exists()
