"""The retention sweep's surface across the Temporal boundary (workflows/retention.py and
activities/retention.py): ids, counts and times only, never personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

RETENTION_WORKFLOW_NAME = "RetentionSweepWorkflow"
SWEEP_RETENTION_ACTIVITY = "sweep_retention"


@dataclass
class RetentionSweepInput:
    """One sweep: batches of `batch_size` practices until none is due, at most `max_batches`
    per run (then it continues as new, so its history stays short); `erased_before` carries the
    count across those runs."""

    batch_size: int = 100
    max_batches: int = 50
    erased_before: int = 0


@dataclass
class RetentionBatchInput:
    """`now` is the workflow's clock: the periods are judged at the sweep's own time."""

    now: datetime
    batch_size: int


@dataclass
class RetentionBatchResult:
    erased: int  # practices whose debtor data was erased in this batch
    more: bool  # a full batch: others may be due
