"""Salesforce, HubSpot and mapped CSV exports read into one Extract of plain records.

Each row becomes a record or an Issue (`file:row: message`) and is skipped: a missing id or name, a
number or date that does not parse, a second row with the same id, a contact or deal whose account
is not in the export. Dates in dd/mm or mm/dd order follow crm.date_format; with `auto` a file is
refused when its dates do not show which it is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable

from kamctl.crm import sources
from kamctl.crm.mapping import HUBSPOT, HUBSPOT_KINDS, MAP_FIELDS, SALESFORCE, Columns
from kamctl.model.account import MONEY_MAX
from kamctl.crm.sources import CrmAccount, CrmContact, CrmOpportunity, Extract, Issue, SourceError, Table

DATE_FIELDS = ("last_contact", "close", "created", "stage_date")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _date_format(table: Table, columns: dict[str, str], fmt: str) -> str:
    """The table's date order: the setting, or what its dates show (refused when they do not)."""
    if fmt != "auto":
        return fmt
    values = [row[h] for _, row in table.rows for f, h in columns.items()
              if f in DATE_FIELDS and row.get(h)]
    try:
        return sources.detect_date_format(values) or "yyyy-mm-dd"
    except ValueError as exc:
        raise SourceError(f"{table.name}: {exc}; say which with --date-format dd/mm/yyyy|mm/dd/yyyy "
                          "(or crm.date_format in kam.yaml)") from None


def _rows(table: Table, spec: Columns | dict[str, str], fmt: str, issues: list[Issue],
          required: tuple[str, ...]) -> Iterable[tuple[str, dict[str, Any]]]:
    """(where, {field: parsed value}) per usable row; the others become issues. Ids are unique."""
    columns = {f: (h if isinstance(h, str) else table.column(*h)) for f, h in spec.items()}
    columns = {f: h for f, h in columns.items() if h}
    missing = [f for f in required if f not in columns and not (f == "name" and "last_name" in columns)]
    if missing:
        wanted = [spec[f] if isinstance(spec[f], str) else spec[f][0] for f in missing]
        raise SourceError(f"{table.name}: no column {', '.join(map(repr, wanted))} (the header has "
                          f"{', '.join(table.header[:12])}{' ...' if len(table.header) > 12 else ''})")
    fmt = _date_format(table, columns, fmt)
    first: dict[str, tuple[int, dict]] = {}
    for line, row in table.rows:
        where = f"{table.name}:{line}"
        bad = sources.bad_row(row)
        if bad:
            issues.append(Issue(where, f"{bad}; skipped"))
            continue
        try:
            record = {f: _value(f, row.get(h), fmt) for f, h in columns.items()}
        except ValueError as exc:
            issues.append(Issue(where, f"{exc}; skipped"))
            continue
        if "name" in required and not record.get("name"):
            record["name"] = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p) or None
        absent = [f for f in required if not record.get(f)]
        if absent:
            issues.append(Issue(where, f"no {' or '.join(columns.get(f, f) for f in absent)}; skipped"))
            continue
        rid = record.get("crm_id")
        if rid is not None:
            if rid in first:
                seen_line, seen_row = first[rid]
                same = "a repeat of" if seen_row == row else "the same Id as"
                issues.append(Issue(where, f"{same} row {seen_line} ({rid}); skipped"))
                continue
            first[rid] = (line, row)
        yield where, record


def _value(name: str, text: str | None, fmt: str) -> Any:
    if text is None:
        return None
    if name == "value":
        amount = sources.number(text)
        if amount < 0 or amount > MONEY_MAX:
            raise ValueError(f"amount {text} is {'negative' if amount < 0 else 'beyond any deal'}")
        return amount
    if name in DATE_FIELDS:
        return sources.date(text, fmt)
    if name == "currency":
        if not _CURRENCY.match(text):
            raise ValueError(f"currency {text!r} is not an ISO 4217 code such as EUR")
        return text.upper()
    if name == "account":
        return text.split(";")[0].strip() or None  # HubSpot lists several associations
    return text


def _link(records: list, accounts: dict[str, CrmAccount], by_name: dict[str, str], issues: list[Issue],
          what: str) -> list:
    """Records whose account is in the export (by id, else by name); the rest are issues."""
    kept = []
    for record in records:
        account = record.account if record.account in accounts else by_name.get(record.account.lower())
        if account is None:
            issues.append(Issue(record.where, f"{what} '{record.crm_id}' points at account '{record.account}', "
                                "which is not in the export; skipped"))
            continue
        record.account = account
        kept.append(record)
    return kept


def _assemble(extract: Extract, accounts: Iterable[tuple[str, dict]], contacts: Iterable[tuple[str, dict]],
              opportunities: Iterable[tuple[str, dict]]) -> Extract:
    for where, r in accounts:
        extract.accounts.append(CrmAccount(r["crm_id"], r["name"], where, r.get("industry"), r.get("owner"),
                                           r.get("owner_email"), r.get("_row", {})))
    by_id = {a.crm_id: a for a in extract.accounts}
    by_name = {a.name.lower(): a.crm_id for a in extract.accounts}
    people = [CrmContact(r["crm_id"], r["account"], r["name"], where, r.get("title"), r.get("last_contact"),
                         r.get("role")) for where, r in contacts]
    deals = [CrmOpportunity(r["crm_id"], r["account"], r["title"], where, r.get("stage"), r.get("value"),
                            r.get("currency"), r.get("close"), r.get("created"), r.get("stage_date"))
             for where, r in opportunities]
    extract.contacts = _link(people, by_id, by_name, extract.issues, "contact")
    extract.opportunities = _link(deals, by_id, by_name, extract.issues, "opportunity")
    return extract


def _with_row(table: Table, rows: Iterable[tuple[str, dict]]) -> Iterable[tuple[str, dict]]:
    """Account rows keep every column (for --where)."""
    by_line = {f"{table.name}:{line}": row for line, row in table.rows}
    for where, record in rows:
        record["_row"] = by_line[where]
        yield where, record


ACCOUNT_REQUIRED = ("crm_id", "name")
CONTACT_REQUIRED = ("crm_id", "account", "name")
OPPORTUNITY_REQUIRED = ("crm_id", "account", "title")


def salesforce(folder: str | os.PathLike, fmt: str = "auto") -> Extract:
    """A Salesforce data export folder: Account.csv, and Contact, Opportunity, OpportunityContactRole
    and User CSVs when present (API field names as headers)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"{folder}: not a folder; give the folder of the Salesforce export (with Account.csv)")
    extract = Extract("salesforce")
    issues = extract.issues

    def table(name: str, required: bool = False) -> Table | None:
        if not required and not sources.exists(folder, name):
            return None
        return sources.read_table(folder, name, str(folder / name))

    account_table = table("Account.csv", required=True)
    accounts = list(_with_row(account_table, _rows(account_table, SALESFORCE["account"], fmt, issues, ACCOUNT_REQUIRED)))
    users = table("User.csv")
    if users is not None:
        people = {r["crm_id"]: r for _, r in _rows(users, SALESFORCE["user"], fmt, issues, ("crm_id",))}
        for _, record in accounts:
            user = people.get(record.get("owner") or "")
            record["owner"], record["owner_email"] = (user.get("name"), user.get("email")) if user else (None, None)
    else:
        for _, record in accounts:
            record["owner"] = None  # an owner id is not a name: without User.csv the owner stays unknown
    contact_table = table("Contact.csv")
    contacts = list(_rows(contact_table, SALESFORCE["contact"], fmt, issues, CONTACT_REQUIRED)) if contact_table else []
    opp_table = table("Opportunity.csv")
    opps = list(_rows(opp_table, SALESFORCE["opportunity"], fmt, issues, OPPORTUNITY_REQUIRED)) if opp_table else []
    role_table = table("OpportunityContactRole.csv")
    if role_table is not None:
        _roles(role_table, contacts, {r["crm_id"] for _, r in opps}, fmt, issues)
    return _assemble(extract, accounts, contacts, opps)


def _roles(table: Table, contacts: list[tuple[str, dict]], opportunities: set[str], fmt: str,
           issues: list[Issue]) -> None:
    """Each contact's role from OpportunityContactRole (a primary role wins over the others)."""
    by_id = {r["crm_id"]: r for _, r in contacts}
    primary: set[str] = set()
    for where, r in _rows(table, SALESFORCE["role"], fmt, issues, ("opportunity", "contact")):
        contact = by_id.get(r["contact"])
        if contact is None:
            issues.append(Issue(where, f"ContactId {r['contact']} is not in the export; skipped"))
            continue
        if r["opportunity"] not in opportunities:
            issues.append(Issue(where, f"OpportunityId {r['opportunity']} is not in the export; skipped"))
            continue
        is_primary = (r.get("primary") or "").lower() in ("true", "1", "yes")
        if r.get("role") and (contact.get("role") is None or (is_primary and r["contact"] not in primary)):
            contact["role"] = r["role"]
            if is_primary:
                primary.add(r["contact"])


def hubspot(files: list[Path], fmt: str = "auto") -> Extract:
    """HubSpot exports (property labels as headers): companies, contacts and deals, in any order;
    what each file holds is told by its columns."""
    extract = Extract("hubspot")
    parts: dict[str, list[tuple[str, dict]]] = {"account": [], "contact": [], "opportunity": []}
    required = {"account": ACCOUNT_REQUIRED, "contact": CONTACT_REQUIRED, "opportunity": OPPORTUNITY_REQUIRED}
    for path in files:
        table = sources.read_table(path.parent, path.name, str(path))
        kind = next((k for k, column in HUBSPOT_KINDS if table.column(column)), None)
        if kind is None:
            raise SourceError(f"{path}: not a HubSpot companies, contacts or deals export (no 'Company name', "
                              "'Last Name' or 'Deal Name' column)")
        rows = _rows(table, HUBSPOT[kind], fmt, extract.issues, required[kind])
        parts[kind].extend(_with_row(table, rows) if kind == "account" else rows)
    if not parts["account"]:
        raise SourceError("no companies export among the files: give the companies CSV too (accounts come from it)")
    return _assemble(extract, parts["account"], parts["contact"], parts["opportunity"])


def mapped(path: Path, columns: dict[str, dict[str, str]], fmt: str = "auto") -> Extract:
    """Any CSV with a map: per record kind (account, contact, opportunity), kamctl field -> column.
    One row may hold an account and its contact and opportunity (a flat export): accounts repeat."""
    extract = Extract("csv")
    table = sources.read_table(path.parent, path.name, str(path))
    accounts: list[tuple[str, dict]] = []
    contacts: list[tuple[str, dict]] = []
    opps: list[tuple[str, dict]] = []
    account_spec = columns.get("account") or {}
    account_key = account_spec.get("crm_id")
    if account_key is None:
        raise SourceError(f"{path}: the map needs account.crm_id (the column with the CRM's account id)")
    seen: dict[str, tuple[str, dict]] = {}
    account_spec = {**account_spec, "name": account_spec.get("name", account_key)}
    # accounts repeat on a flat file: the first row of each id counts, a differing repeat is an issue
    for line, row in table.rows:
        aid = row.get(account_key) if not sources.bad_row(row) else None
        if aid and aid not in seen:
            sub = Table(table.name, table.header, [(line, row)])
            got = list(_with_row(sub, _rows(sub, account_spec, fmt, extract.issues, ACCOUNT_REQUIRED)))
            if got:
                seen[aid] = got[0]
                accounts.append(got[0])
    for kind, bucket, required in (("contact", contacts, CONTACT_REQUIRED), ("opportunity", opps, OPPORTUNITY_REQUIRED)):
        spec = columns.get(kind)
        if spec:
            bucket.extend(_rows(table, {**spec, "account": spec.get("account", account_key)}, fmt,
                                extract.issues, required))
    return _assemble(extract, accounts, contacts, opps)


def check_map(data: Any) -> dict[str, dict[str, str]]:
    """A --map file's content: {kind: {kamctl field: column}}; a ValueError says what is wrong."""
    if not isinstance(data, dict) or not data:
        raise ValueError("the map must be a mapping such as {account: {crm_id: Id, name: Customer}}")
    out: dict[str, dict[str, str]] = {}
    for kind, spec in data.items():
        if kind not in MAP_FIELDS:
            raise ValueError(f"unknown section {kind!r}; sections: {', '.join(MAP_FIELDS)}")
        if not isinstance(spec, dict) or not all(isinstance(v, str) and v for v in spec.values()):
            raise ValueError(f"{kind}: map each kamctl field to a column name, e.g. crm_id: Id")
        unknown = [f for f in spec if f not in MAP_FIELDS[kind]]
        if unknown:
            raise ValueError(f"{kind}: unknown field {unknown[0]!r}; fields: {', '.join(MAP_FIELDS[kind])}")
        out[kind] = {str(k): v for k, v in spec.items()}
    return out

