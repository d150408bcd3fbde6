"""The strategy lab's figures over a set of practices' results: the simulator's (issue 15), and
any other list of `PracticeResult`s. Pure; money in cents, rates as Decimal.

- liquidation rate at d days: euros recovered within d days of the hand-over / euros claimed;
- cure rate: practices whose claim was paid in full (within the horizon) / practices;
- days to first payment: the median over the practices that paid something;
- contacts, and the agency's cost (cents and operator minutes, at its unit costs) per euro
  recovered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median

LIQUIDATION_DAYS = (30, 60, 90, 180)
CONTACT_KINDS = ("letter", "email", "reminder", "call", "visit")


@dataclass(frozen=True)
class Payment:
    paid_on: date
    amount_cents: int


@dataclass
class PracticeResult:
    handed_over: date
    claim_cents: int
    payments: list[Payment] = field(default_factory=list)
    contacts: dict[str, int] = field(default_factory=dict)  # kind (CONTACT_KINDS) -> count
    outcome: str | None = None  # the practice's outcome when it closed


@dataclass(frozen=True)
class Costs:
    """Unit costs by contact kind: cents and operator minutes."""

    cents: dict[str, int]
    minutes: dict[str, int]


@dataclass(frozen=True)
class Kpis:
    practices: int
    claimed_cents: int
    recovered_cents: int
    liquidation: dict[int, Decimal]  # days -> share of the claimed euros recovered by then
    cure_rate: Decimal
    median_days_to_first_payment: Decimal | None
    contacts: dict[str, int]
    cost_cents: int
    cost_minutes: int
    cost_per_euro_recovered: Decimal | None  # euros of cost per euro recovered
    outcomes: dict[str, int]


def _ratio(part: int, whole: int, places: str = "0.0001") -> Decimal:
    if whole == 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_EVEN)


def kpis(results: list[PracticeResult], costs: Costs) -> Kpis:
    claimed = sum(r.claim_cents for r in results)
    recovered = sum(p.amount_cents for r in results for p in r.payments)
    liquidation = {
        days: _ratio(
            sum(
                p.amount_cents
                for r in results
                for p in r.payments
                if (p.paid_on - r.handed_over).days <= days
            ),
            claimed,
        )
        for days in LIQUIDATION_DAYS
    }
    cured = sum(1 for r in results if sum(p.amount_cents for p in r.payments) >= r.claim_cents)
    firsts = [
        min((p.paid_on - r.handed_over).days for p in r.payments) for r in results if r.payments
    ]
    contacts = {kind: sum(r.contacts.get(kind, 0) for r in results) for kind in CONTACT_KINDS}
    cost_cents = sum(n * costs.cents.get(kind, 0) for kind, n in contacts.items())
    cost_minutes = sum(n * costs.minutes.get(kind, 0) for kind, n in contacts.items())
    outcomes: dict[str, int] = {}
    for r in results:
        key = r.outcome or "open"
        outcomes[key] = outcomes.get(key, 0) + 1
    return Kpis(
        practices=len(results),
        claimed_cents=claimed,
        recovered_cents=recovered,
        liquidation=liquidation,
        cure_rate=_ratio(cured, len(results)),
        median_days_to_first_payment=(
            Decimal(str(median(firsts))).quantize(Decimal("0.1")) if firsts else None
        ),
        contacts=contacts,
        cost_cents=cost_cents,
        cost_minutes=cost_minutes,
        cost_per_euro_recovered=_ratio(cost_cents, recovered) if recovered else None,
        outcomes=dict(sorted(outcomes.items())),
    )
