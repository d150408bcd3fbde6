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
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import (
        ActivityName,
        AssignInput,
        AssignResult,
        CheckContactsInput,
        CheckContactsResult,
        CloseTasksInput,
        CostLine,
        LetterInput,
        NotifyInput,
        OpenTaskInput,
        OpenTaskResult,
        RecordInput,
        ReleaseConversationInput,
        ReminderInput,
        ReserveConversationInput,
        ReserveConversationResult,
        SentResult,
        StatementInput,
        StatementResult,
    )
    from domain.actor import Actor, current_actor
    from domain.actor import acting as _acting
    from domain.calendar import at_rome, end_of_rome_day, rome_date
    from domain.consumer_credit import (
        DEBT_ADVICE_LETTER,
    )
    from domain.contact_rules import may_contact, next_window_start
    from domain.court_calendar import demand_deadline, letter_pay_by
    from domain.judicial import (
        CLAIM_FILED_SIGNAL,
        JUDICIAL_WORKFLOW_NAME,
        JudicialInput,
        judicial_workflow_id,
    )
    from domain.money import format_euros
    from domain.pauses import DEAL_STATUSES, shifted
    from domain.plans import (
        PLAN_PAUSE_SIGNAL,
        PLAN_PAYMENT_SIGNAL,
        PLAN_PROGRESS_SIGNAL,
        PLAN_WORKFLOW_NAME,
        ClosureCmd,
        PlanInput,
        PlanPause,
        PlanProgress,
        ProposalCmd,
        ProposalDecisionCmd,
        ProposalKind,
        plan_workflow_id,
        schedule,
    )
    from domain.practice import (
        CHANNEL_NAMES,
        STATE_QUERY,
        WORKFLOW_NAME,
        AuthorizationCmd,
        CallOutcome,
        CallOutcomeCmd,
        CommandResult,
        ContactInvalidCmd,
        ContactsCmd,
        CostCmd,
        DebtAdviceNoticeCmd,
        DebtorKind,
        DisputeCmd,
        DisputeResolutionCmd,
        EndDecision,
        EndDecisionCmd,
        ForbearanceCmd,
        LegalOpinionCmd,
        LetterReturnedCmd,
        Outcome,
        PaymentCmd,
        Phase,
        PracticeInput,
        PracticeSnapshot,
        PromiseCmd,
        PromiseView,
        Status,
        StopJudicialCmd,
        TimelineEvent,
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
        close,
        closure_summary,
        plan_view,
        snapshot,
        start_deal,
    )
    from domain.practice_state.state import Awaiting, DealStage, Event, PracticeState
    from domain.strategy import STEP_ORDER, Step

# Activities that only touch the database are quick; rendering a PDF and handing it to a
# provider takes longer. Both retry until they succeed: the idempotency keys make that safe.
DB_TIMEOUT = timedelta(seconds=30)
SEND_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=2))

# Patch ids (workflow.patched): practices started before a change replay the old commands.
# The read model is written by a local activity (it was a normal activity), and the hand-over's
# event is written with the first step's record (it had a write of its own). One id for both
# changes, which shipped together: every patch id costs each new practice a marker and a
# search-attribute upsert on the server.
RECORD_LOCALLY = "record-practice-as-local-activity"
# The formal demand's term comes from the court calendar (a last day on a Sunday or a public
# holiday moves to the next working day, artt. 1187, 2963 c.c.); it was `now + term`. Asked only
# on the formal demand's path, so that practices that never get there pay nothing for it.
DEMAND_TERM_ON_COURT_CALENDAR = "demand_term_on_court_calendar"
# A dispute suspends whichever of escalation / promise / deal is in charge (domain/pauses.py) and
# tells a running plan to suspend; before, it dropped a promise and its rejection resumed the
# escalation beside a running plan.
PAUSES_COMPOSE = "pauses-compose"
# Invoices overdue at the hand-over are collected at once, while those not yet due get their
# pre-due reminders beside the escalation; before, everything waited for the last due date.
COLLECT_OVERDUE_NOW = "collect-overdue-now"
# When the court steps end (a lost opposition, a negative pignoramento, stopped, ...) the practice
# asks the creditor to close it as uncollectable or keep it under watch; before, it waited forever.
END_DECISION = "end-decision"
# An open dispute reminds the creditor to decide (and shows until when it waits); before, it
# waited without a date.
DISPUTE_REMINDERS = "dispute-reminders"
# The lawyer is reminded of an opinion `strategy.opinion_reminders` times, then the request goes
# to the admin's list (an `opinion_overdue` task) and the reminders stop (they repeated forever).
OPINION_REMINDERS_CAPPED = "opinion-reminders-capped"
# A visit reported as moved (VisitOutcome.MOVED): the debtor's address is marked wrong, or, with
# the new address the agent learned, usable again as after skip tracing. Before, no such outcome.
VISIT_OUTCOMES_V2 = "visit-outcomes-v2"

REMINDER_CLOCK = time(9, 0)  # pre-due reminders go out at 09:00 in Rome
LATE_REMINDER = timedelta(hours=12)
LAWYER_RETRY_MAX = timedelta(days=7)

STEP_LABELS = {
    Step.PRE_DUE_REMINDERS: "pre-due reminders",
    Step.CONTACT_CHECK: "debtor analysis and contact check",
    Step.REMINDER_LETTER: "reminder letter",
    Step.PHONE_PHASE: "phone phase",
    Step.SECOND_LETTER: "second letter",
    Step.SKIP_TRACING: "skip tracing",
    Step.HOME_VISIT: "home visit",
    Step.LEGAL_NOTICE: "notice of legal action",
    Step.FORMAL_DEMAND: "formal demand",
    Step.LEGAL_OPINION: "lawyer's opinion",
    Step.AUTHORIZATION: "creditor's authorisation",
}


PAUSES = (Status.PAUSED_PROMISE, Status.PAUSED_DISPUTE, *DEAL_STATUSES)


class Interrupted(Exception):
    """Raised at a wait when the practice was paused or closed meanwhile."""


class _Versions:
    """domain.practice_state.Versions from this workflow's history (workflow.patched)."""

    def pauses_compose(self) -> bool:
        return workflow.patched(PAUSES_COMPOSE)

    def visit_outcomes_v2(self) -> bool:
        return workflow.patched(VISIT_OUTCOMES_V2)


def _reject(kind: str, message: str, field: str | None = None) -> ApplicationError:
    """A refused command; `field` (the API's name for it) lets the API point its 422 at it."""
    details = (field,) if field else ()
    return ApplicationError(message, *details, type=kind, non_retryable=True)


@workflow.defn(name=WORKFLOW_NAME)
class PracticeWorkflow:
    @workflow.init
    def __init__(self, inp: PracticeInput) -> None:
        # everything the practice knows, one serialisable value (domain/practice_state)
        self.state = PracticeState.start(inp)
        self.inp = inp
        self.strategy = inp.strategy
        self.versions = _Versions()
        # the workflow's machinery, not state: tasks, locks, child workflow handles
        # pre-due reminders beside the escalation, for invoices not yet due (COLLECT_OVERDUE_NOW)
        self.pre_due_task: asyncio.Task[None] | None = None
        self.flush_lock = asyncio.Lock()
        self.money_lock = asyncio.Lock()
        self.judicial: ChildWorkflowHandle[Any, str] | None = None
        self.judicial_watch: asyncio.Task[None] | None = None
        self.plan: ChildWorkflowHandle[Any, str] | None = None

    # --- the escalation ----------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: PracticeInput) -> str:
        self.state.escalation.steps = [s for s in STEP_ORDER if self.strategy.enabled(s)]
        today = rome_date(workflow.now())
        due_ahead = any(i.due_date >= today for i in inp.invoices)
        overdue = any(i.due_date < today for i in inp.invoices)
        if due_ahead and overdue and workflow.patched(COLLECT_OVERDUE_NOW):
            # the overdue part is collected now; the rest is reminded before its due date by a
            # task beside the escalation, and joins the collection once it falls due unpaid
            if Step.PRE_DUE_REMINDERS in self.state.escalation.steps:
                self.state.escalation.steps.remove(Step.PRE_DUE_REMINDERS)
            self.pre_due_task = asyncio.create_task(
                self._pre_due_reminders(
                    f"{inp.practice_id}:{Step.PRE_DUE_REMINDERS.value}:1", background=True
                )
            )
        elif due_ahead:
            # collection never starts before the invoices fall due, reminders or not
            self.state.phase = Phase.PRE_DUE
            if Step.PRE_DUE_REMINDERS not in self.state.escalation.steps:
                self.state.escalation.steps.insert(0, Step.PRE_DUE_REMINDERS)
        elif Step.PRE_DUE_REMINDERS in self.state.escalation.steps:
            self.state.escalation.steps.remove(Step.PRE_DUE_REMINDERS)
        self._event(
            "handed_over",
            f"Practice handed over: {len(inp.invoices)} invoice(s), "
            f"claim {format_euros(self.state.money.claim)}",
            invoices=len(inp.invoices),
            claim_cents=self.state.money.claim,
            by=inp.handed_over_by,
        )
        if not (self.state.escalation.steps and workflow.patched(RECORD_LOCALLY)):
            await self._flush()  # else the first step's record, a moment later, carries it

        while self.state.status != Status.CLOSED and self.state.escalation.index < len(
            self.state.escalation.steps
        ):
            step = self.state.escalation.steps[self.state.escalation.index]
            try:
                await self._run_step(step)
                self.state.escalation.index += 1
                self.state.escalation.action_done = False
            except Interrupted:
                await self._handle_interruption()
                if self.state.escalation.action_done:
                    self.state.escalation.index += 1
                    self.state.escalation.action_done = False
                if not self._is_closed() and self.state.escalation.index < len(
                    self.state.escalation.steps
                ):
                    nxt = self.state.escalation.steps[self.state.escalation.index]
                    self._event(
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
                    # the court steps run: wait for them; once they ended, the creditor decides
                    if self.state.court.outcome is None:
                        self.state.wait.waiting_for = "the court steps (see the judicial stage)"
                        await self._flush()
                        await self._wait(None, lambda: self.state.court.outcome is not None)
                    else:
                        await self._after_court()
                except Interrupted:
                    await self._handle_interruption()
                continue
            self.state.wait.waiting_for = (
                "the court steps (see the judicial stage)"
                if self.state.court.outcome is None
                else "payment after the court steps"
            )
            await self._flush()
            try:
                await self._wait(None)
            except Interrupted:
                await self._handle_interruption()

        await self._finalize()
        assert self.state.outcome is not None
        return self.state.outcome.value

    async def _run_step(self, step: Step) -> None:
        self.state.escalation.current = step
        occurrence = self.state.escalation.occurrences.get(step, 0) + 1
        self.state.escalation.occurrences[step] = occurrence
        key = f"{self.inp.practice_id}:{step.value}:{occurrence}"
        self.state.wait.next_step = None
        self.state.wait.next_action_at = None
        self.state.wait.waiting_for = None
        await self._refresh_balance()  # letters print today's total
        self._event("step_started", f"Step: {STEP_LABELS[step]}", step=step)
        if workflow.patched(RECORD_LOCALLY):
            # written with whatever the step does first (an activity, a wait): the step's start
            # and, say, its parking on a timer are one write, not two
            self.state.timeline.unrecorded = True
        else:
            await self._flush()

        handler = {
            Step.PRE_DUE_REMINDERS: self._pre_due,
            Step.CONTACT_CHECK: self._contact_check,
            Step.REMINDER_LETTER: self._reminder_letter,
            Step.PHONE_PHASE: self._phone_phase,
            Step.SECOND_LETTER: self._second_letter,
            Step.SKIP_TRACING: self._skip_tracing,
            Step.HOME_VISIT: self._home_visit,
            Step.LEGAL_NOTICE: self._legal_notice,
            Step.FORMAL_DEMAND: self._formal_demand,
            Step.LEGAL_OPINION: self._legal_opinion,
            Step.AUTHORIZATION: self._authorization,
        }[step]
        self.state.escalation.skipped = False
        if step in (Step.LEGAL_OPINION, Step.AUTHORIZATION):
            await self._demand_term(step.value)
        await handler(key)
        self.state.escalation.action_done = True
        if self.state.status == Status.CLOSED or self.state.escalation.skipped:
            return  # a step that did nothing imposes no wait on the debtor's file
        await self._wait_after(step)

    def _due_now(self) -> int:
        today = rome_date(workflow.now())
        ahead = sum(i.amount_cents for i in self.inp.invoices if i.due_date >= today)
        return max(self.state.money.balance - ahead, 0) if ahead else self.state.money.balance

    def _skip(self, reason: str) -> None:
        self.state.escalation.skipped = True
        self._event("step_skipped", reason)

    async def _wait_after(self, step: Step) -> None:
        wait = self.strategy.wait_after(step)
        self.state.wait.next_step = self.state.escalation.following()
        self.state.wait.waiting_for = None
        if wait > timedelta(0):
            self.state.wait.next_action_at = workflow.now() + wait
            await self._flush()
        await self._wait(wait)

    # step 1: reminders before the due date, and on the day
    async def _pre_due(self, key: str) -> None:
        self.state.phase = Phase.PRE_DUE
        await self._pre_due_reminders(key)
        due_dates = sorted({i.due_date for i in self.inp.invoices})
        # collection starts the day after the last due date (the wait after this step is the grace)
        await self._sleep_until(end_of_rome_day(due_dates[-1]), "out_of_court")
        self.state.phase = Phase.OUT_OF_COURT
        self._event(
            "phase_changed",
            "Due date passed unpaid: out-of-court collection begins",
            phase=Phase.OUT_OF_COURT,
        )

    async def _pre_due_reminders(self, key: str, background: bool = False) -> None:
        """The reminders before each due date still ahead, and on the day. In the `background`
        (some invoices were overdue at the hand-over and are being collected meanwhile) the
        waits are the task's own, and a reminder whose moment comes while a pause holds (a
        dispute, a promise, a deal, which covers the whole balance) or after the closure is
        skipped."""
        remind = self.strategy.setting(Step.PRE_DUE_REMINDERS).enabled
        lead = self.strategy.duration("pre_due_reminder_lead")
        due_dates = sorted({i.due_date for i in self.inp.invoices})
        for n, due in enumerate(d for d in due_dates if d >= rome_date(workflow.now())):
            amount = sum(i.amount_cents for i in self.inp.invoices if i.due_date == due)
            for moment, at in (
                ("before", at_rome(due, REMINDER_CLOCK) - lead),
                ("due_today", at_rome(due, REMINDER_CLOCK)),
            ):
                if not remind or rome_date(workflow.now()) > due:
                    continue
                if moment == "before" and rome_date(workflow.now()) >= due:
                    continue  # handed over too late for the early reminder: the day's one is enough
                if f"{due}:{moment}" in self.state.escalation.reminders_sent:
                    continue  # resumed after a pause: never remind twice for the same moment
                if not background:
                    await self._sleep_until(at, "pre_due_reminder")
                else:
                    if not may_contact(at):
                        # a Sunday or holiday: wait here for the window, so that the contact
                        # rules never defer it (a deferral would show on the practice as what
                        # the escalation beside this task waits for)
                        at = next_window_start(at)
                    if at > workflow.now():
                        await workflow.sleep(at - workflow.now())
                if background and self._interrupted():
                    if self._is_closed():
                        return
                    self.state.escalation.reminders_sent.append(f"{due}:{moment}")
                    self._event("reminder_skipped", f"Reminder '{moment}' skipped: a pause holds")
                    await self._flush()
                    continue
                if workflow.now() - at > LATE_REMINDER:
                    # its moment passed (handed over late, or during a pause): a reminder at an
                    # odd hour helps nobody, the next one or the letter will follow
                    self._event("reminder_skipped", f"Reminder '{moment}' skipped: its time passed")
                    continue
                reminder_key = f"{key}:{n}:{moment}"
                try:
                    email = self.state.channels.email and (
                        await self._clear_to_contact(reminder_key, "email") is not None
                    )
                    sms = self.state.channels.phone and (
                        await self._clear_to_contact(reminder_key, "sms") is not None
                    )
                    if not (email or sms):
                        self._event(
                            "reminder_skipped", "No e-mail or SMS possible: reminder not sent"
                        )
                        continue
                    self._before_contact()
                except Interrupted:
                    if not background:
                        raise
                    self.state.escalation.reminders_sent.append(f"{due}:{moment}")
                    self._event("reminder_skipped", f"Reminder '{moment}' skipped: a pause holds")
                    await self._flush()
                    continue
                result = await self._send(
                    "reminder",
                    ActivityName.SEND_REMINDER,
                    ReminderInput(
                        practice_id=self.inp.practice_id,
                        idempotency_key=reminder_key,
                        moment=moment,
                        due_date=due,
                        amount_cents=min(amount, self.state.money.balance),
                        email=email,
                        sms=sms,
                    ),
                )
                self.state.escalation.reminders_sent.append(f"{due}:{moment}")
                if result is None:
                    continue
                self._event(
                    "reminder_sent",
                    f"Reminder {'before the due date' if moment == 'before' else 'on the due date'}"
                    f" {due.isoformat()} sent ({', '.join(result.deliveries) or 'no channel'})",
                    moment=moment,
                    due_date=due.isoformat(),
                )
                if background:
                    await self._flush()  # the escalation may be parked on a long wait

    async def _sleep_until(self, at: datetime, next_step: str) -> None:
        delay = at - workflow.now()
        if delay <= timedelta(0):
            return
        self.state.wait.next_step = next_step
        self.state.wait.next_action_at = at
        await self._flush()
        await self._wait(delay)

    # step 2
    async def _contact_check(self, key: str) -> None:
        result: CheckContactsResult = await self._activity(
            ActivityName.CHECK_CONTACTS,
            CheckContactsInput(practice_id=self.inp.practice_id),
            result_type=CheckContactsResult,
        )
        # the check only narrows: a channel found wrong while it ran stays wrong
        for name in CHANNEL_NAMES:
            if not getattr(result.channels, name):
                setattr(self.state.channels, name, False)
        findings = "; ".join(result.findings) or "nothing to note"
        self._emit(
            [Event("contacts_checked", f"Debtor analysis: {findings}", self.state.channel_data())]
        )

    # steps 3, 5, 8: letters
    async def _reminder_letter(self, key: str) -> None:
        await self._send_letter(
            key,
            "reminder_letter",
            "Reminder letter",
            pay_by=self._letter_term(Step.REMINDER_LETTER),
        )

    async def _second_letter(self, key: str) -> None:
        await self._send_letter(
            key,
            "second_letter",
            "Second reminder letter",
            pay_by=self._letter_term(Step.SECOND_LETTER),
        )

    async def _legal_notice(self, key: str) -> None:
        await self._send_letter(
            key,
            "legal_notice",
            "Notice of legal action",
            pay_by=self._letter_term(Step.LEGAL_NOTICE),
        )

    def _letter_term(self, step: Step) -> date | None:
        """The day a letter asks the debtor to pay by: the last day before the practice acts
        again, the strategy's wait after the letter (the letter prints the term acted on)."""
        return letter_pay_by(workflow.now(), self.strategy.wait_after(step))

    async def _send_letter(
        self,
        key: str,
        kind: str,
        label: str,
        pay_by: date | None = None,
        pec_copy: bool = False,
    ) -> SentResult | None:
        """The letter goes to the post (and PEC) at once; its e-mail copy waits for the contact
        hours. Both calls carry the same key, so the copy attaches the very same document."""
        self._before_contact()
        # the amount printed, whatever a payment does meanwhile: what is due, not the invoices
        # still ahead of their due date (they have their own pre-due reminders)
        balance = self._due_now()
        letter = LetterInput(
            practice_id=self.inp.practice_id,
            idempotency_key=f"{key}:{kind}",
            kind=kind,
            balance_cents=balance,
            email_copy=False,
            pec_copy=pec_copy,
            text_override=self.strategy.letter_texts.get(kind),
            pay_by=pay_by,
            lawyer_id=self.state.escalation.lawyer_id,
            post=self.state.channels.address,
        )
        result = await self._send(label, ActivityName.SEND_LETTER, letter)
        if result is None:
            return None
        self.state.escalation.letters_sent += 1
        self._event(
            "letter_sent",
            f"{label} sent for {format_euros(balance)} "
            f"({', '.join(result.deliveries) or 'no channel'})",
            letter=kind,
            document_id=result.document_id,
            balance_cents=balance,
        )
        if self.state.channels.email and await self._clear_to_contact(
            letter.idempotency_key, "email"
        ):
            copy = await self._send(
                f"{label} (e-mail copy)",
                ActivityName.SEND_LETTER,
                replace(letter, email_copy=True, pec_copy=False, post=False),
            )
            if copy is not None:
                self._event("email_copy_sent", f"{label}: copy sent by e-mail", letter=kind)
        return result

    async def _send(self, label: str, name: str, arg: Any) -> SentResult | None:
        """A send the activity refused for good (not a retryable outage: those are retried) is
        recorded on the timeline and the escalation goes on, rather than failing the practice."""
        try:
            result: SentResult = await self._activity(
                name, arg, result_type=SentResult, timeout=SEND_TIMEOUT
            )
            return result
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(err)
            self._event("send_failed", f"{label} not sent: {reason}")
            return None

    # step 4
    async def _phone_phase(self, key: str) -> None:
        attempts = self.strategy.call_attempts
        if not self.state.channels.phone:
            self.state.escalation.phone_failed = True
            self._skip("No valid phone number: phone phase skipped")
            return
        reached = False
        # attempts made before a pause count: resuming never calls more than call_attempts times
        for attempt in range(self.state.escalation.calls_made + 1, attempts + 1):
            self.state.escalation.calls_made = attempt
            self.state.answers.call = None
            timeout = self.strategy.duration("call_outcome_timeout")
            grant = await self._clear_to_contact(f"{key}:call:{attempt}", "call")
            if grant is None:
                break  # the debtor opted out of calls
            await self._open_task(
                f"{key}:call:{attempt}",
                "call",
                attempt=attempt,
                detail=f"{attempt}/{attempts}",
                awaiting=Awaiting.CALL,
            )
            self._event("call_queued", f"Call queued for operators (attempt {attempt}/{attempts})")
            outcome = await self._await_answer(
                Awaiting.CALL,
                f"call outcome (attempt {attempt}/{attempts})",
                timeout,
                lambda: self.state.answers.call,
            )
            await self._close_tasks(
                "call",
                "done" if outcome else "cancelled",
                outcome.outcome.value if outcome else "timed out",
            )
            if outcome is None:
                self._event("call_outcome", "No outcome recorded in time: counted as unanswered")
                result = CallOutcome.NO_ANSWER
            else:
                result = outcome.outcome
            if result in (CallOutcome.NO_ANSWER, CallOutcome.WRONG_NUMBER):
                # nobody was spoken to: the day's conversation is not used up
                await self._activity(
                    ActivityName.RELEASE_CONVERSATION,
                    ReleaseConversationInput(
                        practice_id=self.inp.practice_id, idempotency_key=grant
                    ),
                )
            if result == CallOutcome.WRONG_NUMBER:
                break
            if result != CallOutcome.NO_ANSWER:
                reached = True
                break
            if attempt < attempts:
                retry = self.strategy.duration("call_retry_interval")
                self.state.wait.next_step = "phone_phase"
                self.state.wait.next_action_at = workflow.now() + retry
                self.state.wait.waiting_for = None
                await self._flush()
                await self._wait(retry)
        self.state.escalation.phone_failed = not reached
        self.state.escalation.calls_made = 0

    # step 6
    async def _skip_tracing(self, key: str) -> None:
        # the letters got nowhere (one came back, or there is no usable address) and neither did
        # the phone (never reached, a wrong number, or no number at all)
        letter_failed = self.state.escalation.letter_came_back or not self.state.channels.address
        phone_failed = self.state.escalation.phone_failed or not self.state.channels.phone
        if not (letter_failed and phone_failed):
            self._skip("Skip tracing not needed: the letters or the phone got through")
            return
        self.state.answers.trace = None
        await self._open_task(
            f"{key}:trace", "trace", detail="letter and calls got nothing", awaiting=Awaiting.TRACE
        )
        self._event("trace_requested", "Skip tracing requested: looking for new contacts")
        result = await self._await_answer(
            Awaiting.TRACE,
            "skip tracing result",
            self.strategy.duration("trace_timeout"),
            lambda: self.state.answers.trace,
        )
        await self._close_tasks(
            "trace",
            "done" if result else "cancelled",
            "found" if result and result.found else "not found",
        )
        if result is None:
            self._event("trace_result", "Skip tracing not completed in time")

    # step 7
    async def _home_visit(self, key: str) -> None:
        if not self.state.channels.address:
            self._skip("Home visit skipped: the address is known to be wrong")
            return
        assigned: AssignResult = await self._activity(
            ActivityName.ASSIGN_FIELD_AGENT,
            AssignInput(
                practice_id=self.inp.practice_id,
                idempotency_key=f"{key}:agent",
                province=self.inp.province,
            ),
            result_type=AssignResult,
        )
        if assigned.user_id is None:
            self._skip(f"Home visit skipped: {assigned.reason}")
            return
        self.state.escalation.field_agent_id = assigned.user_id
        self.state.answers.visit = None
        await self._open_task(
            f"{key}:visit", "visit", assignee=assigned.user_id, awaiting=Awaiting.VISIT
        )
        # the province is the debtor's current one, as the assignment chose it (the notice reads
        # it from the practice; the hand-over's province may be out of date after skip tracing)
        await self._notify(f"{key}:notify-agent", assigned.user_id, "visit_assigned")
        self._event(
            "visit_assigned",
            f"Home visit assigned to a field agent ({assigned.reason})",
            field_agent_id=assigned.user_id,
        )
        outcome = await self._await_answer(
            Awaiting.VISIT,
            "home visit outcome",
            self.strategy.duration("visit_outcome_timeout"),
            lambda: self.state.answers.visit,
        )
        await self._close_tasks(
            "visit",
            "done" if outcome else "cancelled",
            outcome.outcome.value if outcome else "timed out",
        )
        if outcome is None:
            self._event("visit_outcome", "No visit outcome recorded in time")

    # step 9
    async def _formal_demand(self, key: str) -> None:
        await self._ensure_lawyer(key)
        term = self.strategy.duration("demand_term")
        if term >= timedelta(days=1) and workflow.patched(DEMAND_TERM_ON_COURT_CALENDAR):
            # in days on the court calendar: a last day on a holiday moves to the next one
            deadline = demand_deadline(rome_date(workflow.now()), term)
            pay_by = deadline.last_day
            self.state.escalation.demand_expires_at = deadline.ends_at
        else:
            expires = workflow.now() + term
            pay_by = rome_date(expires)
            # a term in days runs to the end of its last day in Rome; a shorter one (a demo)
            # exactly
            self.state.escalation.demand_expires_at = (
                end_of_rome_day(pay_by) if term >= timedelta(days=1) else expires
            )
        self.state.escalation.demand_term_recorded = False
        await self._send_letter(
            key,
            "formal_demand",
            f"Formal demand (term {self.strategy.demand_term}, pay by {pay_by.isoformat()})",
            pay_by=pay_by,
            pec_copy=self.inp.debtor_kind == DebtorKind.BUSINESS and self.state.channels.pec,
        )
        self.state.escalation.action_done = True
        await self._demand_term(self.state.escalation.following() or "judicial")

    async def _clear_to_contact(self, key: str, channel: str) -> str | None:
        """Waits until the contact rules let the debtor be contacted on `channel` (the hours;
        for calls, one conversation a day and three a week across all of the debtor's practices)
        and reserves it. Returns the reservation's key, or None when the debtor opted out."""
        attempt = 0
        while True:
            self._before_contact()
            attempt += 1
            reservation = f"{key}:{channel}:{attempt}"
            result: ReserveConversationResult = await self._activity(
                ActivityName.RESERVE_CONVERSATION,
                ReserveConversationInput(
                    practice_id=self.inp.practice_id,
                    idempotency_key=reservation,
                    channel=channel,
                    at=workflow.now(),
                ),
                result_type=ReserveConversationResult,
            )
            if result.granted:
                return reservation
            if result.next_slot is None:
                self._event("contact_refused", f"No {channel}: {result.reason}", channel=channel)
                return None
            if attempt == 1:
                self._event(
                    "contact_deferred",
                    f"{channel.capitalize()} deferred to {result.next_slot.isoformat()}: "
                    f"{result.reason}",
                    channel=channel,
                )
            self.state.wait.waiting_for = f"the contact rules to allow a {channel}"
            self.state.wait.next_action_at = result.next_slot
            await self._flush()
            await self._wait(max(result.next_slot - workflow.now(), timedelta(seconds=1)))
            self.state.wait.waiting_for = None

    async def _demand_term(self, next_step: str) -> None:
        """The formal demand's term runs out before anything after it happens, even when a pause
        interrupted it (art. 1454 c.c.: the debtor has the whole term)."""
        expires = self.state.escalation.demand_expires_at
        if expires is None or self.state.escalation.demand_term_recorded:
            return
        await self._sleep_until(expires, next_step)
        self.state.escalation.demand_term_recorded = True
        self._event(
            "demand_term_expired",
            f"Formal demand term expired on {rome_date(expires).isoformat()}",
        )

    async def _ensure_lawyer(self, key: str) -> None:
        retry = timedelta(days=1)
        while self.state.escalation.lawyer_id is None:
            assigned: AssignResult = await self._activity(
                ActivityName.ASSIGN_LAWYER,
                AssignInput(practice_id=self.inp.practice_id, idempotency_key=f"{key}:lawyer"),
                result_type=AssignResult,
            )
            if assigned.user_id is not None:
                self.state.escalation.lawyer_id = assigned.user_id
                self._event("lawyer_assigned", "Lawyer assigned", lawyer_id=assigned.user_id)
                return
            if retry == timedelta(days=1):
                self._event("waiting", f"Formal demand waits: {assigned.reason}")
            # an agency without a lawyer yet: look again, daily at first then weekly, rather
            # than skip the demand (and without growing the history every day for years)
            self.state.wait.waiting_for = "a lawyer to be registered"
            self.state.wait.next_action_at = workflow.now() + retry
            await self._flush()
            await self._wait(retry)
            retry = min(retry * 2, LAWYER_RETRY_MAX)

    # step 10
    async def _legal_opinion(self, key: str) -> None:
        await self._ensure_lawyer(key)
        assert self.state.escalation.lawyer_id is not None
        self.state.answers.opinion = None
        await self._open_task(
            f"{key}:opinion",
            "opinion",
            assignee=self.state.escalation.lawyer_id,
            awaiting=Awaiting.OPINION,
        )
        self._event("opinion_requested", "Lawyer's opinion requested")
        reminders = 0
        overdue = False
        # the lawyer may answer while a reminder is going out: the answer stays welcome
        self.state.wait.awaiting = Awaiting.OPINION
        try:
            while True:
                await self._notify(
                    f"{key}:opinion-request:{reminders}",
                    self.state.escalation.lawyer_id,
                    "opinion_request",
                    reminder=reminders,
                    balance_cents=self.state.money.balance,
                )
                opinion = await self._await_answer(
                    Awaiting.OPINION,
                    "the lawyer's opinion",
                    self.strategy.duration("opinion_timeout"),
                    lambda: self.state.answers.opinion,
                    release=False,
                )
                if opinion is not None:
                    break
                if reminders >= self.strategy.opinion_reminders and workflow.patched(
                    OPINION_REMINDERS_CAPPED
                ):
                    await self._opinion_overdue(key, reminders)
                    overdue = True
                    break
                reminders += 1
                self._event("opinion_reminder", f"Lawyer reminded of the opinion ({reminders})")
        finally:
            self._release_answer()
        await self._close_tasks("opinion", "done", "given")
        if overdue:
            await self._close_tasks("opinion_overdue", "done", "given")

    async def _opinion_overdue(self, key: str, reminders: int) -> None:
        """No opinion after the strategy's reminders: the request goes to the admin's list
        (GET /worklists/overdue-opinions), the lawyer is not reminded again, and the practice
        waits for the opinion (the admin chases it or has another lawyer assigned)."""
        await self._open_task(
            f"{key}:opinion-overdue",
            "opinion_overdue",
            detail=f"no opinion after {reminders} reminder(s)",
            awaiting=Awaiting.OPINION,
        )
        self._event(
            "opinion_overdue",
            f"No opinion after {reminders} reminder(s): the request is on the admin's list of "
            "overdue opinions, the lawyer is not reminded again",
            reminders=reminders,
        )
        self.state.wait.waiting_for = "the lawyer's opinion (overdue: on the admin's list)"
        self.state.wait.next_step = None
        self.state.wait.next_action_at = None
        await self._flush()
        await self._wait(None, lambda: self.state.answers.opinion is not None)

    # step 11
    async def _authorization(self, key: str) -> None:
        self.state.answers.authorization = None
        await self._open_task(
            f"{key}:authorization", "authorization", awaiting=Awaiting.AUTHORIZATION
        )
        self._event("authorization_requested", "Creditor asked to authorise legal action")
        interval = self.strategy.duration("authorization_reminder_interval")
        deadline = workflow.now() + self.strategy.duration("authorization_timeout")
        opinion = self.state.answers.opinion
        reminders = 0
        answer: AuthorizationCmd | None = None
        self.state.wait.awaiting = Awaiting.AUTHORIZATION
        try:
            while True:
                await self._notify(
                    f"{key}:authorization-request:{reminders}",
                    "creditor",
                    "authorization_request",
                    reminder=reminders,
                    balance_cents=self.state.money.balance,
                    recommend_action=opinion.recommend_action if opinion else None,
                    action=opinion.action if opinion else None,
                )
                remaining = deadline - workflow.now()
                if self.state.answers.authorization is not None or remaining <= timedelta(0):
                    answer = self.state.answers.authorization
                    break
                answer = await self._await_answer(
                    Awaiting.AUTHORIZATION,
                    "the creditor's authorisation",
                    min(interval, remaining),
                    lambda: self.state.answers.authorization,
                    release=False,
                )
                if answer is not None or workflow.now() >= deadline:
                    break
                reminders += 1
                self._event("authorization_reminder", f"Creditor reminded ({reminders})")
        finally:
            self._release_answer()
        await self._close_tasks(
            "authorization",
            "done" if answer else "cancelled",
            ("authorized" if answer.authorized else "declined") if answer else "no answer",
        )
        if self.state.status == Status.CLOSED:
            return  # paid or withdrawn while the answer was being filed
        if answer is None:
            self._close(Outcome.RETURNED, "Creditor did not answer in time: practice returned")
        elif not answer.authorized:
            self._close(Outcome.RETURNED, "Creditor declined legal action: practice returned")
        else:
            self.state.phase = Phase.JUDICIAL
            # the decreto ingiuntivo claims interest and the compensation, whatever was waived
            # out of court
            self.state.money.claims_interest = True
            await self._refresh_balance()
            self._event(
                "phase_changed", "Legal action authorised: judicial phase", phase=Phase.JUDICIAL
            )
            # the court steps need a lawyer even when the strategy skipped the demand and opinion
            await self._ensure_lawyer(key)
            await self._start_judicial()
            if self.state.escalation.lawyer_id:
                await self._notify(
                    f"{key}:authorized", self.state.escalation.lawyer_id, "authorized"
                )

    async def _await_dispute_decision(self) -> None:
        """No contact with the debtor while a dispute holds; the creditor, who decides it, is
        reminded every dispute_reminder_interval, and the practice shows the next reminder."""
        dispute = self.state.dispute.open_id
        interval = self.strategy.duration("dispute_reminder_interval")
        reminders = 0
        while self.state.status == Status.PAUSED_DISPUTE and self.state.dispute.open_id == dispute:
            if reminders:
                await self._notify(
                    f"{self.inp.practice_id}:dispute:{dispute}:{reminders}",
                    "creditor",
                    "dispute_request",
                    reminder=reminders,
                    balance_cents=self.state.money.balance,
                )
            self.state.wait.next_action_at = workflow.now() + interval
            await self._flush()
            try:
                await workflow.wait_condition(
                    lambda: (
                        self.state.status != Status.PAUSED_DISPUTE
                        or self.state.dispute.open_id != dispute
                    ),
                    timeout=interval,
                )
            except TimeoutError:
                reminders += 1

    async def _after_court(self) -> None:
        """The court steps ended and the practice is still open: nothing is left to do but what
        the creditor decides. Until it does, it is reminded every end_decision_reminder_interval
        (a task on its work list); under watch, the debtor is re-checked every watch_interval
        (a skip-tracing and contact-check task), and what the check finds goes back to the
        creditor. Writing off closes the practice (EndDecisionCmd's handler)."""
        pid = self.inp.practice_id
        while self.state.court.end_choice is None:
            self.state.court.end_asks += 1
            key = f"{pid}:end-decision:{self.state.court.end_asks}"
            await self._open_task(key, "end_decision", awaiting=Awaiting.END_DECISION)
            self._event(
                "end_decision_requested",
                f"Court steps ended ({(self.state.court.outcome or '').replace('_', ' ')}): the "
                "creditor decides to close as uncollectable or keep under watch",
            )
            interval = self.strategy.duration("end_decision_reminder_interval")
            reminders = 0
            self.state.wait.awaiting = Awaiting.END_DECISION
            while self.state.court.end_choice is None:
                await self._notify(
                    f"{key}:{reminders}",
                    "creditor",
                    "end_decision_request",
                    reminder=reminders,
                    balance_cents=self.state.money.balance,
                )
                self.state.wait.waiting_for = (
                    "the creditor's decision: close as uncollectable or keep under watch"
                )
                self.state.wait.next_action_at = workflow.now() + interval
                await self._flush()
                await self._wait(interval, lambda: self.state.court.end_choice is not None)
                reminders += 1
            self._release_answer()
            await self._close_tasks("end_decision", "done", self.state.court.end_choice.value)
        # kept under watch
        every = self.strategy.duration("watch_interval")
        self.state.wait.waiting_for = "the next re-check of the debtor (kept under watch)"
        self.state.wait.next_action_at = workflow.now() + every
        await self._flush()
        await self._wait(every)
        self.state.court.watch_checks += 1
        self.state.answers.trace = None
        await self._open_task(
            f"{pid}:watch:{self.state.court.watch_checks}",
            "trace",
            detail="re-check under watch: new address, phone, employer or assets",
            awaiting=Awaiting.TRACE,
        )
        self._event(
            "watch_check", f"Re-check of the debtor under watch ({self.state.court.watch_checks})"
        )
        result = await self._await_answer(
            Awaiting.TRACE,
            "the re-check of the debtor (skip tracing and contact check)",
            self.strategy.duration("trace_timeout"),
            lambda: self.state.answers.trace,
        )
        await self._close_tasks(
            "trace",
            "done" if result else "cancelled",
            "found" if result and result.found else "not found",
        )
        if result is not None and result.found:
            self.state.court.end_choice = None  # something new: the creditor decides again

    # --- waiting -------------------------------------------------------------------------------

    def _is_closed(self) -> bool:
        # a method, not an inline comparison: handlers change the status across every await
        return self.state.closed

    def _interrupted(self) -> bool:
        return self.state.interrupted

    def _before_contact(self) -> None:
        """A pause or closure may have arrived while an activity ran: never contact the debtor
        or queue work after it."""
        if self._interrupted():
            raise Interrupted

    async def _wait(
        self, timeout: timedelta | None, until: Callable[[], bool] | None = None
    ) -> bool:
        """Waits `timeout` (None: forever) or until `until()`; True when `until()` came true.

        A person's answer wins over a pause that arrived with it (a call outcome that is a
        promise is first recorded as the call's outcome, then pauses at the next wait).
        """

        def done() -> bool:
            return (until is not None and until()) or self._interrupted()

        if timeout is not None and timeout <= timedelta(0):
            if self._interrupted():
                raise Interrupted
            return False
        await self._record_pending()
        try:
            await workflow.wait_condition(done, timeout=timeout)
        except TimeoutError:
            if self._interrupted():
                raise Interrupted from None
            return False
        if until is not None and until():
            return True
        raise Interrupted

    async def _await_answer(
        self,
        what: Awaiting,
        label: str,
        timeout: timedelta,
        answer: Callable[[], Any],
        release: bool = True,
    ) -> Any:
        """Waits for a person's answer; `release=False` keeps accepting it afterwards (the caller
        sends a reminder and asks again, and releases when done)."""
        self.state.wait.awaiting = what
        self.state.wait.waiting_for = label
        self.state.wait.next_step = None
        self.state.wait.next_action_at = workflow.now() + timeout
        await self._flush()
        try:
            got = await self._wait(timeout, lambda: answer() is not None)
        finally:
            if release:
                self._release_answer()
        return answer() if got else None

    def _release_answer(self) -> None:
        self.state.release_answer()

    async def _handle_interruption(self) -> None:
        """A pause or a closure reached a wait: stop all contact, then sit out the pause."""
        self._release_answer()
        if self.state.status != Status.CLOSED:
            await self._close_tasks(None, "cancelled", self.state.status.value)
        while self.state.status in PAUSES:
            if self.state.status in DEAL_STATUSES:
                await self._sit_out_deal()
                continue
            if self.state.status == Status.PAUSED_DISPUTE:
                self.state.wait.next_step = None
                self.state.wait.next_action_at = None
                self.state.wait.waiting_for = "the creditor's decision on the dispute"
                if workflow.patched(DISPUTE_REMINDERS):
                    await self._await_dispute_decision()
                    continue
                await self._flush()
                await workflow.wait_condition(lambda: self.state.status != Status.PAUSED_DISPUTE)
                continue
            promise = self.state.promise.view
            assert promise is not None
            version = self.state.promise.version
            deadline = end_of_rome_day(promise.promised_date) + self.strategy.duration(
                "promise_grace"
            )
            self.state.wait.next_step = None
            self.state.wait.next_action_at = deadline
            self.state.wait.waiting_for = f"payment promised by {promise.promised_date.isoformat()}"
            await self._flush()

            def settled(p: PromiseView = promise, v: int = version) -> bool:
                return (
                    self.state.status != Status.PAUSED_PROMISE
                    or self.state.promise.version != v
                    or self.state.promise.paid_toward >= p.amount_cents
                )

            try:
                await workflow.wait_condition(
                    settled, timeout=max(deadline - workflow.now(), timedelta(seconds=1))
                )
            except TimeoutError:
                pass
            if self.state.status != Status.PAUSED_PROMISE or self.state.promise.version != version:
                continue  # closed, disputed, or replaced by a newer promise
            kept = self.state.promise.paid_toward >= promise.amount_cents
            self.state.promise.view = None
            self.state.take(self.state.pauses.ended())
            if kept:
                self._event(
                    "promise_kept",
                    "Promise kept: collection goes on for the rest",
                    balance_cents=self.state.money.balance,
                )
            else:
                self._event(
                    "promise_broken",
                    f"Promise broken: {format_euros(self.state.promise.paid_toward)} of "
                    f"{format_euros(promise.amount_cents)} paid by "
                    f"{promise.promised_date.isoformat()}",
                )
        self.state.wait.waiting_for = None
        self.state.wait.next_action_at = None
        await self._flush()

    # --- commands: each update's validator is its check, its handler applies it ---------------
    # (domain/practice_state: check_<command> and apply_<command>; the handler adds what only a
    # workflow does: telling a running plan, recomputing the interest, writing the read model)

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
        self._emit(events)
        await self._flush()
        return self._result(message)

    @workflow.update(name=UpdateName.PAYMENT)
    async def payment(self, cmd: PaymentCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        if book_payment(self.state, cmd) and self._plan_running():
            assert self.plan is not None
            await self.plan.signal(PLAN_PAYMENT_SIGNAL, cmd.amount_cents)
        await self._refresh_balance()
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
        events = apply_call_outcome(self.state, cmd, workflow.now(), self.versions)
        return await self._applied(events, "call outcome recorded")

    @record_call_outcome.validator
    def _validate_call_outcome(self, cmd: CallOutcomeCmd) -> None:
        self._check(checks.check_call_outcome, cmd)

    @workflow.update(name=UpdateName.VISIT_OUTCOME)
    async def record_visit_outcome(self, cmd: VisitOutcomeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        events = apply_visit_outcome(self.state, cmd, workflow.now(), self.versions)
        return await self._applied(events, "visit outcome recorded")

    @record_visit_outcome.validator
    def _validate_visit_outcome(self, cmd: VisitOutcomeCmd) -> None:
        self._check(checks.check_visit_outcome, cmd)

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
        self._emit(apply_dispute(self.state, cmd, workflow.now(), self.versions))
        await self._tell_plan(PlanPause(suspended=True))
        await self._flush()
        return self._result("dispute opened: all contact stops until the creditor resolves it")

    @open_dispute.validator
    def _validate_dispute(self, cmd: DisputeCmd) -> None:
        self._check(checks.check_dispute, cmd)

    @workflow.update(name=UpdateName.DISPUTE_RESOLUTION)
    async def resolve_dispute(self, cmd: DisputeResolutionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        reduced = book_dispute_resolution(self.state, cmd, workflow.now())
        if reduced:
            await self._refresh_balance()
        before = self.state.pauses
        self._emit(apply_dispute_resolution(self.state, cmd, workflow.now(), reduced))
        if not cmd.upheld or reduced:
            # the one in charge resumed, its dates moved by the dispute (domain/pauses.py)
            moved = self.state.pauses.shift_days - before.shift_days
            await self._tell_plan(PlanPause(suspended=False, shift_days=moved))
        await self._flush()
        return self._result("dispute resolved")

    @resolve_dispute.validator
    def _validate_resolution(self, cmd: DisputeResolutionCmd) -> None:
        self._check(checks.check_dispute_resolution, cmd)

    async def _tell_plan(self, pause: PlanPause) -> None:
        """A running plan suspends (no reminder, no warning) while a dispute holds."""
        if self.state.pauses.in_charge == Status.PAUSED_PLAN and self._plan_running():
            assert self.plan is not None
            await self.plan.signal(PLAN_PAUSE_SIGNAL, pause)

    def _plan_running(self) -> bool:
        return self.plan is not None and self.state.deal.plan_result is None

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
        sent = await self._send_letter(
            f"{self.inp.practice_id}:debt-advice",
            DEBT_ADVICE_LETTER,
            "Debt-advice notice (Directive (EU) 2023/2225 art. 36)",
        )
        if sent is None:
            await self._flush()
            return CommandResult(
                accepted=False,
                message="the notice could not be sent: no usable address",
                balance_cents=self.state.money.balance,
                status=self.state.status.value,
            )
        self.state.credit.debt_advice_sent_on = rome_date(workflow.now())
        await self._flush()
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
        await self._refresh_balance()
        await self._flush()

    @workflow.update(name=UpdateName.COST)
    async def record_cost(self, cmd: CostCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        book_cost(self.state, cmd)
        await self._refresh_balance()
        return await self._applied(apply_cost(self.state, cmd, workflow.now()), "cost recorded")

    @record_cost.validator
    def _validate_cost(self, cmd: CostCmd) -> None:
        self._check(checks.check_cost, cmd)

    @workflow.update(name=UpdateName.STOP_JUDICIAL)
    async def stop_judicial(self, cmd: StopJudicialCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self._event("judicial_stop_requested", "The creditor stopped the court steps")
        await self._stop_judicial()
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

    @workflow.signal(name=PLAN_PROGRESS_SIGNAL)
    async def plan_progress(self, progress: PlanProgress) -> None:
        self._emit(apply_plan_progress(self.state, progress, workflow.now()))
        await self._flush()

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

    # --- bookkeeping -------------------------------------------------------------------------

    def _close(self, outcome: Outcome, summary: str) -> None:
        self._emit(close(self.state, outcome, summary))

    async def _sit_out_deal(self) -> None:
        """A deal pauses the escalation: the creditor's decision on a proposal outside its
        bounds, then the plan (a child workflow) or the settlement until its date."""
        deal = self.state.deal.proposal
        assert deal is not None
        if self.state.status == Status.PAUSED_PROPOSAL:
            await self._await_decision(deal)
            return
        if self.state.status == Status.PAUSED_SETTLEMENT:
            assert deal.settlement_cents is not None and deal.settle_by is not None
            settle_by = shifted(deal.settle_by, self.state.pauses.shift_days)  # moved by disputes
            deadline = end_of_rome_day(settle_by)
            self.state.wait.waiting_for = f"the settlement's payment by {settle_by.isoformat()}"
            self.state.wait.next_action_at = deadline
            await self._flush()
            target = deal.settlement_cents
            await self._wait_deal(lambda: self.state.deal.paid_toward >= target, deadline)
            if self.state.status != Status.PAUSED_SETTLEMENT:
                return
            if self.state.deal.paid_toward >= target:
                written_off = max(self.state.money.balance, 0)
                self.state.money.written_off = written_off
                self.state.deal.stage = DealStage.KEPT
                self._close(
                    Outcome.SETTLED,
                    f"Settled (saldo e stralcio): {format_euros(written_off)} written off",
                )
                self.state.money.balance = 0
            else:
                self.state.deal.stage = DealStage.LAPSED
                self.state.take(self.state.pauses.ended())
                self._event("settlement_lapsed", "Settlement not paid by its date: it lapsed")
            return
        # a plan
        if self.plan is None:
            self.state.deal.plan_result = None
            self.plan = await workflow.start_child_workflow(
                PLAN_WORKFLOW_NAME,
                PlanInput(
                    practice_id=self.inp.practice_id,
                    parent_workflow_id=workflow.info().workflow_id,
                    proposal_id=deal.proposal_id,
                    # moved by a dispute that held before the plan could start
                    instalments=[
                        replace(i, due_date=shifted(i.due_date, self.state.pauses.shift_days))
                        for i in schedule(deal)
                    ],
                    reminder_lead=self.strategy.plan_reminder_lead,
                    grace=self.strategy.plan_grace,
                    email=self.state.channels.email,
                    sms=self.state.channels.phone and not self.state.channels.email,
                ),
                id=plan_workflow_id(self.inp.practice_id, deal.proposal_id),
                result_type=str,
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            )
            if self.state.deal.paid_toward:
                await self.plan.signal(PLAN_PAYMENT_SIGNAL, self.state.deal.paid_toward)
            asyncio.create_task(self._watch_plan(self.plan))
        self.state.wait.waiting_for = "the repayment plan"
        self.state.wait.next_action_at = self._next_instalment_at()
        await self._flush()
        await workflow.wait_condition(
            lambda: (
                self.state.deal.plan_result is not None or self.state.status != Status.PAUSED_PLAN
            )
        )
        if self.state.status != Status.PAUSED_PLAN:
            return
        self.plan = None
        if self.state.deal.plan_result == "broken":
            self.state.deal.stage = DealStage.BROKEN
            self.state.take(self.state.pauses.ended())
            self._event(
                "plan_broken",
                f"Plan broken: {format_euros(self.state.money.balance)} still owed",
                balance_cents=self.state.money.balance,
            )
        else:
            self.state.deal.stage = DealStage.KEPT
            # kept with something left (interest): collection goes on
            self.state.take(self.state.pauses.ended())
            self._event("plan_kept", "Plan kept", balance_cents=self.state.money.balance)

    def _next_instalment_at(self) -> datetime | None:
        """When the plan next needs the debtor's money: the first instalment not fully paid."""
        view = plan_view(self.state)
        for item in view.instalments if view else []:
            if item.paid_cents < item.amount_cents:
                return end_of_rome_day(item.due_date)
        return None

    async def _watch_plan(self, handle: ChildWorkflowHandle[Any, str]) -> None:
        # started by a command's handler, this task inherits its actor: what the plan does
        # later is the system's
        _acting(None)
        try:
            self.state.deal.plan_result = await handle
        except ChildWorkflowError:
            self.state.deal.plan_result = "broken"

    async def _wait_deal(self, done: Callable[[], bool], until: datetime) -> None:
        status = self.state.status
        remaining = until - workflow.now()
        if remaining <= timedelta(0):
            return
        try:
            await workflow.wait_condition(
                lambda: done() or self.state.status != status, timeout=remaining
            )
        except TimeoutError:
            pass

    async def _await_decision(self, deal: ProposalCmd) -> None:
        interval = self.strategy.duration("proposal_reminder_interval")
        deadline = workflow.now() + self.strategy.duration("proposal_timeout")
        reminders = 0
        while self.state.status == Status.PAUSED_PROPOSAL and self.state.deal.decision is None:
            await self._notify(
                f"{self.inp.practice_id}:proposal:{deal.proposal_id}:{reminders}",
                "creditor",
                "proposal_request",
                reminder=reminders,
                balance_cents=self.state.money.balance,
                summary=self._deal_summary(deal),
            )
            self.state.wait.waiting_for = "the creditor's decision on a proposal"
            self.state.wait.next_action_at = min(workflow.now() + interval, deadline)
            await self._flush()
            await self._wait_deal(
                lambda: self.state.deal.decision is not None, self.state.wait.next_action_at
            )
            if workflow.now() >= deadline:
                break
            reminders += 1
        if self.state.status != Status.PAUSED_PROPOSAL:
            return
        decision = self.state.deal.decision
        if decision is not None and decision.approved:
            self._event("proposal_approved", "The creditor approved the proposal")
            self._emit(start_deal(self.state, deal))
            return
        self.state.deal.stage = DealStage.REFUSED
        self.state.take(self.state.pauses.ended())
        self._event(
            "proposal_refused",
            "The creditor refused the proposal"
            if decision
            else "No decision on the proposal in time: refused",
        )

    def _deal_summary(self, deal: ProposalCmd) -> str:
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

    async def _refresh_balance(self) -> None:
        """With interest claimed, what the debtor owes comes from the statement of account
        (interest per day across rate periods, the EUR 40 per invoice for businesses, costs,
        payments allocated per art. 1194 c.c.); otherwise the balance is principal and costs."""
        if not self.state.money.claims_interest:
            return
        async with self.money_lock:  # the newest payments win, whatever order results arrive in
            try:
                result: StatementResult = await self._activity(
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
                    self._event("statement_unavailable", f"Interest not computed: {reason}")
                return
            self.state.money.statement_failure = None
            self.state.money.balance = result.total_outstanding_cents
            self.state.money.interest = result.interest_outstanding_cents
            self.state.money.overpaid = result.overpaid_cents

    async def _start_judicial(self) -> None:
        self.judicial = await workflow.start_child_workflow(
            JUDICIAL_WORKFLOW_NAME,
            JudicialInput(
                practice_id=self.inp.practice_id,
                parent_workflow_id=workflow.info().workflow_id,
                lawyer_id=self.state.escalation.lawyer_id,
                residence=self.inp.residence,
            ),
            id=judicial_workflow_id(self.inp.practice_id),
            result_type=str,
            # a practice that ends takes its court steps with it (they are told and stop)
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )
        self.state.court.started = True
        self.judicial_watch = asyncio.create_task(self._watch_judicial(self.judicial))

    async def _watch_judicial(self, handle: ChildWorkflowHandle[Any, str]) -> None:
        _acting(None)  # the court steps' end is not the authoriser's doing (see _watch_plan)
        outcome = await handle
        self.state.court.outcome = outcome
        self._event(
            "judicial_ended", f"Court steps ended: {outcome.replace('_', ' ')}", outcome=outcome
        )
        await self._flush()

    async def _stop_judicial(self) -> None:
        if self.judicial is not None and self.state.court.outcome is None:
            self.judicial.cancel()
            await workflow.wait_condition(lambda: self.state.court.outcome is not None)

    async def _finalize(self) -> None:
        # the lawyer is told and the court steps stop before the practice says it is closed
        await self._stop_judicial()
        if self.plan is not None and self.state.deal.plan_result is None:
            self.plan.cancel()
        await self._close_tasks(None, "cancelled", f"practice closed ({self.state.outcome})")
        await self._notify(
            f"{self.inp.practice_id}:closed",
            "creditor",
            "closed",
            outcome=self.state.outcome,
            paid_cents=self.state.money.paid,
            balance_cents=self.state.money.balance,
        )
        await self._flush()
        # updates accepted just before closing finish their own flush before the run returns
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _event(self, kind: str, summary: str, *, by: Actor | None = None, **data: Any) -> None:
        values = {k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}
        self._emit([Event(kind, summary, values)], by)

    def _emit(self, events: list[Event], by: Actor | None = None) -> None:
        """Timeline events; their actor is `by`, else the sender of the command being handled,
        else the system (domain.actor)."""
        timeline = self.state.timeline
        for e in events:
            timeline.seq += 1
            timeline.pending.append(
                TimelineEvent(
                    seq=timeline.seq,
                    at=workflow.now(),
                    kind=e.kind,
                    summary=e.summary,
                    actor=by or current_actor(),
                    data=dict(e.data),
                )
            )

    async def _flush(self) -> None:
        """Writes the new timeline events and the current state to the read model."""
        async with self.flush_lock:
            self.state.timeline.unrecorded = False
            events, self.state.timeline.pending = self.state.timeline.pending, []
            self.state.timeline.version += 1
            record = RecordInput(
                practice_id=self.inp.practice_id, events=events, snapshot=snapshot(self.state)
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
                await self._activity(ActivityName.RECORD, record)

    async def _record_pending(self) -> None:
        """What the read model does not show yet is written before the practice waits, or before
        an activity that may take a while: what people see is never behind a wait."""
        if self.state.timeline.unrecorded:
            await self._flush()

    async def _activity(
        self,
        name: str,
        arg: Any,
        result_type: type | None = None,
        timeout: timedelta = DB_TIMEOUT,
    ) -> Any:
        await self._record_pending()
        return await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=timeout,
            retry_policy=RETRY,
        )

    async def _open_task(
        self,
        key: str,
        kind: str,
        assignee: str | None = None,
        attempt: int = 1,
        detail: str = "",
        awaiting: Awaiting | None = None,
    ) -> str:
        self._before_contact()
        # the task is visible on a work list as soon as it is written: its answer is welcome
        # from then on, not only once the workflow starts waiting for it
        self.state.wait.awaiting = awaiting
        result: OpenTaskResult = await self._activity(
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

    async def _close_tasks(self, kind: str | None, status: str, outcome: str) -> None:
        await self._activity(
            ActivityName.CLOSE_TASKS,
            CloseTasksInput(
                practice_id=self.inp.practice_id, kind=kind, status=status, outcome=outcome
            ),
        )

    async def _notify(
        self,
        key: str,
        to: str,
        template: str,
        outcome: Outcome | None = None,
        **params: str | int | bool | None,
    ) -> None:
        """A message to the agency's side; its wording (with the practice's reference) is
        written by the activity from the database, so none of it enters the history."""
        await self._activity(
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
