"""Attractiveness, relative strength, the Key Account Model quadrant and the relationship level.

Scores are explainable: each factor's weight, share of the axis and contribution are returned, so
anyone can recompute the result by hand. A missing factor is not a zero: the score is the weighted
mean over the factors present and the account is marked partial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kamctl.markdown import rounded
from kamctl.model.account import AXES, UNSCORED, Account, Level, Quadrant, Stage, factor_title

QUADRANTS = tuple(q.value for q in Quadrant)  # the keys, in portfolio order


@dataclass(frozen=True)
class FactorScore:
    name: str
    title: str
    score: float
    weight: float
    share: float  # this factor's weight as a share of the axis's present weight, 0-1
    contribution: float  # score * share; the contributions add up to the axis score
    note: str | None


@dataclass(frozen=True)
class AxisScore:
    axis: str
    score: float | None  # None: no factor given (unscored)
    factors: list[FactorScore]
    missing: list[str]  # factor names not given (only when at least one is given)
    cut_point: float

    @property
    def partial(self) -> bool:
        return self.score is not None and bool(self.missing)

    @property
    def high(self) -> bool | None:
        """Decided on the score as shown (one decimal), so what people see is what classifies."""
        return None if self.score is None else rounded(self.score) >= self.cut_point


@dataclass(frozen=True)
class Placement:
    """The quadrant an account is in: its key (a Quadrant value), kam.yaml's name and strategy for it."""

    key: str
    name: str
    strategy: str


@dataclass(frozen=True)
class AccountScore:
    attractiveness: AxisScore
    relative_strength: AxisScore
    quadrant: Placement | None

    @property
    def quadrant_key(self) -> str:
        """The quadrant's key, or 'unscored' when an axis is unscored (the kam.yaml policy key)."""
        return self.quadrant.key if self.quadrant else UNSCORED

    @property
    def partial(self) -> bool:
        return self.attractiveness.partial or self.relative_strength.partial

    @property
    def missing(self) -> list[str]:
        return self.attractiveness.missing + self.relative_strength.missing


def score_axis(account: Account, axis: str, settings: Any) -> AxisScore:
    """Weighted mean of the factors present on one axis; weights come from kam.yaml.

    A factor weighted 0 does not count, so leaving it out does not make the score partial.
    The score is sum(weight * score) / sum(weight), the exact form a person recomputes by hand.
    """
    weights = settings.scoring.weights_for(axis)
    cut = getattr(settings.scoring.cut_points, axis)
    section = getattr(account, axis)
    names = list(AXES[axis].model_fields)
    present = [(n, getattr(section, n)) for n in names if getattr(section, n) is not None]
    total_weight = sum(weights[n] for n, _ in present)
    if total_weight == 0:  # no factor given, or only factors weighted 0: unscored, not partial
        return AxisScore(axis, None, [], [], cut)
    missing = [n for n in names if getattr(section, n) is None and weights[n] > 0]
    factors = [FactorScore(name, factor_title(axis, name), f.score, weights[name], weights[name] / total_weight,
                           f.score * weights[name] / total_weight, f.note) for name, f in present]
    score = sum(f.score * weights[n] for n, f in present) / total_weight
    return AxisScore(axis, score, factors, missing, cut)


def quadrant_of(attractiveness: AxisScore, strength: AxisScore, settings: Any) -> Placement | None:
    """The box by the two axes (Quadrant.of); its name and strategy from kam.yaml."""
    if attractiveness.score is None or strength.score is None:
        return None
    key = Quadrant.of(bool(attractiveness.high), bool(strength.high)).value
    q = getattr(settings.quadrants, key)
    return Placement(key, q.name, q.strategy)


def score_account(account: Account, settings: Any) -> AccountScore:
    a = score_axis(account, "attractiveness", settings)
    s = score_axis(account, "relative_strength", settings)
    return AccountScore(a, s, quadrant_of(a, s, settings))


# --- relationship level -----------------------------------------------------------------------------

LOYALTY_LEVEL = {"none": Level.commodity, "low": Level.product_provider, "some": Level.value_add, "high": Level.partner}
SENSITIVITY_CAP = {"high": Level.product_provider, "medium": Level.value_add, "low": Level.partner}

RESPONSE = {  # what the customer's response at each level means (the evidence is shown beside it)
    Level.commodity: "They buy on price and switch freely: to them we are one supplier among many.",
    Level.product_provider: "They value our product but not the relationship: price still decides.",
    Level.value_add: "They value what we add beyond the product and give us some loyalty.",
    Level.partner: "They see us as part of their business: price matters less than the partnership.",
}
NEXT_STEP = {
    Level.commodity: "Differentiate: add benefits to the product to reach Product Provider.",
    Level.product_provider: "Understand the customer's aims and support some of them: "
                            "stage 1 of the KAM process, the account strategy.",
    Level.value_add: "Build the relationship plan and manage opportunities: stages 2-3 of the KAM process.",
    Level.partner: "Run the full KAM process with performance and satisfaction measurement (stage 4).",
}


@dataclass(frozen=True)
class LevelResult:
    level: Level | None
    price_sensitivity: str | None
    loyalty: str | None
    declared: Level | None
    response: str | None
    next_step: str | None

    @property
    def agrees(self) -> bool | None:
        """None when nothing is declared or there is no evidence to compare with."""
        if self.declared is None or self.level is None:
            return None
        return self.declared == self.level


def relationship_level(account: Account) -> LevelResult:
    """Loyalty sets the level, price sensitivity caps it; the level is the lower of the two."""
    rel = account.relationship
    level = None
    if rel.price_sensitivity is not None and rel.loyalty is not None:
        by_loyalty = LOYALTY_LEVEL[rel.loyalty]
        cap = SENSITIVITY_CAP[rel.price_sensitivity]
        level = min(by_loyalty, cap, key=lambda lv: lv.number)
    return LevelResult(level, rel.price_sensitivity, rel.loyalty, rel.level,
                       RESPONSE.get(level) if level else None, NEXT_STEP.get(level) if level else None)


# --- hunter and farmer -----------------------------------------------------------------------------


def ready_to_farm(account: Account) -> bool:
    """A hunter-owned account with an opportunity that reached contract or engagement goes to a farmer.

    "Reached" (Opportunity.reached) counts the opportunity's history too: a won deal stays won for
    the handover.
    """
    return (account.owner is not None and account.owner.role == "hunter"
            and any(o.reached(Stage.contract) for o in account.opportunities))


@dataclass
class Summary:
    """Everything scoring knows about one account, for tables, JSON and templates."""

    id: str
    name: str
    score: AccountScore
    level: LevelResult
    ready_to_farm: bool
    revenue: Any = None  # kamctl.model.account.Revenue | None, for the portfolio


def summarise(account_id: str, account: Account, settings: Any) -> Summary:
    return Summary(account_id, account.name, score_account(account, settings), relationship_level(account),
                   ready_to_farm(account), revenue=account.revenue)
