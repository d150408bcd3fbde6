"""The admin (re)assigns the awaited home visit (issue 16, UpdateName.ASSIGN_VISIT), on the
time-skipping test server: the unassigned visit of a debtor abroad, then another agent; the
command is refused when no visit is awaited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.judicial import Residence
from domain.practice import (
    AssignVisitCmd,
    RejectionType,
    UpdateName,
    VisitOutcome,
    VisitOutcomeCmd,
)
from domain.strategy import Step
from tests.histories.replay import replayer
from tests.workflows.conftest import only_steps
from tests.workflows.fakes import FakeWorld
from workflows.practice.steps import VISIT_ASSIGNED_BY_ADMIN

VISIT_THEN_NOTICE = only_steps(Step.CONTACT_CHECK, Step.HOME_VISIT, Step.LEGAL_NOTICE)


async def test_the_admin_assigns_then_reassigns_the_waiting_visit(start, env) -> None:
    world = FakeWorld(field_agent=None, correspondent=True)
    async with start(world=world, strategy=VISIT_THEN_NOTICE, residence=Residence.NON_EU) as p:
        await p.waiting_for("home visit outcome")
        assert world.open_of("visit")[0].assignee_id is None

        first = await p.send(UpdateName.ASSIGN_VISIT, AssignVisitCmd(user_id="corr-1"))
        assert first.accepted and first.message == "home visit assigned"
        assert world.open_of("visit")[0].assignee_id == "corr-1"
        assert [n.to for n in world.notifications] == ["corr-1"]
        assert world.notifications[0].template == "visit_assigned"
        await p.until(
            lambda: world.snapshot is not None and world.snapshot.field_agent_id == "corr-1",
            "the practice's field agent in the read model",
        )

        # the same user again: nothing changes, nobody is told twice
        same = await p.send(UpdateName.ASSIGN_VISIT, AssignVisitCmd(user_id="corr-1"))
        assert same.accepted and same.message == "home visit already assigned"
        assert len(world.notifications) == 1

        second = await p.send(UpdateName.ASSIGN_VISIT, AssignVisitCmd(user_id="agent-2"))
        assert second.accepted
        assert world.open_of("visit")[0].assignee_id == "agent-2"
        assert [n.to for n in world.notifications] == ["corr-1", "agent-2"]
        assert len({n.idempotency_key for n in world.notifications}) == 2
        await p.until(
            lambda: world.snapshot is not None and world.snapshot.field_agent_id == "agent-2",
            "the new field agent in the read model",
        )
        assigned = [e for e in world.events.values() if e.kind == "visit_assigned"]
        assert [e.summary for e in assigned] == [VISIT_ASSIGNED_BY_ADMIN] * 2
        assert [e.data["field_agent_id"] for e in assigned] == ["corr-1", "agent-2"]
        # the escalation goes on as with any visit: still waiting for its outcome
        assert "visit_outcome" not in world.kinds()

        await p.send(UpdateName.VISIT_OUTCOME, VisitOutcomeCmd(outcome=VisitOutcome.MET))
        await env.sleep(timedelta(days=8))
        await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
        assert not world.open_of("visit")
        # the visit is over: nothing to assign any more
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(UpdateName.ASSIGN_VISIT, AssignVisitCmd(user_id="corr-1"))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]

        history = await p.handle.fetch_history()
        await replayer(pydantic_data_converter).replay_workflow(history)


async def test_assigning_a_visit_nobody_awaits_is_refused(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(UpdateName.ASSIGN_VISIT, AssignVisitCmd(user_id="agent-1"))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]
        assert err.value.cause.message == "no visit outcome is expected now"  # type: ignore[union-attr]
        assert "visit_assigned" not in p.world.kinds()
