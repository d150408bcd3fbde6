"""domain.calendar: Europe/Rome dates and the end of a Rome day, across the DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import ROME, at_rome, end_of_rome_day, rome_date


@pytest.mark.parametrize(
    ("day", "utc_end"),
    [
        # winter time (UTC+1)
        (date(2026, 1, 15), datetime(2026, 1, 15, 23, 0, tzinfo=UTC)),
        # the day before the spring change ends at midnight CET
        (date(2026, 3, 28), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        # 2026-03-29 is 23 hours long and ends at midnight CEST
        (date(2026, 3, 29), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        # summer time (UTC+2)
        (date(2026, 7, 1), datetime(2026, 7, 1, 22, 0, tzinfo=UTC)),
        (date(2026, 10, 24), datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
        # 2026-10-25 is 25 hours long and ends at midnight CET
        (date(2026, 10, 25), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
        (date(2026, 12, 31), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_end_of_rome_day_is_local_midnight(day: date, utc_end: datetime) -> None:
    end = end_of_rome_day(day)
    assert end.utcoffset() is not None
    assert end == utc_end
    local = end.astimezone(ROME)
    assert local.date() == day + timedelta(days=1)
    assert local.time() == time(0, 0)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)],
)
def test_rome_day_lengths_across_dst(day: date, hours: int) -> None:
    start = end_of_rome_day(day - timedelta(days=1)).astimezone(UTC)
    end = end_of_rome_day(day).astimezone(UTC)
    assert end - start == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), date(2026, 11, 25)),
        (datetime(2026, 11, 24, 22, 59, tzinfo=UTC), date(2026, 11, 24)),
        (datetime(2026, 11, 24, 23, 0, tzinfo=UTC), date(2026, 11, 25)),
        (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), date(2026, 7, 1)),
        (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), date(2026, 7, 2)),
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), date(2026, 3, 30)),
        (datetime(2026, 10, 25, 22, 59, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), date(2026, 10, 26)),
    ],
)
def test_rome_date(moment: datetime, day: date) -> None:
    assert rome_date(moment) == day


def test_at_rome_keeps_the_local_clock() -> None:
    moment = at_rome(date(2026, 7, 1), time(9, 30))
    assert moment == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert at_rome(date(2026, 1, 15)) == datetime(2026, 1, 14, 23, 0, tzinfo=UTC)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_end_of_rome_day_property(day: date) -> None:
    end = end_of_rome_day(day)
    assert rome_date(end) == day + timedelta(days=1)
    assert rome_date(end - timedelta(microseconds=1)) == day
    start = end_of_rome_day(day - timedelta(days=1))
    length = end.astimezone(UTC) - start.astimezone(UTC)
    assert length in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    )
)
def test_every_instant_falls_before_the_end_of_its_rome_day(moment: datetime) -> None:
    end = end_of_rome_day(rome_date(moment))
    assert moment < end
    assert end - moment <= timedelta(hours=25)
