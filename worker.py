"""The Temporal worker: the practice workflow and the activities, on one task queue.

Run as many as needed (`recupero worker`); they share the practices on the task queue.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from config import Settings, connect_temporal, load_settings
from db.session import Database
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow


def build_worker(client: Client, db: Database, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
        activities=build_activities(db, settings),
    )


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or load_settings()
    client = await connect_temporal(settings)
    db = Database(settings.database_url)
    try:
        worker = build_worker(client, db, settings)
        logging.getLogger("recupero").info("worker polling task queue %s", settings.task_queue)
        await worker.run()
    finally:
        await db.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_worker())
