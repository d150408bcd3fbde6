"""The practice's state: one value, made of named, typed parts.

Everything the practice workflow (workflows/practice/) knows about its practice lives in one
`PracticeState`: the money, the promise, the dispute, the deal, where the escalation stands and
what it waits for. The workflow holds one and changes it through the pure functions of
domain/practice_state/commands.py (or, for what only the escalation does, in its steps); the
state is plain dataclasses, so the project's pydantic data converter carries it as it is (a
continue-as-new hands it to the next run). What it does not hold is the workflow's machinery:
locks, running tasks, child workflow handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

import domain.practice as _practice
from domain.activity_io import PaymentLine, ReductionLine
from domain.costs import CostKind
from domain.ledger import LedgerEntry, LedgerLine
from domain.pauses import Pauses
from domain.plans import ProposalCmd, ProposalDecisionCmd
from domain.practice import (
    AuthorizationCmd,
    CallOutcomeCmd,
    Channels,
    CostCmd,
    EndDecision,
    LegalOpinionCmd,
    Outcome,
    Phase,
    PracticeInput,
    PromiseView,
    Status,
    TimelineEvent,
    TraceResultCmd,
    VisitOutcomeCmd,
)
from domain.strategy import Step


class Awaiting(StrEnum):
    """The person's answer the escalation waits for (an update is accepted only then)."""

    CALL = "call"
    VISIT = "visit"
    TRACE = "trace"
    OPINION = "opinion"
    AUTHORIZATION = "authorization"
    END_DECISION = "end_decision"


class DealStage(StrEnum):
    """Where a deal (domain.plans) stands; PlanView.state shows it."""

    AWAITING_APPROVAL = "awaiting_approval"
    ACTIVE = "active"
    WARNED = "warned"  # a plan's instalment was missed and the debtor warned
    KEPT = "kept"
    BROKEN = "broken"
    REFUSED = "refused"
    LAPSED = "lapsed"


# the costs a person records on a practice (the flat compensation is computed, never recorded)
RECORDABLE_COSTS = (CostKind.LEGAL, CostKind.COLLECTION)

# the channels a provider may report unusable (ContactInvalidCmd.channel); the postal address is
# reported by a letter coming back (LetterReturnedCmd)
REPORTABLE_CHANNELS = ("email", "phone", "pec")


@dataclass
class Event:
    """A timeline event as a command or a step causes it; the workflow numbers it and stamps
    its time and actor (domain.actor) when it adds it to the timeline. `line`: the money it
    records (domain.ledger), numbered with it for the read model's ledger."""

    kind: str
    summary: str
    data: dict[str, str | int | bool | None] = field(default_factory=dict)
    line: LedgerLine | None = None


@dataclass
class MoneyState:
    """What is owed and what moved: principal, payments, costs, reductions, interest."""

    claim: int  # the invoices' total, less reductions (a dispute upheld in part)
    balance: int  # what the debtor owes now (with interest when claimed)
    claims_interest: bool
    paid: int = 0
    payment_refs: list[str] = field(default_factory=list)  # a reference is paid once
    payments: list[PaymentLine] = field(default_factory=list)
    costs: list[CostCmd] = field(default_factory=list)
    reductions: list[ReductionLine] = field(default_factory=list)
    interest: int = 0  # outstanding, from the last statement
    overpaid: int = 0  # paid beyond what was owed: to be refunded
    written_off: int = 0  # by a settlement or a write-off
    claim_filed_on: date | None = None  # a consumer's interest rate changes from that day
    statement_failure: str | None = None  # why interest could not be computed, said once

    @property
    def costs_cents(self) -> int:
        return sum(c.amount_cents for c in self.costs)


@dataclass
class PromiseState:
    view: PromiseView | None = None
    version: int = 0  # a newer promise replaces the one being waited for
    paid_toward: int = 0


@dataclass
class DisputeState:
    open_id: str | None = None
    opened: int = 0  # how many were opened (names those raised on a call or visit)


@dataclass
class DealState:
    proposal: ProposalCmd | None = None
    stage: DealStage | None = None
    decision: ProposalDecisionCmd | None = None
    paid_toward: int = 0
    plan_result: str | None = None  # the plan child workflow's result, once it ended
    # the running plan's workflow id when it outlives the run that started it (PLANS_OUTLIVE_RUN):
    # a run that continued as new signals and cancels it by this id, and learns its end from the
    # plan's last progress signal (plan_kept, plan_broken)
    plan_workflow_id: str | None = None
    # the progress signals applied, "<proposal>:<kind>:<instalment>": one that reached the
    # practice twice (the plan repeating itself across its own continue-as-new) counts once
    progress_seen: list[str] = field(default_factory=list)
    # the running plan was started with its own history bound (PLANS_BOUNDED): it may have
    # continued as new, so the practice cancels it by its workflow id, whichever run it is in
    plan_bounded: bool = False

    @property
    def collecting(self) -> bool:
        """A plan or settlement is in force: payments count toward it."""
        return self.stage in (DealStage.ACTIVE, DealStage.WARNED)


@dataclass
class EscalationState:
    """Where the strategy's steps stand, and what they learned about reaching the debtor."""

    steps: list[Step] = field(default_factory=list)
    index: int = 0
    action_done: bool = False  # the current step's action happened: resume after it
    skipped: bool = False  # the current step did nothing: no wait after it
    occurrences: dict[str, int] = field(default_factory=dict)  # per step: idempotency keys
    current: Step | None = None
    reminders_sent: list[str] = field(default_factory=list)  # "<due date>:<moment>"
    letters_sent: int = 0
    letter_came_back: bool = False
    phone_failed: bool = False
    calls_made: int = 0
    demand_expires_at: datetime | None = None
    demand_term_recorded: bool = False
    field_agent_id: str | None = None
    lawyer_id: str | None = None

    def following(self) -> str | None:
        i = self.index + 1
        return self.steps[i].value if i < len(self.steps) else None


@dataclass
class WaitState:
    """What the practice shows it waits for, and whose answer it would take now."""

    next_step: str | None = None
    next_action_at: datetime | None = None
    waiting_for: str | None = None
    awaiting: Awaiting | None = None
    # the wait under way, kept here rather than in a coroutine's locals (a continue-as-new finds
    # them): the reminders sent for it, the moment it gives up (an authorisation, a proposal's
    # decision), and how long until the next look for a lawyer
    reminders: int = 0
    deadline: datetime | None = None
    lawyer_retry: timedelta = timedelta(days=1)


@dataclass
class Answers:
    """The answers people gave to what the escalation asked (None: not yet, or asked again)."""

    call: CallOutcomeCmd | None = None
    visit: VisitOutcomeCmd | None = None
    trace: TraceResultCmd | None = None
    opinion: LegalOpinionCmd | None = None
    authorization: AuthorizationCmd | None = None


@dataclass
class ConsumerCreditState:
    """domain.consumer_credit: the measures offered and the debt-advice notice's date."""

    forbearance: list[str] = field(default_factory=list)
    debt_advice_sent_on: date | None = None


@dataclass
class CourtState:
    """The court steps (a child workflow) and, once they ended, the creditor's choice."""

    started: bool = False
    outcome: str | None = None  # the judicial workflow's result
    # the court steps' workflow id when they outlive the run that started them
    # (COURT_STEPS_OUTLIVE_RUN: ABANDON and a history bound of their own): a run that continued
    # as new reaches them by this id, learns their end from their `judicial_ended` signal, and
    # any run cancels them by it
    workflow_id: str | None = None
    end_choice: EndDecision | None = None
    end_asks: int = 0
    watch_checks: int = 0

    @property
    def running(self) -> bool:
        return self.started and self.outcome is None


@dataclass
class Timeline:
    """Events not written to the read model yet, and the numbering of what was."""

    seq: int = 0
    version: int = 0
    pending: list[TimelineEvent] = field(default_factory=list)
    # the ledger lines of the pending events (domain.ledger), written with them
    ledger: list[LedgerEntry] = field(default_factory=list)
    # events or state not written yet, to be written before the workflow next waits or runs an
    # activity (the workflow's record_pending)
    unrecorded: bool = False


@dataclass
class PracticeState:
    inp: PracticeInput
    money: MoneyState
    channels: Channels
    status: Status = Status.ACTIVE
    phase: Phase = Phase.OUT_OF_COURT
    outcome: Outcome | None = None
    # who is in charge and whether a dispute holds; `status` mirrors `pauses.status` (but for
    # CLOSED), and changes only through take()
    pauses: Pauses = field(default_factory=Pauses)
    promise: PromiseState = field(default_factory=PromiseState)
    dispute: DisputeState = field(default_factory=DisputeState)
    deal: DealState = field(default_factory=DealState)
    escalation: EscalationState = field(default_factory=EscalationState)
    wait: WaitState = field(default_factory=WaitState)
    answers: Answers = field(default_factory=Answers)
    credit: ConsumerCreditState = field(default_factory=ConsumerCreditState)
    court: CourtState = field(default_factory=CourtState)
    timeline: Timeline = field(default_factory=Timeline)

    @classmethod
    def start(cls, inp: PracticeInput) -> PracticeState:
        claim = sum(i.amount_cents for i in inp.invoices)
        return cls(
            inp=inp,
            money=MoneyState(
                claim=claim, balance=claim, claims_interest=inp.strategy.claim_interest
            ),
            channels=replace(inp.channels),
        )

    @property
    def closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def interrupted(self) -> bool:
        """A pause or a closure holds: the escalation stops at its next wait."""
        return self.status != Status.ACTIVE

    def take(self, pauses: Pauses) -> None:
        self.pauses = pauses
        if self.status != Status.CLOSED:
            self.status = pauses.status

    def release_answer(self) -> None:
        self.wait.awaiting = None
        self.wait.waiting_for = None

    def channel_data(self) -> dict[str, str | int | bool | None]:
        return {
            "email": self.channels.email,
            "phone": self.channels.phone,
            "pec": self.channels.pec,
            "address": self.channels.address,
        }


# PracticeInput.resume (domain/practice.py) carries a PracticeState, which holds its PracticeInput:
# that module cannot import this one (it is built on it), so the name is put where pydantic looks
# for it when it resolves the annotation. Every process that reads a practice's input (the worker,
# through workflows/practice) imports this module.
_practice.PracticeState = PracticeState  # type: ignore[attr-defined]
