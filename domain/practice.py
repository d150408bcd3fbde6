"""The practice as the workflow sees it: its input, the commands people send it, what it reports.

These dataclasses cross the Temporal boundary, so every field added later needs a default
(practices in flight were started without it). They carry no personal data: the debtor's name,
tax code, address and contacts stay in the database and only activities read them; the workflow
knows only which channels exist. Free text people write (notes, reasons) is stored by the API in
the database (`practice_notes`) and never sent to the workflow, so it never lands in a history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.actor import Actor
from domain.judicial import Residence
from domain.strategy import Strategy

if TYPE_CHECKING:
    # defined there, on top of this module; state.py puts it in this module's namespace once it
    # is defined, where pydantic looks when it resolves `PracticeInput.resume`
    from domain.practice_state.state import PracticeState

TASK_QUEUE = "recupero-practices"


def workflow_id_for(practice_id: str) -> str:
    return f"practice-{practice_id}"


class DebtorKind(StrEnum):
    CONSUMER = "consumer"
    BUSINESS = "business"


class Phase(StrEnum):
    PRE_DUE = "pre_due"
    OUT_OF_COURT = "out_of_court"
    JUDICIAL = "judicial"


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED_PROMISE = "paused_promise"
    PAUSED_DISPUTE = "paused_dispute"
    PAUSED_PROPOSAL = "paused_proposal"  # a deal waits for the creditor's approval
    PAUSED_PLAN = "paused_plan"  # a repayment plan runs
    PAUSED_SETTLEMENT = "paused_settlement"  # a settlement waits for its payment
    CLOSED = "closed"


class Outcome(StrEnum):
    PAID = "paid"
    WITHDRAWN = "withdrawn"
    RETURNED = "returned"  # the creditor declined legal action or never answered
    DISPUTE_UPHELD = "dispute_upheld"
    SETTLED = "settled"  # saldo e stralcio paid: the rest written off
    DECEASED = "deceased"
    INSOLVENCY = "insolvency"
    UNABLE_TO_PAY = "unable_to_pay"
    # nothing left to do after the court steps: the creditor closed it, the balance written off
    UNCOLLECTABLE = "uncollectable"


class CallOutcome(StrEnum):
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"  # reached, will not pay
    REACHED = "reached"  # reached, no agreement yet
    PROMISE = "promise"
    DISPUTE = "dispute"


class VisitOutcome(StrEnum):
    NOT_FOUND = "not_found"  # nobody at the address
    MET = "met"  # met the debtor, no agreement yet (as CallOutcome.REACHED)
    REFUSED = "refused"  # met, will not pay
    PROMISE = "promise"
    DISPUTE = "dispute"
    # the debtor no longer lives there; VisitOutcomeCmd.new_address says whether the agent
    # learned where they went
    MOVED = "moved"


CHANNEL_NAMES = ("email", "phone", "pec", "address")


@dataclass
class Channels:
    """Which ways of reaching the debtor are known and not known to be wrong."""

    email: bool = False
    phone: bool = False
    pec: bool = False
    address: bool = True


@dataclass
class Invoice:
    number: str
    issue_date: date
    due_date: date
    amount_cents: int


@dataclass
class PracticeInput:
    """What a practice starts with. The creditor's own reference stays in the database: it is
    free text and often carries the debtor's name (FT-ROSSI-2026)."""

    practice_id: str
    creditor_id: str
    debtor_kind: DebtorKind
    province: str
    invoices: list[Invoice]
    strategy: Strategy
    channels: Channels = field(default_factory=Channels)
    # the debtor's country, as the court terms need it (artt. 641, 644 c.p.c.)
    residence: Residence = Residence.ITALY
    # a consumer's debt under a consumer credit agreement (domain.consumer_credit): forbearance
    # and the debt-advice notice come before the court phase
    consumer_credit: bool = False
    # who handed it over (domain.actor); None: a stranded row restarted by the sweep
    handed_over_by: Actor | None = None
    # a run hands over to a new one (continue-as-new) at its next safe point once its history
    # has this many events, or earlier when the server suggests it; None: never, the practice
    # stays one run (docs/ARCHITECTURE.md "Continue-as-new")
    history_bound: int | None = 10_000
    # the pre-due reminders of a day go out at 09:00 plus an offset of up to this many minutes
    # the practice decides (domain.contact_rules.spread_slot), not every practice at 09:00
    # sharp: the hand-over sets it from Settings.contact_spread_minutes, which the workflow
    # cannot read. 0 (an input from before the spread): at 09:00
    reminder_spread_minutes: int = 0
    # what a run that continued as new starts from: the state its predecessor handed over
    # (its `inp` is this input without `resume`); None: a practice just handed over
    resume: PracticeState | None = None


# --- commands (workflow updates) -------------------------------------------------------------


@dataclass
class PaymentCmd:
    amount_cents: int
    paid_on: date
    reference: str
    # the invoice the debtor says the payment is for (art. 1193 c.1 c.c.); None: not said
    invoice_number: str | None = None
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class PromiseCmd:
    promised_date: date
    amount_cents: int
    source: str = "operator"
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class CallOutcomeCmd:
    outcome: CallOutcome
    promised_date: date | None = None
    promised_amount_cents: int | None = None
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class VisitOutcomeCmd:
    outcome: VisitOutcome
    promised_date: date | None = None
    promised_amount_cents: int | None = None
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only
    # why the visit broke the contact rules (the hours, the day's or week's conversations), a
    # fixed phrase of domain.contact_rules; None when it kept them. The outcome is accepted
    # either way (the visit happened) and the timeline flags it.
    outside_rules: str | None = None
    # moved: the agent learned the new address, which the API saved on the practice; the
    # workflow hears only that there is one (personal data never goes into its payloads)
    new_address: bool = False


@dataclass
class AssignVisitCmd:
    """The admin gives the awaited home visit to a field agent or a foreign correspondent (the
    API checked that the user is active and, for a correspondent, covers the debtor's country:
    the workflow never hears the country)."""

    user_id: str
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class TraceResultCmd:
    found: bool
    # the channels for which tracing found new details: "email", "phone", "pec", "address"
    found_channels: list[str] = field(default_factory=list)
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class DisputeCmd:
    dispute_id: str
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class DisputeResolutionCmd:
    dispute_id: str
    upheld: bool
    # upheld in part: the claim is reduced by this much and collection goes on; None closes it
    reduce_by_cents: int | None = None
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class LegalOpinionCmd:
    recommend_action: bool
    action: str = "decreto_ingiuntivo"
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class AuthorizationCmd:
    authorized: bool
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class WithdrawalCmd:
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class ContactsCmd:
    """New contact details were stored for these channels ("email", "phone", "pec",
    "address"): the workflow may use them again. Only names: the values stay in the database."""

    changed: list[str] = field(default_factory=list)
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class LetterReturnedCmd:
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class CostCmd:
    """A collection or legal cost recorded on the practice (it is owed by the debtor)."""

    amount_cents: int
    incurred_on: date
    kind: str = "legal"  # legal, collection
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


class EndDecision(StrEnum):
    """The creditor's choice for a practice whose court steps ended with nothing left to do."""

    WRITE_OFF = "write_off"  # close as uncollectable: the balance is written off
    WATCH = "watch"  # keep it open and re-check the debtor every strategy.watch_interval


@dataclass
class EndDecisionCmd:
    decision: EndDecision
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class StopJudicialCmd:
    """The creditor stops the court steps; the practice stays open for payments."""

    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class ForbearanceCmd:
    """A forbearance measure the creditor offered the debtor (Directive (EU) 2023/2225 art. 35):
    one of domain.consumer_credit.ForbearanceMeasure's values, and when it was offered."""

    measure: str
    offered_on: date
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class DebtAdviceNoticeCmd:
    """Send the debtor the letter that points to debt advisory services (Directive (EU)
    2023/2225 art. 36(3))."""

    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class CommandResult:
    accepted: bool = True
    message: str = ""
    balance_cents: int = 0
    status: str = ""


# --- what the workflow reports to the read model -------------------------------------------


@dataclass
class TimelineEvent:
    seq: int
    at: datetime
    kind: str
    summary: str
    data: dict[str, str | int | bool | None] = field(default_factory=dict)
    # who caused it (domain.actor); None only in events recorded before actors were kept
    actor: Actor | None = None


@dataclass
class PromiseView:
    promised_date: date
    amount_cents: int
    source: str


@dataclass
class InstalmentView:
    due_date: date
    amount_cents: int
    paid_cents: int


@dataclass
class PlanView:
    """The deal in force or waiting for the creditor, for the practice page."""

    proposal_id: str
    kind: str  # plan, settlement
    state: str  # awaiting_approval, active, warned, kept, broken, refused, lapsed
    instalments: list[InstalmentView] = field(default_factory=list)
    settlement_cents: int | None = None
    settle_by: date | None = None
    paid_cents: int = 0


@dataclass
class PracticeSnapshot:
    version: int
    status: Status
    phase: Phase
    balance_cents: int
    paid_cents: int
    claim_cents: int
    outcome: Outcome | None = None
    current_step: str | None = None
    next_step: str | None = None
    next_action_at: datetime | None = None
    waiting_for: str | None = None
    promise: PromiseView | None = None
    open_dispute_id: str | None = None
    field_agent_id: str | None = None
    lawyer_id: str | None = None
    channels: Channels = field(default_factory=Channels)
    costs_cents: int = 0
    interest_cents: int = 0  # outstanding, when interest is claimed
    claims_interest: bool = False
    claim_filed_on: date | None = None
    judicial_stage: str | None = None
    plan: PlanView | None = None
    written_off_cents: int = 0
    # consumer credit (domain.consumer_credit): the forbearance measures offered, the day the
    # debt-advice notice was sent
    forbearance_measures: list[str] = field(default_factory=list)
    debt_advice_sent_on: date | None = None


# --- the workflow's surface, by name (the API calls it without importing workflow code) ----

WORKFLOW_NAME = "PracticeWorkflow"
STATE_QUERY = "state"


class UpdateName:
    PAYMENT = "payment"  # PaymentCmd
    PROMISE = "promise"  # PromiseCmd
    CALL_OUTCOME = "call_outcome"  # CallOutcomeCmd
    VISIT_OUTCOME = "visit_outcome"  # VisitOutcomeCmd
    ASSIGN_VISIT = "assign_visit"  # AssignVisitCmd
    TRACE_RESULT = "trace_result"  # TraceResultCmd
    DISPUTE = "dispute"  # DisputeCmd
    DISPUTE_RESOLUTION = "dispute_resolution"  # DisputeResolutionCmd
    LEGAL_OPINION = "legal_opinion"  # LegalOpinionCmd
    AUTHORIZATION = "authorization"  # AuthorizationCmd
    WITHDRAWAL = "withdrawal"  # WithdrawalCmd
    CONTACTS = "contacts"  # ContactsCmd
    LETTER_RETURNED = "letter_returned"  # LetterReturnedCmd
    CONTACT_INVALID = "contact_invalid"  # ContactInvalidCmd (sent by the provider webhooks)
    COST = "cost"  # CostCmd
    PROPOSAL = "proposal"  # domain.plans.ProposalCmd
    PROPOSAL_DECISION = "proposal_decision"  # domain.plans.ProposalDecisionCmd
    CLOSURE = "closure"  # domain.plans.ClosureCmd
    STOP_JUDICIAL = "stop_judicial"  # StopJudicialCmd
    FORBEARANCE = "forbearance"  # ForbearanceCmd (consumer credit)
    DEBT_ADVICE_NOTICE = "debt_advice_notice"  # DebtAdviceNoticeCmd (consumer credit)
    END_DECISION = "end_decision"  # EndDecisionCmd


class RejectionType:
    """ApplicationError types an update validator raises; the API maps them to HTTP codes."""

    CLOSED = "PracticeClosed"  # 409: the practice is closed
    CONFLICT = "NotExpected"  # 409: nothing is waiting for this (no call queued, no dispute open)
    INVALID = "InvalidCommand"  # 422: the command itself is wrong (amount above the balance...)


# --- what the providers report about a contact -----------------------------------------------


class InvalidReason(StrEnum):
    """Why a provider's report makes a contact unusable: the only words ContactInvalidCmd's
    reason carries (never the address or number, nor the provider's free text)."""

    HARD_BOUNCE = "hard_bounce"  # e-mail: the receiving server refused the address for good
    SUPPRESSED = "suppressed"  # e-mail: dropped, the provider holds the address as bouncing
    SMS_FAILED = "sms_failed"  # SMS: the provider could not send it (not a valid mobile...)
    SMS_UNDELIVERED = "sms_undelivered"  # SMS: the carrier could not deliver it
    PEC_NOT_DELIVERED = "pec_not_delivered"  # PEC: avviso di mancata consegna


@dataclass
class ContactInvalidCmd:
    """A provider reported that a contact of the practice does not work: `channel` is "email",
    "phone" or "pec" (as in CHANNEL_NAMES), `reason` one of InvalidReason's values. The API has
    already marked the channel in the read model (practices.invalid_channels) when it sends this;
    the workflow stops using the channel until new contacts arrive (ContactsCmd)."""

    channel: str
    reason: str
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only
