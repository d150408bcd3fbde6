from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import rome_date
from domain.judicial import Residence
from domain.practice import (
    CommandResult,
    DebtorKind,
    Invoice,
    PracticeInput,
    PracticeSnapshot,
    workflow_id_for,
)
from domain.strategy import Step, StepSetting, Strategy, validate_strategy
from tests.conftest import venv_binary
from tests.workflows.fakes import FakeWorld
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One test server per test: its clock moves with the test, so dates stay predictable."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield environment
    await environment.shutdown()


def overdue_invoices(*amounts: int, days_overdue: int = 60) -> list[Invoice]:
    due = date.today() - timedelta(days=days_overdue)
    return [
        Invoice(number=f"FT-{n}", issue_date=due - timedelta(days=30), due_date=due, amount_cents=a)
        for n, a in enumerate(amounts, start=1)
    ]


def only_steps(*steps: Step, **overrides: object) -> Strategy:
    """A strategy that runs just these steps, with the default waits."""
    base = validate_strategy(Strategy())
    settings = [
        StepSetting(
            step=s.step,
            enabled=s.step in steps or s.step == Step.AUTHORIZATION,
            wait_after=s.wait_after,
        )
        for s in base.steps
    ]
    return validate_strategy(Strategy(steps=settings, **overrides))  # type: ignore[arg-type]


class Practice:
    def __init__(
        self, env: WorkflowEnvironment, handle: WorkflowHandle, world: FakeWorld, inp: PracticeInput
    ) -> None:
        self.env = env
        self.handle = handle
        self.world = world
        self.inp = inp

    async def until(self, condition: Callable[[], bool], what: str = "", seconds: float = 15):
        """Polls the fakes (real time; the test server's clock only moves when told)."""
        for _ in range(int(seconds / 0.02)):
            if condition():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; events: {self.world.kinds()}")

    async def state(self) -> PracticeSnapshot:
        return await self.handle.query("state", result_type=PracticeSnapshot)

    async def send(self, update: str, cmd: object) -> CommandResult:
        return await self.handle.execute_update(update, cmd, result_type=CommandResult)

    async def waiting_for(self, text: str) -> None:
        await self.until(
            lambda: (
                self.world.snapshot is not None and text in (self.world.snapshot.waiting_for or "")
            ),
            f"waiting_for {text!r}",
        )

    async def today(self) -> date:
        """The date in Rome on the test server's clock, which the tests move forward."""
        return rome_date(await self.env.get_current_time())

    async def first_call(self) -> None:
        """Past the reminder letter's wait, to the first call queued for the operators."""
        await self.next_step_is("phone_phase")
        await self.env.sleep(timedelta(days=15, minutes=1))
        await self.waiting_for("call outcome (attempt 1/")

    async def next_step_is(self, step: str) -> None:
        await self.until(
            lambda: self.world.snapshot is not None and self.world.snapshot.next_step == step,
            f"next step {step}",
        )


@pytest.fixture
def start(env: WorkflowEnvironment):
    @asynccontextmanager
    async def _start(
        world: FakeWorld | None = None,
        strategy: Strategy | None = None,
        invoices: list[Invoice] | None = None,
        kind: DebtorKind = DebtorKind.CONSUMER,
        consumer_credit: bool = False,
        history_bound: int | None = 10_000,
        residence: Residence = Residence.ITALY,
        reminder_spread_minutes: int = 0,
        practice_id: str | None = None,
    ) -> AsyncIterator[Practice]:
        world = world or FakeWorld()
        practice_id = practice_id or uuid.uuid4().hex
        queue = f"test-{practice_id}"
        inp = PracticeInput(
            practice_id=practice_id,
            creditor_id="creditor-1",
            debtor_kind=kind,
            province="MI",
            invoices=invoices or overdue_invoices(125040),
            strategy=strategy or validate_strategy(Strategy()),
            channels=world.channels,
            consumer_credit=consumer_credit,
            history_bound=history_bound,
            residence=residence,
            reminder_spread_minutes=reminder_spread_minutes,
        )
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
            activities=world.activities(),
        ):
            handle = await env.client.start_workflow(
                PracticeWorkflow.run, inp, id=workflow_id_for(practice_id), task_queue=queue
            )
            yield Practice(env, handle, world, inp)

    return _start
