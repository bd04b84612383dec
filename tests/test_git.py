"""kamctl.git, the only module that runs git, against repositories nobody vouched for.

Paths are literal (a folder named `k*` is not a pattern), a huge blob in history is refused
without being read, and nothing in the repository's config (fsmonitor, hooks, textconv, external
diff, pager) runs. Also: the one explicit rule registry covers every rule module.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_hostile import run_measured

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
KAMCTL = ROOT / ".venv" / "bin" / "kamctl"
ACME = "name: Acme\nattractiveness:\n  size: 7\nrelative_strength:\n  price: 6\n"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "a@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def put(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--no-gpg-sign", "-m", message)


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    return path


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(KAMCTL), *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"})


# --- literal paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["k*", ":(glob)k*", "k[x]"])
def test_workspace_folder_is_a_literal_path_not_a_pattern(tmp_path, folder):
    repo = new_repo(tmp_path / "repo")
    for name in (folder, "kx"):
        put(repo / name / "kam.yaml", "")
        put(repo / name / "accounts" / "acme.yaml", ACME)
    commit(repo, "both")
    put(repo / "kx" / "accounts" / "acme.yaml", ACME.replace("Acme", "Acme X"))
    commit(repo, "only kx")
    r = cli("-w", str(repo / folder), "history", "acme", "-f", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert [row["subject"] for row in rows] == ["both"]  # a pattern would also see kx's commit


def test_a_file_named_star_yaml_is_that_file(tmp_path):
    from kamctl.git import git_state, open_repo

    repo = new_repo(tmp_path / "repo")
    put(repo / "accounts" / "*.yaml", "name: Star\n")
    put(repo / "accounts" / "acme.yaml", ACME)
    commit(repo, "both")
    put(repo / "accounts" / "acme.yaml", ACME + "# edited\n")
    commit(repo, "acme only")
    r = open_repo(repo)
    assert [e.commit.subject for e in r.changes("accounts/*.yaml", follow=True)] == ["both"]
    assert [e.commit.subject for e in r.changes("accounts/acme.yaml", follow=True)] == ["acme only", "both"]
    assert {p for *_, p in r.tree(r.commit("HEAD"), "accounts/*.yaml")} == {"accounts/*.yaml"}
    put(repo / "accounts" / "sub" / "deep.yaml", ACME)  # not directly in accounts/: not an account
    put(repo / "accounts" / "*.yaml", "name: Star 2\n")
    head, files = git_state(repo)
    assert len(head) == 40 and files == {"*.yaml": ".M"}


def test_a_commit_message_cannot_pose_as_a_commit_or_a_change(tmp_path):
    from kamctl.git import open_repo

    repo = new_repo(tmp_path / "repo")
    put(repo / "accounts" / "acme.yaml", ACME)
    fake = "\x1e" + "0" * 40 + "\x1f:100644 100644 " + "1" * 40 + " " + "2" * 40 + " D\taccounts/acme.yaml"
    commit(repo, fake)
    entries = open_repo(repo).changes("accounts")
    assert len(entries) == 1
    assert entries[0].commit.subject == fake
    assert [(c.status, c.path) for c in entries[0].changes] == [("A", "accounts/acme.yaml")]


# --- bounded blob reads ---------------------------------------------------------------------------------


def test_cat_reads_only_blobs_within_the_limit(tmp_path):
    from kamctl.git import open_repo

    repo = new_repo(tmp_path / "repo")
    put(repo / "small.txt", "small\n")
    put(repo / "big.txt", "x" * 5000)
    commit(repo, "two")
    r = open_repo(repo)
    got = r.cat(["HEAD:small.txt", "HEAD:big.txt", "HEAD:missing.txt", "HEAD", "HEAD:bad\nname"], limit=1000)
    assert got["HEAD:small.txt"].data == b"small\n" and got["HEAD:small.txt"].size == 6
    assert got["HEAD:big.txt"].data is None and got["HEAD:big.txt"].size == 5000
    assert got["HEAD:missing.txt"] is None and got["HEAD"] is None  # missing; a commit is not a blob
    assert "HEAD:bad\nname" not in got  # would break cat-file's line protocol


def _measured(args: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run the installed kamctl from a fresh helper process: (result, max RSS of kamctl and its git, in MB)."""
    result, _, rss = run_measured([str(KAMCTL), *args], Path.cwd(), {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"})
    return result, rss


@pytest.fixture(scope="module")
def huge_history(tmp_path_factory):
    """A workspace whose account was 50 MB in one commit (and small before and after)."""
    repo = new_repo(tmp_path_factory.mktemp("huge") / "repo")
    put(repo / "kam" / "kam.yaml", "")
    put(repo / "kam" / "accounts" / "acme.yaml", ACME)
    commit(repo, "small")
    with open(repo / "kam" / "accounts" / "acme.yaml", "w", encoding="utf-8") as f:
        f.write(ACME + "# " + "a" * (50 * 1024 * 1024) + "\n")
    commit(repo, "huge")
    put(repo / "kam" / "accounts" / "acme.yaml", ACME.replace("Acme", "Acme Two"))
    commit(repo, "small again")
    return repo / "kam"


def test_history_refuses_a_huge_blob_without_reading_it(huge_history):
    r, rss = _measured(["-w", str(huge_history), "history", "acme", "-f", "json"])
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert [row["subject"] for row in rows] == ["small", "huge", "small again"]
    problems = rows[1]["problems"]
    assert [p["rule"] for p in problems] == ["KAM004"]
    assert "52,428," in problems[0]["message"] and "the limit is 2,097,152" in problems[0]["message"]
    assert rss < 100, f"{rss:.0f} MB: the 50 MB blob was read"  # reading it whole costs over 200 MB


@pytest.mark.parametrize("args", [["score", "--at", "HEAD~1"], ["diff", "HEAD~2", "HEAD~1"], ["check"]])
def test_other_git_readers_stay_bounded_too(huge_history, args):
    r, rss = _measured(["-w", str(huge_history), *args])
    assert r.returncode in (0, 1), r.stderr
    if args[0] == "diff":
        assert "KAM004 file is 52,428," in r.stdout + r.stderr
    if args[0] == "score":
        assert r.returncode == 1 and "1 account file has problems" in r.stderr
    assert rss < 100, f"{rss:.0f} MB"


# --- nothing in the repository runs ----------------------------------------------------------------------


TRAPS = {  # what the repository's own config sets -> a plain git command that shows the trap is armed
    "fsmonitor": ([("core.fsmonitor", "{trap}")], ["status"]),
    "clean filter": ([("filter.trap.clean", "{trap}"), ("filter.trap.smudge", "{trap}"),
                      ("filter.trap.required", "true")], ["status"]),
    "textconv": ([("diff.trap.textconv", "{trap}")], ["log", "-p", "-1"]),
    "diff driver": ([("diff.trap.command", "{trap}")], ["diff", "HEAD~1"]),
    "external diff": ([("diff.external", "{trap}")], ["diff"]),
    "hooks": ([("core.hooksPath", "{hooks}")], ["commit", "-q", "--allow-empty", "-m", "hooked"]),
    "pager": ([("core.pager", "{trap}"), ("pager.log", "{trap}"), ("pager.status", "{trap}")], None),
}


@pytest.mark.parametrize("trap_name", sorted(TRAPS))
def test_repository_config_never_runs_anything(tmp_path, trap_name):
    marker = tmp_path / "MARKER"
    trap = tmp_path / "trap.sh"
    trap.write_text(f"#!/bin/sh\necho \"$0 $*\" >> '{marker}'\ncat\nexit 0\n")
    trap.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "post-index-change",
                 "reference-transaction", "pre-auto-gc", "post-rewrite"):
        shutil.copy(trap, hooks / name)
    repo = new_repo(tmp_path / "repo")
    put(repo / "kam.yaml", "")
    put(repo / "accounts" / "acme.yaml", ACME)
    put(repo / ".gitattributes", "*.yaml diff=trap filter=trap\n")
    commit(repo, "one")
    put(repo / "accounts" / "acme.yaml", ACME.replace("Acme", "Acme Two"))
    commit(repo, "two")
    settings, armed_by = TRAPS[trap_name]
    for key, value in settings:
        git(repo, "config", key, value.format(trap=trap, hooks=hooks))
    put(repo / "accounts" / "acme.yaml", ACME.replace("Acme", "Acme Tri"))  # same size: status reads it
    if armed_by is not None:  # plain git runs the trap
        subprocess.run(["git", *armed_by], cwd=repo, capture_output=True)
        assert marker.exists()
        marker.unlink()
    for args in (["check"], ["check"], ["history", "acme"], ["diff"], ["diff", "HEAD~1", "HEAD"],
                 ["score", "--at", "HEAD~1"], ["pipeline", "--at", "HEAD"]):
        r = cli("-w", str(repo), *args)
        assert r.returncode in (0, 1), (args, r.stderr)
        assert not marker.exists(), (args, marker.read_text())


def test_no_repository_is_a_clear_usage_error(tmp_path):
    plain = tmp_path / "plain"
    put(plain / "kam.yaml", "")
    put(plain / "accounts" / "acme.yaml", ACME)
    r = cli("-w", str(plain), "history", "acme")
    assert r.returncode == 2
    assert "is not in a git repository" in r.stderr


# --- one module runs git -------------------------------------------------------------------------------


def _runs_processes(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [n for n in names if n and n.split(".")[0] in ("subprocess", "pty")]
        elif isinstance(node, ast.Attribute) and node.attr in ("system", "popen", "execv", "execvp", "spawnv",
                                                                "posix_spawn", "startfile"):
            found.append(node.attr)
        elif isinstance(node, ast.Constant) and node.value == "git":
            found.append('"git"')
    return found


def test_only_the_git_module_runs_processes():
    package = ROOT / "kamctl"
    offenders = {}
    for path in sorted(package.rglob("*.py")):
        found = _runs_processes(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert set(offenders) == {"kamctl/git.py"}, offenders


def test_the_scan_finds_a_process_call():
    assert _runs_processes(ast.parse("import subprocess\nsubprocess.run(['git', 'log'])")) == ["subprocess", '"git"']
    assert _runs_processes(ast.parse("import os\nos.system('ls')")) == ["system"]


def test_git_and_errors_are_leaves():
    for name, allowed in (("git", {"kamctl.errors"}), ("errors", set())):
        tree = ast.parse((ROOT / "kamctl" / f"{name}.py").read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert {m for m in imported if m.startswith("kamctl")} == allowed


# --- one explicit rule registry --------------------------------------------------------------------------


def test_the_rule_module_list_covers_every_module_that_defines_rules():
    import kamctl.checks as checks
    from kamctl.checks.registry import checks_in

    listed = {m.__name__ for m in checks.RULE_MODULES}
    defining = set()
    for info in pkgutil.iter_modules(checks.__path__):
        module = importlib.import_module(f"kamctl.checks.{info.name}")
        source = Path(module.__file__).read_text(encoding="utf-8")
        if checks_in(module) or "@check(" in source:
            defining.add(module.__name__)
    assert defining == listed
    assert set(checks.CHECKS) == {r.code for m in checks.RULE_MODULES for r, _, _ in checks_in(m)}


def test_the_registry_holds_every_rule_once_in_code_families():
    import kamctl.checks as checks
    from kamctl.rules import LOADING_RULES

    assert set(checks.RULES) == {r.code for r in LOADING_RULES} | set(checks.CHECKS)
    assert checks.ALERTS <= set(checks.CHECKS) and "KAM404" in checks.ALERTS
    assert list(checks.RULES)[:len(LOADING_RULES)] == [r.code for r in LOADING_RULES]


def test_declaring_a_rule_registers_nothing_by_itself():
    import kamctl.checks as checks
    from kamctl.checks.registry import check

    before = dict(checks.RULES)

    @check("KAM999", "never-listed", "warning", "x" * 50, "nothing", "test")
    def never(loaded, ctx):
        yield (), "no"

    assert never.rule.code == "KAM999" and checks.RULES == before and "KAM999" not in checks.CHECKS
