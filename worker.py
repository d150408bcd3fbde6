"""The Temporal worker: the practice workflow, the scheduled workflows and the activities, on one
task queue.

Run as many as needed (`recupero worker`); they share the practices on the task queue. Each
makes sure the schedules exist at start (schedules.py: idempotent, never duplicated).
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from api.observe import logs, tracing
from config import Settings, connect_temporal, load_settings
from db.session import Database
from schedules import ensure_schedules
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow
from workflows.scheduled import PrintCutoffWorkflow, RateCheckWorkflow, StrandedSweepWorkflow

# every workflow a worker runs; a scheduled one (schedules.py) is added here too
WORKFLOWS = [
    PracticeWorkflow,
    JudicialWorkflow,
    PlanWorkflow,
    StrandedSweepWorkflow,
    PrintCutoffWorkflow,
    RateCheckWorkflow,
]

# Temporal's sandbox re-imports a workflow's module for every new run and enters itself for
# every activation and every payload it converts. Passing our modules through (they keep no
# state at module level, constants only) took the re-imports away; running without the sandbox
# takes away the rest, a fifth of the worker's CPU per payment (py-spy, bench/README.md). The
# price: a non-deterministic call (datetime.now, random...) is not caught at run time. The
# workflow tests (tests/workflows) run every path under the default sandbox, which does catch
# them, and RECUPERO_WORKFLOW_SANDBOX=true puts the product's worker back in it.
# (opentelemetry: the tracing interceptor's workflow side keeps its context across the sandbox)
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "workflows", "domain", "opentelemetry"
    )
)


def workflow_runner(settings: Settings) -> WorkflowRunner:
    return SANDBOX if settings.workflow_sandbox else UnsandboxedWorkflowRunner()


def build_worker(client: Client, db: Database, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(db, settings),
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=settings.worker_cache_size,
    )


_runtimes: dict[str, Runtime] = {}


def worker_runtime(settings: Settings) -> Runtime | None:
    """The Temporal runtime serving the SDK's own metrics (workflow and activity task latencies,
    slots, polls, cache...) for Prometheus at http://<RECUPERO_WORKER_METRICS_ADDRESS>/metrics;
    None (the SDK's default runtime, no port) when the address is empty. One per address and
    process: a runtime binds its port once."""
    address = settings.worker_metrics_address
    if not address:
        return None
    if address not in _runtimes:
        _runtimes[address] = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True)
            )
        )
    return _runtimes[address]


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or load_settings()
    client = await connect_temporal(
        settings,
        interceptors=tracing.temporal_interceptors(tracing.tracer_provider("recupero-worker")),
        runtime=worker_runtime(settings),
    )
    await ensure_schedules(client, settings)
    db = Database(settings.database_url)
    try:
        worker = build_worker(client, db, settings)
        logging.getLogger("recupero").info("worker polling task queue %s", settings.task_queue)
        await worker.run()
    finally:
        await db.dispose()


if __name__ == "__main__":
    logs.configure_logging("json")
    asyncio.run(run_worker())
