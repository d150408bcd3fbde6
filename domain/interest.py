"""Simple (never compound) interest on unpaid principal, day by day, across rate periods.

Conventions, used everywhere in the product:

- Days: interest runs from the day after the due date up to and including the given day; a
  payment made on day D stops interest on what it pays from D + 1 (D itself still accrues).
- Day count: actual/actual by civil year. Each day accrues principal x rate / days-in-its-year,
  where days-in-its-year is 365, or 366 in a leap year. A whole year at r% therefore yields
  exactly r% in any year. (Rates are "in ragione d'anno", per civil year.)
- Which rate: business debtors at the D.Lgs. 231/2002 rate from the first day. Consumers at
  the legal rate (art. 1284 c.c.), and at the 231/2002 rate from the day a court claim is
  filed, that day included (art. 1284 comma 4).
- Interest accrues on principal only: never on interest (art. 1283 c.c.) nor on costs.
- Rounding: a segment is a run of days of one invoice with one rate period, one principal and
  one year length; segments also end at each payment date (the interest must be known in cents
  to allocate a payment). Each segment's amount is computed in Decimal as
  principal_cents x rate x days / (100 x year_days) and rounded half-up to the cent once.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from domain.practice import DebtorKind, Invoice
from domain.rates import RateKind, RateTable

DAY_COUNT = "actual/actual (civil year: 365 days, 366 in leap years)"

# 50 digits is far more than the exact quotient needs to round correctly: its denominator is at
# most 100 x 366 x 10^k for a rate with k decimals, so it is never within 10^-40 of a half cent
# without being one.
_PRECISION = 50


@dataclass(frozen=True)
class InterestSegment:
    invoice_number: str
    start: date  # first day accrued
    end: date  # last day accrued (inclusive)
    days: int
    principal_cents: int
    rate_kind: RateKind
    rate: Decimal  # percent per year
    year_days: int  # 365 or 366
    source: str  # the act that set the rate
    amount_cents: int


def year_days(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def rate_kind_on(debtor_kind: DebtorKind, day: date, claim_filed_on: date | None) -> RateKind:
    if debtor_kind is DebtorKind.BUSINESS:
        return RateKind.LATE_PAYMENT_231
    if claim_filed_on is not None and day >= claim_filed_on:
        return RateKind.LATE_PAYMENT_231
    return RateKind.LEGAL


def segment_amount_cents(principal_cents: int, rate: Decimal, days: int, days_in_year: int) -> int:
    """principal x rate% x days / days_in_year, in cents, rounded half-up once."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_HALF_UP
        exact = Decimal(principal_cents) * rate * days / (Decimal(100) * days_in_year)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def accrue(
    principal_cents: int,
    first_day: date,
    last_day: date,
    *,
    debtor_kind: DebtorKind,
    claim_filed_on: date | None,
    rates: RateTable,
    invoice_number: str = "",
) -> list[InterestSegment]:
    """Interest on a constant principal for every day from `first_day` to `last_day` inclusive.

    No segments when the principal is zero (no rate is looked up) or the range is empty.
    Raises RateUnknown for a day with principal outstanding and no rate known."""
    if principal_cents < 0:
        raise ValueError("principal must not be negative")
    if principal_cents == 0 or last_day < first_day:
        return []
    debtor_kind = DebtorKind(debtor_kind)
    segments: list[InterestSegment] = []
    day = first_day
    while True:
        kind = rate_kind_on(debtor_kind, day, claim_filed_on)
        period = rates.period_on(kind, day)
        end = min(last_day, date(day.year, 12, 31))
        if period.end is not None:
            end = min(end, period.end)
        if kind is RateKind.LEGAL and claim_filed_on is not None:
            end = min(end, claim_filed_on - timedelta(days=1))
        days = (end - day).days + 1
        in_year = year_days(day.year)
        segments.append(
            InterestSegment(
                invoice_number=invoice_number,
                start=day,
                end=end,
                days=days,
                principal_cents=principal_cents,
                rate_kind=kind,
                rate=period.rate,
                year_days=in_year,
                source=period.source,
                amount_cents=segment_amount_cents(principal_cents, period.rate, days, in_year),
            )
        )
        if end >= last_day:
            return segments
        day = end + timedelta(days=1)


def invoice_interest(
    invoice: Invoice,
    at: date,
    *,
    debtor_kind: DebtorKind,
    claim_filed_on: date | None,
    rates: RateTable,
) -> list[InterestSegment]:
    """Interest on an invoice nothing has been paid on, from the day after its due date to `at`."""
    if invoice.due_date >= at:
        return []
    return accrue(
        invoice.amount_cents,
        invoice.due_date + timedelta(days=1),
        at,
        debtor_kind=debtor_kind,
        claim_filed_on=claim_filed_on,
        rates=rates,
        invoice_number=invoice.number,
    )


def total_cents(segments: list[InterestSegment]) -> int:
    return sum(s.amount_cents for s in segments)
