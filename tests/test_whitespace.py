"""The whitespace grid, share of wallet and the portfolio summary (kamctl.whitespace), and `kamctl
whitespace`. Every figure below is worked out by hand in the comments."""

from __future__ import annotations

import json

import pytest

from conftest import make_workspace
from kamctl.model.account import Account, WhitespaceStatus as S
from kamctl.whitespace import grid, summary, unpursued

OFFERINGS = ["films", "labels", "logistics"]
SETTINGS = ("offerings:\n  - {id: films, name: Packaging films}\n  - {id: labels, name: Labels}\n"
            "  - {id: logistics, name: Contract logistics}\n")


def account(**data) -> Account:
    return Account.model_validate({"name": "Acme", **data})


PLANTS = {
    "id": "north", "name": "North plant", "kind": "site", "category_spend": 1_600_000,
    "offerings": {
        "films": {"status": "sold", "current": 400_000, "potential": 100_000},
        "labels": {"status": "sold", "current": 80_000},
        "logistics": {"status": "potential", "potential": 250_000},
    },
}
SOUTH = {
    "id": "south", "name": "South plant", "category_spend": 500_000,
    "offerings": {
        "films": {"status": "competitor", "competitor": "Rival", "potential": 300_000},
        "labels": {"status": "potential", "potential": 60_000},
    },
}
EAST = {  # spend not known: left out of the account's share
    "id": "east", "name": "East region", "kind": "region",
    "offerings": {"films": {"status": "sold", "current": 90_000}, "logistics": {"status": "not_relevant"}},
}


def test_share_of_wallet_per_centre_and_from_the_centres_known():
    g = grid("acme", account(buying_centres=[PLANTS, SOUTH, EAST]), OFFERINGS, "EUR")
    north, south, east = g.centres
    # north: ours 400,000 + 80,000 = 480,000 of 1,600,000 -> 480/1600 = 0.3
    assert (north.share.ours, north.share.spend) == (480_000, 1_600_000)
    assert north.share.share == pytest.approx(0.3)
    # south: nothing sold (no current written) -> our sales not known, share not known
    assert (south.share.ours, south.share.spend, south.share.share) == (None, 500_000, None)
    # east: ours 90,000, spend not known -> share not known
    assert (east.share.ours, east.share.spend, east.share.share) == (90_000, None, None)
    # account: only north has both -> 480,000 / 1,600,000 = 0.3, from 1 of 3 centres
    assert g.share.share == pytest.approx(0.3)
    assert (g.share.ours, g.share.spend, g.share.known, g.share.of) == (480_000, 1_600_000, 1, 3)


def test_account_share_adds_the_known_centres():
    other = {"id": "west", "name": "West", "category_spend": 400_000,
             "offerings": {"films": {"status": "sold", "current": 120_000}}}
    g = grid("acme", account(buying_centres=[PLANTS, other]), OFFERINGS, "EUR")
    # (480,000 + 120,000) / (1,600,000 + 400,000) = 600,000 / 2,000,000 = 0.3; west alone 120/400 = 0.3
    assert g.share.share == pytest.approx(0.3)
    assert (g.share.ours, g.share.spend, g.share.known, g.share.of) == (600_000, 2_000_000, 2, 2)


def test_revenue_category_spend_wins_for_the_account():
    acc = account(revenue={"current": 900_000, "category_spend": 3_600_000}, buying_centres=[PLANTS])
    g = grid("acme", acc, OFFERINGS, "EUR")
    # 900,000 / 3,600,000 = 0.25 (the centres' 0.3 is not used for the account)
    assert g.share.share == pytest.approx(0.25)
    assert (g.share.known, g.share.of) == (0, 0)
    # spend written but our current sales not: not known
    assert grid("acme", account(revenue={"category_spend": 1_000}), OFFERINGS, "EUR").share.share is None


def test_empty_and_unknown_share():
    g = grid("acme", account(), OFFERINGS, "EUR")
    assert g.centres == [] and g.share.share is None and (g.share.known, g.share.of) == (0, 0)
    zero = grid("acme", account(buying_centres=[{**EAST, "category_spend": 0}]), OFFERINGS, "EUR")
    assert zero.centres[0].share.share is None  # 90,000 of 0: no share, not a division by zero


def test_opportunities_make_open_cells_and_add_missing_ones():
    acc = account(buying_centres=[PLANTS, SOUTH], opportunities=[
        {"id": "o1", "title": "Logistics", "stage": "pursuit", "centre": "north", "offering": "logistics"},
        {"id": "o2", "title": "Film upsell", "stage": "qualification", "centre": "north", "offering": "films"},
        {"id": "o3", "title": "Logistics south", "stage": "contract", "centre": "south", "offering": "logistics"},
        {"id": "o4", "title": "Lost labels", "stage": "lost", "centre": "south", "offering": "labels"},
        {"id": "o5", "title": "No centre", "stage": "pursuit", "offering": "labels"},
    ])
    g = grid("acme", acc, OFFERINGS, "EUR")
    north, south = g.centres
    assert north.cells["logistics"].status is S.open_opportunity and north.cells["logistics"].opportunities == ["o1"]
    assert north.cells["films"].status is S.sold  # written sold: o2 is an upsell, listed on the cell
    assert north.cells["films"].opportunities == ["o2"]
    assert south.cells["logistics"].status is S.sold and not south.cells["logistics"].in_file  # won, not written
    assert south.cells["labels"].status is S.potential  # a lost opportunity does not pursue it
    assert unpursued(g) == [south.cells["labels"]]


def test_summary_by_offering():
    acc1 = account(buying_centres=[PLANTS, SOUTH], opportunities=[
        {"id": "o1", "title": "Logistics", "stage": "pursuit", "centre": "north", "offering": "logistics"}])
    acc2 = account(revenue={"currency": "USD"}, buying_centres=[
        {"id": "hq", "name": "HQ", "offerings": {
            "labels": {"status": "potential", "potential": 40_000},
            "logistics": {"status": "potential"},  # potential, amount not known: counted, adds nothing
            "films": {"status": "competitor", "competitor": "Rival"}}}])
    grids = [grid("a1", acc1, OFFERINGS, "EUR"), grid("a2", acc2, OFFERINGS, "EUR")]
    rows = {r["offering"]: r for r in summary(grids, OFFERINGS)}
    # films: sold north 400,000 EUR; competitor south 300,000 EUR (hq's competitor has no amount)
    assert rows["films"] == {"offering": "films", "sold": {"EUR": 400_000}, "pursued": {}, "unpursued": {},
                             "competitor": {"EUR": 300_000}, "potential_cells": 0}
    # labels: sold north 80,000 EUR; not yet pursued: south 60,000 EUR and hq 40,000 USD
    assert rows["labels"] == {"offering": "labels", "sold": {"EUR": 80_000}, "pursued": {},
                              "unpursued": {"EUR": 60_000, "USD": 40_000}, "competitor": {}, "potential_cells": 2}
    # logistics: north is pursued by o1 (250,000 EUR); hq potential with no amount
    assert rows["logistics"] == {"offering": "logistics", "sold": {}, "pursued": {"EUR": 250_000}, "unpursued": {},
                                 "competitor": {}, "potential_cells": 1}


def test_summary_empty_and_other_offerings_follow_kam_yaml_order():
    assert [r["offering"] for r in summary([], OFFERINGS)] == OFFERINGS
    assert all(r["unpursued"] == {} and r["potential_cells"] == 0 for r in summary([], OFFERINGS))
    acc = account(buying_centres=[{"id": "x", "name": "X", "offerings": {"audit": {"status": "potential", "potential": 5}}}])
    assert [r["offering"] for r in summary([grid("a", acc, OFFERINGS, "EUR")], OFFERINGS)] == [*OFFERINGS, "audit"]


# --- the command --------------------------------------------------------------------------------------

ACCOUNT = """\
name: "Acme # <i>Co</i>"
buying_centres:
  - id: north
    name: North plant
    kind: site
    category_spend: 1600000
    offerings:
      films: {status: sold, current: 400000}
      labels: {status: sold, current: 80000}
      logistics: {status: potential, potential: 250000}
  - id: south
    name: South <b>plant</b> | two
    category_spend: 500000
    offerings:
      labels: {status: potential, potential: 60000}
opportunities:
  - {id: o1, title: Logistics, stage: pursuit, centre: north, offering: logistics}
"""


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws", {"acme": ACCOUNT, "bare": "name: Bare\n"}, SETTINGS)


def test_cli_json(kamctl, ws):
    result = kamctl("whitespace", "--format", "json", ws=ws)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert [a["account"] for a in data["accounts"]] == ["acme"]  # bare lists no buying centre
    north = data["accounts"][0]["centres"][0]
    assert north["cells"]["logistics"]["status"] == "open_opportunity"
    assert north["share"]["share"] == pytest.approx(0.3)  # 480,000 / 1,600,000
    labels = next(r for r in data["summary"] if r["offering"] == "labels")
    assert labels["unpursued"] == {"EUR": 60000} and labels["sold"] == {"EUR": 80000}


def test_cli_markdown_escapes_and_table(kamctl, ws):
    md = kamctl("whitespace", "acme", "--format", "markdown", ws=ws)
    assert md.exit_code == 0, md
    assert "| North plant (site) | sold, 400,000 EUR | sold, 80,000 EUR | open opportunity o1, 250,000 EUR | 30% (480,000 of 1,600,000 EUR) |" in md.stdout
    assert "<b>" not in md.stdout and "South &lt;b>plant&lt;/b> \\| two" in md.stdout
    assert "| Labels | 80,000 EUR |  | 60,000 EUR |  | 1 |" in md.stdout
    assert "## Acme # &lt;i>Co&lt;/i> (`acme`)" in md.stdout
    table = kamctl("whitespace", ws=ws)
    assert table.exit_code == 0, table
    assert "Not yet pursued" in table.stdout and "60,000 EUR" in table.stdout


def test_cli_table_shows_no_control_characters(kamctl, tmp_path):
    text = ACCOUNT.replace('name: "Acme # <i>Co</i>"', 'name: "Acme \\e[31mred"').replace(
        "name: North plant", 'name: "North \\e[2Jplant"')
    ws = make_workspace(tmp_path / "ws", {"acme": text}, SETTINGS)
    result = kamctl("whitespace", ws=ws)
    assert result.exit_code == 0, result
    assert "\x1b" not in result.stdout and "Acme" in result.stdout and "North" in result.stdout


def test_cli_unknown_id_and_empty(kamctl, ws, tmp_path):
    bad = kamctl("whitespace", "nobody", ws=ws)
    assert bad.exit_code == 2 and "nobody" in bad.stderr
    empty = make_workspace(tmp_path / "empty", {"bare": "name: Bare\n"})
    result = kamctl("whitespace", ws=empty)
    assert result.exit_code == 0 and "No account lists buying centres" in result.stderr


def test_the_plan_shows_the_grid(kamctl, ws):
    result = kamctl("render", "plan", "acme", "--as-of", "2026-11-30", ws=ws)
    assert result.exit_code == 0, result
    assert "### Whitespace" in result.stdout
    assert "| Buying centre | Packaging films | Labels | Contract logistics | Share of wallet |" in result.stdout
    assert ("Share of wallet for the account: 30% (480,000 of 1,600,000 EUR); 1 of 2 buying centres known."
            in result.stdout)
    assert "### Whitespace" not in kamctl("render", "plan", "bare", ws=ws).stdout


# --- the rules' edges -------------------------------------------------------------------------------


def _findings(tmp_path, body: str, settings: str = SETTINGS):
    import datetime as dt

    from kamctl.checks import run
    from kamctl.loader import load_workspace

    root = make_workspace(tmp_path / "ws", {"acc": "name: Acc\n" + body}, settings)
    ws = load_workspace(root)
    return ws, run(ws, dt.date(2026, 6, 30)).findings


def test_a_buying_centre_id_used_twice_is_a_duplicate(tmp_path):
    ws, _ = _findings(tmp_path, "buying_centres:\n  - {id: north, name: A}\n  - {id: north, name: B}\n")
    assert [(f.rule, f.line) for f in ws.findings] == [("KAM107", 4)]


def test_economic_buyer_without_coverage_points_at_the_role(tmp_path):
    body = "decision_makers:\n  - name: A\n    buying_role: economic_buyer\n"
    _, found = _findings(tmp_path, body)
    assert [(f.line, f.message) for f in found if f.rule == "KAM408"] == [
        (4, "economic buyer 'A' is not covered (coverage not recorded)")]


def test_reporting_loops_are_reported_once_each(tmp_path):
    body = ("decision_makers:\n  - {id: a, name: A, reports_to: b}\n  - {id: b, name: B, reports_to: a}\n"
            "  - {id: c, name: C, reports_to: c}\n  - {id: d, name: D, reports_to: a}\n")
    _, found = _findings(tmp_path, body)
    assert [(f.line, f.message) for f in found if f.rule == "KAM410"] == [
        (3, "reporting loop: a -> b -> a"), (5, "reporting loop: c -> c")]


def test_no_offerings_in_kam_yaml_makes_every_cell_unknown(tmp_path):
    body = "buying_centres:\n  - id: north\n    name: N\n    offerings:\n      films: {status: sold}\n"
    _, found = _findings(tmp_path, body, settings="")
    assert [(f.rule, f.line) for f in found if f.rule.startswith("KAM51")] == [("KAM511", 6)]
