"""The workflows Temporal Schedules start (schedules.py lists the schedules): each runs one
activity, which does the work idempotently, and returns what it did. They keep no state between
runs; a run a schedule skips (overlap policy SKIP) or misses loses nothing, the next one does it.

The retention sweep (workflows/retention.py) is scheduled the same way."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.scheduled import (
        PrintCutoffInput,
        PrintCutoffResult,
        RateCheckInput,
        RateCheckResult,
        ScheduledName,
        StrandedSweepInput,
        StrandedSweepResult,
    )

# a database or Temporal away: retried for a while; the next scheduled run tries again anyway
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=10)
TIMEOUT = timedelta(minutes=5)

R = TypeVar("R")


async def run_one(activity: str, inp: object, result_type: type[R]) -> R:
    """The scheduled workflows' one activity, with their timeout and retries."""
    result: R = await workflow.execute_activity(
        activity, inp, result_type=result_type, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
    )
    return result


@workflow.defn(name=ScheduledName.STRANDED_SWEEP_WORKFLOW)
class StrandedSweepWorkflow:
    """Starts the workflows of practice rows a crash left without one (api/handover.py)."""

    @workflow.run
    async def run(self, inp: StrandedSweepInput) -> StrandedSweepResult:
        return await run_one(ScheduledName.SWEEP_STRANDED, inp, StrandedSweepResult)


@workflow.defn(name=ScheduledName.PRINT_CUTOFF_WORKFLOW)
class PrintCutoffWorkflow:
    """Closes the day's print batch at the cut-off (api/services/print_batches.py)."""

    @workflow.run
    async def run(self, inp: PrintCutoffInput) -> PrintCutoffResult:
        return await run_one(ScheduledName.CLOSE_PRINT_BATCHES, inp, PrintCutoffResult)


@workflow.defn(name=ScheduledName.RATE_CHECK_WORKFLOW)
class RateCheckWorkflow:
    """Alerts the admin of rate periods starting within the notice that have no known rate."""

    @workflow.run
    async def run(self, inp: RateCheckInput) -> RateCheckResult:
        return await run_one(ScheduledName.CHECK_RATES, inp, RateCheckResult)
