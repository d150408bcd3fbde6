"""The practice's court steps on the real server (the dev server `temporal`): they continue as new
under the practice's run that started them, and that run stops them by their workflow id when
the practice closes. On this server a cancel through the child handle misses a child that
continued as new (tests/workflows/test_continue_as_new_server.py): the practice cancels by id
(workflows/practice/effects.py `cancel_by_id`). See docs/ARCHITECTURE.md "Continue-as-new"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.calendar import rome_date
from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    LawsuitOutcome,
    LawsuitUpdateCmd,
    OppositionCmd,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.practice import AuthorizationCmd, UpdateName, WithdrawalCmd
from tests.conftest import venv_binary
from tests.workflows.conftest import only_steps
from tests.workflows.test_continue_as_new import run_histories
from tests.workflows.test_judicial import court

# the practice's threshold (the bound less 120 events) is far above what it writes before the
# court steps and nothing reaches it during the hearings; the court steps' (the bound less 120
# too) is passed after about 25 hearings
BOUND = 300


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server, in place of tests/workflows/conftest.py's time-skipping one: its `start`
    fixture runs the practice here."""
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield environment
    await environment.shutdown()


async def test_the_starting_run_stops_court_steps_that_continued_by_id(start) -> None:
    async with start(strategy=only_steps(), history_bound=BOUND) as p:
        await p.waiting_for("the creditor's authorisation")
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        await p.until(lambda: p.world.judicial is not None, "the court steps")
        j = p.env.client.get_workflow_handle(judicial_workflow_id(p.inp.practice_id))
        long_ago = rome_date(await p.env.get_current_time())
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=long_ago))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=long_ago))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=long_ago))
        await p.until(lambda: p.world.judicial.stage == "opposition_term", "the term")
        await court(j, JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=long_ago))
        hearings = 0
        while len(await run_histories(p.env.client, j.id)) < 2:
            hearings += 1
            assert hearings <= 100, "the court steps never continued as new"
            await court(j, JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(LawsuitOutcome.PENDING))
        # the practice is still the run that started them: its child handle names their first
        # run, which has closed
        assert len(await run_histories(p.env.client, p.handle.id)) == 1
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"
        assert await j.result() == "stopped"  # their newest run
        described = await j.describe()
        assert described.status == WorkflowExecutionStatus.COMPLETED
        for _ in range(100):
            if p.world.judicial.stage == "stopped":
                break
            await asyncio.sleep(0.05)
        assert p.world.judicial.stage == "stopped"
        kinds = p.world.kinds()
        assert kinds.count("judicial_ended") == 1


async def test_court_steps_terminated_by_hand_end_the_court_phase(start) -> None:
    """Court steps terminated from Temporal's UI return nothing: the practice records their end
    and asks the creditor, instead of waiting for an end that never comes. (The time-skipping
    server never tells a parent that its child was terminated: sdk-java pull request 2921.)"""
    async with start(strategy=only_steps()) as p:
        await p.waiting_for("the creditor's authorisation")
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        await p.until(lambda: p.world.judicial is not None, "the court steps")
        j = p.env.client.get_workflow_handle(judicial_workflow_id(p.inp.practice_id))
        await j.terminate("by hand")
        await p.until(lambda: "end_decision_requested" in p.world.kinds(), "the end decision")
        ended = next(e for e in p.world.events.values() if e.kind == "judicial_ended")
        assert ended.data["outcome"] == "terminated"
        assert ended.summary == "Court steps ended: terminated"
        described = await p.handle.describe()
        assert described.status == WorkflowExecutionStatus.RUNNING  # open, for the creditor
