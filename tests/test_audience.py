"""Documents for the customer carry no internal field (issue 13).

Every field of every model reachable from Account is internal unless kamctl/model/audience.py lists it.
An account whose every text field holds a unique marker is rendered: the survey and the blank
questionnaire show no marker of an internal field, the plan shows them.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from enum import Enum
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from kamctl.model import audience
from kamctl.model.account import Account, Plan

# The only fields a customer document may show; every other field is internal. Making a field
# customer-visible is a decision about what we hand to customers: change this list on purpose.
CUSTOMER_VISIBLE = {
    "Account.name", "Account.industry", "Account.owner", "Account.decision_makers",
    "Owner.name", "Owner.email",
    "DecisionMaker.name", "DecisionMaker.title",
}
ON_REQUEST = {"DecisionMaker.counterpart": audience.COUNTERPARTS}  # render questionnaire --blank --with-counterparts


def _models(root: type[BaseModel] = Account) -> list[type[BaseModel]]:
    """Every model reachable from root through its fields, root first."""
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        model = todo.pop(0)
        if model in seen:
            continue
        seen.append(model)
        todo += [inner for f in model.model_fields.values() if (inner := audience.nested_model(f.annotation))]
    return seen


def _every_field() -> list[tuple[type[BaseModel], str]]:
    return [(model, name) for model in _models() for name in model.model_fields]


def test_a_field_nobody_listed_is_internal():
    """A field added to the models is ours until it is listed for the customer: adding an account
    section touches no audience list."""
    assert all(audience.audience(m, n) in audience.AUDIENCES for m, n in _every_field())
    assert audience.audience(Plan, "objectives") == audience.INTERNAL  # not listed anywhere
    assert audience.audience(Account, "no_such_field") is None  # a key that is no field: dropped


def test_the_audience_list_names_only_real_fields_and_audiences():
    real = set(_every_field())
    listed = {(m, n) for m, names in audience.FIELDS.items() for n in names}
    assert listed <= real, f"not model fields: {sorted(f'{m.__name__}.{n}' for m, n in listed - real)}"
    assert {a for names in audience.FIELDS.values() for a in names.values()} <= set(audience.AUDIENCES)


def test_which_fields_the_customer_may_see():
    shown = {f"{m.__name__}.{n}": audience.audience(m, n) for m, n in _every_field()}
    assert {k for k, a in shown.items() if a == audience.CUSTOMER} == CUSTOMER_VISIBLE
    assert {k: a for k, a in shown.items() if a == audience.COUNTERPARTS} == ON_REQUEST
    assert all(a == audience.INTERNAL for k, a in shown.items() if k not in CUSTOMER_VISIBLE | set(ON_REQUEST))


def test_visible_drops_keys_without_an_audience():
    """A property, a computed key or a field added later never reaches the customer."""
    data = {"name": "Acme", "notes": "ours", "entered_stage": "x", "brand_new_field": "?",
            "decision_makers": [{"name": "Ann", "key": "ann", "attitude": "sceptic", "counterpart": "Bo"}]}
    assert audience.visible(data, Account) == {"name": "Acme", "decision_makers": [{"name": "Ann"}]}
    readers = audience.CUSTOMER_DOCUMENT | {audience.COUNTERPARTS}
    assert audience.visible(data, Account, readers)["decision_makers"] == [{"name": "Ann", "counterpart": "Bo"}]


# --- an account with a marker in every text field ---------------------------------------------------


class _Marked:
    """Builds account data filling every field; each free-text field gets a unique marker."""

    def __init__(self) -> None:
        self.markers: dict[str, tuple[str, str]] = {}  # marker -> (Model.field, effective audience)

    def model(self, model: type[BaseModel], seen: str) -> dict[str, Any]:
        out = {}
        for name, field in model.model_fields.items():
            own = audience.audience(model, name) or audience.INTERNAL
            shown = audience.INTERNAL if audience.INTERNAL in (seen, own) else own if own != audience.CUSTOMER else seen
            annotation = typing.Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
            out[name] = self.value(annotation, f"{model.__name__}.{name}", shown, model, name)
        return out

    def value(self, annotation: Any, path: str, shown: str, model: type[BaseModel], name: str) -> Any:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Annotated:
            metadata = repr(args[1:])
            if "pattern" in metadata:
                if "A-Z" in metadata:
                    return "EUR"
                if "Q[1-4]" in metadata:
                    return "2026"
                return self.marker(path, shown)  # a slug id: markers are slugs
            return self.value(args[0], path, shown, model, name)
        if origin is list:
            return [self.value(args[0], path, shown, model, name)]
        if origin is dict:  # an id -> model mapping: the key is a marker too
            return {self.value(args[0], path, shown, model, name): self.value(args[1], path, shown, model, name)}
        if origin in (typing.Union, types.UnionType):
            return self.value(next(a for a in args if a is not type(None)), path, shown, model, name)
        if origin is typing.Literal:
            return args[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.model(annotation, shown)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return next(iter(annotation)).value
        if annotation is str:
            return self.marker(path, shown)
        if annotation is bool:
            return False
        if annotation is int:
            return 2026 if (model, name) == (Plan, "year") else 3
        if annotation is float:
            return 3.0
        if annotation is dt.date:
            return dt.date(2026, 6, 1)
        raise AssertionError(f"the marked account does not know how to fill {path} ({annotation!r})")

    def marker(self, path: str, shown: str) -> str:
        marker = f"zq{len(self.markers) + 1}x"
        self.markers[marker] = (path, shown)
        return marker


@pytest.fixture(scope="module")
def marked() -> tuple[str, dict[str, tuple[str, str]]]:
    builder = _Marked()
    data = builder.model(Account, audience.CUSTOMER)
    Account.model_validate(data)  # the marked account is a valid account
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True), builder.markers


@pytest.fixture
def marked_ws(workspace, marked):
    return workspace({"marked": marked[0]})


def _internal(markers: dict[str, tuple[str, str]], *audiences: str) -> dict[str, str]:
    return {m: path for m, (path, shown) in markers.items() if shown in audiences}


@pytest.mark.parametrize("args", [
    ["render", "survey", "marked"],
    ["render", "questionnaire", "marked", "--blank"],
    ["render", "questionnaire", "marked", "--blank", "--contact", "zq1x"],
], ids=["survey", "blank-questionnaire", "blank-questionnaire-one-contact"])
def test_customer_documents_show_no_internal_field(kamctl, marked_ws, marked, args):
    markers = marked[1]
    if "--contact" in args:  # the contact's id is a marker too (internal); find it by its path
        args = [*args[:-1], next(m for m, (p, _) in markers.items() if p == "DecisionMaker.id")]
    result = kamctl(*args, "--as-of", "2026-11-30", ws=marked_ws)
    assert result.exit_code == 0, result
    leaked = {m: p for m, p in _internal(markers, audience.INTERNAL, audience.COUNTERPARTS).items()
              if m in result.stdout}
    assert not leaked, f"internal fields in a customer document: {sorted(leaked.values())}"
    shown = {p for m, (p, a) in markers.items() if a == audience.CUSTOMER and m in result.stdout}
    assert {"Account.name", "DecisionMaker.name"} <= shown if "questionnaire" in args else {"Account.name"} <= shown


def test_blank_questionnaire_names_our_counterparts_only_when_asked(kamctl, marked_ws, marked):
    counterpart = next(m for m, (p, _) in marked[1].items() if p == "DecisionMaker.counterpart")
    plain = kamctl("render", "questionnaire", "marked", "--blank", ws=marked_ws)
    asked = kamctl("render", "questionnaire", "marked", "--blank", "--with-counterparts", ws=marked_ws)
    assert plain.exit_code == asked.exit_code == 0
    assert counterpart not in plain.stdout
    assert f"Your contact at Our company: {counterpart}." in asked.stdout
    assert not [m for m in _internal(marked[1], audience.INTERNAL) if m in asked.stdout]


def test_with_counterparts_needs_blank(kamctl, marked_ws):
    result = kamctl("render", "questionnaire", "marked", "--with-counterparts", ws=marked_ws)
    assert result.exit_code == 2 and "--with-counterparts needs --blank" in result.stderr


def test_the_plan_shows_the_internal_fields(kamctl, marked_ws, marked):
    """The plan is ours: the same fields the customer documents leave out are in it."""
    result = kamctl("render", "plan", "marked", "--as-of", "2026-11-30", ws=marked_ws)
    assert result.exit_code == 0, result
    shown = {p for m, p in _internal(marked[1], audience.INTERNAL, audience.COUNTERPARTS).items() if m in result.stdout}
    assert {"Account.notes", "Alert.message", "DecisionMaker.counterpart", "Opportunity.title",
            "Survey.moments_of_truth", "Strategy.current_situation", "Force.notes",
            "Tactic.title"} <= shown


def test_the_answers_questionnaire_is_internal(kamctl, marked_ws, marked):
    """Without --blank the questionnaire holds the answers on file and our view of each person."""
    result = kamctl("render", "questionnaire", "marked", ws=marked_ws)
    assert result.exit_code == 0, result
    shown = {p for m, p in _internal(marked[1], audience.INTERNAL, audience.COUNTERPARTS).items() if m in result.stdout}
    assert {"DecisionMaker.personal_agenda", "DecisionMaker.counterpart"} <= shown


@pytest.mark.parametrize("expression", ["account.notes", "account.performance.alerts", "summary.quadrant",
                                        "settings.company.name", "alerts", "pipeline"])
def test_a_workspace_survey_template_cannot_reach_internal_data(kamctl, marked_ws, expression):
    """A workspace's own survey template gets the customer context too: an internal name is undefined."""
    (marked_ws / "templates").mkdir()
    (marked_ws / "templates" / "survey.md.j2").write_text("{{ %s }}\n" % expression, encoding="utf-8")
    result = kamctl("render", "survey", "marked", ws=marked_ws)
    assert result.exit_code == 1, result
    assert "template error" in result.stderr and "zq" not in result.stdout
