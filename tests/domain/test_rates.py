"""domain.rates: rate periods, the table's lookups and refusals, and the shipped history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.rates import (
    PUBLISHED_PERIODS,
    RateError,
    RateKind,
    RateOverlap,
    RatePeriod,
    RateTable,
    RateUnknown,
    published_rates,
)

LEGAL = RateKind.LEGAL
LATE = RateKind.LATE_PAYMENT_231


def period(kind: RateKind, start: date, end: date | None, rate: str) -> RatePeriod:
    return RatePeriod(kind, start, end, Decimal(rate), "test")


@pytest.mark.parametrize(
    ("kind", "day", "rate"),
    [
        (LEGAL, date(2019, 1, 1), "0.8"),
        (LEGAL, date(2020, 6, 15), "0.05"),
        (LEGAL, date(2021, 12, 31), "0.01"),
        (LEGAL, date(2022, 1, 1), "1.25"),
        (LEGAL, date(2023, 7, 1), "5"),
        (LEGAL, date(2024, 2, 29), "2.5"),
        (LEGAL, date(2025, 12, 31), "2"),
        (LEGAL, date(2026, 12, 31), "1.6"),
        (LATE, date(2019, 1, 1), "8.00"),
        (LATE, date(2022, 12, 31), "8.00"),
        (LATE, date(2023, 1, 1), "10.50"),
        (LATE, date(2023, 6, 30), "10.50"),
        (LATE, date(2023, 7, 1), "12.00"),  # ECB MRO 4.00% on 1 July 2023 (4.25% from 2 August)
        (LATE, date(2024, 1, 1), "12.50"),
        (LATE, date(2024, 7, 1), "12.25"),
        (LATE, date(2025, 1, 1), "11.15"),
        (LATE, date(2025, 7, 1), "10.15"),
        (LATE, date(2026, 6, 30), "10.15"),
    ],
)
def test_published_rate_on(kind: RateKind, day: date, rate: str) -> None:
    assert published_rates().rate_on(kind, day) == Decimal(rate)


def test_published_history_is_contiguous_from_2019() -> None:
    rates = published_rates()
    legal = rates.periods_between(LEGAL, date(2019, 1, 1), date(2026, 12, 31))
    late = rates.periods_between(LATE, date(2019, 1, 1), date(2026, 6, 30))
    assert len(legal) == 8  # one per year
    assert len(late) == 15  # one per half-year
    assert all(p.source for p in PUBLISHED_PERIODS)


def test_published_rates_are_a_fresh_table_each_time() -> None:
    mine = published_rates()
    mine.add(period(LATE, date(2026, 7, 1), date(2026, 12, 31), "9.99"))
    with pytest.raises(RateUnknown):
        published_rates().rate_on(LATE, date(2026, 7, 1))


@pytest.mark.parametrize(
    ("kind", "day"),
    [
        (LEGAL, date(2018, 12, 31)),  # before the shipped history
        (LATE, date(2018, 12, 31)),
        (LEGAL, date(2027, 1, 1)),  # the 2027 decree is not shipped
        (LATE, date(2026, 7, 1)),  # the second half of 2026 is not shipped
    ],
)
def test_unknown_days_raise_rather_than_return_zero(kind: RateKind, day: date) -> None:
    with pytest.raises(RateUnknown, match=day.isoformat()):
        published_rates().rate_on(kind, day)


def test_a_gap_between_periods_raises() -> None:
    table = RateTable(
        [
            period(LEGAL, date(2024, 1, 1), date(2024, 3, 31), "2"),
            period(LEGAL, date(2024, 5, 1), None, "3"),
        ]
    )
    assert table.rate_on(LEGAL, date(2024, 3, 31)) == Decimal("2")
    assert table.rate_on(LEGAL, date(2030, 1, 1)) == Decimal("3")  # open-ended
    with pytest.raises(RateUnknown):
        table.rate_on(LEGAL, date(2024, 4, 15))
    with pytest.raises(RateUnknown):
        table.periods_between(LEGAL, date(2024, 3, 1), date(2024, 5, 15))
    with pytest.raises(RateUnknown):  # the other kind has no periods at all
        table.rate_on(LATE, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 6, 30), date(2024, 12, 31)),  # shares the last day
        (date(2023, 1, 1), date(2024, 1, 1)),  # shares the first day
        (date(2024, 2, 1), date(2024, 2, 2)),  # inside
        (date(2023, 1, 1), None),  # open-ended over it
    ],
)
def test_overlapping_period_is_refused(start: date, end: date | None) -> None:
    table = RateTable([period(LATE, date(2024, 1, 1), date(2024, 6, 30), "12.50")])
    with pytest.raises(RateOverlap):
        table.add(period(LATE, start, end, "1"))
    assert len(table.periods(LATE)) == 1
    # the same days for the other kind are fine
    table.add(period(LEGAL, start, end, "1"))


def test_open_ended_period_refuses_any_later_one() -> None:
    table = RateTable([period(LEGAL, date(2024, 1, 1), None, "2.5")])
    with pytest.raises(RateOverlap):
        table.add(period(LEGAL, date(2030, 1, 1), date(2030, 12, 31), "1"))


def test_published_history_refuses_a_second_2025() -> None:
    with pytest.raises(RateOverlap):
        published_rates().add(period(LEGAL, date(2025, 1, 1), date(2025, 12, 31), "2"))


def test_periods_are_kept_in_order_whatever_the_adding_order() -> None:
    table = RateTable()
    table.add(period(LEGAL, date(2025, 1, 1), date(2025, 12, 31), "2"))
    table.add(period(LEGAL, date(2023, 1, 1), date(2023, 12, 31), "5"))
    table.add(period(LEGAL, date(2024, 1, 1), date(2024, 12, 31), "2.5"))
    assert [p.rate for p in table.periods_between(LEGAL, date(2023, 6, 1), date(2025, 1, 1))] == [
        Decimal("5"),
        Decimal("2.5"),
        Decimal("2"),
    ]
    assert table.last_day_covered(LEGAL) == date(2025, 12, 31)


def test_kind_accepts_its_string_value() -> None:
    p = RatePeriod("legal", date(2024, 1, 1), None, Decimal("2.5"), "test")  # type: ignore[arg-type]
    assert p.kind is RateKind.LEGAL
    assert RateTable([p]).rate_on(RateKind("legal"), date(2024, 5, 5)) == Decimal("2.5")


@pytest.mark.parametrize(
    "bad",
    [
        lambda: RatePeriod(LEGAL, date(2024, 1, 1), None, 2.5, "float"),  # type: ignore[arg-type]
        lambda: RatePeriod(LEGAL, date(2024, 1, 1), None, Decimal("-1"), "negative"),
        lambda: RatePeriod(LEGAL, date(2024, 1, 1), None, Decimal("NaN"), "nan"),
        lambda: RatePeriod(LEGAL, date(2024, 1, 2), date(2024, 1, 1), Decimal("1"), "backwards"),
        lambda: RatePeriod("euribor", date(2024, 1, 1), None, Decimal("1"), "kind"),  # type: ignore[arg-type]
    ],
)
def test_bad_periods_are_refused(bad: object) -> None:
    assert callable(bad)
    with pytest.raises(ValueError):
        bad()


def test_rate_errors_are_value_errors() -> None:
    assert issubclass(RateUnknown, RateError)
    assert issubclass(RateOverlap, RateError)
    assert issubclass(RateError, ValueError)


def test_missing_periods_names_each_begun_act_period_no_rate_covers() -> None:
    """Issue 11 point 14: a rate period begun and not known is listed, with how to add it."""
    from domain.rates import MissingPeriod, missing_periods

    table = published_rates()
    table.add(
        RatePeriod(
            RateKind.LATE_PAYMENT_231, date(2099, 1, 1), date(2099, 6, 30), Decimal("9"), "test"
        )
    )
    gaps = missing_periods(table, date(2099, 8, 1))
    assert MissingPeriod(RateKind.LEGAL, date(2099, 1, 1), date(2099, 12, 31)) in gaps
    assert MissingPeriod(RateKind.LATE_PAYMENT_231, date(2099, 7, 1), date(2099, 12, 31)) in gaps
    assert MissingPeriod(RateKind.LATE_PAYMENT_231, date(2099, 1, 1), date(2099, 6, 30)) not in gaps
    assert all(g.start <= date(2099, 8, 1) for g in gaps)  # none that has not begun
    assert gaps[-1].how_to_add.startswith('POST /rates {"kind": "late_payment_231"')
    # an open-ended period covers everything after it
    table.add(RatePeriod(RateKind.LEGAL, date(2027, 1, 1), None, Decimal("1"), "test"))
    assert all(g.kind is not RateKind.LEGAL for g in missing_periods(table, date(2099, 8, 1)))
