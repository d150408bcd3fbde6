"""The Temporal worker: the practice workflow and the activities, on one task queue.

Run as many as needed (`recupero worker`); they share the practices on the task queue.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from config import Settings, connect_temporal, load_settings
from db.session import Database
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow

# Temporal's sandbox re-imports a workflow's module for every new run and enters itself for
# every activation and every payload it converts. Passing our modules through (they keep no
# state at module level, constants only) took the re-imports away; running without the sandbox
# takes away the rest, a fifth of the worker's CPU per payment (py-spy, bench/README.md). The
# price: a non-deterministic call (datetime.now, random...) is not caught at run time. The
# workflow tests (tests/workflows) run every path under the default sandbox, which does catch
# them, and RECUPERO_WORKFLOW_SANDBOX=true puts the product's worker back in it.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "domain")
)


def workflow_runner(settings: Settings) -> WorkflowRunner:
    return SANDBOX if settings.workflow_sandbox else UnsandboxedWorkflowRunner()


def build_worker(client: Client, db: Database, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
        activities=build_activities(db, settings),
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=settings.worker_cache_size,
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
