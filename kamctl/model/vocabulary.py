"""The domain's words: stages, quadrants and relationship levels, their order and labels.

Plain enums with no pydantic, so the CLI can name things without loading the models; the models
in kamctl.model.account use these types and re-export them. Everything else asks here for the
order of the stages, the go/no-go gate, the ends, the four quadrants and the one label people see
for each value (machine formats, JSON and CSV, keep the value).
"""

from __future__ import annotations

from enum import Enum
from typing import Any


# --- relationship level ----------------------------------------------------------------------------


class Level(str, Enum):
    """The level of relationship the customer perceives, lowest first."""

    commodity = "commodity"
    product_provider = "product_provider"
    value_add = "value_add"
    partner = "partner"

    @property
    def number(self) -> int:
        return list(Level).index(self) + 1

    @property
    def label(self) -> str:
        """The one name people see for the level (machine formats keep the value)."""
        return _LEVEL_LABELS[self]

    @property
    def title(self) -> str:
        """The label, under the name templates written before `label` use."""
        return self.label


_LEVEL_LABELS = {Level.commodity: "Commodity", Level.product_provider: "Product Provider",
                 Level.value_add: "Value-add", Level.partner: "Partner"}


# --- the Key Account Model quadrants ---------------------------------------------------------------


class Quadrant(str, Enum):
    """The Key Account Model's four boxes, in portfolio order. kam.yaml may rename them; the value
    is the key in kam.yaml (quadrants:, checks.quadrants:) and in machine output."""

    strategic = "strategic"
    star = "star"
    status = "status"
    streamline = "streamline"

    @classmethod
    def of(cls, high_attractiveness: bool, high_strength: bool) -> "Quadrant":
        """The box for an account high or low on each axis."""
        return _QUADRANT_OF[(high_attractiveness, high_strength)]

    @property
    def label(self) -> str:
        """The default display name (kam.yaml quadrants.<key>.name overrides it)."""
        return self.value.capitalize()

    @property
    def position(self) -> str:
        """Where the box sits, in words."""
        attractiveness, strength = next(k for k, q in _QUADRANT_OF.items() if q is self)
        return (f"{'high' if attractiveness else 'low'} attractiveness, "
                f"{'high' if strength else 'low'} relative strength")


_QUADRANT_OF = {(True, True): Quadrant.strategic, (True, False): Quadrant.star,
                (False, True): Quadrant.status, (False, False): Quadrant.streamline}
UNSCORED = "unscored"  # the policy key and group of an account with an axis unscored


# --- pipeline stages ------------------------------------------------------------------------------


class Stage(str, Enum):
    """Pipeline stages in order; no_go and lost are ends."""

    # the chain identification .. engagement, then the ends: no_go (decided against at the
    # go/no-go gate) and lost (closed lost). The JSON Schema shows the docstring above.

    identification = "identification"
    qualification = "qualification"
    decision = "decision"
    pursuit = "pursuit"
    closing = "closing"
    contract = "contract"
    engagement = "engagement"
    no_go = "no_go"
    lost = "lost"

    @property
    def label(self) -> str:
        """The one name people see for the stage (machine formats keep the value)."""
        return "no-go" if self is Stage.no_go else self.value

    @property
    def is_open(self) -> bool:
        """Still being worked: identification to closing."""
        return self in OPEN_STAGES

    @property
    def is_won(self) -> bool:
        return self in WON_STAGES

    @property
    def is_end(self) -> bool:
        """no_go or lost: off the chain, nothing after it."""
        return self in END_STAGES

    def at_or_past(self, other: "Stage") -> bool:
        """This stage is `other` or after it on the chain (an end is past nothing but itself)."""
        if self is other:
            return True
        return self in CHAIN and other in CHAIN and CHAIN.index(self) > CHAIN.index(other)


END_STAGES = (Stage.no_go, Stage.lost)
CHAIN = tuple(s for s in Stage if s not in END_STAGES)  # the forward path, in the enum's order
OPEN_STAGES = CHAIN[:CHAIN.index(Stage.contract)]  # identification .. closing
WON_STAGES = CHAIN[CHAIN.index(Stage.contract):]  # contract, engagement
FINAL_STAGES = (CHAIN[-1], *END_STAGES)  # nothing comes after these
GATE = Stage.decision  # the go/no-go gate: left only with a recorded decision
DECISIONS = {"go": Stage.pursuit, "no_go": Stage.no_go}  # what the gate leads to
OUTCOMES = {"won": WON_STAGES[0], "lost": Stage.lost}  # what closing leads to
# stages reached only through the gate's decision
PAST_GATE = CHAIN[CHAIN.index(GATE) + 1:] + (Stage.no_go,)


# --- relationship map and whitespace ------------------------------------------------------------


class Coverage(str, Enum):
    """How deeply we know a decision maker, lowest first (a fixed scale, the same for every account):
    none: we have never met them; contact: we have met, nothing regular; regular: regular contact,
    we know their agenda; deep: they confide in us and we would hear of a change early."""

    none = "none"
    contact = "contact"
    regular = "regular"
    deep = "deep"

    @property
    def label(self) -> str:
        return self.value

    @property
    def covered(self) -> bool:
        """Whether we are in touch at all: contact or deeper."""
        return self is not Coverage.none


class WhitespaceStatus(str, Enum):
    """Where one offering stands at one buying centre, in the grid's order."""

    sold = "sold"
    open_opportunity = "open_opportunity"
    potential = "potential"
    competitor = "competitor"
    not_relevant = "not_relevant"

    @property
    def label(self) -> str:
        return _WHITESPACE_LABELS[self]


_WHITESPACE_LABELS = {WhitespaceStatus.sold: "sold", WhitespaceStatus.open_opportunity: "open opportunity",
                      WhitespaceStatus.potential: "potential", WhitespaceStatus.competitor: "competitor holds it",
                      WhitespaceStatus.not_relevant: "not relevant"}


def label(value: Any) -> str:
    """The display label of a level, stage, forecast category, coverage or whitespace status given as enum or value;
    other text unchanged."""
    for enum in (Level, Stage, ForecastCategory, Coverage, WhitespaceStatus):
        try:
            return enum(value).label
        except ValueError:
            continue
    return "" if value is None else str(value)


# --- forecast categories --------------------------------------------------------------------------


class ForecastCategory(str, Enum):
    """Where an opportunity stands in the sales forecast, least certain first; closed and omitted
    are not forecast (won already, or out of it)."""

    pipeline = "pipeline"
    best_case = "best_case"
    commit = "commit"
    closed = "closed"
    omitted = "omitted"

    @property
    def label(self) -> str:
        """The one name people see for the category (machine formats keep the value)."""
        return self.value.replace("_", " ")


# the category each stage gives when the opportunity names none (`forecast:` overrides it while open)
STAGE_FORECAST = {Stage.identification: ForecastCategory.pipeline, Stage.qualification: ForecastCategory.pipeline,
                  Stage.decision: ForecastCategory.pipeline, Stage.pursuit: ForecastCategory.best_case,
                  Stage.closing: ForecastCategory.commit, Stage.contract: ForecastCategory.closed,
                  Stage.engagement: ForecastCategory.closed, Stage.no_go: ForecastCategory.omitted,
                  Stage.lost: ForecastCategory.omitted}
# what a person may set on an open opportunity: closed comes only from winning it
FORECAST_OVERRIDES = tuple(c.value for c in ForecastCategory if c is not ForecastCategory.closed)
