"""kamctl.fsafe and every workspace reader/writer on top of it: links out, FIFOs, devices, races, sizes.

The CLI tests run the installed entry point in a subprocess with a timeout: a hang is a failure,
not a stuck suite. "Outside" is a folder next to the workspace whose every byte is compared before
and after.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.test_hostile import run_measured
from kamctl import fsafe
from kamctl.scaffold import sample_account_text

ROOT = Path(__file__).resolve().parent.parent
KAMCTL = ROOT / ".venv" / "bin" / "kamctl"
EXAMPLES = ROOT / "examples"
SAMPLE = sample_account_text("x")  # the sample account as `kamctl init` writes it
SECRET = "SECRET-7f3a9c-do-not-leak"


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry below folder (links not followed): kind, size, mtime and content hash."""
    out = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        out[str(path.relative_to(folder))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def cli(*args, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(KAMCTL), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.yaml").write_text(SAMPLE.replace("Northwind Foods", SECRET))
    (folder / "plain.txt").write_text("keep me\n")
    return folder


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A copy of the examples with this test's own cache secret."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.delenv("KAMCTL_WORKSPACE", raising=False)
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".kamctl-cache"))
    return root


# --- fsafe itself ------------------------------------------------------------------------------------


def test_reads_a_regular_file_and_a_link_that_stays_inside(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.yaml").write_bytes(b"x: 1\n")
    (tmp_path / "rel.yaml").symlink_to("a/f.yaml")
    (tmp_path / "abs.yaml").symlink_to(tmp_path / "a" / "f.yaml")
    (tmp_path / "b").symlink_to("a")
    for name in ("a/f.yaml", "rel.yaml", "abs.yaml", "b/f.yaml", "b/../a/f.yaml", "./a//f.yaml"):
        assert fsafe.read_bytes(tmp_path, name, 100) == b"x: 1\n", name


@pytest.mark.parametrize("target", ["../outside/plain.txt", "OUTSIDE", "/dev/zero", "/etc/passwd", "loop"])
def test_a_link_out_of_the_workspace_is_refused(tmp_path, outside, target):
    root = tmp_path / "ws"
    root.mkdir()
    target = str(outside / "plain.txt") if target == "OUTSIDE" else target
    (root / "f.yaml").symlink_to(target)
    (root / "loop").symlink_to("loop")
    with pytest.raises(fsafe.Outside):
        fsafe.read_bytes(root, "f.yaml", 1 << 20)


def test_dot_dot_and_an_outside_folder_link_are_refused(tmp_path, outside):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "accounts").symlink_to(outside)
    with pytest.raises(fsafe.Outside):
        fsafe.read_bytes(root, "../outside/plain.txt", 100)
    with pytest.raises(fsafe.Outside):
        fsafe.read_bytes(root, "accounts/plain.txt", 100)
    with pytest.raises(fsafe.Outside):
        fsafe.open_dir(root, "accounts")
    with pytest.raises(fsafe.Outside):
        fsafe.relative(root, outside / "plain.txt")


def test_fifo_folder_and_file_as_folder_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "file").write_text("x")
    start = time.monotonic()
    for name in ("pipe.yaml", "dir.yaml", "file/below.yaml"):
        with pytest.raises(fsafe.NotRegular):
            fsafe.read_bytes(tmp_path, name, 100)
    assert time.monotonic() - start < 5


def test_the_limit_is_checked_on_the_open_file_and_while_reading(tmp_path, monkeypatch):
    (tmp_path / "big").write_bytes(b"x" * 1001)
    with pytest.raises(fsafe.TooLarge) as exc:
        fsafe.read_bytes(tmp_path, "big", 1000)
    assert exc.value.size == 1001
    assert fsafe.read_bytes(tmp_path, "big", 1001) == b"x" * 1001
    # A file that grows after fstat (here: fstat says 0, as /proc and devices do): reading stops at limit+1.
    read = []
    real_read = os.read
    monkeypatch.setattr(fsafe.os, "read", lambda fd, n: read.append(n) or real_read(fd, n))
    fd = os.open("/dev/zero", os.O_RDONLY)
    try:
        with pytest.raises(fsafe.TooLarge) as exc:
            fsafe.read_fd(fd, 5000)
    finally:
        os.close(fd)
    assert exc.value.size is None and sum(read) == 5001


def test_open_dir_without_links_and_creating(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    os.close(fsafe.open_dir(tmp_path, "link"))
    with pytest.raises(fsafe.Outside):
        fsafe.open_dir(tmp_path, "link", follow=False)
    with pytest.raises(fsafe.Outside):
        fsafe.open_dir(tmp_path, "link/sub", create=True, follow=False)
    assert not (tmp_path / "real" / "sub").exists()
    os.close(fsafe.open_dir(tmp_path, "a/b/c", create=True, follow=False))
    assert (tmp_path / "a" / "b" / "c").is_dir()


def test_write_file_replaces_a_planted_link_never_writes_through_it(tmp_path, outside):
    before = snapshot(outside)
    (tmp_path / "out.md").symlink_to(outside / "plain.txt")
    fd = fsafe.open_dir(tmp_path, "")
    try:
        fsafe.write_file(fd, "out.md", b"new\n")
        with pytest.raises(FileExistsError):
            fsafe.write_file(fd, "out.md", b"other\n", replace=False)
        (tmp_path / "new.md").symlink_to(outside / "missing.txt")  # a dangling link: still "exists"
        with pytest.raises(FileExistsError):
            fsafe.write_file(fd, "new.md", b"x", replace=False)
    finally:
        os.close(fd)
    assert (tmp_path / "out.md").read_bytes() == b"new\n" and not (tmp_path / "out.md").is_symlink()
    assert snapshot(outside) == before and not (outside / "missing.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.md", "out.md", "outside"]  # no temporary left


def test_write_file_mode_follows_the_umask_not_mkstemp(tmp_path):
    old = os.umask(0o022)
    try:
        fd = fsafe.open_dir(tmp_path, "")
        try:
            fsafe.write_file(fd, "f", b"x")
            fsafe.write_file(fd, "g", b"x", keep_mode=0o640)
        finally:
            os.close(fd)
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "g").stat().st_mode & 0o777 == 0o640


def _flipper(link: Path, inside: Path, secret: Path, stop: threading.Event) -> None:
    """Swap link between a regular file (inside) and a symlink to the secret, as fast as it can."""
    tmp_file, tmp_link = link.with_name(".flip-file"), link.with_name(".flip-link")
    while not stop.is_set():
        for make, tmp in ((lambda p: shutil.copyfile(inside, p), tmp_file), (lambda p: p.symlink_to(secret), tmp_link)):
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            make(tmp)
            os.replace(tmp, link)


def test_a_swapped_link_never_leaks_the_outside_file(tmp_path, outside):
    root = tmp_path / "ws"
    (root / "accounts").mkdir(parents=True)
    inside = root / "inside.txt"
    inside.write_text("inside\n")
    link = root / "accounts" / "x.yaml"
    link.write_text("inside\n")
    stop = threading.Event()
    flipper = threading.Thread(target=_flipper, args=(link, inside, outside / "secret.yaml", stop), daemon=True)
    flipper.start()
    seen = {"ok": 0, "refused": 0}
    try:
        for _ in range(3000):
            try:
                data = fsafe.read_bytes(root, "accounts/x.yaml", 1 << 20)
            except fsafe.Outside:
                seen["refused"] += 1
                continue
            except FileNotFoundError:
                continue
            assert SECRET.encode() not in data
            seen["ok"] += 1
    finally:
        stop.set()
        flipper.join()
    assert seen["ok"] and seen["refused"]  # both sides of the race were hit


# --- the cache --------------------------------------------------------------------------------------


def _plant_hostile(folder: Path, outside: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        p = folder / name
        if p.exists() or p.is_symlink():
            p.unlink()
        kind = i % 5
        if kind == 0:
            p.symlink_to("/dev/zero")
        elif kind == 1:
            os.mkfifo(p)
        elif kind == 2:
            with open(p, "wb") as fh:  # sparse: huge, costs no disk
                fh.truncate(8 * 1024 ** 3)
        elif kind == 3:
            p.symlink_to(outside / "secret.yaml")
        else:
            p.write_bytes(os.urandom(4096))


@pytest.mark.slow
@pytest.mark.parametrize("command", [["score"], ["check"], ["validate"]])
def test_a_hostile_cache_folder_costs_nothing(ws, outside, command):
    expected = cli("--no-cache", *command, cwd=ws)
    assert cli(*command, cwd=ws).stdout == expected.stdout  # the cache is written
    cache = ws / ".kamctl-cache"
    _plant_hostile(cache / "accounts", outside, [f"{c * 8}.pack" for c in "abcdefghij"])
    _plant_hostile(cache, outside, ["check.pack"])
    for pack in (cache / "accounts").glob("*.pack"):  # the real packs too: /dev/zero, FIFO, huge...
        _plant_hostile(cache / "accounts", outside, [pack.name])
    before = snapshot(outside)
    run, seconds, rss = run_measured([str(KAMCTL), *command], ws)
    assert seconds < 60
    assert rss < 400, f"max RSS {rss:.0f} MB"
    assert run.returncode == expected.returncode and run.stdout == expected.stdout
    assert SECRET not in run.stdout
    assert snapshot(outside) == before


def test_cache_folder_that_is_a_link_out_is_not_used(ws, outside):
    (ws / ".kamctl-cache").symlink_to(outside)
    before = snapshot(outside)
    for command in ("validate", "check", "score"):
        r = cli(command, cwd=ws)
        assert r.returncode == 0, r.stderr
    assert snapshot(outside) == before


def test_cache_accounts_folder_that_is_a_link_is_not_used(ws, outside):
    (ws / ".kamctl-cache").mkdir()
    (ws / ".kamctl-cache" / "accounts").symlink_to(outside)
    before = snapshot(outside)
    assert cli("validate", cwd=ws).returncode == 0
    assert snapshot(outside) == before


def test_cache_gitignore_link_is_left_alone(ws, outside):
    (ws / ".kamctl-cache").mkdir()
    (ws / ".kamctl-cache" / ".gitignore").symlink_to(outside / "plain.txt")
    before = snapshot(outside)
    assert cli("check", cwd=ws).returncode == 0
    assert snapshot(outside) == before
    assert list((ws / ".kamctl-cache" / "accounts").glob("*.pack"))  # the cache itself still works


def test_planted_temporary_names_are_never_written_through(ws, outside):
    cache = ws / ".kamctl-cache"
    (cache / "accounts").mkdir(parents=True)
    try:
        last = int(Path("/proc/sys/kernel/ns_last_pid").read_text())
    except OSError:
        last = os.getpid()
    for pid in range(max(2, last - 50), last + 3000):  # whatever pid the next kamctl gets
        (cache / f".check.pack.{pid}.tmp").symlink_to(outside / "plain.txt")
    before = snapshot(outside)
    assert cli("check", cwd=ws).returncode == 0
    assert snapshot(outside) == before
    assert (cache / "check.pack").is_file()


# --- accounts, kam.yaml, templates, render output --------------------------------------------------


def test_accounts_folder_link_out_refuses_new_and_lists_nothing(ws, outside):
    shutil.rmtree(ws / "accounts")
    (ws / "accounts").symlink_to(outside)
    before = snapshot(outside)
    r = cli("new", "x", "--name", "X", cwd=ws)
    assert r.returncode == 2 and "outside the workspace" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    for command in ("validate", "check", "score", "portfolio"):
        r = cli(command, cwd=ws)
        assert r.returncode == 2 and "outside the workspace" in r.stderr, r
        assert "secret" not in (r.stdout + r.stderr).lower()  # not even the names of the outside files
    assert snapshot(outside) == before


def test_init_refuses_an_accounts_link_out(tmp_path, outside):
    target = tmp_path / "new-ws"
    target.mkdir()
    (target / "accounts").symlink_to(outside)
    before = snapshot(outside)
    r = cli("init", target, cwd=tmp_path)
    assert r.returncode == 2 and "outside the workspace" in r.stderr, r.stderr
    assert snapshot(outside) == before


def test_new_writes_a_fresh_file_with_the_umask_mode(ws):
    r = subprocess.run(f"umask 027 && exec {KAMCTL} new acme --name Acme", shell=True, cwd=ws,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (ws / "accounts" / "acme.yaml").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("kind", ["fifo", "folder", "dev-zero"])
def test_account_file_that_is_not_a_file_is_a_finding(ws, kind):
    p = ws / "accounts" / "zz-bad.yaml"
    {"fifo": os.mkfifo, "folder": os.mkdir, "dev-zero": lambda q: q.symlink_to("/dev/zero")}[kind](p)
    r = cli("validate", cwd=ws, timeout=30)
    assert r.returncode == 1
    assert [ln for ln in r.stdout.splitlines() if "zz-bad.yaml" in ln and "KAM008" in ln], r.stdout


def test_kam_yaml_fifo_does_not_hang(ws):
    (ws / "kam.yaml").unlink()
    os.mkfifo(ws / "kam.yaml")
    r = cli("-w", ws, "validate", cwd=ws.parent, timeout=30)
    assert r.returncode in (1, 2) and "kam.yaml" in r.stdout + r.stderr


def _swap_race_runs(ws: Path, outside: Path, commands: list[list[str]], runs: int) -> None:
    link = ws / "accounts" / "x.yaml"
    inside = ws / "x-inside.txt"
    inside.write_text(SAMPLE.replace("Northwind Foods", "Inside Foods"))
    shutil.copyfile(inside, link)
    stop = threading.Event()
    flipper = threading.Thread(target=_flipper, args=(link, inside, outside / "secret.yaml", stop), daemon=True)
    flipper.start()
    outputs = []
    try:
        for i in range(runs):
            r = cli(*commands[i % len(commands)], cwd=ws, timeout=60)
            outputs.append(r.stdout + r.stderr)
    finally:
        stop.set()
        flipper.join()
    assert not [o for o in outputs if SECRET in o]
    assert any("Inside Foods" in o or "x.yaml" in o for o in outputs)


@pytest.mark.slow
def test_swapping_an_account_link_during_runs_never_leaks(ws, outside):
    _swap_race_runs(ws, outside, [["validate"], ["score", "--format", "json"], ["--no-cache", "score"],
                                  ["render", "plan", "x"]], runs=100)


def test_workspace_template_link_out_or_fifo_is_refused(ws, outside):
    (ws / "templates").mkdir()
    (ws / "templates" / "plan.md.j2").symlink_to(outside / "plain.txt")
    r = cli("render", "plan", "alpenmilch-foods", cwd=ws, timeout=30)
    assert r.returncode == 1 and "keep me" not in r.stdout and "outside the workspace" in r.stderr, r
    (ws / "templates" / "plan.md.j2").unlink()
    os.mkfifo(ws / "templates" / "plan.md.j2")
    r = cli("render", "plan", "alpenmilch-foods", cwd=ws, timeout=30)
    assert r.returncode == 1 and "plan.md.j2" in r.stderr
    shutil.rmtree(ws / "templates")
    (ws / "templates").symlink_to(outside)
    r = cli("render", "plan", "alpenmilch-foods", cwd=ws, timeout=30)
    assert r.returncode == 1 and "outside the workspace" in r.stderr


@pytest.mark.parametrize("kind", ["fifo", "link", "folder"])
def test_render_output_that_is_not_a_file_is_refused(ws, outside, kind):
    out = ws / "docs"
    out.mkdir()
    p = out / "alpenmilch-foods-plan.md"
    {"fifo": os.mkfifo, "folder": os.mkdir, "link": lambda q: q.symlink_to(outside / "plain.txt")}[kind](p)
    before = snapshot(outside)
    r = cli("render", "all", "--out", out, cwd=ws, timeout=60)
    assert r.returncode == 1, r
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and "alpenmilch-foods-plan.md" in errors[0], r.stderr
    assert snapshot(outside) == before


def test_render_output_over_a_regular_file_keeps_its_mode(ws):
    out = ws / "docs"
    assert cli("render", "plan", "alpenmilch-foods", "--out", out, cwd=ws).returncode == 0
    doc = out / "alpenmilch-foods-plan.md"
    doc.write_text("stale\n")
    doc.chmod(0o600)
    r = cli("render", "plan", "alpenmilch-foods", "--out", out, cwd=ws)
    assert r.returncode == 0 and "wrote" in r.stderr and doc.stat().st_mode & 0o777 == 0o600
    assert "unchanged" in cli("render", "plan", "alpenmilch-foods", "--out", out, cwd=ws).stderr
