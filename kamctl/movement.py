"""What changed, in words: between two states of one account, or two whole workspaces.

An account's state is plain data read from its kamctl.assessment.Assessment (scores, quadrant,
level, open pipeline, alerts); this module only compares states. Nothing here reads git, prints or exits.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from kamctl.assessment import Assessment, Assessments
from kamctl.findings import Severity
from kamctl.present import plural, rounded
from kamctl.model.vocabulary import Stage, label
from kamctl.present import totals

AXIS_WORDS = {"attractiveness": "attractiveness", "relative_strength": "relative strength"}


@dataclass
class AccountState:
    id: str
    name: str | None
    valid: bool
    problems: int = 0
    attractiveness: float | None = None
    relative_strength: float | None = None
    quadrant_key: str | None = None
    quadrant: str | None = None
    level: str | None = None
    open_value: dict[str, float] = field(default_factory=dict)
    satisfaction: float | None = None
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: list[dict[str, str]] = field(default_factory=list)
    health: float | None = None


def _latest_satisfaction(account: Any) -> float | None:
    scored = [s for s in account.performance.surveys if s.score is not None]
    return max(scored, key=lambda s: s.date).score if scored else None


def alerts_of(assessment: Assessment) -> list[dict[str, str]]:
    """An assessment's early-warning alerts as rule, message."""
    return [{"rule": a.rule, "message": a.message} for a in assessment.alerts]


def state_of(loaded: Any, assessment: Assessment | None, with_health: bool = False) -> AccountState:
    """The comparable state of one loaded account (valid or not) from its assessment (None when it
    is invalid); alerts are left empty, as they cost the most: compare fills them where they matter.
    with_health: its health score too (history)."""

    problems = sum(1 for f in loaded.findings if f.severity is Severity.error)
    account = loaded.account
    if account is None or assessment is None:
        return AccountState(loaded.id, None, False, problems)
    summary = assessment.summary
    score = summary.score
    level = summary.level.level or summary.level.declared
    settings = assessment.settings
    return AccountState(
        id=loaded.id, name=account.name, valid=True, problems=problems,
        attractiveness=rounded(score.attractiveness.score),
        relative_strength=rounded(score.relative_strength.score),
        quadrant_key=score.quadrant.key if score.quadrant else None,
        quadrant=score.quadrant.name if score.quadrant else None,
        level=level.value if level else None,
        open_value=dict(sorted(assessment.pipeline["open_value"].items())),
        satisfaction=_latest_satisfaction(account),
        opportunities={o.id: {"title": o.title, "stage": o.stage.value, "value": o.value,
                              "currency": o.currency or settings.company.currency} for o in account.opportunities},
        health=assessment.health["score"] if with_health else None,
    )


def states(ws: Any, assessments: Assessments) -> dict[str, AccountState]:
    """The state of every account of a workspace, from one run's assessments."""
    return {la.id: state_of(la, assessments.of(la) if la.account is not None else None) for la in ws.accounts}


def state_dict(state: AccountState | None) -> dict[str, Any]:
    """The columns a history row or diff table shows (all None for a deleted or invalid file)."""
    if state is None:
        return {"name": None, "valid": None, "attractiveness": None, "relative_strength": None, "quadrant": None,
                "level": None, "open_value": {}, "satisfaction": None}
    return {"name": state.name, "valid": state.valid, "attractiveness": state.attractiveness,
            "relative_strength": state.relative_strength, "quadrant": state.quadrant, "level": state.level,
            "open_value": state.open_value, "satisfaction": state.satisfaction}


# --- words ------------------------------------------------------------------------------------------


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _or_none(x: Any, empty: str = "(none)") -> str:
    return empty if x is None else str(x)


MOVE_KINDS = ("won", Stage.lost.value, Stage.no_go.value, "advanced")  # the moves a diff lists, in order


def move_kind(frm: str | None, to: str) -> str:
    """What moving from stage `frm` (None: new) to `to` was: won, lost, no_go (decided against at
    the gate: never called lost), added, advanced (forward on the chain) or moved."""
    old, new = (Stage(frm) if frm else None), Stage(to)
    if new.is_won and not (old and old.is_won):
        return "won"
    if new.is_end and not (old and old.is_end):
        return new.value  # no_go or lost
    if old is None:
        return "added"
    if old.is_open and new.is_open and new.at_or_past(old):
        return "advanced"
    return "moved"


def opportunity_moves(before: AccountState | None, after: AccountState | None) -> list[dict[str, Any]]:
    """Each opportunity whose stage changed (or that appeared/disappeared), with its kind of move."""
    old = before.opportunities if before else {}
    new = after.opportunities if after else {}
    moves = []
    for opp_id, o in new.items():
        prev = old.get(opp_id)
        if prev is not None and prev["stage"] == o["stage"]:
            continue
        frm = prev["stage"] if prev else None
        to = o["stage"]
        moves.append({"id": opp_id, "title": o["title"], "from": frm, "to": to, "kind": move_kind(frm, to),
                      "value": o["value"], "currency": o["currency"]})
    for opp_id, o in old.items():
        if opp_id not in new and after is not None and after.valid:
            moves.append({"id": opp_id, "title": o["title"], "from": o["stage"], "to": None, "kind": "removed",
                          "value": o["value"], "currency": o["currency"]})
    return moves


def _move_words(m: dict[str, Any]) -> str:
    if m["kind"] == "added":
        return f"opportunity {m['id']} added ({label(m['to'])})"
    if m["kind"] == "removed":
        return f"opportunity {m['id']} removed"
    suffix = {"won": " (won)", "lost": " (lost)"}.get(m["kind"], "")
    return f"opportunity {m['id']}: {label(m['from']) or '(new)'} -> {label(m['to'])}{suffix}"


def _alert_key(a: dict[str, str]) -> tuple[str, str]:
    return a["rule"], re.sub(r"[0-9]+", "#", a["message"])


def new_alerts(before: AccountState | None, after: AccountState | None) -> list[dict[str, str]]:
    seen = {_alert_key(a) for a in (before.alerts if before else [])}
    return [a for a in (after.alerts if after else []) if _alert_key(a) not in seen]


def account_changes(before: AccountState | None, after: AccountState | None, threshold: float = 0.0,
                    renamed_from: str | None = None, deleted: bool = False) -> list[str]:
    """The changes from one state of an account to the next, in words ("quadrant Star -> Strategic")."""
    words: list[str] = []
    if deleted:
        return ["file deleted"]
    if renamed_from:
        words.append(f"renamed from {renamed_from}")
    if after is None:
        return words
    if not after.valid:
        if before is None or before.valid:
            words.append(f"invalid ({plural(after.problems, 'problem')})")
        return words
    if before is None:
        return words if renamed_from else ["added"]
    if not before.valid:
        return words + ["valid again"]  # history compares with the last valid state itself
    if before.name is not None and before.name != after.name:
        words.append(f"name {before.name} -> {after.name}")
    if before.quadrant != after.quadrant:
        words.append(f"quadrant {_or_none(before.quadrant, '(unscored)')} -> {_or_none(after.quadrant, '(unscored)')}")
    for axis, axis_words in AXIS_WORDS.items():
        a, b = getattr(before, axis), getattr(after, axis)
        if a != b and (a is None or b is None or abs(b - a) >= threshold - 1e-9):
            delta = "" if a is None or b is None else f" ({b - a:+.1f})"
            words.append(f"{axis_words} {_num(a)} -> {_num(b)}{delta}")
    if before.level != after.level:
        words.append(f"level {_or_none(before.level and label(before.level))} -> "
                     f"{_or_none(after.level and label(after.level))}")
    words.extend(_move_words(m) for m in opportunity_moves(before, after))
    if before.open_value != after.open_value:
        words.append(f"open pipeline {totals(before.open_value) or 'none'} -> {totals(after.open_value) or 'none'}")
    if before.satisfaction != after.satisfaction:
        words.append(f"satisfaction {_num(before.satisfaction)} -> {_num(after.satisfaction)}")
    words.extend(f"new alert: {a['message']}" for a in new_alerts(before, after))
    return words


# --- two workspaces ---------------------------------------------------------------------------------


def compare(before_ws: Any, after_ws: Any, as_of_before: dt.date, as_of_after: dt.date,
            threshold: float = 0.5) -> dict[str, Any]:
    """Accounts added/removed, quadrant moves, score changes of at least threshold, level changes,
    opportunities won/lost/no-go/advanced and new alerts between two workspaces; plain data."""

    memo_old, memo_new = Assessments(before_ws.settings, as_of_before), Assessments(after_ws.settings, as_of_after)
    old, new = states(before_ws, memo_old), states(after_ws, memo_new)
    # alerts are the costly part: the earlier state's only matter where the later one has some
    loaded_old = {la.id: la for la in before_ws.accounts}
    renamed = _renames(old, new)
    for la in after_ws.accounts:
        if la.account is None:
            continue
        new[la.id].alerts = alerts_of(memo_new.of(la))
        old_id = renamed.get(la.id, la.id)
        prior = loaded_old.get(old_id)
        if new[la.id].alerts and prior is not None and prior.account is not None:
            old[old_id].alerts = alerts_of(memo_old.of(prior))
    out: dict[str, Any] = {"threshold": threshold, "added": [], "removed": [],
                           "renamed": [{"from": o, "to": n} for n, o in renamed.items()], "quadrant_moves": [],
                           "score_changes": [], "level_changes": [],
                           "opportunities": {kind: [] for kind in MOVE_KINDS},
                           "new_alerts": [], "accounts": [], "unchanged": 0}
    for acc_id in sorted((set(old) - set(renamed.values())) | set(new)):
        a, b = old.get(renamed.get(acc_id, acc_id)), new.get(acc_id)
        if acc_id in renamed:
            pass
        elif a is None:
            out["added"].append({"id": acc_id, "name": b.name, "quadrant": b.quadrant, "valid": b.valid})
        elif b is None:
            out["removed"].append({"id": acc_id, "name": a.name, "quadrant": a.quadrant, "valid": a.valid})
        if acc_id in renamed:
            changes = account_changes(a, b, threshold, renamed_from=renamed[acc_id])
        elif a is None:
            changes = [f"added ({b.quadrant or 'unscored'})" if b.valid else "added (invalid)"]
        elif b is None:
            changes = ["removed"]
        else:
            changes = account_changes(a, b, threshold)
        if a is not None and b is not None and a.valid and b.valid:
            if a.quadrant != b.quadrant:
                out["quadrant_moves"].append({"id": acc_id, "from": a.quadrant, "to": b.quadrant})
            for axis in AXIS_WORDS:
                x, y = getattr(a, axis), getattr(b, axis)
                if x is not None and y is not None and abs(y - x) >= threshold - 1e-9 and x != y:
                    out["score_changes"].append({"id": acc_id, "axis": axis, "from": x, "to": y,
                                                 "delta": round(y - x, 1)})
            if a.level != b.level:
                out["level_changes"].append({"id": acc_id, "from": a.level, "to": b.level})
        if b is not None and b.valid:
            prior = a if a is not None and a.valid else None
            for m in opportunity_moves(prior, b) if prior is not None else []:
                if m["kind"] in MOVE_KINDS:
                    out["opportunities"][m["kind"]].append({"account": acc_id, **m})
            out["new_alerts"].extend({"account": acc_id, **al} for al in new_alerts(prior, b))
        if changes:
            out["accounts"].append({"id": acc_id, "name": (b.name if b else None) or (a.name if a else None),
                                    "before": state_dict(a), "after": state_dict(b), "changes": changes})
        else:
            out["unchanged"] += 1
    out["problems"] = {
        "before": [f.as_dict() for f in before_ws.findings if f.severity is Severity.error],
        "after": [f.as_dict() for f in after_ws.findings if f.severity is Severity.error],
    }
    return out


def _renames(old: dict[str, AccountState], new: dict[str, AccountState]) -> dict[str, str]:
    """new id -> old id for a file renamed between the two states: an account gone and one come
    with the same (unique) name."""
    gone = [s for i, s in old.items() if i not in new and s.name]
    came = [s for i, s in new.items() if i not in old and s.name]
    out = {}
    for s in came:
        same = [g for g in gone if g.name == s.name]
        if len(same) == 1 and sum(c.name == s.name for c in came) == 1:
            out[s.id] = same[0].id
    return out
