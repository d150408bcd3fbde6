"""An experiment's results by arm, the contacts' unit costs they are priced with, and the
promotion of a challenger: GET /creditors/{id}/experiments/{eid}/results (JSON and CSV), the
console's experiment page and the creditor's reports read `experiment_results`; PUT
/settings/contact-costs and the console's settings form call `save_unit_costs`; POST
.../promote and the console's button call `promote_challenger`.

The figures, per arm (the practices the experiment gave that arm at hand-over):
- placed: the practices' invoices (a later reduction of the claim does not shrink it), as the
  reports' cohorts count it (api/services/reports.py);
- liquidation rate at 30, 60, 90 and 180 days: what the debtors paid by the day `paid_on` of
  their payments, up to that many days after the hand-over's day (Rome), over the amount
  placed, counting only the practices handed over at least that many days ago (a practice
  of last week says nothing about 90 days);
- cure rate: the practices closed paid or settled (saldo e stralcio), over all of them;
- days to first payment and to close: medians over the practices that paid / closed;
- right-party contact: the practices where a call or a visit reached the debtor (an outcome
  other than no answer, wrong number, nobody found or moved);
- promises kept: kept over the promises that came due (kept or broken); plans broken: the
  repayment plans broken over the plans that started;
- contacts: letters (post), SMS, e-mails (PEC included: its cost is an e-mail's, not a
  registered letter's) sent or written for a person to send, and calls (each call the contact
  rules granted, answered or not: both took an operator's time); cost: each kind by the
  agency's unit cost, per euro recovered to date.

Everything is counted by the database (GROUP BY over the experiment's practices, by the
index on practices.experiment_id); only the payments' days and the practices' hand-over and
closing moments come back one row per practice (or per practice and day), since a median and
a day counted from each practice's own hand-over need them: a few thousand rows for an
experiment of a few thousand practices, never the practices' personal data.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from sqlalchemy import BigInteger, ColumnElement, case, cast, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from api.errors import conflict, invalid
from api.schemas import rome_today
from api.schemas_lab import (
    ArmResultsOut,
    ExperimentResultsOut,
    IntervalOut,
    LiquidationOut,
    ProportionOut,
    SegmentsModel,
    SegmentsOut,
)
from api.services import lab
from db.models import (
    ContactLog,
    ContactUnitCost,
    Creditor,
    Delivery,
    Event,
    ExperimentRow,
    InvoiceRow,
    Practice,
    utcnow,
)
from domain.calendar import rome_date
from domain.experiments import CHAMPION, Experiment, arm_label
from domain.lab_statistics import (
    ALPHA,
    POWER,
    Interval,
    RatioSums,
    newcombe_difference,
    ratio_difference,
    ratio_interval,
    sample_size,
    wilson,
)
from domain.money import cents_to_decimal_string
from domain.practice import CallOutcome, Outcome, VisitOutcome
from domain.segments import DEFAULT_RULE

HORIZONS = (30, 60, 90, 180)
CONTACT_KINDS = ("letter", "sms", "email", "call")
# the deliveries' channels as the kinds priced
_CHANNEL_KIND = {"post": "letter", "sms": "sms", "email": "email", "pec": "email"}
# a delivery counts once sent, or written to the outbox for a person to send (no provider):
# pending ones may still fail, failed ones cost nothing
_COUNTED_DELIVERIES = ("sent", "outbox")
_REACHED_CALL = tuple(
    o.value for o in CallOutcome if o not in (CallOutcome.NO_ANSWER, CallOutcome.WRONG_NUMBER)
)
_REACHED_VISIT = tuple(
    o.value for o in VisitOutcome if o not in (VisitOutcome.NOT_FOUND, VisitOutcome.MOVED)
)
_CURED = (Outcome.PAID.value, Outcome.SETTLED.value)
DEFAULT_EFFECT_POINTS = 5
COST_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Proportion:
    """successes out of n, with the Wilson interval and, for a challenger, the difference from
    the champion (Newcombe's hybrid score interval)."""

    successes: int
    n: int
    interval: Interval | None
    versus_champion: Interval | None = None


@dataclass(frozen=True, slots=True)
class Liquidation:
    days: int
    practices: int  # handed over at least `days` days ago
    placed_cents: int
    recovered_cents: int
    rate: Interval | None  # delta method
    versus_champion: Interval | None = None
    mature: bool = False  # the arm's oldest practice is `days` days old


@dataclass(frozen=True, slots=True)
class ArmResults:
    arm: str
    strategy: str
    share: int
    practices: int
    placed_cents: int
    recovered_cents: int
    liquidation: tuple[Liquidation, ...]
    cure: Proportion
    median_days_to_first_payment: float | None
    median_days_to_close: float | None
    right_party_contact: Proportion
    promises_kept: Proportion
    plans_broken: Proportion
    contacts: dict[str, int]
    cost_cents: int
    # contacts' cost / amount recovered to date (euros per euro); None: nothing recovered
    cost_per_euro: Decimal | None
    needed: int | None  # practices the arm needs for the chosen effect
    still_needed: int | None


@dataclass(frozen=True, slots=True)
class ExperimentResults:
    experiment: Experiment
    as_of: date
    effect_points: int
    alpha: float
    power: float
    baseline_cure_rate: float
    arms: tuple[ArmResults, ...]
    unit_costs: dict[str, int]
    # why it is too early to read: "sample_size" (an arm below its needed size), "days_<n>"
    # (the oldest practice not yet n days past its hand-over); empty: it can be read
    too_early: tuple[str, ...] = field(default=())


# --- the contacts' unit costs -------------------------------------------------------------------


async def unit_costs(session: AsyncSession) -> dict[str, int]:
    """Every kind's cost in cents; 0 for a kind the admin has not set."""
    found = {kind: 0 for kind in CONTACT_KINDS}
    for kind, cents in await session.execute(select(ContactUnitCost.kind, ContactUnitCost.cents)):
        if kind in found:
            found[kind] = int(cents)
    return found


async def save_unit_costs(
    session: AsyncSession, costs: dict[str, int], principal: Principal
) -> dict[str, int]:
    """Sets the kinds given (cents, 0 or more; 422 naming the kind otherwise), committed.
    Saving the same figures again changes nothing but the time and who saved them."""
    for kind, cents in costs.items():
        if kind not in CONTACT_KINDS:
            raise invalid(["body", kind], f"not a kind of contact: {', '.join(CONTACT_KINDS)}")
        if cents < 0:
            raise invalid(["body", kind], "must be 0 or more cents")
    rows = {
        row.kind: row
        for row in await session.scalars(
            select(ContactUnitCost).where(ContactUnitCost.kind.in_(list(costs)))
        )
    }
    for kind, cents in costs.items():
        row = rows.get(kind)
        if row is None:
            row = ContactUnitCost(kind=kind, cents=cents)
            session.add(row)
        row.cents = cents
        row.updated_at = utcnow()
        row.updated_by_id = principal.id
        row.updated_by_role = principal.role.value
    await session.commit()
    return await unit_costs(session)


# --- the figures --------------------------------------------------------------------------------


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _proportion(successes: int, n: int, champion: Proportion | None, alpha: float) -> Proportion:
    versus = None
    if champion is not None:
        versus = newcombe_difference(successes, n, champion.successes, champion.n, alpha)
    return Proportion(successes, n, wilson(successes, n, alpha), versus)


def _cost_per_euro(cost_cents: int, recovered_cents: int) -> Decimal | None:
    if recovered_cents <= 0:
        return None
    ratio = Decimal(cost_cents) / Decimal(recovered_cents)
    return ratio.quantize(COST_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class _Practice:
    arm: str
    handed_over: date
    closed_on: date | None
    outcome: str | None
    placed: int
    payments: list[tuple[date, int]] = field(default_factory=list)


async def _practices(session: AsyncSession, experiment_id: str) -> dict[str, _Practice]:
    # the invoices by their practice's index, one practice at a time (a correlated sum, as the
    # reports' cohorts: a grouped subquery joined back was materialised and scanned, 2 s for
    # 20,000 practices on SQLite)
    placed = (
        select(func.coalesce(func.sum(InvoiceRow.amount_cents), 0))
        .where(InvoiceRow.practice_id == Practice.id)
        .correlate(Practice)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Practice.id,
            Practice.experiment_arm,
            Practice.created_at,
            Practice.closed_at,
            Practice.outcome,
            placed,
        ).where(Practice.experiment_id == experiment_id)
    )
    found = {
        pid: _Practice(
            arm=arm or CHAMPION,
            handed_over=rome_date(created),
            closed_on=rome_date(closed) if closed is not None else None,
            outcome=outcome,
            placed=int(cents),
        )
        for pid, arm, created, closed, outcome, cents in rows
    }
    paid_on = Event.data["paid_on"].as_string()
    amount = cast(Event.data["amount_cents"].as_string(), BigInteger)
    payments = await session.execute(
        select(Event.practice_id, paid_on, func.sum(amount))
        .join(Practice, Practice.id == Event.practice_id)
        .where(Practice.experiment_id == experiment_id, Event.kind == "payment")
        .group_by(Event.practice_id, paid_on)
    )
    for pid, day, cents in payments:
        if pid in found and day:
            found[pid].payments.append((date.fromisoformat(day), int(cents or 0)))
    return found


@dataclass
class _Counts:
    right_party: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    plans_started: int = 0
    plans_broken: int = 0
    contacts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONTACT_KINDS, 0))


async def _counts(session: AsyncSession, experiment_id: str) -> dict[str, _Counts]:
    """The events' and contacts' counts by arm, each one GROUP BY."""
    counts: dict[str, _Counts] = defaultdict(_Counts)
    arm = func.coalesce(Practice.experiment_arm, CHAMPION)
    outcome = Event.data["outcome"].as_string()
    reached = ((Event.kind == "call_outcome") & outcome.in_(_REACHED_CALL)) | (
        (Event.kind == "visit_outcome") & outcome.in_(_REACHED_VISIT)
    )
    plan_started = (Event.kind == "deal_started") & Event.summary.like("Repayment plan%")
    events = await session.execute(
        select(
            arm,
            func.count(distinct(case((reached, Event.practice_id), else_=None))),
            _count(Event.kind == "promise_kept"),
            _count(Event.kind == "promise_broken"),
            _count(plan_started),
            _count(Event.kind == "plan_broken"),
        )
        .select_from(Event)
        .join(Practice, Practice.id == Event.practice_id)
        .where(
            Practice.experiment_id == experiment_id,
            Event.kind.in_(
                (
                    "call_outcome",
                    "visit_outcome",
                    "promise_kept",
                    "promise_broken",
                    "deal_started",
                    "plan_broken",
                )
            ),
        )
        .group_by(arm)
    )
    for name, right_party, kept, broken, started, plans_broken in events:
        c = counts[name]
        c.right_party, c.promises_kept, c.promises_broken = int(right_party), int(kept), int(broken)
        c.plans_started, c.plans_broken = int(started), int(plans_broken)
    deliveries = await session.execute(
        select(arm, Delivery.channel, func.count())
        .select_from(Delivery)
        .join(Practice, Practice.id == Delivery.practice_id)
        .where(
            Practice.experiment_id == experiment_id,
            Delivery.status.in_(_COUNTED_DELIVERIES),
            Delivery.channel.in_(list(_CHANNEL_KIND)),
        )
        .group_by(arm, Delivery.channel)
    )
    for name, channel, n in deliveries:
        counts[name].contacts[_CHANNEL_KIND[channel]] += int(n)
    calls = await session.execute(
        select(arm, func.count())
        .select_from(ContactLog)
        .join(Practice, Practice.id == ContactLog.practice_id)
        .where(Practice.experiment_id == experiment_id, ContactLog.channel == "call")
        .group_by(arm)
    )
    for name, n in calls:
        counts[name].contacts["call"] += int(n)
    return counts


def _horizon_pairs(practices: list[_Practice], today: date) -> dict[int, list[tuple[int, int]]]:
    """For each horizon, (placed, recovered within that many days of the hand-over's day) of
    the practices handed over at least that many days before `today`. One pass, in day
    numbers: this runs over every practice of the experiment."""
    pairs: dict[int, list[tuple[int, int]]] = {days: [] for days in HORIZONS}
    today_number = today.toordinal()
    for p in practices:
        start = p.handed_over.toordinal()
        age = today_number - start
        if age < HORIZONS[0]:
            continue
        offsets = [(day.toordinal() - start, cents) for day, cents in p.payments]
        for days in HORIZONS:
            if age >= days:
                pairs[days].append((p.placed, sum(c for k, c in offsets if k <= days)))
    return pairs


def _liquidation(
    practices: list[_Practice], pairs: list[tuple[int, int]], days: int, today: date, alpha: float
) -> tuple[Liquidation, RatioSums]:
    sums = RatioSums.of(pairs)
    oldest = min((p.handed_over for p in practices), default=None)
    return (
        Liquidation(
            days=days,
            practices=sums.n,
            placed_cents=sums.sum_x,
            recovered_cents=sums.sum_y,
            rate=ratio_interval(sums, alpha),
            mature=oldest is not None and oldest + timedelta(days=days) <= today,
        ),
        sums,
    )


def _needed(
    experiment: Experiment, baseline: float, effect: float, alpha: float, power: float
) -> list[int | None]:
    """Each arm's needed practices: every challenger against the champion at their shares'
    ratio; the champion needs the most any comparison asks of it."""
    target = baseline + effect if baseline + effect < 1 else baseline - effect
    if not 0 < target < 1:
        return [None for _ in experiment.arms]
    champion = experiment.champion.share
    needed: list[int | None] = [0]
    for arm in experiment.arms[1:]:
        n1, n2 = sample_size(baseline, target, arm.share / champion, alpha, power)
        needed[0] = max(needed[0] or 0, n1)
        needed.append(n2)
    return needed


async def experiment_results(
    session: AsyncSession,
    creditor: Creditor,
    experiment_id: str,
    *,
    effect_points: int = DEFAULT_EFFECT_POINTS,
    alpha: float = ALPHA,
    power: float = POWER,
    today: date | None = None,
) -> ExperimentResults:
    """The experiment's figures by arm (404: not the creditor's experiment; 422 naming the
    parameter: an effect outside 1..50 points, alpha or power outside (0, 1))."""
    if not 1 <= effect_points <= 50:
        raise invalid(["query", "effect"], "must be from 1 to 50 percentage points")
    if not 0 < alpha < 0.5:
        raise invalid(["query", "alpha"], "must be above 0 and below 0.5")
    if not 0.5 <= power < 1:
        raise invalid(["query", "power"], "must be from 0.5 and below 1")
    row = await lab.experiment_for(session, creditor, experiment_id)
    experiment = lab.experiment_of(row)
    today = today or rome_today()
    practices = await _practices(session, experiment.id)
    counts = await _counts(session, experiment.id)
    costs = await unit_costs(session)
    by_arm: dict[str, list[_Practice]] = defaultdict(list)
    for p in practices.values():
        by_arm[p.arm].append(p)

    labels = [arm_label(experiment, arm) for arm in experiment.arms]
    champion_practices = by_arm.get(CHAMPION, [])
    cured_champion = sum(1 for p in champion_practices if p.outcome in _CURED)
    baseline = cured_champion / len(champion_practices) if champion_practices else 0.0
    # no champion figure yet, or one at 0 or 1: the sample size is read at 50 %, the most
    # practices any baseline needs
    if not 0 < baseline < 1:
        baseline = 0.5
    needed = _needed(experiment, baseline, effect_points / 100, alpha, power)

    arms: list[ArmResults] = []
    champion_sums: dict[int, RatioSums] = {}
    first: dict[str, Proportion] = {}
    for index, (arm, label) in enumerate(zip(experiment.arms, labels, strict=True)):
        group = by_arm.get(label, [])
        c = counts.get(label, _Counts())
        base = first if index else None

        def prop(
            key: str, successes: int, n: int, base: dict[str, Proportion] | None = base
        ) -> Proportion:
            result = _proportion(successes, n, base[key] if base else None, alpha)
            if base is None:
                first[key] = result
            return result

        liquidation = []
        pairs = _horizon_pairs(group, today)
        for days in HORIZONS:
            figures, sums = _liquidation(group, pairs[days], days, today, alpha)
            if index == 0:
                champion_sums[days] = sums
            else:
                figures = replace(
                    figures, versus_champion=ratio_difference(sums, champion_sums[days], alpha)
                )
            liquidation.append(figures)
        recovered = sum(cents for p in group for _, cents in p.payments)
        first_payment = [
            (min(day for day, _ in p.payments) - p.handed_over).days for p in group if p.payments
        ]
        closing = [(p.closed_on - p.handed_over).days for p in group if p.closed_on is not None]
        cost = sum(c.contacts[kind] * costs[kind] for kind in CONTACT_KINDS)
        arm_needed = needed[index]
        arms.append(
            ArmResults(
                arm=label,
                strategy=arm.strategy,
                share=arm.share,
                practices=len(group),
                placed_cents=sum(p.placed for p in group),
                recovered_cents=recovered,
                liquidation=tuple(liquidation),
                cure=prop("cure", sum(1 for p in group if p.outcome in _CURED), len(group)),
                median_days_to_first_payment=float(median(first_payment))
                if first_payment
                else None,
                median_days_to_close=float(median(closing)) if closing else None,
                right_party_contact=prop("right_party", c.right_party, len(group)),
                promises_kept=prop(
                    "promises", c.promises_kept, c.promises_kept + c.promises_broken
                ),
                plans_broken=prop("plans", min(c.plans_broken, c.plans_started), c.plans_started),
                contacts=dict(c.contacts),
                cost_cents=cost,
                cost_per_euro=_cost_per_euro(cost, recovered),
                needed=arm_needed,
                still_needed=None if arm_needed is None else max(0, arm_needed - len(group)),
            )
        )
    early: list[str] = []
    if any(a.still_needed for a in arms):
        early.append("sample_size")
    oldest = min((p.handed_over for p in practices.values()), default=None)
    for days in HORIZONS:
        if oldest is None or oldest + timedelta(days=days) > today:
            early.append(f"days_{days}")
    return ExperimentResults(
        experiment=experiment,
        as_of=today,
        effect_points=effect_points,
        alpha=alpha,
        power=power,
        baseline_cure_rate=baseline,
        arms=tuple(arms),
        unit_costs=costs,
        too_early=tuple(early),
    )


async def creditor_experiments_results(
    session: AsyncSession, creditor: Creditor
) -> list[ExperimentResults]:
    """Every experiment of the creditor that has practices, newest first (the reports page)."""
    rows = await lab.list_experiments(session, creditor)
    with_practices = set(
        await session.scalars(
            select(Practice.experiment_id)
            .where(Practice.creditor_id == creditor.id, Practice.experiment_id.is_not(None))
            .distinct()
        )
    )
    return [
        await experiment_results(session, creditor, row.id)
        for row in reversed(rows)
        if row.id in with_practices
    ]


# --- promotion ----------------------------------------------------------------------------------


async def promote_challenger(
    session: AsyncSession,
    creditor: Creditor,
    experiment_id: str,
    arm: str,
    principal: Principal,
) -> tuple[ExperimentRow, int]:
    """The challenger becomes the segment's strategy for the practices handed over from now
    on: a new version of the segment rules where the experiment's segment (its rule, or the
    default when the segment is "default") names the challenger's strategy, and the
    experiment ends yesterday, so that today's hand-overs already get the promoted strategy.
    Practices in flight keep the strategy they were handed over with (each copied its own at
    hand-over). An experiment already ended keeps its end. 422 on `arm`: not one of the
    experiment's challengers; 409: the experiment started today or later (nothing assigned to
    compare yet), or its segment is no longer in the rules. Returns the experiment and the new
    segments' version."""
    row = await lab.experiment_for(session, creditor, experiment_id)
    experiment = lab.experiment_of(row)
    labels = {arm_label(experiment, a): a for a in experiment.arms}
    chosen = labels.get(arm)
    if chosen is None or arm == CHAMPION:
        raise invalid(["body", "arm"], "not a challenger of this experiment")
    today = rome_today()
    yesterday = today - timedelta(days=1)
    if row.starts_on > yesterday:
        raise conflict("the experiment has not assigned a full day yet: nothing to promote from")
    segments = await lab.current_segments(session, creditor)
    rules = SegmentsOut.from_domain(segments).rules
    if experiment.segment != DEFAULT_RULE and all(r.name != experiment.segment for r in rules):
        raise conflict(f"the segment {experiment.segment!r} is no longer in the rules")
    body = SegmentsModel(
        rules=[
            r.model_copy(update={"strategy": chosen.strategy})
            if r.name == experiment.segment
            else r
            for r in rules
        ],
        default_strategy=chosen.strategy
        if experiment.segment == DEFAULT_RULE
        else segments.default_strategy,
    )
    if row.ends_on is None or row.ends_on > yesterday:
        # still running: it ends yesterday, in the transaction that saves the rules
        # (save_segments commits both), so today's hand-overs already get the promoted one
        row.ends_on = yesterday
    try:
        saved = await lab.save_segments(session, creditor, body, principal)
    except BaseException:
        await session.rollback()
        raise
    await session.refresh(row)
    return row, saved.version


# --- the API's shapes (JSON and CSV) ------------------------------------------------------------


def _interval_out(interval: Interval | None) -> IntervalOut | None:
    if interval is None:
        return None
    return IntervalOut(estimate=interval.estimate, low=interval.low, high=interval.high)


def _proportion_out(p: Proportion) -> ProportionOut:
    return ProportionOut(
        successes=p.successes,
        n=p.n,
        rate=_interval_out(p.interval),
        versus_champion=_interval_out(p.versus_champion),
    )


def results_out(results: ExperimentResults) -> ExperimentResultsOut:
    return ExperimentResultsOut(
        experiment_id=results.experiment.id,
        segment=results.experiment.segment,
        as_of=results.as_of,
        effect_points=results.effect_points,
        alpha=results.alpha,
        power=results.power,
        baseline_cure_rate=results.baseline_cure_rate,
        too_early=list(results.too_early),
        unit_costs=results.unit_costs,
        arms=[
            ArmResultsOut(
                arm=a.arm,
                strategy=a.strategy,
                share=a.share,
                practices=a.practices,
                placed=cents_to_decimal_string(a.placed_cents),
                recovered=cents_to_decimal_string(a.recovered_cents),
                liquidation=[
                    LiquidationOut(
                        days=h.days,
                        practices=h.practices,
                        placed=cents_to_decimal_string(h.placed_cents),
                        recovered=cents_to_decimal_string(h.recovered_cents),
                        rate=_interval_out(h.rate),
                        versus_champion=_interval_out(h.versus_champion),
                        mature=h.mature,
                    )
                    for h in a.liquidation
                ],
                cure=_proportion_out(a.cure),
                median_days_to_first_payment=a.median_days_to_first_payment,
                median_days_to_close=a.median_days_to_close,
                right_party_contact=_proportion_out(a.right_party_contact),
                promises_kept=_proportion_out(a.promises_kept),
                plans_broken=_proportion_out(a.plans_broken),
                contacts=a.contacts,
                cost=cents_to_decimal_string(a.cost_cents),
                cost_per_euro=None if a.cost_per_euro is None else str(a.cost_per_euro),
                needed=a.needed,
                still_needed=a.still_needed,
            )
            for a in results.arms
        ],
    )


def _rate(interval: Interval | None) -> list[str]:
    if interval is None:
        return ["", "", ""]
    return [f"{v:.4f}" for v in (interval.estimate, interval.low, interval.high)]


CSV_COLUMNS: list[str] = [
    "arm",
    "strategy",
    "share",
    "practices",
    "placed",
    "recovered",
    *(f"liquidation_{d}_{part}" for d in HORIZONS for part in ("practices", "rate", "low", "high")),
    *(f"{m}_{part}" for m in ("cure", "right_party_contact") for part in ("rate", "low", "high")),
    "median_days_to_first_payment",
    "median_days_to_close",
    "promises_kept",
    "promises_due",
    "plans_broken",
    "plans_started",
    *(f"contacts_{kind}" for kind in CONTACT_KINDS),
    "cost",
    "cost_per_euro",
    "needed",
    "still_needed",
]


def results_rows(results: ExperimentResults) -> list[list[str]]:
    """One row per arm, CSV_COLUMNS' order; amounts in euros, rates as ratios (4 decimals),
    an empty cell where nothing can be computed."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    rows = []
    for a in results.arms:
        row = [a.arm, a.strategy, str(a.share), str(a.practices)]
        row += [cents_to_decimal_string(a.placed_cents), cents_to_decimal_string(a.recovered_cents)]
        for h in a.liquidation:
            row += [str(h.practices), *_rate(h.rate)]
        row += _rate(a.cure.interval) + _rate(a.right_party_contact.interval)
        row += [text(a.median_days_to_first_payment), text(a.median_days_to_close)]
        row += [str(a.promises_kept.successes), str(a.promises_kept.n)]
        row += [str(a.plans_broken.successes), str(a.plans_broken.n)]
        row += [str(a.contacts[kind]) for kind in CONTACT_KINDS]
        row += [cents_to_decimal_string(a.cost_cents), text(a.cost_per_euro)]
        row += [text(a.needed), text(a.still_needed)]
        rows.append(row)
    return rows


def results_csv(results: ExperimentResults) -> str:
    """The CSV the API and the console's download give: CSV_COLUMNS, then one row per arm."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(results_rows(results))
    return out.getvalue()
