"""Continue-as-new (issue 14): a practice that runs for years hands its state over to a new run
at a safe point, before its history grows past PracticeInput.history_bound or when the server
suggests it. See docs/ARCHITECTURE.md "Continue-as-new".

The safe points are where the next run resumes from the state alone: the top of the escalation
between two steps, the wait for a running plan, the wait for the court steps (started with
COURT_STEPS_OUTLIVE_RUN: their end comes by signal), the court's aftermath between two rounds (the
creditor's decision, a re-check under watch). Never while pre-due reminders run beside the
escalation (a task of this run's own), nor while court steps started before that patch run (their
end reaches the practice only through the child handle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from temporalio import workflow

from workflows.practice.effects import Practice
from workflows.practice.versions import CONTINUE_AS_NEW

# A run starts with a handful of events (started, its first workflow task, a record): a bound
# below this would hand over again and again without moving on.
MIN_EVENTS = 20
# What a run may add between two looks at its bound: a step of the escalation (a phone phase's
# calls), a re-check under watch, the answers to a command. The run hands over this many events
# before its bound, so that it stays under it.
HEADROOM = 120


def past_bound(p: Practice) -> bool:
    """The server suggests a new run, or the history is near PracticeInput.history_bound (None:
    the practice stays one run whatever its length). Deterministic: both numbers come from the
    workflow task's started event, so a replay decides alike."""
    bound = p.inp.history_bound
    if bound is None:
        return False
    info = workflow.info()
    threshold = max(bound - HEADROOM, MIN_EVENTS)
    return info.is_continue_as_new_suggested() or info.get_current_history_length() >= threshold


def movable(p: Practice) -> bool:
    """Nothing of this run's own that a new run could not take over: court steps started before
    COURT_STEPS_OUTLIVE_RUN (their end comes only through this run's child handle, and the run's
    end would cancel them), pre-due reminders beside the escalation (a task), a plan started
    before PLANS_OUTLIVE_RUN (the run's end would cancel it)."""
    court = p.state.court
    if p.state.closed or (court.running and court.workflow_id is None):
        return False
    if p.pre_due_task is not None and not p.pre_due_task.done():
        return False
    plan_running = p.plan is not None and p.state.deal.plan_result is None
    return not plan_running or p.state.deal.plan_workflow_id is not None


def due(p: Practice) -> bool:
    return not p.handover_off and past_bound(p) and movable(p)


async def hand_over(p: Practice, still: Callable[[], bool]) -> None:
    """Continues as new with the state, once every update and signal handler finished, if
    `still()` (the caller's safe point) holds then; otherwise returns and the run goes on."""
    if not workflow.patched(CONTINUE_AS_NEW):
        p.handover_off = True
        return
    # what people see is written by this run, not left for the next one's first write
    await p.record_pending()
    # an update's answer or a signal's flush finishes here: the state handed over includes it
    await workflow.wait_condition(workflow.all_handlers_finished)
    if not (still() and movable(p)):
        return
    workflow.logger.info("practice continues as new")
    workflow.continue_as_new(replace(p.state.inp, resume=p.state))
