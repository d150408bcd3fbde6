"""Request and response models of the strategy lab: named strategies, segment rules and
champion/challenger experiments (domain/segments.py, domain/experiments.py).

Same conventions as api/schemas.py: amounts are decimal strings in euros, requests refuse
unknown fields; what depends on the creditor's other data (a strategy or segment that must
exist, an experiment overlapping another) is checked by api/services/lab.py, which answers a
422 naming the field the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from api.schemas import RequestModel, SavedByOut, StrategyModel, _euros_or_zero, _optional
from domain.money import cents_to_decimal_string, parse_euros
from domain.segments import NAME_PATTERN, NAME_RULE, SegmentRule, Segments


def _name(value: str) -> str:
    if not NAME_PATTERN.match(value):
        raise ValueError(f"not a valid name: {NAME_RULE}")
    return value


Name = Annotated[
    str,
    AfterValidator(_name),
    Field(description=f"A name: {NAME_RULE}.", examples=["small-claims"]),
]
OptionalEuros = Annotated[
    str | None,
    AfterValidator(_optional(_euros_or_zero)),
    Field(
        default=None, description="Euros as a decimal string; null: no bound.", examples=["1000.00"]
    ),
]
Days = Annotated[int | None, Field(default=None, ge=-36500, le=36500)]


def _cents(value: str | None) -> int | None:
    return None if value is None else parse_euros(value, allow_zero=True)


def _euros_out(cents: int | None) -> str | None:
    return None if cents is None else cents_to_decimal_string(cents)


class NamedStrategyOut(BaseModel):
    name: str
    version: int = Field(description="The version practices handed over now copy; 0: defaults.")
    strategy: StrategyModel


class NamedStrategyVersionOut(BaseModel):
    name: str
    version: int
    saved_at: datetime
    saved_by: SavedByOut
    current: bool
    strategy: StrategyModel


class SegmentRuleModel(RequestModel):
    """One rule; every condition left out (null or empty) holds for every practice. Ranges are
    [min, max): min included, max excluded."""

    name: Name
    strategy: Name = Field(description="The named strategy this rule chooses.")
    min_amount: OptionalEuros = None
    max_amount: OptionalEuros = None
    min_age_days: Days = Field(
        default=None, description="Days past the oldest due date at the hand-over, at least."
    )
    max_age_days: Days = Field(default=None, description="Days past the oldest due date, below.")
    debtor_kinds: list[str] = Field(default_factory=list, examples=[["consumer"]])
    regions: list[str] = Field(
        default_factory=list,
        description="Regions (lombardia, lazio, ...; domain/segments.py REGIONS). With "
        "provinces: the debtor lives in one of the regions or one of the provinces.",
    )
    provinces: list[str] = Field(default_factory=list, examples=[["MI", "RM"]])
    other_practices: bool | None = Field(
        default=None,
        description="true: the debtor (codice fiscale or partita IVA) already has a practice "
        "here, for any creditor; false: it has none; null: either.",
    )
    contacts: list[str] = Field(
        default_factory=list,
        description="Channels the hand-over must give, all of them: email, phone, pec.",
    )

    def to_domain(self) -> SegmentRule:
        return SegmentRule(
            name=self.name,
            strategy=self.strategy,
            min_amount_cents=_cents(self.min_amount),
            max_amount_cents=_cents(self.max_amount),
            min_age_days=self.min_age_days,
            max_age_days=self.max_age_days,
            debtor_kinds=tuple(self.debtor_kinds),
            regions=tuple(self.regions),
            provinces=tuple(p.strip().upper() for p in self.provinces),
            other_practices=self.other_practices,
            contacts=tuple(self.contacts),
        )

    @classmethod
    def from_domain(cls, rule: SegmentRule) -> SegmentRuleModel:
        return cls(
            name=rule.name,
            strategy=rule.strategy,
            min_amount=_euros_out(rule.min_amount_cents),
            max_amount=_euros_out(rule.max_amount_cents),
            min_age_days=rule.min_age_days,
            max_age_days=rule.max_age_days,
            debtor_kinds=list(rule.debtor_kinds),
            regions=list(rule.regions),
            provinces=list(rule.provinces),
            other_practices=rule.other_practices,
            contacts=list(rule.contacts),
        )


class SegmentsModel(RequestModel):
    """A creditor's segment rules, tried in order at each hand-over: the first that holds
    chooses the strategy; none holding, `default_strategy` does."""

    rules: list[SegmentRuleModel] = Field(default_factory=list, max_length=100)
    default_strategy: Name = "default"

    def to_domain(self) -> Segments:
        return Segments(
            rules=tuple(r.to_domain() for r in self.rules), default_strategy=self.default_strategy
        )


class SegmentsOut(SegmentsModel):
    version: int = Field(description="0: never saved (every practice runs `default`).")

    @classmethod
    def from_domain(cls, segments: Segments) -> SegmentsOut:
        return cls(
            rules=[SegmentRuleModel.from_domain(r) for r in segments.rules],
            default_strategy=segments.default_strategy,
            version=segments.version,
        )


class ArmModel(RequestModel):
    strategy: Name
    share: int = Field(description="Percent of the segment's practices, 1-99.", examples=[90])


class ExperimentCreate(RequestModel):
    """Champion and challengers in one segment, their shares summing to 100. Fixed once
    created; only its end can be set (POST .../end)."""

    segment: Name = Field(description='A rule\'s name, or "default" for the default.')
    champion: ArmModel
    challengers: list[ArmModel] = Field(min_length=1, max_length=9)
    start: date = Field(description="First day (Rome) it assigns practices.")
    end: date | None = Field(default=None, description="Last day (Rome); null: until ended.")


class ExperimentEnd(RequestModel):
    end: date = Field(description="Last day (Rome) it assigns practices; not before its start.")


class ArmOut(BaseModel):
    arm: str = Field(description='"champion" or "challenger-<n>".')
    strategy: str
    share: int


class ExperimentOut(BaseModel):
    id: str
    creditor_id: str
    segment: str
    arms: list[ArmOut]
    start: date
    end: date | None
    running: bool = Field(description="It assigns the practices handed over today (Rome).")
    created_at: datetime
    created_by: SavedByOut


# --- an experiment's results (api/services/lab_results.py) --------------------------------------


class IntervalOut(BaseModel):
    estimate: float
    low: float
    high: float


class ProportionOut(BaseModel):
    successes: int
    n: int
    rate: IntervalOut | None = Field(description="Wilson score interval; null when n is 0.")
    versus_champion: IntervalOut | None = Field(
        default=None,
        description="This arm minus the champion, Newcombe's hybrid score interval (challengers).",
    )


class LiquidationOut(BaseModel):
    days: int = Field(description="Days after the hand-over: 30, 60, 90 or 180.")
    practices: int = Field(description="The arm's practices handed over at least `days` ago.")
    placed: str = Field(description="Euros placed on those practices.")
    recovered: str = Field(description="Euros they paid by `days` days after their hand-over.")
    rate: IntervalOut | None = Field(description="recovered / placed, delta-method interval.")
    versus_champion: IntervalOut | None = None
    mature: bool = Field(description="The arm's oldest practice is `days` days old.")


class ArmResultsOut(BaseModel):
    arm: str
    strategy: str
    share: int
    practices: int
    placed: str
    recovered: str = Field(description="Euros paid to date.")
    liquidation: list[LiquidationOut]
    cure: ProportionOut = Field(description="Closed paid or settled.")
    median_days_to_first_payment: float | None
    median_days_to_close: float | None
    right_party_contact: ProportionOut
    promises_kept: ProportionOut = Field(description="Kept of the promises that came due.")
    plans_broken: ProportionOut = Field(description="Broken of the repayment plans started.")
    contacts: dict[str, int] = Field(description="letter, sms, email (PEC included), call.")
    cost: str = Field(description="Euros: the contacts by the agency's unit costs.")
    cost_per_euro: str | None = Field(description="Cost per euro recovered to date.")
    needed: int | None = Field(description="Practices the arm needs for the chosen effect.")
    still_needed: int | None


class ExperimentResultsOut(BaseModel):
    experiment_id: str
    segment: str
    as_of: date = Field(description="The day (Rome) the figures were read.")
    effect_points: int = Field(description="The cure-rate difference to detect, in points.")
    alpha: float
    power: float
    baseline_cure_rate: float = Field(description="The champion's, 0.5 when it has none yet.")
    too_early: list[str] = Field(
        description='Why it is too early to read: "sample_size", "days_<n>"; empty: readable.'
    )
    unit_costs: dict[str, int] = Field(description="Cents per contact, by kind.")
    arms: list[ArmResultsOut]


class PromoteIn(RequestModel):
    arm: str = Field(description='The challenger to promote, e.g. "challenger-1".', max_length=20)


class PromotedOut(BaseModel):
    experiment: ExperimentOut
    segments_version: int = Field(description="The segment rules' new version.")


class ContactCostsModel(RequestModel):
    """What one contact costs the agency, in cents (integer, 0 or more)."""

    letter: int = Field(ge=0, le=100_000_00, examples=[250])
    sms: int = Field(ge=0, le=100_000_00, examples=[8])
    email: int = Field(ge=0, le=100_000_00, examples=[1])
    call: int = Field(ge=0, le=100_000_00, examples=[150])
