"""The Temporal worker: the practice workflow, the scheduled workflows and the activities, on one
task queue.

Run as many as needed (`recupero worker`); they share the practices on the task queue. Each
makes sure the schedules exist at start (schedules.py: idempotent, never duplicated). With a
Worker Deployment (RECUPERO_WORKER_DEPLOYMENT) each worker says which build it runs, and the
newest build takes the practices over once its workers poll (`take_over`; docs/ARCHITECTURE.md,
"Upgrades").
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib
import logging
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeWorkerDeploymentRequest,
    DescribeWorkerDeploymentResponse,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    UnsandboxedWorkflowRunner,
    Worker,
    WorkerDeploymentConfig,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities
from api.observe import logs, tracing
from config import Settings, connect_temporal, load_settings
from db.session import Database
from frames_guard import guard_current_frames
from schedules import ensure_schedules
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow
from workflows.retention import RetentionSweepWorkflow
from workflows.scheduled import PrintCutoffWorkflow, RateCheckWorkflow, StrandedSweepWorkflow

# every workflow a worker runs; a scheduled one (schedules.py) is added here too
WORKFLOWS = [
    PracticeWorkflow,
    JudicialWorkflow,
    PlanWorkflow,
    StrandedSweepWorkflow,
    PrintCutoffWorkflow,
    RateCheckWorkflow,
    RetentionSweepWorkflow,
]

log = logging.getLogger("recupero")

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
    # the deadlock detector's report must not hang the process on CPython 3.11 (frames_guard.py)
    guard_current_frames()
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(db, settings),
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=settings.worker_cache_size,
        deployment_config=deployment_config(settings),
    )


# What a build is: the code that decides what a practice does and does to the world. Hashing the
# sources (not Temporal's default, the bytecode of every loaded module) gives one id on every
# host and process running the same release, whatever else each process imported.
BUILD_PACKAGES = ("workflows", "domain", "activities")


def sources_digest(folders: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            digest.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@functools.cache
def code_build_id() -> str:
    """<package version>-<12 hex digits of the workflow, domain and activity sources>."""
    try:
        release = version("recupero")
    except PackageNotFoundError:  # run from a checkout that was never installed
        release = "0"
    folders = [Path(importlib.import_module(name).__path__[0]) for name in BUILD_PACKAGES]
    return f"{release}-{sources_digest(folders)}"


def deployment_version(settings: Settings) -> WorkerDeploymentVersion | None:
    if not settings.worker_deployment:
        return None
    return WorkerDeploymentVersion(
        deployment_name=settings.worker_deployment,
        build_id=settings.worker_build_id or code_build_id(),
    )


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """Auto-upgrade, never pinned: a practice lives for years, and a pinned one would keep its
    first build's workers running until it ends. Every practice moves to the newest build at
    its next workflow task, so workflow changes stay behind workflow.patched and every
    release's recorded histories replay on the new code (tests/histories/)."""
    current = deployment_version(settings)
    if current is None:
        return None
    return WorkerDeploymentConfig(
        version=current,
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


# the server refuses a burst of requests to one deployment ("too many requests issued to Worker
# Deployment": several workers of a new build starting together), and may be briefly away
BUSY = (RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.ABORTED)


async def _describe(client: Client, name: str) -> DescribeWorkerDeploymentResponse | None:
    try:
        return await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.UNIMPLEMENTED:
            raise RuntimeError(
                "this Temporal server has no Worker Deployments (they need server 1.29.1 or "
                "newer): leave RECUPERO_WORKER_DEPLOYMENT empty"
            ) from exc
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None  # no worker of the deployment has polled yet
        if exc.status in BUSY:
            return None  # look again in a moment
        raise


async def _routed_to(client: Client, task_queue: str, build_id: str) -> bool:
    """Whether the task queue reports this build as its current one: the deployment's routing is
    copied to the task queue after it is set, and until then the previous build gets the tasks
    (the dev server reports it at the first look; tasks already on the previous build's sticky
    queue may still reach it a moment later, which the patch discipline makes harmless)."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return described.versioning_info.current_deployment_version.build_id == build_id


async def take_over(client: Client, settings: Settings, wait_seconds: float = 60.0) -> bool:
    """Makes this build the deployment's Current Version once the server has seen its workers
    poll: from then on every workflow task goes to it, the practices started unversioned or on
    an earlier build included (auto-upgrade). A build that first polled later than the current
    one is never displaced: an old build's worker restarted during or after a roll-out stays idle
    (rolling back on purpose is `temporal worker deployment set-current-version`). Returns
    whether this build is current; False without a deployment."""
    mine = deployment_version(settings)
    if mine is None:
        return False
    deadline = time.monotonic() + wait_seconds
    while True:
        described = await _describe(client, mine.deployment_name)
        if described is not None:
            info = described.worker_deployment_info
            current = info.routing_config.current_deployment_version.build_id
            first_polled = {
                v.deployment_version.build_id: v.create_time.ToDatetime()
                for v in info.version_summaries
            }
            if current == mine.build_id:
                if await _routed_to(client, settings.task_queue, mine.build_id):
                    return True
            elif mine.build_id in first_polled:
                if current in first_polled and first_polled[current] > first_polled[mine.build_id]:
                    log.warning(
                        "build %s of %s is current and newer than this worker's %s: this worker "
                        "stays idle (stop it, or set its version current to roll back)",
                        current,
                        mine.deployment_name,
                        mine.build_id,
                    )
                    return False
                try:
                    await client.workflow_service.set_worker_deployment_current_version(
                        SetWorkerDeploymentCurrentVersionRequest(
                            namespace=client.namespace,
                            deployment_name=mine.deployment_name,
                            build_id=mine.build_id,
                            # refused if another worker changed the deployment since: look again
                            conflict_token=described.conflict_token,
                            identity=client.identity,
                        )
                    )
                except RPCError as exc:
                    # FAILED_PRECONDITION: "conflict token mismatch", another worker changed it
                    if exc.status not in (RPCStatusCode.FAILED_PRECONDITION, *BUSY):
                        raise
                    log.info("taking over %s: %s; trying again", mine.deployment_name, exc)
                else:
                    log.info(
                        "build %s is the current version of %s (was %s)",
                        mine.build_id,
                        mine.deployment_name,
                        current or "unversioned",
                    )
                    continue  # returns once the task queue routes to it
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"build {mine.build_id} of {mine.deployment_name} did not become current within "
                f"{wait_seconds:.0f} s: are its workers polling?"
            )
        await asyncio.sleep(0.25)


async def serve(worker: Worker, client: Client, settings: Settings) -> None:
    """Runs the worker until cancelled; with a deployment, its build takes over once it polls.
    A fatal worker error (a refused poll...) cancels the wait and is raised here."""
    async with worker:
        await take_over(client, settings)
        await asyncio.Event().wait()


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
        log.info("worker polling task queue %s", settings.task_queue)
        await serve(worker, client, settings)
    finally:
        await db.dispose()


if __name__ == "__main__":
    logs.configure_logging("json")
    asyncio.run(run_worker())
