"""score, portfolio, level and owners through the real CLI on real workspaces in tmp folders."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest

from conftest import EXAMPLES, FIXTURES

from kamctl.present import mermaid_label

POINT = re.compile(r'^    "([^"]*)": \[(1|0(?:\.\d+)?), (1|0(?:\.\d+)?)\]$', re.M)


@pytest.fixture
def scoring_ws(tmp_path):
    """tests/fixtures/scoring copied to a tmp folder: kam.yaml with unequal weights and cut point 6.0."""
    return shutil.copytree(FIXTURES / "scoring", tmp_path / "scoring")


def by_id(result) -> dict:
    assert result.exit_code == 0, result
    return {r["id"]: r for r in json.loads(result.stdout)}


# --- score: hand-computed cases ------------------------------------------------------------------------

ALL_A = ["size", "growth_potential", "financial_stability", "ease_of_access", "closeness_of_relationship",
         "strategic_fit", "early_adopter", "values_our_offer", "market_standing"]  # level_of_competition weighs 0
ALL_S = ["price", "service", "quality_of_people", "speed_of_response", "relationships_and_attitudes",
         "innovation", "value_in_use", "long_term_sustainability", "trust_and_confidence"]


def test_score_json_matches_hand_computed_cases(kamctl, scoring_ws):
    got = by_id(kamctl("score", "--format", "json", ws=scoring_ws))
    # Weights: size 3, growth_potential 2, level_of_competition 0, other attractiveness factors 1;
    # price 2, trust_and_confidence 4, other strength factors 1. Cut points: attractiveness 6, strength 5.
    expected = {
        # A: (3*9 + 2*6 + 7+5+4+8+3+7 + 0*2 + 6) / (3+2+6*1+0+1) = 79/12 = 6.583 -> 6.6 (high)
        # S: (2*4 + 6+5+7+6+3+5+6 + 4*2) / (2+7+4) = 54/13 = 4.154 -> 4.2 (low)  => Star, complete
        "complete-co": (6.6, 4.2, "star", False, []),
        # A: (3*4 + 2*9) / (3+2) = 30/5 = 6.0, exactly the cut point -> high
        # S: 5/1 = 5.0, exactly the cut point -> high  => Strategic, partial
        "at-cut-co": (6.0, 5.0, "strategic", True, [n for n in ALL_A if n not in ("size", "growth_potential")]
                      + [n for n in ALL_S if n != "service"]),
        # A: (5.92 + 6) / 2 = 5.96 -> shown 6.0 -> high (decided on the score as shown)
        # S: 4.94 -> 4.9 -> low  => Star
        "rounding-co": (6.0, 4.9, "star", True, [n for n in ALL_A if n not in ("financial_stability", "ease_of_access")]
                        + [n for n in ALL_S if n != "service"]),
        # A: 3*5.9 / 3 = 5.9 -> low;  S: (4*7 + 1*4) / (4+1) = 32/5 = 6.4 -> high  => Status
        "status-co": (5.9, 6.4, "status", True, [n for n in ALL_A if n != "size"]
                      + [n for n in ALL_S if n not in ("trust_and_confidence", "innovation")]),
        # A: 3/1 = 3.0 -> low;  S: (2*6 + 4*3) / (2+4) = 24/6 = 4.0 -> low  => Streamline
        "streamline-co": (3.0, 4.0, "streamline", True, [n for n in ALL_A if n != "market_standing"]
                          + [n for n in ALL_S if n not in ("price", "trust_and_confidence")]),
        # no factor at all: unscored on both axes, not partial, no quadrant
        "no-factors": (None, None, None, False, []),
        # A: only level_of_competition, weighted 0 -> unscored (and nothing missing); S: 7/1 = 7.0
        "zero-weight-only": (None, 7.0, None, True, [n for n in ALL_S if n != "service"]),
    }
    assert set(got) == set(expected)
    for account_id, (a, s, quadrant, partial, missing) in expected.items():
        r = got[account_id]
        got_row = (r["attractiveness"], r["relative_strength"], r["quadrant"], r["partial"])
        assert got_row == (a, s, quadrant, partial), account_id
        assert r["missing"] == missing, account_id
    assert got["status-co"]["name"] == 'Müller & Söhne "Prime" [EU]: Ltd'


def test_explain_contributions_add_up_to_the_score(kamctl, scoring_ws):
    got = by_id(kamctl("score", "--explain", "--format", "json", ws=scoring_ws))
    checked = 0
    for r in got.values():
        for axis in ("attractiveness", "relative_strength"):
            ex = r["explain"][axis]
            assert ex["cut_point"] == (6.0 if axis == "attractiveness" else 5.0)
            if ex["score"] is None:
                assert r[axis] is None
                continue
            total = sum(f["contribution"] for f in ex["factors"])
            assert total == pytest.approx(ex["score"], abs=1e-3)
            assert round(total + 1e-9, 1) == r[axis]
            assert sum(f["share_percent"] for f in ex["factors"]) == pytest.approx(100, abs=0.05)
            for f in ex["factors"]:
                assert f["contribution"] == pytest.approx(f["score"] * f["share_percent"] / 100, abs=1e-3)
            checked += 1
    assert checked == 11
    size = next(f for f in got["at-cut-co"]["explain"]["attractiveness"]["factors"] if f["name"] == "size")
    assert (size["weight"], size["share_percent"], size["contribution"]) == (3, 60.0, 2.4)  # 3/5 of 6.0 is 4*0.6


def test_explain_table_shows_weights_shares_sum_and_cut_points(kamctl, scoring_ws):
    r = kamctl("score", "at-cut-co", "--explain", ws=scoring_ws)
    assert r.exit_code == 0, r
    out = r.stdout
    assert "Cut points: attractiveness 6, relative strength 5" in out
    # size 4 weight 3 -> share 3/5 = 60.0%, contribution 4*0.6 = 2.40; growth 9*0.4 = 3.60; sum 6.00
    assert re.search(r"Size\s+4\s+3\s+60\.0%\s+2\.40", out)
    assert re.search(r"Growth potential\s+9\s+2\s+40\.0%\s+3\.60", out)
    assert re.search(r"Sum = score\s+5\s+100%\s+6\.00", out)
    assert "Attractiveness 6.0 (cut point 6: high)" in out
    assert "Quadrant: Strategic" in out and "Missing, so partial:" in out


def test_score_csv_and_markdown(kamctl, scoring_ws):
    r = kamctl("score", "complete-co", "no-factors", "--format", "csv", ws=scoring_ws)
    assert r.exit_code == 0, r
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [t["id"] for t in table] == ["complete-co", "no-factors"]
    assert (table[0]["attractiveness"], table[0]["quadrant"], table[0]["partial"]) == ("6.6", "star", "false")
    assert (table[1]["attractiveness"], table[1]["quadrant"]) == ("", "")
    explain = list(csv.DictReader(io.StringIO(kamctl("score", "status-co", "--explain", "--format", "csv",
                                                     ws=scoring_ws).stdout)))
    # status-co has one attractiveness factor and two strength factors
    assert [(e["axis"], e["factor"], e["contribution"]) for e in explain] == [
        ("attractiveness", "size", "5.90"), ("relative_strength", "innovation", "0.80"),
        ("relative_strength", "trust_and_confidence", "5.60")]
    md = kamctl("score", "status-co", "--format", "markdown", ws=scoring_ws).stdout
    assert md.splitlines()[0].startswith("| Account | Attractiveness |")
    assert "| Müller & Söhne \"Prime\" [EU]: Ltd (status-co) | 5.9 | 6.4 | Status | partial |" in md


def test_score_table_lists_every_account(kamctl, scoring_ws):
    r = kamctl("score", ws=scoring_ws)
    assert r.exit_code == 0, r
    assert re.search(r"^complete-co\s+Complete Co\s+6\.6\s+4\.2\s+Star\s*$", r.stdout, re.M)
    assert re.search(r"^at-cut-co\s+At Cut Co\s+6\.0\s+5\.0\s+Strategic\s+partial\s*$", r.stdout, re.M)
    assert re.search(r"^no-factors\s+No Factors Ltd\s+-\s+-\s+-\s*$", r.stdout, re.M)


def test_unknown_id_and_bad_format_are_usage_errors(kamctl, scoring_ws):
    r = kamctl("score", "nobody", ws=scoring_ws)
    assert r.exit_code == 2 and "nobody" in r.stderr
    assert kamctl("portfolio", "--format", "svg", ws=scoring_ws).exit_code == 2


# --- portfolio ----------------------------------------------------------------------------------------


def chart_points(markdown: str) -> dict[str, tuple[float, float]]:
    block = re.search(r"```mermaid\nquadrantChart\n(.*?)```", markdown, re.S)
    assert block, markdown
    return {m.group(1): (float(m.group(2)), float(m.group(3))) for m in POINT.finditer(block.group(1))}


def assert_points_match_scores(kamctl, ws) -> dict:
    md = kamctl("portfolio", "--format", "markdown", ws=ws)
    assert md.exit_code == 0, md
    points = chart_points(md.stdout)
    scores = json.loads(kamctl("score", "--format", "json", ws=ws).stdout)
    scored = [s for s in scores if s["quadrant"]]
    assert len(points) == len(scored)
    for s in scored:
        label = mermaid_label(s["name"])
        assert points[label] == (pytest.approx(s["relative_strength"] / 10), pytest.approx(s["attractiveness"] / 10))
    return {s["quadrant"] for s in scored}


def test_portfolio_markdown_has_a_quadrant_chart_at_strength_and_attractiveness(kamctl, scoring_ws):
    quadrants = assert_points_match_scores(kamctl, scoring_ws)
    assert quadrants == {"strategic", "star", "status", "streamline"}
    md = kamctl("portfolio", "--format", "markdown", ws=scoring_ws).stdout
    for n, name in ((1, "Strategic"), (2, "Star"), (3, "Streamline"), (4, "Status")):
        assert f'quadrant-{n} "{name}"' in md
    table = md.split("```", 2)[2]
    order = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines()
             if line.startswith("| ") and "---" not in line]
    assert order[1:] == ["Strategic", "Star", "Star", "Status", "Streamline", "Unscored", "Unscored"]
    # within Star, attractiveness high to low: Complete Co 6.6 before Rounding Co 6.0
    assert table.index("Complete Co") < table.index("Rounding Co")


def test_examples_portfolio_markdown_covers_all_four_quadrants(kamctl):
    quadrants = assert_points_match_scores(kamctl, EXAMPLES)
    assert quadrants == {"strategic", "star", "status", "streamline"}


def grid_cells(out: str) -> dict[str, str]:
    """The four cells of the terminal grid, by position, as plain text."""
    rows, current = [], None
    for line in out.splitlines():
        if line.startswith(("├", "└")):
            if current is not None:
                rows.append(current)
            current = ["", ""]
        elif line.startswith("│") and current is not None:
            parts = line.split("│")
            current[0] += " " + parts[2].strip()
            current[1] += " " + parts[3].strip()
    (tl, tr), (bl, br) = rows
    return {"top-left": tl, "top-right": tr, "bottom-left": bl, "bottom-right": br}


def test_portfolio_grid_places_accounts_in_their_quadrants(kamctl, scoring_ws):
    r = kamctl("portfolio", ws=scoring_ws)
    assert r.exit_code == 0, r
    cells = grid_cells(r.stdout)
    assert "Star" in cells["top-left"] and "Complete Co (6.6, 4.2)" in cells["top-left"]
    assert "Strategic" in cells["top-right"] and "At Cut Co (6.0, 5.0)" in cells["top-right"]
    assert "Streamline" in cells["bottom-left"] and "Streamline Co (3.0, 4.0)" in cells["bottom-left"]
    assert "Status" in cells["bottom-right"]
    assert 'Müller & Söhne "Prime" [EU]: Ltd (5.9, 6.4)' in cells["bottom-right"]
    assert "reduce the cost to serve" in cells["bottom-left"]  # each quadrant's strategy
    assert "Unscored" in r.stdout and "No Factors Ltd (no-factors)" in r.stdout


def test_portfolio_shows_revenue_when_accounts_carry_it(kamctl, workspace):
    ws = workspace({
        "big": "name: Big\nattractiveness: {size: 8}\nrelative_strength: {price: 8}\n"
               "revenue: {current: 1200000, potential: 3000000, currency: EUR}\n",
        "small": "name: Small\nattractiveness: {size: 2}\nrelative_strength: {price: 2}\n",
    })
    rows = {r["id"]: r for r in json.loads(kamctl("portfolio", "--format", "json", ws=ws).stdout)}
    assert (rows["big"]["revenue_current"], rows["big"]["revenue_potential"]) == (1200000, 3000000)
    assert rows["small"]["revenue_current"] is None
    md = kamctl("portfolio", "--format", "markdown", ws=ws).stdout
    assert "| Current sales | Potential sales |" in md and "1,200,000 EUR | 3,000,000 EUR |" in md
    assert re.search(r"Big \(big\) partial\s+8\.0\s+8\.0\s+1\.2M EUR\s+3M EUR", kamctl("portfolio", ws=ws).stdout)
    plain = workspace({"x": "name: X\n"}, name="plain")
    assert "Current sales" not in kamctl("portfolio", "--format", "markdown", ws=plain).stdout


# --- level ---------------------------------------------------------------------------------------------

LEVEL_ACCOUNTS = {
    "agreeing": "name: Agreeing\nrelationship: {price_sensitivity: low, loyalty: high, level: partner}\n",
    "capped": "name: Capped\nrelationship: {price_sensitivity: high, loyalty: some, level: value_add}\n",
    "unknown": "name: Unknown\nrelationship: {loyalty: high}\n",
}


def test_level_json(kamctl, workspace):
    got = by_id(kamctl("level", "--format", "json", ws=workspace(LEVEL_ACCOUNTS)))
    def fields(account_id, *names):
        return tuple(got[account_id][n] for n in names)

    assert fields("agreeing", "level", "declared", "agrees") == ("partner", "partner", True)
    # loyalty some -> 3, but high price sensitivity caps at 2
    assert fields("capped", "level", "level_number", "agrees") == ("product_provider", 2, False)
    assert "stage 1" in got["capped"]["next_step"]
    assert fields("unknown", "level", "declared", "agrees", "next_step") == (None, None, None, None)


def test_level_table_shows_level_evidence_disagreement_and_next_step(kamctl, workspace):
    r = kamctl("level", "capped", ws=workspace(LEVEL_ACCOUNTS), env={"COLUMNS": "200"})
    assert r.exit_code == 0, r
    lines = [" ".join(line.split()) for line in r.stdout.splitlines()]
    assert "capped 2 Product Provider Understand the customer's aims and support some of them: stage 1 of the " \
           "KAM process, the account strategy." in lines
    assert "price sensitivity high, loyalty some" in lines
    assert "declared Value-add: DISAGREES" in lines
    assert any(line.startswith("2 Product Provider: They value our product") for line in lines)  # what it means
    assert "agreeing" not in r.stdout  # only the id asked for


# --- owners --------------------------------------------------------------------------------------------

OWNER_ACCOUNTS = {
    "won": "name: Won\nowner: {name: Hanna Hunter, role: hunter}\n"
           "opportunities: [{id: deal, title: Deal, stage: contract}]\n",
    "chasing": "name: Chasing\nowner: {name: Hanna Hunter, role: hunter}\n"
               "opportunities: [{id: deal, title: Deal, stage: pursuit}]\n",
    "grown": "name: Grown\nowner: {name: Fred Farmer, role: farmer, cycle: watering_and_fertilising}\n"
             "hunted_by: Hanna Hunter\n",
    "orphan": "name: Orphan\n",
}


def test_owners_json_marks_ready_to_farm_and_cycle(kamctl, workspace):
    got = by_id(kamctl("owners", "--format", "json", ws=workspace(OWNER_ACCOUNTS)))
    assert (got["won"]["status"], got["won"]["ready_to_farm"]) == ("ready_to_farm", True)
    assert (got["chasing"]["status"], got["chasing"]["ready_to_farm"]) == ("hunted", False)
    assert (got["grown"]["status"], got["grown"]["cycle"], got["grown"]["hunted_by"]) == (
        "farmed", "watering_and_fertilising", "Hanna Hunter")
    assert got["orphan"]["owner"] is None and got["orphan"]["status"] is None


def test_owners_table_groups_by_owner(kamctl, workspace):
    r = kamctl("owners", ws=workspace(OWNER_ACCOUNTS), env={"COLUMNS": "200"})
    assert r.exit_code == 0, r
    lines = [" ".join(line.split()) for line in r.stdout.splitlines()]
    assert "Hanna Hunter won hunter: READY TO FARM" in lines and "Hanna Hunter chasing hunter: hunted" in lines
    i = lines.index("Fred Farmer grown farmer: farmed")
    assert lines[i + 1:i + 3] == ["cycle: watering and fertilising", "won by Hanna Hunter"]
    assert "(no owner) orphan no owner" in lines
    owners_in_order = [line.split(" ")[0] for line in lines if line.startswith(("Fred", "Hanna"))]
    assert owners_in_order == ["Fred", "Hanna", "Hanna"]  # by owner, then role, then id
    assert "2 hunted, 1 farmed, 1 ready to farm" in r.stdout


# --- every command: empty workspace, unscored accounts, invalid files, settings errors, width -----------

COMMANDS = [("score",), ("score", "--explain"), ("portfolio",), ("level",), ("owners",)]


@pytest.mark.parametrize("args", COMMANDS)
def test_empty_workspace(kamctl, workspace, args):
    ws = workspace({})
    r = kamctl(*args, ws=ws)
    assert r.exit_code == 0, r
    assert "No accounts yet" in r.stderr
    assert json.loads(kamctl(*args, "--format", "json", ws=ws).stdout) == []


def test_empty_workspace_markdown_chart_has_no_points(kamctl, workspace):
    r = kamctl("portfolio", "--format", "markdown", ws=workspace({}))
    assert r.exit_code == 0 and "quadrantChart" in r.stdout and chart_points(r.stdout) == {}


@pytest.mark.parametrize("args", COMMANDS)
def test_an_account_with_no_scores(kamctl, workspace, args):
    ws = workspace({"bare": "name: Bare Minimum\n"})
    r = kamctl(*args, ws=ws)
    assert r.exit_code == 0, r
    assert "Bare Minimum" in r.stdout or "bare" in r.stdout
    record = json.loads(kamctl(*args, "--format", "json", ws=ws).stdout)[0]
    assert record["id"] == "bare"


@pytest.mark.parametrize("args", COMMANDS + [("portfolio", "--format", "markdown"), ("score", "--format", "csv")])
def test_invalid_files_are_left_out_but_reported(kamctl, workspace, args):
    ws = workspace({"good": "name: Good Co\nattractiveness: {size: 7}\nrelative_strength: {price: 7}\n",
                    "broken": "name: [unclosed\n", "typo": "name: Typo\nattractivness: {size: 1}\n"})
    r = kamctl(*args, ws=ws)
    assert r.exit_code == 1, r
    assert "2 account files have problems; run kamctl validate" in r.stderr
    assert "good" in r.stdout or "Good Co" in r.stdout
    assert "broken" not in r.stdout and "Typo" not in r.stdout


def test_only_invalid_files_is_not_an_empty_workspace(kamctl, workspace):
    r = kamctl("score", ws=workspace({"broken": "name: [unclosed\n"}))
    assert r.exit_code == 1 and "1 account file has problems" in r.stderr
    assert "No accounts yet" not in r.stderr


@pytest.mark.parametrize("args", COMMANDS)
def test_settings_errors_are_exit_2(kamctl, workspace, args):
    ws = workspace({"good": "name: Good\n"}, settings="scoring:\n  cut_points: {attractiveness: 11}\n")
    assert kamctl(*args, ws=ws).exit_code == 2


LONG = {
    "internationale-nederlanden": "name: Internationale Nederlanden Groep Verzekeringen Holding B.V.\n"
                                  "owner: {name: Maximiliane Oberhauser-Wittgenstein, role: farmer, "
                                  "cycle: continuous_harvesting}\n"
                                  "attractiveness: {size: 7, closeness_of_relationship: 6}\n"
                                  "relative_strength: {long_term_sustainability: 8, relationships_and_attitudes: 3}\n"
                                  "relationship: {price_sensitivity: medium, loyalty: high, level: partner}\n"
                                  "revenue: {current: 12500000, potential: 40000000, currency: EUR}\n",
    "kreditanstalt-fuer-wiederaufbau": "name: Kreditanstalt für Wiederaufbau Bankengruppe\n"
                                       "owner: {name: Hanna Hunter, role: hunter}\n"
                                       "opportunities: [{id: deal, title: Deal, stage: engagement}]\n"
                                       "attractiveness: {size: 2}\nrelative_strength: {price: 9}\n",
}


NAME_A = "Internationale Nederlanden Groep Verzekeringen Holding B.V."
NAME_B = "Kreditanstalt für Wiederaufbau Bankengruppe"
OWNER = "Maximiliane Oberhauser-Wittgenstein"


@pytest.mark.parametrize("args, shown", [
    (("score",), [NAME_A, NAME_B, "internationale-nederlanden", "kreditanstalt-fuer-wiederaufbau"]),
    (("score", "--explain"), [NAME_A, NAME_B]),
    (("score", "internationale-nederlanden", "--explain"), [NAME_A]),
    (("portfolio",), [NAME_A, NAME_B]),
    (("level",), ["internationale-nederlanden", "kreditanstalt-fuer-wiederaufbau"]),
    (("owners",), [OWNER, "internationale-nederlanden", "kreditanstalt-fuer-wiederaufbau"]),
])
def test_tables_fit_80_columns_without_breaking_names(kamctl, workspace, args, shown):
    r = kamctl(*args, ws=workspace(LONG), env={"COLUMNS": "80"})
    assert r.exit_code == 0, r
    lines = r.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    words = {w.strip("(),") for w in r.stdout.split()}
    for text in shown:  # every word whole on some line: wrapped between words, never inside one
        for word in text.split():
            assert word in words, (word, r.stdout)
