"""The practice's effects: its timeline, the read model, activities, tasks and notifications,
written once for every part of the workflow (`Practice`, the context they all take).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ChildWorkflowHandle, ExternalWorkflowHandle

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import (
        ActivityName,
        CloseTasksInput,
        CostLine,
        NotifyInput,
        OpenTaskInput,
        OpenTaskResult,
        RecordInput,
        SentResult,
        StatementInput,
        StatementResult,
    )
    from domain.actor import Actor, current_actor
    from domain.calendar import rome_date
    from domain.ledger import LedgerEntry
    from domain.practice import Outcome, PracticeInput, TimelineEvent
    from domain.practice_state.commands import close, snapshot
    from domain.practice_state.state import Awaiting, Event, PracticeState

from workflows.activity_options import DB_TIMEOUT, RETRY, SEND_TIMEOUT
from workflows.practice.versions import RECORD_LOCALLY, PatchedVersions


def cancel_by_id(workflow_id: str) -> None:
    """Asks a child that may have continued as new (a plan, the court steps, started with
    ABANDON and a history bound) to stop, by its workflow id: the request reaches its newest run
    on every server (a child handle's cancel names the first run, which the real server takes
    and the newest run never hears of). Not awaited: on the time-skipping test server the
    request never completed when the child had just ended (a plan's last payment closing the
    practice), which would hold the practice open; what the caller waits for is the child's end
    (its result or its last signal), not the request's answer. See docs/ARCHITECTURE.md
    "Continue-as-new"."""

    async def cancel() -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).cancel()
        except ApplicationError:
            pass  # it had ended already (the server found no running workflow): nothing to stop

    asyncio.create_task(cancel())


class Interrupted(Exception):
    """Raised at a wait when the practice was paused or closed meanwhile."""


class Practice:
    """What the workflow's parts share: the state (domain/practice_state), the input, and the
    machinery that is not state (locks, running tasks, child workflow handles); its methods are
    the practice's effects: timeline events, the read model, activities, tasks, notifications.
    The steps, waits, deals and court steps (the modules beside this one) are functions taking
    it."""

    def __init__(self, inp: PracticeInput) -> None:
        # everything the practice knows, one serialisable value: the predecessor's when this run
        # continued as new (docs/ARCHITECTURE.md "Continue-as-new")
        self.state = inp.resume if inp.resume is not None else PracticeState.start(inp)
        self.resumed = inp.resume is not None
        # the CONTINUE_AS_NEW patch said no (a practice replaying from before it): this run never
        # hands over
        self.handover_off = False
        self.inp = inp
        self.strategy = inp.strategy
        self.versions = PatchedVersions()
        # pre-due reminders beside the escalation, for invoices not yet due (COLLECT_OVERDUE_NOW)
        self.pre_due_task: asyncio.Task[None] | None = None
        self.flush_lock = asyncio.Lock()
        self.money_lock = asyncio.Lock()  # the newest payments win (refresh_balance)
        # the court steps: the child handle of the run that started them, or, in a run that
        # continued as new while they ran, a handle by their workflow id (their end comes by
        # their `judicial_ended` signal)
        self.judicial: ChildWorkflowHandle[Any, str] | ExternalWorkflowHandle[Any] | None = None
        self.judicial_watch: asyncio.Task[None] | None = None
        court = self.state.court
        if court.workflow_id is not None and court.running:
            self.judicial = workflow.get_external_workflow_handle(court.workflow_id)
        # handed over in the wait for the court steps (not in a pause while they ran, a plan's
        # say, whose end leads back to that wait): what it waits for is written already
        self.in_court_wait = self.judicial is not None and not self.state.interrupted
        # the running plan: the child handle of the run that started it, or, in a run that
        # continued as new, a handle by its workflow id (signals and cancel; no result)
        self.plan: ChildWorkflowHandle[Any, str] | ExternalWorkflowHandle[Any] | None = None
        if self.state.deal.plan_workflow_id is not None and self.state.deal.plan_result is None:
            # this run continued as new while the plan ran: it reaches the plan by its id, and
            # learns its end from the plan's last progress signal (the workflow's plan_progress)
            self.plan = workflow.get_external_workflow_handle(self.state.deal.plan_workflow_id)
        # handed over in the wait for the plan: what it shows it waits for is written already
        self.in_plan_wait = self.plan is not None

    @property
    def plan_by_id(self) -> bool:
        """The plan is reached by its workflow id: its end comes by signal, not by a result."""
        return isinstance(self.plan, ExternalWorkflowHandle)

    async def send(self, label: str, name: str, arg: Any) -> SentResult | None:
        """A send the activity refused for good (not a retryable outage: those are retried) is
        recorded on the timeline and the escalation goes on, rather than failing the practice."""
        try:
            result: SentResult = await self.activity(
                name, arg, result_type=SentResult, timeout=SEND_TIMEOUT
            )
            return result
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(err)
            self.event("send_failed", f"{label} not sent: {reason}")
            return None

    def is_closed(self) -> bool:
        # a method, not an inline comparison: handlers change the status across every await
        return self.state.closed

    def interrupted(self) -> bool:
        return self.state.interrupted

    def before_contact(self) -> None:
        """A pause or closure may have arrived while an activity ran: never contact the debtor
        or queue work after it."""
        if self.interrupted():
            raise Interrupted

    def release_answer(self) -> None:
        self.state.release_answer()

    def close(self, outcome: Outcome, summary: str) -> None:
        self.emit(close(self.state, outcome, summary))

    async def refresh_balance(self) -> None:
        """With interest claimed, what the debtor owes comes from the statement of account
        (interest per day across rate periods, the EUR 40 per invoice for businesses, costs,
        payments allocated per art. 1194 c.c.); otherwise the balance is principal and costs."""
        if not self.state.money.claims_interest:
            return
        async with self.money_lock:  # the newest payments win, whatever order results arrive in
            try:
                result: StatementResult = await self.activity(
                    ActivityName.COMPUTE_STATEMENT,
                    StatementInput(
                        practice_id=self.inp.practice_id,
                        at=rome_date(workflow.now()),
                        payments=list(self.state.money.payments),
                        costs=[
                            CostLine(c.incurred_on, c.amount_cents, c.kind)
                            for c in self.state.money.costs
                        ],
                        reductions=list(self.state.money.reductions),
                        claim_filed_on=self.state.money.claim_filed_on,
                        claim_interest=True,
                        allocation=self.strategy.allocation,
                    ),
                    result_type=StatementResult,
                )
            except ActivityError as err:
                # e.g. no rate published yet for a recent day: the admin adds it (POST /rates);
                # meanwhile the balance stays principal and costs, and the timeline says why
                reason = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
                if reason != self.state.money.statement_failure:
                    self.state.money.statement_failure = reason
                    self.event("statement_unavailable", f"Interest not computed: {reason}")
                return
            self.state.money.statement_failure = None
            self.state.money.balance = result.total_outstanding_cents
            self.state.money.interest = result.interest_outstanding_cents
            self.state.money.overpaid = result.overpaid_cents

    def event(self, kind: str, summary: str, *, by: Actor | None = None, **data: Any) -> None:
        values = {k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}
        self.emit([Event(kind, summary, values)], by)

    def emit(self, events: list[Event], by: Actor | None = None) -> None:
        """Timeline events; their actor is `by`, else the sender of the command being handled,
        else the system (domain.actor)."""
        timeline = self.state.timeline
        for e in events:
            timeline.seq += 1
            event = TimelineEvent(
                seq=timeline.seq,
                at=workflow.now(),
                kind=e.kind,
                summary=e.summary,
                actor=by or current_actor(),
                data=dict(e.data),
            )
            timeline.pending.append(event)
            if e.line is not None:
                # the money it records goes to the read model's ledger with it, typed
                actor = event.actor.kind if event.actor else None
                timeline.ledger.append(LedgerEntry(event.seq, event.at, e.line, actor))

    async def flush(self) -> None:
        """Writes the new timeline events and the current state to the read model."""
        async with self.flush_lock:
            self.state.timeline.unrecorded = False
            events, self.state.timeline.pending = self.state.timeline.pending, []
            lines, self.state.timeline.ledger = self.state.timeline.ledger, []
            self.state.timeline.version += 1
            # the ledger's lines are a field of the input only: the commands the workflow
            # schedules are the same, so recorded histories replay (the replayer compares an
            # activity's type and id, not its input)
            record = RecordInput(
                practice_id=self.inp.practice_id,
                events=events,
                snapshot=snapshot(self.state),
                ledger=lines,
            )
            if workflow.patched(RECORD_LOCALLY):
                # one database write: run in the workflow task itself, so a command's answer or
                # a hand-over's first steps take one workflow task, not three round trips
                await workflow.execute_local_activity(
                    ActivityName.RECORD,
                    record,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=RETRY,
                )
            else:
                await self.activity(ActivityName.RECORD, record)

    async def record_pending(self) -> None:
        """What the read model does not show yet is written before the practice waits, or before
        an activity that may take a while: what people see is never behind a wait."""
        if self.state.timeline.unrecorded:
            await self.flush()

    async def activity(
        self,
        name: str,
        arg: Any,
        result_type: type | None = None,
        timeout: timedelta = DB_TIMEOUT,
    ) -> Any:
        await self.record_pending()
        return await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=timeout,
            retry_policy=RETRY,
        )

    async def open_task(
        self,
        key: str,
        kind: str,
        assignee: str | None = None,
        attempt: int = 1,
        detail: str = "",
        awaiting: Awaiting | None = None,
    ) -> str:
        self.before_contact()
        # the task is visible on a work list as soon as it is written: its answer is welcome
        # from then on, not only once the workflow starts waiting for it
        self.state.wait.awaiting = awaiting
        result: OpenTaskResult = await self.activity(
            ActivityName.OPEN_TASK,
            OpenTaskInput(
                practice_id=self.inp.practice_id,
                idempotency_key=key,
                kind=kind,
                assignee_id=assignee,
                due_at=workflow.now(),
                attempt=attempt,
                detail=detail,
            ),
            result_type=OpenTaskResult,
        )
        return result.task_id

    async def close_tasks(self, kind: str | None, status: str, outcome: str) -> None:
        await self.activity(
            ActivityName.CLOSE_TASKS,
            CloseTasksInput(
                practice_id=self.inp.practice_id, kind=kind, status=status, outcome=outcome
            ),
        )

    async def notify(
        self,
        key: str,
        to: str,
        template: str,
        outcome: Outcome | None = None,
        **params: str | int | bool | None,
    ) -> None:
        """A message to the agency's side; its wording (with the practice's reference) is
        written by the activity from the database, so none of it enters the history."""
        await self.activity(
            ActivityName.NOTIFY,
            NotifyInput(
                practice_id=self.inp.practice_id,
                idempotency_key=key,
                to=to,
                template=template,
                params=params,
                outcome=outcome,
            ),
            timeout=SEND_TIMEOUT,
        )
