"""kamctl import salesforce|hubspot|csv: realistic exports in, re-imports that keep people's work (issue 14)."""

from __future__ import annotations

import csv
import difflib
import io
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crm_export
from conftest import make_workspace

from kamctl.cli.app import app

TODAY = "2026-12-01"


def run(*args, ws: Path):
    result = CliRunner().invoke(app, ["-w", str(ws), *map(str, args)], catch_exceptions=False)
    return result


def snapshot(ws: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((ws / "accounts").glob("*.yaml"))}


def changed_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def edit_csv(path: Path, row_id: str, **cells: str) -> None:
    """Change cells of the row with this Id, keeping the file's BOM and CRLF."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == row_id:
            for name, value in cells.items():
                row[header.index(name)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A Salesforce export of 200 accounts, 600 opportunities, 400 contacts, and a workspace it was imported into."""
    base = tmp_path_factory.mktemp("crm")
    export = crm_export.salesforce(base / "export")
    ws = make_workspace(base / "ws")
    result = run("import", "salesforce", export, "--all", "--date", TODAY, ws=ws)
    assert result.exit_code == 0, result.output
    return export, ws, result


@pytest.fixture
def fresh(imported, tmp_path):
    """A copy of the imported workspace and its export, to change."""
    export, ws, _ = imported
    shutil.copytree(export, tmp_path / "export")
    shutil.copytree(ws, tmp_path / "ws")
    return tmp_path / "export", tmp_path / "ws"


def test_import_into_an_empty_workspace_validates(imported):
    export, ws, result = imported
    assert len(snapshot(ws)) == 200
    assert run("validate", ws=ws).exit_code == 0
    text = (ws / "accounts" / "alpen-foods.yaml").read_text()
    assert 'crm_id: "0015g00000000AAA"' in text and "industry: Food & Beverage" in text
    assert "name: Anna Novak" in text and 'crm_id: "0035g00000000AAC"' in text
    assert "# Stage 1: account strategy charter" in text  # the commented template of `kamctl new`
    owner = text.split("owner:\n", 1)[1].split("\n")[0]
    assert owner == "  name: Anna Novak"  # OwnerId through User.csv


def test_bad_rows_are_reported_as_file_row_and_skipped(imported):
    export, ws, result = imported
    for what, message in (("repeat", "a repeat of row 6"), ("dangling", "which is not in the export; skipped"),
                          ("bad_amount", "'n/a' is not a number; skipped")):
        name, line = crm_export.QUIRKS[what]
        assert f"{export / name}:{line}: " in result.stderr
        assert message in next(x for x in result.stderr.splitlines() if x.startswith(f"{export / name}:{line}:"))
    assert "3 rows skipped" in result.stdout
    assert "Orphan deal" not in "".join(p.decode() for p in snapshot(ws).values())


def test_messy_values_are_read(imported):
    export, ws, _ = imported
    text = (ws / "accounts" / "alpen-foods.yaml").read_text()
    assert "value: 755000\n" in text  # 755000.0 in the export
    assert "- {stage: identification, date: 2025-05-28}" in text  # from 2025-05-28T..:40:52.000+0000
    quoted = [p for p in snapshot(ws).values() if b'"0015g00000003AAA"' in p][0].decode()
    assert 'name: "Müller, Schmidt & \\"Partners\\""' in quoted


def test_reimport_is_a_no_op(fresh):
    export, ws = fresh
    before = snapshot(ws)
    result = run("import", "salesforce", export, "--date", "2027-01-15", ws=ws)
    assert result.exit_code == 0, result.output
    assert "0 account(s) added, 0 updated, 200 unchanged" in result.stdout
    assert snapshot(ws) == before


def test_a_changed_amount_is_one_changed_line(fresh):
    export, ws = fresh
    before = snapshot(ws)
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(1), Amount="333333.0")
    result = run("import", "salesforce", export, ws=ws)
    assert result.exit_code == 0, result.output
    after = snapshot(ws)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["alpen-foods.yaml"]
    lines = changed_lines(before["alpen-foods.yaml"], after["alpen-foods.yaml"])
    assert len(lines) == 2 and lines[0].strip().startswith("-    value:") and lines[1] == "+    value: 333333"


def test_a_changed_stage_is_the_stage_line_and_a_history_entry(fresh):
    export, ws = fresh
    before = snapshot(ws)["alpen-foods.yaml"]
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(0), StageName="Negotiation/Review",
             LastStageChangeDate="2026-11-20T09:15:00.000+0000")
    assert run("import", "salesforce", export, ws=ws).exit_code == 0
    lines = changed_lines(before, snapshot(ws)["alpen-foods.yaml"])
    assert lines == ["-    stage: qualification", "+    stage: closing",
                     '+      - {stage: closing, date: 2026-11-20, note: CRM stage Negotiation/Review}']


def test_a_jump_past_the_gate_is_imported_and_flagged_by_check(fresh):
    export, ws = fresh
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(0), StageName="Proposal/Price Quote")
    assert run("import", "salesforce", export, "--date", TODAY, ws=ws).exit_code == 0
    assert "    stage: pursuit\n" in (ws / "accounts" / "alpen-foods.yaml").read_text()
    check = run("check", "alpen-foods", "--select", "KAM502", "--as-of", TODAY, ws=ws)
    assert "KAM502" in check.stdout and "deal-1-foods-line" in check.stdout


def test_a_crm_stage_behind_the_file_never_moves_it_back(fresh):
    export, ws = fresh
    before = snapshot(ws)
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(0), StageName="Prospecting")
    result = run("import", "salesforce", export, ws=ws)
    assert snapshot(ws) == before
    assert "stays at qualification" in result.stderr


HAND_WRITTEN = {
    "# Our notes: renewal is the big one\n": "# Stage 1: account strategy charter\n",
    "  size: 8  # they are the market leader\n": "  size:  # Revenue and volume the customer can bring.\n",
    "  current_situation: Consolidating suppliers\n": "  current_situation:\n",
}


def test_hand_written_comments_scores_and_agendas_survive_a_reimport(fresh):
    export, ws = fresh
    path = ws / "accounts" / "alpen-foods.yaml"
    text = path.read_text()
    for mine, theirs in HAND_WRITTEN.items():
        assert theirs in text
        text = text.replace(theirs, theirs + mine if mine.startswith("#") else mine, 1)
    text = text.replace("    title: Chief Procurement Officer\n", "    title: Chief Procurement Officer\n"
                        "    business_agenda: Cut packaging cost 10%  # from the March workshop\n"
                        "    attitude: supporter\n", 1)
    text = text.replace('    title: "Deal 1: Foods line"\n', '    title: "Deal 1: Foods line"\n'
                        "    dormant_problem: Film tears on the new line\n", 1)
    path.write_text(text)
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(0), Amount="1000.0")
    edit_csv(export / "Contact.csv", crm_export.contact_id(0), Title="Chief Operating Officer")
    result = run("import", "salesforce", export, ws=ws)
    assert result.exit_code == 0, result.output
    after = path.read_text()
    assert changed_lines(text.encode(), after.encode()) == [
        "-    title: Chief Procurement Officer", "+    title: Chief Operating Officer",
        "-    value: 755000", "+    value: 1000"]
    for kept in ("# Our notes: renewal is the big one", "size: 8  # they are the market leader",
                 "business_agenda: Cut packaging cost 10%  # from the March workshop", "attitude: supporter",
                 "dormant_problem: Film tears on the new line", "current_situation: Consolidating suppliers"):
        assert kept in after


def test_new_crm_items_are_added_to_matched_accounts(fresh):
    export, ws = fresh
    with (export / "Opportunity.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow(
            [crm_export.opportunity_id(50_000), crm_export.account_id(0), "Brand new deal", "Qualification", "5000",
             "2027-03-31", "", "", "EUR", "false", "false", "2026-11-02T10:00:00.000+0000", "", ""])
    before = snapshot(ws)["alpen-foods.yaml"]
    result = run("import", "salesforce", export, "--date", TODAY, ws=ws)
    assert "add opportunity opportunities/brand-new-deal" in result.stdout
    lines = changed_lines(before, snapshot(ws)["alpen-foods.yaml"])
    assert all(line.startswith("+") for line in lines) and "+  - id: brand-new-deal" in lines
    assert run("import", "salesforce", export, ws=ws).stdout.count("unchanged") == 1  # and again: nothing new


def test_hand_written_items_are_adopted_not_duplicated(tmp_path):
    export = crm_export.salesforce(tmp_path / "export", accounts=3, per_account=1)
    ws = make_workspace(tmp_path / "ws", {"alpen-foods": """\
        name: Alpen Foods  # written before the CRM import
        opportunities:
          - id: deal-1-foods-line
            title: "Deal 1: Foods line"
            stage: identification
        """})
    result = run("import", "salesforce", export, "--account", "Alpen Foods", "--date", TODAY, ws=ws)
    assert result.exit_code == 0, result.output
    text = (ws / "accounts" / "alpen-foods.yaml").read_text()
    assert text.count("- id: deal-1-foods-line") == 1
    assert text.startswith("name: Alpen Foods  # written before the CRM import\n")
    assert "crm_id: 0065g00000000AAB" in text and sorted(snapshot(ws)) == ["alpen-foods.yaml"]


# --- which accounts -------------------------------------------------------------------------------------


def test_by_default_only_accounts_in_the_workspace_and_those_named(tmp_path):
    export = crm_export.salesforce(tmp_path / "export", accounts=30, per_account=1)
    ws = make_workspace(tmp_path / "ws")
    nothing = run("import", "salesforce", export, ws=ws)
    assert nothing.exit_code == 0 and snapshot(ws) == {} and "--all" in nothing.stderr
    named = run("import", "salesforce", export, "--account", "Nordic Foods", "--account",
                crm_export.account_id(2), ws=ws)
    assert named.exit_code == 0, named.output
    assert sorted(snapshot(ws)) == ["baltic-foods.yaml", "nordic-foods.yaml"]
    listed = tmp_path / "keys.txt"
    listed.write_text("# key accounts\nDelta Foods\n")
    assert run("import", "salesforce", export, "--accounts-file", listed, ws=ws).exit_code == 0
    assert sorted(snapshot(ws)) == ["baltic-foods.yaml", "delta-foods.yaml", "nordic-foods.yaml"]
    unknown = run("import", "salesforce", export, "--account", "No Such Co", ws=ws)
    assert unknown.exit_code == 2 and "No Such Co" in unknown.output


def test_where_filters_on_a_column(tmp_path):
    export = crm_export.salesforce(tmp_path / "export", accounts=40, per_account=1)
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "salesforce", export, "--where", "AnnualRevenue>=30000000", "--dry-run", ws=ws)
    assert result.exit_code == 0 and snapshot(ws) == {}
    rows = list(csv.DictReader(io.StringIO((export / "Account.csv").read_text("utf-8-sig"))))
    big = [r["Name"] for r in rows if r["AnnualRevenue"] and float(r["AnnualRevenue"]) >= 30_000_000]
    assert 0 < len(big) < 40
    assert result.stdout.count(": new account") == len(big)
    bad = run("import", "salesforce", export, "--where", "Revenue>=1", ws=ws)
    assert bad.exit_code == 2 and "no column 'Revenue'" in bad.output


# --- refusals ---------------------------------------------------------------------------------------------


def test_strict_refuses_the_whole_import(tmp_path):
    export = crm_export.salesforce(tmp_path / "export", accounts=20)
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "salesforce", export, "--all", "--strict", ws=ws)
    assert result.exit_code == 1 and "refused (--strict)" in result.output and snapshot(ws) == {}


def test_dry_run_writes_nothing_and_says_what_would_change(fresh):
    export, ws = fresh
    before = snapshot(ws)
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(1), Amount="5.0")
    result = run("import", "salesforce", export, "--dry-run", ws=ws)
    assert result.exit_code == 0
    assert "alpen-foods.yaml: set opportunities/deal-2-logistics-line/value: 227500 -> 5" in result.stdout
    assert "nothing was written" in result.stdout and snapshot(ws) == before


def test_an_invalid_account_file_refuses_the_import(fresh):
    export, ws = fresh
    (ws / "accounts" / "broken.yaml").write_text("name: [unclosed\n")
    before = snapshot(ws)
    result = run("import", "salesforce", export, ws=ws)
    assert result.exit_code == 1 and "would otherwise add duplicates" in result.output and snapshot(ws) == before


def test_a_file_that_fails_to_render_leaves_every_file_as_it_was(fresh, monkeypatch):
    from kamctl.crm import apply

    export, ws = fresh
    for n in (0, 1):
        edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(n * 3), Amount="42.0")
    before = snapshot(ws)
    real = apply._edit
    calls = []

    def second_fails(rt, change):
        calls.append(rt.file)
        if len(set(calls)) > 1:
            raise apply.ApplyError("boom")
        real(rt, change)

    monkeypatch.setattr(apply, "_edit", second_fails)
    result = run("import", "salesforce", export, ws=ws)
    assert result.exit_code == 1 and "boom" in result.output and snapshot(ws) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_export_is_refused_not_read(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    os.mkfifo(export / "Account.csv")
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "salesforce", export, "--all", ws=ws)
    assert result.exit_code == 1 and "not a regular file" in result.output


def test_a_missing_account_file_or_column_is_a_clear_refusal(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (tmp_path / "empty").mkdir()
    missing = run("import", "salesforce", tmp_path / "empty", "--all", ws=ws)
    assert missing.exit_code == 1 and "Account.csv: no such file" in missing.output
    (tmp_path / "empty" / "Account.csv").write_text("Id,Title\n1,x\n")
    column = run("import", "salesforce", tmp_path / "empty", "--all", ws=ws)
    assert column.exit_code == 1 and "no column 'Name'" in column.output
    (tmp_path / "empty" / "Account.csv").write_bytes(b"Id,Name\n1,\xff\n")
    assert "not UTF-8" in run("import", "salesforce", tmp_path / "empty", "--all", ws=ws).output


def test_ambiguous_slash_dates_are_refused_unless_the_order_is_set(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "Account.csv").write_text("Id,Name\nA1,Acme\n")
    (export / "Opportunity.csv").write_text("Id,AccountId,Name,StageName,CloseDate\nO1,A1,Film,Prospecting,03/04/2026\n")
    ws = make_workspace(tmp_path / "ws")
    refused = run("import", "salesforce", export, "--all", ws=ws)
    assert refused.exit_code == 1 and "could be dd/mm or mm/dd" in refused.output and snapshot(ws) == {}
    assert run("import", "salesforce", export, "--all", "--date-format", "dd/mm/yyyy", ws=ws).exit_code == 0
    assert "close: 2026-04-03" in (ws / "accounts" / "acme.yaml").read_text()
    told = tmp_path / "told"
    told.mkdir()
    (told / "Account.csv").write_text("Id,Name\nB1,Beta\n")
    (told / "Opportunity.csv").write_text("Id,AccountId,Name,StageName,CloseDate\nO1,B1,A,Prospecting,03/04/2026\n"
                                          "O2,B1,B,Prospecting,12/25/2026\n")
    assert run("import", "salesforce", told, "--all", ws=ws).exit_code == 0  # 12/25: month first
    assert "close: 2026-03-04" in (ws / "accounts" / "beta.yaml").read_text()


def test_an_unknown_stage_is_reported_and_can_be_mapped_in_kam_yaml(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "Account.csv").write_text("Id,Name\nA1,Acme\n")
    (export / "Opportunity.csv").write_text("Id,AccountId,Name,StageName\nO1,A1,Film,Legal Review\n")
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "salesforce", export, "--all", ws=ws)
    assert "Opportunity.csv:2: stage 'Legal Review' is not known" in result.stderr
    ws2 = make_workspace(tmp_path / "ws2", settings='crm:\n  stages: {"legal review": closing}\n')
    assert run("import", "salesforce", export, "--all", "--date", TODAY, ws=ws2).exit_code == 0
    assert "stage: closing" in (ws2 / "accounts" / "acme.yaml").read_text()


# --- HubSpot and mapped CSV ----------------------------------------------------------------------------------


def test_hubspot_exports_with_stage_labels_and_internal_ids(tmp_path):
    files = crm_export.hubspot(tmp_path / "hs")
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "hubspot", *files, "--all", "--date-format", "dd/mm/yyyy", "--date", TODAY, ws=ws)
    assert result.exit_code == 0, result.output
    assert len(snapshot(ws)) == 50 and run("validate", ws=ws).exit_code == 0
    text = (ws / "accounts" / "alpen-foods.yaml").read_text()
    assert 'crm_id: "9000"' in text and "name: Dana Reyes" in text
    stages = "".join(p.decode() for p in snapshot(ws).values())
    for stage in ("identification", "qualification", "decision", "pursuit", "closing", "contract", "lost"):
        assert f"    stage: {stage}\n" in stages
    assert snapshot(ws) == (run("import", "hubspot", *files, "--date-format", "dd/mm/yyyy", ws=ws) and snapshot(ws))


def test_any_csv_with_a_map(tmp_path):
    data = tmp_path / "deals.csv"
    data.write_text("Customer No;Customer;Deal No;Deal;Phase;EUR;Due\n".replace(";", ",")
                    + 'K1,Acme Corp,D1,Film,pursuit,"12,500.00",2026-09-30\nK1,Acme Corp,D2,Foil,closing,,\n'
                    + "K2,Beta AG,D3,Tape,identification,100,\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("account: {crm_id: Customer No, name: Customer}\n"
                       "opportunity: {crm_id: Deal No, title: Deal, stage: Phase, value: EUR, close: Due}\n")
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "csv", data, "--map", mapping, "--all", "--date", TODAY, ws=ws)
    assert result.exit_code == 0, result.output
    acme = (ws / "accounts" / "acme-corp.yaml").read_text()
    assert "value: 12500\n" in acme and "- id: foil" in acme and sorted(snapshot(ws)) == ["acme-corp.yaml", "beta-ag.yaml"]
    mapping.write_text("opportunity: {crm_id: Deal No, colour: Deal}\n")
    bad = run("import", "csv", data, "--map", mapping, ws=ws)
    assert bad.exit_code == 2 and "unknown field 'colour'" in bad.output


def test_an_export_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    from kamctl.crm import sources

    export = crm_export.salesforce(tmp_path / "export", accounts=20)
    monkeypatch.setattr(sources, "MAX_FILE", 1000)
    ws = make_workspace(tmp_path / "ws")
    result = run("import", "salesforce", export, "--all", ws=ws)
    assert result.exit_code == 1 and "the limit is 1,000" in result.output and snapshot(ws) == {}


def test_init_writes_the_crm_settings_commented_and_they_validate(tmp_path):
    ws = tmp_path / "new"
    assert CliRunner().invoke(app, ["init", str(ws)]).exit_code == 0
    text = (ws / "kam.yaml").read_text()
    assert "# crm:\n" in text and "#   date_format: auto" in text
    lines = text.split("# crm:\n", 1)[1].splitlines()
    crm = "crm:\n" + "\n".join(line[2:] for line in lines if line.startswith("#   "))
    (ws / "kam.yaml").write_text(text + "\n" + crm + "\n")
    assert run("validate", ws=ws).exit_code == 0
    (ws / "kam.yaml").write_text(text + "\ncrm:\n  stages: {Won: victory}\n")
    assert run("validate", ws=ws).exit_code != 0


def test_a_file_changed_by_someone_else_meanwhile_stops_the_import_before_any_write(fresh, monkeypatch):
    from kamctl.crm import apply

    export, ws = fresh
    edit_csv(export / "Opportunity.csv", crm_export.opportunity_id(0), Amount="42.0")
    with (export / "Account.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow([crm_export.account_id(77_777), "Latecomer Ltd"] + [""] * 7)
    real = apply.render

    def someone_edits(plan, root):
        rendered = real(plan, root)
        path = ws / "accounts" / "alpen-foods.yaml"
        path.write_text(path.read_text() + "# a person's edit\n")
        return rendered

    monkeypatch.setattr(apply, "render", someone_edits)
    before = snapshot(ws)
    result = run("import", "salesforce", export, "--account", "Latecomer Ltd", ws=ws)
    assert result.exit_code == 1 and "changed on disk while importing" in result.output
    after = snapshot(ws)
    assert "latecomer-ltd.yaml" not in after and after["alpen-foods.yaml"].endswith(b"# a person's edit\n")
    assert {k: v for k, v in after.items() if k != "alpen-foods.yaml"} == \
        {k: v for k, v in before.items() if k != "alpen-foods.yaml"}


def test_a_decision_maker_with_its_own_id_is_adopted_by_name(tmp_path):
    export = crm_export.salesforce(tmp_path / "export", accounts=2, per_account=1)
    ws = make_workspace(tmp_path / "ws", {"alpen-foods": """\
        name: Alpen Foods
        decision_makers:
          - id: anna
            name: Anna Novak
            business_agenda: Fewer suppliers
        """})
    assert run("import", "salesforce", export, "--date", TODAY, "--account", "Alpen Foods", ws=ws).exit_code == 0
    text = (ws / "accounts" / "alpen-foods.yaml").read_text()
    assert "id: anna-novak" not in text and text.count("    name: Anna Novak\n") == 1
    assert "  - id: anna\n    crm_id: 0035g00000000AAC\n    name: Anna Novak\n" in text
