"""Model-based test of pauses on the real workflow (time-skipping test server, tests/workflows/
fakes.py): hypothesis drives one practice per example through random interleavings of promises,
disputes opened and rejected, plans proposed, instalments paid and days passing, and checks after
every step that:

- no reminder, letter or queued call or visit reaches the debtor while a dispute holds;
- one of escalation / promise / deal is in charge: while a plan runs, the escalation queues
  nothing and the practice shows the plan (or the dispute suspending it);
- an open practice names what it waits for, with a date.

Run on the code before issue 11 it fails: first on the date (a running plan showed no date), and
without that check on point 3 (a plan, then a promise: the promise took charge beside the
plan).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import rome_date
from domain.plans import Instalment, ProposalCmd, ProposalKind
from domain.practice import (
    CommandResult,
    DebtorKind,
    DisputeCmd,
    DisputeResolutionCmd,
    PaymentCmd,
    PracticeInput,
    PromiseCmd,
    UpdateName,
    workflow_id_for,
)
from domain.strategy import Step
from tests.conftest import venv_binary
from tests.workflows.conftest import only_steps, overdue_invoices
from tests.workflows.fakes import FakeWorld
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow

CLAIM = 125040
HALF = CLAIM // 2
STRATEGY = only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE, Step.SECOND_LETTER)


class Harness:
    """One event loop for all examples; each example its own test server (a practice left
    behind by an example, or its plan, would hold the next one's clock) and practice."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def start_env(self) -> WorkflowEnvironment:
        env: WorkflowEnvironment = self.run(
            WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=venv_binary("temporal-test-server"),
                data_converter=pydantic_data_converter,
            )
        )
        return env

    def close(self) -> None:
        self.loop.close()


HARNESS: Harness | None = None


def _contacts(world: FakeWorld) -> int:
    """What reached, or was queued to reach, the debtor so far."""
    return len(world.reminders) + len(world.letters) + len(world.tasks)


class PracticeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert HARNESS is not None
        self.h = HARNESS
        self.env = self.h.start_env()
        self.world = FakeWorld()
        pid = uuid.uuid4().hex
        self.queue = f"stateful-{pid}"

        async def start_worker() -> Worker:
            worker = Worker(
                self.env.client,
                task_queue=self.queue,
                workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
                activities=self.world.activities(),
            )
            await worker.__aenter__()
            return worker

        self.worker = self.h.run(start_worker())
        inp = PracticeInput(
            practice_id=pid,
            creditor_id="creditor-1",
            debtor_kind=DebtorKind.CONSUMER,
            province="MI",
            invoices=overdue_invoices(CLAIM),
            strategy=STRATEGY,
            channels=self.world.channels,
        )
        self.handle: WorkflowHandle = self.h.run(
            self.env.client.start_workflow(
                PracticeWorkflow.run, inp, id=workflow_id_for(pid), task_queue=self.queue
            )
        )
        self.dispute: str | None = None
        self.contacts_at_dispute = 0
        self.disputes = 0
        self.plans = 0
        self.refs = 0
        self._settle()

    def teardown(self) -> None:
        async def stop() -> None:
            await self.worker.__aexit__(None, None, None)
            await self.env.shutdown()

        self.h.run(stop())

    # --- helpers -----------------------------------------------------------------------------

    def _settle(self) -> None:
        """Until the workflow has written what it does (the read model stops changing)."""

        async def settle() -> None:
            quiet, last = 0, -1
            for _ in range(500):
                await asyncio.sleep(0.02)
                now = (len(self.world.records), _contacts(self.world))
                if now == last:
                    quiet += 1
                    if quiet >= 12 and self.world.snapshot is not None:
                        return
                else:
                    quiet, last = 0, now  # type: ignore[assignment]

        self.h.run(settle())

    def _today(self) -> date:
        return rome_date(self.h.run(self.env.get_current_time()))

    def _send(self, update: str, cmd: object) -> CommandResult | None:
        try:
            result: CommandResult = self.h.run(
                self.handle.execute_update(update, cmd, result_type=CommandResult)
            )
        except (WorkflowUpdateFailedError, RPCError):
            result = None  # refused (409/422), or the practice has ended: nothing changed
        self._settle()
        return result

    # --- rules -------------------------------------------------------------------------------

    @rule(days=st.integers(1, 12))
    def days_pass(self, days: int) -> None:
        self.h.run(self.env.sleep(timedelta(days=days)))
        self._settle()

    @rule(days=st.integers(1, 10))
    def promise(self, days: int) -> None:
        self._send(UpdateName.PROMISE, PromiseCmd(self._today() + timedelta(days=days), 10000))

    @rule(every=st.integers(8, 20))
    def plan(self, every: int) -> None:
        self.plans += 1
        today = self._today()
        self._send(
            UpdateName.PROPOSAL,
            ProposalCmd(
                proposal_id=f"plan-{self.plans}",
                kind=ProposalKind.PLAN,
                instalments=[
                    Instalment(today + timedelta(days=every * (n + 1)), a)
                    for n, a in enumerate((HALF, CLAIM - HALF))
                ],
            ),
        )

    @precondition(lambda self: self.dispute is None)
    @rule()
    def open_dispute(self) -> None:
        self.disputes += 1
        dispute = f"d-{self.disputes}"
        # set whatever the answer (a closed practice refuses it, and contacts nobody): the
        # rules' preconditions must not depend on the workflow's timing
        self.dispute, self.contacts_at_dispute = dispute, _contacts(self.world)
        self._send(UpdateName.DISPUTE, DisputeCmd(dispute))

    @precondition(lambda self: self.dispute is not None)
    @rule()
    def reject_dispute(self) -> None:
        assert self.dispute is not None
        self._check_no_contact()
        self._send(UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd(self.dispute, False))
        self.dispute = None

    @rule()
    def pay_an_instalment(self) -> None:
        self.refs += 1
        self._send(UpdateName.PAYMENT, PaymentCmd(HALF, self._today(), f"R{self.refs}"))

    # --- after every step --------------------------------------------------------------------

    def _check_no_contact(self) -> None:
        if self.dispute is not None:
            assert _contacts(self.world) == self.contacts_at_dispute, (
                "the debtor was contacted while a dispute held: "
                f"{self.world.kinds()[-8:]}, reminders {[r.moment for r in self.world.reminders]}"
            )

    @invariant()
    def no_contact_while_a_dispute_holds(self) -> None:
        self._check_no_contact()

    @invariant()
    def one_in_charge(self) -> None:
        snap = self.world.snapshot
        if snap is None or snap.status == "closed":
            return
        plan = snap.plan
        if plan is not None and plan.kind == "plan" and plan.state in ("active", "warned"):
            # a running plan is in charge (or suspended by a dispute): the escalation is not
            assert snap.status in ("paused_plan", "paused_dispute"), (snap.status, plan.state)
            assert not self.world.open_of("call") and not self.world.open_of("visit"), (
                "the escalation queued work while a plan runs"
            )

    @invariant()
    def waits_for_something_with_a_date(self) -> None:
        snap = self.world.snapshot
        if snap is None or snap.status == "closed":
            return
        assert snap.waiting_for or snap.next_step, snap
        assert snap.next_action_at is not None, (snap.status, snap.waiting_for, snap.next_step)


def test_pauses_hold_on_the_workflow() -> None:
    global HARNESS
    HARNESS = Harness()
    try:
        run_state_machine_as_test(
            PracticeMachine,
            settings=settings(
                # each step waits for the workflow to settle (real time): a few examples of a
                # few steps each, no shrinking, keep it under a minute
                max_examples=8,
                stateful_step_count=7,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                deadline=None,
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            ),
        )
    finally:
        HARNESS.close()
        HARNESS = None
