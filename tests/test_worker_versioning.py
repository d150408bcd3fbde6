"""Worker Versioning on the bundled dev server (Temporal Server 1.32): each build of the workers
is a version of one Worker Deployment, auto-upgrade, and the newest build to poll takes the
running practices over (worker.take_over; docs/ARCHITECTURE.md, "Upgrades")."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config import Settings
from db.session import Database
from domain.practice import DebtorKind, PaymentCmd, PracticeInput, UpdateName, workflow_id_for
from domain.strategy import Step, Strategy, validate_strategy
from tests.conftest import venv_binary
from tests.factories import make_settings
from tests.workflows.conftest import Practice, overdue_invoices
from tests.workflows.fakes import FakeWorld
from worker import (
    build_worker,
    code_build_id,
    deployment_config,
    sources_digest,
    take_over,
)
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow

DEPLOYMENT = "recupero-test"


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


def build(queue: str, build_id: str) -> Settings:
    return make_settings(task_queue=queue, worker_deployment=DEPLOYMENT, worker_build_id=build_id)


def practice_worker(
    client: Client, queue: str, world: FakeWorld, settings: Settings | None
) -> Worker:
    """The product's workflows and deployment options, the fakes' activities."""
    return Worker(
        client,
        task_queue=queue,
        workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
        activities=world.activities(),
        deployment_config=deployment_config(settings) if settings else None,
    )


async def current_build(client: Client) -> str:
    described = await client.workflow_service.describe_worker_deployment(
        DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=DEPLOYMENT)
    )
    return described.worker_deployment_info.routing_config.current_deployment_version.build_id


async def test_each_new_build_takes_the_running_practice_over(dev_server) -> None:
    """A practice started on unversioned workers (an installation from before versioning) moves
    to build a when a takes over, then to build b, with no worker restarted under it; a worker
    of a restarted later does not take it back."""
    client = dev_server.client
    queue = f"versioning-{uuid.uuid4().hex[:8]}"
    world = FakeWorld()
    inp = PracticeInput(
        practice_id=uuid.uuid4().hex,
        creditor_id="creditor-1",
        debtor_kind=DebtorKind.CONSUMER,
        province="MI",
        invoices=overdue_invoices(125040),
        strategy=validate_strategy(Strategy()),
        channels=world.channels,
    )
    async with practice_worker(client, queue, world, None):
        handle = await client.start_workflow(
            PracticeWorkflow.run, inp, id=workflow_id_for(inp.practice_id), task_queue=queue
        )
        p = Practice(dev_server, handle, world, inp)
        await p.next_step_is(Step.PHONE_PHASE)
    today = await p.today()

    async with practice_worker(client, queue, world, build(queue, "a")):
        assert await take_over(client, build(queue, "a"), wait_seconds=30)
        await p.send(UpdateName.PAYMENT, PaymentCmd(20000, today, "BON-1"))
        # the roll-out: b's workers start beside a's, b takes over, then a's stop
        worker_b = practice_worker(client, queue, world, build(queue, "b"))
        running_b = asyncio.create_task(worker_b.run())
        # three workers of b starting together (--scale worker=3): the server refuses a burst
        # of changes to one deployment and a stale conflict token; each one comes up
        b_workers = [take_over(client, build(queue, "b"), wait_seconds=30) for _ in range(3)]
        assert await asyncio.gather(*b_workers) == [True, True, True]
    try:
        await p.send(UpdateName.PAYMENT, PaymentCmd(105040, today, "BON-2"))
        assert await handle.result() == "paid"
        assert await current_build(client) == "b"

        async with practice_worker(client, queue, world, build(queue, "a")):
            # a first polled before b: restarted, it stays idle
            assert not await take_over(client, build(queue, "a"), wait_seconds=30)
        assert await current_build(client) == "b"
    finally:
        await worker_b.shutdown()
        await running_b

    history = await handle.fetch_history()
    builds: list[str] = []
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            done = event.workflow_task_completed_event_attributes
            if not builds or builds[-1] != done.deployment_version.build_id:
                builds.append(done.deployment_version.build_id)
            if done.deployment_version.build_id:
                assert done.versioning_behavior == VersioningBehavior.AUTO_UPGRADE.value
    assert builds == ["", "a", "b"]


async def test_the_product_worker_is_versioned_only_with_a_deployment(
    dev_server, tmp_path: Path
) -> None:
    client = dev_server.client
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    try:
        plain = build_worker(client, db, make_settings())
        assert plain.config().get("deployment_config") is None
        versioned = build_worker(client, db, make_settings(worker_deployment="recupero"))
        config = versioned.config().get("deployment_config")
        assert config is not None and config.use_worker_versioning
        assert config.default_versioning_behavior == VersioningBehavior.AUTO_UPGRADE
        assert config.version.deployment_name == "recupero"
        assert config.version.build_id == code_build_id()
        named = make_settings(worker_deployment="recupero", worker_build_id="2026.12")
        assert deployment_config(named).version.build_id == "2026.12"  # type: ignore[union-attr]
    finally:
        await db.dispose()


def test_the_build_id_follows_the_code(tmp_path: Path) -> None:
    """The same sources give the same id on every host; one changed byte gives another."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "practice.py").write_text("A = 1\n")
    first = sources_digest([folder])
    assert sources_digest([folder]) == first
    (folder / "practice.py").write_text("A = 2\n")
    assert sources_digest([folder]) != first
    release, digest = code_build_id().rsplit("-", 1)
    assert release and len(digest) == 12
