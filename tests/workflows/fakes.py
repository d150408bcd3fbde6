"""In-memory stand-ins for the activities, registered under the real names (samples-python
style), so workflow tests check the escalation logic without a database or a mail server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.activity_io import (
    ActivityName,
    AssignInput,
    AssignResult,
    AssignVisitInput,
    AssignVisitResult,
    CheckContactsInput,
    CheckContactsResult,
    CloseTasksInput,
    LetterInput,
    LocalMomentsInput,
    LocalMomentsResult,
    NotifyInput,
    OpenTaskInput,
    OpenTaskResult,
    RecordInput,
    RecordJudicialInput,
    ReleaseConversationInput,
    ReleaseConversationResult,
    ReminderInput,
    ReserveConversationInput,
    ReserveConversationResult,
    SentResult,
    StatementInput,
    StatementResult,
)
from domain.contact_rules import ContactRegime, spread_reminder
from domain.judicial import JudicialSnapshot
from domain.practice import Channels, PracticeSnapshot, TimelineEvent


@dataclass
class FakeWorld:
    channels: Channels = field(default_factory=lambda: Channels(email=True, phone=True))
    field_agent: str | None = "agent-1"
    # the visit's assignee is a foreign correspondent (a debtor abroad): `field_agent` is it,
    # None when no correspondent covers the debtor's country
    correspondent: bool = False
    # the debtor's time zone, as the practice row holds it (activities.reminders.local_moments)
    zone: str = "Europe/Rome"
    lawyer: str | None = "lawyer-1"
    events: dict[int, TimelineEvent] = field(default_factory=dict)
    snapshot: PracticeSnapshot | None = None
    judicial: JudicialSnapshot | None = None
    letters: list[LetterInput] = field(default_factory=list)
    reminders: list[ReminderInput] = field(default_factory=list)
    tasks: dict[str, OpenTaskInput] = field(default_factory=dict)
    open_tasks: set[str] = field(default_factory=set)
    notifications: list[NotifyInput] = field(default_factory=list)
    # the admin's (re)assignments of the open visit (UpdateName.ASSIGN_VISIT)
    assignments: list[AssignVisitInput] = field(default_factory=list)
    sent_keys: list[str] = field(default_factory=list)
    email_copies: list[str] = field(default_factory=list)  # letters whose e-mail copy went
    # the contact rules: contacts asked for inside one of these (from, until) spans are refused
    # with `until` as the next slot (the hours are closed); any other is granted
    closed: list[tuple[datetime, datetime]] = field(default_factory=list)
    reservations: list[ReserveConversationInput] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    # the statement of account, when interest is claimed
    claim_cents: int = 125040
    interest_cents: int = 0
    statements: list[StatementInput] = field(default_factory=list)
    # every read-model write, in order
    records: list[RecordInput] = field(default_factory=list)
    judicial_records: list[RecordJudicialInput] = field(default_factory=list)
    # holds the timeline write of this step's start until the test releases it
    hold_record_at_step: str | None = None
    record_held: asyncio.Event = field(default_factory=asyncio.Event)
    release_record: asyncio.Event = field(default_factory=asyncio.Event)
    # holds the court steps' first write of this stage until the test releases it
    hold_judicial_stage: str | None = None
    judicial_held: asyncio.Event = field(default_factory=asyncio.Event)
    release_judicial: asyncio.Event = field(default_factory=asyncio.Event)
    # holds the closing of this kind of task until the test releases it
    hold_close_of: str | None = None
    close_held: asyncio.Event = field(default_factory=asyncio.Event)
    release_close: asyncio.Event = field(default_factory=asyncio.Event)
    # letters of this kind are refused for good by the "provider"
    refuse_letter: str | None = None

    # --- what tests read ---
    def kinds(self) -> list[str]:
        return [self.events[s].kind for s in sorted(self.events)]

    def judicial_kinds(self) -> list[str]:
        return [self.events[s].kind for s in sorted(self.events) if s > 1_000_000]

    def letter_kinds(self) -> list[str]:
        return [letter.kind for letter in self.letters]

    def open_of(self, kind: str) -> list[OpenTaskInput]:
        return [t for k, t in self.tasks.items() if k in self.open_tasks and t.kind == kind]

    # --- the activities ---
    @activity.defn(name=ActivityName.RECORD)
    async def record(self, inp: RecordInput) -> None:
        self.records.append(inp)
        if self.hold_record_at_step and any(
            e.kind == "step_started" and e.data.get("step") == self.hold_record_at_step
            for e in inp.events
        ):
            self.record_held.set()
            await self.release_record.wait()
        for e in inp.events:
            self.events.setdefault(e.seq, e)
        if self.snapshot is None or inp.snapshot.version > self.snapshot.version:
            self.snapshot = inp.snapshot

    @activity.defn(name=ActivityName.RECORD_JUDICIAL)
    async def record_judicial(self, inp: RecordJudicialInput) -> None:
        self.judicial_records.append(inp)
        if self.hold_judicial_stage == inp.snapshot.stage and not self.judicial_held.is_set():
            self.judicial_held.set()
            await self.release_judicial.wait()
        for e in inp.events:
            self.events.setdefault(e.seq, e)
        if self.judicial is None or inp.snapshot.version > self.judicial.version:
            self.judicial = inp.snapshot

    @activity.defn(name=ActivityName.RESERVE_CONVERSATION)
    async def reserve(self, inp: ReserveConversationInput) -> ReserveConversationResult:
        self.reservations.append(inp)
        for since, until in self.closed:
            if since <= inp.at < until:
                return ReserveConversationResult(False, until, "outside the contact hours")
        return ReserveConversationResult(True, None, "granted")

    @activity.defn(name=ActivityName.RELEASE_CONVERSATION)
    async def release(self, inp: ReleaseConversationInput) -> ReleaseConversationResult:
        self.released.append(inp.idempotency_key)
        return ReleaseConversationResult(True)

    @activity.defn(name=ActivityName.COMPUTE_STATEMENT)
    async def compute_statement(self, inp: StatementInput) -> StatementResult:
        """Principal and costs less payments, plus the interest the test sets."""
        self.statements.append(inp)
        paid = sum(p.amount_cents for p in inp.payments)
        reduced = sum(r.amount_cents for r in inp.reductions)
        costs = sum(c.amount_cents for c in inp.costs)
        owed = self.claim_cents - reduced + costs + self.interest_cents
        return StatementResult(
            principal_outstanding_cents=max(self.claim_cents - reduced - paid, 0),
            interest_outstanding_cents=self.interest_cents,
            costs_outstanding_cents=costs,
            total_outstanding_cents=max(owed - paid, 0),
            overpaid_cents=max(paid - owed, 0),
        )

    @activity.defn(name=ActivityName.CHECK_CONTACTS)
    async def check_contacts(self, inp: CheckContactsInput) -> CheckContactsResult:
        return CheckContactsResult(channels=self.channels, findings=["checked"])

    @activity.defn(name=ActivityName.SEND_REMINDER)
    async def send_reminder(self, inp: ReminderInput) -> SentResult:
        if inp.idempotency_key not in self.sent_keys:
            self.sent_keys.append(inp.idempotency_key)
            self.reminders.append(inp)
        return SentResult(deliveries=["email:outbox"])

    @activity.defn(name=ActivityName.SEND_LETTER)
    async def send_letter(self, inp: LetterInput) -> SentResult:
        if inp.kind == self.refuse_letter:
            raise ApplicationError("the wording was refused", non_retryable=True)
        if inp.email_copy and inp.idempotency_key not in self.email_copies:
            self.email_copies.append(inp.idempotency_key)
        if inp.idempotency_key not in self.sent_keys:
            self.sent_keys.append(inp.idempotency_key)
            self.letters.append(inp)
        return SentResult(document_id=f"doc-{len(self.letters)}", deliveries=["post:outbox"])

    @activity.defn(name=ActivityName.OPEN_TASK)
    async def open_task(self, inp: OpenTaskInput) -> OpenTaskResult:
        if inp.idempotency_key not in self.tasks:
            self.tasks[inp.idempotency_key] = inp
            self.open_tasks.add(inp.idempotency_key)
        return OpenTaskResult(task_id=inp.idempotency_key)

    @activity.defn(name=ActivityName.CLOSE_TASKS)
    async def close_tasks(self, inp: CloseTasksInput) -> None:
        if inp.kind is not None and inp.kind == self.hold_close_of:
            self.close_held.set()
            await self.release_close.wait()
        for key in list(self.open_tasks):
            if inp.kind is None or self.tasks[key].kind == inp.kind:
                self.open_tasks.discard(key)

    @activity.defn(name=ActivityName.ASSIGN_FIELD_AGENT)
    async def assign_field_agent(self, inp: AssignInput) -> AssignResult:
        if self.correspondent:
            reason = "covers the debtor's country" if self.field_agent else "none covers it"
            return AssignResult(self.field_agent, reason, correspondent=True)
        return AssignResult(self.field_agent, "" if self.field_agent else "no field agent")

    @activity.defn(name=ActivityName.ASSIGN_VISIT)
    async def assign_visit(self, inp: AssignVisitInput) -> AssignVisitResult:
        visits = [k for k in self.open_tasks if self.tasks[k].kind == "visit"]
        if not visits:
            return AssignVisitResult(assigned=False)
        task = self.tasks[visits[0]]
        unchanged = task.assignee_id == inp.user_id
        self.tasks[visits[0]] = replace(task, assignee_id=inp.user_id)
        self.assignments.append(inp)
        return AssignVisitResult(assigned=True, unchanged=unchanged)

    @activity.defn(name=ActivityName.LOCAL_MOMENTS)
    async def local_moments(self, inp: LocalMomentsInput) -> LocalMomentsResult:
        zone = ZoneInfo(self.zone)
        at_clock = [datetime.combine(d, inp.clock, tzinfo=zone) for d in inp.days]
        day_ends = [
            datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=zone) for d in inp.days
        ]
        if inp.spread_minutes <= 0:
            return LocalMomentsResult(at_clock=at_clock, day_ends=day_ends)
        # the Italian code's hours and holidays in the debtor's zone, spread as the real one
        regime = ContactRegime(zone=self.zone)
        pairs = [
            spread_reminder(
                clock,
                timedelta(seconds=inp.lead_seconds),
                inp.practice_id,
                timedelta(minutes=inp.spread_minutes),
                regime,
            )
            for clock in at_clock
        ]
        return LocalMomentsResult(
            at_clock=[on_day for _, on_day in pairs],
            day_ends=day_ends,
            before=[before for before, _ in pairs],
        )

    @activity.defn(name=ActivityName.ASSIGN_LAWYER)
    async def assign_lawyer(self, inp: AssignInput) -> AssignResult:
        return AssignResult(self.lawyer, "" if self.lawyer else "no lawyer registered")

    @activity.defn(name=ActivityName.NOTIFY)
    async def notify(self, inp: NotifyInput) -> None:
        self.notifications.append(inp)

    def activities(self) -> list[Any]:
        return [
            self.record,
            self.record_judicial,
            self.reserve,
            self.compute_statement,
            self.release,
            self.check_contacts,
            self.send_reminder,
            self.send_letter,
            self.open_task,
            self.close_tasks,
            self.assign_field_agent,
            self.assign_lawyer,
            self.notify,
            self.local_moments,
            self.assign_visit,
        ]
