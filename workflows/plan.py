"""A repayment plan (piano di rientro), a child of the practice: a reminder before each
instalment, a grace period after it, one warning for a missed instalment, then the plan is
broken and the practice resumes its escalation. Payments reach it from the practice (signal) and
fill the instalments in date order, so a short payment leaves the rest of that instalment due and
an overpayment goes to the next; paying everything early ends the plan kept.

While a dispute holds the practice suspends the plan (PLAN_PAUSE_SIGNAL): no reminder, no
warning, no breach; when the dispute ends the plan resumes with the remaining dates moved by the
days the practice says (domain/pauses.py). Without a suspension the plan waits and sends exactly
as before (same timers, same activities), so plans already running replay unchanged.

A plan given a history bound (PlanInput.history_bound) continues as new between two instalments once
its run's history comes within an instalment's events of it (or the server suggests it): every
instalment before is settled (its messages sent, its progress signalled), so the next run starts at
the next one with PlanState and nothing is sent twice or skipped. Plans without a bound (all those
started before) never do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import (
        ActivityName,
        ReminderInput,
        ReserveConversationInput,
        ReserveConversationResult,
    )
    from domain.calendar import at_rome, end_of_rome_day
    from domain.durations import parse_duration
    from domain.plans import (
        PLAN_PAUSE_SIGNAL,
        PLAN_PAYMENT_SIGNAL,
        PLAN_PROGRESS_SIGNAL,
        PLAN_WORKFLOW_NAME,
        PlanInput,
        PlanPause,
        PlanProgress,
        PlanState,
        match_payments,
    )
    from workflows.continuation import past_bound

from workflows.activity_options import DB_TIMEOUT, RETRY, SEND_TIMEOUT

REMINDER_CLOCK = time(9, 0)
# The events one instalment adds to a run at most, give or take the practice's signals: a
# reminder and a warning (their reservations, sends and progress signals), the timers, a payment.
# A run hands over this far below its bound, so it stays under it (measured in
# tests/workflows/test_continue_as_new.py: about 30).
INSTALMENT_EVENTS = 60


@workflow.defn(name=PLAN_WORKFLOW_NAME)
class PlanWorkflow:
    @workflow.init
    def __init__(self, inp: PlanInput) -> None:
        self.inp = inp
        self.paid = 0
        self.warned = False
        self.suspended = False
        self.shift = timedelta(0)  # added to every date still ahead, by disputes
        self.first = 1  # the instalment this run starts at
        if inp.state is not None:  # a run continued from the one before
            self.first = inp.state.next_instalment
            self.paid = inp.state.paid_cents
            self.warned = inp.state.warned
            self.suspended = inp.state.suspended
            self.shift = timedelta(days=inp.state.shift_days)

    @workflow.signal(name=PLAN_PAUSE_SIGNAL)
    def pause(self, cmd: PlanPause) -> None:
        self.suspended = cmd.suspended
        if not cmd.suspended:
            self.shift += timedelta(days=cmd.shift_days)

    @workflow.signal(name=PLAN_PAYMENT_SIGNAL)
    def payment(self, amount_cents: int) -> None:
        self.paid += amount_cents

    @workflow.query(name="plan_paid")
    def paid_cents(self) -> int:
        return self.paid

    @workflow.run
    async def run(self, inp: PlanInput) -> str:
        lead = parse_duration(inp.reminder_lead)
        grace = parse_duration(inp.grace)
        total = 0
        for n, item in enumerate(inp.instalments, start=1):
            total += item.amount_cents
            due_so_far = total
            if n < self.first:
                continue  # settled by an earlier run
            if n > self.first and past_bound(inp.history_bound, INSTALMENT_EVENTS):
                await self._continue_as_new(n)

            def covered(target: int = due_so_far) -> bool:
                return self.paid >= target

            def remind_at(due: date = item.due_date) -> datetime:
                return at_rome(due + self.shift, REMINDER_CLOCK) - lead

            def missed_at(due: date = item.due_date) -> datetime:
                return end_of_rome_day(due + self.shift) + grace

            if not covered() and remind_at() > workflow.now():
                if not await self._until(covered, remind_at):
                    await self._message(n, "instalment", "plan_reminder")
            if await self._until(covered, missed_at):
                continue
            if self.warned:
                await self._progress(n, "plan_broken")
                return "broken"
            # the one warning: a second grace period to catch up, then the plan is broken
            self.warned = True
            await self._message(n, "plan_warning", "plan_warning")
            warned_at, shift_then = workflow.now(), self.shift

            def catch_up_by(since: datetime = warned_at, s: timedelta = shift_then) -> datetime:
                return since + grace + (self.shift - s)

            if not await self._until(covered, catch_up_by):
                await self._progress(n, "plan_broken")
                return "broken"
        await self._progress(len(inp.instalments), "plan_kept")
        return "kept"

    async def _continue_as_new(self, n: int) -> None:
        """Hands the plan to a new run starting at instalment `n`. Nothing of this run is in
        flight here (no timer, activity or signal of its own); the payments and pauses the practice
        signals meanwhile are counted first (Temporal's rule: a run does not close while a signal
        waits; the next workflow task runs the handler before this decision again, see
        docs/ARCHITECTURE.md "Continue-as-new")."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            replace(
                self.inp,
                state=PlanState(
                    next_instalment=n,
                    paid_cents=self.paid,
                    warned=self.warned,
                    suspended=self.suspended,
                    shift_days=self.shift.days,
                ),
            )
        )

    async def _until(self, done: Callable[[], bool], at: Callable[[], datetime]) -> bool:
        """True when `done()` came true before `at()`; a suspension stops the clock: `at()` is
        asked again after it (a dispute moves it)."""
        while True:
            if done():
                return True
            if self.suspended:
                await workflow.wait_condition(lambda: done() or not self.suspended)
                continue
            remaining = at() - workflow.now()
            if remaining <= timedelta(0):
                return False
            try:
                await workflow.wait_condition(lambda: done() or self.suspended, timeout=remaining)
            except TimeoutError:
                return False

    def _outstanding(self, n: int) -> int:
        return match_payments(self.inp.instalments, self.paid)[n - 1].outstanding_cents

    async def _message(self, n: int, moment: str, kind: str) -> None:
        """A reminder or the warning to the debtor, within the contact hours."""
        key = f"{self.inp.practice_id}:plan:{self.inp.proposal_id}:{n}:{moment}"
        attempt = 0
        while True:
            if self.suspended:  # never a message to the debtor while a dispute holds
                await workflow.wait_condition(lambda: not self.suspended)
            attempt += 1
            grant: ReserveConversationResult = await workflow.execute_activity(
                ActivityName.RESERVE_CONVERSATION,
                ReserveConversationInput(
                    practice_id=self.inp.practice_id,
                    idempotency_key=f"{key}:{attempt}",
                    channel="email" if self.inp.email else "sms",
                    at=workflow.now(),
                ),
                result_type=ReserveConversationResult,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=RETRY,
            )
            if self.suspended:
                continue  # suspended while the reservation ran: ask again once resumed
            if grant.granted or grant.next_slot is None:
                break
            await workflow.sleep(max(grant.next_slot - workflow.now(), timedelta(seconds=1)))
        outstanding = self._outstanding(n)
        if grant.granted and outstanding > 0:
            try:
                await workflow.execute_activity(
                    ActivityName.SEND_REMINDER,
                    ReminderInput(
                        practice_id=self.inp.practice_id,
                        idempotency_key=key,
                        moment=moment,
                        due_date=self.inp.instalments[n - 1].due_date + self.shift,
                        amount_cents=outstanding,
                        email=self.inp.email,
                        sms=self.inp.sms,
                    ),
                    start_to_close_timeout=SEND_TIMEOUT,
                    retry_policy=RETRY,
                )
            except ActivityError:
                pass  # a refused message is not a reason to break the plan; the practice logs it
        await self._progress(n, kind)

    async def _progress(self, n: int, kind: str) -> None:
        outstanding = self._outstanding(n)
        await workflow.get_external_workflow_handle(self.inp.parent_workflow_id).signal(
            PLAN_PROGRESS_SIGNAL,
            PlanProgress(
                kind=kind,
                instalment=n,
                due_date=self.inp.instalments[n - 1].due_date + self.shift,
                outstanding_cents=outstanding,
            ),
        )
