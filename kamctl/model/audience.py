"""Who may read each field of the account file: the one list, next to the models.

Documents for the customer (the satisfaction survey, a questionnaire printed `--blank`) are handed
to the customer, so they must never carry what we write about them: notes, alerts, agendas,
attitudes, buying roles, influence, strengths, scores, the pipeline. Every field of every model has
an audience here:

- `customer`: the customer may see it (and so may we);
- `counterparts`: our people who mirror a decision maker; internal, shown to the customer only when
  asked for (`render questionnaire --blank --with-counterparts`);
- `internal`: our team only (the plan and the questionnaire with the answers on file).

A field holding a model or a list of models is customer-visible only when its own audience allows
it, and then only its customer-visible fields are passed on. `visible()` drops every key it does not
know, so a field added without an audience never reaches the customer (tests/test_audience.py fails
until it has one).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from kamctl.model.account import (Account, Alert, Attractiveness, Decision, DecisionMaker, Factor, FiveForces,
                                  Force, HistoryEntry, Interaction, Objective, Opportunity, Owner, Performance,
                                  Plan, PlanStrategy, Relationship, RelativeStrength, Revenue, SalesPeriod,
                                  Strategy, Survey, Tactic)

CUSTOMER = "customer"
COUNTERPARTS = "counterparts"
INTERNAL = "internal"
AUDIENCES = (CUSTOMER, COUNTERPARTS, INTERNAL)


def _fields(**by_audience: str) -> dict[str, str]:
    return {name: audience for audience, names in by_audience.items() for name in names.split()}


FIELDS: dict[type[BaseModel], dict[str, str]] = {
    Account: _fields(
        customer="name industry owner decision_makers",
        internal="hunted_by revenue attractiveness relative_strength relationship strategy plan opportunities "
                 "interactions performance five_forces notes crm_id"),
    Owner: _fields(customer="name email", internal="role cycle"),
    Revenue: _fields(internal="current potential currency"),
    Attractiveness: _fields(internal=" ".join(Attractiveness.model_fields)),
    RelativeStrength: _fields(internal=" ".join(RelativeStrength.model_fields)),
    Factor: _fields(internal="score note"),
    Relationship: _fields(internal="price_sensitivity loyalty level notes"),
    Strategy: _fields(internal=" ".join(Strategy.model_fields)),
    Plan: _fields(internal="year objectives"),
    Objective: _fields(internal="title strategies"),
    PlanStrategy: _fields(internal="title tactics"),
    Tactic: _fields(internal="title quarter owner due status"),
    DecisionMaker: _fields(
        customer="name title",
        counterparts="counterpart",
        internal="id buying_role influence attitude strength last_contact business_agenda personal_agenda "
                 "recognised_by measured_by crm_id"),
    Opportunity: _fields(internal="id title value currency stage close decision dormant_problem vision notes history crm_id"),
    Decision: _fields(internal="decision reason by date"),
    HistoryEntry: _fields(internal="stage date note decision reason by forced"),
    Interaction: _fields(internal="date kind title audience status notes"),
    Performance: _fields(internal="sales surveys alerts"),
    SalesPeriod: _fields(internal="period currency target achieved forecast"),
    # Moments of truth are our record of past surveys, in our words (they held internal notes such
    # as "Late delivery in the September surge"): the survey asks the customer to name their own.
    Survey: _fields(internal="date method score respondent moments_of_truth notes"),
    Alert: _fields(internal="date message severity raised_by resolved"),
    FiveForces: _fields(internal=" ".join(FiveForces.model_fields)),
    Force: _fields(internal="rating notes"),
}

CUSTOMER_DOCUMENT = frozenset({CUSTOMER})


def audience(model: type[BaseModel], name: str) -> str | None:
    """The audience of model.name, None when it has none (a gap the audience test reports)."""
    return FIELDS.get(model, {}).get(name)


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (directly, optional, in a list or Annotated), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return nested_model(typing.get_args(annotation)[0])
    if origin in (list, tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = nested_model(arg)
            if found is not None:
                return found
    return None


def visible(data: Any, model: type[BaseModel], readers: frozenset[str] = CUSTOMER_DOCUMENT) -> Any:
    """The plain data of a `model` (a dict, as render.plain() makes it, or a list of them) with only
    the fields whose audience is in readers; keys without an audience (a new field, a property,
    something computed) are dropped."""
    if isinstance(data, list):
        return [visible(item, model, readers) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for name, value in data.items():
        if audience(model, name) not in readers:
            continue
        field = model.model_fields.get(name)
        inner = None if field is None else nested_model(field.annotation)
        out[name] = value if inner is None else visible(value, inner, readers)
    return out
