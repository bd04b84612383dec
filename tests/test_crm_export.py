"""kamctl export salesforce|json: the portfolio back out, and back in again (issue 14)."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

import crm_export
from conftest import EXAMPLES, make_workspace

from kamctl.cli.app import app
from kamctl.loader import load_workspace


def run(*args, ws):
    return CliRunner().invoke(app, ["-w", str(ws), *map(str, args)], catch_exceptions=False)


def crm_fields(ws):
    """Every CRM-owned field of the workspace, keyed by CRM id."""
    out = {}
    for la in load_workspace(ws).valid_accounts():
        a = la.account
        out[a.crm_id] = (a.name, a.industry)
        for dm in a.decision_makers:
            out[dm.crm_id] = (a.crm_id, dm.name, dm.title, dm.last_contact)
        for o in a.opportunities:
            out[o.crm_id] = (a.crm_id, o.title, o.value, o.currency, o.stage, o.close)
    return out


def test_export_then_import_round_trips_the_crm_fields(tmp_path):
    export = crm_export.salesforce(tmp_path / "export", accounts=120)
    first = make_workspace(tmp_path / "first")
    assert run("import", "salesforce", export, "--all", "--date", "2026-12-01", ws=first).exit_code == 0
    out = tmp_path / "out"
    result = run("export", "salesforce", "--out", out, ws=first)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["Account.csv", "Contact.csv", "Opportunity.csv",
                                                     "OpportunityContactRole.csv"]
    second = make_workspace(tmp_path / "second")
    again = run("import", "salesforce", out, "--all", "--date", "2026-12-01", ws=second)
    assert again.exit_code == 0 and again.stderr == "", again.output
    assert crm_fields(second) == crm_fields(first) and len(crm_fields(first)) > 600
    before = {p.name: p.read_bytes() for p in (first / "accounts").iterdir()}
    assert run("import", "salesforce", out, ws=first).exit_code == 0  # its own export changes nothing
    assert {p.name: p.read_bytes() for p in (first / "accounts").iterdir()} == before


def test_export_neutralises_formulas_and_keeps_kamctl_ids(tmp_path):
    ws = make_workspace(tmp_path / "ws", {"evil": """\
        name: "=HYPERLINK(\\"http://x.example\\",\\"click\\")"
        decision_makers:
          - {name: "@SUM(A1) Smith", title: "+1 boss"}
        opportunities:
          - {id: film, title: "-2+3", value: 1200.0, stage: pursuit}
        """})
    out = tmp_path / "out"
    assert run("export", "salesforce", "--out", out, ws=ws).exit_code == 0
    accounts = list(csv.reader(io.StringIO((out / "Account.csv").read_text())))
    assert accounts[1][1].startswith("'=HYPERLINK") and accounts[1][3] == "evil"
    contact = list(csv.DictReader(io.StringIO((out / "Contact.csv").read_text())))[0]
    assert contact["LastName"] == "Smith" and contact["FirstName"] == "'@SUM(A1)" and contact["Title"] == "'+1 boss"
    opp = list(csv.DictReader(io.StringIO((out / "Opportunity.csv").read_text())))[0]
    assert opp["Name"] == "'-2+3" and opp["Amount"] == "1200" and opp["StageName"] == "Proposal/Price Quote"
    assert opp["Kamctl_Id__c"] == "evil/film" and opp["Id"] == ""


def test_export_json_holds_every_account_with_its_computed_results(tmp_path):
    out = tmp_path / "portfolio.json"
    result = run("export", "json", "--out", out, "--as-of", "2026-12-01", ws=EXAMPLES)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    ids = sorted(p.stem for p in (EXAMPLES / "accounts").glob("*.yaml"))
    assert [a["id"] for a in data["accounts"]] == ids and data["as_of"] == "2026-12-01"
    first = data["accounts"][0]
    assert {"account", "summary", "pipeline", "performance", "alerts", "completeness"} <= set(first)
    assert first["summary"]["score"]["quadrant"] is not None or first["summary"]["score"]["partial"] is not None
    stdout = run("export", "json", "--as-of", "2026-12-01", ws=EXAMPLES)
    assert json.loads(stdout.stdout) == data
