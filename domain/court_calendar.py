"""Italian legal terms: art. 155 c.p.c., the August suspension (sospensione feriale) and the public
holidays, for the deadlines of the judicial phase and of the formal demand.

Pure and deterministic, importable by Temporal workflows: the holiday table is built once, when
the module is imported (the `holidays` package reads its translation files then), and every call
after that only reads frozen in-memory data. Dates are calendar days in Italy (Europe/Rome); a
term runs out at the end of its last day (`Deadline.ends_at`, `domain.calendar.end_of_rome_day`).

Legal choices (the rules and their sources are the `TermRule`s below; the domain notes, DOMAIN.md):

- Computation, art. 155 c.p.c. (artt. 1187 and 2963 c.c. say the same for the formal demand):
  the first day (dies a quo) is not counted, public holidays inside the term count, a term whose
  last day is a Sunday or a public holiday is extended to the next day that is neither. For acts
  of the proceedings done out of the hearing (`TermRule.court_act`) a Saturday is treated the
  same way (art. 155 comma 5, added by L. 263/2005; applied to every date, the product's practices
  all being later than its entry into force on 1 March 2006). Terms in months follow the common
  calendar (art. 155 comma 2): the same day number N months later, clipped to the month's last
  day (31 January + 1 month = 28 or 29 February), then the same holiday extension.
- Public holidays: the national ones (L. 260/1949 and later laws) as published by the `holidays`
  package, country IT, category public; 4 October from 2026 (L. 151/2025) needs holidays >= 0.86.
  Every Sunday is a holiday by law. The patron saint's day of a town (29 June in Rome, 7 December
  in Milan, ...) is local and not in the table: a term ending on the patron day of the court's
  seat is extended there; the caller that knows the seat passes its days as `extra_holidays`
  (`domain.court_seats`, the 140 tribunal seats). Extraordinary suspensions (the COVID-19 one
  of 9 March - 11 May 2020, D.L. 18/2020 art. 83) are not modelled.
- Sospensione feriale, L. 742/1969 art. 1: judicial terms do not run from 1 to 31 August of each
  year since 2015 (D.L. 132/2014 art. 16, converted by L. 162/2014), from 1 August to 15 September
  from 1970 to 2014 (`feriale_window`, by the year of the day). Days inside the window are not
  counted. A term running when the window opens resumes the day after it closes, so a day term
  ends exactly 31 days (46 before 2015) later than it would without the suspension. A term whose
  start event falls inside the window starts running after it: the window's last day acts as the
  dies a quo and the next day (1 September; 16 September before 2015) is day 1 of the count
  (Cass. 6679/2005, 688/2006). For terms in months the suspended days inside the calendar
  computation are added to it (Cass. 6748/2005). Months being of unequal length, those two
  methods can disagree at the window's edge: one month from 31 July 2026 ends on 1 October (31
  August + 31 days), one month from 1 August on 30 September (31 August + 1 month); the product's
  rules are all in days, where the count is monotonic. A term ending on a holiday just before the
  window (31 July a Sunday) would move into the suspension: its deadline is the first working day
  after the window (Cass. 2258/1985 a contrario); the explanation says so and names the last
  working day before it as the cautious date.
- Which terms are suspended (`TermRule.feriale`): the opposition to a decreto ingiuntivo (art. 641
  c.p.c.) and its service term (art. 644). Not suspended: the formal demand (art. 1454 c.c., not a
  judicial term), and the precetto's 10-day term (artt. 480, 482 c.p.c.) and 90-day lapse (art.
  481): the precetto comes before the enforcement proceedings, and per Cass. case law its terms
  are not terms of a judicial proceeding for L. 742/1969 (whose art. 3 also excludes oppositions
  in enforcement). Configurable: `dataclasses.replace(PRECETTO_LAPSE, feriale=True)`. Labour
  cases and interim measures, to which the suspension does not apply, have no rule here.
- Which terms get the Saturday rule (`TermRule.court_act`): the opposition (a writ served to start
  a lawsuit) and the service of the decree are acts of the proceedings out of the hearing: yes.
  The precetto's 10 days and the formal demand's 15 are the debtor's time to pay, and the
  precetto's lapse is met by starting the seizure: no. Where the law is open to argument the
  choice errs on the creditor's side: terms it must wait out (opposition, precetto) come out no
  earlier than the law's, and terms it must meet (`TermRule.creditor_meets`: the decree's service,
  the precetto's lapse) no later: their `Deadline.last_day` is the safe last day, the earliest
  of the readings argued (whether the August suspension applies to art. 644, whether a Saturday
  or the seat's patron day extends the term, whether a last day moved into August moves past
  it), the explanation naming the others; `Deadline.law_last_day` keeps the rule's own reading
  (a lapse is declared only after it). Sundays and national holidays extend every reading.
- A dilatory term (`TermRule.dilatory`, the precetto's 10 days) says when something may be done
  *after* it: enforcement may begin the day after `Deadline.last_day` (`Deadline.may_act_from`).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Collection, Iterable
from dataclasses import KW_ONLY, dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Literal

import holidays

from domain.calendar import end_of_rome_day, rome_date

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "OPPOSITION",
    "OPPOSITION_EU",
    "OPPOSITION_NON_EU",
    "DECREE_SERVICE",
    "DECREE_SERVICE_ABROAD",
    "PRECETTO_TERM",
    "PRECETTO_LAPSE",
    "FORMAL_DEMAND",
    "RULES",
    "CourtCalendarError",
    "Deadline",
    "FerialeWindow",
    "TermRule",
    "add_months",
    "compute_deadline",
    "demand_deadline",
    "letter_pay_by",
    "feriale_window",
    "is_court_holiday",
    "is_public_holiday",
    "public_holiday_name",
    "reminder_dates",
]

# The years the holiday table covers; a date outside them is an error, not a guess.
FIRST_YEAR = 1970
LAST_YEAR = 2100

_ONE_DAY = timedelta(days=1)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class CourtCalendarError(ValueError):
    """A date outside the supported years, or a term the rule does not allow."""


def _build_holiday_table() -> MappingProxyType[date, str]:
    # National holidays only (no subdiv): patron saints' days are local, see the module docstring.
    table = holidays.country_holidays(
        "IT", years=range(FIRST_YEAR, LAST_YEAR + 1), language="en_US"
    )
    return MappingProxyType({day: str(name) for day, name in sorted(table.items())})


_HOLIDAYS = _build_holiday_table()


def _check_year(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CourtCalendarError(
            f"{day.isoformat()} is outside the court calendar ({FIRST_YEAR}-{LAST_YEAR})"
        )


def _describe(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.isoformat()}"


# -- holidays --------------------------------------------------------------------------------


def public_holiday_name(day: date) -> str | None:
    """The national public holiday on `day` (English name), or None. Sundays are not listed here
    unless a holiday falls on them; `is_court_holiday` treats every Sunday as a holiday."""
    _check_year(day)
    return _HOLIDAYS.get(day)


def is_public_holiday(day: date) -> bool:
    return public_holiday_name(day) is not None


def is_court_holiday(
    day: date, saturday_counts: bool, *, extra_holidays: Collection[date] = ()
) -> bool:
    """True if a term ending on `day` is extended (art. 155 commi 4-5 c.p.c.): a Sunday, a national
    public holiday, one of `extra_holidays` (local closures the caller knows of), or a Saturday when
    `saturday_counts` (acts of the proceedings due out of the hearing)."""
    _check_year(day)
    weekday = day.weekday()
    if weekday == 6 or (saturday_counts and weekday == 5):
        return True
    return day in _HOLIDAYS or day in extra_holidays


def _why_not_working(day: date, saturday_counts: bool, extra_holidays: Collection[date]) -> str:
    name = _HOLIDAYS.get(day)
    if name is not None:
        return f"{_describe(day)} is a public holiday ({name})"
    if day in extra_holidays:
        return f"{_describe(day)} is a local holiday"
    if day.weekday() == 6:
        return f"{day.isoformat()} is a Sunday"
    return (
        f"{day.isoformat()} is a Saturday, a holiday for acts due in court (art. 155 c. 5 c.p.c.)"
    )


# -- the August suspension -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FerialeWindow:
    """The days of one year on which judicial terms do not run, both ends included."""

    first: date
    last: date
    source: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def label(self) -> str:
        if self.first.month == self.last.month:
            span = f"{self.first.day}-{self.last.day} {_MONTHS[self.last.month - 1]}"
        else:
            span = (
                f"{self.first.day} {_MONTHS[self.first.month - 1]}"
                f"-{self.last.day} {_MONTHS[self.last.month - 1]}"
            )
        return f"{span} {self.first.year}"


def feriale_window(year: int) -> FerialeWindow:
    """The suspension window in force in `year`: 1-31 August from 2015 (D.L. 132/2014 art. 16),
    1 August-15 September before (L. 742/1969 art. 1, original text)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CourtCalendarError(f"{year} is outside the court calendar ({FIRST_YEAR}-{LAST_YEAR})")
    if year >= 2015:
        return FerialeWindow(
            date(year, 8, 1), date(year, 8, 31), "L. 742/1969 as amended by D.L. 132/2014"
        )
    return FerialeWindow(date(year, 8, 1), date(year, 9, 15), "L. 742/1969")


def _window_containing(day: date) -> FerialeWindow | None:
    window = feriale_window(day.year)
    return window if day in window else None


# -- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TermRule:
    """A legal term: `days` or `months` (exactly one), whether the August suspension applies
    (`feriale`), whether a Saturday extends it like a holiday (`court_act`, art. 155 c. 5 c.p.c.),
    the law (`source`), the range a judge or the parties may set instead (`min_days`..`max_days`,
    for `days_override`), whether it is a dilatory term (the act may be done only after it), and
    the law the computation follows (`computed_by`)."""

    name: str
    days: int | None = None
    months: int | None = None
    _: KW_ONLY
    feriale: bool
    court_act: bool
    source: str
    min_days: int | None = None
    max_days: int | None = None
    dilatory: bool = False
    computed_by: str = "art. 155 c.p.c."
    # A term the creditor must meet (the decree's service, the precetto's lapse): its deadline is
    # the safe last day, the earliest the debated readings of the law give (`Deadline.last_day`),
    # the rule's own reading kept as `Deadline.law_last_day`.
    creditor_meets: bool = False
    # Whether the August suspension applies to the term is argued: the safe day takes both.
    feriale_debated: bool = False

    def __post_init__(self) -> None:
        if (self.days is None) == (self.months is None):
            raise CourtCalendarError(f"{self.name}: a term is in days or in months, exactly one")
        length = self.days if self.days is not None else self.months
        if length is None or length < 1:
            raise CourtCalendarError(f"{self.name}: the term must be at least 1")
        if self.days is None and (self.min_days is not None or self.max_days is not None):
            raise CourtCalendarError(f"{self.name}: a range in days needs a term in days")
        if self.min_days is not None and not 1 <= self.min_days <= length:
            raise CourtCalendarError(f"{self.name}: the default term is below its own minimum")
        if self.max_days is not None and self.max_days < length:
            raise CourtCalendarError(f"{self.name}: the default term is above its own maximum")


OPPOSITION = TermRule(
    "opposition to a decreto ingiuntivo",
    days=40,
    feriale=True,
    court_act=True,
    source="art. 641 c.p.c.",
    min_days=10,
    max_days=60,
)
OPPOSITION_EU = TermRule(
    "opposition to a decreto ingiuntivo, debtor resident in another EU state",
    days=50,
    feriale=True,
    court_act=True,
    source="art. 641 c. 2 c.p.c.",
    min_days=20,
    max_days=50,
)
OPPOSITION_NON_EU = TermRule(
    "opposition to a decreto ingiuntivo, debtor resident outside the EU",
    days=60,
    feriale=True,
    court_act=True,
    source="art. 641 c. 2 c.p.c.",
    min_days=30,
    max_days=120,
)
DECREE_SERVICE = TermRule(
    "service of the decreto ingiuntivo in Italy (from its issue)",
    days=60,
    feriale=True,
    court_act=True,
    source="art. 644 c.p.c.",
    creditor_meets=True,
    feriale_debated=True,
)
DECREE_SERVICE_ABROAD = TermRule(
    "service of the decreto ingiuntivo abroad (from its issue)",
    days=90,
    feriale=True,
    court_act=True,
    source="art. 644 c.p.c.",
    creditor_meets=True,
    feriale_debated=True,
)
PRECETTO_TERM = TermRule(
    "term to pay under the precetto (no enforcement before it runs out)",
    days=10,
    feriale=False,
    court_act=False,
    source="artt. 480, 482 c.p.c.",
    min_days=10,
    max_days=None,
    dilatory=True,
)
PRECETTO_LAPSE = TermRule(
    "lapse of the precetto unless enforcement has begun",
    days=90,
    feriale=False,
    court_act=False,
    source="art. 481 c.p.c.",
    creditor_meets=True,
)
FORMAL_DEMAND = TermRule(
    "term of the formal demand (diffida ad adempiere)",
    days=15,
    feriale=False,
    court_act=False,
    source="art. 1454 c.c.",
    min_days=1,
    computed_by="artt. 1187, 2963 c.c.",
)

RULES: MappingProxyType[str, TermRule] = MappingProxyType(
    {
        "opposition": OPPOSITION,
        "opposition_eu": OPPOSITION_EU,
        "opposition_non_eu": OPPOSITION_NON_EU,
        "decree_service": DECREE_SERVICE,
        "decree_service_abroad": DECREE_SERVICE_ABROAD,
        "precetto_term": PRECETTO_TERM,
        "precetto_lapse": PRECETTO_LAPSE,
        "formal_demand": FORMAL_DEMAND,
    }
)


# -- computation -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed term. `last_day` is the deadline: the term runs out at the end of it (Rome time,
    `ends_at`). `term_end` is the last day counted, before any holiday extension; `suspended_days`
    the days of August (or of the pre-2015 window) not counted."""

    rule: TermRule
    start: date
    length: int
    unit: Literal["days", "months"]
    term_end: date
    last_day: date
    suspended_days: int
    explanation: str
    # the last day under the reading the rule models; for a term the creditor must meet
    # (`TermRule.creditor_meets`) it may be later than `last_day`, the safe last day
    law_last_day: date

    @property
    def law_ends_at(self) -> datetime:
        return end_of_rome_day(self.law_last_day)

    @property
    def ends_at(self) -> datetime:
        return end_of_rome_day(self.last_day)

    @property
    def may_act_from(self) -> date:
        """For a dilatory term: the first day the act (enforcement) may be done."""
        return self.last_day + _ONE_DAY


def add_months(day: date, months: int) -> date:
    """The same day number `months` later, clipped to the end of a shorter month (art. 155 c. 2)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def _advance(day: date, count: int, feriale: bool) -> date:
    """`count` counted days after `day`, not counting the days of suspension windows."""
    remaining = count
    while remaining:
        day += _ONE_DAY
        _check_year(day)
        window = _window_containing(day) if feriale else None
        if window is not None:
            day = window.last
            continue
        remaining -= 1
    return day


def _windows_between(after: date, through: date) -> list[tuple[FerialeWindow, int]]:
    """The suspension windows overlapping the days after `after` through `through`, each with the
    number of its days in that span."""
    found: list[tuple[FerialeWindow, int]] = []
    for year in range(after.year, through.year + 1):
        window = feriale_window(year)
        first = max(window.first, after + _ONE_DAY)
        last = min(window.last, through)
        if first <= last:
            found.append((window, (last - first).days + 1))
    return found


@dataclass(frozen=True, slots=True)
class _Reading:
    term_end: date
    last_day: date
    suspended_days: int
    parts: list[str]


def _read(
    rule: TermRule,
    start: date,
    length: int,
    unit: Literal["days", "months"],
    extra_holidays: Collection[date],
    past_window: bool,
) -> _Reading:
    """The term under one reading of the law: `rule.feriale` and `rule.court_act` as given,
    `extra_holidays` extending it, and (`past_window`) a last day moved into the August
    suspension moved again past it (Cass. 2258/1985)."""
    parts: list[str] = []
    counting_from = start
    start_window = _window_containing(start) if rule.feriale else None
    if start_window is not None:
        counting_from = start_window.last
        parts.append(
            f"starts during the suspension ({start_window.label()}, {start_window.source}):"
            f" counting begins on {(start_window.last + _ONE_DAY).isoformat()}"
        )

    if unit == "days":
        term_end = _advance(counting_from, length, rule.feriale)
    else:
        term_end = add_months(counting_from, length)
        _check_year(term_end)
        if rule.feriale:
            # Calendar months first, then the suspended days inside them (Cass. 6748/2005).
            suspended = sum(days for _, days in _windows_between(counting_from, term_end))
            term_end = _advance(term_end, suspended, True)

    crossed = _windows_between(counting_from, term_end) if rule.feriale else []
    if not rule.feriale and (
        _window_containing(start) is not None or _windows_between(start, term_end)
    ):
        parts.append("not subject to the August suspension")
    suspended_days = sum(days for _, days in crossed)
    for crossed_window, days in crossed:
        parts.append(f"{crossed_window.label()} suspended (+{days} days, {crossed_window.source})")
    if crossed or start_window is not None:
        parts.append(f"the term ends on {_describe(term_end)}")

    last_day = term_end
    saturday = rule.court_act
    if is_court_holiday(last_day, saturday, extra_holidays=extra_holidays):
        reasons: list[str] = []
        shifted_into_window: FerialeWindow | None = None
        while True:
            if is_court_holiday(last_day, saturday, extra_holidays=extra_holidays):
                reasons.append(_why_not_working(last_day, saturday, extra_holidays))
                last_day += _ONE_DAY
                _check_year(last_day)
                continue
            inside = _window_containing(last_day) if rule.feriale and past_window else None
            if inside is not None:
                shifted_into_window = inside
                last_day = inside.last + _ONE_DAY
                continue
            break
        moved = f"moved to {_describe(last_day)} ({rule.computed_by})"
        if shifted_into_window is not None:
            cautious = term_end - _ONE_DAY
            while is_court_holiday(cautious, saturday, extra_holidays=extra_holidays):
                cautious -= _ONE_DAY
            moved = (
                f"the next working day falls in the suspension ({shifted_into_window.label()}):"
                f" moved to {_describe(last_day)} (Cass. 2258/1985); a cautious practice acts by"
                f" {_describe(cautious)}"
            )
        parts.append("; ".join(reasons) + ": " + moved)
    elif not (crossed or start_window is not None):
        parts.append(f"ends on {_describe(last_day)}")
    return _Reading(term_end, last_day, suspended_days, parts)


def _reading_label(
    rule: TermRule, feriale: bool, saturday: bool, local: bool, past_window: bool
) -> str:
    said: list[str] = []
    if rule.feriale_debated:
        said.append(
            "the August suspension applying" if feriale else "the August suspension not applying"
        )
    if rule.court_act:
        said.append(
            "a Saturday extending the term (art. 155 c. 5 c.p.c.)"
            if saturday
            else "a Saturday not extending it (art. 155 c. 5 read as not covering this act)"
        )
    if local:
        said.append("the patron saint's day of the court's seat extending it")
    if feriale and rule.feriale:
        said.append(
            "a day moved into the suspension moved past it (Cass. 2258/1985)"
            if past_window
            else "a day moved into the suspension staying there"
        )
    return ", ".join(said) or "the rule's reading"


def _safe_last_day(
    rule: TermRule,
    start: date,
    length: int,
    unit: Literal["days", "months"],
    extra_holidays: Collection[date],
    law: _Reading,
) -> tuple[date, str]:
    """For a term the creditor must meet: the earliest last day among the debated readings
    (whether the August suspension applies when `feriale_debated`, whether a Saturday extends it,
    whether a local holiday does, whether a day moved into the suspension moves past it), and the
    explanation naming the alternatives. Sundays and national holidays always extend a term (art.
    155 c. 4 c.p.c. is not debated)."""
    ferials = (rule.feriale, not rule.feriale) if rule.feriale_debated else (rule.feriale,)
    saturdays = (rule.court_act, False) if rule.court_act else (False,)
    locals_ = (True, False) if extra_holidays else (False,)
    found: dict[date, str] = {}
    for feriale in ferials:
        for saturday in saturdays:
            for local in locals_:
                for past_window in (True, False):
                    variant = TermRule(
                        rule.name,
                        rule.days,
                        rule.months,
                        feriale=feriale,
                        court_act=saturday,
                        source=rule.source,
                        computed_by=rule.computed_by,
                    )
                    reading = _read(
                        variant, start, length, unit, extra_holidays if local else (), past_window
                    )
                    label = _reading_label(rule, feriale, saturday, local, past_window)
                    found.setdefault(reading.last_day, label)
    safe = min(found)
    others = [f"{_describe(day)} with {found[day]}" for day in sorted(found) if day != safe]
    text = (
        f"safe last day {_describe(safe)}: a term the creditor must meet is shown at the earliest"
        f" day the readings of the law give ({found[safe]})"
    )
    if others:
        text += "; debated alternatives: " + "; ".join(others)
    if safe.weekday() == 5:
        text += "; a Saturday: act by the Friday before where the office is closed on Saturdays"
    elif extra_holidays and safe in extra_holidays:
        text += "; the court's offices are closed that day: act by the working day before"
    assert safe <= law.last_day
    return safe, text


def compute_deadline(
    rule: TermRule,
    start: date,
    days_override: int | None = None,
    *,
    extra_holidays: Collection[date] = (),
    safe_side: bool = True,
) -> Deadline:
    """The deadline of `rule` counted from the event on `start` (service, issue of the decree,
    receipt of the demand), with an explanation for the practice page. `days_override` is a term set
    by the judge or the parties instead of the default, within the rule's range. `extra_holidays`
    are the local holidays of the place (the patron saint's day of the court's seat,
    `domain.court_seats`). For a term the creditor must meet (`TermRule.creditor_meets`),
    `last_day` is the safe last day and `law_last_day` the rule's reading; `safe_side=False` gives
    the rule's reading for both (practices started before the safe day existed)."""
    _check_year(start)
    if days_override is not None and rule.days is None:
        raise CourtCalendarError(f"{rule.name}: a term in months takes no override in days")
    if days_override is not None:
        low = rule.min_days if rule.min_days is not None else 1
        if days_override < low or (rule.max_days is not None and days_override > rule.max_days):
            upper = "" if rule.max_days is None else f"-{rule.max_days}"
            raise CourtCalendarError(
                f"{rule.name}: {days_override} days is outside the allowed {low}{upper} days"
                f" ({rule.source})"
            )

    unit: Literal["days", "months"] = "days" if rule.days is not None else "months"
    length = days_override if days_override is not None else (rule.days or rule.months or 0)

    parts = [f"{length} {unit} from {start.isoformat()} ({rule.source})"]
    if days_override is not None and days_override != rule.days:
        parts[0] += f", as set instead of the {rule.days} days default"
    law = _read(rule, start, length, unit, extra_holidays, past_window=True)
    parts.extend(law.parts)
    last_day = law.last_day
    if rule.creditor_meets and safe_side:
        last_day, text = _safe_last_day(rule, start, length, unit, extra_holidays, law)
        parts.append(text)

    if rule.dilatory:
        parts.append(f"what it holds back may be done from {_describe(last_day + _ONE_DAY)}")

    return Deadline(
        rule=rule,
        start=start,
        length=length,
        unit=unit,
        term_end=law.term_end,
        last_day=last_day,
        suspended_days=law.suspended_days,
        explanation="; ".join(parts),
        law_last_day=law.last_day,
    )


def demand_deadline(sent_on: date, term: timedelta) -> Deadline:
    """The formal demand's term (art. 1454 c.c.) of the strategy's `term`, counted from the day it
    is sent, in whole days (a part of a day counts as a day: the debtor never gets less): the
    last day moves past a Sunday or a public holiday (artt. 1187, 2963 c.c.)."""
    days = -(-term // _ONE_DAY)  # ceiling
    if days < 1:
        raise CourtCalendarError("a formal demand's term is at least one day")
    return compute_deadline(FORMAL_DEMAND, sent_on, days)


def letter_pay_by(sent_at: datetime, wait: timedelta) -> date | None:
    """The last day a reminder letter gives the debtor to pay, when the practice acts again
    `wait` after sending it: the day before the one on which it acts, so that a payment made on
    the day printed always comes before the next step. None when the practice acts the same day
    or the next (the letter then asks to pay as soon as possible)."""
    last = rome_date(sent_at + wait) - _ONE_DAY
    return last if last > rome_date(sent_at) else None


def reminder_dates(
    deadline: date,
    before: Iterable[int],
    *,
    saturday_counts: bool = True,
    extra_holidays: Collection[date] = (),
) -> list[date]:
    """The days to remind someone of `deadline`: `n` days before it for each `n` in `before`, moved
    back to the previous working day (Monday-Friday by default, `saturday_counts=False` to allow
    Saturdays; never a Sunday or holiday). Sorted, without repeats (10 and 9 days before a Monday
    may both land on the same Friday). The August suspension does not matter here."""
    found: set[date] = set()
    for offset in before:
        if offset < 0:
            raise CourtCalendarError(f"a reminder is 0 or more days before, not {offset}")
        day = deadline - timedelta(days=offset)
        while is_court_holiday(day, saturday_counts, extra_holidays=extra_holidays):
            day -= _ONE_DAY
        found.add(day)
    return sorted(found)
