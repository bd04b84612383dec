"""What it takes to add to kamctl: these tests add a document, an output format and an account
section the way a contributor would, touching only the places the closing note of issue 12 names."""

from __future__ import annotations

import shutil

from conftest import EXAMPLES

from kamctl import render
from kamctl.model import audience
from kamctl.model.account import Account


def test_a_new_document_is_its_entry_and_its_template(kamctl, tmp_path, monkeypatch):
    """An entry in render.ACCOUNT_DOCUMENTS plus templates/KIND.md.j2: `render KIND ID` exists, with
    its help, and `render all` writes it too."""
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLES, ws)
    (ws / "templates").mkdir()
    (ws / "templates" / "brief.md.j2").write_text("# Brief: {{ account.name }} ({{ summary.score.quadrant.name }})\n")
    monkeypatch.setitem(render.ACCOUNT_DOCUMENTS, "brief", render.Document(
        "A one-line brief.\n\nExample: kamctl -w examples render brief alpenmilch-foods"))
    assert "A one-line brief." in kamctl("render", "--help", ws=ws).stdout
    result = kamctl("render", "brief", "alpenmilch-foods", ws=ws)
    assert (result.exit_code, result.stdout) == (0, "# Brief: Alpenmilch Foods GmbH (Strategic)\n"), result
    kamctl("render", "all", "--out", tmp_path / "docs", ws=ws)
    assert (tmp_path / "docs" / "alpenmilch-foods-brief.md").read_text().startswith("# Brief: Alpenmilch")


def test_a_new_account_section_is_internal_without_an_audience_entry():
    """A section added to the models needs no audience entry: unlisted fields never reach the customer."""
    listed = {name for names in audience.FIELDS.values() for name in names}
    internal = [n for n in Account.model_fields if n not in listed]
    assert internal and all(audience.audience(Account, n) == audience.INTERNAL for n in internal)
