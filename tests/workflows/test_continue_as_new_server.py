"""What a parent must know about continue-as-new, on the real server (the dev server `temporal`
runs; the time-skipping test server behaves otherwise here, see docs/ARCHITECTURE.md
"Continue-as-new"): a child that continued as new is stopped by a cancel by workflow id, not by
the parent's child handle; a parent that continues as new takes a REQUEST_CANCEL child with it,
and an ABANDON child goes on and signals the parent's new run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.workflow import ParentClosePolicy

from domain.calendar import rome_date
from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialInput,
    JudicialUpdate,
    LawsuitOutcome,
    LawsuitUpdateCmd,
    OppositionCmd,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.practice import CommandResult
from tests.conftest import venv_binary
from tests.workflows.fakes import FakeWorld
from tests.workflows.parents import HandoverParent, HandoverParentInput, JudicialParent
from tests.workflows.test_continue_as_new import run_histories, workers


@pytest.fixture
async def server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


async def send(client: Client, workflow_id: str, update: str, cmd: object) -> None:
    handle = client.get_workflow_handle(workflow_id)
    result = await handle.execute_update(update, cmd, result_type=CommandResult)
    assert result.accepted, result


async def until(condition, what: str, seconds: float = 15) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_court_steps_that_continued_are_stopped_by_id_not_by_the_child_handle(
    server: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with workers(server, world) as (queue,):
        practice_id = uuid.uuid4().hex
        judicial_id = judicial_workflow_id(practice_id)
        parent = await server.client.start_workflow(
            JudicialParent.run,
            JudicialInput(practice_id, "", lawyer_id="lawyer-1", history_bound=60),
            id=f"parent-{practice_id}",
            task_queue=queue,
        )
        await until(lambda: world.judicial is not None, "the court steps")
        long_ago = rome_date(await server.get_current_time()) - timedelta(days=100)
        for update, cmd in [
            (JudicialUpdate.FILING, FilingCmd(filed_on=long_ago)),
            (JudicialUpdate.DECREE, DecreeCmd(issued_on=long_ago)),
            (JudicialUpdate.SERVICE, ServiceCmd(served_on=long_ago)),
            (JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=long_ago)),
        ]:
            await send(server.client, judicial_id, update, cmd)
        for _ in range(10):  # hearings: the run continues as new in the lawsuit
            await send(
                server.client,
                judicial_id,
                JudicialUpdate.LAWSUIT,
                LawsuitUpdateCmd(LawsuitOutcome.PENDING),
            )
        assert len(await run_histories(server.client, judicial_id)) >= 2

        # the child handle's cancel names the first run: the server takes it, the newest run
        # never hears of it
        await parent.signal("stop_through_handle")
        await asyncio.sleep(2)
        newest = await server.client.get_workflow_handle(judicial_id).describe()
        assert newest.status == WorkflowExecutionStatus.RUNNING
        assert world.judicial is not None and world.judicial.stage == "lawsuit"

        await parent.signal("stop")  # by workflow id: the newest run
        assert await parent.result() == "stopped"
    assert world.judicial.stage == "stopped"


@pytest.mark.parametrize(
    "policy", [ParentClosePolicy.REQUEST_CANCEL, ParentClosePolicy.ABANDON], ids=lambda p: p.name
)
async def test_a_parent_that_continues_as_new(
    server: WorkflowEnvironment, policy: ParentClosePolicy
) -> None:
    world = FakeWorld()
    async with workers(server, world) as (queue,):
        practice_id = uuid.uuid4().hex
        parent = await server.client.start_workflow(
            HandoverParent.run,
            HandoverParentInput(JudicialInput(practice_id, "", lawyer_id="lawyer-1"), policy),
            id=f"parent-{practice_id}",
            task_queue=queue,
        )
        judicial_id = judicial_workflow_id(practice_id)
        await until(lambda: world.judicial is not None, "the court steps")
        if policy == ParentClosePolicy.REQUEST_CANCEL:
            # the run that started it closed: the court steps were cancelled with it
            assert await server.client.get_workflow_handle(judicial_id).result() == "stopped"
            await parent.terminate("nothing will signal it")
            return
        today = rome_date(await server.get_current_time())
        await send(server.client, judicial_id, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        # the child signals the parent's workflow id: the parent's newest run hears it
        assert await parent.result() == [today]
        described = await server.client.get_workflow_handle(judicial_id).describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
