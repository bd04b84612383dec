"""Every Mermaid block kamctl renders (quadrantChart, relationship maps) renders in Mermaid itself.

Needs mermaid-cli (`mmdc`) and chromium: mmdc from $KAMCTL_MMDC or PATH, the puppeteer config from
$KAMCTL_PUPPETEER_CONFIG or one made here for /usr/bin/chromium. Skipped when they are missing,
unless KAMCTL_REQUIRE_MERMAID=1 (as .ci/run sets), then it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES

pytestmark = pytest.mark.mermaid

FIXTURE = Path(__file__).resolve().parent / "golden" / "workspace"
BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.S | re.M)
CHROMIUM = Path("/usr/bin/chromium")


def _tools(tmp_path: Path) -> tuple[str, str]:
    mmdc = os.environ.get("KAMCTL_MMDC") or shutil.which("mmdc")
    config = os.environ.get("KAMCTL_PUPPETEER_CONFIG")
    if config is None and CHROMIUM.exists():
        config = str(tmp_path / "puppeteer.json")
        Path(config).write_text(json.dumps({"executablePath": str(CHROMIUM),
                                            "args": ["--no-sandbox", "--disable-gpu"]}))
    missing = [what for what, found in (("mmdc", mmdc), ("chromium", config)) if not found]
    if missing:
        message = f"{' and '.join(missing)} not installed (see .ci/run)"
        if os.environ.get("KAMCTL_REQUIRE_MERMAID", "") in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return mmdc, config


def rendered_blocks(kamctl, tmp_path: Path) -> list[tuple[str, str]]:
    """(file name, block) for every mermaid block of `render all` over examples/ plus the tricky fixture."""
    ws = tmp_path / "ws"
    if (EXAMPLES / "kam.yaml").exists():
        shutil.copytree(EXAMPLES, ws, ignore=shutil.ignore_patterns(".kamctl-cache"))
    else:
        shutil.copytree(FIXTURE, ws)
    shutil.copy(FIXTURE / "accounts" / "rich-co.yaml", ws / "accounts" / "rich-co.yaml")
    out = tmp_path / "out"
    result = kamctl("render", "all", "--out", out, "--as-of", "2026-11-30", ws=ws)
    assert result.exit_code in (0, 1), result
    blocks = []
    for file in sorted(out.glob("*.md")):
        blocks += [(file.name, b) for b in BLOCK.findall(file.read_text(encoding="utf-8"))]
    return blocks


def test_every_mermaid_block_renders(kamctl, tmp_path):
    mmdc, config = _tools(tmp_path)
    blocks = rendered_blocks(kamctl, tmp_path)
    kinds = {b.split(None, 1)[0] for _, b in blocks}
    assert {"quadrantChart", "flowchart"} <= kinds, kinds
    # the relationship map's reporting tree, dotted influence lines and attitude classes are drawn
    # somewhere (examples/ use them), so Mermaid parses each kind of line
    maps = "\n".join(b for _, b in blocks if b.startswith("flowchart"))
    for line in (" --> dm", ' -. "influences" .-> dm', "classDef champion ", "class dm", ", now ", "coverage "):
        assert line in maps, line
    # one mmdc call for all blocks: a Markdown input renders each block to its own SVG
    source = tmp_path / "all.md"
    (tmp_path / "svg").mkdir()
    source.write_text("".join(f"<!-- {name} -->\n\n```mermaid\n{b}```\n\n" for name, b in blocks), encoding="utf-8")
    result = subprocess.run([mmdc, "-p", config, "-q", "-i", str(source), "-o", str(tmp_path / "svg" / "all.md")],
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:  # say which block broke
        broken = []
        for i, (name, b) in enumerate(blocks):
            one = tmp_path / f"one-{i}.mmd"
            one.write_text(b, encoding="utf-8")
            r = subprocess.run([mmdc, "-p", config, "-q", "-i", str(one), "-o", str(tmp_path / f"one-{i}.svg")],
                               capture_output=True, text=True, timeout=120, check=False)
            if r.returncode != 0:
                broken.append(f"{name}:\n{b}\n{r.stderr[-600:]}")
        pytest.fail("Mermaid could not render:\n" + "\n".join(broken or [result.stderr[-2000:]]))
    svgs = sorted((tmp_path / "svg").glob("*.svg"))
    assert len(svgs) == len(blocks)
    # the escaped labels come out as the names people wrote
    text = "\n".join(p.read_text(encoding="utf-8") for p in svgs)
    for label in ("Jean &quot;JJ&quot; O'Brien; CFO", "Zhou Wei 周伟", "Anna Berg #1",
                  "Head of Operations [EMEA]: plants", "Márta Kovács"):
        assert label in text or label.replace("&quot;", '"') in text, label
