"""domain.interest: simple interest per day across rate periods, worked out by hand.

Convention (domain.interest): days from the day after the due date to `at` inclusive; each day
at principal x rate / days-in-its-civil-year (365, 366 in leap years); one half-up rounding to
the cent per segment (one rate period, one principal, one year).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.interest import (
    DAY_COUNT,
    accrue,
    invoice_interest,
    rate_kind_on,
    segment_amount_cents,
    total_cents,
    year_days,
)
from domain.practice import DebtorKind, Invoice
from domain.rates import RateKind, RatePeriod, RateTable, RateUnknown, published_rates

BUSINESS = DebtorKind.BUSINESS
CONSUMER = DebtorKind.CONSUMER
RATES = published_rates()
# every day from here to LAST_KNOWN has both a legal and a 231/2002 rate shipped
FIRST_KNOWN = date(2019, 1, 1)
LAST_KNOWN = date(2026, 6, 30)


def invoice(amount_cents: int, due: date, number: str = "1") -> Invoice:
    return Invoice(
        number=number, issue_date=due - timedelta(days=30), due_date=due, amount_cents=amount_cents
    )


def segments_of(
    amount_cents: int,
    due: date,
    at: date,
    kind: DebtorKind = BUSINESS,
    claim_filed_on: date | None = None,
) -> list[tuple[date, date, int, str, int, int]]:
    found = invoice_interest(
        invoice(amount_cents, due), at, debtor_kind=kind, claim_filed_on=claim_filed_on, rates=RATES
    )
    return [(s.start, s.end, s.days, str(s.rate), s.year_days, s.amount_cents) for s in found]


def test_day_count_is_documented() -> None:
    assert "366" in DAY_COUNT
    assert year_days(2023) == 365
    assert year_days(2024) == 366
    assert year_days(2100) == 365


CASES = [
    pytest.param(
        # 1,000.00 EUR at 10.15% (H2 2025) for 31 days (1-31 July 2025), 2025 has 365 days:
        # 1000 x 0.1015 x 31/365 = 8.620547... -> 8.62
        100000,
        date(2025, 6, 30),
        date(2025, 7, 31),
        BUSINESS,
        None,
        [(date(2025, 7, 1), date(2025, 7, 31), 31, "10.15", 365, 862)],
        id="business-one-period",
    ),
    pytest.param(
        # crossing the 231 half-year change of 1 July 2023 (10.50% -> 12.00%):
        # 1-30 June: 1000 x 0.105 x 30/365 = 8.630137 -> 8.63
        # 1-31 July: 1000 x 0.12 x 31/365 = 10.191781 -> 10.19          total 18.82
        100000,
        date(2023, 5, 31),
        date(2023, 7, 31),
        BUSINESS,
        None,
        [
            (date(2023, 6, 1), date(2023, 6, 30), 30, "10.50", 365, 863),
            (date(2023, 7, 1), date(2023, 7, 31), 31, "12.00", 365, 1019),
        ],
        id="business-half-year-change",
    ),
    pytest.param(
        # consumer, 5,000.00 EUR due 31 March 2025, claim filed 15 May 2025 (art. 1284 c. 4):
        # 1 April - 14 May, 44 days at the legal 2%: 5000 x 0.02 x 44/365 = 12.054794 -> 12.05
        # 15-31 May, 17 days at 11.15% (231, H1 2025): 5000 x 0.1115 x 17/365 = 25.965753
        #   -> 25.97                                                     total 38.02
        500000,
        date(2025, 3, 31),
        date(2025, 5, 31),
        CONSUMER,
        date(2025, 5, 15),
        [
            (date(2025, 4, 1), date(2025, 5, 14), 44, "2", 365, 1205),
            (date(2025, 5, 15), date(2025, 5, 31), 17, "11.15", 365, 2597),
        ],
        id="consumer-switches-on-filing",
    ),
    pytest.param(
        # consumer with the claim filed after `at`: legal rate throughout.
        # 1,000.00 at 5% (2023) for 1-31 March: 1000 x 0.05 x 31/365 = 4.246575 -> 4.25
        100000,
        date(2023, 2, 28),
        date(2023, 3, 31),
        CONSUMER,
        date(2023, 4, 1),
        [(date(2023, 3, 1), date(2023, 3, 31), 31, "5", 365, 425)],
        id="consumer-filed-later",
    ),
    pytest.param(
        # consumer, claim filed on the first day of interest: 231 from that day.
        # 1,000.00 at 10.15% for 1-10 July 2025: 1000 x 0.1015 x 10/365 = 2.780821 -> 2.78
        100000,
        date(2025, 6, 30),
        date(2025, 7, 10),
        CONSUMER,
        date(2025, 7, 1),
        [(date(2025, 7, 1), date(2025, 7, 10), 10, "10.15", 365, 278)],
        id="consumer-filed-before-due",
    ),
    pytest.param(
        # leap year: 10,000.00 at 12.50% (H1 2024) for 1 January - 30 June 2024,
        # 31+29+31+30+31+30 = 182 days, 2024 has 366 days:
        # 10000 x 0.125 x 182/366 = 621.584699 -> 621.58  (actual/365 would give 623.29)
        1000000,
        date(2023, 12, 31),
        date(2024, 6, 30),
        BUSINESS,
        None,
        [(date(2024, 1, 1), date(2024, 6, 30), 182, "12.50", 366, 62158)],
        id="leap-year-half",
    ),
    pytest.param(
        # a whole leap year at the legal rate yields exactly the rate:
        # 1,000.00 at 2.5% for 366 days /366 = 25.00
        100000,
        date(2023, 12, 31),
        date(2024, 12, 31),
        CONSUMER,
        None,
        [(date(2024, 1, 1), date(2024, 12, 31), 366, "2.5", 366, 2500)],
        id="leap-year-whole",
    ),
    pytest.param(
        # across a year end (2023: 365 days, 2024: 366) at the legal rate:
        # 2,000.00, 1-31 Dec 2023 at 5%: 2000 x 0.05 x 31/365 = 8.493150 -> 8.49
        #           1-31 Jan 2024 at 2.5%: 2000 x 0.025 x 31/366 = 4.234972 -> 4.23
        200000,
        date(2023, 11, 30),
        date(2024, 1, 31),
        CONSUMER,
        None,
        [
            (date(2023, 12, 1), date(2023, 12, 31), 31, "5", 365, 849),
            (date(2024, 1, 1), date(2024, 1, 31), 31, "2.5", 366, 423),
        ],
        id="year-end",
    ),
    pytest.param(
        # an exact amount: 2,281.25 EUR at 8% (2019) for 1 day:
        # 228125 cents x 8 x 1 / 36500 = 50 cents exactly -> 0.50
        228125,
        date(2019, 3, 31),
        date(2019, 4, 1),
        BUSINESS,
        None,
        [(date(2019, 4, 1), date(2019, 4, 1), 1, "8.00", 365, 50)],
        id="exact-cents",
    ),
    pytest.param(
        # rounds down: 456.31 EUR at 8% for 1 day: 45631 x 8 / 36500 = 10.0013 cents -> 0.10
        45631,
        date(2019, 3, 31),
        date(2019, 4, 1),
        BUSINESS,
        None,
        [(date(2019, 4, 1), date(2019, 4, 1), 1, "8.00", 365, 10)],
        id="rounds-down",
    ),
    pytest.param(
        # nothing accrues on the due date itself
        100000,
        date(2025, 6, 30),
        date(2025, 6, 30),
        BUSINESS,
        None,
        [],
        id="at-due-date",
    ),
    pytest.param(
        100000,
        date(2025, 6, 30),
        date(2025, 1, 1),
        BUSINESS,
        None,
        [],
        id="before-due-date",
    ),
]


@pytest.mark.parametrize(("amount", "due", "at", "kind", "filed", "expected"), CASES)
def test_interest_by_hand(
    amount: int,
    due: date,
    at: date,
    kind: DebtorKind,
    filed: date | None,
    expected: list[tuple[date, date, int, str, int, int]],
) -> None:
    assert segments_of(amount, due, at, kind, filed) == expected


def test_half_up_rounding_of_a_half_cent() -> None:
    # 0.25 EUR at 10% for 73 days of 365: 25 x 10 x 73 / 36500 = 0.5 cent -> 1 (half-up)
    assert segment_amount_cents(25, Decimal("10"), 73, 365) == 1
    # 0.25 EUR at 9.99% for 73 days: 25 x 9.99 x 73 / 36500 = 0.4995 cent -> 0
    assert segment_amount_cents(25, Decimal("9.99"), 73, 365) == 0
    # 0.05 EUR at 50% for a year: 2.5 cents -> 3 (half-up, where banker's rounding gives 2)
    assert segment_amount_cents(5, Decimal("50"), 365, 365) == 3


def test_segment_keeps_its_source() -> None:
    (segment,) = invoice_interest(
        invoice(100000, date(2023, 6, 30)),
        date(2023, 7, 31),
        debtor_kind=BUSINESS,
        claim_filed_on=None,
        rates=RATES,
    )
    assert segment.rate_kind is RateKind.LATE_PAYMENT_231
    assert "GU n. 165 del 17-07-2023" in segment.source
    assert segment.invoice_number == "1"
    assert segment.principal_cents == 100000


def test_rate_kind_by_debtor() -> None:
    filed = date(2025, 5, 15)
    assert rate_kind_on(BUSINESS, date(2025, 1, 1), None) is RateKind.LATE_PAYMENT_231
    assert rate_kind_on(BUSINESS, date(2025, 1, 1), filed) is RateKind.LATE_PAYMENT_231
    assert rate_kind_on(CONSUMER, date(2025, 5, 14), filed) is RateKind.LEGAL
    assert rate_kind_on(CONSUMER, date(2025, 5, 15), filed) is RateKind.LATE_PAYMENT_231
    assert rate_kind_on(CONSUMER, date(2030, 1, 1), None) is RateKind.LEGAL


def test_rate_gap_raises_rate_unknown() -> None:
    # the 231 rate for the second half of 2026 is not shipped
    with pytest.raises(RateUnknown, match="2026-07-01"):
        invoice_interest(
            invoice(100000, date(2026, 6, 1)),
            date(2026, 7, 15),
            debtor_kind=BUSINESS,
            claim_filed_on=None,
            rates=RATES,
        )
    # a hole inside a custom table
    table = RateTable(
        [
            RatePeriod(RateKind.LEGAL, date(2024, 1, 1), date(2024, 1, 31), Decimal("2"), "a"),
            RatePeriod(RateKind.LEGAL, date(2024, 3, 1), None, Decimal("2"), "b"),
        ]
    )
    with pytest.raises(RateUnknown, match="2024-02-01"):
        accrue(
            100000,
            date(2024, 1, 15),
            date(2024, 3, 15),
            debtor_kind=CONSUMER,
            claim_filed_on=None,
            rates=table,
        )


def test_zero_principal_looks_up_no_rate() -> None:
    assert (
        accrue(
            0,
            date(1990, 1, 1),
            date(2099, 12, 31),
            debtor_kind=BUSINESS,
            claim_filed_on=None,
            rates=RateTable(),
        )
        == []
    )


def test_negative_principal_is_refused() -> None:
    with pytest.raises(ValueError):
        accrue(
            -1,
            date(2024, 1, 1),
            date(2024, 1, 2),
            debtor_kind=BUSINESS,
            claim_filed_on=None,
            rates=RATES,
        )


days_known = st.dates(min_value=FIRST_KNOWN, max_value=LAST_KNOWN)


@given(
    amount=st.integers(min_value=0, max_value=10**11),
    due=days_known,
    at1=days_known,
    at2=days_known,
    kind=st.sampled_from(list(DebtorKind)),
    filed=st.none() | days_known,
)
def test_interest_is_monotonic_in_the_date(
    amount: int, due: date, at1: date, at2: date, kind: DebtorKind, filed: date | None
) -> None:
    early, late = sorted((at1, at2))

    def total(at: date) -> int:
        inv = invoice(amount, due)
        segs = invoice_interest(inv, at, debtor_kind=kind, claim_filed_on=filed, rates=RATES)
        return total_cents(segs)

    assert 0 <= total(early) <= total(late)


@given(
    due=days_known,
    at=days_known,
    kind=st.sampled_from(list(DebtorKind)),
    filed=st.none() | days_known,
)
def test_zero_principal_accrues_zero(
    due: date, at: date, kind: DebtorKind, filed: date | None
) -> None:
    assert (
        invoice_interest(invoice(0, due), at, debtor_kind=kind, claim_filed_on=filed, rates=RATES)
        == []
    )


@given(
    amount=st.integers(min_value=1, max_value=10**11),
    first=days_known,
    last=days_known,
    kind=st.sampled_from(list(DebtorKind)),
    filed=st.none() | days_known,
)
def test_segments_tile_the_days_and_bound_the_amount(
    amount: int, first: date, last: date, kind: DebtorKind, filed: date | None
) -> None:
    segs = accrue(amount, first, last, debtor_kind=kind, claim_filed_on=filed, rates=RATES)
    if last < first:
        assert segs == []
        return
    assert segs[0].start == first
    assert segs[-1].end == last
    for before, after in zip(segs, segs[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
    assert sum(s.days for s in segs) == (last - first).days + 1
    for s in segs:
        assert s.start.year == s.end.year
        assert s.rate_kind is rate_kind_on(kind, s.start, filed)
        assert s.rate_kind is rate_kind_on(kind, s.end, filed)
        # within half a cent of the exact amount
        exact = Decimal(amount) * s.rate * s.days / (100 * s.year_days)
        assert abs(Decimal(s.amount_cents) - exact) <= Decimal("0.5")
