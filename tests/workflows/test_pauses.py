"""How pauses compose on the workflow (domain/pauses.py): a dispute suspends whichever of
escalation / promise / deal is in charge, with no contact, and that one resumes afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.plans import Instalment, ProposalCmd, ProposalKind
from domain.practice import (
    DisputeCmd,
    DisputeResolutionCmd,
    PaymentCmd,
    PromiseCmd,
    RejectionType,
    UpdateName,
)
from domain.strategy import Step
from tests.workflows.conftest import Practice
from tests.workflows.test_replay_histories import _replayer

CLAIM = 125040


async def _plan(p: Practice) -> list:
    today = await p.today()
    due = [today + timedelta(days=30), today + timedelta(days=60)]
    await p.send(
        UpdateName.PROPOSAL,
        ProposalCmd(
            proposal_id="plan-1",
            kind=ProposalKind.PLAN,
            instalments=[Instalment(d, CLAIM // 2) for d in due],
        ),
    )
    await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
    return due


async def test_a_dispute_suspends_a_running_plan_and_the_plan_resumes_moved(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        due = await _plan(p)
        await p.env.sleep(timedelta(days=20))
        await p.send(UpdateName.DISPUTE, DisputeCmd("d-1"))
        await p.until(lambda: p.world.snapshot.status == "paused_dispute", "the dispute")
        # past the first instalment's reminder (3 days before day 30) and its grace
        await p.env.sleep(timedelta(days=20))
        await p.until(lambda: "dispute_opened" in p.world.kinds(), "recorded")
        assert not [r for r in p.world.reminders if r.moment != "before"], "reminded in a dispute"
        assert "plan_reminder" not in p.world.kinds()
        # the creditor, who decides, is reminded weekly; the practice shows until when it waits
        await p.until(
            lambda: [n.template for n in p.world.notifications].count("dispute_request") == 2,
            "two reminders to the creditor",
        )
        assert p.world.snapshot.next_action_at is not None
        assert p.world.snapshot.waiting_for == "the creditor's decision on the dispute"
        calls_before = len(p.world.open_of("call"))
        await p.send(UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd("d-1", upheld=False))
        # the plan is in charge again, not the escalation
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan resumed")
        await p.env.sleep(timedelta(hours=1))
        assert len(p.world.open_of("call")) == calls_before == 0
        assert "call_queued" not in p.world.kinds()[p.world.kinds().index("dispute_resolved") :]
        # the dates moved by the 20 days the dispute lasted (the default rule, "length")
        moved = [i.due_date for i in p.world.snapshot.plan.instalments]
        assert moved == [d + timedelta(days=20) for d in due]
        assert "dates_moved" in p.world.kinds()
        # the moved instalment is reminded before its new date, and the plan still holds
        await p.env.sleep(timedelta(days=8))
        await p.until(lambda: "plan_reminder" in p.world.kinds(), "the reminder")
        assert p.world.reminders[-1].due_date == due[0] + timedelta(days=20)
        assert p.world.snapshot.status == "paused_plan"
        # the new commands (the plan told to suspend and resume) replay deterministically
        await _replayer().replay_workflow(await p.handle.fetch_history())


async def test_a_promise_while_a_plan_is_in_charge_is_refused(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await _plan(p)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(UpdateName.PROMISE, PromiseCmd(await p.today() + timedelta(days=5), 1000))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]
        assert "plan" in str(err.value.cause)
        assert p.world.snapshot.status == "paused_plan"


async def test_a_promise_survives_a_rejected_dispute_with_its_date_moved(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        today = await p.today()
        await p.send(UpdateName.PROMISE, PromiseCmd(today + timedelta(days=10), 50000))
        await p.send(UpdateName.DISPUTE, DisputeCmd("d-1"))
        await p.env.sleep(timedelta(days=4))
        await p.send(UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd("d-1", upheld=False))
        await p.until(lambda: p.world.snapshot.status == "paused_promise", "the promise again")
        assert p.world.snapshot.promise.promised_date == today + timedelta(days=14)
        await p.send(UpdateName.PAYMENT, PaymentCmd(50000, await p.today(), "P-1"))
        await p.env.sleep(timedelta(days=11))
        await p.until(lambda: "promise_kept" in p.world.kinds(), "kept")
