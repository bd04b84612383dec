"""The check-result cache (.kamctl-cache/check.pack) and the packed parse cache: warm = cold, byte for byte."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES

AS_OF = "2026-06-30"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def _own_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("KAMCTL_WORKERS", "1")  # in-process, so the guards below see every parse


@pytest.fixture
def examples(tmp_path):
    ws = tmp_path / "examples"
    shutil.copytree(EXAMPLES, ws, ignore=shutil.ignore_patterns(".kamctl-cache"))
    return ws


def _guard(monkeypatch):
    """Fail on any parse of an account file, any Pydantic validation of an account, any rule run."""
    from kamctl import checks
    from kamctl.model.account import Account
    from kamctl import workspace
    from kamctl.yamlio import read

    original = read.parse_bytes

    def parse(raw, shown, *args, **kwargs):
        if "accounts" in str(shown):
            raise AssertionError(f"parsed {shown} although the check cache holds it")
        return original(raw, shown, *args, **kwargs)

    def boom(*args, **kwargs):
        raise AssertionError("work done although the check cache holds the result")

    monkeypatch.setattr(workspace, "parse_bytes", parse)  # where accounts are parsed
    monkeypatch.setattr(checks, "check_account", boom)
    monkeypatch.setattr(Account, "model_validate_json", boom)
    monkeypatch.setattr(Account, "model_validate", boom)


FORMATS = ("text", "json", "parsable", "github", "junit")


def _outputs(kamctl, ws, *extra):
    out = {}
    for fmt in FORMATS:
        r = kamctl("check", "--as-of", AS_OF, "--format", fmt, *extra, ws=ws)
        out[fmt] = (r.exit_code, r.stdout)
    return out


def test_warm_check_is_byte_identical_and_does_no_work(kamctl, examples, monkeypatch):
    fresh = _outputs(kamctl, examples, "--fail-on", "warning")
    bare = {fmt: kamctl("--no-cache", "check", "--as-of", AS_OF, "--format", fmt, "--fail-on", "warning", ws=examples)
            for fmt in FORMATS}
    assert {f: (r.exit_code, r.stdout) for f, r in bare.items()} == fresh
    assert (examples / ".kamctl-cache" / "check.pack").is_file()
    with monkeypatch.context() as m:
        _guard(m)
        assert _outputs(kamctl, examples, "--fail-on", "warning") == fresh


def test_warm_check_writes_each_accounts_part_as_the_view_cache_has_it(kamctl, examples, monkeypatch):
    """The second run of a format takes each unchanged account's part of its output from
    view-FORMAT.pack: none of their findings is made, shown or written again, and the bytes and
    the exit code are those of a check without any cache, colour included."""
    from kamctl.checks.incremental import Served

    formats = FORMATS
    bare = {fmt: kamctl("--no-cache", "check", "--as-of", AS_OF, "--format", fmt, "--fail-on", "warning", ws=examples)
            for fmt in formats}
    expected = {f: (r.exit_code, r.stdout) for f, r in bare.items()}
    assert all(code == 1 for code, _ in expected.values())  # the examples have warnings: the exit code is tested
    assert _outputs(kamctl, examples, "--fail-on", "warning") == expected  # fills check.pack and each view
    cache = examples / ".kamctl-cache"
    assert {p.name for p in cache.glob("view-*.pack")} == {"view-text.pack", "view-json.pack", "view-parsable.pack",
                                                            "view-github.pack", "view-junit-warning.pack"}

    def expanded(self):
        raise AssertionError(f"{self.file}: findings made although the view cache holds its part")

    with monkeypatch.context() as m:
        _guard(m)
        m.setattr(Served, "findings", expanded)
        for fmt in formats:
            r = kamctl("check", "--as-of", AS_OF, "--format", fmt, "--fail-on", "warning", ws=examples)
            assert (r.exit_code, r.stdout) == expected[fmt], fmt


def test_a_view_is_used_only_for_the_same_file_as_shown_and_the_same_colour(kamctl, examples, monkeypatch):
    """Parts name the account's file as shown (relative to where kamctl runs) and may be painted:
    run from another folder, or on a terminal, a part is made afresh, never taken for another's."""
    from kamctl.cli import check as cli_check

    plain = kamctl("check", "--as-of", AS_OF, ws=examples).stdout
    monkeypatch.chdir(examples.parent)
    here = kamctl("check", "--as-of", AS_OF, ws=Path(examples.name)).stdout
    assert here == kamctl("--no-cache", "check", "--as-of", AS_OF, ws=Path(examples.name)).stdout
    assert here != plain and f"{examples.name}/accounts/" in here
    monkeypatch.setattr(cli_check, "_colour", lambda: True)
    painted = kamctl("check", "--as-of", AS_OF, ws=examples).stdout
    assert "\x1b[" in painted and painted == kamctl("check", "--as-of", AS_OF, ws=examples).stdout
    assert painted == kamctl("--no-cache", "check", "--as-of", AS_OF, ws=examples).stdout
    assert (examples / ".kamctl-cache" / "view-text-colour.pack").is_file()


@pytest.mark.parametrize("kind", ["planted", "flipped", "truncated"])
def test_a_planted_or_corrupt_view_is_ignored_and_rebuilt(kamctl, examples, kind):
    """view-text.pack is as untrusted as the rest of the folder: text under a MAC made without this
    user's secret (here: a part that hides every finding) is never written out."""
    fresh = kamctl("check", "--as-of", AS_OF, "--fail-on", "warning", ws=examples)
    path = examples / ".kamctl-cache" / "view-text.pack"
    blob = path.read_bytes()
    head, body = blob.split(b"\n", 1)
    if kind == "planted":
        body = marshal.dumps({k: "" for k in marshal.loads(body)})
        mac = hashlib.blake2b(body, digest_size=16, person=b"kamctl-check").hexdigest()
        path.write_bytes(json.dumps({"format": json.loads(head)["format"], "mac": mac}).encode() + b"\n" + body)
    elif kind == "flipped":
        path.write_bytes(blob[:-50] + bytes([blob[-50] ^ 0x01]) + blob[-49:])
    else:
        path.write_bytes(blob[: len(blob) // 2])
    again = kamctl("check", "--as-of", AS_OF, "--fail-on", "warning", ws=examples)
    assert (again.exit_code, again.stdout) == (fresh.exit_code, fresh.stdout)
    assert path.read_bytes() == blob  # rebuilt, as the first run wrote it


def test_an_account_linked_inside_the_workspace_is_served_warm(kamctl, examples, monkeypatch):
    """The warm look-up reads accounts/ without following links, then reads a link the usual way:
    an account kept elsewhere in the workspace and linked into accounts/ is still served."""
    first = sorted((examples / "accounts").glob("*.yaml"))[0]
    (examples / "kept").mkdir()
    first.rename(examples / "kept" / first.name)
    first.symlink_to(Path("..") / "kept" / first.name)
    fresh = _outputs(kamctl, examples)
    assert fresh == {f: (r.exit_code, r.stdout) for f, r in
                     ((f, kamctl("--no-cache", "check", "--as-of", AS_OF, "--format", f, ws=examples)) for f in FORMATS)}
    assert first.stem in fresh["text"][1]
    with monkeypatch.context() as m:
        _guard(m)
        assert _outputs(kamctl, examples) == fresh


def test_no_cache_neither_reads_nor_writes_the_check_cache(kamctl, examples):
    kamctl("--no-cache", "check", "--as-of", AS_OF, ws=examples)
    assert not (examples / ".kamctl-cache").exists()


def test_cold_run_writes_one_pack_one_check_file_and_the_formats_view(kamctl, examples):
    kamctl("check", "--as-of", AS_OF, ws=examples)
    cache = examples / ".kamctl-cache"
    assert sorted(p.name for p in cache.iterdir()) == [".gitignore", "accounts", "check.pack", "view-text.pack"]
    assert len(list((cache / "accounts").iterdir())) == 1
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*")}
    kamctl("check", "--as-of", AS_OF, ws=examples)  # warm: nothing new, nothing written
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*")} == before


@pytest.mark.parametrize("change", ["account", "kam.yaml", "as_of", "select", "ignore", "new file", "removed"])
def test_anything_a_result_depends_on_gives_a_fresh_result(kamctl, examples, change):
    kamctl("check", "--as-of", AS_OF, ws=examples)
    args = ["check", "--as-of", AS_OF]
    first = sorted((examples / "accounts").glob("*.yaml"))[0]
    if change == "account":
        first.write_text(first.read_text().replace("decision_makers:", "decision_makers: []\nx_old:", 1)
                         if "decision_makers:" in first.read_text() else first.read_text() + "\n# edited\n")
    elif change == "kam.yaml":
        (examples / "kam.yaml").write_text((examples / "kam.yaml").read_text()
                                           + "\nchecks:\n  rules:\n    KAM2: error\n")
    elif change == "as_of":
        args = ["check", "--as-of", "2027-03-01"]
    elif change == "select":
        args += ["--select", "KAM3"]
    elif change == "ignore":
        args += ["--ignore", "KAM2,KAM4"]
    elif change == "new file":
        shutil.copy(first, examples / "accounts" / "zz-copy.yaml")
    elif change == "removed":
        first.unlink()
    for fmt in FORMATS:
        warm = kamctl(*args, "--format", fmt, ws=examples)
        bare = kamctl("--no-cache", *args, "--format", fmt, ws=examples)
        assert (warm.exit_code, warm.stdout, warm.stderr) == (bare.exit_code, bare.stdout, bare.stderr), (change, fmt)


def test_files_with_findings_are_not_cached_and_still_reported(kamctl, examples, monkeypatch):
    (examples / "accounts" / "broken.yaml").write_text("name: Broken\nstrategy: {barriers: 3}\n")
    (examples / "accounts" / "Bad Name.yaml").write_text("name: X\n")
    fresh = _outputs(kamctl, examples)
    assert "KAM007" in fresh["text"][1] and "broken.yaml" in fresh["text"][1]
    cached = marshal.loads((examples / ".kamctl-cache" / "check.pack").read_bytes().split(b"\n", 1)[1])
    n_accounts = len(list((examples / "accounts").glob("*.yaml"))) - 2
    assert len(cached) == n_accounts
    assert _outputs(kamctl, examples) == fresh


@pytest.mark.parametrize("kind", ["truncated", "empty", "flipped", "garbage", "planted", "other-format", "directory"])
def test_a_corrupt_or_foreign_check_cache_is_ignored_and_rebuilt(kamctl, examples, kind):
    fresh = _outputs(kamctl, examples)
    path = examples / ".kamctl-cache" / "check.pack"
    blob = path.read_bytes()
    head, body = blob.split(b"\n", 1)
    if kind == "truncated":
        path.write_bytes(blob[: len(blob) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "flipped":
        path.write_bytes(blob[:-50] + bytes([blob[-50] ^ 0x01]) + blob[-49:])
    elif kind == "garbage":
        path.write_bytes(b"\x80\x04 not json \xff\n\n")
    elif kind == "planted":  # says there is nothing to report, MAC made without the secret
        entries = {k: [[], v[1], []] for k, v in marshal.loads(body).items()}
        body = marshal.dumps(entries)
        mac = hashlib.blake2b(body, digest_size=16, person=b"kamctl-check").hexdigest()
        path.write_bytes(json.dumps({"format": json.loads(head)["format"], "mac": mac}).encode() + b"\n" + body)
    elif kind == "other-format":
        meta = json.loads(head)
        meta["format"] = "kamctl-check-0"
        path.write_bytes(json.dumps(meta).encode() + b"\n" + body)
    elif kind == "directory":
        path.unlink()
        path.mkdir()
    assert _outputs(kamctl, examples) == fresh
    if kind != "directory":
        assert path.read_bytes() == blob  # rebuilt, as the cold run wrote it
    assert _outputs(kamctl, examples) == fresh


def test_a_check_cache_from_another_user_is_never_used(kamctl, examples, tmp_path, monkeypatch):
    fresh = _outputs(kamctl, examples)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))
    calls = []
    from kamctl import checks

    original = checks.check_account
    monkeypatch.setattr(checks, "check_account", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert _outputs(kamctl, examples) == fresh
    assert calls


def test_parallel_cold_and_warm_agree_with_serial(kamctl, examples, monkeypatch):
    base = kamctl("--no-cache", "check", "--as-of", AS_OF, "--format", "json", ws=examples).stdout
    monkeypatch.setenv("KAMCTL_WORKERS", "2")
    for args in (["--no-cache"], [], []):  # workers without cache, cold (workers check), warm
        assert kamctl(*args, "check", "--as-of", AS_OF, "--format", "json", ws=examples).stdout == base


def test_validate_and_score_stay_warm_after_check(kamctl, examples, monkeypatch):
    """The parse cache (one pack written by the check) serves the other read-only commands."""
    bare_validate = kamctl("--no-cache", "validate", ws=examples)
    bare_score = kamctl("--no-cache", "score", ws=examples)
    kamctl("check", "--as-of", AS_OF, ws=examples)
    from kamctl import workspace
    from kamctl.yamlio import read

    original = read.parse_bytes

    def parse(raw, shown, *args, **kwargs):
        if "accounts" in str(shown):
            raise AssertionError("parsed although the parse cache holds the file")
        return original(raw, shown, *args, **kwargs)
    monkeypatch.setattr(workspace, "parse_bytes", parse)  # where accounts are parsed
    for args, bare in ((["validate"], bare_validate), (["score"], bare_score)):
        r = kamctl(*args, ws=examples)
        assert (r.exit_code, r.stdout, r.stderr) == (bare.exit_code, bare.stdout, bare.stderr)


def test_packs_are_merged_when_there_are_many(examples, monkeypatch):
    from kamctl import cache as cache_mod
    from kamctl.loader import load_workspace

    monkeypatch.setattr(cache_mod, "MAX_PACKS", 3)
    first = sorted((examples / "accounts").glob("*.yaml"))[0]
    text = first.read_text()
    for i in range(6):  # each run stores one changed file: one new pack
        first.write_text(text + f"\n# edit {i}\n")
        load_workspace(examples)
        assert len(list((examples / ".kamctl-cache" / "accounts").glob("*.pack"))) <= 4
    fresh = [(a.id, a.account) for a in load_workspace(examples, use_cache=False).accounts]
    assert [(a.id, a.account) for a in load_workspace(examples).accounts] == fresh


# --- git: KAM801/802 read the history, so HEAD and the file's state are part of the key ------------------

ACCOUNT = """\
name: Stale Co
strategy:
  key_business_objectives: [Grow]
plan:
  year: 2025
  objectives:
    - title: Win the tender
decision_makers:
  - name: Ann Buyer
"""


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = dict(os.environ)
    if date:
        stamp = f"{date}T12:00:00+00:00"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo_ws(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    ws = repo / "kam"
    (ws / "accounts").mkdir(parents=True)
    (ws / "kam.yaml").write_text("")
    (ws / "accounts" / "stale.yaml").write_text(ACCOUNT)
    (ws / "accounts" / "other.yaml").write_text(ACCOUNT.replace("Stale Co", "Other Co"))
    _git(repo, "init", "-q", "-b", "main")
    for key, value in (("user.name", "T"), ("user.email", "t@example.com"), ("commit.gpgsign", "false")):
        _git(repo, "config", key, value)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "plans", date="2025-01-10")
    return ws


def _same_as_no_cache(kamctl, ws, as_of="2026-09-01"):
    for fmt in ("text", "json"):
        warm = kamctl("check", "--as-of", as_of, "--format", fmt, ws=ws)
        bare = kamctl("--no-cache", "check", "--as-of", as_of, "--format", fmt, ws=ws)
        assert (warm.exit_code, warm.stdout) == (bare.exit_code, bare.stdout)
    return bare.stdout


@needs_git
def test_git_workspace_warm_equals_cold_and_follows_commits_and_edits(kamctl, repo_ws, monkeypatch):
    out = _same_as_no_cache(kamctl, repo_ws)
    assert "KAM801" in out and "KAM802" in out
    with monkeypatch.context() as m:  # warm and unchanged: served from the cache
        _guard(m)
        assert kamctl("check", "--as-of", "2026-09-01", "--format", "json", ws=repo_ws).stdout == out
    stale = repo_ws / "accounts" / "stale.yaml"
    stale.write_text(ACCOUNT.replace("Win the tender", "Win the bigger tender"))  # uncommitted edit
    out = _same_as_no_cache(kamctl, repo_ws)
    assert "KAM802" in out  # other.yaml is still stale
    _git(repo_ws.parent, "add", "-A")
    _git(repo_ws.parent, "commit", "-q", "-m", "new plan", date="2026-08-01")
    out2 = _same_as_no_cache(kamctl, repo_ws)
    stale.write_text(ACCOUNT)  # back to the old bytes, now a modification of HEAD
    _same_as_no_cache(kamctl, repo_ws)
    _git(repo_ws.parent, "add", "-A")  # staged only
    _same_as_no_cache(kamctl, repo_ws)
    assert out2
    # untracked file
    (repo_ws / "accounts" / "new.yaml").write_text(ACCOUNT.replace("Stale Co", "New Co"))
    _same_as_no_cache(kamctl, repo_ws)


@needs_git
def test_git_state_is_one_call(repo_ws, monkeypatch):
    from kamctl import git

    calls = []
    original = git.run
    monkeypatch.setattr(git, "run", lambda cwd, args, *a, **k: calls.append(args) or original(cwd, args, *a, **k))
    (repo_ws / "accounts" / "stale.yaml").write_text(ACCOUNT + "\n# edited\n")
    (repo_ws / "accounts" / "new.yaml").write_text(ACCOUNT)
    head, files = git.git_state(repo_ws)
    assert len(calls) == 1
    assert len(head) == 40 and files == {"stale.yaml": ".M", "new.yaml": "??"}
    outside = repo_ws.parent.parent / "plain"
    outside.mkdir()
    assert git.git_state(outside) == ("-", {})


def test_check_cache_file_has_no_pickle_and_a_mac(kamctl, examples):
    kamctl("check", "--as-of", AS_OF, ws=examples)
    head, body = (examples / ".kamctl-cache" / "check.pack").read_bytes().split(b"\n", 1)
    meta = json.loads(head)
    assert set(meta) == {"format", "mac"}
    assert isinstance(marshal.loads(body), dict) and not body.startswith(b"\x80")  # marshal, not pickle
    assert b"KAM" in body
