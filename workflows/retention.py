"""RetentionSweepWorkflow: erases the debtor data of the practices closed longer than their
creditor's retention period (api/services/erasure.py), in batches. A Temporal Schedule starts
it (the schedules' list); it can also be started by hand (README, "Personal data")."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.retention import (
    RETENTION_WORKFLOW_NAME,
    SWEEP_RETENTION_ACTIVITY,
    RetentionBatchInput,
    RetentionBatchResult,
    RetentionSweepInput,
)


@workflow.defn(name=RETENTION_WORKFLOW_NAME)
class RetentionSweepWorkflow:
    @workflow.run
    async def run(self, input: RetentionSweepInput) -> int:
        """The number of practices erased."""
        erased = input.erased_before
        for _ in range(input.max_batches):
            batch: RetentionBatchResult = await workflow.execute_activity(
                SWEEP_RETENTION_ACTIVITY,
                # the workflow's clock: periods are judged at the sweep's time
                RetentionBatchInput(now=workflow.now(), batch_size=input.batch_size),
                result_type=RetentionBatchResult,
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            erased += batch.erased
            if not batch.more:
                return erased
        # a long backlog: a fresh run keeps the history short
        workflow.continue_as_new(
            RetentionSweepInput(input.batch_size, input.max_batches, erased_before=erased)
        )
