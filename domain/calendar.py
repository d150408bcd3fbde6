"""Local time for deadlines and contact windows: Europe/Rome, whatever the server's zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def rome_date(moment: datetime) -> date:
    return moment.astimezone(ROME).date()


def at_rome(day: date, clock: time = time(0, 0)) -> datetime:
    """The aware instant of `clock` on `day` in Rome (DST handled by zoneinfo)."""
    return datetime.combine(day, clock, tzinfo=ROME)


def end_of_rome_day(day: date) -> datetime:
    """Midnight at the end of `day` in Rome: a term 'by day X' runs out then."""
    return at_rome(day + timedelta(days=1))
