"""Waiting: for a timer, a person's answer, the contact rules; and what a pause or a closure
does when it reaches a wait (`handle_interruption`: stop contact, sit out the pause).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import ActivityName, ReserveConversationInput, ReserveConversationResult
    from domain.calendar import end_of_rome_day
    from domain.money import format_euros
    from domain.pauses import DEAL_STATUSES
    from domain.practice import PromiseView, Status
    from domain.practice_state.state import Awaiting
    from domain.strategy import Step

from workflows.practice import deals
from workflows.practice.effects import Interrupted, Practice
from workflows.practice.versions import DISPUTE_REMINDERS

PAUSES = (Status.PAUSED_PROMISE, Status.PAUSED_DISPUTE, *DEAL_STATUSES)


async def wait_after(p: Practice, step: Step) -> None:
    delay = p.strategy.wait_after(step)
    p.state.wait.next_step = p.state.escalation.following()
    p.state.wait.waiting_for = None
    if delay > timedelta(0):
        p.state.wait.next_action_at = workflow.now() + delay
        await p.flush()
    await wait(p, delay)


async def sleep_until(p: Practice, at: datetime, next_step: str) -> None:
    delay = at - workflow.now()
    if delay <= timedelta(0):
        return
    p.state.wait.next_step = next_step
    p.state.wait.next_action_at = at
    await p.flush()
    await wait(p, delay)


async def clear_to_contact(p: Practice, key: str, channel: str) -> str | None:
    """Waits until the contact rules let the debtor be contacted on `channel` (the hours;
    for calls, one conversation a day and three a week across all of the debtor's practices)
    and reserves it. Returns the reservation's key, or None when the debtor opted out."""
    attempt = 0
    while True:
        p.before_contact()
        attempt += 1
        reservation = f"{key}:{channel}:{attempt}"
        result: ReserveConversationResult = await p.activity(
            ActivityName.RESERVE_CONVERSATION,
            ReserveConversationInput(
                practice_id=p.inp.practice_id,
                idempotency_key=reservation,
                channel=channel,
                at=workflow.now(),
            ),
            result_type=ReserveConversationResult,
        )
        if result.granted:
            return reservation
        if result.next_slot is None:
            p.event("contact_refused", f"No {channel}: {result.reason}", channel=channel)
            return None
        if attempt == 1:
            p.event(
                "contact_deferred",
                f"{channel.capitalize()} deferred to {result.next_slot.isoformat()}: "
                f"{result.reason}",
                channel=channel,
            )
        p.state.wait.waiting_for = f"the contact rules to allow a {channel}"
        p.state.wait.next_action_at = result.next_slot
        await p.flush()
        await wait(p, max(result.next_slot - workflow.now(), timedelta(seconds=1)))
        p.state.wait.waiting_for = None


async def await_dispute_decision(p: Practice) -> None:
    """No contact with the debtor while a dispute holds; the creditor, who decides it, is
    reminded every dispute_reminder_interval, and the practice shows the next reminder."""
    dispute = p.state.dispute.open_id
    interval = p.strategy.duration("dispute_reminder_interval")
    waiting = p.state.wait
    waiting.reminders = 0
    while p.state.status == Status.PAUSED_DISPUTE and p.state.dispute.open_id == dispute:
        if waiting.reminders:
            await p.notify(
                f"{p.inp.practice_id}:dispute:{dispute}:{waiting.reminders}",
                "creditor",
                "dispute_request",
                reminder=waiting.reminders,
                balance_cents=p.state.money.balance,
            )
        p.state.wait.next_action_at = workflow.now() + interval
        await p.flush()
        try:
            await workflow.wait_condition(
                lambda: (
                    p.state.status != Status.PAUSED_DISPUTE or p.state.dispute.open_id != dispute
                ),
                timeout=interval,
            )
        except TimeoutError:
            waiting.reminders += 1


async def wait(
    p: Practice, timeout: timedelta | None, until: Callable[[], bool] | None = None
) -> bool:
    """Waits `timeout` (None: forever) or until `until()`; True when `until()` came true.

    A person's answer wins over a pause that arrived with it (a call outcome that is a
    promise is first recorded as the call's outcome, then pauses at the next wait).
    """

    def done() -> bool:
        return (until is not None and until()) or p.interrupted()

    if timeout is not None and timeout <= timedelta(0):
        if p.interrupted():
            raise Interrupted
        return False
    await p.record_pending()
    try:
        await workflow.wait_condition(done, timeout=timeout)
    except TimeoutError:
        if p.interrupted():
            raise Interrupted from None
        return False
    if until is not None and until():
        return True
    raise Interrupted


async def await_answer(
    p: Practice,
    what: Awaiting,
    label: str,
    timeout: timedelta,
    answer: Callable[[], Any],
    release: bool = True,
) -> Any:
    """Waits for a person's answer; `release=False` keeps accepting it afterwards (the caller
    sends a reminder and asks again, and releases when done)."""
    p.state.wait.awaiting = what
    p.state.wait.waiting_for = label
    p.state.wait.next_step = None
    p.state.wait.next_action_at = workflow.now() + timeout
    await p.flush()
    try:
        got = await wait(p, timeout, lambda: answer() is not None)
    finally:
        if release:
            p.release_answer()
    return answer() if got else None


async def handle_interruption(p: Practice, stop_contact: bool = True) -> None:
    """A pause or a closure reached a wait: stop all contact, then sit out the pause.
    `stop_contact=False`: a run that continued as new in the pause, whose predecessor did it."""
    if stop_contact:
        p.release_answer()
        if p.state.status != Status.CLOSED:
            await p.close_tasks(None, "cancelled", p.state.status.value)
    while p.state.status in PAUSES:
        if p.state.status in DEAL_STATUSES:
            await deals.sit_out_deal(p)
            continue
        if p.state.status == Status.PAUSED_DISPUTE:
            p.state.wait.next_step = None
            p.state.wait.next_action_at = None
            p.state.wait.waiting_for = "the creditor's decision on the dispute"
            if workflow.patched(DISPUTE_REMINDERS):
                await await_dispute_decision(p)
                continue
            await p.flush()
            await workflow.wait_condition(lambda: p.state.status != Status.PAUSED_DISPUTE)
            continue
        promise = p.state.promise.view
        assert promise is not None
        version = p.state.promise.version
        deadline = end_of_rome_day(promise.promised_date) + p.strategy.duration("promise_grace")
        p.state.wait.next_step = None
        p.state.wait.next_action_at = deadline
        p.state.wait.waiting_for = f"payment promised by {promise.promised_date.isoformat()}"
        await p.flush()

        def settled(promised: PromiseView = promise, v: int = version) -> bool:
            return (
                p.state.status != Status.PAUSED_PROMISE
                or p.state.promise.version != v
                or p.state.promise.paid_toward >= promised.amount_cents
            )

        try:
            await workflow.wait_condition(
                settled, timeout=max(deadline - workflow.now(), timedelta(seconds=1))
            )
        except TimeoutError:
            pass
        if p.state.status != Status.PAUSED_PROMISE or p.state.promise.version != version:
            continue  # closed, disputed, or replaced by a newer promise
        kept = p.state.promise.paid_toward >= promise.amount_cents
        p.state.promise.view = None
        p.state.take(p.state.pauses.ended())
        if kept:
            p.event(
                "promise_kept",
                "Promise kept: collection goes on for the rest",
                balance_cents=p.state.money.balance,
            )
        else:
            p.event(
                "promise_broken",
                f"Promise broken: {format_euros(p.state.promise.paid_toward)} of "
                f"{format_euros(promise.amount_cents)} paid by "
                f"{promise.promised_date.isoformat()}",
            )
    p.state.wait.waiting_for = None
    p.state.wait.next_action_at = None
    await p.flush()
