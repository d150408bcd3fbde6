"""When a debtor may be contacted: the hours of the UNIREC code of conduct and its limits on
conversations, in Europe/Rome for a debtor in Italy and in the debtor's own time zone abroad.
Pure and deterministic (no clock, no I/O), importable by workflows.

Rules (the domain notes, DOMAIN.md, "Contact rules"; code of conduct agreed by UNIREC and the
consumer associations, 2015, revised 2017):

- Windows: Monday-Friday 08:30-21:00, Saturday 08:30-15:00, never on Sundays or Italian national
  public holidays (`domain.court_calendar`, the `holidays` package, country IT: 1 January,
  6 January, Easter Monday, 25 April, 1 May, 2 June, 15 August, 1 November, 8 December, 25 and 26
  December, 4 October from 2026). The opening minute is inside, the closing one is not: 08:30:00 is
  inside, 21:00:00 (Saturday 15:00:00) outside. A town's patron saint's day is local and not
  included. Calls, home visits, e-mails and SMS all follow the same windows.
- Limits, per debtor across all of its practices and creditors: at most one conversation a day
  and three a week. A conversation is a call the debtor answered or a home visit; e-mails and
  SMS are messages and do not count. "A day" is the calendar day in Rome; "a week" is the ISO
  calendar week in Rome, Monday to Sunday (the code says "a settimana", and a calendar week is
  the common reading; three conversations on Thursday, Friday and Saturday are followed by a new
  allowance on Monday). The limits hold whatever order the conversations come in: `previous` is
  every other conversation of the debtor, before or after the moment asked about.
- The debtor is identified by codice fiscale, or partita IVA for lack of one, or, lacking both,
  by the practice alone (`debtor_key`). A company's 11-digit codice fiscale is its partita IVA,
  so the two meet in one key; a sole trader known by its personal codice fiscale on one practice
  and only by its partita IVA on another is two keys (nothing here can link them).

Debtors abroad (issue 16): every function takes a `regime` (`ContactRegime`, Italy by default,
`ITALY`): the debtor's time zone, its country's public holidays (the `holidays` package, the
national ones, plus its region's where the address names one the package knows, e.g. a German
Land or a US state) and the hours (the Italian code's unless the agency set the country's own,
`Settings.contact_hours`). "A day" and "a week" of the limits are then the debtor's own calendar
day and ISO week; the limits are the same. Moments returned are in Rome whatever the regime, so
nothing the workflow records from them carries the debtor's zone; a refusal for the hours abroad
gives its own fixed reason (`OUTSIDE_LOCAL_HOURS`), naming no country or zone.

Every datetime given must be aware (a naive one raises `ContactRulesError`); datetimes returned
are in Europe/Rome. Dates outside the holiday table's years (`court_calendar.FIRST_YEAR` ..
`LAST_YEAR`) raise `court_calendar.CourtCalendarError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from stdnum.it import codicefiscale

from domain.calendar import ROME
from domain.court_calendar import FIRST_YEAR, LAST_YEAR, CourtCalendarError, is_public_holiday

__all__ = [
    "CONTACT_CHANNELS",
    "CONVERSATION_CHANNELS",
    "DAY_TAKEN",
    "MAX_CONVERSATIONS_PER_DAY",
    "MAX_CONVERSATIONS_PER_WEEK",
    "MESSAGE_CHANNELS",
    "OPENING_HOURS",
    "OPT_OUT_CHANNELS",
    "OUTSIDE_HOURS",
    "PREFERRED_WINDOWS",
    "WEEK_FULL",
    "ContactDecision",
    "ContactRegime",
    "GRANTED",
    "ITALY",
    "NO_HOURS",
    "OUTSIDE_LOCAL_HOURS",
    "ContactRulesError",
    "check_conversation",
    "check_message",
    "conversation_allowed",
    "debtor_key",
    "is_contact_day",
    "may_contact",
    "next_conversation_slot",
    "next_window_start",
    "opening_hours",
    "parse_hours",
    "opted_out_reason",
    "in_preferred_window",
    "preferred_hours",
    "preferred_reason",
    "preferred_slot",
    "spread_reminder",
    "spread_slot",
    "week_start",
    "window_end",
    "within_limits",
]

# weekday (Monday 0) -> (opening, closing); the closing time is outside the window
OPENING_HOURS: MappingProxyType[int, tuple[time, time]] = MappingProxyType(
    {
        0: (time(8, 30), time(21, 0)),
        1: (time(8, 30), time(21, 0)),
        2: (time(8, 30), time(21, 0)),
        3: (time(8, 30), time(21, 0)),
        4: (time(8, 30), time(21, 0)),
        5: (time(8, 30), time(15, 0)),
    }
)
MAX_CONVERSATIONS_PER_DAY = 1
MAX_CONVERSATIONS_PER_WEEK = 3

# Conversations count against the limits; messages only need the window.
CONVERSATION_CHANNELS = ("call", "visit")
MESSAGE_CHANNELS = ("email", "sms")
CONTACT_CHANNELS = CONVERSATION_CHANNELS + MESSAGE_CHANNELS
# What a debtor may refuse. Letters by post are the legal minimum (formal notice, formal demand)
# and cannot be refused; home visits are not a channel the debtor opts out of here.
OPT_OUT_CHANNELS = ("call", "email", "sms")

OUTSIDE_HOURS = (
    "outside the contact hours (Monday-Friday 08:30-21:00, Saturday 08:30-15:00,"
    " never on Sundays or public holidays)"
)
OUTSIDE_LOCAL_HOURS = (
    "outside the contact hours where the debtor lives (its time zone, hours and public holidays)"
)
DAY_TAKEN = "the debtor already had a conversation on that day"
WEEK_FULL = f"the debtor already had {MAX_CONVERSATIONS_PER_WEEK} conversations that week"

_ONE_DAY = timedelta(days=1)


class ContactRulesError(ValueError):
    """A naive datetime, or a channel the rules do not know."""


Hours = tuple[tuple[int, time, time], ...]  # (weekday, opening, closing), Monday 0

ITALIAN_HOURS: Hours = tuple((day, *hours) for day, hours in OPENING_HOURS.items())


@dataclass(frozen=True, slots=True)
class ContactRegime:
    """Where and when the rules are applied for one debtor: its time zone, the country (and
    region) whose public holidays close the day, and the hours. `ITALY` is Rome with the
    Italian holidays and the code's hours, exactly the rules before debtors abroad."""

    zone: str = "Europe/Rome"
    country: str = "IT"
    subdivision: str | None = None
    hours: Hours = field(default=ITALIAN_HOURS)

    @property
    def is_italy(self) -> bool:
        return self == ITALY

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(_zone(self.zone)).date()

    def at_local(self, day: date, clock: time = time(0, 0)) -> datetime:
        return datetime.combine(day, clock, tzinfo=_zone(self.zone))

    def day_hours(self, day: date) -> tuple[time, time] | None:
        return _by_weekday(self.hours).get(day.weekday())

    def is_holiday(self, day: date) -> bool:
        if self.country == "IT" and self.subdivision is None:
            return is_public_holiday(day)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise CourtCalendarError(
                f"{day.isoformat()} is outside the holiday table ({FIRST_YEAR}-{LAST_YEAR})"
            )
        return day in _holiday_table(self.country, self.subdivision)

    @property
    def outside_hours(self) -> str:
        return OUTSIDE_HOURS if self.is_italy else OUTSIDE_LOCAL_HOURS


@cache
def _zone(name: str) -> ZoneInfo:
    # the call queue asks for every practice's day: one dictionary lookup, not ZoneInfo's own
    return ROME if name == "Europe/Rome" else ZoneInfo(name)


@cache
def _by_weekday(hours: Hours) -> Mapping[int, tuple[time, time]]:
    return MappingProxyType({weekday: (opening, closing) for weekday, opening, closing in hours})


ITALY = ContactRegime()
# no country with hours of its own (the agency's `Settings.contact_hours` when it sets none)
NO_HOURS: Mapping[str, Hours] = MappingProxyType({})

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@cache
def _holiday_table(country: str, subdivision: str | None) -> frozenset[date]:
    """The public holidays of a country (and region) over the court calendar's years; the
    `holidays` package's data, no lookup."""
    table = holidays.country_holidays(
        country, subdiv=subdivision, years=range(FIRST_YEAR, LAST_YEAR + 1)
    )
    return frozenset(table.keys())


@cache
def holiday_subdivision(country: str, region: str | None) -> str | None:
    """The address's region when the `holidays` package knows it as a subdivision of the
    country (a German Land "BY", a US state "NY"), so its holidays close the day too; None
    otherwise (the national holidays only)."""
    code = (region or "").strip().upper()
    if not code:
        return None
    try:
        known = holidays.country_holidays(country).subdivisions
    except NotImplementedError:
        return None
    return code if code in known else None


@cache
def has_holidays(country: str) -> bool:
    """Whether the `holidays` package knows the country's public holidays."""
    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return False
    return True


def parse_hours(spec: Mapping[str, str]) -> Hours:
    """The agency's hours for a country: {"mon": "08:00-20:00", ..., "sat": "09:00-13:00"};
    a day not named is closed. Raises ContactRulesError on anything else."""
    found: list[tuple[int, time, time]] = []
    for name, span in spec.items():
        if name not in _DAY_NAMES:
            raise ContactRulesError(f"unknown day {name!r}: one of {', '.join(_DAY_NAMES)}")
        try:
            start, end = (time.fromisoformat(part.strip()) for part in span.split("-"))
        except ValueError as exc:
            raise ContactRulesError(f"{name}: {span!r} is not HH:MM-HH:MM") from exc
        if not start < end:
            raise ContactRulesError(f"{name}: {span!r} closes before it opens")
        found.append((_DAY_NAMES.index(name), start, end))
    return tuple(sorted(found))


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ContactRulesError("contact times must be timezone-aware")
    return at


def _utc(at: datetime) -> datetime:
    # compared in UTC: two datetimes sharing a tzinfo compare by wall clock, ignoring `fold`
    return _aware(at).astimezone(UTC)


# -- windows -----------------------------------------------------------------------------------


def is_contact_day(day: date, regime: ContactRegime = ITALY) -> bool:
    """A day with hours (Monday to Saturday in Italy) and not a public holiday."""
    return regime.day_hours(day) is not None and not regime.is_holiday(day)


def opening_hours(day: date, regime: ContactRegime = ITALY) -> tuple[datetime, datetime] | None:
    """The window of `day` (the debtor's local day) as aware instants in its zone (opening
    inside, closing outside), or None on a day without hours or a public holiday."""
    if not is_contact_day(day, regime):
        return None
    hours = regime.day_hours(day)
    assert hours is not None
    return regime.at_local(day, hours[0]), regime.at_local(day, hours[1])


def may_contact(at: datetime, regime: ContactRegime = ITALY) -> bool:
    """True when `at` is inside a contact window."""
    instant = _utc(at)
    hours = opening_hours(regime.local_date(instant), regime)
    return hours is not None and hours[0] <= instant < hours[1]


def next_window_start(at: datetime, regime: ContactRegime = ITALY) -> datetime:
    """`at` itself (in Rome) when inside a window, otherwise the next opening: the earliest
    moment >= `at` at which `may_contact` is true."""
    instant = _utc(at)
    day = regime.local_date(instant)
    while True:
        hours = opening_hours(day, regime)
        if hours is not None:
            opening, closing = hours
            if instant < closing:
                return max(instant, opening.astimezone(UTC)).astimezone(ROME)
        day += _ONE_DAY


def window_end(at: datetime, regime: ContactRegime = ITALY) -> datetime:
    """The closing time (outside the window, in Rome) of the window `at` is in; for an `at`
    outside every window, the closing time of the next one."""
    start = next_window_start(at, regime)
    hours = opening_hours(regime.local_date(start), regime)
    assert hours is not None  # next_window_start only returns moments inside a window
    return hours[1].astimezone(ROME)


# -- limits ------------------------------------------------------------------------------------


def week_start(at: datetime | date, regime: ContactRegime = ITALY) -> date:
    """The Monday of the ISO week (in the debtor's zone, Rome in Italy) of a moment or a day."""
    day = regime.local_date(_aware(at)) if isinstance(at, datetime) else at
    return day - timedelta(days=day.weekday())


def _days_and_weeks(
    previous: Iterable[datetime], regime: ContactRegime = ITALY
) -> tuple[dict[date, int], dict[date, int]]:
    per_day: dict[date, int] = {}
    per_week: dict[date, int] = {}
    for moment in previous:
        day = regime.local_date(_aware(moment))
        per_day[day] = per_day.get(day, 0) + 1
        monday = week_start(day)
        per_week[monday] = per_week.get(monday, 0) + 1
    return per_day, per_week


def _limit_reason(per_day: dict[date, int], per_week: dict[date, int], day: date) -> str | None:
    if per_day.get(day, 0) >= MAX_CONVERSATIONS_PER_DAY:
        return DAY_TAKEN
    if per_week.get(week_start(day), 0) >= MAX_CONVERSATIONS_PER_WEEK:
        return WEEK_FULL
    return None


def within_limits(
    previous: Iterable[datetime], at: datetime, regime: ContactRegime = ITALY
) -> bool:
    """True when one more conversation at `at` keeps the debtor within the daily and weekly
    limits, given its other conversations `previous`; the window is not looked at."""
    per_day, per_week = _days_and_weeks(previous, regime)
    return _limit_reason(per_day, per_week, regime.local_date(_aware(at))) is None


def conversation_allowed(
    previous: Iterable[datetime], at: datetime, regime: ContactRegime = ITALY
) -> bool:
    """True when a conversation at `at` is inside a window and within the limits."""
    return may_contact(at, regime) and within_limits(previous, at, regime)


def next_conversation_slot(
    previous: Iterable[datetime], at: datetime, regime: ContactRegime = ITALY
) -> datetime:
    """The earliest moment >= `at` at which `conversation_allowed(previous, moment)`: `at` itself
    (in Rome) when allowed, otherwise the opening of the first window on a day that has no
    conversation yet, in a week that has fewer than three."""
    per_day, per_week = _days_and_weeks(previous, regime)
    moment = next_window_start(at, regime)
    while True:
        day = regime.local_date(moment)
        reason = _limit_reason(per_day, per_week, day)
        if reason is None:
            return moment
        skip_to = day + _ONE_DAY if reason == DAY_TAKEN else week_start(day) + timedelta(days=7)
        moment = next_window_start(regime.at_local(skip_to), regime)


# -- decisions with reasons --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactDecision:
    """Whether a contact may happen now; if not, why (a fixed phrase naming no person) and from
    when it may (`next_slot`; None when it never may, e.g. the debtor opted out)."""

    allowed: bool
    next_slot: datetime | None
    reason: str


GRANTED = "granted"


def opted_out_reason(channel: str) -> str:
    return f"the debtor opted out of {channel}"


def check_conversation(
    previous: Iterable[datetime],
    at: datetime,
    *,
    opted_out: bool = False,
    channel: str = "call",
    regime: ContactRegime = ITALY,
) -> ContactDecision:
    """`conversation_allowed` with its reason and the next slot when refused."""
    if opted_out:
        return ContactDecision(False, None, opted_out_reason(channel))
    moments = list(previous)
    if not may_contact(at, regime):
        return ContactDecision(
            False, next_conversation_slot(moments, at, regime), regime.outside_hours
        )
    per_day, per_week = _days_and_weeks(moments, regime)
    reason = _limit_reason(per_day, per_week, regime.local_date(at))
    if reason is not None:
        return ContactDecision(False, next_conversation_slot(moments, at, regime), reason)
    return ContactDecision(True, None, GRANTED)


def check_message(
    at: datetime,
    *,
    opted_out: bool = False,
    channel: str = "email",
    regime: ContactRegime = ITALY,
) -> ContactDecision:
    """An e-mail or SMS: the window and the opt-out only (messages are not conversations)."""
    if opted_out:
        return ContactDecision(False, None, opted_out_reason(channel))
    if not may_contact(at, regime):
        return ContactDecision(False, next_window_start(at, regime), regime.outside_hours)
    return ContactDecision(True, None, GRANTED)


# -- the debtor's preferred time of day -------------------------------------------------------

# What a debtor may say it prefers (issue 13): a part of the day, start inside, end outside. The
# windows above stay the law: a preference only chooses a moment inside them (Saturday has no
# evening; a day the rules close has none of them).
PREFERRED_WINDOWS: MappingProxyType[str, tuple[time, time]] = MappingProxyType(
    {
        "morning": (time(8, 30), time(13, 0)),
        "afternoon": (time(13, 0), time(18, 0)),
        "evening": (time(18, 0), time(21, 0)),
    }
)
# how far ahead a preferred moment is looked for; beyond it the rules' own next slot is taken
# (a preference never holds a contact back for long, e.g. over a long closure)
PREFERENCE_HORIZON_DAYS = 14


def preferred_reason(window: str) -> str:
    start, end = PREFERRED_WINDOWS[window]
    return f"the debtor prefers the {window} ({start:%H:%M}-{end:%H:%M})"


def preferred_hours(
    day: date, window: str, regime: ContactRegime = ITALY
) -> tuple[datetime, datetime] | None:
    """The part of `day`'s contact window inside the preferred `window` (the debtor's local
    time of day), or None when the rules close the day or leave nothing of that window
    (Saturday evening)."""
    hours = opening_hours(day, regime)
    if window not in PREFERRED_WINDOWS:
        raise ContactRulesError(f"unknown preferred window {window!r}")
    if hours is None:
        return None
    start, end = PREFERRED_WINDOWS[window]
    lower = max(hours[0], regime.at_local(day, start))
    upper = min(hours[1], regime.at_local(day, end))
    return (lower, upper) if lower < upper else None


def in_preferred_window(at: datetime, window: str, regime: ContactRegime = ITALY) -> bool:
    """True when `at` is inside both the contact window and the preferred one."""
    instant = _utc(at)
    hours = preferred_hours(regime.local_date(instant), window, regime)
    return hours is not None and hours[0] <= instant < hours[1]


def preferred_slot(
    at: datetime,
    window: str,
    previous: Iterable[datetime] | None = None,
    regime: ContactRegime = ITALY,
) -> datetime:
    """The earliest moment >= `at` inside the debtor's preferred window that the rules allow: for
    a message (`previous` None) the window only, for a conversation also the limits given the
    debtor's other conversations `previous`. Within PREFERENCE_HORIZON_DAYS; past it, the rules'
    own earliest moment (`next_window_start` / `next_conversation_slot`), so a preference delays
    a contact by hours, never for good."""
    moments = None if previous is None else list(previous)
    per_day, per_week = _days_and_weeks(moments or (), regime)
    instant = _utc(at)
    day = regime.local_date(instant)
    for _ in range(PREFERENCE_HORIZON_DAYS):
        hours = preferred_hours(day, window, regime)
        if hours is not None and (moments is None or _limit_reason(per_day, per_week, day) is None):
            moment = max(instant, hours[0].astimezone(UTC))
            if moment < hours[1]:
                return moment.astimezone(ROME)
        day += _ONE_DAY
    if moments is None:
        return next_window_start(at, regime)
    return next_conversation_slot(moments, at, regime)


# -- the wake-up -------------------------------------------------------------------------------

# A spread moment keeps at least this much of its window after it: a contact put off to the last
# minutes of the day could be put off again by a slow step, to the next day.
SPREAD_END_MARGIN = timedelta(minutes=30)


def spread_slot(
    slot: datetime,
    seed: str,
    spread: timedelta,
    regime: ContactRegime = ITALY,
    window: str | None = None,
) -> datetime:
    """`slot` (a moment the rules allow, typically a window's opening) moved later by an offset
    of up to `spread` that `seed` (the practice) decides: the practices put off over a weekend
    or a night are not all due in the opening's first second. The moment stays inside the same
    window (the debtor's preferred part of it when `window` is given and `slot` is in it) with
    SPREAD_END_MARGIN to spare, so it is always one the rules allow on the same day, and the
    same seed always gets the same offset (a retried reservation, a replayed step)."""
    if spread <= timedelta(0):
        return slot
    instant = _utc(slot)
    day = regime.local_date(instant)
    hours = preferred_hours(day, window, regime) if window is not None else None
    if hours is None or not hours[0] <= instant < hours[1]:
        hours = opening_hours(day, regime)
    if hours is None or not hours[0] <= instant < hours[1]:
        return slot  # not a moment the rules allow: nothing to spread inside
    span = min(spread, hours[1] - instant - SPREAD_END_MARGIN)
    if span <= timedelta(0):
        return slot
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    offset = timedelta(seconds=int(span.total_seconds() * fraction))
    return (instant + offset).astimezone(ROME)


def spread_reminder(
    clock: datetime,
    lead: timedelta,
    seed: str,
    spread: timedelta,
    regime: ContactRegime = ITALY,
) -> tuple[datetime, datetime]:
    """The pre-due reminders' moments of one due date, (before it, on the day): `clock - lead`
    and `clock` (09:00 of the due date where the debtor lives), each moved by `spread_slot`
    inside its own day's window, so that a portfolio with one due date does not send every
    reminder at 09:00:00. The offset is the practice's (`seed`) on either day; a moment the
    rules do not allow (a Sunday, a holiday) is left as it is, the contact rules put it off
    (and spread it) when it comes."""
    return (
        spread_slot(clock - lead, seed, spread, regime),
        spread_slot(clock, seed, spread, regime),
    )


# -- who the debtor is -------------------------------------------------------------------------


def debtor_key(
    tax_code: str | None, vat_number: str | None, practice_id: str, country: str | None = "IT"
) -> str:
    """The identity the limits and opt-outs are kept under: the codice fiscale, else the partita
    IVA (without an IT prefix), else "practice:<id>" (a debtor known only by this practice).

    A debtor abroad: "<country>:<tax number>", else "<country>:<VAT number>" (stored with its
    own prefix: "DE:DE136695976"), so that no foreign number can meet an Italian one or another
    country's. Two numbering schemes of one country may share digits (a US SSN and an EIN):
    two such debtors would share the limits, which only ever contacts them less. An Italian
    number kept by a debtor who moved abroad (a codice fiscale of 16 characters; a partita IVA,
    the only VAT number stored without a country prefix) keeps its Italian key: its
    conversations, opt-outs and preferences follow it."""
    cc = (country or "IT").strip().upper()
    code = "".join((tax_code or "").split()).upper()
    vat = "".join((vat_number or "").split()).upper()
    if cc != "IT":
        if len(code) == 16 and codicefiscale.is_valid(code):
            return code
        if not code and len(vat) == 11 and vat.isdigit():
            return vat
        if code or vat:
            return f"{cc}:{code or vat}"
        return f"practice:{practice_id}"
    if code:
        return code
    if vat.startswith("IT"):
        vat = vat[2:]
    if vat:
        return vat
    return f"practice:{practice_id}"
