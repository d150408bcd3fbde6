"""A worker process for tests/test_provider_limits.py: the product's activities (built as
worker.py builds them) behind a one-step workflow that sends a pre-due reminder, the way a
practice's step does (the same timeout and retry policy). Run as
`python -m tests.provider_limit_worker` with its settings in RECUPERO_TEST_WORKER (JSON);
it writes its ready file once polling."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities import build_activities
from config import data_converter
from db.session import Database
from domain.activity_io import ActivityName, ReminderInput, SentResult
from tests.factories import make_settings
from workflows.activity_options import RETRY, SEND_TIMEOUT

WORKFLOW = "ProviderLimitReminder"


@workflow.defn(name=WORKFLOW)
class ProviderLimitReminder:
    @workflow.run
    async def run(self, input: ReminderInput) -> SentResult:
        return await workflow.execute_activity(
            ActivityName.SEND_REMINDER,
            input,
            result_type=SentResult,
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=RETRY,
        )


async def main() -> None:
    config = json.loads(os.environ["RECUPERO_TEST_WORKER"])
    settings = make_settings(**config["settings"])
    db = Database(settings.database_url)
    client = await Client.connect(config["temporal"], data_converter=data_converter)
    worker = Worker(
        client,
        task_queue=config["task_queue"],
        workflows=[ProviderLimitReminder],
        activities=build_activities(db, settings),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker:
        await asyncio.to_thread(Path(config["ready_file"]).write_text, "ready")
        await asyncio.Event().wait()  # until the test ends the process


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
