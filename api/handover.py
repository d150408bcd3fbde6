"""Starting a practice's workflow from its saved row, and restarting the ones a crash left behind.

A hand-over commits the practice's row first and starts its workflow after (the workflow id is
derived from the practice id). The row therefore never waits on Temporal inside a write
transaction, and the workflow's first record always finds its row. An API that dies between the
commit and the start leaves a row whose workflow never started: the `StrandedSweeper`, run by
the StrandedSweepWorkflow on a Temporal Schedule (schedules.py, activities/scheduled.py), finds
such rows (never recorded by a workflow: snapshot_version 0) once they are older than any
hand-over still in flight, and starts them. Starting is idempotent: a workflow id that exists is
left as it is, so two sweeps (two workers, a retried activity) never start one twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.strategies import strategy_from_json
from config import Settings
from db.ledger import practice_invoices
from db.models import Practice, utcnow
from db.session import Database
from domain.countries import residence_for_country
from domain.practice import WORKFLOW_NAME, Channels, DebtorKind, PracticeInput
from domain.strategy import Strategy

log = logging.getLogger(__name__)

# A row younger than Settings.stranded_after_seconds (60 s by default) may still be in the hands
# of the call that wrote it (the start's own RPC deadline is far shorter). Older rows look for
# their workflow for a week only: a row whose workflow was terminated before its first record is
# not started again forever.
STRANDED_WINDOW = timedelta(days=7)
SWEEP_BATCH = 200


def workflow_input_for(practice: Practice, strategy: Strategy | None = None) -> PracticeInput:
    """The workflow's input from the practice's row (its invoices loaded): what a hand-over
    starts, and what a stranded row is started with. A hand-over passes the strategy it has
    just stored, rather than parse it back from the row."""
    return PracticeInput(
        practice_id=practice.id,
        creditor_id=practice.creditor_id,
        debtor_kind=DebtorKind(practice.debtor_kind),
        province=practice.province,
        invoices=practice_invoices(practice),
        strategy=strategy if strategy is not None else strategy_from_json(practice.strategy),
        channels=Channels(
            email=practice.email is not None,
            phone=practice.phone is not None,
            pec=practice.pec is not None,
            address=True,
        ),
        residence=residence_for_country(practice.country),
        consumer_credit=bool(practice.consumer_credit),
    )


async def start_practice_workflow(
    temporal: Client, settings: Settings, workflow_id: str, workflow_input: PracticeInput
) -> bool:
    """Starts the practice's workflow; False when a workflow with its id already exists (started
    by an earlier attempt: it is kept)."""
    try:
        await temporal.start_workflow(
            WORKFLOW_NAME,
            workflow_input,
            id=workflow_id,
            task_queue=settings.task_queue,
            # a workflow id is used once: a finished or terminated practice is never restarted
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


class StrandedSweeper:
    """Starts the workflows of rows a crash left without one. Remembers the rows it found with
    a workflow, so a worker that is down (every new row still at snapshot 0) costs one look at
    each row, not one per sweep."""

    def __init__(self, db: Database, temporal: Client, settings: Settings) -> None:
        self.db, self.temporal, self.settings = db, temporal, settings
        self.confirmed: set[str] = set()

    async def sweep(
        self, older_than: timedelta | None = None, since: datetime | None = None
    ) -> int:
        """One pass over the rows created in the last week (or `since`); returns how many
        workflows it started."""
        if older_than is None:
            older_than = timedelta(seconds=self.settings.stranded_after_seconds)
        now = utcnow()
        oldest = now - STRANDED_WINDOW if since is None else max(since, now - STRANDED_WINDOW)
        async with self.db.session() as session:
            ids = (
                await session.scalars(
                    select(Practice.id)
                    .where(
                        Practice.snapshot_version == 0,
                        Practice.created_at < now - older_than,
                        Practice.created_at > oldest,
                    )
                    .order_by(Practice.created_at)
                )
            ).all()
            todo = [i for i in ids if i not in self.confirmed][:SWEEP_BATCH]
            if not todo:
                return 0
            practices = (
                await session.scalars(
                    select(Practice)
                    .where(Practice.id.in_(todo))
                    .options(selectinload(Practice.invoices))
                )
            ).all()
        started = 0
        for practice in practices:
            if await start_practice_workflow(
                self.temporal, self.settings, practice.workflow_id, workflow_input_for(practice)
            ):
                started += 1
                log.warning(
                    "practice %s: its hand-over was cut before the workflow start; started now",
                    practice.id,
                )
            self.confirmed.add(practice.id)
        return started
