"""Every check format stays byte-identical while formats.py is made fast (issue 18).

Golden outputs were written by the code before the rewrite: examples/, a generated workspace with
many findings (20 accounts, fixed seed and --as-of) and hand-made findings with control characters,
line breaks and the characters each format escapes. KAMCTL_GOLDEN=1 rewrites them (read by eye).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path

import pytest

from kamctl import formats
from kamctl.checks.incremental import check_workspace
from kamctl.findings import Finding, Severity

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "formats"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402

DAY = dt.date(2027, 6, 30)
VARIANTS = [("text", False), ("text", True), ("parsable", False), ("json", False), ("github", False),
            ("junit", False)]
TRICKY = [
    Finding("KAM702", Severity.error, "accounts/a\x1bb.yaml", 3, 5, "Alert: 50% off,\nnow\r\n\x07 <b>&amp;</b> \"q\" \u2028é",
            "a\x1bb"),
    Finding("KAM305", Severity.warning, "accounts/a\x1bb.yaml", 1, 1, "tab\there: colon, comma % end", "a\x1bb"),
    Finding("KAM703", Severity.info, "kam.yaml", 0, 0, "settings\nwide", None),
    Finding("KAM404", Severity.warning, "accounts/z\nz.yaml", 9, 2, "\x9b[31m ünïcode \ud800", "z\nz"),
]


def _case(name: str, tmp_path, monkeypatch) -> tuple:
    if name == "tricky":
        cases = {"a\x1bb": "accounts/a\x1bb.yaml", "z\nz": "accounts/z\nz.yaml"}
        completeness = {"a\x1bb": {k: 12.5 for k in ("strategy", "plan", "relationships", "pipeline",
                                                     "performance", "overall")}}
        return TRICKY, completeness, cases, "kam.yaml"
    if name == "examples":
        monkeypatch.chdir(ROOT)
    else:
        monkeypatch.chdir(tmp_path)
        generate.generate(20, tmp_path / name, seed=7, many=True)
    root = Path(name)  # files are shown relative to the working directory
    result, cases, settings = check_workspace(root, None, DAY, [], [], use_cache=False)
    return result.findings, result.completeness, cases, settings


@pytest.mark.parametrize("name", ["examples", "many", "tricky"])
def test_every_format_is_byte_identical(name, tmp_path, monkeypatch):
    findings, completeness, cases, settings = _case(name, tmp_path, monkeypatch)
    assert findings
    for fmt, colour in VARIANTS:
        for fail_on in ("error", "warning") if fmt in ("text", "json", "junit") else ("error",):
            out = formats.render(fmt, findings, completeness, fail_on, cases, settings, colour=colour)
            golden = GOLDEN / f"{name}-{fmt}{'-colour' if colour else ''}-{fail_on}.out"
            if os.environ.get("KAMCTL_GOLDEN"):
                golden.write_bytes(out.encode("utf-8", "surrogatepass"))
            assert out.encode("utf-8", "surrogatepass") == golden.read_bytes(), (name, fmt, colour, fail_on)


@pytest.mark.parametrize("name", ["examples", "many"])
def test_a_warm_check_writes_the_same_bytes_from_the_cache_and_the_views(name, tmp_path, monkeypatch):
    """Served accounts (from check.pack), their parts made (first warm run, filling view-FORMAT.pack)
    and their parts taken from the views (second): byte for byte a check without the cache (the
    test above holds that one to the goldens; a copy of examples/ outside git has other findings)."""
    from kamctl.cache import ViewCache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    if name == "examples":
        shutil.copytree(ROOT / "examples", tmp_path / name, ignore=shutil.ignore_patterns(".kamctl-cache"))
    else:
        generate.generate(20, tmp_path / name, seed=7, many=True)
    monkeypatch.chdir(tmp_path)
    root = Path(name)
    bare, cases, settings = check_workspace(root, None, DAY, [], [], use_cache=False)
    assert not bare.served
    expected = {(fmt, colour, fail_on): formats.render(fmt, bare.findings, bare.completeness, fail_on, cases, settings,
                                                       colour=colour)
                for fmt, colour in VARIANTS for fail_on in ("error", "warning")}
    if name == "many":
        assert expected["json", False, "error"].encode() == (GOLDEN / "many-json-error.out").read_bytes()
    check_workspace(root, None, DAY, [], [])  # cold: fills check.pack
    for run in ("views made", "views used"):
        result, cases, settings = check_workspace(root, None, DAY, [], [])
        assert result.served and not [f for f in result.loose if f.account]  # every account served
        for fmt, colour in VARIANTS:
            for fail_on in ("error", "warning") if fmt in ("text", "json", "junit") else ("error",):
                views = ViewCache(root, formats.view_name(fmt, colour, fail_on))
                views.load()
                assert views.loaded or run == "views made"
                out = formats.render(fmt, result.loose, result.completeness, fail_on, cases, settings, colour=colour,
                                     served=result.served, views=views)
                assert out == expected[fmt, colour, fail_on], (run, name, fmt, colour, fail_on)
                views.save(limit=1000)


def test_visible_fast_path_misses_no_unsafe_character():
    """visible() returns printable text untouched: that is only right while every character it
    escapes is one str.isprintable() refuses."""
    from kamctl.present import _BREAK, _UNSAFE, visible
    caught = [c for c in map(chr, range(0x110000)) if _UNSAFE.match(c) or _BREAK.match(c)]
    assert caught and not [c for c in caught if c.isprintable()]
    assert visible("a\x1bb") == "a\\x1bb" and visible("plain é") == "plain é"
