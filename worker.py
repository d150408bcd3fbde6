"""The Temporal worker: the practice workflow and the activities, on one task queue.

Run as many as needed (`recupero worker`); they share the practices on the task queue.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from config import Settings, connect_temporal, load_settings
from db.session import Database
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow

# The sandbox re-imports a workflow's module for every new run (and every replay): for the
# 1,800 lines of workflows/practice.py that was most of the worker's CPU per new practice. Our
# workflow modules keep no state at module level (constants only), and the domain modules they
# use are passed through already, so the product's worker imports them once per process. The
# price: calls a passed-through module makes (datetime.now...) are not checked at run time. The
# workflow tests (tests/workflows) run every path under the default sandbox, which does check
# them, so a non-deterministic call fails there.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "domain")
)


def build_worker(client: Client, db: Database, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
        activities=build_activities(db, settings),
        workflow_runner=SANDBOX,
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
