"""The retention sweep's activity: one batch of closed practices whose creditor's retention
period is over, erased by api/services/erasure.py (the function an erasure request uses)."""

from __future__ import annotations

import logging

from temporalio import activity

from activities.context import ActivityContext
from api.services import erasure
from domain.retention import SWEEP_RETENTION_ACTIVITY, RetentionBatchInput, RetentionBatchResult

log = logging.getLogger(__name__)


class RetentionActivities(ActivityContext):
    @activity.defn(name=SWEEP_RETENTION_ACTIVITY)
    async def sweep_retention(self, input: RetentionBatchInput) -> RetentionBatchResult:
        """Idempotent: an erased practice is no longer due, so a retried batch finds the ones
        its first attempt did not reach."""
        async with self.db.session() as session:
            batch = await erasure.erase_due(session, input.now, input.batch_size)
        log.info("retention: %d practices' debtor data erased", batch.erased)
        return RetentionBatchResult(erased=batch.erased, more=batch.more)
