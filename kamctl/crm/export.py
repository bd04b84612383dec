"""The portfolio out again: Salesforce CSVs (CRM ids where known) and JSON with the computed results.

The Salesforce files use API field names, so Data Loader maps them by itself; `Kamctl_Id__c` (a
custom external-id field) carries kamctl's id for records the CRM does not know yet. Stages are
written as Salesforce's standard StageName that `kamctl import` reads back as the same stage.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from kamctl.assessment import Assessments
from kamctl.crm.mapping import SALESFORCE_ROLE_NAMES, SALESFORCE_STAGE_NAMES
from kamctl.present import csv_cell
from kamctl.render import plain

FILES = {
    "Account.csv": ["Id", "Name", "Industry", "Kamctl_Id__c"],
    "Contact.csv": ["Id", "AccountId", "FirstName", "LastName", "Title", "LastActivityDate", "Kamctl_Id__c",
                    "Account.Kamctl_Id__c"],
    "Opportunity.csv": ["Id", "AccountId", "Name", "StageName", "Amount", "CurrencyIsoCode", "CloseDate",
                        "LastStageChangeDate", "Kamctl_Id__c", "Account.Kamctl_Id__c"],
    "OpportunityContactRole.csv": ["OpportunityId", "ContactId", "Role", "IsPrimary"],
}


def _split(name: str) -> tuple[str, str]:
    first, _, rest = name.strip().partition(" ")
    return ("", first) if not rest else (first, rest)


def salesforce_rows(accounts: list[tuple[str, Any]]) -> dict[str, list[list[Any]]]:
    """(account id, Account) pairs -> rows of each Salesforce file (header first)."""
    out: dict[str, list[list[Any]]] = {name: [header] for name, header in FILES.items()}
    for account_id, account in accounts:
        aid = account.crm_id or ""
        out["Account.csv"].append([aid, account.name, account.industry, account_id])
        roles = []
        for dm in account.decision_makers:
            first, last = _split(dm.name)
            out["Contact.csv"].append([dm.crm_id, aid, first, last, dm.title, dm.last_contact,
                                       f"{account_id}/{dm.key}", account_id])
            if dm.buying_role and dm.crm_id:
                roles.append((dm.crm_id, SALESFORCE_ROLE_NAMES[dm.buying_role]))
        for opp in account.opportunities:
            out["Opportunity.csv"].append([opp.crm_id, aid, opp.title, SALESFORCE_STAGE_NAMES[opp.stage], opp.value,
                                           opp.currency, opp.close, opp.entered_stage(), f"{account_id}/{opp.id}",
                                           account_id])
            if opp.crm_id and opp.stage.is_open:  # the relationship plan covers the account's open deals
                out["OpportunityContactRole.csv"] += [[opp.crm_id, contact, role, "false"] for contact, role in roles]
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return csv_cell(value)


def csv_bytes(rows: list[list[Any]]) -> bytes:
    """CSV as Salesforce reads it: UTF-8, CRLF, formula-looking text cells neutralised (present.csv_cell)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(rows[0])
    writer.writerows([_cell(v) for v in row] for row in rows[1:])
    return buffer.getvalue().encode("utf-8")


def portfolio(loaded: list[Any], settings: Any, as_of: dt.date) -> dict[str, Any]:
    """Every valid account with its computed results (scores, quadrant, level, pipeline, performance,
    alerts, completeness), as plain JSON-able data for a BI tool."""
    assessments = Assessments(settings, as_of)
    accounts = []
    for la in loaded:
        a = assessments.of(la)
        accounts.append({"id": la.id, "account": la.account.model_dump(mode="json", exclude_none=True),
                         "summary": plain(a.summary), "pipeline": a.pipeline, "performance": a.performance,
                         "alerts": [f.as_dict() for f in a.alerts], "completeness": a.completeness})
    return {"as_of": as_of.isoformat(), "company": settings.company.model_dump(mode="json"), "accounts": accounts}
