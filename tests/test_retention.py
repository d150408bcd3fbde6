"""Personal data that ends (issue 14): a practice runs to its closure on the real worker, the
test server's clock skips past the creditor's retention period, the sweep erases the debtor's
personal data; the amounts, the outcome and the dates stay, and the reports still count it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.handover import start_practice_workflow, workflow_input_for
from api.services import reports
from db.models import (
    DebtorLink,
    DebtorOptOut,
    Delivery,
    Document,
    Event,
    Practice,
    PracticeNote,
)
from db.session import Database
from domain.practice import UpdateName, WithdrawalCmd
from domain.retention import RetentionSweepInput
from tests.conftest import venv_binary
from tests.factories import TAX_CODE, create_creditor, create_practice, make_settings
from worker import build_worker
from workflows.retention import RetentionSweepWorkflow


async def _until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _row(db: Database, practice_id: str) -> Practice:
    async with db.session() as session:
        practice = await session.get(Practice, practice_id)
        assert practice is not None
        return practice


async def _count(db: Database, model: type, practice_id: str) -> int:
    async with db.session() as session:
        column = model.practice_id  # type: ignore[attr-defined]
        return int(await session.scalar(select(func.count()).where(column == practice_id)) or 0)


async def test_the_sweep_erases_a_closed_practice_after_its_period(database: Database) -> None:
    db = database
    settings = make_settings(task_queue=f"retention-{uuid.uuid4().hex[:8]}")
    creditor = await create_creditor(db, retention_days=30)
    practice = await create_practice(db, creditor)
    # the same debtor's practice with another creditor, still open: it keeps its own copy
    other = await create_practice(db, await create_creditor(db))
    async with db.session() as session, session.begin():
        loaded = await session.get(Practice, practice.id, options=[selectinload(Practice.invoices)])
        assert loaded is not None
        workflow_input = workflow_input_for(loaded)
        session.add(PracticeNote(practice_id=practice.id, kind="call_outcome", text="parla"))
        session.add(DebtorOptOut(debtor_key=TAX_CODE, channel="sms", practice_id=practice.id))
        session.add(
            DebtorLink(
                practice_id=practice.id,
                token_hash=uuid.uuid4().hex * 2,
                expires_at=datetime.now(UTC) + timedelta(days=30),
            )
        )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        async with build_worker(env.client, db, settings):
            await start_practice_workflow(
                env.client, settings, practice.workflow_id, workflow_input
            )

            async def lettered() -> bool:
                return await _count(db, Document, practice.id) > 0

            await _until(lettered, "the first letter")
            handle = env.client.get_workflow_handle(practice.workflow_id)
            await handle.execute_update(UpdateName.WITHDRAWAL, WithdrawalCmd())
            assert await handle.result() == "withdrawn"

            async def closed() -> bool:
                return (await _row(db, practice.id)).closed_at is not None

            await _until(closed, "the closure recorded")
            before = await _row(db, practice.id)
            assert before.status == "closed" and before.outcome == "withdrawn"
            # within the period: nothing is due
            sweep = env.client.execute_workflow
            first = await sweep(
                RetentionSweepWorkflow.run,
                RetentionSweepInput(batch_size=2),
                id=f"retention-{uuid.uuid4().hex}",
                task_queue=settings.task_queue,
            )
            assert first == 0
            assert (await _row(db, practice.id)).debtor_name == "Mario Rossi"

            await env.sleep(timedelta(days=31))
            erased = await sweep(
                RetentionSweepWorkflow.run,
                RetentionSweepInput(batch_size=2),
                id=f"retention-{uuid.uuid4().hex}",
                task_queue=settings.task_queue,
            )
            assert erased == 1
            # a second sweep finds nothing more to do
            again = await sweep(
                RetentionSweepWorkflow.run,
                RetentionSweepInput(),
                id=f"retention-{uuid.uuid4().hex}",
                task_queue=settings.task_queue,
            )
            assert again == 0
    finally:
        await env.shutdown()

    after = await _row(db, practice.id)
    # the debtor's personal data is gone
    assert after.debtor_name == "" and after.debtor_tax_code is None
    assert after.email is None and after.phone is None and after.pec is None
    assert (after.street, after.city, after.postal_code) == ("", "", "")
    assert after.reference == f"erased-{practice.id}"
    assert after.erased_at is not None and after.erased_at > after.closed_at  # type: ignore[operator]
    assert await _count(db, Document, practice.id) == 0
    assert await _count(db, PracticeNote, practice.id) == 0
    assert await _count(db, DebtorLink, practice.id) == 0
    async with db.session() as session:
        recipients = set(
            await session.scalars(
                select(Delivery.recipient).where(Delivery.practice_id == practice.id)
            )
        )
        assert recipients == {""}
        # the other creditor's practice still holds the debtor: its opt-out stays
        assert (
            await session.scalar(select(func.count()).where(DebtorOptOut.debtor_key == TAX_CODE))
            == 1
        )
        # what the reports read stays: amounts, outcome, dates, the timeline
        assert (after.claim_cents, after.paid_cents, after.balance_cents) == (
            before.claim_cents,
            before.paid_cents,
            before.balance_cents,
        )
        assert (after.status, after.outcome, after.closed_at, after.created_at) == (
            "closed",
            "withdrawn",
            before.closed_at,
            before.created_at,
        )
        assert await _count(db, Event, practice.id) > 0
        charts = await reports.creditor_charts(session, creditor.id, None, None)
        assert charts.by_outcome["withdrawn"] == 1
        assert charts.by_status["closed"] == 1
    assert (await _row(db, other.id)).debtor_name == "Mario Rossi"


async def test_a_backlog_is_swept_in_batches_across_runs(database: Database) -> None:
    """More due practices than one run's batches: the sweep continues as new with its count,
    and erases each practice once."""
    db = database
    settings = make_settings(task_queue=f"retention-{uuid.uuid4().hex[:8]}")
    creditor = await create_creditor(db, retention_days=30)
    long_ago = datetime.now(UTC) - timedelta(days=400)
    due = [
        await create_practice(db, creditor, status="closed", outcome="paid", closed_at=long_ago)
        for _ in range(5)
    ]
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        async with build_worker(env.client, db, settings):
            handle = await env.client.start_workflow(
                RetentionSweepWorkflow.run,
                RetentionSweepInput(batch_size=2, max_batches=1),
                id=f"retention-{uuid.uuid4().hex}",
                task_queue=settings.task_queue,
            )
            assert await handle.result() == 5
            # three runs: 2 + 2 (full batches, the run's last) then 1
            runs = 1
            first = env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
            history = await first.fetch_history()
            while history.events[-1].HasField(
                "workflow_execution_continued_as_new_event_attributes"
            ):
                runs += 1
                attributes = history.events[-1].workflow_execution_continued_as_new_event_attributes
                history = await env.client.get_workflow_handle(
                    handle.id, run_id=attributes.new_execution_run_id
                ).fetch_history()
            assert runs == 3
    finally:
        await env.shutdown()
    for practice in due:
        row = await _row(db, practice.id)
        assert row.erased_at is not None and row.debtor_name == ""
