"""opp close --reason: the win/loss reason, required for lost, kept in the history entry and shown in the plan."""

from __future__ import annotations

import difflib
import shutil

import pytest

from tests.conftest import EXAMPLES

ACCOUNT, OPP = "alpenmilch-foods", "wroclaw-plant"  # at closing in examples/


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".kamctl-cache"))
    return root


def _file(ws):
    return ws / "accounts" / f"{ACCOUNT}.yaml"


def _changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_lost_without_a_reason_is_a_usage_error_and_changes_nothing(kamctl, ws, reason):
    before = _file(ws).read_bytes()
    args = ["opp", "close", ACCOUNT, OPP, "lost"] + ([] if reason is None else ["--reason", reason])
    result = kamctl(*args, ws=ws)
    assert result.exit_code == 2, result
    assert "--reason" in result.stderr and "lost" in result.stderr
    assert _file(ws).read_bytes() == before


def test_lost_with_a_reason_records_it_in_the_history_entry_only(kamctl, ws):
    before = _file(ws).read_text()
    result = kamctl("opp", "close", ACCOUNT, OPP, "lost", "--reason", "Price: 20% above the winner",
                    "--note", "Board chose the incumbent", "--date", "2026-12-01", ws=ws)
    assert result.exit_code == 0, result
    assert _changed(before, _file(ws).read_text()) == [
        "-    stage: closing",
        "+    stage: lost",
        "+      - {stage: lost, date: 2026-12-01, reason: 'Price: 20% above the winner', note: Board chose the incumbent}",
    ]
    assert kamctl("validate", ws=ws).exit_code == 0


def test_won_takes_an_optional_reason(kamctl, ws):
    before = _file(ws).read_text()
    result = kamctl("opp", "close", ACCOUNT, OPP, "won", "--reason", "Lowest cost per pack", "--date", "2026-12-01",
                    ws=ws)
    assert result.exit_code == 0, result
    assert _changed(before, _file(ws).read_text())[-1] == \
        "+      - {stage: contract, date: 2026-12-01, reason: Lowest cost per pack}"


def test_won_without_a_reason_still_closes(kamctl, ws):
    result = kamctl("opp", "close", ACCOUNT, OPP, "won", "--date", "2026-12-01", ws=ws)
    assert result.exit_code == 0, result
    assert _file(ws).read_text().count("{stage: contract, date: 2026-12-01}") == 1


def test_the_plan_shows_decision_and_loss_reasons(kamctl, ws):
    kamctl("opp", "close", ACCOUNT, OPP, "lost", "--reason", "Price 20% above the winner", "--date", "2026-12-01",
           ws=ws)
    plan = kamctl("render", "plan", ACCOUNT, ws=ws).stdout
    section = plan.split("## 3.")[1].split("## 4.")[0]
    assert "Decisions and win/loss reasons:" in section
    assert ("- `wroclaw-plant`: go (Marco Rossi, 2026-07-08): Largest new-plant award in our region this year; "
            "lost (2026-12-01): Price 20% above the winner\n") in section
    no_go = kamctl("render", "plan", "nordbank-retail", ws=ws).stdout
    assert ("- `branch-furniture-moves`: no-go (Marco Rossi, 2026-08-14): Removals are outside our offer and "
            "would need a subcontractor\n") in no_go


def test_a_plan_without_decisions_or_reasons_has_no_reasons_heading(kamctl, workspace):
    ws = workspace({"plain": """\
        name: Plain
        opportunities:
          - {id: one, title: One, stage: qualification}
        """})
    plan = kamctl("render", "plan", "plain", ws=ws)
    assert plan.exit_code == 0, plan
    assert "`one`" in plan.stdout and "win/loss reasons" not in plan.stdout
