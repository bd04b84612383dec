"""render: a workspace template is untrusted (issue 11). It gets plain data, no way into Python or
files, and limits that stop a runaway with a one-line error naming the template, exit 1."""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import signal
from pathlib import Path

import pytest

from conftest import EXAMPLES
from test_hostile import KAMCTL, run_measured

ACCOUNT = "alpenmilch-foods"  # a rich example: opportunities, decision makers, surveys, alerts
AS_OF = "2026-11-30"


def planted(tmp_path: Path, text: str, document: str = "plan") -> Path:
    """A copy of examples/ whose templates/DOCUMENT.md.j2 is text."""
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLES, ws, ignore=shutil.ignore_patterns(".kamctl-cache"))
    (ws / "templates").mkdir(exist_ok=True)
    (ws / "templates" / f"{document}.md.j2").write_text(text, encoding="utf-8")
    return ws


def render_plan(ws: Path, *extra: str):
    return run_measured([str(KAMCTL), "-w", str(ws), "render", "plan", ACCOUNT, "--as-of", AS_OF, *extra], ws.parent)


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "templates/plan.md.j2" in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]


# --- no way into Python or files -------------------------------------------------------------------


def test_pickle_through_parse_raw_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"cos\\nsystem\\n(S'touch {marker}'\\ntR."  # protocol 0: os.system('touch MARKER')
    ws = planted(tmp_path, '{{ account.parse_raw("%s", proto="pickle", allow_pickle=True) }}\n' % payload)
    result, _, _ = render_plan(ws)
    assert not marker.exists(), "the pickle ran"
    assert_one_line_error(result, "parse_raw")


def test_parse_file_leaks_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text('{"token": "TOPSECRET-4711"}\n', encoding="utf-8")  # on main: echoed by the error
    for call in (f"settings.parse_file('{secret}')", f"account.parse_file('{secret}')",
                 "summary.score.__class__.__init__.__globals__"):
        ws = planted(tmp_path / call[:7], "{{ %s }}\n" % call)
        result, _, _ = render_plan(ws)
        assert "TOPSECRET" not in result.stdout + result.stderr
        assert_one_line_error(result)


@pytest.mark.parametrize("expression", [
    "''.__class__",
    "''.__class__.__mro__[1].__subclasses__()",
    "account.__class__",
    "account._blank_means_empty",
    "range.__self__",
    "namespace.__init__",
    "cycler.__init__.__globals__",
    "account['__class__']",
    "'{0.__class__}'.format(1)",
    "'{:>999999999}'.format(1)",
    "'x'.center",
    "account.opportunities.append(1)",
    "lipsum(100000)",
])
def test_python_internals_and_methods_are_out_of_reach(tmp_path, expression):
    result, _, _ = render_plan(planted(tmp_path, "{{ %s }}\n" % expression))
    assert_one_line_error(result)


# --- limits: a runaway template stops quickly, in bounded memory ------------------------------------


@pytest.mark.parametrize("template,reason,memory_mb", [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop steps", 200),
    ("{% set l = range(1000) | list %}{% for a in l %}{% for b in l %}{% for c in l %}{% endfor %}{% endfor %}"
     "{% endfor %}", "longer than", 200),
    ("{{ 'x' * 10**9 }}", "items", 200),
    ("{{ 'x' * 10**7 * 10**2 }}", "items", 200),
    ("{{ ['x'] * 10**9 }}", "items", 200),
    ("{{ 7 ** (10**9) }}", "bits", 200),
    ("{% set ns = namespace(n=7) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}", "bits", 200),
    ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "items",
     200),
    ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "out of memory", 1024),
    ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "output over", 200),
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "nested too deeply", 200),
    ("{{ 'x' | center(10**9) }}", "items", 200),
    ("{{ 'x' | indent(10**9, true) }}", "items", 200),
    ("{{ ('x' * 1000) | replace('x', 'x' * 100000) }}", "items", 200),
    ("{{ '%0999999999d' | format(1) }}", "width", 200),
    ("{{ '%0999999999d' % 1 }}", "width", 200),
    ("{{ [1] | batch(10**9, 0) | list }}", "items", 200),
    ("{{ (['a', 'b'] * 1000) | join('x' * 4000000) }}", "items", 200),
    ("{{ ('x ' * 2000000) | wordwrap(1, wrapstring='y' * 1000) }}", "items", 200),
    ("{{ [[[[1]]]] | tojson(10**9) }}", "indent", 200),
    ("{{ range(10**9) | list }}", "items", 200),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_a_runaway_template_stops_with_one_line(tmp_path, template, reason, memory_mb):
    result, seconds, rss = render_plan(planted(tmp_path, template + "\n"))
    assert_one_line_error(result, "template stopped", reason)
    assert seconds < 20, f"took {seconds:.1f} s"
    assert rss < memory_mb, f"used {rss:.0f} MB"


def test_limits_are_put_back_after_a_render(kamctl, tmp_path):
    """The alarm and the address-space limit only hold while a template runs."""
    before = resource.getrlimit(resource.RLIMIT_AS), signal.getsignal(signal.SIGALRM)
    ws = planted(tmp_path, "{% for i in range(10**6) %}{% for j in range(10) %}{% endfor %}{% endfor %}\n")
    result = kamctl("render", "plan", ACCOUNT, ws=ws)
    assert result.exit_code == 1, result
    assert "template stopped" in result.stderr
    assert (resource.getrlimit(resource.RLIMIT_AS), signal.getsignal(signal.SIGALRM)) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --- plain data ----------------------------------------------------------------------------------

PLAIN = (dict, list, str, int, float, bool, type(None), dt.date)


def impure(value, where="context"):
    """Every place in value holding something other than plain data, as 'path: type'."""
    if type(value) is dict:
        bad = [f"{where}: key {k!r}" for k in value if type(k) is not str]
        return bad + [b for k, v in value.items() for b in impure(v, f"{where}.{k}")]
    if type(value) is list:
        return [b for i, v in enumerate(value) for b in impure(v, f"{where}[{i}]")]
    return [] if type(value) in PLAIN else [f"{where}: {type(value).__name__}"]


@pytest.mark.parametrize("args", [
    ["plan", ACCOUNT, "--as-of", AS_OF], ["plan", ACCOUNT], ["questionnaire", ACCOUNT], ["survey", ACCOUNT],
    ["portfolio", "--as-of", AS_OF],
], ids=lambda a: " ".join(a))
def test_templates_get_plain_data_only(kamctl, tmp_path, monkeypatch, args):
    from jinja2 import Template

    seen = []
    new_context = Template.new_context

    def spy(self, vars=None, *rest, **kwargs):
        seen.append(dict(vars or {}))
        return new_context(self, vars, *rest, **kwargs)

    monkeypatch.setattr(Template, "new_context", spy)
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLES, ws, ignore=shutil.ignore_patterns(".kamctl-cache"))
    result = kamctl("render", *args, ws=ws)
    assert result.exit_code == 0, result
    assert seen, "no template rendered"
    for context in seen:
        assert impure(context) == []


def test_a_workspace_template_reads_the_data_by_attribute(tmp_path):
    """What a workspace template relies on: attribute access, enums as their values, levels and
    quadrants as records, dates as dates, data keys before dict methods."""
    ws = planted(tmp_path, "{{ account.name }}|{{ account.opportunities[0].stage }}|"
                           "{{ account.opportunities[0].entered_stage }}|{{ summary.level.level.title }}|"
                           "{{ summary.score.quadrant.name }}|{{ summary.score.attractiveness.partial }}|"
                           "{{ account.decision_makers[0].key }}|{{ pipeline.opportunities | length }}|"
                           "{{ (account.performance.surveys | sort(attribute='date') | last).date.year }}|"
                           "{{ account.plan.objectives[0].strategies[0].tactics[0].quarter }}|"
                           "{{ {'items': 3}.items }}|{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{% endfor %}\n")
    result, _, _ = render_plan(ws)
    assert result.returncode == 0, result
    assert result.stdout == ("Alpenmilch Foods GmbH|engagement|2025-10-15|Partner|Strategic|False|"
                             "kweber|3|2026|Q1|3|a1\n"), result.stdout


def test_each_document_gets_its_own_step_budget(kamctl, tmp_path):
    """render all shares one environment: the budget is per document, not per run."""
    ws = planted(tmp_path, "{% for i in range(400000) %}{% endfor %}{{ id }}\n")
    result = kamctl("render", "all", "--out", tmp_path / "out", ws=ws)
    assert result.exit_code == 0, result
    plans = sorted((tmp_path / "out").glob("*-plan.md"))
    assert len(plans) >= 3  # together well over MAX_STEPS
    assert all(p.read_text(encoding="utf-8") == p.name[:-len("-plan.md")] + "\n" for p in plans)
