"""The seats of the Italian ordinary tribunals and the patron saint's day of each (court_seats.csv,
whose header says why and where the days come from).

A term ending on the patron saint's day of the court's seat is extended there (art. 155 c. 4
c.p.c., a local holiday); `domain.court_calendar.compute_deadline` takes the days as
`extra_holidays`. Read once, when the module is imported; pure afterwards, so workflows may use it.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

__all__ = ["SEATS", "CourtSeat", "find_seat", "normalize_court", "patron_days"]

_DATA = Path(__file__).with_name("court_seats.csv")


@dataclass(frozen=True, slots=True)
class CourtSeat:
    tribunal: str  # "Milano": the Tribunale di Milano
    town: str
    province: str
    patron_month_day: tuple[int, int] | None  # None: not verified, no extension applied
    saint: str

    def patron_day(self, year: int) -> date | None:
        if self.patron_month_day is None:
            return None
        month, day = self.patron_month_day
        return date(year, month, day)

    def describe(self) -> str:
        if self.patron_month_day is None:
            return f"Tribunale di {self.tribunal}: patron saint's day not in the data, check it"
        month, day = self.patron_month_day
        return (
            f"Tribunale di {self.tribunal}: patron saint's day {day:02d}/{month:02d} ({self.saint})"
        )


def normalize_court(name: str) -> str:
    """The key a court is looked up by: "Tribunale di Forlì", "forli" and "FORLÌ" are one."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = " ".join(text.replace("'", " ").replace("-", " ").split())
    for prefix in ("tribunale ordinario di ", "tribunale di ", "tribunale "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def _load() -> MappingProxyType[str, CourtSeat]:
    lines = [line for line in _DATA.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    seats: dict[str, CourtSeat] = {}
    for row in csv.DictReader(lines):
        raw = row["patron_day"].strip()
        month_day = None
        if raw:
            month, day = (int(part) for part in raw.split("-"))
            date(2000, month, day)  # a leap year: any real day of the year parses
            month_day = (month, day)
        seat = CourtSeat(
            row["tribunal"], row["town"], row["province"], month_day, row["saint"].strip()
        )
        key = normalize_court(seat.tribunal)
        if key in seats:
            raise ValueError(f"court_seats.csv: {seat.tribunal} twice")
        seats[key] = seat
    return MappingProxyType(seats)


SEATS = _load()


def find_seat(name: str) -> CourtSeat | None:
    return SEATS.get(normalize_court(name)) if name.strip() else None


def patron_days(court: str, first_year: int, last_year: int) -> frozenset[date]:
    """The patron saint's days of the seat of `court` in the years given (empty: court unknown,
    or its day not verified)."""
    seat = find_seat(court)
    if seat is None:
        return frozenset()
    days = (seat.patron_day(year) for year in range(first_year, last_year + 1))
    return frozenset(day for day in days if day is not None)
