"""Deals: a proposal waiting for the creditor, a repayment plan (a child workflow), a
settlement; and what a dispute tells a running plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.actor import acting as _acting
    from domain.calendar import end_of_rome_day
    from domain.money import format_euros
    from domain.pauses import shifted
    from domain.plans import (
        PLAN_PAUSE_SIGNAL,
        PLAN_PAYMENT_SIGNAL,
        PLAN_WORKFLOW_NAME,
        PlanInput,
        PlanPause,
        ProposalCmd,
        ProposalKind,
        plan_workflow_id,
        schedule,
    )
    from domain.practice import Status
    from domain.practice_state.commands import plan_view, settle, start_deal
    from domain.practice_state.state import DealStage

from workflows.practice import handover
from workflows.practice.effects import Practice
from workflows.practice.versions import PLANS_BOUNDED, PLANS_OUTLIVE_RUN


async def tell_plan(p: Practice, pause: PlanPause) -> None:
    """A running plan suspends (no reminder, no warning) while a dispute holds."""
    if p.state.pauses.in_charge == Status.PAUSED_PLAN and plan_running(p):
        assert p.plan is not None
        await p.plan.signal(PLAN_PAUSE_SIGNAL, pause)


def plan_running(p: Practice) -> bool:
    return p.plan is not None and p.state.deal.plan_result is None


async def sit_out_deal(p: Practice) -> None:
    """A deal pauses the escalation: the creditor's decision on a proposal outside its
    bounds, then the plan (a child workflow) or the settlement until its date."""
    deal = p.state.deal.proposal
    assert deal is not None
    if p.state.status == Status.PAUSED_PROPOSAL:
        await await_decision(p, deal)
        return
    if p.state.status == Status.PAUSED_SETTLEMENT:
        assert deal.settlement_cents is not None and deal.settle_by is not None
        settle_by = shifted(deal.settle_by, p.state.pauses.shift_days)  # moved by disputes
        deadline = end_of_rome_day(settle_by)
        p.state.wait.waiting_for = f"the settlement's payment by {settle_by.isoformat()}"
        p.state.wait.next_action_at = deadline
        await p.flush()
        target = deal.settlement_cents
        await wait_deal(p, lambda: p.state.deal.paid_toward >= target, deadline)
        if p.state.status != Status.PAUSED_SETTLEMENT:
            return
        if p.state.deal.paid_toward >= target:
            p.emit(settle(p.state, workflow.now()))
        else:
            p.state.deal.stage = DealStage.LAPSED
            p.state.take(p.state.pauses.ended())
            p.event("settlement_lapsed", "Settlement not paid by its date: it lapsed")
        return
    # a plan (a run that continued as new while the plan ran has it already: Practice.__init__)
    if p.plan is None:
        p.state.deal.plan_result = None
        # a plan that outlives this run (a continue-as-new) is cancelled by the practice itself
        # when it closes (the workflow's _finalize)
        outlives = workflow.patched(PLANS_OUTLIVE_RUN)
        # years of instalments keep the plan's own history short too: it continues as new
        # under the practice's bound, and is then cancelled by its id (PLANS_BOUNDED)
        bound = p.inp.history_bound
        bounded = outlives and bound is not None and workflow.patched(PLANS_BOUNDED)
        plan_id = plan_workflow_id(p.inp.practice_id, deal.proposal_id)
        child: ChildWorkflowHandle[Any, str] = await workflow.start_child_workflow(
            PLAN_WORKFLOW_NAME,
            PlanInput(
                practice_id=p.inp.practice_id,
                parent_workflow_id=workflow.info().workflow_id,
                proposal_id=deal.proposal_id,
                # moved by a dispute that held before the plan could start
                instalments=[
                    replace(i, due_date=shifted(i.due_date, p.state.pauses.shift_days))
                    for i in schedule(deal)
                ],
                reminder_lead=p.strategy.plan_reminder_lead,
                grace=p.strategy.plan_grace,
                email=p.state.channels.email,
                sms=p.state.channels.phone and not p.state.channels.email,
                history_bound=bound if bounded else None,
            ),
            id=plan_id,
            result_type=str,
            parent_close_policy=(
                ParentClosePolicy.ABANDON if outlives else ParentClosePolicy.REQUEST_CANCEL
            ),
        )
        p.plan = child
        p.state.deal.plan_workflow_id = plan_id if outlives else None
        p.state.deal.plan_bounded = bounded
        if p.state.deal.paid_toward:
            await child.signal(PLAN_PAYMENT_SIGNAL, p.state.deal.paid_toward)
        asyncio.create_task(watch_plan(p, child))
    if p.in_plan_wait:
        p.in_plan_wait = False  # the predecessor showed it and wrote it: back to the wait
    else:
        p.state.wait.waiting_for = "the repayment plan"
        p.state.wait.next_action_at = next_instalment_at(p)
        await p.flush()

    def ended() -> bool:
        return p.state.deal.plan_result is not None or p.state.status != Status.PAUSED_PLAN

    # years of instalments: a safe point to continue as new (the next run reaches the plan by id)
    while not ended():
        await workflow.wait_condition(lambda: ended() or handover.due(p))
        if not ended():
            await handover.hand_over(p, lambda: not ended())
    if p.state.status != Status.PAUSED_PLAN:
        return
    p.plan = None
    p.state.deal.plan_workflow_id = None
    p.state.deal.plan_bounded = False
    if p.state.deal.plan_result == "broken":
        p.state.deal.stage = DealStage.BROKEN
        p.state.take(p.state.pauses.ended())
        p.event(
            "plan_broken",
            f"Plan broken: {format_euros(p.state.money.balance)} still owed",
            balance_cents=p.state.money.balance,
        )
    else:
        p.state.deal.stage = DealStage.KEPT
        # kept with something left (interest): collection goes on
        p.state.take(p.state.pauses.ended())
        p.event("plan_kept", "Plan kept", balance_cents=p.state.money.balance)


def next_instalment_at(p: Practice) -> datetime | None:
    """When the plan next needs the debtor's money: the first instalment not fully paid."""
    view = plan_view(p.state)
    for item in view.instalments if view else []:
        if item.paid_cents < item.amount_cents:
            return end_of_rome_day(item.due_date)
    return None


async def watch_plan(p: Practice, handle: ChildWorkflowHandle[Any, str]) -> None:
    # started by a command's handler, this task inherits its actor: what the plan does
    # later is the system's
    _acting(None)
    try:
        p.state.deal.plan_result = await handle
    except ChildWorkflowError:
        p.state.deal.plan_result = "broken"


async def wait_deal(p: Practice, done: Callable[[], bool], until: datetime) -> None:
    status = p.state.status
    remaining = until - workflow.now()
    if remaining <= timedelta(0):
        return
    try:
        await workflow.wait_condition(lambda: done() or p.state.status != status, timeout=remaining)
    except TimeoutError:
        pass


async def await_decision(p: Practice, deal: ProposalCmd) -> None:
    interval = p.strategy.duration("proposal_reminder_interval")
    waiting = p.state.wait
    waiting.deadline = deadline = workflow.now() + p.strategy.duration("proposal_timeout")
    waiting.reminders = 0
    while p.state.status == Status.PAUSED_PROPOSAL and p.state.deal.decision is None:
        await p.notify(
            f"{p.inp.practice_id}:proposal:{deal.proposal_id}:{waiting.reminders}",
            "creditor",
            "proposal_request",
            reminder=waiting.reminders,
            balance_cents=p.state.money.balance,
            summary=deal_summary(p, deal),
        )
        p.state.wait.waiting_for = "the creditor's decision on a proposal"
        p.state.wait.next_action_at = min(workflow.now() + interval, deadline)
        await p.flush()
        await wait_deal(p, lambda: p.state.deal.decision is not None, p.state.wait.next_action_at)
        if workflow.now() >= deadline:
            break
        waiting.reminders += 1
    if p.state.status != Status.PAUSED_PROPOSAL:
        return
    decision = p.state.deal.decision
    if decision is not None and decision.approved:
        p.event("proposal_approved", "The creditor approved the proposal")
        p.emit(start_deal(p.state, deal))
        return
    p.state.deal.stage = DealStage.REFUSED
    p.state.take(p.state.pauses.ended())
    p.event(
        "proposal_refused",
        "The creditor refused the proposal"
        if decision
        else "No decision on the proposal in time: refused",
    )


def deal_summary(p: Practice, deal: ProposalCmd) -> str:
    if deal.kind == ProposalKind.SETTLEMENT:
        assert deal.settlement_cents is not None and deal.settle_by is not None
        return (
            f"saldo e stralcio di {format_euros(deal.settlement_cents)} entro il "
            f"{deal.settle_by.isoformat()}"
        )
    items = schedule(deal)
    return (
        f"piano di rientro in {len(items)} rate dal {items[0].due_date.isoformat()} "
        f"al {items[-1].due_date.isoformat()}"
    )
