"""Practices always end (issue 11, point 6): when the court steps end with nothing left to do
the creditor is asked, with reminders, to close as uncollectable or keep under watch; a watched
debtor is re-checked every watch_interval; an open practice always says what it waits for and
until when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    LawsuitOutcome,
    LawsuitUpdateCmd,
    OppositionCmd,
    ServiceCmd,
)
from domain.practice import (
    EndDecision,
    EndDecisionCmd,
    RejectionType,
    StopJudicialCmd,
    TraceResultCmd,
    UpdateName,
)
from tests.workflows.conftest import Practice, only_steps
from tests.workflows.test_judicial import authorised, court
from tests.workflows.test_replay_histories import _replayer


def _asks(p: Practice) -> list[int]:
    return [
        int(n.params.get("reminder") or 0)
        for n in p.world.notifications
        if n.template == "end_decision_request"
    ]


async def test_a_lost_opposition_asks_the_creditor_then_writes_off(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        with pytest.raises(WorkflowUpdateFailedError) as err:  # the court steps still run
            await p.send(UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WRITE_OFF))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]
        today = await p.today()
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today, opposition_days=30))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "opposition_term", "the opposition term")
        await court(j, JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=today))
        await court(j, JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(outcome=LawsuitOutcome.LOST))
        # the creditor's work list has the decision, and the practice says until when it waits
        await p.until(lambda: len(p.world.open_of("end_decision")) == 1, "the decision task")
        await p.waiting_for("the creditor's decision")
        snap = p.world.snapshot
        assert snap.next_action_at is not None
        assert snap.next_action_at - await p.env.get_current_time() <= timedelta(days=14)
        # reminded every end_decision_reminder_interval (P14D)
        await p.env.sleep(timedelta(days=15))
        await p.until(lambda: _asks(p) == [0, 1], "a reminder")
        balance = (await p.state()).balance_cents
        await p.send(UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WRITE_OFF))
        assert await p.handle.result() == "uncollectable"
        assert p.world.snapshot.written_off_cents == balance > 0
        assert not p.world.open_of("end_decision")
        await _replayer().replay_workflow(await p.handle.fetch_history())


async def test_a_practice_kept_under_watch_re_checks_the_debtor(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        await p.send(UpdateName.STOP_JUDICIAL, StopJudicialCmd())
        assert await j.result() == "stopped"
        await p.until(lambda: len(p.world.open_of("end_decision")) == 1, "the decision task")
        await p.send(UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WATCH))
        with pytest.raises(WorkflowUpdateFailedError):  # already under watch
            await p.send(UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WATCH))
        await p.waiting_for("the next re-check of the debtor")
        assert p.world.snapshot.next_action_at is not None
        assert not p.world.open_of("end_decision")
        # every watch_interval (P182D) a skip-tracing / contact-check task
        await p.env.sleep(timedelta(days=183))
        await p.until(lambda: len(p.world.open_of("trace")) == 1, "the re-check")
        await p.waiting_for("the re-check of the debtor")
        await p.send(UpdateName.TRACE_RESULT, TraceResultCmd(found=False))
        await p.waiting_for("the next re-check of the debtor")
        await p.env.sleep(timedelta(days=183))
        await p.until(lambda: len(p.world.open_of("trace")) == 1, "the second re-check")
        # something found: back to the creditor, who writes it off
        await p.send(UpdateName.TRACE_RESULT, TraceResultCmd(found=True, found_channels=["phone"]))
        await p.until(lambda: len(p.world.open_of("end_decision")) == 1, "asked again")
        await p.send(UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WRITE_OFF))
        assert await p.handle.result() == "uncollectable"
