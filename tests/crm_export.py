"""Realistic CRM export fixtures, generated deterministically (no huge hand-written files).

salesforce(folder, accounts, opportunities_per_account) writes a Salesforce data export with the
quirks real ones have: a UTF-8 BOM, CRLF line ends, quoted fields holding commas, quotes and line
breaks, datetimes such as 2022-07-27T17:40:52.000+0000, amounts such as 125000.0, empty cells,
custom __c columns, a repeated row, an opportunity whose AccountId points at no account. QUIRKS
names the rows made bad on purpose (file name, line) so tests can expect exactly those messages.
hubspot(folder, ...) writes companies, contacts and deals exports with property labels as headers.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

WORDS = ["Alpen", "Nordic", "Baltic", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
         "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Riverside", "Summit"]
KINDS = ["Foods", "Logistics", "Software", "Hospitals", "Pharma", "Energy", "Retail", "Textiles", "Motors", "Media"]
INDUSTRIES = ["Food & Beverage", "Transportation", "Technology", "Healthcare", "Energy", "Retail", "Manufacturing"]
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]
ROLES = ["Decision Maker", "Economic Buyer", "Technical Buyer", "Influencer", "Business User", "Evaluator"]
FIRST = ["Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kari", "Luis"]
LAST = ["Novak", "O'Brien", "Schmidt", "Rossi", "Lindqvist", "Okafor", "Tanaka", "Dubois", "Kowalski", "Silva"]
TITLES = ["Chief Procurement Officer", "Head of Supply Chain", "CFO", "IT Director", "Plant Manager, North"]


def account_id(n: int) -> str:
    return f"0015g{n:08d}AAA"


def opportunity_id(n: int) -> str:
    return f"0065g{n:08d}AAB"


def contact_id(n: int) -> str:
    return f"0035g{n:08d}AAC"


def _write(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)  # Salesforce quotes every cell
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))


def _stamp(rng: random.Random, year: int = 2026) -> str:
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:40:52.000+0000"


def company(n: int) -> str:
    name = f"{WORDS[n % len(WORDS)]} {KINDS[(n // len(WORDS)) % len(KINDS)]}"
    return name if n < len(WORDS) * len(KINDS) else f"{name} {n}"


QUIRKS = {}  # filled by salesforce(): what -> (file, line) of the rows made bad on purpose


def salesforce(folder: Path, accounts: int = 200, per_account: int = 3, contacts_per_account: int = 2,
               seed: int = 14) -> Path:
    """Write Account, Contact, Opportunity, OpportunityContactRole and User CSVs into folder."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    users = [[f"0055g{i:08d}AAD", f"{FIRST[i]} {LAST[i % len(LAST)]}", f"user{i}@ourco.example"] for i in range(6)]
    _write(folder / "User.csv", ["Id", "Name", "Email", "IsActive"], [u + ["true"] for u in users])
    arows = []
    for n in range(accounts):
        name = company(n)
        if n == 3:
            name = 'Müller, Schmidt & "Partners"'  # commas and quotes inside a quoted field
        revenue = "" if n % 7 == 0 else f"{rng.randint(1, 500) * 100000}.0"
        note = "Key site: Graz\nSecond site: Linz" if n % 10 == 1 else ""  # a line break inside a quoted field
        arows.append([account_id(n), name, INDUSTRIES[n % len(INDUSTRIES)], revenue, users[n % len(users)][0], "",
                      f"https://{name.split()[0].lower()}.example", note, str(rng.randint(1, 9))])
    _write(folder / "Account.csv", ["Id", "Name", "Industry", "AnnualRevenue", "OwnerId", "ParentId", "Website",
                                    "Description", "Tier__c"], arows, bom=True)
    crows, roles = [], []
    for n in range(accounts):
        for k in range(contacts_per_account):
            c = n * contacts_per_account + k
            crows.append([contact_id(c), account_id(n), FIRST[c % len(FIRST)], LAST[(c // 3) % len(LAST)],
                          TITLES[c % len(TITLES)], f"c{c}@customer.example", "",
                          "" if c % 5 == 0 else f"2026-{(c % 12) + 1:02d}-{(c % 27) + 1:02d}"])
    _write(folder / "Contact.csv", ["Id", "AccountId", "FirstName", "LastName", "Title", "Email", "ReportsToId",
                                    "LastActivityDate"], crows)
    orows = []
    for n in range(accounts):
        for k in range(per_account):
            o = n * per_account + k
            stage = STAGES[rng.randrange(len(STAGES))]
            closed = stage.startswith("Closed")
            amount = "" if o % 11 == 5 else f"{rng.randint(1, 400) * 2500}.0"
            orows.append([opportunity_id(o), account_id(n), f"Deal {k + 1}: {KINDS[o % len(KINDS)]} line", stage,
                          amount, f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "50",
                          "Pipeline", "EUR" if o % 4 else "USD", str(closed).lower(), str(stage == "Closed Won").lower(),
                          _stamp(rng, 2025), _stamp(rng, 2026), "x"])
            if contacts_per_account:
                roles.append([f"00K5g{o:08d}AAE", opportunity_id(o), contact_id(n * contacts_per_account),
                              ROLES[o % len(ROLES)], "true" if k == 0 else "false"])
    header = ["Id", "AccountId", "Name", "StageName", "Amount", "CloseDate", "Probability", "ForecastCategoryName",
              "CurrencyIsoCode", "IsClosed", "IsWon", "CreatedDate", "LastStageChangeDate", "Custom__c"]
    if len(orows) < 12:  # too small for the bad rows: a clean export
        _write(folder / "Opportunity.csv", header, orows)
        _write(folder / "OpportunityContactRole.csv", ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary"], roles)
        return folder
    orows.insert(5, list(orows[4]))  # a repeated row
    QUIRKS["repeat"] = ("Opportunity.csv", 7)
    orows.insert(9, [opportunity_id(999_999), account_id(999_999), "Orphan deal", "Prospecting", "1000", "2026-05-01",
                     "", "", "EUR", "false", "false", _stamp(rng), "", ""])  # AccountId of no account
    QUIRKS["dangling"] = ("Opportunity.csv", 11)
    orows.insert(12, [opportunity_id(999_998), account_id(0), "Bad amount", "Prospecting", "n/a", "2026-05-01",
                      "", "", "EUR", "false", "false", _stamp(rng), "", ""])
    QUIRKS["bad_amount"] = ("Opportunity.csv", 14)
    _write(folder / "Opportunity.csv", header, orows)
    _write(folder / "OpportunityContactRole.csv", ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary"], roles)
    return folder


def hubspot(folder: Path, companies: int = 50, deals_per_company: int = 2) -> list[Path]:
    """companies.csv, contacts.csv and deals.csv as HubSpot exports them (labels; stages as labels or ids)."""
    folder.mkdir(parents=True, exist_ok=True)
    stages = ["Appointment Scheduled", "qualifiedtobuy", "Presentation Scheduled", "decisionmakerboughtin",
              "Contract Sent", "closedwon", "Closed Lost"]
    _write(folder / "companies.csv", ["Record ID", "Company name", "Company domain name", "Industry", "Company owner"],
           [[str(9000 + n), company(n), f"c{n}.example", INDUSTRIES[n % len(INDUSTRIES)], "Dana Reyes"]
            for n in range(companies)], bom=True)
    _write(folder / "contacts.csv", ["Record ID", "First Name", "Last Name", "Email", "Job Title",
                                     "Associated Company IDs"],
           [[str(5000 + n), FIRST[n % len(FIRST)], LAST[n % len(LAST)], f"p{n}@x.example", TITLES[n % len(TITLES)],
             str(9000 + n)] for n in range(companies)])
    deals = []
    for n in range(companies):
        for k in range(deals_per_company):
            d = n * deals_per_company + k
            deals.append([str(7000 + d), f"Deal {k + 1} with {company(n)}", stages[d % len(stages)], f"{(d + 1) * 1000}",
                          f"{(d % 28) + 1:02d}/{(d % 12) + 1:02d}/2026", "Dana Reyes", "Sales Pipeline",
                          f"{9000 + n};{9000 + (n + 1) % companies}"])
    _write(folder / "deals.csv", ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Deal owner",
                                  "Pipeline", "Associated Company IDs"], deals)
    return [folder / "companies.csv", folder / "contacts.csv", folder / "deals.csv"]
