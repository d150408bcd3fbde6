"""The court steps: the judicial child workflow, and what the creditor decides once they ended."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, TerminatedError, is_cancelled_exception
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.actor import acting as _acting
    from domain.judicial import JUDICIAL_WORKFLOW_NAME, JudicialInput, judicial_workflow_id
    from domain.practice_state.state import Awaiting

from workflows.practice import handover, waits
from workflows.practice.effects import Interrupted, Practice, cancel_by_id
from workflows.practice.versions import COURT_STEPS_OUTLIVE_RUN, JUDICIAL_ABNORMAL_END


async def after_court(p: Practice) -> None:
    """The court steps ended and the practice is still open: nothing is left to do but what
    the creditor decides. Until it does, it is reminded every end_decision_reminder_interval
    (a task on its work list); under watch, the debtor is re-checked every watch_interval
    (a skip-tracing and contact-check task), and what the check finds goes back to the
    creditor. Writing off closes the practice (EndDecisionCmd's handler)."""
    pid = p.inp.practice_id
    while p.state.court.end_choice is None:
        p.state.court.end_asks += 1
        key = f"{pid}:end-decision:{p.state.court.end_asks}"
        await p.open_task(key, "end_decision", awaiting=Awaiting.END_DECISION)
        p.event(
            "end_decision_requested",
            f"Court steps ended ({(p.state.court.outcome or '').replace('_', ' ')}): the "
            "creditor decides to close as uncollectable or keep under watch",
        )
        interval = p.strategy.duration("end_decision_reminder_interval")
        p.state.wait.reminders = 0
        p.state.wait.awaiting = Awaiting.END_DECISION
        while p.state.court.end_choice is None:
            await p.notify(
                f"{key}:{p.state.wait.reminders}",
                "creditor",
                "end_decision_request",
                reminder=p.state.wait.reminders,
                balance_cents=p.state.money.balance,
            )
            p.state.wait.waiting_for = (
                "the creditor's decision: close as uncollectable or keep under watch"
            )
            p.state.wait.next_action_at = workflow.now() + interval
            await p.flush()
            await waits.wait(p, interval, lambda: p.state.court.end_choice is not None)
            p.state.wait.reminders += 1
        p.release_answer()
        await p.close_tasks("end_decision", "done", p.state.court.end_choice.value)
    # kept under watch
    every = p.strategy.duration("watch_interval")
    p.state.wait.waiting_for = "the next re-check of the debtor (kept under watch)"
    p.state.wait.next_action_at = workflow.now() + every
    await p.flush()
    await waits.wait(p, every)
    p.state.court.watch_checks += 1
    p.state.answers.trace = None
    await p.open_task(
        f"{pid}:watch:{p.state.court.watch_checks}",
        "trace",
        detail="re-check under watch: new address, phone, employer or assets",
        awaiting=Awaiting.TRACE,
    )
    p.event("watch_check", f"Re-check of the debtor under watch ({p.state.court.watch_checks})")
    result = await waits.await_answer(
        p,
        Awaiting.TRACE,
        "the re-check of the debtor (skip tracing and contact check)",
        p.strategy.duration("trace_timeout"),
        lambda: p.state.answers.trace,
    )
    await p.close_tasks(
        "trace",
        "done" if result else "cancelled",
        "found" if result and result.found else "not found",
    )
    if result is not None and result.found:
        p.state.court.end_choice = None  # something new: the creditor decides again


async def start_judicial(p: Practice) -> None:
    bound = p.inp.history_bound
    # court steps that outlive this run (a continue-as-new while they run): ABANDON, their own
    # bound, their id kept; asked only with a bound (a practice without one never hands over)
    outlive = bound is not None and workflow.patched(COURT_STEPS_OUTLIVE_RUN)
    judicial_id = judicial_workflow_id(p.inp.practice_id)
    handle: ChildWorkflowHandle[Any, str] = await workflow.start_child_workflow(
        JUDICIAL_WORKFLOW_NAME,
        JudicialInput(
            practice_id=p.inp.practice_id,
            parent_workflow_id=workflow.info().workflow_id,
            lawyer_id=p.state.escalation.lawyer_id,
            residence=p.inp.residence,
            history_bound=bound if outlive else None,
        ),
        id=judicial_id,
        result_type=str,
        # a practice that ends takes its court steps with it (they are told and stop): through
        # the close policy before COURT_STEPS_OUTLIVE_RUN, by their id since (the policy would
        # also apply when a run continues as new)
        parent_close_policy=(
            ParentClosePolicy.ABANDON if outlive else ParentClosePolicy.REQUEST_CANCEL
        ),
    )
    p.judicial = handle
    p.state.court.started = True
    p.state.court.workflow_id = judicial_id if outlive else None
    p.judicial_watch = asyncio.create_task(watch_judicial(p, handle))


async def watch_judicial(p: Practice, handle: ChildWorkflowHandle[Any, str]) -> None:
    _acting(None)  # the court steps' end is not the authoriser's doing (see _watch_plan)
    try:
        outcome = await handle
    except ChildWorkflowError as err:
        if not workflow.patched(JUDICIAL_ABNORMAL_END):
            raise
        outcome = abnormal_outcome(err)
    await ended(p, outcome)


def abnormal_outcome(err: ChildWorkflowError) -> str:
    """The court steps' outcome when they did not return one."""
    if is_cancelled_exception(err):
        return "stopped"
    return "terminated" if isinstance(err.cause, TerminatedError) else "failed"


async def ended(p: Practice, outcome: str) -> None:
    """The court steps ended: told by their result (the run that started them) or by their
    `judicial_ended` signal (court steps with a bound send it just before they return, so a run
    that continued as new hears it too). Whichever comes first counts; the other is the same
    end told twice."""
    if p.state.court.outcome is not None or not p.state.court.started:
        return
    p.state.court.outcome = outcome
    p.event("judicial_ended", f"Court steps ended: {outcome.replace('_', ' ')}", outcome=outcome)
    await p.flush()


async def sit_out_court(p: Practice) -> None:
    """Waits for the court steps' end: months or years of terms and hearings, a safe point to
    continue as new when they outlive the run (COURT_STEPS_OUTLIVE_RUN): the next run reaches
    them by their id and hears their end by signal. A pause or closure meanwhile raises
    Interrupted (waits.wait)."""

    def over() -> bool:
        return p.state.court.outcome is not None

    if p.in_court_wait:
        p.in_court_wait = False  # the predecessor showed and wrote what the practice waits for
    else:
        p.state.wait.waiting_for = "the court steps (see the judicial stage)"
        await p.flush()
    while not over():
        if p.interrupted():
            raise Interrupted
        await waits.wait(p, None, lambda: over() or handover.due(p))
        if not over():
            await handover.hand_over(p, lambda: not over() and not p.interrupted())


async def stop_judicial(p: Practice) -> None:
    if p.judicial is not None and p.state.court.outcome is None:
        if p.state.court.workflow_id is not None:
            # they may have continued as new: a cancel by id reaches their newest run; their end
            # comes back by result or by signal ("stopped")
            cancel_by_id(p.state.court.workflow_id)
        else:
            assert isinstance(p.judicial, ChildWorkflowHandle)
            p.judicial.cancel()
        await workflow.wait_condition(lambda: p.state.court.outcome is not None)
