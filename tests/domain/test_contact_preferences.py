"""The debtor's preferred time of day: it chooses a moment inside the contact rules, never
outside them (domain.contact_rules.preferred_slot)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import ROME
from domain.contact_rules import (
    PREFERENCE_HORIZON_DAYS,
    PREFERRED_WINDOWS,
    conversation_allowed,
    in_preferred_window,
    may_contact,
    next_conversation_slot,
    next_window_start,
    preferred_hours,
    preferred_slot,
)


def rome(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=ROME)


# Monday 2026-11-23 .. Saturday 2026-11-28; Tuesday 2026-12-08 is a public holiday
@pytest.mark.parametrize(
    ("at", "window", "expected"),
    [
        (rome("2026-11-23", "10:00"), "morning", rome("2026-11-23", "10:00")),
        (rome("2026-11-23", "10:00"), "evening", rome("2026-11-23", "18:00")),
        (rome("2026-11-23", "07:00"), "morning", rome("2026-11-23", "08:30")),
        (rome("2026-11-23", "13:00"), "morning", rome("2026-11-24", "08:30")),
        (rome("2026-11-23", "20:59"), "evening", rome("2026-11-23", "20:59")),
        (rome("2026-11-23", "21:00"), "evening", rome("2026-11-24", "18:00")),
        # Saturday closes at 15:00: no evening, and Sunday is closed
        (rome("2026-11-28", "09:00"), "evening", rome("2026-11-30", "18:00")),
        (rome("2026-11-28", "09:00"), "afternoon", rome("2026-11-28", "13:00")),
        (rome("2026-12-07", "19:00"), "morning", rome("2026-12-09", "08:30")),
    ],
)
def test_the_preferred_slot_of_a_message(at: datetime, window: str, expected: datetime) -> None:
    assert preferred_slot(at, window) == expected


def test_a_conversation_skips_the_days_the_limits_close() -> None:
    monday = rome("2026-11-23", "09:00")
    # Tuesday taken; then Wednesday and Thursday make three in the week
    taken = [rome("2026-11-24", "10:00")]
    assert preferred_slot(rome("2026-11-24", "08:00"), "evening", taken) == rome(
        "2026-11-25", "18:00"
    )
    full = [monday, rome("2026-11-24", "10:00"), rome("2026-11-25", "10:00")]
    assert preferred_slot(rome("2026-11-25", "12:00"), "morning", full) == rome(
        "2026-11-30", "08:30"
    )


def test_saturday_has_no_evening() -> None:
    assert preferred_hours(date(2026, 11, 28), "evening") is None
    assert preferred_hours(date(2026, 11, 29), "morning") is None  # Sunday


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 1), timezones=st.just(UTC)
)
earlier = st.lists(
    st.integers(min_value=-7 * 24 * 60, max_value=14 * 24 * 60), max_size=6
)  # minutes around the moment asked about


@given(moments, st.sampled_from(sorted(PREFERRED_WINDOWS)))
def test_a_message_slot_is_always_inside_the_rules(at: datetime, window: str) -> None:
    slot = preferred_slot(at, window)
    assert slot >= at and may_contact(slot)
    assert slot >= next_window_start(at)
    if slot - at < timedelta(days=PREFERENCE_HORIZON_DAYS - 1):
        assert in_preferred_window(slot, window)


@given(moments, st.sampled_from(sorted(PREFERRED_WINDOWS)), earlier)
def test_a_conversation_slot_is_always_allowed(
    at: datetime, window: str, offsets: list[int]
) -> None:
    previous = [at + timedelta(minutes=m) for m in offsets]
    slot = preferred_slot(at, window, previous)
    assert slot >= at and conversation_allowed(previous, slot)
    assert slot >= next_conversation_slot(previous, at)
    if in_preferred_window(slot, window) is False:
        # only past the horizon does the preference give way to the rules' own slot
        assert slot == next_conversation_slot(previous, at)
