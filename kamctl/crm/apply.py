"""Write an import plan: every file rendered first, then all written, or none.

A new account is the commented template of `kamctl new` with the CRM's fields put in (text, so
a thousand accounts take seconds), checked against the model before it is kept.
A matched account is opened with the round-trip writer and only the planned keys change: the
person's comments, order, quoting and blank lines stay, and one changed amount is one changed line.
Nothing is written until every file has rendered; then existing files are checked unchanged on
disk, and each file is written atomically (a rename), new ones never over a file that appeared.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kamctl import edits, fsafe
from kamctl.crm.merge import Change, FilePlan, Plan
from kamctl.ids import slugify
from kamctl.model.account import Account, DecisionMaker, Owner, Stage
from kamctl.pipeline import Change as StageChange
from kamctl.scaffold import account_text, schema_ref, yaml_str
from kamctl.loader import load_account_bytes
from kamctl.workspace import ACCOUNTS_DIR
from kamctl.yamlio import write

ACCOUNT_KEYS = ("name", "crm_id", *(k for k in Account.model_fields if k not in ("name", "crm_id")))
DM_KEYS = ("id", "crm_id", *(k for k in DecisionMaker.model_fields if k not in ("id", "crm_id")))
OPP_KEYS = ("id", "crm_id", *(k for k in edits.OPPORTUNITY_KEYS if k not in ("id", "crm_id")))
OWNER_KEYS = tuple(Owner.model_fields)


class ApplyError(Exception):
    """A file could not be rendered or written; with nothing written (or, for a failed write, what was)."""


@dataclass
class Rendered:
    plan: FilePlan
    data: bytes  # the new bytes (a new file's, or an edited file's)
    rt: Any = None  # the round trip of an edited file (saved with its on-disk check)


# --- new files ----------------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 ._,&()/+'-]*$")
_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def scalar(value: Any, flow: bool = False) -> str:
    """A value as YAML: plain when nothing could misread it (inside a flow mapping: no `,`), else double-quoted."""
    if isinstance(value, (dt.date, Stage)):
        return value.isoformat() if isinstance(value, dt.date) else value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value)
    if _PLAIN.match(text) and text == text.strip() and text.lower() not in _WORDS and not (flow and "," in text):
        return text
    return yaml_str(text)


def _block(records: list[dict[str, Any]]) -> list[str]:
    lines = []
    for record in records:
        first = True
        for name, value in record.items():
            lead = "  - " if first else "    "
            first = False
            if isinstance(value, list):
                lines.append(f"{lead}{name}:")
                lines += ["      - {" + ", ".join(f"{k}: {scalar(v, True)}" for k, v in e.items()) + "}" for e in value]
            else:
                lines.append(f"{lead}{name}: {scalar(value)}")
    return lines


def _replace(lines: list[str], old: str, new: list[str], after: int = 0) -> int:
    for i in range(after, len(lines)):
        if lines[i] == old:
            lines[i:i + 1] = new
            return i + len(new)
    raise ApplyError(f"the account template has no line {old!r}; it cannot be filled in")


def new_text(plan: FilePlan, root: Path) -> str:
    """A new account file: the `kamctl new` template with the CRM's fields."""
    acc = plan.crm
    lines = account_text(plan.account_id, acc.name, schema_ref(root / ACCOUNTS_DIR, root, "account.schema.json")
                         ).split("\n")
    _replace(lines, "crm_id:", [f"crm_id: {scalar(acc.crm_id)}"])
    if acc.industry:
        _replace(lines, "industry:", [f"industry: {scalar(acc.industry)}"])
    owner = _replace(lines, "owner:", ["owner:"])
    if acc.owner:
        _replace(lines, "  name:", [f"  name: {scalar(acc.owner)}"], owner)
    if acc.owner_email:
        _replace(lines, "  email:", [f"  email: {scalar(acc.owner_email)}"], owner)
    if plan.contacts:
        _replace(lines, "decision_makers: []", ["decision_makers:", *_block(plan.contacts)])
    if plan.opportunities:
        _replace(lines, "opportunities: []", ["opportunities:", *_block(plan.opportunities)])
    return "\n".join(lines)


# --- matched files -----------------------------------------------------------------------------------


def _item(data: Any, path: tuple[str, ...]) -> Any:
    """The mapping a change's path leads to: the account, its owner, a decision maker or an opportunity."""
    if path[0] == "opportunities":
        return edits.find(data, path[1])
    if path[0] == "decision_makers":
        for dm in data.get("decision_makers") or []:
            if hasattr(dm, "get") and (dm.get("id") or slugify(str(dm.get("name") or "")) or "x") == path[1]:
                return dm
        return None
    if path[0] == "owner" and len(path) > 1:
        if not hasattr(data.get("owner"), "get"):
            edits.set_field(data, "owner", {}, ACCOUNT_KEYS)
        return data["owner"]
    return data


_ORDERS = {"opportunities": OPP_KEYS, "decision_makers": DM_KEYS, "owner": OWNER_KEYS}


def _edit(rt: write.RoundTrip, change: Change) -> None:
    data = rt.data
    if change.kind == "add_contact":
        edits.append_record(rt, data, "decision_makers", change.item)
        return
    if change.kind == "add_opportunity":
        edits.append_record(rt, data, "opportunities", change.item, edits.history_is_flow(data))
        return
    target = _item(data, change.path)
    if target is None:
        raise ApplyError(f"{rt.file}: {'/'.join(change.path)} is not in the round-trip view of the file")
    if change.kind == "stage":
        edits.record_change(rt, target, StageChange(change.new, change.entry), edits.history_is_flow(data, target))
        return
    edits.set_field(target, change.path[-1], change.new, _ORDERS.get(change.path[0], ACCOUNT_KEYS))


def _check_new(fp: FilePlan) -> None:
    """A new file's content must be a valid account. Its text is written by scalar(), which quotes
    whatever YAML could misread (tests/test_crm_scalar.py holds it to kamctl's reader), so the
    model checks the values, at a fraction of the cost of reading a thousand files back."""
    from pydantic import ValidationError

    acc = fp.crm
    owner = {k: v for k, v in (("name", acc.owner), ("email", acc.owner_email)) if v}
    data = {"name": acc.name, "crm_id": acc.crm_id, "industry": acc.industry, "owner": owner or None,
            "decision_makers": fp.contacts, "opportunities": fp.opportunities}
    try:
        Account.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ApplyError(f"{fp.file}: the imported account would not validate ({'.'.join(map(str, error['loc']))}: "
                         f"{error['msg']}); nothing was written") from None


def render(plan: Plan, root: Path) -> list[Rendered]:
    """Every changed file's new bytes; raises ApplyError (nothing written) when one fails."""
    out = []
    for fp in plan.changed:
        if fp.new:
            _check_new(fp)
            data = new_text(fp, root).encode("utf-8")
            out.append(Rendered(fp, data))
            continue
        try:
            rt = write.open_roundtrip(fp.file, None, root)
            for change in fp.changes:
                _edit(rt, change)
            data = write.render(rt)
        except (write.EditError, OSError) as exc:
            raise ApplyError(f"{fp.file}: cannot be updated: {exc}; nothing was written") from None
        loaded = load_account_bytes(data, fp.file, str(fp.file))
        if not loaded.ok:
            raise ApplyError(f"{fp.file}: the update would not validate ({loaded.findings[0].message}); "
                             "nothing was written")
        out.append(Rendered(fp, data, rt))
    return out


def commit(rendered: list[Rendered], root: Path) -> None:
    """Write every rendered file: all checked first (new names free, edited files unchanged), then written."""
    folder = fsafe.open_dir(root, ACCOUNTS_DIR, create=True)
    try:
        for r in rendered:
            if r.rt is None and fsafe.exists_at(folder, r.plan.file.name):
                raise ApplyError(f"{r.plan.file} appeared while importing; nothing was written. Run the import again.")
            if r.rt is not None and fsafe.read_at(folder, r.plan.file.name, write.MAX_BYTES) != r.rt.original:
                raise ApplyError(f"{r.plan.file} changed on disk while importing; nothing was written. "
                                 "Run the import again.")
        for r in rendered:
            if r.rt is not None:
                write.check_writable(folder, r.plan.file.name, r.plan.file)
        for r in rendered:
            if r.rt is None:  # flushed together below: one fsync each after all are written costs far less
                fsafe.write_file(folder, r.plan.file.name, r.data, replace=False)
            else:
                write.save(r.rt)
        _flush(folder, [r.plan.file.name for r in rendered if r.rt is None])
    finally:
        os.close(folder)


def _flush(folder: int, names: list[str]) -> None:
    """fsync the new files, then the folder (their names), so a crash after the import keeps them."""
    for name in names:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=folder)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    if names:
        os.fsync(folder)


def lock_target(root: Path) -> Path:
    """A path in the accounts folder whose write.locked() serialises the import with every other edit."""
    return Path(root) / ACCOUNTS_DIR / "import"
