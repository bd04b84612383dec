"""CRM words in kamctl's: stage names, contact roles, and which column holds which field.

The defaults cover Salesforce's standard opportunity stages and contact roles and HubSpot's default
deal pipeline (labels and internal ids); kam.yaml `crm.stages` / `crm.roles` add or replace entries.
Names match ignoring case, spaces and punctuation, so `Closed Won`, `closedwon` and `CLOSED-WON` agree.
"""

from __future__ import annotations

import re
from typing import Any

from kamctl.model.account import Stage

DEFAULT_STAGES: dict[str, Stage] = {
    # Salesforce standard StageName values
    "Prospecting": Stage.identification,
    "Qualification": Stage.qualification,
    "Needs Analysis": Stage.qualification,
    "Value Proposition": Stage.decision,
    "Id. Decision Makers": Stage.decision,
    "Perception Analysis": Stage.pursuit,
    "Proposal/Price Quote": Stage.pursuit,
    "Negotiation/Review": Stage.closing,
    "Closed Won": Stage.contract,
    "Closed Lost": Stage.lost,
    # HubSpot default sales pipeline: labels, then internal ids
    "Appointment Scheduled": Stage.identification,
    "Qualified To Buy": Stage.qualification,
    "Presentation Scheduled": Stage.decision,
    "Decision Maker Bought-In": Stage.pursuit,
    "Contract Sent": Stage.closing,
    "appointmentscheduled": Stage.identification,
    "qualifiedtobuy": Stage.qualification,
    "presentationscheduled": Stage.decision,
    "decisionmakerboughtin": Stage.pursuit,
    "contractsent": Stage.closing,
    "closedwon": Stage.contract,
    "closedlost": Stage.lost,
}

DEFAULT_ROLES: dict[str, str] = {
    # Salesforce OpportunityContactRole.Role
    "Business User": "user",
    "Decision Maker": "decision_maker",
    "Economic Buyer": "economic_buyer",
    "Economic Decision Maker": "economic_buyer",
    "Evaluator": "technical_buyer",
    "Executive Sponsor": "economic_buyer",
    "Influencer": "influencer",
    "Technical Buyer": "technical_buyer",
    # HubSpot buying roles
    "Budget Holder": "economic_buyer",
    "End User": "user",
    "Champion": "coach",
    "Blocker": "gatekeeper",
}

# The Salesforce StageName export writes for each stage (import maps each back to the same stage).
SALESFORCE_STAGE_NAMES: dict[Stage, str] = {
    Stage.identification: "Prospecting",
    Stage.qualification: "Qualification",
    Stage.decision: "Value Proposition",
    Stage.pursuit: "Proposal/Price Quote",
    Stage.closing: "Negotiation/Review",
    Stage.contract: "Closed Won",
    Stage.engagement: "Closed Won",
    Stage.no_go: "Closed Lost",
    Stage.lost: "Closed Lost",
}

SALESFORCE_ROLE_NAMES: dict[str, str] = {
    "economic_buyer": "Economic Buyer", "decision_maker": "Decision Maker", "technical_buyer": "Technical Buyer",
    "user": "Business User", "influencer": "Influencer", "gatekeeper": "Other", "coach": "Other",
}


def key(name: str) -> str:
    """A CRM name as compared: lowercase letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


class Vocabulary:
    """The stage and role tables of one import: the defaults, then kam.yaml's crm section."""

    def __init__(self, settings: Any) -> None:
        crm = settings.crm
        self.stages = {key(k): v for k, v in {**DEFAULT_STAGES, **crm.stages}.items()}
        self.roles = {key(k): v for k, v in {**DEFAULT_ROLES, **crm.roles}.items()}
        self.currency = crm.currency or settings.company.currency

    def stage(self, name: str) -> Stage | None:
        known = self.stages.get(key(name))
        if known is not None:
            return known
        try:
            return Stage(name.strip().lower().replace("-", "_"))  # kamctl's own names (a csv export)
        except ValueError:
            return None

    def role(self, name: str | None) -> str | None:
        return self.roles.get(key(name)) if name else None


# --- columns per source -----------------------------------------------------------------------------
# field -> the headers that may hold it, first found wins (CRMs and versions spell them differently).

Columns = dict[str, tuple[str, ...]]

SALESFORCE: dict[str, Columns] = {
    "account": {"crm_id": ("Id",), "name": ("Name",), "industry": ("Industry",), "owner": ("OwnerId",)},
    "contact": {"crm_id": ("Id",), "account": ("AccountId",), "first_name": ("FirstName",),
                "last_name": ("LastName",), "name": ("Name",), "title": ("Title",),
                "last_contact": ("LastActivityDate",)},
    "opportunity": {"crm_id": ("Id",), "account": ("AccountId",), "title": ("Name",), "stage": ("StageName",),
                    "value": ("Amount",), "currency": ("CurrencyIsoCode",), "close": ("CloseDate",),
                    "created": ("CreatedDate",), "stage_date": ("LastStageChangeDate",)},
    "role": {"opportunity": ("OpportunityId",), "contact": ("ContactId",), "role": ("Role",),
             "primary": ("IsPrimary",)},
    "user": {"crm_id": ("Id",), "name": ("Name",), "email": ("Email",)},
}

_COMPANY_LINK = ("Associated Company IDs (Primary)", "Associated Company IDs", "Associated Company ID",
                 "Company IDs", "Associated Company")

HUBSPOT: dict[str, Columns] = {
    "account": {"crm_id": ("Record ID", "Company ID"), "name": ("Company name", "Name"), "industry": ("Industry",),
                "owner": ("Company owner", "HubSpot Owner")},
    "contact": {"crm_id": ("Record ID", "Contact ID"), "account": _COMPANY_LINK, "first_name": ("First Name",),
                "last_name": ("Last Name",), "title": ("Job Title",),
                "last_contact": ("Last Activity Date", "Last Contacted"), "role": ("Buying Role",)},
    "opportunity": {"crm_id": ("Record ID", "Deal ID"), "account": _COMPANY_LINK, "title": ("Deal Name",),
                    "stage": ("Deal Stage",), "value": ("Amount",), "currency": ("Currency", "Deal currency code"),
                    "close": ("Close Date",), "created": ("Create Date",),
                    "stage_date": ("Last Stage Change Date", "Date entered current stage")},
}

# what a HubSpot file holds, told by a column only that kind of export has
HUBSPOT_KINDS = (("opportunity", "Deal Name"), ("contact", "Last Name"), ("contact", "First Name"),
                 ("account", "Company name"))

# kamctl fields a `--map` file may name, per record kind (a map's keys are checked against these)
MAP_FIELDS = {kind: tuple(SALESFORCE[kind]) for kind in ("account", "contact", "opportunity")}
MAP_FIELDS["contact"] = (*MAP_FIELDS["contact"], "role")
