"""kam.yaml: what a sales organisation sets once. Every setting has a default."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Strict, create_model, model_validator

from kamctl.findings import Severity
from kamctl.ids import SLUG
from kamctl.model.account import (AXES, GATE_QUESTIONS, QUALIFICATION, UNSCORED, Currency, DecisionMaker, Model,
                                  Quadrant, Stage, factor_names)

Weight = Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)]


class Company(Model):
    name: str = "Our company"
    currency: Currency = "EUR"


def _weights_model(axis: str) -> type[Model]:
    """Weights per factor, one field per factor of the axis (derived, never listed twice)."""
    fields = {name: (Weight, 1.0) for name in factor_names(axis)}
    return create_model(f"{AXES[axis].__name__}Weights", __base__=Model, **fields)


AttractivenessWeights = _weights_model("attractiveness")
RelativeStrengthWeights = _weights_model("relative_strength")


class CutPoints(Model):
    """An axis is high when its score is >= its cut point (0-10)."""

    attractiveness: Annotated[float, Strict(), Field(ge=0, le=10)] = 5.0
    relative_strength: Annotated[float, Strict(), Field(ge=0, le=10)] = 5.0


class Weights(Model):
    """Relative weight of each factor (default 1 each; 0 leaves a factor out of the score)."""

    attractiveness: AttractivenessWeights = Field(default_factory=AttractivenessWeights)  # type: ignore[valid-type]
    relative_strength: RelativeStrengthWeights = Field(default_factory=RelativeStrengthWeights)  # type: ignore[valid-type]


class Scoring(Model):
    weights: Weights = Field(default_factory=Weights)
    cut_points: CutPoints = Field(default_factory=CutPoints)

    def weights_for(self, axis: str) -> dict[str, float]:
        return getattr(self.weights, axis).model_dump()


class QuadrantSetting(Model):
    name: str
    strategy: str


_STRATEGIES = {
    Quadrant.strategic: "Invest: build a partnership, full KAM process.",
    Quadrant.star: "Invest selectively to build our strength with them.",
    Quadrant.status: "Maintain: serve efficiently, protect the business.",
    Quadrant.streamline: "Manage for profitability: reduce the cost to serve.",
}


def _quadrants_model() -> type[Model]:
    """One field per Quadrant (derived, never listed twice), defaulting to its label and strategy."""
    fields: dict[str, Any] = {q.value: (QuadrantSetting, QuadrantSetting(name=q.label, strategy=_STRATEGIES[q]))
                              for q in Quadrant}
    return create_model("Quadrants", __base__=Model, __doc__="Names and recommended strategies of the Key "
                        "Account Model's four boxes.", **fields)


Quadrants = _quadrants_model()


class StageSetting(Model):
    probability: Annotated[float, Strict(), Field(ge=0, le=1)]
    stale_days: Annotated[int, Strict(), Field(ge=1)] | None = None


_DEFAULT_STAGES = {
    Stage.identification: (0.05, 60),
    Stage.qualification: (0.15, 45),
    Stage.decision: (0.25, 30),
    Stage.pursuit: (0.5, 60),
    Stage.closing: (0.8, 30),
    Stage.contract: (1.0, None),
    Stage.engagement: (1.0, None),
    Stage.no_go: (0.0, None),
    Stage.lost: (0.0, None),
}


def _default_stages() -> dict[Stage, StageSetting]:
    return {s: StageSetting(probability=p, stale_days=d) for s, (p, d) in _DEFAULT_STAGES.items()}


class Gate(Model):
    """What the go/no-go gate needs before `opp decide ... go`."""

    require: list[Literal[(*GATE_QUESTIONS, *QUALIFICATION)]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="Gate questions (compete, win, worth) and MEDDPICC fields "
        "(metrics, economic_buyer, ...) that must be recorded before a go.")


class Pipeline(Model):
    """Win probability and staleness limit per stage; exchange rates into the company currency."""

    stages: dict[Stage, StageSetting] = Field(default_factory=_default_stages)
    rates: dict[Currency, Annotated[float, Strict(), Field(gt=0)]] = Field(
        default_factory=dict, description="Value of one unit of each currency in the company currency.")
    gate: Gate = Field(default_factory=Gate)

    @model_validator(mode="after")
    def _fill_stages(self) -> "Pipeline":
        """Stages not named in kam.yaml keep their defaults."""
        defaults = _default_stages()
        self.stages = {s: self.stages.get(s, defaults[s]) for s in Stage}
        return self


RuleSetting = Literal["off", "error", "warning", "info"]


def _quadrant_policy_model() -> type[Model]:
    """ignore, select and one list per Severity (derived, never listed twice)."""
    fields: dict[str, Any] = {"ignore": (list[str], Field(default_factory=list)),
                              "select": (list[str], Field(default_factory=list))}
    fields.update({s.value: (list[str], Field(default_factory=list, description=f"Rules of severity {s.value} in this quadrant."))
                   for s in Severity})
    return create_model("QuadrantPolicy", __base__=Model, __doc__=QUADRANT_POLICY, **fields)


QUADRANT_POLICY = """Rules for accounts in one quadrant: switched off (ignore) or on (select), and made
stricter or looser (error, warning, info: lists of codes or prefixes).

Whether a rule runs: --select/--ignore, then this quadrant's select/ignore, then checks.rules `off`
(unless this quadrant's error/warning/info names the rule). Its severity: this quadrant's
error/warning/info > checks.rules > the rule's default. Within those lists the longest matching
code or prefix wins; one pattern in two lists is a settings error."""

QuadrantPolicy = _quadrant_policy_model()


class Limits(Model):
    """The numbers the check rules compare against."""

    min_decision_makers: Annotated[int, Strict(), Field(ge=0)] = 3
    contact_days: Annotated[int, Strict(), Field(ge=1)] = 90
    survey_days: Annotated[int, Strict(), Field(ge=1)] = 365
    satisfaction_drop: Annotated[float, Strict(), Field(ge=0)] = 0.5
    sales_behind_percent: Annotated[float, Strict(), Field(ge=0, le=100)] = 20.0
    stale_plan_days: Annotated[int, Strict(), Field(ge=1)] = 180


QuadrantKey = Literal[(*(q.value for q in Quadrant), UNSCORED)]  # a policy per quadrant, or for the unscored


class Checks(Model):
    """Check policy: severity or off per rule code, limits, and rule sets and severities per quadrant.

    A finding's severity: the quadrant's error/warning/info lists > rules > the rule's default.
    """

    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    quadrants: dict[QuadrantKey, QuadrantPolicy] = Field(default_factory=dict)  # type: ignore[valid-type]


HEALTH_WEIGHTS = {"completeness": 20.0, "relationships": 15.0, "satisfaction": 20.0, "attainment": 20.0,
                  "alerts": 15.0, "freshness": 10.0}  # the documented defaults; they add up to 100


HealthWeights = create_model("HealthWeights", __base__=Model, __doc__="Weight of each part of account health "
                             "(0 leaves a part out; they need not add up to 100).",
                             **{part: (Weight, weight) for part, weight in HEALTH_WEIGHTS.items()})


class Health(Model):
    """Account health 0-100: the weighted mean of its parts (see README, Account health)."""

    weights: HealthWeights = Field(default_factory=HealthWeights)  # type: ignore[valid-type]
    alert_points: Annotated[float, Strict(), Field(ge=0, le=100)] = Field(
        default=25.0, description="Points the alerts part loses per open alert (from 100).")
    fresh_days: Annotated[int, Strict(), Field(ge=1)] = Field(
        default=30, description="Days after the newest dated entry that the plan still counts as fully fresh.")


class Offering(Model):
    """One of our offerings: a column of every account's whitespace grid."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: str


BuyingRole = DecisionMaker.model_fields["buying_role"].annotation


class Crm(Model):
    """How `kamctl import` reads a CRM: its stage names and contact roles in kamctl's words.

    stages and roles add to (or replace) the defaults for Salesforce's and HubSpot's standard
    values (kamctl.crm.mapping); keys are matched ignoring case, spaces and punctuation."""

    stages: dict[str, Stage] = Field(default_factory=dict, description="CRM stage (label or internal id) -> kamctl stage.")
    roles: dict[str, BuyingRole] = Field(default_factory=dict, description="CRM contact role -> buying role.")  # type: ignore[valid-type]
    currency: Currency | None = Field(default=None, description="Currency of CRM amounts without their own (default: company.currency).")
    date_format: Literal["auto", "yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy"] = Field(
        default="auto", description="How the CRM writes dates; auto refuses a file whose dd/mm and mm/dd cannot be told apart.")


class Settings(Model):
    """kam.yaml: the workspace settings."""

    company: Company = Field(default_factory=Company)
    scoring: Scoring = Field(default_factory=Scoring)
    quadrants: Quadrants = Field(default_factory=Quadrants)  # type: ignore[valid-type]
    pipeline: Pipeline = Field(default_factory=Pipeline)
    checks: Checks = Field(default_factory=Checks)
    health: Health = Field(default_factory=Health)

    offerings: list[Offering] = Field(default_factory=list, description="What we sell, in the whitespace grid's order.")

    crm: Crm = Field(default_factory=Crm)
