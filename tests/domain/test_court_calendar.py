"""domain.court_calendar: art. 155 c.p.c., the August suspension and the Italian public holidays.

Every expected date in the tables was worked by hand; the comment beside it shows the count
("Jul 21-31 = 11" means those days are days 1 to 11 of the term). Weekdays used below:
2026-01-01 is a Thursday, 2026-07-20 a Monday, 2022-07-31 a Sunday, 2013-07-10 a Wednesday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.court_calendar import (
    DECREE_SERVICE,
    DECREE_SERVICE_ABROAD,
    FORMAL_DEMAND,
    OPPOSITION,
    OPPOSITION_EU,
    OPPOSITION_NON_EU,
    PRECETTO_LAPSE,
    PRECETTO_TERM,
    RULES,
    CourtCalendarError,
    TermRule,
    add_months,
    compute_deadline,
    feriale_window,
    is_court_holiday,
    public_holiday_name,
    reminder_dates,
)

# Terms in months: none of the product's rules is one, so test rules stand in.
ONE_MONTH = TermRule("one month", months=1, feriale=False, court_act=False, source="test")
ONE_MONTH_COURT = replace(ONE_MONTH, court_act=True)
ONE_MONTH_FERIALE = replace(ONE_MONTH, feriale=True)
SIX_MONTHS = TermRule("six months", months=6, feriale=False, court_act=False, source="test")
SIX_MONTHS_FERIALE = replace(SIX_MONTHS, feriale=True)
ONE_YEAR_FERIALE = TermRule("a year", months=12, feriale=True, court_act=False, source="test")
# The same rules without the suspension, to compare with.
OPPOSITION_NO_FERIALE = replace(OPPOSITION, feriale=False)
OPPOSITION_NO_SATURDAY = replace(OPPOSITION, court_act=False)
PRECETTO_LAPSE_SUSPENDED = replace(PRECETTO_LAPSE, feriale=True)

D = date


@pytest.mark.parametrize(
    ("rule", "start", "override", "last_day"),
    [
        # -- the brief's example: decree served Monday 20 July 2026, 40 days to oppose
        # Jul 21-31 = 11, August suspended, Sep 1-29 = 29 -> 40 = Tuesday 29 September
        (OPPOSITION, D(2026, 7, 20), None, D(2026, 9, 29)),
        # the judge set 20 days instead: Jul 21-31 = 11, Sep 1-9 = 9 -> Wednesday 9 September
        (OPPOSITION, D(2026, 7, 20), 20, D(2026, 9, 9)),
        # -- terms that start in August: counting begins on 1 September (day 1)
        # Sep 1-30 = 30, Oct 1-10 = 10 -> Saturday 10 October: a court act -> Monday 12 October
        (OPPOSITION, D(2026, 8, 5), None, D(2026, 10, 12)),
        # served on 31 July or 31 August: the same count (the window's last day is the dies a quo)
        (OPPOSITION, D(2026, 7, 31), None, D(2026, 10, 12)),
        (OPPOSITION, D(2026, 8, 31), None, D(2026, 10, 12)),
        (OPPOSITION, D(2026, 8, 1), None, D(2026, 10, 12)),
        # a term served on 1 September starts normally: Sep 2-30 = 29, Oct 1-11 = 11 -> Sunday
        # 11 October -> Monday 12 October
        (OPPOSITION, D(2026, 9, 1), None, D(2026, 10, 12)),
        # the formal demand is not suspended: Aug 6-20 = 15 -> Thursday 20 August (ends in August)
        (FORMAL_DEMAND, D(2026, 8, 5), None, D(2026, 8, 20)),
        # nor is the precetto's 10 days: Aug 6-15 = 10 -> Saturday 15 August, Assumption ->
        # Sunday 16 -> Monday 17 August
        (PRECETTO_TERM, D(2026, 8, 5), None, D(2026, 8, 17)),
        # -- terms crossing August
        # Jun 23-30 = 8, Jul 1-31 = 31 (39), August suspended, Sep 1 = 40 -> Tuesday 1 September
        (OPPOSITION, D(2026, 6, 22), None, D(2026, 9, 1)),
        # service of the decree, 60 days from issue on 15 June: Jun 16-30 = 15, Jul = 31 (46),
        # Sep 1-14 = 14 -> Monday 14 September
        (DECREE_SERVICE, D(2026, 6, 15), None, D(2026, 9, 14)),
        # abroad, 90 days: 46 to 31 July, Sep 1-30 = 30 (76), Oct 1-14 = 14 -> Wednesday 14 October
        (DECREE_SERVICE_ABROAD, D(2026, 6, 15), None, D(2026, 10, 14)),
        # the precetto's 90-day lapse runs through August: Jul 21-31 = 11, Aug = 31 (42),
        # Sep = 30 (72), Oct 1-18 = 18 -> Sunday 18 October -> Monday 19 October
        (PRECETTO_LAPSE, D(2026, 7, 20), None, D(2026, 10, 19)),
        # -- terms ending in August without the suspension
        # May 18-31 = 14, Jun = 30 (44), Jul = 31 (75), Aug 1-15 = 15 -> Saturday 15 August,
        # Assumption -> Sunday 16 -> Monday 17 August
        (PRECETTO_LAPSE, D(2026, 5, 17), None, D(2026, 8, 17)),
        # ... and the same term configured as suspended: Aug 15 + 31 -> Tuesday 15 September
        (PRECETTO_LAPSE_SUSPENDED, D(2026, 5, 17), None, D(2026, 9, 15)),
        # 15 August 2027 is a Sunday: Aug 1-15 = 15 -> Monday 16 August
        (FORMAL_DEMAND, D(2027, 7, 31), None, D(2027, 8, 16)),
        # -- a term ending on Sunday 31 July, just before the suspension
        # Jun 22-30 = 9, Jul 1-31 = 31 -> Sunday 31 July 2022; Monday 1 August is suspended ->
        # first working day after the window, Thursday 1 September 2022
        (OPPOSITION, D(2022, 6, 21), None, D(2022, 9, 1)),
        # without the suspension it would simply be Monday 1 August
        (OPPOSITION_NO_FERIALE, D(2022, 6, 21), None, D(2022, 8, 1)),
        # -- New Year and Epiphany
        # Dec 18-31 = 14, Jan 1 = 15 -> Thursday 1 January 2026 -> Friday 2 January
        (FORMAL_DEMAND, D(2025, 12, 17), None, D(2026, 1, 2)),
        # Dec 23-31 = 9, Jan 1-6 = 6 -> Tuesday 6 January 2026, Epiphany -> Wednesday 7 January
        (FORMAL_DEMAND, D(2025, 12, 22), None, D(2026, 1, 7)),
        # Nov 28-30 = 3, Dec = 31 (34), Jan 1-6 = 6 -> Epiphany -> Wednesday 7 January 2026
        (OPPOSITION, D(2025, 11, 27), None, D(2026, 1, 7)),
        # -- Christmas and St Stephen
        # Dec 11-25 = 15 -> Thursday 25 December 2025 -> Friday 26 (St Stephen) -> Saturday 27:
        # not a court act, Saturday is a working day
        (FORMAL_DEMAND, D(2025, 12, 10), None, D(2025, 12, 27)),
        # Nov 16-30 = 15, Dec 1-25 = 25 -> Christmas -> St Stephen -> Saturday (court act) ->
        # Sunday -> Monday 29 December 2025
        (OPPOSITION, D(2025, 11, 15), None, D(2025, 12, 29)),
        # 2026: Dec 11-25 = 15 -> Friday 25 -> Saturday 26 St Stephen (a holiday for everyone) ->
        # Sunday 27 -> Monday 28 December
        (FORMAL_DEMAND, D(2026, 12, 10), None, D(2026, 12, 28)),
        # -- Easter
        # Mar 23-31 = 9, Apr 1-6 = 6 -> Monday 6 April 2026, Easter Monday -> Tuesday 7 April
        (FORMAL_DEMAND, D(2026, 3, 22), None, D(2026, 4, 7)),
        # Mar 22-31 = 10, Apr 1-5 = 5 -> Easter Sunday 5 April -> Easter Monday -> Tuesday 7 April
        (FORMAL_DEMAND, D(2026, 3, 21), None, D(2026, 4, 7)),
        # Mar 20-29 = 10 -> Monday 29 March 2027, Easter Monday -> Tuesday 30 March
        (PRECETTO_TERM, D(2027, 3, 19), None, D(2027, 3, 30)),
        # -- 25 April
        # Apr 16-25 = 10 -> Saturday 25 April 2026, Liberation Day -> Sunday -> Monday 27 April
        (PRECETTO_TERM, D(2026, 4, 15), None, D(2026, 4, 27)),
        # Feb 25-28 = 4, Mar = 31 (35), Apr 1-25 = 25 -> Sunday 25 April 2027 -> Monday 26 April
        (DECREE_SERVICE, D(2027, 2, 24), None, D(2027, 4, 26)),
        # -- 1 May
        # Apr 17-30 = 14, May 1 = 15 -> Friday 1 May 2026 -> Saturday 2 May (not a court act)
        (FORMAL_DEMAND, D(2026, 4, 16), None, D(2026, 5, 2)),
        # Mar 23-31 = 9, Apr = 30 (39), May 1 = 40 -> Friday 1 May -> Saturday 2 (court act) ->
        # Sunday 3 -> Monday 4 May
        (OPPOSITION, D(2026, 3, 22), None, D(2026, 5, 4)),
        # -- 2 June
        # Apr 4-30 = 27, May = 31 (58), Jun 1-2 = 2 -> Tuesday 2 June 2026 -> Wednesday 3 June
        (DECREE_SERVICE, D(2026, 4, 3), None, D(2026, 6, 3)),
        # -- 4 October (San Francesco, a national holiday again from 2026, L. 151/2025)
        # Sep 20-30 = 11, Oct 1-4 = 4 -> Monday 4 October 2027 -> Tuesday 5 October
        (FORMAL_DEMAND, D(2027, 9, 19), None, D(2027, 10, 5)),
        # the same count in 2024: Friday 4 October 2024 was a working day
        (FORMAL_DEMAND, D(2024, 9, 19), None, D(2024, 10, 4)),
        # -- 1 November
        # Sep 23-30 = 8, Oct = 31 (39), Nov 1 = 40 -> Sunday 1 November 2026 -> Monday 2 November
        (OPPOSITION, D(2026, 9, 22), None, D(2026, 11, 2)),
        # Oct 18-31 = 14, Nov 1 = 15 -> Monday 1 November 2027 -> Tuesday 2 November
        (FORMAL_DEMAND, D(2027, 10, 17), None, D(2027, 11, 2)),
        # -- 8 December
        # Nov 24-30 = 7, Dec 1-8 = 8 -> Tuesday 8 December 2026 -> Wednesday 9 December
        (FORMAL_DEMAND, D(2026, 11, 23), None, D(2026, 12, 9)),
        # -- the Saturday rule: only for acts due in court
        # Feb 10-28 = 19, Mar 1-21 = 21 -> Saturday 21 March 2026 -> Monday 23 March
        (OPPOSITION, D(2026, 2, 9), None, D(2026, 3, 23)),
        (OPPOSITION_NO_SATURDAY, D(2026, 2, 9), None, D(2026, 3, 21)),
        # Mar 7-21 = 15 -> Saturday 21 March: the debtor's term to pay is not extended
        (FORMAL_DEMAND, D(2026, 3, 6), None, D(2026, 3, 21)),
        # -- the other opposition terms of art. 641 c. 2
        # EU, 50 days from Monday 2 March 2026: Mar 3-31 = 29, Apr 1-21 = 21 -> Tuesday 21 April
        (OPPOSITION_EU, D(2026, 3, 2), None, D(2026, 4, 21)),
        # outside the EU, 60 days: Mar 3-31 = 29, Apr 1-30 = 30 (59), May 1 = 60 -> Friday 1 May
        # -> Saturday (court act) -> Sunday -> Monday 4 May
        (OPPOSITION_NON_EU, D(2026, 3, 2), None, D(2026, 5, 4)),
        # the judge may go up to 120 days abroad: Mar 3-31 = 29, Apr = 30 (59), May = 31 (90),
        # Jun 1-30 = 30 -> Tuesday 30 June
        (OPPOSITION_NON_EU, D(2026, 3, 2), 120, D(2026, 6, 30)),
        # -- before 2015 the window was 1 August - 15 September (46 days)
        # Jul 11-31 = 21, Sep 16-30 = 15 (36), Oct 1-4 = 4 -> Friday 4 October 2013
        (OPPOSITION, D(2013, 7, 10), None, D(2013, 10, 4)),
        # served in the old window: Sep 16-30 = 15, Oct 1-25 = 25 -> Friday 25 October 2013
        (OPPOSITION, D(2013, 8, 20), None, D(2013, 10, 25)),
        # served 10 Sep 2014, in the old window: Sep 16-Oct 25 = 40, a Saturday -> Monday 27
        (OPPOSITION, D(2014, 9, 10), None, D(2014, 10, 27)),
        # same start, last year of each window: Jul 21-31 = 11, Sep 16-Oct 14 = 29 -> Tuesday
        # 14 October 2014; in 2015 Sep 1-29 = 29 -> Tuesday 29 September 2015
        (OPPOSITION, D(2014, 7, 20), None, D(2014, 10, 14)),
        (OPPOSITION, D(2015, 7, 20), None, D(2015, 9, 29)),
        # Cass. 6679/2005: 16 September counts as day 1 even when it is a Sunday (2012):
        # Sep 16-25 = 10 -> Tuesday 25 September 2012
        (OPPOSITION, D(2012, 8, 10), 10, D(2012, 9, 25)),
        # -- terms in months (common calendar, clipped to the month's end)
        # 31 January 2026 + 1 month = Saturday 28 February; not a court act
        (ONE_MONTH, D(2026, 1, 31), None, D(2026, 2, 28)),
        # ... a court act: Saturday -> Sunday 1 March -> Monday 2 March
        (ONE_MONTH_COURT, D(2026, 1, 31), None, D(2026, 3, 2)),
        # leap year: 31 January 2024 + 1 month = Thursday 29 February
        (ONE_MONTH, D(2024, 1, 31), None, D(2024, 2, 29)),
        # 31 March + 1 month = Thursday 30 April 2026
        (ONE_MONTH, D(2026, 3, 31), None, D(2026, 4, 30)),
        # 31 August 2026 + 6 months = Sunday 28 February 2027 -> Monday 1 March
        (SIX_MONTHS, D(2026, 8, 31), None, D(2027, 3, 1)),
        # suspended: 10 February + 6 months = 10 August; its 10 days of August are added after
        # the window -> Thursday 10 September 2026 (= 10 August + 31)
        (SIX_MONTHS_FERIALE, D(2026, 2, 10), None, D(2026, 9, 10)),
        # starting in August: 31 August is the dies a quo, + 1 month = Wednesday 30 September
        (ONE_MONTH_FERIALE, D(2026, 8, 10), None, D(2026, 9, 30)),
        # a year from 15 March 2026 = 15 March 2027, + 31 days of August 2026 -> Thursday 15 April
        (ONE_YEAR_FERIALE, D(2026, 3, 15), None, D(2027, 4, 15)),
        # the two methods for months at the window's edge (not monotonic, see the module doc):
        # 31 July + 1 month = 31 August, + 31 suspended days -> Thursday 1 October 2026; from
        # 1 August the term starts after the window: 31 August + 1 month -> Wednesday 30 September
        (ONE_MONTH_FERIALE, D(2026, 7, 31), None, D(2026, 10, 1)),
        (ONE_MONTH_FERIALE, D(2026, 8, 1), None, D(2026, 9, 30)),
    ],
)
def test_deadline_table(rule: TermRule, start: date, override: int | None, last_day: date) -> None:
    """The rule's own reading of the law (`law_last_day`); for a term the creditor must meet the
    deadline shown is the safe last day, never later (test_safe_last_day_*)."""
    deadline = compute_deadline(rule, start, override)
    assert deadline.law_last_day == last_day
    assert not is_court_holiday(deadline.law_last_day, rule.court_act)
    assert deadline.last_day <= deadline.law_last_day
    if not rule.creditor_meets:
        assert deadline.last_day == deadline.law_last_day
    assert compute_deadline(rule, start, override, safe_side=False).last_day == last_day
    assert start.isoformat() in deadline.explanation
    assert rule.source in deadline.explanation


def test_brief_example_explained() -> None:
    deadline = compute_deadline(OPPOSITION, date(2026, 7, 20))
    assert deadline.term_end == deadline.last_day == date(2026, 9, 29)
    assert deadline.suspended_days == 31
    assert deadline.length == 40 and deadline.unit == "days"
    assert deadline.explanation == (
        "40 days from 2026-07-20 (art. 641 c.p.c.); 1-31 August 2026 suspended (+31 days,"
        " L. 742/1969 as amended by D.L. 132/2014); the term ends on Tuesday 2026-09-29"
    )
    # the term runs out at midnight at the end of that day in Rome (summer time: 22:00 UTC)
    assert deadline.ends_at == datetime(2026, 9, 29, 22, 0, tzinfo=UTC)


def test_explanations_say_what_moved_the_deadline() -> None:
    started_in_august = compute_deadline(OPPOSITION, date(2026, 8, 5))
    assert started_in_august.term_end == date(2026, 10, 10)
    assert started_in_august.suspended_days == 0
    text = started_in_august.explanation
    assert "starts during the suspension" in text and "counting begins on 2026-09-01" in text
    assert "2026-10-10 is a Saturday, a holiday for acts due in court" in text
    assert "2026-10-11 is a Sunday" in text
    assert text.endswith("moved to Monday 2026-10-12 (art. 155 c.p.c.)")

    holiday = compute_deadline(FORMAL_DEMAND, date(2026, 3, 22)).explanation
    assert "Monday 2026-04-06 is a public holiday (Easter Monday)" in holiday
    assert holiday.endswith("moved to Tuesday 2026-04-07 (artt. 1187, 2963 c.c.)")

    before_window = compute_deadline(OPPOSITION, date(2022, 6, 21)).explanation
    assert "the next working day falls in the suspension (1-31 August 2022)" in before_window
    assert "a cautious practice acts by Friday 2022-07-29" in before_window

    precetto = compute_deadline(PRECETTO_TERM, date(2026, 8, 5))
    assert "not subject to the August suspension" in precetto.explanation
    assert precetto.may_act_from == date(2026, 8, 18)
    assert precetto.explanation.endswith("may be done from Tuesday 2026-08-18")

    old = compute_deadline(OPPOSITION, date(2013, 7, 10))
    assert old.suspended_days == 46
    assert "1 August-15 September 2013 suspended (+46 days, L. 742/1969)" in old.explanation

    override = compute_deadline(OPPOSITION, date(2026, 7, 20), 20).explanation
    assert "20 days from 2026-07-20 (art. 641 c.p.c.), as set instead of the 40 days" in override


def test_local_holidays_are_the_callers() -> None:
    # Jun 15-29 = 15 -> Monday 29 June 2026, Saints Peter and Paul: a holiday in Rome only
    assert compute_deadline(FORMAL_DEMAND, date(2026, 6, 14)).last_day == date(2026, 6, 29)
    rome = compute_deadline(FORMAL_DEMAND, date(2026, 6, 14), extra_holidays={date(2026, 6, 29)})
    assert rome.last_day == date(2026, 6, 30)
    assert "Monday 2026-06-29 is a local holiday" in rome.explanation


@pytest.mark.parametrize(
    ("day", "saturday_counts", "holiday"),
    [
        (date(2026, 1, 1), False, True),
        (date(2026, 1, 6), False, True),
        (date(2026, 4, 6), False, True),  # Easter Monday
        (date(2027, 3, 29), False, True),  # Easter Monday
        (date(2026, 4, 7), False, False),
        (date(2026, 4, 25), False, True),
        (date(2026, 5, 1), False, True),
        (date(2026, 6, 2), False, True),
        (date(2026, 8, 14), False, False),
        (date(2026, 8, 15), False, True),
        (date(2027, 10, 4), False, True),  # San Francesco, from 2026
        (date(2024, 10, 4), False, False),
        (date(2027, 11, 1), False, True),
        (date(2026, 12, 8), False, True),
        (date(2026, 12, 25), False, True),
        (date(2026, 12, 26), False, True),
        (date(2026, 12, 24), False, False),
        (date(2026, 6, 29), False, False),  # patron saint of Rome: local, not included
        (date(2026, 12, 7), False, False),  # patron saint of Milan: local, not included
        (date(1982, 1, 6), False, False),  # Epiphany was not a holiday from 1977 to 1985
        (date(2026, 3, 22), False, True),  # a Sunday
        (date(2026, 3, 21), False, False),  # a Saturday...
        (date(2026, 3, 21), True, True),  # ...a holiday for court acts
        (date(2026, 3, 20), True, False),  # a Friday
    ],
)
def test_is_court_holiday(day: date, saturday_counts: bool, holiday: bool) -> None:
    assert is_court_holiday(day, saturday_counts) is holiday


def test_holiday_names_and_local_closures() -> None:
    assert public_holiday_name(date(2026, 4, 25)) == "Liberation Day"
    assert public_holiday_name(date(2026, 4, 24)) is None
    assert is_court_holiday(date(2026, 6, 29), False, extra_holidays={date(2026, 6, 29)})


def test_feriale_window_by_year() -> None:
    assert (feriale_window(2014).first, feriale_window(2014).last) == (
        D(2014, 8, 1),
        D(2014, 9, 15),
    )
    assert feriale_window(2014).days == 46
    assert (feriale_window(2015).first, feriale_window(2015).last) == (
        D(2015, 8, 1),
        D(2015, 8, 31),
    )
    assert feriale_window(2026).days == 31


def test_add_months() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 5, 31), 25) == date(2028, 6, 30)


@pytest.mark.parametrize(
    ("rule", "override"),
    [
        (OPPOSITION, 9),
        (OPPOSITION, 61),
        (OPPOSITION_EU, 19),
        (OPPOSITION_EU, 51),
        (OPPOSITION_NON_EU, 29),
        (OPPOSITION_NON_EU, 121),
        (PRECETTO_TERM, 9),
        (FORMAL_DEMAND, 0),
        (ONE_MONTH, 30),
    ],
)
def test_overrides_outside_the_range_are_refused(rule: TermRule, override: int) -> None:
    with pytest.raises(CourtCalendarError):
        compute_deadline(rule, date(2026, 3, 2), override)


def test_overrides_inside_the_range() -> None:
    assert compute_deadline(OPPOSITION, date(2026, 3, 2), 10).last_day == date(2026, 3, 12)
    assert compute_deadline(OPPOSITION, date(2026, 3, 2), 60).length == 60
    # the precetto may give more than 10 days; the formal demand less than 15 if agreed
    assert compute_deadline(PRECETTO_TERM, date(2026, 3, 2), 30).last_day == date(2026, 4, 1)
    assert compute_deadline(FORMAL_DEMAND, date(2026, 3, 2), 10).last_day == date(2026, 3, 12)


def test_bad_rules_and_dates() -> None:
    with pytest.raises(CourtCalendarError):
        TermRule("both", days=1, months=1, feriale=False, court_act=False, source="x")
    with pytest.raises(CourtCalendarError):
        TermRule("neither", feriale=False, court_act=False, source="x")
    with pytest.raises(CourtCalendarError):
        TermRule("zero", days=0, feriale=False, court_act=False, source="x")
    with pytest.raises(CourtCalendarError):
        TermRule("range", days=40, max_days=30, feriale=False, court_act=False, source="x")
    with pytest.raises(CourtCalendarError):
        compute_deadline(OPPOSITION, date(1969, 12, 31))
    with pytest.raises(CourtCalendarError):
        compute_deadline(OPPOSITION, date(2100, 12, 20))
    with pytest.raises(CourtCalendarError):
        is_court_holiday(date(2101, 1, 3), False)


def test_rule_table() -> None:
    assert set(RULES) == {
        "opposition",
        "opposition_eu",
        "opposition_non_eu",
        "decree_service",
        "decree_service_abroad",
        "precetto_term",
        "precetto_lapse",
        "formal_demand",
    }
    suspended = {key for key, rule in RULES.items() if rule.feriale}
    assert suspended == {
        "opposition",
        "opposition_eu",
        "opposition_non_eu",
        "decree_service",
        "decree_service_abroad",
    }
    assert {key for key, rule in RULES.items() if rule.court_act} == suspended
    assert (OPPOSITION.days, OPPOSITION.min_days, OPPOSITION.max_days) == (40, 10, 60)
    assert (OPPOSITION_EU.days, OPPOSITION_EU.min_days, OPPOSITION_EU.max_days) == (50, 20, 50)
    assert (OPPOSITION_NON_EU.days, OPPOSITION_NON_EU.min_days) == (60, 30)
    assert OPPOSITION_NON_EU.max_days == 120
    assert (DECREE_SERVICE.days, DECREE_SERVICE_ABROAD.days) == (60, 90)
    assert (PRECETTO_TERM.days, PRECETTO_LAPSE.days, FORMAL_DEMAND.days) == (10, 90, 15)
    assert PRECETTO_TERM.dilatory and not PRECETTO_LAPSE.dilatory


@pytest.mark.parametrize(
    ("deadline", "before", "saturday_counts", "expected"),
    [
        # Tuesday 29 September 2026: 10 before = Saturday 19 -> Friday 18; 3 before = Saturday 26
        # -> Friday 25; 1 before = Monday 28
        (D(2026, 9, 29), [10, 3, 1], True, [D(2026, 9, 18), D(2026, 9, 25), D(2026, 9, 28)]),
        # Tuesday 7 April 2026: the day before is Easter Monday -> Sunday -> Saturday -> Friday 3
        (D(2026, 4, 7), [1], True, [D(2026, 4, 3)]),
        # Monday 12 October 2026: 1, 2 and 3 days before all land on Friday 9 October
        (D(2026, 10, 12), [1, 2, 3], True, [D(2026, 10, 9)]),
        # ... unless Saturdays are working days for the reminder
        (D(2026, 10, 12), [1, 2, 3], False, [D(2026, 10, 9), D(2026, 10, 10)]),
        # Wednesday 7 January 2026: 1 before = Epiphany -> Monday 5; 3 before = Sunday 4 ->
        # Saturday 3 -> Friday 2 January (1 January is a holiday, but 2 January is not)
        (D(2026, 1, 7), [3, 1], True, [D(2026, 1, 2), D(2026, 1, 5)]),
        # 0 days before is the deadline itself
        (D(2026, 9, 29), [0], True, [D(2026, 9, 29)]),
        (D(2026, 9, 29), [], True, []),
    ],
)
def test_reminder_dates(
    deadline: date, before: list[int], saturday_counts: bool, expected: list[date]
) -> None:
    assert reminder_dates(deadline, before, saturday_counts=saturday_counts) == expected


def test_reminders_before_only() -> None:
    with pytest.raises(CourtCalendarError):
        reminder_dates(date(2026, 9, 29), [3, -1])


# -- properties ------------------------------------------------------------------------------------

DAY_RULES = [rule for rule in RULES.values() if rule.days is not None] + [
    OPPOSITION_NO_FERIALE,
    OPPOSITION_NO_SATURDAY,
    PRECETTO_LAPSE_SUSPENDED,
]
MONTH_RULES = [ONE_MONTH, ONE_MONTH_COURT, ONE_MONTH_FERIALE, SIX_MONTHS, SIX_MONTHS_FERIALE]
ALL_RULES = DAY_RULES + MONTH_RULES
SUSPENDED_RULES = [rule for rule in ALL_RULES if rule.feriale]

starts = st.dates(min_value=date(1971, 1, 1), max_value=date(2098, 12, 31))


@st.composite
def rule_and_length(draw: st.DrawFn, rules: list[TermRule]) -> tuple[TermRule, int | None]:
    rule = draw(st.sampled_from(rules))
    if rule.days is None or not draw(st.booleans()):
        return rule, None
    low = rule.min_days if rule.min_days is not None else 1
    high = rule.max_days if rule.max_days is not None else 120
    return rule, draw(st.integers(low, high))


def minimum_end(rule: TermRule, start: date, override: int | None) -> date:
    if rule.months is not None:
        return add_months(start, rule.months)
    days = override if override is not None else rule.days
    assert days is not None
    return start + timedelta(days=days)


@settings(max_examples=300)
@given(rule_and_length(ALL_RULES), starts)
def test_the_deadline_is_a_working_day_not_before_the_term(
    chosen: tuple[TermRule, int | None], start: date
) -> None:
    rule, override = chosen
    # the rule's own reading; the safe last day of a term the creditor must meet is never later
    # and, Sundays and national holidays extending every term, never on one of them
    safe = compute_deadline(rule, start, override)
    assert safe.last_day <= safe.law_last_day
    assert not is_court_holiday(safe.last_day, False)
    deadline = compute_deadline(rule, start, override, safe_side=False)
    assert deadline.law_last_day == safe.law_last_day == deadline.last_day
    assert not is_court_holiday(deadline.last_day, rule.court_act)
    assert deadline.last_day >= deadline.term_end >= minimum_end(rule, start, override)
    if rule.feriale:
        assert deadline.last_day not in feriale_window(deadline.last_day.year)
        assert deadline.term_end not in feriale_window(deadline.term_end.year)
    else:
        assert deadline.term_end == minimum_end(rule, start, override)
        assert deadline.suspended_days == 0
    # the extension only skips holidays (and, when it runs into one, a suspension window)
    skipped = (deadline.last_day - deadline.term_end).days
    window = feriale_window(deadline.term_end.year)
    ran_into_window = deadline.term_end < window.first and deadline.last_day > window.last
    assert skipped <= 5 or (rule.feriale and ran_into_window)
    assert deadline.explanation.startswith(f"{deadline.length} {deadline.unit} from {start}")


@settings(max_examples=300)
@given(rule_and_length(SUSPENDED_RULES), starts)
def test_the_suspension_only_ever_delays_by_the_window(
    chosen: tuple[TermRule, int | None], start: date
) -> None:
    rule, override = chosen
    suspended = compute_deadline(rule, start, override, safe_side=False)
    plain = compute_deadline(replace(rule, feriale=False), start, override, safe_side=False)
    assert suspended.term_end >= plain.term_end
    assert suspended.last_day >= plain.last_day

    window = feriale_window(start.year)
    next_window = feriale_window(start.year + 1)
    length = plain.length
    if start < window.first and plain.term_end < window.first and plain.last_day < window.first:
        # never reaches August: the suspension changes nothing
        assert suspended.last_day == plain.last_day
        assert suspended.suspended_days == 0
    elif start < window.first <= plain.term_end and (
        plain.term_end + timedelta(days=window.days) < next_window.first
    ):
        # running when August begins: exactly the window's days later (31, 46 before 2015)
        assert suspended.term_end == plain.term_end + timedelta(days=window.days)
        assert suspended.suspended_days == window.days
    elif start in window and rule.days is not None:
        # starts in the window: counted as if served on the window's last day
        if window.last + timedelta(days=length) < next_window.first:
            assert suspended.term_end == window.last + timedelta(days=length)
        assert suspended == replace(
            compute_deadline(rule, window.last, override, safe_side=False),
            start=start,
            explanation=suspended.explanation,
        )


# Terms in months with the suspension are not monotonic at the window's edge (module doc).
MONOTONIC_RULES = [rule for rule in ALL_RULES if not (rule.months is not None and rule.feriale)]


@settings(max_examples=300)
@given(rule_and_length(MONOTONIC_RULES), starts, st.integers(0, 400))
def test_deterministic_and_monotonic_in_the_start(
    chosen: tuple[TermRule, int | None], start: date, later_by: int
) -> None:
    rule, override = chosen
    later = min(start + timedelta(days=later_by), date(2098, 12, 31))
    first = compute_deadline(rule, start, override)
    assert compute_deadline(rule, start, override) == first
    second = compute_deadline(rule, later, override)
    assert first.term_end <= second.term_end
    assert first.last_day <= second.last_day


@settings(max_examples=200)
@given(
    st.dates(min_value=date(1971, 2, 1), max_value=date(2099, 12, 31)),
    st.lists(st.integers(0, 30), max_size=5),
    st.booleans(),
)
def test_reminders_are_working_days_on_or_before_their_offset(
    deadline: date, before: list[int], saturday_counts: bool
) -> None:
    reminders = reminder_dates(deadline, before, saturday_counts=saturday_counts)
    assert reminders == sorted(set(reminders))
    assert len(reminders) <= len(set(before))
    for day in reminders:
        assert day <= deadline
        assert not is_court_holiday(day, saturday_counts)
    for offset in before:
        target = deadline - timedelta(days=offset)
        chosen = max(day for day in reminders if day <= target)
        # nothing between the reminder and its target day was a working day
        assert all(
            is_court_holiday(chosen + timedelta(days=n), saturday_counts)
            for n in range(1, (target - chosen).days + 1)
        )


# -- terms the creditor must meet: the safe last day (issue 11 point 7) -------------------------


def test_safe_last_day_of_the_decree_service_is_never_later_than_the_law() -> None:
    """Issued Tuesday 1 June 2027: Jun 2-30 = 29, Jul 1-31 = 31 -> Saturday 31 July 2027. With
    the Saturday rule the next working day, Monday 2 August, is inside the suspension, moved to
    1 September by Cass. 2258/1985: the creditor is shown Saturday 31 July, the other readings
    explained."""
    deadline = compute_deadline(DECREE_SERVICE, date(2027, 6, 1))
    assert deadline.last_day == date(2027, 7, 31)
    assert deadline.law_last_day == date(2027, 9, 1)
    text = deadline.explanation
    assert "safe last day Saturday 2027-07-31" in text
    assert "Monday 2027-08-02" in text and "Wednesday 2027-09-01" in text
    assert "art. 155 c. 5" in text and "Cass. 2258/1985" in text
    assert "August suspension not applying" in text or "August suspension applying" in text


def test_safe_last_day_when_the_suspension_is_debated() -> None:
    """Issued 15 June 2026: suspended, the term runs to Monday 14 September; if the suspension
    does not apply to art. 644 (debated), 60 days end on Friday 14 August: the safe day."""
    deadline = compute_deadline(DECREE_SERVICE, date(2026, 6, 15))
    assert (deadline.last_day, deadline.law_last_day) == (date(2026, 8, 14), date(2026, 9, 14))
    assert "the August suspension not applying" in deadline.explanation


def test_a_patron_day_extends_a_waited_term_but_not_the_safe_day() -> None:
    """Milan, Sant'Ambrogio (7 December). An opposition term ending on it is extended for the
    creditor who waits it out; the precetto's lapse ending on it is shown on that day."""
    milan = [date(2026, 12, 7)]
    # 40 days from Tuesday 28 October 2026: Oct 29-31 = 3, Nov = 30 (33), Dec 1-7 = 7
    opposition = compute_deadline(OPPOSITION, date(2026, 10, 28), extra_holidays=milan)
    assert opposition.last_day == date(2026, 12, 9)  # 8 December is the Immaculate Conception
    assert compute_deadline(OPPOSITION, date(2026, 10, 28)).last_day == date(2026, 12, 7)
    # 90 days from Monday 8 September 2026: Sep 9-30 = 22, Oct = 31 (53), Nov = 30 (83),
    # Dec 1-7 = 7 -> Monday 7 December
    lapse = compute_deadline(PRECETTO_LAPSE, date(2026, 9, 8), extra_holidays=milan)
    assert lapse.law_last_day == date(2026, 12, 9)
    assert lapse.last_day == date(2026, 12, 7)
    assert "patron saint" in lapse.explanation
    assert "closed that day" in lapse.explanation


def test_the_formal_demand_of_the_strategy_is_on_the_court_calendar() -> None:
    """Issue 11 point 4: dated 22 March 2026 with 15 days, not 'pay by 6 April' (Easter Monday)
    but Tuesday 7 April; a part of a day counts as a day."""
    from domain.court_calendar import demand_deadline

    assert demand_deadline(date(2026, 3, 22), timedelta(days=15)).last_day == date(2026, 4, 7)
    assert demand_deadline(date(2026, 3, 6), timedelta(days=15)).last_day == date(2026, 3, 21)
    assert demand_deadline(date(2026, 3, 6), timedelta(days=14, hours=1)).last_day == date(
        2026, 3, 21
    )
    with pytest.raises(CourtCalendarError):
        demand_deadline(date(2026, 3, 6), timedelta(0))


def test_a_letters_term_is_the_last_day_before_the_practice_acts() -> None:
    """Issue 11 point 5: sent Monday 7 December 2026 at 10:00 with a 15-day wait, the practice
    acts on 22 December at 10:00: the letter says 21 December. No term under two days."""
    from domain.court_calendar import letter_pay_by

    sent = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Rome
    assert letter_pay_by(sent, timedelta(days=15)) == date(2026, 12, 21)
    assert letter_pay_by(sent, timedelta(days=1)) is None
    assert letter_pay_by(sent, timedelta(0)) is None
