"""Issue 12, one vocabulary: the model owns stages, quadrants, levels and factors; every view agrees.

- a no-go is never called lost (diff, history, in every format);
- one label per level (Value-add) and per stage (no-go) in every human output; JSON and CSV keep
  the enum value (value_add, no_go), which is what scripts match on;
- Opportunity.reached is the one rule: report, pipeline, hand-over and diff give the same answer;
- no module outside kamctl/model/ writes the stage, quadrant, level or factor lists by hand.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import shutil

import pytest

from conftest import EXAMPLES, ROOT, make_workspace
from kamctl.model.account import AXES, Account, Opportunity, factor_names
from kamctl.model.settings import Settings
from kamctl.model.vocabulary import (CHAIN, END_STAGES, OPEN_STAGES, PAST_GATE, WON_STAGES, Level, Quadrant,
                                     Stage, label)
from kamctl.movement import move_kind
from kamctl.pipeline import portfolio_pipeline
from kamctl.report import performance
from kamctl.scoring import ready_to_farm
from test_history import commit, git, init_repo, write

# --- the model's vocabulary -----------------------------------------------------------------------------


def test_stage_order_gate_and_ends_come_from_the_enum():
    assert CHAIN == tuple(s for s in Stage if s not in END_STAGES)
    assert OPEN_STAGES + WON_STAGES == CHAIN
    assert [s for s in Stage if s.is_open] == list(OPEN_STAGES)
    assert [s for s in Stage if s.is_end] == [Stage.no_go, Stage.lost]
    assert PAST_GATE == (Stage.pursuit, Stage.closing, Stage.contract, Stage.engagement, Stage.no_go)
    assert Stage.closing.at_or_past(Stage.pursuit) and not Stage.pursuit.at_or_past(Stage.closing)
    assert not Stage.lost.at_or_past(Stage.identification)  # an end is past nothing on the chain


def test_one_label_per_level_stage_and_quadrant():
    assert [lv.label for lv in Level] == ["Commodity", "Product Provider", "Value-add", "Partner"]
    assert [lv.title for lv in Level] == [lv.label for lv in Level]  # templates' older name
    assert [s.label for s in Stage] == ["identification", "qualification", "decision", "pursuit", "closing",
                                        "contract", "engagement", "no-go", "lost"]
    assert [q.label for q in Quadrant] == ["Strategic", "Star", "Status", "Streamline"]
    assert label("value_add") == "Value-add" and label(Stage.no_go) == "no-go" and label("other") == "other"
    assert list(Settings().quadrants.model_dump()) == [q.value for q in Quadrant]
    assert [getattr(Settings().quadrants, q.value).name for q in Quadrant] == [q.label for q in Quadrant]


def test_quadrant_of_the_two_axes():
    assert Quadrant.of(True, True) is Quadrant.strategic and Quadrant.of(True, False) is Quadrant.star
    assert Quadrant.of(False, True) is Quadrant.status and Quadrant.of(False, False) is Quadrant.streamline


def test_opportunity_keys_are_the_models_field_order():
    from kamctl.edits import OPPORTUNITY_KEYS

    assert OPPORTUNITY_KEYS == tuple(Opportunity.model_fields)


# --- reached: one answer everywhere ---------------------------------------------------------------------

DAY = dt.date(2026, 3, 1)


def _opp(opp_id: str, stage: str, *history: str) -> dict:
    return {"id": opp_id, "title": opp_id, "value": 1000.0, "stage": stage,
            **({"decision": {"decision": "no_go" if stage == "no_go" else "go", "reason": "r"}}
               if stage in [s.value for s in PAST_GATE] else {}),
            "history": [{"stage": s, "date": (DAY + dt.timedelta(days=i)).isoformat()} for i, s in enumerate(history)]}


MATRIX = {  # opportunity -> the stages it reached, by the rule in Opportunity.reached
    "pursuit-no-history": (_opp("pursuit-no-history", "pursuit"),
                           {"identification", "qualification", "decision", "pursuit"}),
    "no-go": (_opp("no-go", "no_go", "identification", "qualification", "decision", "no_go"),
              {"identification", "qualification", "decision", "no_go"}),
    "no-go-no-history": (_opp("no-go-no-history", "no_go"), {"identification", "qualification", "decision", "no_go"}),
    "lost-after-closing": (_opp("lost-after-closing", "lost", "identification", "qualification", "decision",
                                "pursuit", "closing", "lost"),
                           {"identification", "qualification", "decision", "pursuit", "closing", "lost"}),
    "lost-no-history": (_opp("lost-no-history", "lost"), {"lost"}),
    "contract": (_opp("contract", "contract", "identification", "qualification", "decision", "pursuit", "contract"),
                 {"identification", "qualification", "decision", "pursuit", "closing", "contract"}),
    "qualification": (_opp("qualification", "qualification", "identification", "qualification"),
                      {"identification", "qualification"}),
}


@pytest.mark.parametrize("name", MATRIX)
def test_reached_follows_the_written_rule(name):
    data, expected = MATRIX[name]
    opp = Opportunity.model_validate(data)
    assert {s.value for s in Stage if opp.reached(s)} == expected
    for s in Stage:  # a date only where the history records the stage (or one that implies it)
        when = opp.reached_on(s)
        assert when is None or opp.reached(s), s


@pytest.mark.parametrize("name", MATRIX)
def test_report_pipeline_handover_and_diff_agree_on_reached(name):
    data, _ = MATRIX[name]
    account = Account.model_validate({"name": "A", "owner": {"role": "hunter"}, "opportunities": [data]})
    opp = account.opportunities[0]
    settings = Settings()
    measures = performance(account, settings, DAY + dt.timedelta(days=30), "a")["opportunities"]
    assert measures["qualified"] == opp.reached(Stage.qualification)
    assert measures["pursued"] == opp.reached(Stage.pursuit)
    assert measures["won"] == opp.reached(Stage.contract)
    assert ready_to_farm(account) == opp.reached(Stage.contract)
    funnel = portfolio_pipeline([("a", account)], settings, DAY + dt.timedelta(days=30))["funnel"]["counts"]
    for key, stage in (("qualified", Stage.qualification), ("pursued", Stage.pursuit), ("won", Stage.contract)):
        # the funnel counts what was reached in the period: reached, and dated by the history
        assert funnel[key] == (opp.reached(stage) and opp.reached_on(stage) is not None), key
        if opp.history:
            assert funnel[key] == opp.reached(stage), key
    previous = data["history"][-2]["stage"] if len(data["history"]) > 1 else None
    kind = move_kind(previous, opp.stage.value)
    assert (kind == "won") == (opp.reached(Stage.contract) and not (previous and Stage(previous).is_won))
    assert (kind == "lost") == (opp.stage is Stage.lost)
    assert (kind == "no_go") == (opp.stage is Stage.no_go)


def test_a_no_go_reached_decision_but_not_pursuit():
    opp = Opportunity.model_validate(MATRIX["no-go"][0])
    assert opp.reached(Stage.decision) and not opp.reached(Stage.pursuit) and not opp.reached(Stage.lost)
    assert opp.reached_on(Stage.decision) == DAY + dt.timedelta(days=2)


# --- a no-go is never called lost -------------------------------------------------------------------------


def _account(stage: str, level_loyalty: str = "low") -> str:
    return f"""\
name: Acme
attractiveness:
  size: 7
relative_strength:
  price: 6
relationship:
  price_sensitivity: low
  loyalty: {level_loyalty}
opportunities:
  - id: dropped
    title: Dropped deal
    value: 5000
    currency: EUR
    stage: {stage}
  - id: gone
    title: Gone deal
    value: 7000
    currency: EUR
    stage: {"lost" if stage == "no_go" else "closing"}
"""


@pytest.fixture
def moved(tmp_path):
    """A repository where one opportunity is decided no-go and another is closed lost, and the level
    moves from Product Provider to Value-add."""
    top = init_repo(tmp_path / "repo")
    ws = make_workspace(top / "kam")
    write(ws / "accounts" / "acme.yaml", _account("decision"))
    commit(top, "at decision", "2026-01-10")
    git(top, "tag", "v1")
    write(ws / "accounts" / "acme.yaml", _account("no_go", "some"))
    commit(top, "no-go", "2026-02-10")
    return ws


def test_diff_files_a_no_go_under_no_go_not_lost(kamctl, moved):
    r = kamctl("diff", "v1", "HEAD", "--format", "json", ws=moved)
    assert r.exit_code == 0, r
    opps = json.loads(r.stdout)["opportunities"]
    assert [o["id"] for o in opps["no_go"]] == ["dropped"]
    assert [o["id"] for o in opps["lost"]] == ["gone"]
    assert opps["no_go"][0]["kind"] == "no_go" and opps["no_go"][0]["to"] == "no_go"  # JSON keeps the value


def test_diff_and_history_words_say_no_go(kamctl, moved):
    table = kamctl("diff", "v1", "HEAD", ws=moved)
    assert table.exit_code == 0, table
    assert "opportunity dropped: decision -> no-go;" in table.stdout + ";"
    assert "dropped: decision -> no-go (lost)" not in table.stdout
    assert "opportunity gone: closing -> lost (lost)" in table.stdout
    assert "1 won" not in table.stdout and "0 won, 1 lost, 1 no-go, 0 advanced" in table.stdout
    md = kamctl("diff", "v1", "HEAD", "--format", "markdown", ws=moved)
    assert "opportunities 0 won, 1 lost, 1 no-go, 0 advanced" in md.stdout
    no_go = md.stdout.index("**No-go**")
    lost = md.stdout.index("**Lost**")
    dropped = md.stdout.index("Dropped deal (`dropped`): decision → no-go")
    gone = md.stdout.index("Gone deal (`gone`): closing → lost")
    assert lost < gone < no_go < dropped  # each under its own heading
    history = kamctl("history", "acme", ws=moved)
    assert "decision -> no-go" in history.stdout and "no-go (lost)" not in history.stdout


# --- one label per level and stage in every human output ------------------------------------------------

WRONG_LEVEL = re.compile(r"value_add|value add|product_provider|product provider|Value add|Value-Add|"
                         r"Product provider|\bpartner\b|\bcommodity\b")
WRONG_STAGE = re.compile(r"no_go|no go|No go|\bNo-Go\b")


def test_human_outputs_use_only_the_labels(kamctl, moved, tmp_path):
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples, ignore=shutil.ignore_patterns(".kamctl-cache"))
    runs = [(examples, ("score",)), (examples, ("level",)), (examples, ("report",)),
            (examples, ("report", "--format", "markdown")), (examples, ("portfolio",)),
            (examples, ("portfolio", "--format", "markdown")), (examples, ("pipeline",)),
            (examples, ("pipeline", "--format", "markdown")), (examples, ("opp", "list")),
            (examples, ("owners",)), (examples, ("render", "portfolio")), (examples, ("check",)),
            (examples, ("check", "--format", "text")),
            (moved, ("history", "acme")), (moved, ("history", "acme", "--format", "markdown")),
            (moved, ("diff", "v1", "HEAD")), (moved, ("diff", "v1", "HEAD", "--format", "markdown"))]
    runs += [(examples, ("render", "plan", p.stem)) for p in sorted((examples / "accounts").glob("*.yaml"))]
    runs += [(examples, ("level", p.stem)) for p in sorted((examples / "accounts").glob("*.yaml"))]
    seen = ""
    for ws, args in runs:
        r = kamctl(*args, ws=ws)
        assert r.exit_code in (0, 1), (args, r)
        assert not WRONG_LEVEL.findall(r.stdout), (args, WRONG_LEVEL.findall(r.stdout))
        assert not WRONG_STAGE.findall(r.stdout), (args, WRONG_STAGE.findall(r.stdout))
        seen += r.stdout
    for shown in ("Value-add", "Product Provider", "Partner", "no-go"):  # the labels did appear
        assert shown in seen, shown


def test_refusals_name_the_stage_by_its_label(kamctl, moved):
    r = kamctl("opp", "advance", "acme", "dropped", ws=moved)
    assert r.exit_code == 1, r
    assert "'dropped' is at no-go, a final stage" in r.stdout + r.stderr


def test_machine_outputs_keep_the_values(kamctl, moved):
    r = kamctl("history", "acme", "--format", "json", ws=moved)
    levels = [row["level"] for row in json.loads(r.stdout)["rows"]]
    assert levels == ["product_provider", "value_add"]
    r = kamctl("pipeline", "--format", "json", ws=moved)
    assert "no_go" in [s["stage"] for s in json.loads(r.stdout)["stages"]]
    r = kamctl("opp", "list", "--format", "csv", ws=moved)
    assert ",no_go," in r.stdout


# --- nothing outside the model writes the lists by hand ---------------------------------------------------

VOCABULARIES = {
    "stage": {s.value for s in Stage},
    "quadrant": {q.value for q in Quadrant},
    "level": {lv.value for lv in Level},
    **{f"{axis} factor": set(factor_names(axis)) for axis in AXES},
}


def _literals(tree: ast.AST):
    """(line, strings) of every tuple, list, set, Literal[...] and dict literal (keys and values),
    and of every simple statement (all the strings in one call or assignment) in a module."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None] + node.values
        elif isinstance(node, ast.stmt) and not hasattr(node, "body"):
            items = list(ast.walk(node))
        else:
            continue
        yield node.lineno, [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def _hand_written(strings: list[str]) -> list[str]:
    return [f"{name}: {sorted(set(strings) & names)}" for name, names in VOCABULARIES.items()
            if len(set(strings) & names) >= 2]


def test_no_module_outside_the_model_writes_the_vocabulary_lists():
    found = []
    for path in sorted((ROOT / "kamctl").rglob("*.py")):
        if path.parent.name == "model":
            continue
        for line, strings in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            found += [f"{path.relative_to(ROOT)}:{line}: {hit}" for hit in _hand_written(strings)]
    quoted = re.compile(r"""["']([a-z_]+)["']""")
    for path in sorted((ROOT / "templates").rglob("*.j2")):
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for group in re.findall(r"[(\[{][^()\[\]{}]*[)\]}]", text):  # one bracketed literal
                found += [f"{path.relative_to(ROOT)}:{n}: {hit}" for hit in _hand_written(quoted.findall(group))]
    assert found == []


def test_the_scan_finds_a_hand_written_list():
    """The scan above can fail: these are the forms it catches."""
    for source in ('A = ("strategic", "star")', 'B = {"pursuit": 1, "closing": 2}', 'C = {1: "status", 2: "star"}',
                   'D = Literal["value_add", "partner"]', 'grid.add_row(cell("star"), cell("strategic"))'):
        assert any(_hand_written(s) for _, s in _literals(ast.parse(source))), source
    assert not _hand_written(["status", "title"])  # one name alone is a word, not a list
