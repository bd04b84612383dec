"""kamctl site: the static HTML site (issue 15). The browser and validator checks are test_site_browser.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, ROOT
from kamctl import site
from kamctl.model.account import Account

KAMCTL = str(ROOT / ".venv" / "bin" / "kamctl")
# every kind of injection: a script element, an event handler, a javascript: link, both quote kinds
HOSTILE = ("</p></td><script>window.kamPwned=1</script><img src=x onerror=\"window.kamPwned=2\">"
           "<a href='javascript:window.kamPwned=3'>click</a> \" ' <svg onload=window.kamPwned=4>")
PAGES = ["index.html", "pipeline.html", "site.css"] + sorted(
    f"accounts/{p.stem}.html" for p in (EXAMPLES / "accounts").glob("*.yaml"))


def build(kamctl, ws: Path, out: Path, *extra: str):
    return kamctl("site", "--out", str(out), "--as-of", "2026-11-30", *extra, ws=ws)


def hostile_account() -> dict:
    """The complete example account with HOSTILE in every text field the model takes free text in."""
    data = yaml.safe_load((EXAMPLES / "accounts" / "alpenmilch-foods.yaml").read_text(encoding="utf-8"))

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            if isinstance(child, str):
                node[key] = HOSTILE
                try:
                    Account.model_validate(data)
                except Exception:
                    node[key] = child  # an id, an enum value, a date or an e-mail address: not free text
            elif isinstance(child, (dict, list)):
                walk(child)
    walk(data)
    return data


def hostile_workspace(root: Path) -> Path:
    """A workspace whose every text (account fields, company and quadrant names) is HOSTILE, in git."""
    (root / "accounts").mkdir(parents=True)
    settings = {"company": {"name": HOSTILE, "currency": "EUR"},
                "quadrants": {k: {"name": HOSTILE, "strategy": HOSTILE} for k in ("strategic", "star", "status", "streamline")}}
    (root / "kam.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (root / "accounts" / "hostile-corp.yaml").write_text(yaml.safe_dump(hostile_account(), allow_unicode=True),
                                                          encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.name=" + HOSTILE, "-c", "user.email=h@example.com"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", HOSTILE], check=True)
    return root


class Tags(HTMLParser):
    """Every element and attribute of a page, as the browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(text: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(text)
    return parser.tags


def test_site_builds_every_page_from_the_examples(kamctl, tmp_path):
    out = tmp_path / "public"
    result = build(kamctl, EXAMPLES, out)
    assert result.exit_code == 0, result
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == sorted(PAGES)
    index = (out / "index.html").read_text(encoding="utf-8")
    for path in (EXAMPLES / "accounts").glob("*.yaml"):
        name = yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
        assert f">{name.replace('&', '&amp;')}</a>" in index
        assert f'href="accounts/{path.stem}.html"' in index
    plan = (out / "accounts" / "alpenmilch-foods.html").read_text(encoding="utf-8")
    for heading in ("1. Account strategy", "Key Account Development Plan", "2. Relationship plan",
                    "3. Opportunities pipeline", "4. Performance and satisfaction", "Five forces", "Findings", "History"):
        assert heading in plan
    assert '<svg class="chart relationships"' in plan and '<svg class="chart history"' in plan  # examples/ is in git
    assert "Q1" in plan and "Kempten" in plan
    pipeline = (out / "pipeline.html").read_text(encoding="utf-8")
    assert '<svg class="chart bars"' in pipeline and "Stale opportunities" in pipeline and "Overdue" in pipeline


def test_no_page_asks_for_anything_outside_the_site(kamctl, tmp_path):
    out = tmp_path / "public"
    assert build(kamctl, EXAMPLES, out).exit_code == 0
    for page in out.rglob("*.html"):
        for tag, attrs in tags_of(page.read_text(encoding="utf-8")):
            for name in ("src", "href"):
                ref = attrs.get(name)
                if ref is None:
                    continue
                assert "://" not in ref and not ref.startswith("//"), (page, tag, ref)
                assert (page.parent / ref.split("#")[0]).resolve().is_file(), (page, ref)  # every link resolves


def test_a_second_run_with_nothing_changed_rewrites_nothing(kamctl, tmp_path):
    out = tmp_path / "public"
    assert build(kamctl, EXAMPLES, out).exit_code == 0
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    result = build(kamctl, EXAMPLES, out)
    assert result.exit_code == 0, result
    assert f"{len(PAGES)} files in {out}: 0 written, {len(PAGES)} unchanged" in result.stderr
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()} == before


def test_hostile_text_adds_no_markup(kamctl, tmp_path):
    ws = hostile_workspace(tmp_path / "ws")
    out = tmp_path / "public"
    result = build(kamctl, ws, out)
    assert result.exit_code == 0, result
    plan = (out / "accounts" / "hostile-corp.html").read_text(encoding="utf-8")
    assert plan.count("&lt;script&gt;window.kamPwned=1") > 40  # the text is there, shown as text
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        tags = tags_of(text)
        assert {t for t, _ in tags} <= {"html", "head", "meta", "title", "link", "body", "header", "nav", "a", "p",
                                        "main", "h1", "h2", "h3", "h4", "section", "figure", "figcaption", "svg",
                                        "desc", "rect", "text", "line", "circle", "polyline", "g", "dl", "div", "dt",
                                        "dd", "label", "input", "table", "thead", "tbody", "tr", "th", "td", "ul",
                                        "li", "code", "strong", "article", "footer", "span", "script"}, page
        assert sum(t == "script" for t, _ in tags) == (1 if page.name == "index.html" else 0)
        assert "kamPwned" not in "".join(text.split("<script>")[1:]).split("</script>")[0]
        for tag, attrs in tags:
            assert not any(name.startswith("on") for name in attrs), (page, tag, attrs)
            assert not any("javascript:" in (v or "") for v in attrs.values()), (page, tag, attrs)


def test_workspace_templates_override_the_built_in_ones(kamctl, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLES, ws)
    (ws / "templates" / "site").mkdir(parents=True)
    (ws / "templates" / "site" / "index.html.j2").write_text(
        '{% extends "site/base.html.j2" %}{% block title %}Ours{% endblock %}'
        '{% block main %}<h1>{{ accounts | length }} accounts, {{ "<b>" }}</h1>{% endblock %}', encoding="utf-8")
    (ws / "templates" / "site" / "site.css").write_text("body { color: #000000; }\n", encoding="utf-8")
    out = tmp_path / "public"
    assert build(kamctl, ws, out, "--no-history").exit_code == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<h1>10 accounts, &lt;b&gt;</h1>" in index  # autoescaped in a workspace template too
    assert (out / "site.css").read_text(encoding="utf-8") == "body { color: #000000; }\n"
    assert "Account plan: Alpenmilch" in (out / "accounts" / "alpenmilch-foods.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("template, words", [
    ("{{ accounts.__class__ }}", "sandbox"),
    ("{{ company.name.format }}", "sandbox"),
    ("{% for i in range(10**7) %}{% endfor %}", "stopped"),
])
def test_a_workspace_site_template_runs_in_the_sandbox(kamctl, tmp_path, template, words):
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLES, ws)
    (ws / "templates" / "site").mkdir(parents=True)
    (ws / "templates" / "site" / "pipeline.html.j2").write_text(template, encoding="utf-8")
    out = tmp_path / "public"
    result = build(kamctl, ws, out, "--no-history")
    assert result.exit_code == 1, result
    assert "pipeline.html.j2" in result.stderr and words in result.stderr
    assert not out.exists() or not list(out.iterdir())  # nothing written when a page fails


def test_a_symlink_in_the_site_folder_is_never_followed(kamctl, tmp_path):
    out, elsewhere = tmp_path / "public", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "accounts").symlink_to(elsewhere)
    result = build(kamctl, EXAMPLES, out, "--no-history")
    assert result.exit_code == 1 and "refusing to write" in result.stderr, result
    assert not list(elsewhere.iterdir())
    (out / "accounts").unlink()
    (out / "accounts").mkdir()
    (elsewhere / "target.html").write_text("keep", encoding="utf-8")
    (out / "index.html").symlink_to(elsewhere / "target.html")
    result = build(kamctl, EXAMPLES, out, "--no-history")
    assert result.exit_code == 1 and "refusing to write" in result.stderr, result
    assert (elsewhere / "target.html").read_text(encoding="utf-8") == "keep"


def test_site_at_a_revision_shows_that_commit_and_writes_nothing_in_the_workspace(kamctl, tmp_path):
    def status() -> str:
        return subprocess.run(["git", "status", "--porcelain", "--ignored", "--", "."], cwd=EXAMPLES,
                              capture_output=True, text=True, check=True).stdout

    before = status()
    out = tmp_path / "public"
    result = kamctl("site", "--out", str(out), "--at", "HEAD", ws=EXAMPLES)
    assert result.exit_code == 0, result
    day = subprocess.run(["git", "log", "-1", "--format=%as"], cwd=EXAMPLES, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert f"as of {day}" in (out / "index.html").read_text(encoding="utf-8")
    assert status() == before  # no cache written: --at reads git only


def test_invalid_accounts_are_left_out_and_exit_1(kamctl, workspace, tmp_path):
    ws = workspace({"good": "name: Good Co\n", "bad": "name: [unclosed\n"})
    out = tmp_path / "public"
    result = build(kamctl, ws, out, "--no-history")
    assert result.exit_code == 1
    assert "bad.yaml" in result.stderr
    assert (out / "accounts" / "good.html").exists() and not (out / "accounts" / "bad.html").exists()


def test_the_chart_has_a_point_per_scored_account_sized_by_revenue(tmp_path):
    from kamctl.loader import load_workspace

    ws = load_workspace(EXAMPLES, use_cache=False)
    summaries = [site.Assessments(ws.settings, site.dt.date(2026, 11, 30)).summary(a.id, a.account)
                 for a in ws.accounts]
    chart = site.kam_chart(summaries, ws.settings)
    assert len(chart["points"]) == sum(s.score.quadrant is not None for s in summaries) == 10
    by_id = {p["id"]: p for p in chart["points"]}
    assert by_id["alpenmilch-foods"]["r"] == max(p["r"] for p in chart["points"])  # the largest revenue
    assert all(chart["left"] <= p["x"] <= chart["right_x"] and chart["top"] <= p["y"] <= chart["bottom_y"]
               for p in chart["points"])


def test_portfolio_history_is_each_accounts_history_from_one_log(tmp_path):
    """kamctl site reads every account's history at once; it must say what `kamctl history` says,
    through edits, a rename inside accounts/, a deletion and an invalid version."""
    from kamctl.history import account_history, portfolio_history

    ws = tmp_path / "ws"
    (ws / "accounts").mkdir(parents=True)
    (ws / "kam.yaml").write_text("company: {name: Us}\n", encoding="utf-8")
    git = ["git", "-C", str(ws), "-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(ws)], check=True)

    def commit(message: str, **files: str | None) -> None:
        for name, text in files.items():
            path = ws / "accounts" / f"{name}.yaml"
            if text is None:
                path.unlink()
            else:
                path.write_text(text, encoding="utf-8")
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-qm", message], check=True)

    scores = "attractiveness: {size: %d}\nrelative_strength: {price: %d}\n"
    commit("one", a="name: A\n" + scores % (3, 4), b="name: B\n" + scores % (6, 6), c="name: C\n")
    commit("two", a="name: A\n" + scores % (7, 4), b="name: [broken\n")
    commit("three", b="name: B\n" + scores % (2, 8), c=None)
    subprocess.run(git + ["mv", "accounts/a.yaml", "accounts/a-renamed.yaml"], check=True)
    commit("rename")
    everything = portfolio_history(ws, use_cache=False)
    assert sorted(everything) == ["a-renamed", "b", "c"]
    for account_id in everything:
        assert everything[account_id] == account_history(ws, account_id), account_id
    assert [r["quadrant"] for r in everything["a-renamed"]["rows"]] == ["Streamline", "Star", "Star"]
    assert everything["c"]["rows"][-1]["changes"] == ["file deleted"]


def test_pages_built_by_forked_workers_are_the_pages_built_in_one_process(monkeypatch):
    from kamctl.loader import load_workspace

    ws = load_workspace(EXAMPLES, use_cache=False)
    accounts = [a for a in ws.accounts if a.ok]
    histories = site.git_history(ws.root)
    when = site.dt.date(2026, 11, 30)
    monkeypatch.setenv("KAMCTL_WORKERS", "1")
    alone = site.build(accounts, ws.settings, ws.root, when, histories)
    monkeypatch.setenv("KAMCTL_WORKERS", "3")
    shared = site.build(accounts, ws.settings, ws.root, when, histories)
    assert shared == alone and len(alone) == len(PAGES)
