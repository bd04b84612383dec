"""What an import changes, planned as data before anything is written.

Accounts, decision makers and opportunities are matched on their crm_id (an item without one is
adopted when its name, or its id as the slug of the CRM name, matches), so a re-import updates and
never duplicates.
Fields split in two kinds:

- kept in step with the CRM (changed when the CRM's value differs): an opportunity's title, value,
  currency, close date and stage, a decision maker's title and a later last contact;
- filled from the CRM only while empty: the account's name, industry and owner, a decision
  maker's buying role. Everything else (scores, strategy, plan, agendas, notes, comments) is
  the team's and never touched.

A stage moves only forward, as `opp advance` would, with a history entry dated by the CRM (when it
entered the stage) or the import date; a move past the go/no-go gate without a recorded decision is
imported and left to `kamctl check` (KAM502) to flag. A CRM stage behind the file's is a note.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamctl.crm.mapping import Vocabulary
from kamctl.crm.sources import CrmAccount, CrmContact, CrmOpportunity, Extract, Issue
from kamctl.ids import slugify
from kamctl.model.account import FINAL_STAGES, Stage
from kamctl.pipeline import new_id


class SelectionError(ValueError):
    """An --account or --where that names nothing in the export (a usage error)."""


@dataclass
class Selection:
    """Which CRM accounts are key accounts: named (id or name), filtered by columns, or all."""

    names: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    everything: bool = False


@dataclass
class Change:
    """One planned change to an account file."""

    kind: str  # set | add_contact | add_opportunity | stage
    path: tuple[str, ...]  # ("industry",), ("owner", "name"), ("opportunities", ID, "value"), ...
    new: Any = None
    old: Any = None
    item: dict[str, Any] | None = None  # add_*: the fields, in file order
    entry: dict[str, Any] | None = None  # stage: the history entry

    def describe(self) -> str:
        where = "/".join(self.path)
        if self.kind == "add_contact":
            return f"add decision maker {where} ({self.item['name']})"
        if self.kind == "add_opportunity":
            return f"add opportunity {where} ({self.item['title']}, {self.item['stage']})"
        if self.kind == "stage":
            return f"advance {where}: {_shown(self.old)} -> {_shown(self.new)} ({self.entry['date']})"
        return f"set {where}: {_shown(self.old)} -> {_shown(self.new)}"


def _shown(value: Any) -> str:
    if isinstance(value, Stage):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "(empty)" if value is None else str(value)


@dataclass
class FilePlan:
    account_id: str
    file: Path
    crm: CrmAccount
    new: bool
    changes: list[Change] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)  # a new file's decision makers
    opportunities: list[dict[str, Any]] = field(default_factory=list)  # a new file's opportunities


@dataclass
class Plan:
    files: list[FilePlan]
    issues: list[Issue]
    notes: list[str]

    @property
    def changed(self) -> list[FilePlan]:
        return [f for f in self.files if f.new or f.changes]

    def counts(self) -> tuple[int, int, int]:
        """Accounts added, updated and unchanged."""
        added = sum(f.new for f in self.files)
        updated = sum(bool(f.changes) for f in self.files)
        return added, updated, len(self.files) - added - updated


# --- which accounts ----------------------------------------------------------------------------------

_WHERE = re.compile(r"^\s*(?P<col>[^<>=!]+?)\s*(?P<op>>=|<=|!=|==|=|>|<)\s*(?P<value>.*?)\s*$")


def _number(text: str | None) -> float | None:
    try:
        return float(text.replace(",", "")) if text is not None else None
    except ValueError:
        return None


def _matches(row: dict[str, str | None], condition: str, columns: dict[str, str]) -> bool:
    m = _WHERE.match(condition)
    column = columns.get(m["col"].lower()) if m else None
    if m is None or column is None:
        raise SelectionError(f"--where {condition!r}: " + ("write COLUMN OP VALUE, e.g. 'AnnualRevenue>=1000000'"
                             if m is None else f"no column {m['col']!r} in the accounts file"))
    op, wanted, cell = m["op"], m["value"].strip("'\""), row.get(column)
    a, b = _number(cell), _number(wanted)
    if a is not None and b is not None:
        left, right = a, b
    elif op in ("=", "==", "!="):
        left, right = (cell or "").lower(), wanted.lower()
    else:
        return False  # an empty or non-numeric cell is not >= a number
    return {"=": left == right, "==": left == right, "!=": left != right, ">=": left >= right,
            "<=": left <= right, ">": left > right, "<": left < right}[op]


def select(extract: Extract, selection: Selection, known: set[str]) -> list[CrmAccount]:
    """The key accounts of the export: those already in the workspace (known crm ids), those named,
    those every --where holds for, or all of them."""
    by_name: dict[str, list[CrmAccount]] = {}
    for acc in extract.accounts:
        by_name.setdefault(acc.name.lower(), []).append(acc)
    by_id = {a.crm_id: a for a in extract.accounts}
    chosen = {a.crm_id for a in extract.accounts if a.crm_id in known or selection.everything}
    for name in selection.names:
        hits = [by_id[name]] if name in by_id else by_name.get(name.strip().lower(), [])
        if not hits:
            raise SelectionError(f"--account {name!r} is neither an id nor a name of an account in the export")
        chosen.update(a.crm_id for a in hits)
    if selection.where:
        header = {h.lower(): h for a in extract.accounts[:1] for h in a.row}
        chosen.update(a.crm_id for a in extract.accounts
                      if all(_matches(a.row, c, header) for c in selection.where))
    return [a for a in extract.accounts if a.crm_id in chosen]


# --- planning -------------------------------------------------------------------------------------------


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _slug(text: str, fallback: str) -> str:
    return slugify(text)[:60].strip("-") or fallback


def _loose(items: list[tuple[Any, tuple[str, ...]]]) -> dict[str, list[Any]]:
    """Items without a crm_id by each of their keys (id, and the slug of the name or title)."""
    out: dict[str, list[Any]] = {}
    for item, keys in items:
        for k in dict.fromkeys(keys):
            out.setdefault(k, []).append(item)
    return out


def _adopt(loose: dict[str, list[Any]], slug: str) -> Any:
    """The hand-written item a CRM record matches (by slug), taken so no other record adopts it."""
    for item in loose.get(slug, []):
        for k, items in loose.items():
            loose[k] = [i for i in items if i is not item]
        return item
    return None


def _money_differs(a: Any, b: Any) -> bool:
    return (a is None) != (b is None) or (a is not None and abs(float(a) - float(b)) > 0.005)


class Planner:
    """Plans one import over the workspace's valid accounts (LoadedAccount list)."""

    def __init__(self, extract: Extract, loaded: list[Any], settings: Any, accounts_dir: Path,
                 today: dt.date) -> None:
        self.extract = extract
        self.vocab = Vocabulary(settings)
        self.currency = settings.crm.currency
        self.accounts_dir = accounts_dir
        self.today = today
        self.by_crm = {la.account.crm_id: la for la in loaded if la.account.crm_id}
        self.by_id = {la.id: la for la in loaded}
        self.by_name = {la.account.name.strip().lower(): la for la in loaded if not la.account.crm_id}
        self.adopted: set[str] = set()
        self.taken = set(self.by_id)
        self.issues = list(extract.issues)
        self.notes: list[str] = []
        self.contacts: dict[str, list[CrmContact]] = {}
        self.opps: dict[str, list[CrmOpportunity]] = {}
        for c in extract.contacts:
            self.contacts.setdefault(c.account, []).append(c)
        for o in extract.opportunities:
            self.opps.setdefault(o.account, []).append(o)

    def plan(self, selection: Selection) -> Plan:
        files = [self._account(acc) for acc in select(self.extract, selection, set(self.by_crm))]
        return Plan(files, self.issues, self.notes)

    def _account(self, acc: CrmAccount) -> FilePlan:
        loaded = self.by_crm.get(acc.crm_id)
        if loaded is None:  # written by hand before the first import (same name, or its slug as file name): adopt it
            loaded = self.by_name.pop(acc.name.strip().lower(), None) or self.by_id.get(_slug(acc.name, "account"))
            if loaded is not None and (loaded.account.crm_id is not None or loaded.id in self.adopted):
                loaded = None
            if loaded is not None:
                self.adopted.add(loaded.id)
        if loaded is None:
            account_id = _unique(_slug(acc.name, "account"), self.taken)
            plan = FilePlan(account_id, self.accounts_dir / f"{account_id}.yaml", acc, True)
            ids: set[str] = set()
            plan.contacts = [self._new_contact(c, ids) for c in self.contacts.get(acc.crm_id, [])]
            ids = set()
            plan.opportunities = [o for o in (self._new_opportunity(o, ids) for o in self.opps.get(acc.crm_id, []))
                                  if o is not None]
            return plan
        plan = FilePlan(loaded.id, loaded.file, acc, False)
        account = loaded.account
        changes = plan.changes
        if account.crm_id is None:
            changes.append(Change("set", ("crm_id",), acc.crm_id))
        self._fill(changes, ("industry",), account.industry, acc.industry)
        owner = account.owner
        self._fill(changes, ("owner", "name"), owner.name if owner else None, acc.owner)
        self._fill(changes, ("owner", "email"), owner.email if owner else None, acc.owner_email)
        self._contacts(plan, account)
        self._opportunities(plan, account)
        return plan

    @staticmethod
    def _fill(changes: list[Change], path: tuple[str, ...], current: Any, crm: Any) -> None:
        if crm is not None and current is None:
            changes.append(Change("set", path, crm))

    # --- decision makers

    def _new_contact(self, c: CrmContact, ids: set[str]) -> dict[str, Any]:
        record: dict[str, Any] = {"id": _unique(_slug(c.name, "contact"), ids), "crm_id": c.crm_id, "name": c.name}
        for name, value in (("title", c.title), ("buying_role", self.vocab.role(c.role)),
                            ("last_contact", c.last_contact)):
            if value is not None:
                record[name] = value
        return record

    def _contacts(self, plan: FilePlan, account: Any) -> None:
        people = account.decision_makers
        by_crm = {dm.crm_id: dm for dm in people if dm.crm_id}
        loose = _loose([(dm, (dm.key, _slug(dm.name, "contact"))) for dm in people if not dm.crm_id])
        ids = {dm.key for dm in people}
        for c in self.contacts.get(plan.crm.crm_id, []):
            dm = by_crm.get(c.crm_id) or _adopt(loose, _slug(c.name, "contact"))
            if dm is None:
                record = self._new_contact(c, ids)
                plan.changes.append(Change("add_contact", ("decision_makers", record["id"]), item=record))
                continue
            at = ("decision_makers", dm.key)
            if dm.crm_id is None:
                plan.changes.append(Change("set", (*at, "crm_id"), c.crm_id))
            if c.title is not None and c.title != dm.title:
                plan.changes.append(Change("set", (*at, "title"), c.title, dm.title))
            self._fill(plan.changes, (*at, "buying_role"), dm.buying_role, self.vocab.role(c.role))
            if c.last_contact is not None and (dm.last_contact is None or c.last_contact > dm.last_contact):
                plan.changes.append(Change("set", (*at, "last_contact"), c.last_contact, dm.last_contact))

    # --- opportunities

    def _stage(self, o: CrmOpportunity) -> Stage | None:
        stage = self.vocab.stage(o.stage) if o.stage else None
        if stage is None:
            self.issues.append(Issue(o.where, f"stage {o.stage!r} is not known; map it under crm.stages in "
                                     "kam.yaml (e.g. \"My Stage\": pursuit); skipped" if o.stage else
                                     "no stage; skipped"))
        return stage

    def _new_opportunity(self, o: CrmOpportunity, ids: set[str]) -> dict[str, Any] | None:
        stage = self._stage(o)
        if stage is None:
            return None
        record: dict[str, Any] = {"id": _unique(new_id(o.title), ids), "crm_id": o.crm_id, "title": o.title}
        currency = o.currency or self.currency
        for name, value in (("value", o.value), ("currency", currency), ("stage", stage.value), ("close", o.close)):
            if value is not None:
                record[name] = value
        start = o.created or o.stage_date or self.today
        history = [{"stage": Stage.identification.value, "date": start}]
        if stage is not Stage.identification:
            history.append(self._entry(o, stage, start))
        record["history"] = history
        return record

    def _entry(self, o: CrmOpportunity, stage: Stage, floor: dt.date | None = None) -> dict[str, Any]:
        when = o.stage_date or self.today
        if floor is not None and when < floor:
            when = floor
        return {"stage": stage.value, "date": when, "note": f"CRM stage {o.stage}"}

    def _opportunities(self, plan: FilePlan, account: Any) -> None:
        opps = account.opportunities
        by_crm = {op.crm_id: op for op in opps if op.crm_id}
        loose = _loose([(op, (op.id, new_id(op.title))) for op in opps if not op.crm_id])
        ids = {op.id for op in opps}
        for o in self.opps.get(plan.crm.crm_id, []):
            op = by_crm.get(o.crm_id) or _adopt(loose, new_id(o.title))
            if op is None:
                record = self._new_opportunity(o, ids)
                if record is not None:
                    plan.changes.append(Change("add_opportunity", ("opportunities", record["id"]), item=record))
                continue
            at = ("opportunities", op.id)
            if op.crm_id is None:
                plan.changes.append(Change("set", (*at, "crm_id"), o.crm_id))
            if o.title != op.title:
                plan.changes.append(Change("set", (*at, "title"), o.title, op.title))
            if o.value is not None and _money_differs(o.value, op.value):
                plan.changes.append(Change("set", (*at, "value"), o.value, op.value))
            if o.currency is not None and o.currency != op.currency:
                plan.changes.append(Change("set", (*at, "currency"), o.currency, op.currency))
            if o.close is not None and o.close != op.close:
                plan.changes.append(Change("set", (*at, "close"), o.close, op.close))
            self._advance(plan, op, o, at)

    def _advance(self, plan: FilePlan, op: Any, o: CrmOpportunity, at: tuple[str, ...]) -> None:
        stage = self._stage(o)
        if stage is None or stage is op.stage:
            return
        if op.stage in FINAL_STAGES or op.stage.at_or_past(stage):
            self.notes.append(f"{o.where}: {plan.account_id}/{op.id} stays at {op.stage.value}: the CRM says "
                              f"{o.stage} ({stage.value}) and stages never go back")
            return
        entered = op.entered_stage()
        plan.changes.append(Change("stage", at, stage, op.stage, entry=self._entry(o, stage, entered)))


def plan_import(extract: Extract, loaded: list[Any], settings: Any, accounts_dir: Path, selection: Selection,
                today: dt.date) -> Plan:
    """The plan of an import: one FilePlan per selected CRM account (new or matched), issues, notes."""
    return Planner(extract, loaded, settings, accounts_dir, today).plan(selection)

