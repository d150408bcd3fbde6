"""The preview of a strategy's path: each step on the day it would run if nobody answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.strategy import Step, StepSetting, Strategy, validate_strategy
from domain.strategy_path import PathEntry, strategy_path


def test_the_default_path_day_by_day() -> None:
    # Monday 2 March 2026
    path = strategy_path(validate_strategy(Strategy()), date(2026, 3, 2))
    steps = [(e.step, e.on, e.attempt, e.until) for e in path]
    assert steps[:6] == [
        (Step.CONTACT_CHECK, date(2026, 3, 2), None, None),
        (Step.REMINDER_LETTER, date(2026, 3, 2), None, None),
        # 15 days after the letter; each call waits 2 days for its outcome, then 1 day
        (Step.PHONE_PHASE, date(2026, 3, 17), 1, date(2026, 3, 19)),
        (Step.PHONE_PHASE, date(2026, 3, 20), 2, date(2026, 3, 22)),
        (Step.PHONE_PHASE, date(2026, 3, 23), 3, date(2026, 3, 25)),
        # 7 days after the last call's outcome was due
        (Step.SECOND_LETTER, date(2026, 4, 1), None, None),
    ]
    # no skip tracing: the letters arrived (it runs only when they came back too)
    assert [e.step for e in path][6:] == [
        Step.HOME_VISIT,
        Step.LEGAL_NOTICE,
        Step.FORMAL_DEMAND,
        Step.LEGAL_OPINION,
        Step.AUTHORIZATION,
    ]
    # 15 days after the second letter; 21 days for the visit's outcome, then 7
    visit, notice = path[6], path[7]
    assert visit.on == date(2026, 4, 16) and visit.until == date(2026, 5, 7)
    assert notice.on == date(2026, 5, 14)


def test_the_demand_term_ends_on_the_court_calendar_and_the_next_step_follows_it() -> None:
    # only the formal demand and what follows, sent on Friday 24 July 2026
    strategy = validate_strategy(
        replace(
            Strategy(),
            steps=[
                StepSetting(step=s, enabled=s in (Step.FORMAL_DEMAND, Step.LEGAL_OPINION))
                if s is not Step.AUTHORIZATION
                else StepSetting(step=s)
                for s in Step
            ],
            demand_term="P9D",
        )
    )
    path = strategy_path(strategy, date(2026, 7, 24))
    demand, opinion = path[0], path[1]
    assert demand == PathEntry(Step.FORMAL_DEMAND, date(2026, 7, 24), until=date(2026, 8, 3))
    # 24 July + 9 days is Sunday 2 August: the last day moves to Monday
    assert opinion.step is Step.LEGAL_OPINION and opinion.on == date(2026, 8, 4)


def test_disabled_steps_are_left_out_and_waits_move_the_rest() -> None:
    strategy = validate_strategy(
        replace(
            Strategy(),
            steps=[
                StepSetting(step=Step.REMINDER_LETTER, wait_after="P30D"),
                StepSetting(step=Step.PHONE_PHASE, enabled=False),
            ],
        )
    )
    path = strategy_path(strategy, date(2026, 3, 2))
    assert Step.PHONE_PHASE not in [e.step for e in path]
    assert path[2] == PathEntry(Step.SECOND_LETTER, date(2026, 4, 1))
