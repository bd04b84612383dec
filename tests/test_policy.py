"""kam.yaml's check policy on real workspaces: per-quadrant severities, the strict Strategic policy
that `kamctl init` writes, its sample account passing, and the newcomer summary after `check`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import make_workspace

from kamctl.model.account import AXES, factor_names

KAMCTL = Path(sys.executable).with_name("kamctl")


def _init(kamctl, root: Path) -> Path:
    assert kamctl("init", str(root)).exit_code == 0
    return root


def _scored(root: Path, account_id: str, score: int) -> None:
    """Give every factor of both axes `score` in a file written by `kamctl new` (keeps its comments)."""
    path = root / "accounts" / f"{account_id}.yaml"
    text = path.read_text(encoding="utf-8")
    for axis in AXES:
        for name in factor_names(axis):
            text, n = re.subn(rf"^  {name}:[^#\n]*", f"  {name}: {score}  ", text, count=1, flags=re.M)
            assert n == 1, name
    path.write_text(text, encoding="utf-8")


def _json(kamctl, root: Path, *args: str) -> tuple[int, list[dict]]:
    r = kamctl("check", "--format", "json", *args, ws=root)
    return r.exit_code, json.loads(r.stdout)["findings"]


def test_fresh_init_sample_account_passes_check(tmp_path):
    """The installed command on a workspace just written: no finding at all, exit 0."""
    root = tmp_path / "ws"
    subprocess.run([str(KAMCTL), "init", str(root)], check=True, capture_output=True)
    r = subprocess.run([str(KAMCTL), "-w", str(root), "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 errors, 0 warnings, 0 info" in r.stdout
    assert "What to do next" not in r.stdout  # nothing to do
    # the sample is Strategic, so it passes the strict policy too
    score = subprocess.run([str(KAMCTL), "-w", str(root), "score", "--format", "json"], capture_output=True, text=True)
    assert "strategic" in score.stdout


def test_strategic_account_with_empty_charter_and_plan_fails(kamctl, tmp_path):
    """The Done-when of issue 13: with init's kam.yaml, an empty Strategic plan fails the check."""
    root = _init(kamctl, tmp_path / "ws")
    assert kamctl("new", "acme", "--name", "Acme", ws=root).exit_code == 0
    _scored(root, "acme", 8)
    code, findings = _json(kamctl, root)
    assert code == 1
    errors = {f["rule"] for f in findings if f["severity"] == "error"}
    assert {"KAM201", "KAM202", "KAM203", "KAM301", "KAM401"} <= errors
    assert all(f["account"] == "acme" for f in findings if f["severity"] == "error")
    assert all(f["rule"][:4] in ("KAM2", "KAM3", "KAM4") for f in findings if f["severity"] == "error")
    assert any(f["severity"] == "warning" for f in findings)  # other rules keep their default

    _scored(root, "acme", 2)  # the same account in Streamline: the strict policy does not apply
    code, findings = _json(kamctl, root)
    assert code == 0, findings
    assert not [f for f in findings if f["severity"] == "error"]


def test_init_kam_yaml_explains_the_strategic_policy(kamctl, tmp_path):
    text = (_init(kamctl, tmp_path / "ws") / "kam.yaml").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("strategic: {error:"))
    assert line.strip() == "strategic: {error: [KAM2, KAM3, KAM4]}"
    comment = text.split(line, 1)[0].rsplit("quadrants:", 1)[1]
    assert "Strategic" in comment and "fails `kamctl check`" in comment


STREAMLINE = "name: Low\nattractiveness: {size: 2}\nrelative_strength: {price: 2}\nperformance: {}\n"


def test_quadrant_severity_overrides_rules_and_default(kamctl, tmp_path):
    def severity(settings: str, name: str) -> tuple[int, dict[str, str]]:
        root = make_workspace(tmp_path / name, {"low": STREAMLINE}, settings)
        code, findings = _json(kamctl, root, "--as-of", "2026-06-30")
        return code, {f["rule"]: f["severity"] for f in findings}

    code, plain = severity("", "plain")
    assert code == 0 and plain["KAM601"] == "warning" and plain["KAM901"] == "warning"
    code, raised = severity("checks:\n  quadrants:\n    streamline: {error: [KAM6]}\n", "raised")
    assert code == 1 and raised["KAM601"] == "error" and raised["KAM901"] == "warning"
    # the quadrant's list beats checks.rules, and the longest pattern wins within the lists
    code, mixed = severity("checks:\n  rules: {KAM601: error, KAM9: error}\n"
                           "  quadrants:\n    streamline: {info: [kam601], error: [KAM9], warning: [KAM901]}\n", "mixed")
    assert mixed["KAM601"] == "info" and mixed["KAM901"] == "warning" and mixed["KAM902"] == "error"
    # off in checks.rules, but the quadrant names it: it runs there (and only there)
    code, named = severity("checks:\n  rules: {KAM601: 'off'}\n  quadrants:\n    streamline: {error: [KAM601]}\n", "named")
    assert named["KAM601"] == "error"
    code, elsewhere = severity("checks:\n  rules: {KAM601: 'off'}\n  quadrants:\n    strategic: {error: [KAM601]}\n", "else")
    assert "KAM601" not in elsewhere
    # ignore still decides whether a rule runs
    code, ignored = severity("checks:\n  quadrants:\n    streamline: {ignore: [KAM601], error: [KAM601]}\n", "ign")
    assert "KAM601" not in ignored


def test_bad_quadrant_severity_lists_are_settings_errors(kamctl, tmp_path):
    for i, (policy, said) in enumerate([
            ("strategic: {error: [KAM2, KAM999]}", "checks.quadrants.strategic.error: no rule matches KAM999"),
            ("star: {info: [KAM9X]}", "checks.quadrants.star.info: no rule matches KAM9X"),
            ("status: {error: [KAM4], warning: [kam4]}", "KAM4 is both error and warning")]):
        root = make_workspace(tmp_path / f"ws{i}", {"low": STREAMLINE}, f"checks:\n  quadrants:\n    {policy}\n")
        r = kamctl("check", ws=root)
        assert r.exit_code == 2, r
        assert said in r.output
    root = make_workspace(tmp_path / "typo", {"low": STREAMLINE}, "checks:\n  quadrants:\n    strategic: {errors: [KAM2]}\n")
    assert kamctl("check", ws=root).exit_code == 2  # an unknown key in kam.yaml


def test_newcomer_summary_lists_the_top_rules_in_text_only(kamctl, tmp_path):
    root = _init(kamctl, tmp_path / "ws")
    assert kamctl("new", "acme", "--name", "Acme", ws=root).exit_code == 0
    r = kamctl("check", ws=root)
    tail = r.stdout.split("\n0 errors", 1)[1].splitlines()
    assert tail[0].endswith("passed")  # after the completeness table and the counts
    assert tail[2] == "What to do next: the rules found most (errors first)"
    rows = [re.match(r"  (KAM\d{3})  ([a-z-]+) +(\d+) findings? \((\w+)\)$", ln) for ln in tail[3:6]]
    assert [(m[1], m[2], m[3]) for m in rows] == [("KAM203", "question-unanswered", "5"),
                                                   ("KAM202", "charter-field-empty", "4"),
                                                   ("KAM901", "scores-incomplete", "2")]
    assert tail[6] == "Run `kamctl rules CODE` to learn more, e.g. `kamctl rules KAM203`."
    assert len(tail) == 7
    _scored(root, "acme", 8)  # Strategic: errors come first, whatever their count
    first = kamctl("check", ws=root).stdout.split("What to do next", 1)[1].splitlines()[1]
    assert first.endswith("(error)")
    for fmt in ("parsable", "json", "github", "junit"):
        assert "What to do next" not in kamctl("check", "--format", fmt, ws=root).stdout
