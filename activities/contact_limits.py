"""The gate every contact with a debtor goes through: the UNIREC windows, the debtor's opt-outs
and at most one conversation a day and three a week across all of the debtor's practices and
creditors (domain/contact_rules.py has the rules, db/models.py the tables).

Atomicity without locks, the same on SQLite and PostgreSQL: a granted conversation inserts a
`conversation_days` row, unique per (debtor, day) and per (debtor, ISO week, slot 1..3): days and
weeks in Rome, or in the time zone of a debtor abroad (its `ContactRegime`, read from the
practice's row).
Two practices of one debtor asking at the same moment both may read "nothing today", but only
one insert commits; the other gets an IntegrityError, reads again and is refused with the next
slot. On SQLite the transaction also starts with a write (the contact_log row), which takes the
database's write lock first, so writers queue behind the busy timeout and read what the one
before them committed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, load_practice
from db.contact_log import (
    ATTEMPT,
    CONVERSATION,
    MESSAGE,
    conversations_since,
    opted_out_keys,
    practice_debtor_key,
    practice_regime,
    preferred_windows,
    task_hold_prefix,
)
from db.models import ContactLog, ConversationDay
from domain.activity_io import (
    ActivityName,
    ReleaseConversationInput,
    ReleaseConversationResult,
    ReserveConversationInput,
    ReserveConversationResult,
)
from domain.contact_rules import (
    CONTACT_CHANNELS,
    CONVERSATION_CHANNELS,
    GRANTED,
    ITALY,
    MAX_CONVERSATIONS_PER_WEEK,
    OPT_OUT_CHANNELS,
    WEEK_FULL,
    ContactDecision,
    ContactRegime,
    check_conversation,
    check_message,
    in_preferred_window,
    next_conversation_slot,
    preferred_reason,
    preferred_slot,
    spread_slot,
    week_start,
)

log = logging.getLogger(__name__)

# How often a reservation that lost a race reads again before giving up (retryably). Each loss
# means another conversation of the debtor committed, so a handful of rounds always settles.
MAX_ROUNDS = 8


async def hold_for_task(
    session: AsyncSession,
    *,
    practice_id: str,
    debtor_key: str,
    opted_out: bool,
    task_key: str,
    at: datetime,
    channel: str = "call",
    regime: ContactRegime = ITALY,
) -> ContactDecision:
    """The conversation of a call task, on the day the call is made (`at`, when an operator
    takes it): a conversation counts on the day it happens, not on the day the call was queued.

    The conversation the task already holds (`task_hold_prefix`) is moved to `at`'s day, or a
    new one is written (`<task key>:taken`) when it holds none; the workflow gives it back
    under the same key when nobody answered. Refused, with the rule's reason and next slot,
    when `at` is outside the hours or the debtor's day or week is full without it.

    Runs inside the caller's transaction and commits nothing: on a refusal the caller rolls
    back; an IntegrityError from the `conversation_days` guard means another conversation of
    the debtor committed first, and the caller rolls back and tries again. On SQLite the
    caller's first statement should write (it takes the write lock before these reads)."""
    held = (
        await session.scalars(
            select(ContactLog)
            .where(
                ContactLog.practice_id == practice_id,
                ContactLog.kind == CONVERSATION,
                ContactLog.idempotency_key.startswith(task_hold_prefix(task_key), autoescape=True),
            )
            .order_by(ContactLog.at, ContactLog.id)
            .limit(1)
        )
    ).first()
    day = regime.local_date(at)
    monday = week_start(day)
    logged = await conversations_since(session, [debtor_key], regime.at_local(monday))
    previous = [c.at for c in logged.get(debtor_key, []) if held is None or c.id != held.id]
    decision = check_conversation(previous, at, opted_out=opted_out, channel=channel, regime=regime)
    if not decision.allowed:
        return decision
    if held is not None and regime.local_date(held.at) == day:
        guarded = await session.scalar(
            select(ConversationDay.id).where(ConversationDay.contact_id == held.id)
        )
        if guarded is not None:
            return decision  # taken again the same day: the same conversation
    if held is None:
        held = ContactLog(
            idempotency_key=f"{task_key}:taken",
            debtor_key=debtor_key,
            practice_id=practice_id,
            channel=channel,
            kind=CONVERSATION,
            at=at,
        )
        session.add(held)
    else:
        # the day it was reserved for (the day the call was queued) is given back
        await session.execute(delete(ConversationDay).where(ConversationDay.contact_id == held.id))
        held.at = at
    await session.flush()
    free = _free_slots(await _week_guards(session, debtor_key, monday))
    if not free:  # the log and the guard disagree: never grant over the limit
        next_week = regime.at_local(monday + timedelta(days=7))
        return ContactDecision(
            False, next_conversation_slot(previous, next_week, regime), WEEK_FULL
        )
    session.add(
        ConversationDay(
            contact_id=held.id, debtor_key=debtor_key, day=day, week=monday, week_slot=free[0]
        )
    )
    await session.flush()
    log.info("practice %s: the call's conversation is held for %s", practice_id, day)
    return decision


async def _week_guards(
    session: AsyncSession, debtor_key: str, monday: date
) -> list[tuple[date, int]]:
    """The debtor's conversations guarded this week (conversation_days): (day, weekly slot)."""
    rows = await session.execute(
        select(ConversationDay.day, ConversationDay.week_slot).where(
            ConversationDay.debtor_key == debtor_key, ConversationDay.week == monday
        )
    )
    return [(day, slot) for day, slot in rows.all()]


def _free_slots(guards: list[tuple[date, int]]) -> list[int]:
    """The weekly slots (1..MAX_CONVERSATIONS_PER_WEEK) no guarded conversation holds."""
    taken = {slot for _, slot in guards}
    return [s for s in range(1, MAX_CONVERSATIONS_PER_WEEK + 1) if s not in taken]


async def record_visit(
    session: AsyncSession,
    *,
    practice_id: str,
    debtor_key: str,
    idempotency_key: str,
    at: datetime,
    regime: ContactRegime = ITALY,
) -> ContactDecision:
    """A home visit that took place at `at` is a conversation of that day, recorded whatever
    the rules say (it happened); the decision returned says whether it kept them (the window,
    the day's and the week's conversations) and, if not, why.

    The log row always counts (`conversations_since` reads the log, so the day and, past three,
    the week are full for everyone after it). The guard row of `conversation_days` is written
    when the day and a week slot are still free; when they are not, the day or the week is
    already held by another conversation and nothing else can be granted in it anyway.

    Runs inside the caller's transaction and commits nothing; idempotent by key (a retry
    returns the first decision's grant). An IntegrityError means a reservation of the same day
    committed first: the caller rolls back and calls again (the day then reads as taken)."""
    if await session.scalar(
        select(ContactLog.id).where(ContactLog.idempotency_key == idempotency_key)
    ):
        return ContactDecision(True, None, GRANTED)
    day = regime.local_date(at)
    monday = week_start(day)
    # the first statement writes: on SQLite it takes the write lock before any read
    row = ContactLog(
        idempotency_key=idempotency_key,
        debtor_key=debtor_key,
        practice_id=practice_id,
        channel="visit",
        kind=CONVERSATION,
        at=at,
    )
    session.add(row)
    await session.flush()
    logged = await conversations_since(session, [debtor_key], regime.at_local(monday))
    previous = [c.at for c in logged.get(debtor_key, []) if c.id != row.id]
    decision = check_conversation(previous, at, channel="visit", regime=regime)
    guards = await _week_guards(session, debtor_key, monday)
    free = _free_slots(guards)
    if free and day not in {guarded_day for guarded_day, _ in guards}:
        session.add(
            ConversationDay(
                contact_id=row.id, debtor_key=debtor_key, day=day, week=monday, week_slot=free[0]
            )
        )
        await session.flush()
    if not decision.allowed:
        log.info("practice %s: a visit outside the rules (%s)", practice_id, decision.reason)
    return decision


def _preferred(
    decision: ContactDecision,
    at: datetime,
    window: str | None,
    previous: list[datetime],
    regime: ContactRegime = ITALY,
) -> ContactDecision:
    """A conversation's decision shaped by the debtor's preferred time of day: one the rules
    allow outside it waits for it; one they refuse waits for the first preferred moment after
    their next slot. The moment given is always one the rules allow (preferred_slot)."""
    if window is None or (not decision.allowed and decision.next_slot is None):
        return decision
    if decision.allowed:
        if in_preferred_window(at, window, regime):
            return decision
        return ContactDecision(
            False, preferred_slot(at, window, previous, regime), preferred_reason(window)
        )
    assert decision.next_slot is not None
    return ContactDecision(
        False, preferred_slot(decision.next_slot, window, previous, regime), decision.reason
    )


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidInput", non_retryable=True)


class ContactLimitActivities(ActivityContext):
    async def _granted(self, idempotency_key: str) -> bool:
        async with self.db.session() as session:
            found = await session.scalar(
                select(ContactLog.id).where(ContactLog.idempotency_key == idempotency_key)
            )
        return found is not None

    @activity.defn(name=ActivityName.RESERVE_CONVERSATION)
    async def reserve_conversation(
        self, input: ReserveConversationInput
    ) -> ReserveConversationResult:
        if input.channel not in CONTACT_CHANNELS:
            raise _invalid(f"channel {input.channel!r} is not one of {', '.join(CONTACT_CHANNELS)}")
        if input.at.tzinfo is None or input.at.utcoffset() is None:
            raise _invalid("the moment of a contact must be timezone-aware")
        if self.settings.contact_clock is not None:
            input = replace(input, at=self.settings.contact_clock(input.at))
        if await self._granted(input.idempotency_key):
            return ReserveConversationResult(granted=True, next_slot=None, reason=GRANTED)

        async with self.db.session() as session:
            practice = await load_practice(session, input.practice_id)
            key = practice_debtor_key(practice)
            # the debtor's zone, holidays and hours come from the read model, never from the
            # workflow's input (a country is personal data)
            regime = practice_regime(practice, self.settings.contact_hours)
            opted_out = bool(await opted_out_keys(session, [key], input.channel))
            # the debtor's preferred time of day shapes the channels it may refuse (calls,
            # e-mails, SMS), never a visit; the rules decide first and always hold
            window = (
                (await preferred_windows(session, [key])).get(key)
                if input.channel in OPT_OUT_CHANNELS
                else None
            )

        if input.channel not in CONVERSATION_CHANNELS:
            decision = check_message(
                input.at, opted_out=opted_out, channel=input.channel, regime=regime
            )
            if not decision.allowed:
                next_slot = decision.next_slot
                if next_slot is not None and window is not None:
                    next_slot = preferred_slot(next_slot, window, regime=regime)
                return self._spread(
                    ReserveConversationResult(False, next_slot, decision.reason),
                    input,
                    regime,
                    window,
                )
            if window is not None and not in_preferred_window(input.at, window, regime):
                return self._spread(
                    ReserveConversationResult(
                        False,
                        preferred_slot(input.at, window, regime=regime),
                        preferred_reason(window),
                    ),
                    input,
                    regime,
                    window,
                )
            return await self._log_message(input, key)

        for _ in range(MAX_ROUNDS):
            result = await self._try_conversation(input, key, opted_out, window, regime)
            if result is not None:
                return self._spread(result, input, regime, window)
        raise ApplicationError(
            f"practice {input.practice_id}: the debtor's conversations kept changing while"
            f" reserving; trying again",
            type="ReservationContended",
        )

    def _spread(
        self,
        result: ReserveConversationResult,
        input: ReserveConversationInput,
        regime: ContactRegime,
        window: str | None,
    ) -> ReserveConversationResult:
        """A refusal's next slot spread over the window's first hours by the practice (the
        Monday-morning wake-up: every practice put off over the weekend would otherwise be due
        at 08:30 sharp). Here, in the activity, and not in the workflow: the slot is recorded
        in the history as the activity's result, so running practices replay unchanged."""
        if result.granted or result.next_slot is None:
            return result
        spread = timedelta(minutes=self.settings.contact_spread_minutes)
        slot = spread_slot(result.next_slot, input.practice_id, spread, regime, window)
        return ReserveConversationResult(False, slot, result.reason)

    async def _log_message(
        self, input: ReserveConversationInput, key: str
    ) -> ReserveConversationResult:
        row = ContactLog(
            idempotency_key=input.idempotency_key,
            debtor_key=key,
            practice_id=input.practice_id,
            channel=input.channel,
            kind=MESSAGE,
            at=input.at,
        )
        try:
            async with self.db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            if not await self._granted(input.idempotency_key):
                raise
        return ReserveConversationResult(granted=True, next_slot=None, reason=GRANTED)

    async def _try_conversation(
        self,
        input: ReserveConversationInput,
        key: str,
        opted_out: bool,
        window: str | None = None,
        regime: ContactRegime = ITALY,
    ) -> ReserveConversationResult | None:
        """One round: the grant or the refusal, or None when a concurrent reservation of the
        same debtor committed first (the caller reads again)."""
        day = regime.local_date(input.at)
        monday = week_start(day)
        async with self.db.session() as session:
            try:
                # the first statement writes: on SQLite it takes the write lock before any read
                row = ContactLog(
                    idempotency_key=input.idempotency_key,
                    debtor_key=key,
                    practice_id=input.practice_id,
                    channel=input.channel,
                    kind=CONVERSATION,
                    at=input.at,
                )
                session.add(row)
                await session.flush()
                logged = await conversations_since(session, [key], regime.at_local(monday))
                previous = [c.at for c in logged.get(key, []) if c.id != row.id]
                decision = check_conversation(
                    previous, input.at, opted_out=opted_out, channel=input.channel, regime=regime
                )
                decision = _preferred(decision, input.at, window, previous, regime)
                if not decision.allowed:
                    await session.rollback()
                    log.info(
                        "practice %s: %s refused (%s)",
                        input.practice_id,
                        input.channel,
                        decision.reason,
                    )
                    return ReserveConversationResult(False, decision.next_slot, decision.reason)
                free = _free_slots(await _week_guards(session, key, monday))
                if not free:  # the log and the guard disagree: never grant over the limit
                    await session.rollback()
                    next_week = regime.at_local(monday + timedelta(days=7))
                    return ReserveConversationResult(
                        False, next_conversation_slot(previous, next_week, regime), WEEK_FULL
                    )
                session.add(
                    ConversationDay(
                        contact_id=row.id, debtor_key=key, day=day, week=monday, week_slot=free[0]
                    )
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()
                if await self._granted(input.idempotency_key):
                    # the same reservation, retried concurrently, committed first
                    return ReserveConversationResult(True, None, GRANTED)
                return None
        log.info("practice %s: %s granted for %s", input.practice_id, input.channel, day)
        return ReserveConversationResult(granted=True, next_slot=None, reason=GRANTED)

    @activity.defn(name=ActivityName.RELEASE_CONVERSATION)
    async def release_conversation(
        self, input: ReleaseConversationInput
    ) -> ReleaseConversationResult:
        async with self.db.session() as session, session.begin():
            contact_id = await session.scalar(
                select(ContactLog.id).where(
                    ContactLog.idempotency_key == input.idempotency_key,
                    ContactLog.practice_id == input.practice_id,
                    ContactLog.kind == CONVERSATION,
                )
            )
            if contact_id is None:
                return ReleaseConversationResult(released=False)
            await session.execute(
                delete(ConversationDay).where(ConversationDay.contact_id == contact_id)
            )
            await session.execute(
                update(ContactLog)
                .where(ContactLog.id == contact_id)
                .values(kind=ATTEMPT)
                .execution_options(synchronize_session=False)
            )
        log.info("practice %s: conversation %s given back", input.practice_id, contact_id)
        return ReleaseConversationResult(released=True)
