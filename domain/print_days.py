"""The print batch's days: the agency posts on working days (Monday to Friday, not a national
public holiday) and closes each day's batch at its cut-off time in Rome. A letter written after a
day's cut-off, or on a day off, goes to the next working day's batch."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from domain.calendar import at_rome, rome_date
from domain.court_calendar import is_court_holiday

# how far back a late closing looks for working days whose batch was never closed (a worker or
# server down over a long weekend): older letters stay in the outbox for a person
LOOKBACK_DAYS = 10


def parse_cutoff(value: str) -> time:
    """ "16:00" -> time(16, 0); a ValueError naming the setting otherwise."""
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(
            f"RECUPERO_PRINT_CUTOFF must be HH:MM (e.g. 16:00), not {value!r}"
        ) from None


def is_posting_day(day: date) -> bool:
    # Saturdays, Sundays and national holidays: the post office's counter is closed or the mail
    # house does not collect
    return not is_court_holiday(day, saturday_counts=True)


def previous_posting_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_posting_day(day):
        day -= timedelta(days=1)
    return day


def cutoff_at(day: date, cutoff: time) -> datetime:
    return at_rome(day, cutoff)


def batch_window(day: date, cutoff: time) -> tuple[datetime, datetime]:
    """The letters of `day`'s batch were written in [start, end): from the previous posting
    day's cut-off to this one's."""
    return cutoff_at(previous_posting_day(day), cutoff), cutoff_at(day, cutoff)


def days_due(now: datetime, cutoff: time, last_closed: date | None) -> list[date]:
    """The posting days whose cut-off has passed at `now` and whose batch is not closed, oldest
    first: those after `last_closed` within LOOKBACK_DAYS; only the latest one when no batch was
    ever closed (the letters before it were posted from the day's list, as before batches)."""
    day = rome_date(now)
    due: list[date] = []
    oldest = day - timedelta(days=LOOKBACK_DAYS)
    while day >= oldest and (last_closed is None or day > last_closed):
        if is_posting_day(day) and cutoff_at(day, cutoff) <= now:
            due.append(day)
            if last_closed is None:
                break
        day -= timedelta(days=1)
    return sorted(due)
