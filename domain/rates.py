"""Interest rate periods as data, and a table that answers "which rate on this day".

A `RatePeriod` is one published rate for a run of days (both ends inclusive; `end=None` means
open-ended). A `RateTable` holds periods per kind, refuses overlapping periods (`RateOverlap`)
and raises `RateUnknown` for a day no period covers: an unknown rate is never a silent zero.

`published_rates()` builds a fresh table from `domain.rate_history` (pure data, no I/O), so
workflows can call it deterministically.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.rate_history import (
    LATE_PAYMENT_MARGIN,
    LATE_PAYMENT_REFERENCE_ROWS,
    LEGAL_RATE_ROWS,
)


class RateKind(StrEnum):
    LEGAL = "legal"  # art. 1284 c.c., yearly by MEF decree
    LATE_PAYMENT_231 = "late_payment_231"  # D.Lgs. 231/2002 art. 5: ECB MRO + 8 points, half-yearly


class RateError(ValueError):
    pass


class RateUnknown(RateError):
    """No period of that kind covers the day: add the published rate to the table."""


class RateOverlap(RateError):
    """A period added to a table overlaps one already there for the same kind."""


@dataclass(frozen=True)
class RatePeriod:
    kind: RateKind
    start: date
    end: date | None  # inclusive; None: open-ended
    rate: Decimal  # percent per year, e.g. Decimal("10.15")
    source: str

    def __post_init__(self) -> None:
        # accept the kind's plain string ("legal") as well as the enum
        object.__setattr__(self, "kind", RateKind(self.kind))
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite():
            raise RateError("a rate must be a finite Decimal percentage, never a float")
        if self.rate < 0:
            raise RateError(f"rate {self.rate}% is negative")
        if self.end is not None and self.end < self.start:
            raise RateError(f"period ends ({self.end}) before it starts ({self.start})")

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: RatePeriod) -> bool:
        if self.kind != other.kind:
            return False
        starts_before_other_ends = other.end is None or self.start <= other.end
        ends_after_other_starts = self.end is None or other.start <= self.end
        return starts_before_other_ends and ends_after_other_starts


def _describe(kind: RateKind) -> str:
    if kind is RateKind.LEGAL:
        return "legal rate (art. 1284 c.c.)"
    return "late-payment rate (D.Lgs. 231/2002)"


class RateTable:
    """Rate periods per kind, sorted by start, never overlapping."""

    def __init__(self, periods: Iterable[RatePeriod] = ()) -> None:
        self._periods: dict[RateKind, list[RatePeriod]] = {kind: [] for kind in RateKind}
        for period in periods:
            self.add(period)

    def add(self, period: RatePeriod) -> None:
        existing = self._periods[period.kind]
        for other in existing:
            if period.overlaps(other):
                raise RateOverlap(
                    f"{_describe(period.kind)} period {period.start}..{period.end or 'open'} "
                    f"overlaps {other.start}..{other.end or 'open'} ({other.source})"
                )
        starts = [p.start for p in existing]
        existing.insert(bisect.bisect(starts, period.start), period)

    def periods(self, kind: RateKind) -> list[RatePeriod]:
        return list(self._periods[RateKind(kind)])

    def period_on(self, kind: RateKind, day: date) -> RatePeriod:
        kind = RateKind(kind)
        periods = self._periods[kind]
        index = bisect.bisect_right([p.start for p in periods], day) - 1
        if index >= 0 and periods[index].covers(day):
            return periods[index]
        raise RateUnknown(
            f"no {_describe(kind)} is known for {day.isoformat()}: "
            "add the published rate for that period to the rate table"
        )

    def rate_on(self, kind: RateKind, day: date) -> Decimal:
        return self.period_on(kind, day).rate

    def periods_between(self, kind: RateKind, start: date, end: date) -> list[RatePeriod]:
        """The periods covering every day from `start` to `end` (inclusive), in order.

        Raises RateUnknown if any day in the range is covered by no period."""
        if end < start:
            raise ValueError(f"range ends ({end}) before it starts ({start})")
        found: list[RatePeriod] = []
        day = start
        while True:
            period = self.period_on(kind, day)
            found.append(period)
            if period.end is None or period.end >= end:
                return found
            day = period.end + timedelta(days=1)

    def last_day_covered(self, kind: RateKind) -> date | None:
        """The last day of the latest period of `kind` (None: no periods, or open-ended)."""
        periods = self._periods[RateKind(kind)]
        return periods[-1].end if periods else None


@dataclass(frozen=True)
class MissingPeriod:
    """A period of `kind` that has begun (its first day is on or before the day asked about) and
    that no known rate covers, in whole or in part: the act that sets it is published, or due,
    and nobody has added it yet. `start`..`end` is the act's whole period."""

    kind: RateKind
    start: date
    end: date

    @property
    def how_to_add(self) -> str:
        return how_to_add_rate(self.kind, self.start, self.end)


def how_to_add_rate(kind: RateKind, start: date, end: date) -> str:
    """The request an admin makes to add a rate, for messages that name a missing one."""
    what = (
        "the legal rate (MEF decree)"
        if kind is RateKind.LEGAL
        else ("the late-payment rate: the ECB reference rate the MEF notice gives + 8 points")
    )
    return (
        f'POST /rates {{"kind": "{kind.value}", "start": "{start.isoformat()}", '
        f'"end": "{end.isoformat()}", "rate": "<percent>", "source": "<the act in the Gazzetta '
        f'Ufficiale: number and date>"}} with {what}'
    )


def _act_periods(kind: RateKind, year: int) -> list[tuple[date, date]]:
    # art. 1284 c.c.: one legal rate per calendar year; D.Lgs. 231/2002 art. 5: one per half-year
    if kind is RateKind.LEGAL:
        return [(date(year, 1, 1), date(year, 12, 31))]
    return [(date(year, 1, 1), date(year, 6, 30)), (date(year, 7, 1), date(year, 12, 31))]


def act_period_of(kind: RateKind, day: date) -> tuple[date, date]:
    """The period of the act (yearly decree or half-yearly notice) that sets `kind` for `day`."""
    return next((start, end) for start, end in _act_periods(kind, day.year) if start <= day <= end)


def missing_periods(table: RateTable, today: date) -> list[MissingPeriod]:
    """The act periods, from the first one the table knows of each kind through the one holding
    `today`, that the table does not cover on every day up to `today`. A statement needing a day
    of one of them is refused (RateUnknown) until the admin adds the rate."""
    missing: list[MissingPeriod] = []
    for kind in RateKind:
        periods = table.periods(kind)
        if not periods:
            continue
        for year in range(periods[0].start.year, today.year + 1):
            for start, end in _act_periods(kind, year):
                if start > today or end < periods[0].start:
                    continue
                try:
                    table.periods_between(kind, start, min(end, today))
                except RateUnknown:
                    missing.append(MissingPeriod(kind, start, end))
    return missing


def _published_periods() -> tuple[RatePeriod, ...]:
    legal = [
        RatePeriod(RateKind.LEGAL, start, end, rate, source)
        for start, end, rate, source in LEGAL_RATE_ROWS
    ]
    late = [
        RatePeriod(
            RateKind.LATE_PAYMENT_231,
            start,
            end,
            reference + LATE_PAYMENT_MARGIN,
            f"D.Lgs. 231/2002 art. 5: reference {reference}% + {LATE_PAYMENT_MARGIN} points; "
            f"{source}",
        )
        for start, end, reference, source in LATE_PAYMENT_REFERENCE_ROWS
    ]
    return tuple(legal + late)


PUBLISHED_PERIODS: tuple[RatePeriod, ...] = _published_periods()


def published_rates() -> RateTable:
    """A new table with the shipped rates (a fresh one each call: tables are mutable)."""
    return RateTable(PUBLISHED_PERIODS)
