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
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
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


# The practice's experiment and arm (domain/experiments.py) as Temporal search attributes, so a
# workflow list can be cut by arm (`RecuperoExperimentArm = "challenger-1"`). Ids and arm labels
# only: never personal data. Set when the workflow starts, never changed (the arm is fixed).
EXPERIMENT = SearchAttributeKey.for_keyword("RecuperoExperiment")
EXPERIMENT_ARM = SearchAttributeKey.for_keyword("RecuperoExperimentArm")
SEARCH_ATTRIBUTES = (EXPERIMENT, EXPERIMENT_ARM)


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Adds the custom search attributes the namespace lacks (the operator service; the API
    does it at startup, on the dev server and the test servers alike). Returns those added."""
    known = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in SEARCH_ATTRIBUTES
        if key.name not in known.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


def search_attributes_for(practice: Practice) -> TypedSearchAttributes | None:
    """The experiment and arm of a practice in an experiment; None otherwise."""
    if practice.experiment_id is None or practice.experiment_arm is None:
        return None
    return TypedSearchAttributes(
        [
            SearchAttributePair(EXPERIMENT, practice.experiment_id),
            SearchAttributePair(EXPERIMENT_ARM, practice.experiment_arm),
        ]
    )


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
    temporal: Client,
    settings: Settings,
    workflow_id: str,
    workflow_input: PracticeInput,
    search_attributes: TypedSearchAttributes | None = None,
) -> bool:
    """Starts the practice's workflow; False when a workflow with its id already exists (started
    by an earlier attempt: it is kept). The input gets the pre-due reminders' spread from the
    settings here, where every practice is started: the workflow cannot read them, and the
    value in its input keeps its moments the same on every replay."""
    workflow_input = replace(
        workflow_input, reminder_spread_minutes=settings.contact_spread_minutes
    )
    try:
        await temporal.start_workflow(
            WORKFLOW_NAME,
            workflow_input,
            id=workflow_id,
            task_queue=settings.task_queue,
            search_attributes=search_attributes,
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
                self.temporal,
                self.settings,
                practice.workflow_id,
                workflow_input_for(practice),
                search_attributes_for(practice),
            ):
                started += 1
                log.warning(
                    "practice %s: its hand-over was cut before the workflow start; started now",
                    practice.id,
                )
            self.confirmed.add(practice.id)
        return started
