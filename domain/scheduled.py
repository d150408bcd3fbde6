"""The inputs and results of the scheduled workflows (workflows/scheduled.py) and their
activities (activities/scheduled.py). What a schedule passes is in its input, so changing a
setting changes the schedule's action (schedules.py updates it) and each run's history says what
it was asked to do. No personal data: ids, counts and days only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class ScheduledName:
    STRANDED_SWEEP_WORKFLOW = "StrandedSweepWorkflow"
    PRINT_CUTOFF_WORKFLOW = "PrintCutoffWorkflow"
    RATE_CHECK_WORKFLOW = "RateCheckWorkflow"
    SWEEP_STRANDED = "sweep_stranded"
    CLOSE_PRINT_BATCHES = "close_print_batches"
    CHECK_RATES = "check_rates"


@dataclass
class StrandedSweepInput:
    # a row without its workflow this much older than its commit was cut off mid hand-over
    older_than_seconds: int


@dataclass
class StrandedSweepResult:
    started: int = 0


@dataclass
class PrintCutoffInput:
    # the agency's cut-off, HH:MM in Rome (RECUPERO_PRINT_CUTOFF)
    cutoff: str


@dataclass
class ClosedBatch:
    day: date
    total: int


@dataclass
class PrintCutoffResult:
    closed: list[ClosedBatch] = field(default_factory=list)


@dataclass
class RateCheckInput:
    # alert for every rate period starting within this many weeks that has no known rate
    weeks_ahead: int


@dataclass
class MissingRate:
    kind: str
    start: date
    end: date


@dataclass
class RateCheckResult:
    missing: list[MissingRate] = field(default_factory=list)
    # the admin notifications written by this run (a period already notified is not again)
    notified: int = 0
