"""Parents for the children's continue-as-new tests (tests/workflows/test_continue_as_new.py):
they start a plan or the court steps the way the practice does (a child, REQUEST_CANCEL, the
child signalling back by the parent's workflow id) with a history bound the test chooses, and
keep what the child told them. In a module of their own so the workflow sandbox imports nothing
of pytest."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    # the converter resolves each dataclass's annotations in its module as the sandbox sees it
    import domain.actor  # noqa: F401
    import domain.court_calendar  # noqa: F401
    from domain.judicial import (
        CLAIM_FILED_SIGNAL,
        JUDICIAL_ENDED_SIGNAL,
        JUDICIAL_WORKFLOW_NAME,
        JudicialInput,
        judicial_workflow_id,
    )
    from domain.plans import (
        PLAN_PAUSE_SIGNAL,
        PLAN_PAYMENT_SIGNAL,
        PLAN_PROGRESS_SIGNAL,
        PLAN_WORKFLOW_NAME,
        PlanInput,
        PlanPause,
        PlanProgress,
    )


@dataclass
class PlanParentInput:
    plan: PlanInput
    plan_id: str
    late: list[int] = field(default_factory=list)  # instalments paid only after the warning
    dispute_at: int | None = None  # at this instalment's reminder a dispute holds for a while
    dispute_days: int = 0


@dataclass
class PlanParentResult:
    outcome: str
    progress: list[PlanProgress]
    paid_cents: int


@workflow.defn(name="TestPlanParent")
class PlanParent:
    """A debtor who pays each instalment when reminded (the `late` ones when warned), through
    the parent as the practice forwards payments, and a dispute as the practice pauses a plan."""

    def __init__(self) -> None:
        self.progress: list[PlanProgress] = []

    @workflow.signal(name=PLAN_PROGRESS_SIGNAL)
    def plan_progress(self, progress: PlanProgress) -> None:
        self.progress.append(progress)

    @workflow.run
    async def run(self, inp: PlanParentInput) -> PlanParentResult:
        plan = replace(inp.plan, parent_workflow_id=workflow.info().workflow_id)
        child = await workflow.start_child_workflow(
            PLAN_WORKFLOW_NAME,
            plan,
            id=inp.plan_id,
            result_type=str,
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )
        ended = asyncio.ensure_future(child)
        seen = paid = 0
        while True:
            await workflow.wait_condition(lambda n=seen: len(self.progress) > n or ended.done())
            if seen == len(self.progress):
                break  # the plan ended and every progress it sent was read
            p = self.progress[seen]
            seen += 1
            due = p.kind == "plan_warning" or (
                p.kind == "plan_reminder" and p.instalment not in inp.late
            )
            if not due:
                continue
            if p.kind == "plan_reminder" and p.instalment == inp.dispute_at:
                await child.signal(PLAN_PAUSE_SIGNAL, PlanPause(suspended=True))
            await child.signal(PLAN_PAYMENT_SIGNAL, p.outstanding_cents)
            paid += p.outstanding_cents
            if p.kind == "plan_reminder" and p.instalment == inp.dispute_at:
                await workflow.sleep(timedelta(days=inp.dispute_days))
                await child.signal(
                    PLAN_PAUSE_SIGNAL, PlanPause(suspended=False, shift_days=inp.dispute_days)
                )
        return PlanParentResult(await ended, self.progress, paid)


@workflow.defn(name="TestJudicialParent")
class JudicialParent:
    """Starts the court steps, keeps the filing dates they signal, and stops them when told the
    way docs/ARCHITECTURE.md "Continue-as-new" says a parent must: by workflow id."""

    def __init__(self) -> None:
        self.filed: list[date] = []
        self.stop_requested = False
        self.handle_stop_requested = False
        self.ended: list[str] = []

    @workflow.signal(name=CLAIM_FILED_SIGNAL)
    def claim_filed(self, filed_on: date) -> None:
        self.filed.append(filed_on)

    @workflow.signal(name=JUDICIAL_ENDED_SIGNAL)
    def judicial_ended(self, outcome: str) -> None:
        self.ended.append(outcome)

    @workflow.query(name="ended")
    def ended_outcomes(self) -> list[str]:
        return self.ended

    @workflow.signal(name="stop")
    def stop(self) -> None:
        self.stop_requested = True

    @workflow.signal(name="stop_through_handle")
    def stop_through_handle(self) -> None:
        """The practice's way today (ChildWorkflowHandle.cancel): on a real server it misses
        court steps that continued as new."""
        self.handle_stop_requested = True

    @workflow.query(name="filed")
    def filed_dates(self) -> list[date]:
        return self.filed

    @workflow.run
    async def run(self, inp: JudicialInput) -> str:
        judicial = replace(inp, parent_workflow_id=workflow.info().workflow_id)
        child = await workflow.start_child_workflow(
            JUDICIAL_WORKFLOW_NAME,
            judicial,
            id=judicial_workflow_id(inp.practice_id),
            result_type=str,
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )
        ended = asyncio.ensure_future(child)
        await workflow.wait_condition(
            lambda: self.stop_requested or self.handle_stop_requested or ended.done()
        )
        if self.handle_stop_requested and not ended.done():
            child.cancel()
            await workflow.wait_condition(lambda: self.stop_requested or ended.done())
        if not ended.done():
            await workflow.get_external_workflow_handle(child.id).cancel()
        return await ended


@dataclass
class HandoverParentInput:
    judicial: JudicialInput
    policy: int  # ParentClosePolicy
    handed_over: bool = False


@workflow.defn(name="TestHandoverParent")
class HandoverParent:
    """Starts the court steps, continues as new at once, and its new run waits for the filing
    the court steps signal by the parent's workflow id."""

    def __init__(self) -> None:
        self.filed: list[date] = []

    @workflow.signal(name=CLAIM_FILED_SIGNAL)
    def claim_filed(self, filed_on: date) -> None:
        self.filed.append(filed_on)

    @workflow.run
    async def run(self, inp: HandoverParentInput) -> list[date]:
        if not inp.handed_over:
            await workflow.start_child_workflow(
                JUDICIAL_WORKFLOW_NAME,
                replace(inp.judicial, parent_workflow_id=workflow.info().workflow_id),
                id=judicial_workflow_id(inp.judicial.practice_id),
                result_type=str,
                parent_close_policy=ParentClosePolicy(inp.policy),
            )
            workflow.continue_as_new(replace(inp, handed_over=True))
        await workflow.wait_condition(lambda: bool(self.filed))
        return self.filed
