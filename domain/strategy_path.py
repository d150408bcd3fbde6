"""The path a strategy sets out for a practice nobody answers: each enabled step and the day it
would run, counted from the hand-over (the admin's preview of a strategy, before saving it).

Pure: the same waits the practice workflow sleeps (`Strategy.wait_after`, the timeouts for a
person's answer) and the formal demand's last day from the court calendar (`demand_deadline`,
which moves it past Sundays and holidays). It assumes the invoices are already due at the
hand-over (no pre-due reminders), every call unanswered, the letters delivered (so skip
tracing, which runs only when the letters came back too, is skipped with its wait, as the
workflow skips it), no visit result, no opinion and no authorisation given: each wait runs to
its end. Contact-rule windows
(hours, a Sunday) can move a contact by a day; the preview does not model them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.calendar import at_rome, end_of_rome_day, rome_date
from domain.court_calendar import demand_deadline
from domain.strategy import Step, Strategy

# the hour the preview starts the day's work; only the dates are shown
_START = time(9, 0)


@dataclass(frozen=True, slots=True)
class PathEntry:
    """One thing the practice does: `step`, on `on`; `attempt` numbers a call; `until` is the
    last day of the wait for someone's answer (a call's outcome, a trace, a visit, an opinion,
    the authorisation) or of the formal demand's term to pay."""

    step: Step
    on: date
    attempt: int | None = None
    until: date | None = None


def _waited(at: datetime, wait: timedelta) -> tuple[datetime, date]:
    end = at + wait
    return end, rome_date(end)


def strategy_path(strategy: Strategy, handed_over: date) -> list[PathEntry]:
    """The enabled steps in the strategy's order, each with the day it would run for a practice
    handed over on `handed_over` (see the module's assumptions)."""
    at = at_rome(handed_over, _START)
    path: list[PathEntry] = []
    for setting in strategy.steps:
        step = Step(setting.step)
        if not setting.enabled or step in (Step.PRE_DUE_REMINDERS, Step.SKIP_TRACING):
            # the invoices are due at the hand-over: no reminders before the due date; the
            # letters arrived: no skip tracing (a skipped step imposes no wait)
            continue
        if step is Step.PHONE_PHASE:
            for attempt in range(1, strategy.call_attempts + 1):
                on = rome_date(at)
                at, until = _waited(at, strategy.duration("call_outcome_timeout"))
                path.append(PathEntry(step, on, attempt=attempt, until=until))
                if attempt < strategy.call_attempts:
                    at += strategy.duration("call_retry_interval")
        elif step is Step.FORMAL_DEMAND:
            on = rome_date(at)
            term = strategy.duration("demand_term")
            if term >= timedelta(days=1):
                last_day = demand_deadline(on, term).last_day
                at = end_of_rome_day(last_day)
            else:  # a demo's term in seconds or hours runs exactly
                at, last_day = _waited(at, term)
            path.append(PathEntry(step, on, until=last_day))
        else:
            timeout = {
                Step.HOME_VISIT: "visit_outcome_timeout",
                Step.LEGAL_OPINION: "opinion_timeout",
                Step.AUTHORIZATION: "authorization_timeout",
            }.get(step)
            on = rome_date(at)
            until = None
            if timeout is not None:
                at, until = _waited(at, strategy.duration(timeout))
            path.append(PathEntry(step, on, until=until))
        at += strategy.wait_after(step)
    return path
