"""The activities as a real worker runs them: registered by name, inputs and results through the
pydantic data converter the workflow uses (dates, enums, nested dataclasses)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio import workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import build_activities
from db.models import Delivery, Practice
from db.session import Database
from domain.activity_io import (
    ActivityName,
    CheckContactsInput,
    CheckContactsResult,
    LetterInput,
    NotifyInput,
    RecordInput,
    SentResult,
)
from domain.practice import Channels, Phase, PracticeSnapshot, Status, TimelineEvent
from tests.conftest import venv_binary
from tests.factories import create_creditor, create_practice, make_settings


@workflow.defn(sandboxed=False)
class ActivityProbe:
    """Calls activities the way PracticeWorkflow does: by name, with result_type."""

    @workflow.run
    async def run(self, practice_id: str) -> list[object]:
        timeout = timedelta(seconds=60)
        await workflow.execute_activity(
            ActivityName.RECORD,
            RecordInput(
                practice_id,
                [TimelineEvent(1, workflow.now(), "started", "practice started")],
                PracticeSnapshot(
                    version=1,
                    status=Status.ACTIVE,
                    phase=Phase.OUT_OF_COURT,
                    balance_cents=125_050,
                    paid_cents=0,
                    claim_cents=125_050,
                    next_action_at=datetime(2026, 12, 1, tzinfo=UTC),
                    channels=Channels(email=True, phone=True, pec=False, address=True),
                ),
            ),
            start_to_close_timeout=timeout,
        )
        checked = await workflow.execute_activity(
            ActivityName.CHECK_CONTACTS,
            CheckContactsInput(practice_id),
            result_type=CheckContactsResult,
            start_to_close_timeout=timeout,
        )
        sent = await workflow.execute_activity(
            ActivityName.SEND_LETTER,
            LetterInput(
                practice_id,
                f"{practice_id}:formal_demand:1",
                "formal_demand",
                125_050,
                pay_by=date(2026, 12, 10),
            ),
            result_type=SentResult,
            start_to_close_timeout=timeout,
        )
        # params keep their types through the converter: a flag stays a bool, a count an int
        notified = await workflow.execute_activity(
            ActivityName.NOTIFY,
            NotifyInput(
                practice_id,
                f"{practice_id}:authorization-request:1",
                "creditor",
                "authorization_request",
                {"reminder": 1, "balance_cents": 125_050, "recommend_action": True, "action": None},
            ),
            result_type=SentResult,
            start_to_close_timeout=timeout,
        )
        return [checked, sent, notified]


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=venv_binary("temporal-test-server"),
    ) as environment:
        yield environment


async def test_a_worker_runs_the_activities_by_name(
    env: WorkflowEnvironment, database: Database
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    queue = f"activities-{uuid.uuid4().hex}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ActivityProbe],
        activities=build_activities(database, make_settings()),
    ):
        checked, sent, notified = await env.client.execute_workflow(
            ActivityProbe.run,
            practice.id,
            id=f"probe-{practice.id}",
            task_queue=queue,
            result_type=list[CheckContactsResult | SentResult],
        )
    assert isinstance(checked, CheckContactsResult)
    assert checked.channels == Channels(email=True, phone=True, pec=False, address=True)
    assert isinstance(sent, SentResult)
    assert sent.document_id is not None
    assert sent.deliveries == ["post:outbox", "email:outbox"]
    assert sent.skipped == ["lawyer: none assigned or not active, agency letterhead used"]
    assert isinstance(notified, SentResult)
    assert notified.deliveries == ["email:outbox"]
    async with database.session() as session:
        notice = (
            await session.execute(select(Delivery).where(Delivery.document_id.is_(None)))
        ).scalar_one()
    assert notice.subject == f"Autorizzazione richiesta – sollecito 1 – rif. {practice.reference}"
    assert "consiglia di procedere" in notice.body and "€ 1.250,50" in notice.body
    async with database.session() as session:
        stored = await session.get(Practice, practice.id)
    assert stored is not None
    assert stored.snapshot_version == 1 and stored.phase == "out_of_court"
    assert stored.snapshot["next_action_at"] == "2026-12-01T00:00:00Z"
