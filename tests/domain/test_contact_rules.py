"""domain.contact_rules: the UNIREC windows in Europe/Rome (holidays, DST) and the daily and
weekly conversation limits, with table tests and hypothesis properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import ROME, at_rome
from domain.contact_rules import (
    DAY_TAKEN,
    OUTSIDE_HOURS,
    WEEK_FULL,
    ContactRegime,
    ContactRulesError,
    check_conversation,
    check_message,
    conversation_allowed,
    debtor_key,
    is_contact_day,
    may_contact,
    next_conversation_slot,
    next_window_start,
    opening_hours,
    preferred_hours,
    spread_reminder,
    spread_slot,
    week_start,
    window_end,
    within_limits,
)


def rome(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=ROME)


# -- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "clock", "inside"),
    [
        # an ordinary week: Monday 2026-11-23 .. Sunday 2026-11-29
        ("2026-11-23", "08:29:59", False),
        ("2026-11-23", "08:29", False),
        ("2026-11-23", "08:30:00", True),
        ("2026-11-23", "12:00", True),
        ("2026-11-25", "20:59:59", True),
        ("2026-11-27", "20:59", True),  # Friday
        ("2026-11-27", "21:00:00", False),
        ("2026-11-27", "23:30", False),
        ("2026-11-28", "08:29", False),  # Saturday
        ("2026-11-28", "08:30", True),
        ("2026-11-28", "14:59", True),
        ("2026-11-28", "14:59:59", True),
        ("2026-11-28", "15:00:00", False),
        ("2026-11-28", "15:01", False),
        ("2026-11-28", "20:00", False),
        ("2026-11-29", "10:00", False),  # Sunday
        ("2026-11-29", "08:30", False),
        ("2026-11-24", "00:00", False),
        # national public holidays
        ("2027-03-29", "10:00", False),  # Easter Monday
        ("2026-04-06", "10:00", False),  # Easter Monday
        ("2026-05-01", "10:00", False),  # Labour Day, a Friday
        ("2027-05-01", "10:00", False),  # Labour Day, a Saturday
        ("2026-12-08", "10:00", False),  # Immaculate Conception, a Tuesday
        ("2026-12-26", "10:00", False),  # Saint Stephen, a Saturday
        ("2027-01-06", "10:00", False),  # Epiphany
        ("2026-06-02", "10:00", False),  # Republic Day
        ("2027-10-04", "10:00", False),  # Saint Francis, a holiday again from 2026
        ("2026-12-07", "10:00", True),  # Sant'Ambrogio is Milan's, not national
        ("2026-06-29", "10:00", True),  # Saints Peter and Paul is Rome's, not national
    ],
)
def test_windows(day: str, clock: str, inside: bool) -> None:
    at = rome(day, clock)
    assert may_contact(at) is inside
    # the same instant in another zone gives the same answer
    assert may_contact(at.astimezone(UTC)) is inside
    assert may_contact(at.astimezone(timezone(timedelta(hours=-5)))) is inside


@pytest.mark.parametrize(
    ("utc", "inside"),
    [
        # summer time (UTC+2): 08:30 in Rome is 06:30 UTC, 21:00 is 19:00 UTC
        (datetime(2026, 7, 1, 6, 29, tzinfo=UTC), False),
        (datetime(2026, 7, 1, 6, 30, tzinfo=UTC), True),
        (datetime(2026, 7, 1, 18, 59, tzinfo=UTC), True),
        (datetime(2026, 7, 1, 19, 0, tzinfo=UTC), False),
        # winter time (UTC+1): 07:30 and 20:00 UTC
        (datetime(2026, 11, 24, 7, 29, tzinfo=UTC), False),
        (datetime(2026, 11, 24, 7, 30, tzinfo=UTC), True),
        (datetime(2026, 11, 24, 19, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 24, 20, 0, tzinfo=UTC), False),
        # Saturday before the autumn change (CEST): 15:00 is 13:00 UTC
        (datetime(2026, 10, 24, 12, 59, tzinfo=UTC), True),
        (datetime(2026, 10, 24, 13, 0, tzinfo=UTC), False),
        # Monday after it (CET): 08:30 is 07:30 UTC
        (datetime(2026, 10, 26, 6, 30, tzinfo=UTC), False),
        (datetime(2026, 10, 26, 7, 30, tzinfo=UTC), True),
        # Saturday before the spring change (CET), Tuesday after it (CEST, Monday is Easter)
        (datetime(2027, 3, 27, 13, 59, tzinfo=UTC), True),
        (datetime(2027, 3, 27, 14, 0, tzinfo=UTC), False),
        (datetime(2027, 3, 30, 6, 29, tzinfo=UTC), False),
        (datetime(2027, 3, 30, 6, 30, tzinfo=UTC), True),
    ],
)
def test_windows_across_dst(utc: datetime, inside: bool) -> None:
    assert may_contact(utc) is inside


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # inside: the moment itself
        (rome("2026-11-23", "08:30"), rome("2026-11-23", "08:30")),
        (rome("2026-11-28", "14:59"), rome("2026-11-28", "14:59")),
        # before the opening: the same morning
        (rome("2026-11-24", "07:00"), rome("2026-11-24", "08:30")),
        (rome("2026-11-24", "00:00"), rome("2026-11-24", "08:30")),
        # Friday evening: Saturday morning
        (rome("2026-11-27", "21:00"), rome("2026-11-28", "08:30")),
        # Saturday afternoon and Sunday: Monday morning
        (rome("2026-11-28", "15:00"), rome("2026-11-30", "08:30")),
        (rome("2026-11-28", "15:01"), rome("2026-11-30", "08:30")),
        (rome("2026-11-29", "10:00"), rome("2026-11-30", "08:30")),
        # before Easter Monday 2027 (also the spring DST change): Saturday, then Tuesday
        (rome("2027-03-26", "21:00"), rome("2027-03-27", "08:30")),
        (rome("2027-03-27", "15:00"), rome("2027-03-30", "08:30")),
        (rome("2027-03-28", "02:30"), rome("2027-03-30", "08:30")),
        (rome("2027-03-29", "10:00"), rome("2027-03-30", "08:30")),
        # the autumn DST weekend: Saturday afternoon to Monday (CET)
        (rome("2026-10-24", "15:00"), rome("2026-10-26", "08:30")),
        # Christmas 2027: Friday evening, Saturday 25 and Sunday 26 closed, Monday 27 open
        (rome("2027-12-24", "21:00"), rome("2027-12-27", "08:30")),
        # Thursday 30 April 2026 evening: 1 May (Friday) closed, Saturday 2 May open
        (rome("2026-04-30", "21:00"), rome("2026-05-02", "08:30")),
        # Monday 7 December 2026 evening: 8 December closed, Wednesday open
        (rome("2026-12-07", "21:00"), rome("2026-12-09", "08:30")),
    ],
)
def test_next_window_start(at: datetime, expected: datetime) -> None:
    start = next_window_start(at)
    assert start == expected
    assert start.tzinfo is ROME
    assert start.utcoffset() == expected.utcoffset()


def test_next_window_start_from_saturday_afternoon_is_monday_in_winter_time() -> None:
    start = next_window_start(datetime(2026, 10, 24, 13, 1, tzinfo=UTC))  # Saturday 15:01 CEST
    assert start == datetime(2026, 10, 26, 7, 30, tzinfo=UTC)
    assert (start.hour, start.minute, start.utcoffset()) == (8, 30, timedelta(hours=1))


@pytest.mark.parametrize(
    ("at", "end"),
    [
        (rome("2026-11-23", "08:30"), rome("2026-11-23", "21:00")),
        (rome("2026-11-27", "20:59"), rome("2026-11-27", "21:00")),
        (rome("2026-11-28", "09:00"), rome("2026-11-28", "15:00")),
        # outside: the end of the next window
        (rome("2026-11-27", "21:00"), rome("2026-11-28", "15:00")),
        (rome("2026-11-28", "15:00"), rome("2026-11-30", "21:00")),
        (rome("2027-03-27", "16:00"), rome("2027-03-30", "21:00")),
    ],
)
def test_window_end(at: datetime, end: datetime) -> None:
    assert window_end(at) == end
    assert window_end(at).utcoffset() == end.utcoffset()


def test_opening_hours_and_contact_days() -> None:
    assert opening_hours(date(2026, 11, 28)) == (
        rome("2026-11-28", "08:30"),
        rome("2026-11-28", "15:00"),
    )
    assert opening_hours(date(2026, 11, 29)) is None
    assert opening_hours(date(2026, 12, 8)) is None
    assert is_contact_day(date(2026, 11, 28)) and not is_contact_day(date(2027, 3, 29))


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 24, 10, 0)
    for call in (may_contact, next_window_start, window_end):
        with pytest.raises(ContactRulesError):
            call(naive)
    with pytest.raises(ContactRulesError):
        conversation_allowed([naive], rome("2026-11-24", "10:00"))


# -- limits ------------------------------------------------------------------------------------

MON, TUE, WED, THU, FRI, SAT = (f"2026-11-{d}" for d in range(23, 29))


@pytest.mark.parametrize(
    ("previous", "at", "allowed"),
    [
        ([], rome(MON, "10:00"), True),
        # one a day, whichever comes first, by the Rome calendar day
        ([rome(MON, "09:00")], rome(MON, "20:00"), False),
        ([rome(MON, "20:00")], rome(MON, "09:00"), False),
        ([rome(MON, "20:59")], rome(TUE, "08:30"), True),
        # 23:30 UTC on Monday is already Tuesday in Rome
        ([datetime(2026, 11, 23, 23, 30, tzinfo=UTC)], rome(TUE, "10:00"), False),
        # three a week
        ([rome(MON, "10:00"), rome(TUE, "10:00")], rome(WED, "10:00"), True),
        ([rome(MON, "10:00"), rome(TUE, "10:00"), rome(WED, "10:00")], rome(THU, "10:00"), False),
        ([rome(MON, "10:00"), rome(TUE, "10:00"), rome(WED, "10:00")], rome(SAT, "10:00"), False),
        # the calendar week: Thursday, Friday, Saturday, then Monday is a new week
        (
            [rome(THU, "10:00"), rome(FRI, "10:00"), rome(SAT, "10:00")],
            rome("2026-11-30", "10:00"),
            True,
        ),
        # later conversations of the same week count too
        ([rome(WED, "10:00"), rome(THU, "10:00"), rome(FRI, "10:00")], rome(MON, "10:00"), False),
        # last week's conversations do not
        (
            [rome("2026-11-18", "10:00"), rome("2026-11-19", "10:00"), rome("2026-11-21", "09:00")],
            rome(MON, "10:00"),
            True,
        ),
        # within the limits but outside the window
        ([], rome(SAT, "15:00"), False),
    ],
)
def test_conversation_allowed(previous: list[datetime], at: datetime, allowed: bool) -> None:
    assert conversation_allowed(previous, at) is allowed
    if allowed:
        assert next_conversation_slot(previous, at) == at


@pytest.mark.parametrize(
    ("previous", "at", "slot", "reason"),
    [
        # today's conversation took place: tomorrow's opening
        ([rome(FRI, "09:00")], rome(FRI, "10:00"), rome(SAT, "08:30"), DAY_TAKEN),
        ([rome(SAT, "09:00")], rome(SAT, "10:00"), rome("2026-11-30", "08:30"), DAY_TAKEN),
        # three this week: next Monday
        (
            [rome(MON, "10:00"), rome(TUE, "10:00"), rome(WED, "10:00")],
            rome(THU, "10:00"),
            rome("2026-11-30", "08:30"),
            WEEK_FULL,
        ),
        # three this week and next Monday is Easter Monday: Tuesday
        (
            [rome("2027-03-22", "10:00"), rome("2027-03-23", "10:00"), rome("2027-03-24", "09:00")],
            rome("2027-03-25", "10:00"),
            rome("2027-03-30", "08:30"),
            WEEK_FULL,
        ),
        # outside the window, and the next opening's day is taken: the day after
        (
            [rome(SAT, "08:45")],
            rome(FRI, "21:30"),
            rome("2026-11-30", "08:30"),
            OUTSIDE_HOURS,
        ),
        # the next free day also has one already: skip it too
        (
            [rome(FRI, "09:00"), rome(SAT, "09:00")],
            rome(FRI, "10:00"),
            rome("2026-11-30", "08:30"),
            DAY_TAKEN,
        ),
    ],
)
def test_next_conversation_slot(
    previous: list[datetime], at: datetime, slot: datetime, reason: str
) -> None:
    assert not conversation_allowed(previous, at)
    assert next_conversation_slot(previous, at) == slot
    decision = check_conversation(previous, at)
    assert (decision.allowed, decision.next_slot, decision.reason) == (False, slot, reason)


def test_decisions_name_the_reason() -> None:
    granted = check_conversation([], rome(MON, "10:00"))
    assert (granted.allowed, granted.next_slot, granted.reason) == (True, None, "granted")
    refused = check_conversation([], rome(MON, "10:00"), opted_out=True, channel="call")
    assert (refused.allowed, refused.next_slot) == (False, None)
    assert refused.reason == "the debtor opted out of call"
    # messages: the window only, however many conversations there were
    assert check_message(rome(SAT, "10:00")).allowed
    late = check_message(rome(SAT, "15:00"), channel="sms")
    assert (late.allowed, late.next_slot) == (False, rome("2026-11-30", "08:30"))
    assert not check_message(rome(MON, "10:00"), opted_out=True, channel="sms").allowed


def test_week_start_is_the_rome_monday() -> None:
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 30)) == date(2026, 11, 30)
    # Sunday 23:30 UTC is Monday in Rome
    assert week_start(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("tax_code", "vat", "practice", "key"),
    [
        ("RSSMRA85T10A562S", None, "p1", "RSSMRA85T10A562S"),
        (" rssmra85t10a562s ", "12345670017", "p1", "RSSMRA85T10A562S"),
        (None, "12345670017", "p1", "12345670017"),
        ("", "IT12345670017", "p1", "12345670017"),
        # a company's codice fiscale is its partita IVA: one key
        ("12345670017", None, "p2", "12345670017"),
        (None, None, "p3", "practice:p3"),
        ("", "", "p3", "practice:p3"),
    ],
)
def test_debtor_key(tax_code: str | None, vat: str | None, practice: str, key: str) -> None:
    assert debtor_key(tax_code, vat, practice) == key


# -- properties --------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2098, 12, 1),
    timezones=st.sampled_from([UTC, ROME, timezone(timedelta(hours=-5))]),
)


@given(moments)
def test_next_window_start_is_the_first_moment_inside(at: datetime) -> None:
    start = next_window_start(at)
    assert start >= at
    assert may_contact(start)
    assert start.tzinfo is ROME
    assert next_window_start(start) == start  # idempotent
    assert (start == at) is may_contact(at)
    if start != at:
        # an opening: the instant before it is outside
        assert (start.hour, start.minute, start.second, start.microsecond) == (8, 30, 0, 0)
        assert not may_contact(start - timedelta(microseconds=1))
        assert not may_contact(at)


@given(moments, moments)
def test_next_window_start_is_monotonic(a: datetime, b: datetime) -> None:
    if a <= b:
        assert next_window_start(a) <= next_window_start(b)


@given(moments)
def test_window_end_closes_the_window(at: datetime) -> None:
    start, end = next_window_start(at), window_end(at)
    assert start < end
    assert may_contact(end - timedelta(microseconds=1))
    assert not may_contact(end)
    assert end - start <= timedelta(hours=12, minutes=30)


@given(moments, st.lists(moments, max_size=8))
def test_next_conversation_slot_is_allowed_and_first(
    at: datetime, previous: list[datetime]
) -> None:
    slot = next_conversation_slot(previous, at)
    assert slot >= at
    assert conversation_allowed(previous, slot)
    assert next_conversation_slot(previous, slot) == slot
    assert (slot == at) is conversation_allowed(previous, at)
    assert conversation_allowed(previous, at) is (may_contact(at) and within_limits(previous, at))
    if slot != at:
        assert not conversation_allowed(previous, slot - timedelta(microseconds=1))


@given(moments, st.lists(moments, max_size=8))
def test_adding_a_granted_conversation_never_breaks_the_limits(
    at: datetime, previous: list[datetime]
) -> None:
    slot = next_conversation_slot(previous, at)
    after = [*previous, slot]
    # the day of the new conversation is now taken
    assert not within_limits(after, slot)
    assert not conversation_allowed(after, slot + timedelta(minutes=1))


def test_at_rome_is_used_for_openings() -> None:
    assert next_window_start(at_rome(date(2026, 11, 24))) == rome("2026-11-24", "08:30")


# -- the wake-up spread ------------------------------------------------------------------------

TWO_HOURS = timedelta(hours=2)


@given(st.text(min_size=1, max_size=40))
def test_a_spread_opening_stays_in_its_window_and_within_the_spread(seed: str) -> None:
    monday = rome("2026-11-30", "08:30")
    moment = spread_slot(monday, seed, TWO_HOURS)
    assert monday <= moment < monday + TWO_HOURS
    assert may_contact(moment)
    assert spread_slot(monday, seed, TWO_HOURS) == moment  # the same practice, the same moment


def test_the_practices_put_off_to_one_opening_are_spread_over_the_spread() -> None:
    monday = rome("2026-11-30", "08:30")
    moments = [spread_slot(monday, f"practice-{n}", TWO_HOURS) for n in range(1000)]
    # a thousand practices: spread over the two hours, about 125 in each quarter hour
    quarters = [0] * 8
    for moment in moments:
        quarters[int((moment - monday) / timedelta(minutes=15))] += 1
    assert all(60 <= q <= 200 for q in quarters), quarters
    assert spread_slot(monday, "practice-1", timedelta(0)) == monday


def test_the_spread_keeps_half_an_hour_of_a_short_window() -> None:
    # Saturday closes at 15:00: a slot at 14:00 moves by at most 30 minutes
    saturday = rome("2026-11-28", "14:00")
    moments = [spread_slot(saturday, f"p{n}", TWO_HOURS) for n in range(200)]
    assert all(saturday <= m <= rome("2026-11-28", "14:30") for m in moments)
    # no room left: the slot as it is
    late = rome("2026-11-28", "14:45")
    assert spread_slot(late, "p1", TWO_HOURS) == late
    # not a moment the rules allow (a Sunday): nothing to spread inside
    sunday = rome("2026-11-29", "10:00")
    assert spread_slot(sunday, "p1", TWO_HOURS) == sunday


def test_a_preferred_window_spreads_inside_its_part_of_the_day() -> None:
    day = date(2026, 11, 30)
    hours = preferred_hours(day, "evening")
    assert hours is not None
    start, end = hours
    for n in range(200):
        moment = spread_slot(start, f"p{n}", timedelta(hours=8), window="evening")
        assert start <= moment <= end - timedelta(minutes=30)


# -- the pre-due reminders' spread -------------------------------------------------------------

THREE_DAYS = timedelta(days=3)


@given(st.text(min_size=1, max_size=40))
def test_a_reminders_moments_are_nine_plus_the_practices_offset_inside_the_window(
    seed: str,
) -> None:
    # due Thursday 2026-12-03, the early reminder on Monday 2026-11-30
    nine = rome("2026-12-03", "09:00")
    before, on_day = spread_reminder(nine, THREE_DAYS, seed, TWO_HOURS)
    assert nine <= on_day < nine + TWO_HOURS
    assert nine - THREE_DAYS <= before < nine - THREE_DAYS + TWO_HOURS
    assert may_contact(before) and may_contact(on_day)
    # the practice's offset, the same on either day and on every call (a replayed workflow)
    assert before + THREE_DAYS == on_day
    assert spread_reminder(nine, THREE_DAYS, seed, TWO_HOURS) == (before, on_day)
    # the same hashing as the wake-up's spread: one practice, one offset
    assert on_day == spread_slot(nine, seed, TWO_HOURS)


def test_without_a_spread_the_reminders_go_at_nine() -> None:
    nine = rome("2026-12-03", "09:00")
    assert spread_reminder(nine, THREE_DAYS, "p1", timedelta(0)) == (nine - THREE_DAYS, nine)


def test_a_portfolio_with_one_due_date_is_spread_over_the_spread() -> None:
    nine = rome("2026-12-03", "09:00")
    moments = [
        spread_reminder(nine, THREE_DAYS, f"practice-{n}", TWO_HOURS)[1] for n in range(1000)
    ]
    # no more at 09:00:00 sharp than chance gives; about 125 in each quarter hour
    assert sum(m == nine for m in moments) <= 2
    quarters = [0] * 8
    for moment in moments:
        quarters[int((moment - nine) / timedelta(minutes=15))] += 1
    assert all(60 <= q <= 200 for q in quarters), quarters


def test_each_reminder_stays_inside_its_own_days_window() -> None:
    # due Tuesday 2026-12-01 with a lead of three days: the early one on Saturday 2026-11-28,
    # which closes at 15:00; a spread of eight hours keeps half an hour of it
    nine = rome("2026-12-01", "09:00")
    wide = timedelta(hours=8)
    for n in range(300):
        before, on_day = spread_reminder(nine, THREE_DAYS, f"p{n}", wide)
        assert rome("2026-11-28", "09:00") <= before <= rome("2026-11-28", "14:30")
        assert nine <= on_day < nine + wide and may_contact(on_day)
    # a due date on a Sunday: the moment the rules do not allow is left to them (they put it
    # off and spread it); the early one, on Thursday, is spread
    sunday = rome("2026-12-06", "09:00")
    before, on_day = spread_reminder(sunday, THREE_DAYS, "p1", TWO_HOURS)
    assert on_day == sunday
    assert rome("2026-12-03", "09:00") <= before < rome("2026-12-03", "11:00")


def test_a_debtor_abroad_has_its_reminders_spread_in_its_own_hours() -> None:
    # a debtor in New York with hours 08:00-10:00 on weekdays: 09:00 there moves by at most
    # the half hour the window leaves
    hours = tuple((day, time(8, 0), time(10, 0)) for day in range(5))
    regime = ContactRegime(zone="America/New_York", country="US", hours=hours)
    nine = datetime.combine(date(2026, 12, 3), time(9, 0), tzinfo=regime.tz)
    for n in range(200):
        before, on_day = spread_reminder(nine, THREE_DAYS, f"p{n}", TWO_HOURS, regime)
        assert nine <= on_day <= nine + timedelta(minutes=30)
        assert may_contact(on_day, regime) and may_contact(before, regime)
