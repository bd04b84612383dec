"""The account file: every concept of the KAM method, once.

These models are the single source of truth: the JSON Schema in schemas/, the field docs, the
templates' inputs and the check rules all derive from them. Factor lists are the fields of
Attractiveness and RelativeStrength; stages, quadrants and levels (order and labels) are the enums
of kamctl.model.vocabulary, re-exported here.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator, model_validator

from kamctl.ids import MAX_ID_LENGTH, SLUG, slugify
from kamctl.model.vocabulary import (  # noqa: F401 - re-exported: the models' vocabulary
    CHAIN, DECISIONS, END_STAGES, FINAL_STAGES, FORECAST_OVERRIDES, GATE, OPEN_STAGES, OUTCOMES, PAST_GATE,
    STAGE_FORECAST, UNSCORED, WON_STAGES, Coverage, ForecastCategory, Level, Quadrant, Stage, WhitespaceStatus,
    label)



class Model(BaseModel):
    """Base for every section: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_empty(cls, data: Any) -> Any:
        """A list or section written as an empty key (`barriers:`) means 'not filled in yet'."""
        if isinstance(data, dict):
            filled = {k: v for k, v in data.items() if not (v is None and k in _defaulted(cls))}
            return filled if len(filled) != len(data) else data
        return data


def _defaulted(cls: type[BaseModel]) -> frozenset[str]:
    cached = cls.__dict__.get("_defaulted_fields")
    if cached is None:
        cached = frozenset(n for n, f in cls.model_fields.items() if f.default_factory is not None)
        setattr(cls, "_defaulted_fields", cached)
    return cached


def filled(value: Any) -> bool:
    """Whether a person filled the value in: blank text, None and lists of those are not."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple)):
        return any(filled(v) for v in value)
    return True


MONEY_MAX = 1e15  # far above any deal; the bound keeps sums of many values finite (strict JSON)
Money = Annotated[float, Strict(), Field(ge=0, le=MONEY_MAX, allow_inf_nan=False)]
Text = str
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
CRM_ID = "The record's id in the CRM (Salesforce Id, HubSpot Record ID): `kamctl import` matches on it."


# --- identify: factors -----------------------------------------------------------------------------


class Factor(Model):
    """One scored factor: 0-10, higher is always better for us; note holds the evidence."""

    score: Annotated[float, Strict(), Field(ge=0, le=10, allow_inf_nan=False)]
    note: Text | None = None


def _bare_score(value: Any) -> Any:
    """A factor may be written as a bare number: `size: 7` means `size: {score: 7}`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"score": value}
    return value


FactorValue = Annotated[Factor, BeforeValidator(_bare_score)]


def factor(title: str, description: str) -> Any:
    return Field(default=None, title=title, description=description)


class Attractiveness(Model):
    """Client attractiveness: how much this customer is worth to us."""

    size: FactorValue | None = factor("Size", "Revenue and volume the customer can bring.")
    growth_potential: FactorValue | None = factor("Growth potential", "How fast their business and our share of it can grow.")
    financial_stability: FactorValue | None = factor("Financial stability", "Ability to pay and to keep buying.")
    ease_of_access: FactorValue | None = factor("Ease of access", "How easily we reach the people who decide.")
    closeness_of_relationship: FactorValue | None = factor("Closeness of existing relationship", "How close the relationship already is.")
    strategic_fit: FactorValue | None = factor("Strategic fit", "How well they fit where our company is going.")
    early_adopter: FactorValue | None = factor("Early adopter", "Whether they take up new offers early.")
    values_our_offer: FactorValue | None = factor("Values our offer", "Whether they value our offer and it meets their needs.")
    level_of_competition: FactorValue | None = factor("Level of competition", "Low competition scores high: 10 means we face none.")
    market_standing: FactorValue | None = factor("Market standing", "Market leadership, credibility, prestige.")


class RelativeStrength(Model):
    """Our relative strength: how the customer rates us against competitors."""

    price: FactorValue | None = factor("Price", "Our price position as the customer sees it.")
    service: FactorValue | None = factor("Service", "Service level against competitors.")
    quality_of_people: FactorValue | None = factor("Quality of people", "The people the customer deals with.")
    speed_of_response: FactorValue | None = factor("Speed of response", "How fast we answer and act.")
    relationships_and_attitudes: FactorValue | None = factor("Relationships and attitudes", "Relationships at every level.")
    innovation: FactorValue | None = factor("Innovation", "New ideas and offers we bring.")
    value_in_use: FactorValue | None = factor("Value in use", "Value in use in the supply chain.")
    long_term_sustainability: FactorValue | None = factor("Long-term sustainability", "Whether we will be there for the long run.")
    trust_and_confidence: FactorValue | None = factor("Trust and confidence", "How much they trust us.")


AXES: dict[str, type[Model]] = {"attractiveness": Attractiveness, "relative_strength": RelativeStrength}


def factor_names(axis: str) -> list[str]:
    return list(AXES[axis].model_fields)


def factor_title(axis: str, name: str) -> str:
    return AXES[axis].model_fields[name].title or name


# --- relationship level ----------------------------------------------------------------------------

PriceSensitivity = Literal["high", "medium", "low"]
Loyalty = Literal["none", "low", "some", "high"]


class Relationship(Model):
    """Evidence of how the customer sees us: price sensitivity and loyalty give the level."""

    price_sensitivity: PriceSensitivity | None = None
    loyalty: Loyalty | None = None
    level: Level | None = Field(default=None, description="The level you believe; kamctl shows where the evidence disagrees.")
    notes: Text | None = None


# --- owner: hunter and farmer -----------------------------------------------------------------------


class FarmerCycle(str, Enum):
    """Where a farmed account stands in the farmer's cycle."""

    cultivating = "cultivating"
    preparation = "preparation"
    planting = "planting"
    seeding = "seeding"
    watering_and_fertilising = "watering_and_fertilising"
    weeding = "weeding"
    harvesting = "harvesting"
    continuous_harvesting = "continuous_harvesting"


class Owner(Model):
    """Who owns the account: a hunter wins it, a farmer grows it."""

    name: Text | None = None
    email: Text | None = None
    role: Literal["hunter", "farmer"] = "farmer"
    cycle: FarmerCycle | None = Field(default=None, description="For a farmer: where the account stands in the farmer's cycle.")


# --- stage 1: account strategy and development plan ------------------------------------------------


class Strategy(Model):
    """The account strategy charter, from the customer's agenda of issues and needs."""

    current_situation: Text | None = None
    key_business_objectives: list[Text] = Field(default_factory=list, description="The customer's objectives for the next 3-5 years.")
    barriers: list[Text] = Field(default_factory=list)
    enablers: list[Text] = Field(default_factory=list)
    initiatives: list[Text] = Field(default_factory=list, description="Key business initiatives/strategies.")
    value_we_add: Text | None = Field(default=None, description="What: what we can do to add value for the customer.")
    whom_to_influence: Text | None = Field(default=None, description="Who: whom we need to influence, and by whom in our company.")
    where_to_target: Text | None = Field(default=None, description="Where: where in the customer's organisation to target.")
    when_to_pursue: Text | None = Field(default=None, description="When: when to pursue opportunities.")
    why_they_buy: Text | None = Field(default=None, description="Why: why the customer will buy from us.")


FIVE_QUESTIONS = ("value_we_add", "whom_to_influence", "where_to_target", "when_to_pursue", "why_they_buy")
CHARTER = ("current_situation", "key_business_objectives", "barriers", "enablers", "initiatives")


class Quarter(str, Enum):
    Q1 = "Q1"
    Q2 = "Q2"
    Q3 = "Q3"
    Q4 = "Q4"


TacticStatus = Literal["planned", "in_progress", "done", "dropped"]


class Tactic(Model):
    """A quarterly action that executes a strategy."""

    id: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="Short id, e.g. for `kamctl tactic done`; default: the title as a slug.")
    title: Text
    quarter: Quarter | None = None
    owner: Text | None = None
    due: dt.date | None = None
    status: TacticStatus = "planned"
    completed: dt.date | None = Field(default=None, description="The day it was done (`kamctl tactic done` sets it with status: done).")

    @property
    def key(self) -> str:
        """The id commands name it by: id, else the title as a slug (cut to the id length)."""
        return self.id or slugify(self.title)[:MAX_ID_LENGTH].strip("-") or "x"
    centre: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="The buying centre (id) whose whitespace it works on.")
    offering: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="The offering (kam.yaml offerings id) it works on.")


class PlanStrategy(Model):
    """A strategy to reach a development-plan objective."""

    title: Text
    tactics: list[Tactic] = Field(default_factory=list)


class Objective(Model):
    """An objective for the year."""

    title: Text
    strategies: list[PlanStrategy] = Field(default_factory=list)


class Plan(Model):
    """The Key Account Development Plan: objectives -> strategies -> tactics by quarter."""

    year: Annotated[int, Strict(), Field(ge=2000, le=2100)] | None = None
    objectives: list[Objective] = Field(default_factory=list)


# --- stage 2: relationship plan -------------------------------------------------------------------


class DecisionMaker(Model):
    """A key decision maker in the customer's power base, and our mirror relationship to them."""

    id: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="Short id, e.g. for `render questionnaire --contact`.")
    name: Text
    title: Text | None = None
    buying_role: Literal["economic_buyer", "decision_maker", "technical_buyer", "user", "influencer", "gatekeeper", "coach"] | None = None
    influence: Literal["high", "medium", "low"] | None = None
    attitude: Literal["champion", "supporter", "neutral", "sceptic", "opponent"] | None = None
    counterpart: Text | None = Field(default=None, description="Our person who mirrors this decision maker.")
    strength: Annotated[int, Strict(), Field(ge=1, le=5)] | None = Field(default=None, description="Relationship strength, 1 (weak) to 5 (strong).")
    last_contact: dt.date | None = None
    business_agenda: Text | None = Field(default=None, description="What is their business agenda?")
    personal_agenda: Text | None = Field(default=None, description="What is their personal/social agenda?")
    recognised_by: Text | None = Field(default=None, description="By whom do they need to be recognised?")
    measured_by: Text | None = Field(default=None, description="How are they measured?")
    reports_to: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="The decision maker (id) they report to: the org chart.")
    influences: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list, description="Decision makers (ids) they sway outside the reporting line.")
    coverage: Coverage | None = Field(default=None, description="How deeply we know them: none, contact, regular, deep.")
    level_now: Level | None = Field(default=None, description="Our relationship with them now (the four levels).")
    level_wanted: Level | None = Field(default=None, description="The relationship with them we want.")
    crm_id: Text | None = Field(default=None, description=CRM_ID)

    @property
    def key(self) -> str:
        return self.id or slugify(self.name) or "x"


AGENDA = ("business_agenda", "personal_agenda", "recognised_by", "measured_by")


# --- stage 3: opportunities ----------------------------------------------------------------------


GATE_ANSWERS = ("yes", "no", "unsure")
GateAnswer = Literal[GATE_ANSWERS]  # type: ignore[valid-type]


class Decision(Model):
    """The go/no-go decision recorded at the decision stage, with the answers to the three
    questions it rests on."""

    decision: Literal["go", "no_go"]
    reason: Text
    by: Text | None = None
    date: dt.date | None = None
    compete: GateAnswer | None = Field(default=None, description="Can we compete: do we have an offer that meets the need?")
    win: GateAnswer | None = Field(default=None, description="Can we win: can we beat the competition on what they decide by?")
    worth: GateAnswer | None = Field(default=None, description="Is it worth winning: value, margin and fit against the cost of pursuit.")


GATE_QUESTIONS = ("compete", "win", "worth")  # the three questions of the go/no-go gate, in order


class Qualification(Model):
    """MEDDPICC qualification of an opportunity: what we know about how the customer will buy."""

    metrics: Text | None = Field(default=None, description="The measurable gain the customer expects.")
    economic_buyer: Text | None = Field(default=None, description="Who has the final say on the money.")
    decision_criteria: Text | None = Field(default=None, description="What they will judge the offers by.")
    decision_process: Text | None = Field(default=None, description="The steps and people from choice to signature.")
    paper_process: Text | None = Field(default=None, description="Legal, procurement and contract steps.")
    pain: Text | None = Field(default=None, description="The business pain that makes them act.")
    champion: Text | None = Field(default=None, description="Who sells for us inside the customer.")
    competition: Text | None = Field(default=None, description="Who else they consider, including doing nothing.")


QUALIFICATION = tuple(Qualification.model_fields)  # MEDDPICC, in the model's order


class HistoryEntry(Model):
    """One step of an opportunity's life, appended by kamctl on every change."""

    stage: Stage
    date: dt.date
    note: Text | None = None
    decision: Literal["go", "no_go"] | None = None
    reason: Text | None = None
    by: Text | None = None
    forced: bool | None = None


class Opportunity(Model):
    """An opportunity in the pipeline, from identification to engagement."""

    id: Annotated[str, Field(pattern=SLUG)]
    title: Text
    value: Money | None = None
    currency: Currency | None = None
    stage: Stage = Stage.identification
    close: dt.date | None = Field(default=None, description="Expected close date.")
    decision: Decision | None = None
    qualification: Qualification | None = None
    forecast: Literal[FORECAST_OVERRIDES] | None = Field(  # type: ignore[valid-type]
        default=None, description="Forecast category while open (pipeline, best_case, commit, omitted); "
        "without it the stage gives one.")
    dormant_problem: Text | None = Field(default=None, description="The dormant business problem found (the rainmaker's first question).")
    vision: Text | None = Field(default=None, description="The vision of life once it is solved (the rainmaker's second question).")
    notes: Text | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    centre: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="The buying centre (id) it is for: its whitespace cell is an open opportunity.")
    offering: Annotated[str, Field(pattern=SLUG)] | None = Field(default=None, description="The offering (kam.yaml offerings id) it sells.")
    crm_id: Text | None = Field(default=None, description=CRM_ID)

    def reached(self, stage: Stage) -> bool:
        """Whether the opportunity ever got to `stage`; the one rule every view uses.

        It reached a stage of the chain when its current stage is that stage or past it, or its
        history records that stage or a later one. The ends are off the chain: a no_go reached
        decision (it was decided there) but not pursuit; a lost opportunity reached whatever its
        history shows (a deal lost at closing reached closing, not contract). Asked about an end
        itself, it is reached when the opportunity is or was at that end.
        """
        seen = {self.stage, *(h.stage for h in self.history)}
        return any(_counts_as(s, stage) for s in seen)

    def reached_on(self, stage: Stage) -> dt.date | None:
        """The first date the history shows the opportunity reached `stage` (by the rule of
        `reached`); None when it did not, or when nothing in its history dates it."""
        dates = [h.date for h in self.history if _counts_as(h.stage, stage)]
        return min(dates) if dates else None

    def forecast_category(self) -> ForecastCategory:
        """The forecast category: the override while open, else the stage's (closed once won,
        omitted at an end)."""
        if self.forecast is not None and self.stage.is_open:
            return ForecastCategory(self.forecast)
        return STAGE_FORECAST[self.stage]

    def entered_stage(self) -> dt.date | None:
        """When the opportunity entered its current stage, from its history."""
        for entry in reversed(self.history):
            if entry.stage == self.stage:
                return entry.date
        return None


def _counts_as(seen: Stage, stage: Stage) -> bool:
    """Being at `seen` means having reached `stage` (a no_go was at the gate)."""
    return seen.at_or_past(stage) or (seen is Stage.no_go and GATE.at_or_past(stage))


# --- programme of interaction ---------------------------------------------------------------------


class Interaction(Model):
    """One item of the programme of interaction and communication with the account."""

    date: dt.date
    kind: Literal["hospitality", "newsletter", "staff_conference", "industry_conference", "seminar", "briefing", "meeting", "other"]
    title: Text | None = None
    audience: list[Text] = Field(default_factory=list, description="Decision makers (ids or names) it reaches.")
    status: Literal["planned", "done", "cancelled"] = "planned"
    notes: Text | None = None


# --- stage 4: performance and satisfaction --------------------------------------------------------


class SalesPeriod(Model):
    """Sales for one period: a year (2026) or a quarter (2026-Q3)."""

    period: Annotated[str, Field(pattern=r"^[0-9]{4}(-Q[1-4])?$")]
    currency: Currency | None = None
    target: Money | None = None
    achieved: Money | None = None
    forecast: Money | None = None

    @field_validator("period", mode="before")
    @classmethod
    def _year_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Survey(Model):
    """A customer satisfaction survey or interview."""

    date: dt.date
    method: Literal["survey", "interview"] = "survey"
    score: Annotated[float, Strict(), Field(ge=1, le=5, allow_inf_nan=False)] | None = Field(default=None, description="Overall satisfaction, 1-5.")
    respondent: Text | None = None
    moments_of_truth: list[Text] = Field(default_factory=list, description="Moments of truth in their buying process.")
    notes: Text | None = None


class Alert(Model):
    """A manual early-warning flag: a symptom of a potential retention issue."""

    date: dt.date
    message: Text
    severity: Literal["error", "warning", "info"] = "warning"
    raised_by: Text | None = None
    resolved: bool = False


class Performance(Model):
    """Performance and satisfaction measurement."""

    sales: list[SalesPeriod] = Field(default_factory=list)
    surveys: list[Survey] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)


class Revenue(Model):
    """Current and potential annual sales with the account, shown on the portfolio."""

    current: Money | None = None
    potential: Money | None = None
    currency: Currency | None = None
    category_spend: Money | None = Field(default=None, description="The customer's total annual spend in our category (for share of wallet).")


# --- competitive context --------------------------------------------------------------------------


class Force(Model):
    rating: Literal["low", "medium", "high"]
    notes: Text | None = None


class FiveForces(Model):
    """Porter's five forces on the customer's business."""

    rivalry: Force | None = None
    supplier_power: Force | None = None
    buyer_power: Force | None = None
    threat_of_substitutes: Force | None = None
    threat_of_new_entrants: Force | None = None


# --- whitespace: buying centres against our offerings ---------------------------------------------


class WhitespaceCell(Model):
    """One offering at one buying centre: where it stands, and its annual value to us."""

    status: WhitespaceStatus | None = Field(default=None, description="sold, open_opportunity, potential, competitor or not_relevant; an open opportunity naming the centre and offering makes it open_opportunity.")
    current: Money | None = Field(default=None, description="Our annual sales of the offering there now.")
    potential: Money | None = Field(default=None, description="The annual value it could be worth to us.")
    competitor: Text | None = Field(default=None, description="Who holds it, when a competitor does.")
    notes: Text | None = None


class BuyingCentre(Model):
    """A part of the customer that buys on its own: a business unit, a site or a region."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: Text
    kind: Literal["business_unit", "site", "region"] | None = None
    category_spend: Money | None = Field(default=None, description="Its total annual spend in our category (for share of wallet).")
    offerings: dict[Annotated[str, Field(pattern=SLUG)], WhitespaceCell] = Field(
        default_factory=dict, description="One cell per offering (kam.yaml offerings id); amounts in the account's currency.")


# --- the account -----------------------------------------------------------------------------------


class Account(Model):
    """A key account: one YAML file in accounts/, its file stem the account id."""

    model_config = ConfigDict(title="kamctl account")

    name: Text
    industry: Text | None = None
    owner: Owner | None = None
    hunted_by: Text | None = Field(default=None, description="The hunter who won the account, once handed to a farmer.")
    revenue: Revenue | None = None
    attractiveness: Attractiveness = Field(default_factory=Attractiveness)
    relative_strength: RelativeStrength = Field(default_factory=RelativeStrength)
    relationship: Relationship = Field(default_factory=Relationship)
    strategy: Strategy = Field(default_factory=Strategy)
    plan: Plan = Field(default_factory=Plan)
    decision_makers: list[DecisionMaker] = Field(default_factory=list)
    opportunities: list[Opportunity] = Field(default_factory=list)
    interactions: list[Interaction] = Field(default_factory=list)
    performance: Performance = Field(default_factory=Performance)
    five_forces: FiveForces = Field(default_factory=FiveForces)
    notes: Text | None = None
    buying_centres: list[BuyingCentre] = Field(default_factory=list, description="The whitespace grid: buying centres against our offerings.")
    crm_id: Text | None = Field(default=None, description=CRM_ID)

    def currency(self, company: str) -> str:
        """The account's currency: revenue.currency, else company (kam.yaml company.currency)."""
        return self.revenue.currency if self.revenue and self.revenue.currency else company

    def sales_currency(self, period: SalesPeriod, company: str) -> str:
        """The currency of a sales period's figures: its own, else the account's (one rule for every output)."""
        return period.currency or self.currency(company)

    def opportunity(self, opp_id: str) -> Opportunity | None:
        return next((o for o in self.opportunities if o.id == opp_id), None)
