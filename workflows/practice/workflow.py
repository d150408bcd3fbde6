"""The practice workflow: one debtor's unpaid invoices for one creditor, from hand-over to closure.

It walks the out-of-court path of DOMAIN.md (steps 1 to 11) with durable timers between steps,
and takes what people decide as Temporal updates: payments, promises, call and visit outcomes,
trace results, disputes, the lawyer's opinion, the creditor's authorisation, withdrawal, contacts.

Pauses (a promise to pay, an open dispute) and closures interrupt the escalation only at its
waits, never in the middle of a send: a letter that started going out is finished and recorded.
When a pause ends, the escalation resumes at the step where it paused; if that step's action
had already been carried out, at the step after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ExternalWorkflowHandle

with workflow.unsafe.imports_passed_through():
    from domain.actor import acting as _acting
    from domain.calendar import rome_date
    from domain.consumer_credit import DEBT_ADVICE_LETTER
    from domain.judicial import CLAIM_FILED_SIGNAL, JUDICIAL_ENDED_SIGNAL
    from domain.money import format_euros
    from domain.plans import (
        PLAN_PAYMENT_SIGNAL,
        PLAN_PROGRESS_SIGNAL,
        ClosureCmd,
        PlanPause,
        PlanProgress,
        ProposalCmd,
        ProposalDecisionCmd,
    )
    from domain.practice import (
        STATE_QUERY,
        WORKFLOW_NAME,
        AssignVisitCmd,
        AuthorizationCmd,
        CallOutcomeCmd,
        CommandResult,
        ContactInvalidCmd,
        ContactsCmd,
        CostCmd,
        DebtAdviceNoticeCmd,
        DisputeCmd,
        DisputeResolutionCmd,
        EndDecision,
        EndDecisionCmd,
        ForbearanceCmd,
        LegalOpinionCmd,
        LetterReturnedCmd,
        PaymentCmd,
        Phase,
        PracticeInput,
        PracticeSnapshot,
        PromiseCmd,
        Status,
        StopJudicialCmd,
        TraceResultCmd,
        UpdateName,
        VisitOutcomeCmd,
        WithdrawalCmd,
    )
    from domain.practice_state import checks
    from domain.practice_state.checks import Refused
    from domain.practice_state.commands import (
        apply_authorization,
        apply_call_outcome,
        apply_closure,
        apply_contact_invalid,
        apply_contacts,
        apply_cost,
        apply_dispute,
        apply_dispute_resolution,
        apply_end_decision,
        apply_forbearance,
        apply_legal_opinion,
        apply_letter_returned,
        apply_payment,
        apply_plan_progress,
        apply_promise,
        apply_proposal,
        apply_proposal_decision,
        apply_trace_result,
        apply_visit_outcome,
        apply_withdrawal,
        book_cost,
        book_dispute_resolution,
        book_payment,
        closure_summary,
        snapshot,
    )
    from domain.practice_state.state import DealStage, Event, PracticeState
    from domain.strategy import STEP_ORDER, Step

from workflows.practice import court, deals, handover, steps, waits
from workflows.practice.effects import Interrupted, Practice, cancel_by_id
from workflows.practice.steps import STEP_LABELS
from workflows.practice.versions import (
    COLLECT_OVERDUE_NOW,
    END_DECISION,
    RECORD_LOCALLY,
    STEPS_IN_CREDITORS_ORDER,
)


def _reject(kind: str, message: str, field: str | None = None) -> ApplicationError:
    """A refused command; `field` (the API's name for it) lets the API point its 422 at it."""
    details = (field,) if field else ()
    return ApplicationError(message, *details, type=kind, non_retryable=True)


@workflow.defn(name=WORKFLOW_NAME)
class PracticeWorkflow:
    @workflow.init
    def __init__(self, inp: PracticeInput) -> None:
        self.p = Practice(inp)
        self.state = self.p.state

    @workflow.run
    async def run(self, inp: PracticeInput) -> str:
        esc = self.state.escalation
        # a run that continued as new (docs/ARCHITECTURE.md "Continue-as-new") starts where its
        # predecessor handed over: between two steps, in a pause (the wait for a plan), or in
        # the court's aftermath; the hand-over itself happened once, in the first run
        if not self.p.resumed:
            await self._hand_over(inp)
        # the predecessor stopped contact when the pause began: this run only sits it out
        pause_carried = self.p.resumed and self.state.interrupted and not self.state.closed

        while not self.state.closed and esc.index < len(esc.steps):
            try:
                if pause_carried:
                    raise Interrupted
                if handover.due(self.p):
                    await handover.hand_over(self.p, lambda: not self.state.interrupted)
                await steps.run_step(self.p, esc.steps[esc.index])
                esc.index += 1
                esc.action_done = False
            except Interrupted:
                await waits.handle_interruption(self.p, stop_contact=not pause_carried)
                pause_carried = False
                if esc.action_done:
                    esc.index += 1
                    esc.action_done = False
                if not self.state.closed and esc.index < len(esc.steps):
                    nxt = esc.steps[esc.index]
                    self.p.event(
                        "resumed", f"Escalation resumed at the {STEP_LABELS[nxt]}", step=nxt
                    )

        # Authorised practices wait in the judicial phase while the court steps run as a child
        # workflow; payments, promises, disputes and withdrawal still apply.
        while self.state.status != Status.CLOSED:
            self.state.escalation.current = None
            self.state.wait.next_step = None
            self.state.wait.next_action_at = None
            if workflow.patched(END_DECISION):
                try:
                    if pause_carried:
                        raise Interrupted
                    # the court steps run: wait for them (a safe point to continue as new
                    # when they outlive the run); once they ended, the creditor decides
                    if self.state.court.outcome is None:
                        await court.sit_out_court(self.p)
                    else:
                        if handover.due(self.p):
                            # between two rounds of the aftermath (years of re-checks under watch)
                            await handover.hand_over(self.p, lambda: not self.state.interrupted)
                        await court.after_court(self.p)
                except Interrupted:
                    await waits.handle_interruption(self.p, stop_contact=not pause_carried)
                    pause_carried = False
                continue
            self.state.wait.waiting_for = (
                "the court steps (see the judicial stage)"
                if self.state.court.outcome is None
                else "payment after the court steps"
            )
            await self.p.flush()
            try:
                await waits.wait(self.p, None)
            except Interrupted:
                await waits.handle_interruption(self.p)

        await self._finalize()
        assert self.state.outcome is not None
        return self.state.outcome.value

    async def _hand_over(self, inp: PracticeInput) -> None:
        """The first run's start: the steps in order, the pre-due reminders, the hand-over's
        event."""
        esc = self.state.escalation
        default_order = [s for s in STEP_ORDER if self.p.strategy.enabled(s)]
        creditors_order = [Step(s.step) for s in self.p.strategy.steps if s.enabled]
        # the steps in the creditor's order (issue 15: a formal demand before the phone phase,
        # say); asked only when it differs from the default, so a practice in the default order,
        # and every one started before strategies had an order, pays no marker for it
        esc.steps = (
            creditors_order
            if creditors_order != default_order and workflow.patched(STEPS_IN_CREDITORS_ORDER)
            else default_order
        )
        today = rome_date(workflow.now())
        due_ahead = any(i.due_date >= today for i in inp.invoices)
        overdue = any(i.due_date < today for i in inp.invoices)
        if due_ahead and overdue and workflow.patched(COLLECT_OVERDUE_NOW):
            # the overdue part is collected now; the rest is reminded before its due date by a
            # task beside the escalation, and joins the collection once it falls due unpaid
            if Step.PRE_DUE_REMINDERS in esc.steps:
                esc.steps.remove(Step.PRE_DUE_REMINDERS)
            self.p.pre_due_task = asyncio.create_task(
                steps.pre_due_reminders(
                    self.p, f"{inp.practice_id}:{Step.PRE_DUE_REMINDERS.value}:1", background=True
                )
            )
        elif due_ahead:
            # collection never starts before the invoices fall due, reminders or not
            self.state.phase = Phase.PRE_DUE
            if Step.PRE_DUE_REMINDERS not in esc.steps:
                esc.steps.insert(0, Step.PRE_DUE_REMINDERS)
        elif Step.PRE_DUE_REMINDERS in esc.steps:
            esc.steps.remove(Step.PRE_DUE_REMINDERS)
        self.p.event(
            "handed_over",
            f"Practice handed over: {len(inp.invoices)} invoice(s), "
            f"claim {format_euros(self.state.money.claim)}",
            invoices=len(inp.invoices),
            claim_cents=self.state.money.claim,
            by=inp.handed_over_by,
        )
        if not (esc.steps and workflow.patched(RECORD_LOCALLY)):
            await self.p.flush()  # else the first step's record, a moment later, carries it

    def _check(self, check: Callable[[PracticeState, Any, date], None], cmd: Any) -> None:
        try:
            check(self.state, cmd, rome_date(workflow.now()))
        except Refused as err:
            raise _reject(err.kind, err.message, err.field) from None

    def _result(self, message: str) -> CommandResult:
        return CommandResult(
            accepted=True,
            message=message,
            balance_cents=self.state.money.balance,
            status=self.state.status.value,
        )

    async def _applied(self, events: list[Event], message: str) -> CommandResult:
        self.p.emit(events)
        await self.p.flush()
        return self._result(message)

    @workflow.update(name=UpdateName.PAYMENT)
    async def payment(self, cmd: PaymentCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        if book_payment(self.state, cmd) and deals.plan_running(self.p):
            assert self.p.plan is not None
            await self.p.plan.signal(PLAN_PAYMENT_SIGNAL, cmd.amount_cents)
        await self.p.refresh_balance()
        events = apply_payment(self.state, cmd, workflow.now())
        paid = self.state.money.balance <= 0
        return await self._applied(events, "paid in full" if paid else "partial payment recorded")

    @payment.validator
    def _validate_payment(self, cmd: PaymentCmd) -> None:
        self._check(checks.check_payment, cmd)

    @workflow.update(name=UpdateName.PROMISE)
    async def promise_to_pay(self, cmd: PromiseCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_promise(self.state, cmd, workflow.now())
        return await self._applied(events, "escalation paused until the promised date")

    @promise_to_pay.validator
    def _validate_promise(self, cmd: PromiseCmd) -> None:
        self._check(checks.check_promise, cmd)

    @workflow.update(name=UpdateName.CALL_OUTCOME)
    async def record_call_outcome(self, cmd: CallOutcomeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_call_outcome(self.state, cmd, workflow.now(), self.p.versions)
        return await self._applied(events, "call outcome recorded")

    @record_call_outcome.validator
    def _validate_call_outcome(self, cmd: CallOutcomeCmd) -> None:
        self._check(checks.check_call_outcome, cmd)

    @workflow.update(name=UpdateName.VISIT_OUTCOME)
    async def record_visit_outcome(self, cmd: VisitOutcomeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_visit_outcome(self.state, cmd, workflow.now(), self.p.versions)
        return await self._applied(events, "visit outcome recorded")

    @record_visit_outcome.validator
    def _validate_visit_outcome(self, cmd: VisitOutcomeCmd) -> None:
        self._check(checks.check_visit_outcome, cmd)

    @workflow.update(name=UpdateName.ASSIGN_VISIT)
    async def assign_visit(self, cmd: AssignVisitCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        info = workflow.current_update_info()
        # the update's id: a repeat of the same command (its Idempotency-Key) is one notice
        key = info.id if info is not None else str(self.state.timeline.seq)
        done = await steps.assign_visit(self.p, cmd.user_id, key)
        if done is False:
            return CommandResult(
                accepted=False,
                message="the home visit is no longer open: nothing was assigned",
                balance_cents=self.state.money.balance,
                status=self.state.status.value,
            )
        return self._result("home visit assigned" if done else "home visit already assigned")

    @assign_visit.validator
    def _validate_assign_visit(self, cmd: AssignVisitCmd) -> None:
        self._check(checks.check_assign_visit, cmd)

    @workflow.update(name=UpdateName.TRACE_RESULT)
    async def record_trace_result(self, cmd: TraceResultCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_trace_result(self.state, cmd, workflow.now())
        return await self._applied(events, "trace result recorded")

    @record_trace_result.validator
    def _validate_trace_result(self, cmd: TraceResultCmd) -> None:
        self._check(checks.check_trace_result, cmd)

    @workflow.update(name=UpdateName.DISPUTE)
    async def open_dispute(self, cmd: DisputeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.p.emit(apply_dispute(self.state, cmd, workflow.now(), self.p.versions))
        await deals.tell_plan(self.p, PlanPause(suspended=True))
        await self.p.flush()
        return self._result("dispute opened: all contact stops until the creditor resolves it")

    @open_dispute.validator
    def _validate_dispute(self, cmd: DisputeCmd) -> None:
        self._check(checks.check_dispute, cmd)

    @workflow.update(name=UpdateName.DISPUTE_RESOLUTION)
    async def resolve_dispute(self, cmd: DisputeResolutionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        reduced = book_dispute_resolution(self.state, cmd, workflow.now())
        if reduced:
            await self.p.refresh_balance()
        before = self.state.pauses
        self.p.emit(apply_dispute_resolution(self.state, cmd, workflow.now(), reduced))
        if not cmd.upheld or reduced:
            # the one in charge resumed, its dates moved by the dispute (domain/pauses.py)
            moved = self.state.pauses.shift_days - before.shift_days
            await deals.tell_plan(self.p, PlanPause(suspended=False, shift_days=moved))
        await self.p.flush()
        return self._result("dispute resolved")

    @resolve_dispute.validator
    def _validate_resolution(self, cmd: DisputeResolutionCmd) -> None:
        self._check(checks.check_dispute_resolution, cmd)

    @workflow.update(name=UpdateName.LEGAL_OPINION)
    async def record_legal_opinion(self, cmd: LegalOpinionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_legal_opinion(self.state, cmd, workflow.now())
        return await self._applied(events, "opinion recorded")

    @record_legal_opinion.validator
    def _validate_opinion(self, cmd: LegalOpinionCmd) -> None:
        self._check(checks.check_legal_opinion, cmd)

    @workflow.update(name=UpdateName.AUTHORIZATION)
    async def record_authorization(self, cmd: AuthorizationCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_authorization(self.state, cmd, workflow.now())
        return await self._applied(events, "authorised" if cmd.authorized else "declined")

    @record_authorization.validator
    def _validate_authorization(self, cmd: AuthorizationCmd) -> None:
        self._check(checks.check_authorization, cmd)

    @workflow.update(name=UpdateName.FORBEARANCE)
    async def record_forbearance(self, cmd: ForbearanceCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_forbearance(self.state, cmd, workflow.now())
        return await self._applied(events, "forbearance recorded")

    @record_forbearance.validator
    def _validate_forbearance(self, cmd: ForbearanceCmd) -> None:
        self._check(checks.check_forbearance, cmd)

    @workflow.update(name=UpdateName.DEBT_ADVICE_NOTICE)
    async def send_debt_advice_notice(self, cmd: DebtAdviceNoticeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        # one notice per practice: the key makes a retried send the same letter
        sent = await steps.send_letter(
            self.p,
            f"{self.p.inp.practice_id}:debt-advice",
            DEBT_ADVICE_LETTER,
            "Debt-advice notice (Directive (EU) 2023/2225 art. 36)",
        )
        if sent is None:
            await self.p.flush()
            return CommandResult(
                accepted=False,
                message="the notice could not be sent: no usable address",
                balance_cents=self.state.money.balance,
                status=self.state.status.value,
            )
        self.state.credit.debt_advice_sent_on = rome_date(workflow.now())
        await self.p.flush()
        return self._result("debt-advice notice sent")

    @send_debt_advice_notice.validator
    def _validate_debt_advice_notice(self, cmd: DebtAdviceNoticeCmd) -> None:
        self._check(checks.check_debt_advice_notice, cmd)

    @workflow.update(name=UpdateName.WITHDRAWAL)
    async def withdraw(self, cmd: WithdrawalCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        return await self._applied(apply_withdrawal(self.state, cmd, workflow.now()), "withdrawn")

    @withdraw.validator
    def _validate_withdrawal(self, cmd: WithdrawalCmd) -> None:
        self._check(checks.check_withdrawal, cmd)

    @workflow.update(name=UpdateName.CONTACTS)
    async def update_contacts(self, cmd: ContactsCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_contacts(self.state, cmd, workflow.now())
        return await self._applied(events, "contacts updated")

    @update_contacts.validator
    def _validate_contacts(self, cmd: ContactsCmd) -> None:
        self._check(checks.check_contacts, cmd)

    @workflow.signal(name=CLAIM_FILED_SIGNAL)
    async def claim_filed(self, filed_on: date) -> None:
        # from this day a consumer's interest runs at the late-payment rate (art. 1284 c. 4)
        self.state.money.claim_filed_on = filed_on
        await self.p.refresh_balance()
        await self.p.flush()

    @workflow.update(name=UpdateName.COST)
    async def record_cost(self, cmd: CostCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        book_cost(self.state, cmd)
        await self.p.refresh_balance()
        return await self._applied(apply_cost(self.state, cmd, workflow.now()), "cost recorded")

    @record_cost.validator
    def _validate_cost(self, cmd: CostCmd) -> None:
        self._check(checks.check_cost, cmd)

    @workflow.update(name=UpdateName.STOP_JUDICIAL)
    async def stop_judicial(self, cmd: StopJudicialCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.p.event("judicial_stop_requested", "The creditor stopped the court steps")
        await court.stop_judicial(self.p)
        return self._result("court steps stopped")

    @stop_judicial.validator
    def _validate_stop_judicial(self, cmd: StopJudicialCmd) -> None:
        self._check(checks.check_stop_judicial, cmd)

    @workflow.update(name=UpdateName.END_DECISION)
    async def end_decision(self, cmd: EndDecisionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_end_decision(self.state, cmd, workflow.now())
        return await self._applied(
            events,
            "closed as uncollectable"
            if cmd.decision == EndDecision.WRITE_OFF
            else "kept under watch: the debtor is re-checked periodically",
        )

    @end_decision.validator
    def _validate_end_decision(self, cmd: EndDecisionCmd) -> None:
        self._check(checks.check_end_decision, cmd)

    @workflow.update(name=UpdateName.PROPOSAL)
    async def proposal(self, cmd: ProposalCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_proposal(self.state, cmd, workflow.now())
        waits = self.state.deal.stage == DealStage.AWAITING_APPROVAL
        return await self._applied(events, "waits for the creditor" if waits else "accepted")

    @proposal.validator
    def _validate_proposal(self, cmd: ProposalCmd) -> None:
        self._check(checks.check_proposal, cmd)

    @workflow.update(name=UpdateName.PROPOSAL_DECISION)
    async def proposal_decision(self, cmd: ProposalDecisionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_proposal_decision(self.state, cmd, workflow.now())
        return await self._applied(events, "approved" if cmd.approved else "refused")

    @proposal_decision.validator
    def _validate_decision(self, cmd: ProposalDecisionCmd) -> None:
        self._check(checks.check_proposal_decision, cmd)

    @workflow.update(name=UpdateName.CLOSURE)
    async def closure(self, cmd: ClosureCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        summary = closure_summary(self.state, cmd)
        return await self._applied(apply_closure(self.state, cmd, workflow.now()), summary)

    @closure.validator
    def _validate_closure(self, cmd: ClosureCmd) -> None:
        self._check(checks.check_closure, cmd)

    @workflow.signal(name=JUDICIAL_ENDED_SIGNAL)
    async def judicial_ended(self, outcome: str) -> None:
        # court steps with a bound tell their end by signal just before they return: the run
        # that started them hears it before their result, a run that continued as new only so
        _acting(None)
        await court.ended(self.p, outcome)

    @workflow.signal(name=PLAN_PROGRESS_SIGNAL)
    async def plan_progress(self, progress: PlanProgress) -> None:
        deal = self.state.deal
        key = f"{deal.proposal.proposal_id if deal.proposal else ''}:{progress.kind}:"
        key += str(progress.instalment)
        if key in deal.progress_seen:
            return  # told twice (the plan repeating itself across its own continue-as-new)
        deal.progress_seen.append(key)
        self.p.emit(apply_plan_progress(self.state, progress, workflow.now()))
        if self.p.plan_by_id and progress.kind in ("plan_kept", "plan_broken"):
            # a run that continued as new while the plan ran has no child handle to await: the
            # plan's last signal, sent just before it returns, says how it ended
            deal.plan_result = "kept" if progress.kind == "plan_kept" else "broken"
        await self.p.flush()

    @workflow.update(name=UpdateName.CONTACT_INVALID)
    async def contact_invalid(self, cmd: ContactInvalidCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_contact_invalid(self.state, cmd, workflow.now())
        return await self._applied(events, "contact marked unusable")

    @contact_invalid.validator
    def _validate_contact_invalid(self, cmd: ContactInvalidCmd) -> None:
        self._check(checks.check_contact_invalid, cmd)

    @workflow.update(name=UpdateName.LETTER_RETURNED)
    async def letter_returned(self, cmd: LetterReturnedCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_letter_returned(self.state, cmd, workflow.now())
        return await self._applied(events, "letter return recorded")

    @letter_returned.validator
    def _validate_letter_returned(self, cmd: LetterReturnedCmd) -> None:
        self._check(checks.check_letter_returned, cmd)

    @workflow.query(name=STATE_QUERY)
    def query_state(self) -> PracticeSnapshot:
        return snapshot(self.state)

    async def _finalize(self) -> None:
        # the lawyer is told and the court steps stop before the practice says it is closed
        await court.stop_judicial(self.p)
        if self.p.plan is not None and self.state.deal.plan_result is None:
            if self.state.deal.plan_bounded and self.state.deal.plan_workflow_id is not None:
                # it may have continued as new: by id, its newest run (PLANS_BOUNDED)
                cancel_by_id(self.state.deal.plan_workflow_id)
            elif isinstance(self.p.plan, ExternalWorkflowHandle):
                await self.p.plan.cancel()
            else:
                self.p.plan.cancel()
        await self.p.close_tasks(None, "cancelled", f"practice closed ({self.state.outcome})")
        await self.p.notify(
            f"{self.p.inp.practice_id}:closed",
            "creditor",
            "closed",
            outcome=self.state.outcome,
            paid_cents=self.state.money.paid,
            balance_cents=self.state.money.balance,
        )
        await self.p.flush()
        # updates accepted just before closing finish their own flush before the run returns
        await workflow.wait_condition(workflow.all_handlers_finished)
