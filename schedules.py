"""The scheduled work, as Temporal Schedules: the list, and `ensure_schedules`, which `recupero
run` and `recupero worker` call at start (cli.py, worker.py).

Every entry names a workflow registered in worker.py, how to build its one input dataclass from
the settings (None: turned off, the schedule is deleted), when it runs (Europe/Rome) and how far
back a run missed while Temporal or every worker was down is still made up (catch-up window).
Overlap policy SKIP everywhere: a run still going when the next is due is not doubled. The
workflows' activities are idempotent, so a run made up late, or twice, does nothing twice.

`ensure_schedules` creates a missing schedule and updates an existing one to the entry's action,
spec and policy (keeping whether a person paused it), so starting any number of workers, at once
or again and again, leaves one schedule per entry. The schedule ids carry the task queue: two
installations sharing a Temporal namespace keep their own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from domain.print_days import parse_cutoff
from domain.retention import RETENTION_WORKFLOW_NAME, RetentionSweepInput
from domain.scheduled import (
    PrintCutoffInput,
    RateCheckInput,
    ScheduledName,
    StrandedSweepInput,
)

log = logging.getLogger(__name__)

TIME_ZONE = "Europe/Rome"
# the stranded sweep runs at most this far apart
SWEEP_EVERY = timedelta(seconds=30)


def every(interval: timedelta) -> Callable[[Settings], ScheduleSpec]:
    return lambda _settings: ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)])


def daily_at(hour: int, minute: int = 0) -> Callable[[Settings], ScheduleSpec]:
    return lambda _settings: ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])
        ],
        time_zone_name=TIME_ZONE,
    )


def _stranded_spec(settings: Settings) -> ScheduleSpec:
    seconds = max(1, min(int(SWEEP_EVERY.total_seconds()), settings.stranded_after_seconds))
    return every(timedelta(seconds=seconds))(settings)


def _cutoff_spec(settings: Settings) -> ScheduleSpec:
    """Monday to Friday at the cut-off; a holiday's run finds no day to close."""
    cutoff = parse_cutoff(settings.print_cutoff)
    return ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                hour=[ScheduleRange(cutoff.hour)],
                minute=[ScheduleRange(cutoff.minute)],
                day_of_week=[ScheduleRange(1, 5)],
            )
        ],
        time_zone_name=TIME_ZONE,
    )


@dataclass(frozen=True)
class ScheduledWork:
    name: str  # the schedule id is <task queue>-<name>
    workflow: str  # a workflow name registered in worker.py
    input: Callable[[Settings], object | None]  # its input dataclass; None: turned off
    spec: Callable[[Settings], ScheduleSpec]
    catchup: timedelta


SCHEDULES: tuple[ScheduledWork, ...] = (
    ScheduledWork(
        "stranded-sweep",
        ScheduledName.STRANDED_SWEEP_WORKFLOW,
        lambda s: (
            StrandedSweepInput(s.stranded_after_seconds) if s.stranded_after_seconds > 0 else None
        ),
        _stranded_spec,
        # a missed sweep is not worth making up: the next one sees the same rows
        catchup=timedelta(minutes=1),
    ),
    ScheduledWork(
        "print-cutoff",
        ScheduledName.PRINT_CUTOFF_WORKFLOW,
        lambda s: PrintCutoffInput(s.print_cutoff),
        _cutoff_spec,
        # a later run also closes the days it missed (domain/print_days.py)
        catchup=timedelta(days=1),
    ),
    ScheduledWork(
        "rate-check",
        ScheduledName.RATE_CHECK_WORKFLOW,
        lambda s: RateCheckInput(s.rate_notice_weeks),
        daily_at(7, 0),
        catchup=timedelta(days=1),
    ),
    ScheduledWork(
        "retention-sweep",
        RETENTION_WORKFLOW_NAME,
        lambda _s: RetentionSweepInput(),
        # at night, when nobody reads the practices it erases
        daily_at(2, 30),
        catchup=timedelta(days=1),
    ),
)


def schedule_id(settings: Settings, work: ScheduledWork) -> str:
    return f"{settings.task_queue}-{work.name}"


def build_schedule(settings: Settings, work: ScheduledWork, arg: object) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            work.workflow,
            arg,
            # Temporal appends each run's time to this id
            id=schedule_id(settings, work),
            task_queue=settings.task_queue,
            execution_timeout=timedelta(hours=1),
        ),
        spec=work.spec(settings),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=work.catchup),
    )


async def ensure_schedules(
    client: Client, settings: Settings, schedules: tuple[ScheduledWork, ...] = SCHEDULES
) -> list[str]:
    """Creates or updates every schedule of `schedules` (deletes the ones turned off); returns
    the ids of those in place. Safe to call from any number of processes at once."""
    ensured: list[str] = []
    for work in schedules:
        sid = schedule_id(settings, work)
        arg = work.input(settings)
        handle = client.get_schedule_handle(sid)
        if arg is None:
            try:
                await handle.delete()
                log.info("schedule %s deleted (turned off)", sid)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            continue
        wanted = build_schedule(settings, work, arg)
        try:
            await client.create_schedule(sid, wanted)
            log.info("schedule %s created", sid)
        except ScheduleAlreadyRunningError:

            def update(current: ScheduleUpdateInput, wanted: Schedule = wanted) -> ScheduleUpdate:
                # a schedule a person paused in the Temporal UI stays paused
                return ScheduleUpdate(
                    schedule=dataclasses.replace(wanted, state=current.description.schedule.state)
                )

            await handle.update(update)
        ensured.append(sid)
    return ensured


async def schedule_exists(client: Client, sid: str) -> bool:
    try:
        await client.get_schedule_handle(sid).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
