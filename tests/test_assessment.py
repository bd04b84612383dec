"""One assessment per account per run, one currency per figure, and report totals with rates."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from conftest import EXAMPLES, make_workspace

from kamctl import assessment, checks, scoring

AS_OF = "2026-12-31"


def _examples(tmp_path):
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root)
    return root


def _count(monkeypatch, module, name, calls: Counter, key=lambda *a, **k: None):
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls[(name, key(*args, **kwargs))] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


def test_render_all_assesses_each_account_once(tmp_path, monkeypatch, kamctl):
    root = _examples(tmp_path)
    calls: Counter = Counter()
    _count(monkeypatch, assessment, "assess", calls, key=lambda loaded, *a, **k: loaded.id)
    for module in (assessment, checks, scoring):  # every name summarise is called by
        _count(monkeypatch, module, "summarise", calls, key=lambda account_id, *a, **k: account_id)
    result = kamctl("render", "all", "--out", tmp_path / "out", "--as-of", AS_OF, ws=root)
    assert result.exit_code == 0, result
    ids = sorted(p.stem for p in (root / "accounts").glob("*.yaml"))
    assert len(ids) == 10 and len(list((tmp_path / "out").glob("*.md"))) == 3 * len(ids) + 1
    assert {k: v for k, v in calls.items() if k[0] == "assess"} == {("assess", i): 1 for i in ids}
    assert {k: v for k, v in calls.items() if k[0] == "summarise"} == {("summarise", i): 1 for i in ids}


def test_rendering_one_plan_runs_each_alert_rule_once(tmp_path, monkeypatch, kamctl):
    root = _examples(tmp_path)
    calls: Counter = Counter()
    for code in checks.ALERTS:
        rule, fn = checks.CHECKS[code]

        def counted(acc, ctx, fn=fn, code=code):
            calls[code] += 1
            return fn(acc, ctx)

        monkeypatch.setitem(checks.CHECKS, code, (rule, counted))
    result = kamctl("render", "plan", "rhein-logistik", "--as-of", AS_OF, ws=root)
    assert result.exit_code == 0, result
    assert calls and set(calls.values()) == {1}, calls  # before: twice (the alerts and the performance count)


SETTINGS = """\
    company: {name: Us, currency: EUR}
    """
GBP_ACCOUNT = """\
    name: Kingsbridge
    revenue: {current: 500000, currency: GBP}
    performance:
      sales:
        - {period: 2026, target: 520000, achieved: 505000, forecast: 530000}
    """
EUR_ACCOUNT = """\
    name: Alpen
    performance:
      sales:
        - {period: 2026, target: 1000000, achieved: 400000}
    """


def test_plan_states_sales_in_the_account_currency(tmp_path, kamctl):
    """A sales period without its own currency is in the account's (revenue.currency): the plan's
    summary and its sales table say the same (the table used to fall back to the company's)."""
    root = make_workspace(tmp_path / "ws", {"kb": GBP_ACCOUNT}, SETTINGS)
    result = kamctl("render", "plan", "kb", "--as-of", AS_OF, ws=root)
    assert result.exit_code == 0, result
    text = result.stdout
    assert "target 520,000 GBP, achieved 505,000 GBP" in text
    assert "| 2026 | 520,000 GBP | 505,000 GBP | 530,000 GBP |" in text
    assert "520,000 EUR" not in text and "505,000 EUR" not in text


def _report(kamctl, root, *options):
    result = kamctl("report", "--as-of", AS_OF, *options, ws=root)
    assert result.exit_code == 0, result
    return result.stdout


def test_report_converts_portfolio_totals_with_rates(tmp_path, kamctl):
    settings = "company: {name: Us, currency: EUR}\npipeline: {rates: {GBP: 1.25}}\n"
    root = make_workspace(tmp_path / "ws", {"kb": GBP_ACCOUNT, "alpen": EUR_ACCOUNT}, settings)
    data = json.loads(_report(kamctl, root, "--format", "json"))["portfolio"]
    assert data["rates_missing"] == []
    assert data["sales_company"] == {"currency": "EUR", "target": 1650000.0, "achieved": 1031250.0,
                                     "forecast": 662500.0, "attainment_percent": 62.5}
    assert data["sales"]["GBP"]["target"] == 520000  # the per-currency totals stay
    table = _report(kamctl, root, "--format", "markdown")
    portfolio_row = next(line for line in table.splitlines() if line.startswith("| portfolio"))
    assert "| 1,650,000 EUR | 1,031,250 EUR | 662,500 EUR | 62.5 |" in portfolio_row
    assert "rates missing" not in table


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_report_says_when_rates_do_not_cover_a_currency(tmp_path, kamctl, fmt):
    root = make_workspace(tmp_path / "ws", {"kb": GBP_ACCOUNT, "alpen": EUR_ACCOUNT}, SETTINGS)
    out = _report(kamctl, root, "--format", fmt)
    assert "totals per currency: rates missing for GBP" in out
    if fmt == "markdown":  # (a terminal table wraps the long cells)
        assert "| 1,000,000 EUR / 520,000 GBP |" in out and "| 40.0 / 97.1 |" in out
    data = json.loads(_report(kamctl, root, "--format", "json"))["portfolio"]
    assert data["sales_company"] is None and data["rates_missing"] == ["GBP"]
