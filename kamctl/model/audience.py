"""Who may read each field of the account file: the one list, next to the models.

Documents for the customer (the satisfaction survey, a questionnaire printed `--blank`) are handed
to the customer, so they must never carry what we write about them: notes, alerts, agendas,
attitudes, buying roles, influence, strengths, scores, the pipeline. Every field of every model has
an audience, internal unless listed here:

- `customer`: the customer may see it (and so may we);
- `counterparts`: our people who mirror a decision maker; internal, shown to the customer only when
  asked for (`render questionnaire --blank --with-counterparts`);
- `internal`: our team only (the plan and the questionnaire with the answers on file).

A field holding a model or a list of models is customer-visible only when its own audience allows
it, and then only its customer-visible fields are passed on. `visible()` drops every key that is no
model field, so a property or a computed key never reaches the customer either.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from kamctl.model.account import Account, DecisionMaker, Owner

CUSTOMER = "customer"
COUNTERPARTS = "counterparts"
INTERNAL = "internal"
AUDIENCES = (CUSTOMER, COUNTERPARTS, INTERNAL)


def _fields(**by_audience: str) -> dict[str, str]:
    return {name: audience for audience, names in by_audience.items() for name in names.split()}


# The fields the customer or our counterparts may read; every other field of every model is
# internal, so a field added to the models stays out of customer documents until it is listed here
# (tests/test_audience.py pins this list).
FIELDS: dict[type[BaseModel], dict[str, str]] = {
    Account: _fields(customer="name industry owner decision_makers"),
    Owner: _fields(customer="name email"),
    DecisionMaker: _fields(customer="name title", counterparts="counterpart"),
}

CUSTOMER_DOCUMENT = frozenset({CUSTOMER})


def audience(model: type[BaseModel], name: str) -> str | None:
    """The audience of model.name: internal unless FIELDS says otherwise; None for a key that is no
    field of the model (a property, something computed), which visible() drops."""
    if name not in model.model_fields:
        return None
    return FIELDS.get(model, {}).get(name, INTERNAL)


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (directly, optional, in a list or Annotated), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return nested_model(typing.get_args(annotation)[0])
    if origin is dict:  # a mapping of ids to models (buying centre offerings)
        return nested_model(typing.get_args(annotation)[1])
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
        if inner is not None and typing.get_origin(field.annotation) is dict and isinstance(value, dict):
            out[name] = {key: visible(item, inner, readers) for key, item in value.items()}
        else:
            out[name] = value if inner is None else visible(value, inner, readers)
    return out
