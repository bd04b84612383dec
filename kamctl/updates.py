"""Quick updates without opening YAML: last contact, tactic done, a new survey, sales achieved.

Each is one small change on ruamel's round-trip tree, made with kamctl.edits' comment-keeping
helpers under write.locked() and saved by edits.save: only the changed lines are written,
atomically, and nothing is written when the file changed on disk since it was read. The caller
names the item by its place in the validated account (the same file, read under the same lock);
the node found there is checked to be that item before anything changes, so a file edited by
hand in between is refused (EditError), never half-updated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kamctl import edits
from kamctl.model.account import Account, DecisionMaker, Performance, SalesPeriod, Survey, Tactic
from kamctl.yamlio import write


def _edit(file: str | Path, root: Any, change: Callable[[write.RoundTrip], None]) -> bool:
    """Open the whole file under the folder's lock, apply change to its tree, save the changed lines."""
    with write.locked(file):
        rt = write.open_roundtrip(file, None, root)
        change(rt)
        return edits.save(rt)


def _at(node: Any, path: tuple, check: Callable[[Any], bool], file: Any) -> Any:
    """node[path...], refused (EditError) when it is not there or is not the item that was read."""
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
            break
    if not hasattr(node, "get") or not check(node):
        raise write.EditError(f"{file}: the item is no longer where kamctl read it (edited meanwhile?); "
                              "nothing was written. Run the command again.")
    return node


def set_last_contact(file: str | Path, index: int, name: str, date: dt.date, root: Any = None) -> bool:
    """decision_makers[index].last_contact = date (the decision maker read there is `name`)."""
    def change(rt: write.RoundTrip) -> None:
        person = _at(rt.data, ("decision_makers", index), lambda n: n.get("name") == name, file)
        edits.set_key(person, "last_contact", date, tuple(DecisionMaker.model_fields))
    return _edit(file, root, change)


def complete_tactic(file: str | Path, place: tuple[int, int, int], title: str, date: dt.date,
                    root: Any = None) -> bool:
    """plan.objectives[i].strategies[j].tactics[k]: status done, completed date."""
    i, j, k = place

    def change(rt: write.RoundTrip) -> None:
        path = ("plan", "objectives", i, "strategies", j, "tactics", k)
        tactic = _at(rt.data, path, lambda n: n.get("title") == title, file)
        order = tuple(Tactic.model_fields)
        edits.set_key(tactic, "status", "done", order)
        edits.set_key(tactic, "completed", date, order)
    return _edit(file, root, change)


def add_survey(file: str | Path, survey: dict[str, Any], root: Any = None) -> bool:
    """Append survey (fields in the model's order) to performance.surveys, in the style of the last
    one (one flow line when the list is empty, like a history entry)."""
    def change(rt: write.RoundTrip) -> None:
        data = rt.data
        if data.get("performance") is None:
            edits.set_key(data, "performance", edits.new_map(), tuple(Account.model_fields))
        performance = data["performance"]
        if performance.get("surveys") is None:
            edits.set_key(performance, "surveys", edits.new_seq(), tuple(Performance.model_fields))
        surveys = performance["surveys"]
        last = surveys[-1] if len(surveys) else None
        flow = last is None or not edits.is_collection(last) or bool(last.fa.flow_style())
        ordered = {k: survey[k] for k in Survey.model_fields if survey.get(k) is not None}
        edits.append_item(rt, performance, "surveys", edits.entry_map(ordered, flow))
    return _edit(file, root, change)


def set_achieved(file: str | Path, index: int, period: str, amount: float, root: Any = None) -> bool:
    """performance.sales[index].achieved = amount (the period read there is `period`)."""
    def change(rt: write.RoundTrip) -> None:
        row = _at(rt.data, ("performance", "sales", index), lambda n: str(n.get("period")) == period, file)
        edits.set_key(row, "achieved", edits.whole_number(amount), tuple(SalesPeriod.model_fields))
    return _edit(file, root, change)
