"""Inputs and results of the activities, one dataclass each, shared by workflows and workers.

Every activity that sends or creates something gets an idempotency_key the workflow derives from
the practice, the step and which occurrence of that step it is (never the retry attempt), so a
retried activity or a restarted worker finds its earlier work and does not repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from domain.judicial import JudicialSnapshot
from domain.ledger import LedgerEntry
from domain.practice import Channels, Outcome, PracticeSnapshot, TimelineEvent


class ActivityName:
    RECORD = "record_practice"
    CHECK_CONTACTS = "check_contacts"
    SEND_REMINDER = "send_pre_due_reminder"
    SEND_LETTER = "send_letter"
    OPEN_TASK = "open_task"
    CLOSE_TASKS = "close_tasks"
    ASSIGN_FIELD_AGENT = "assign_field_agent"
    ASSIGN_LAWYER = "assign_lawyer"
    NOTIFY = "notify"
    RESERVE_CONVERSATION = "reserve_conversation"
    RELEASE_CONVERSATION = "release_conversation"
    RECORD_JUDICIAL = "record_judicial"
    COMPUTE_STATEMENT = "compute_statement"
    LOCAL_MOMENTS = "local_moments"
    ASSIGN_VISIT = "assign_visit"


@dataclass
class RecordInput:
    practice_id: str
    events: list[TimelineEvent]
    snapshot: PracticeSnapshot
    # the money the events record, typed (domain.ledger); empty in the inputs of histories
    # recorded before the ledger (their lines were built from the events once: migration 0019)
    ledger: list[LedgerEntry] = field(default_factory=list)


@dataclass
class CheckContactsInput:
    practice_id: str


@dataclass
class CheckContactsResult:
    channels: Channels
    findings: list[str] = field(default_factory=list)


@dataclass
class LocalMomentsInput:
    """Moments of the debtor's own days (its time zone, read from the practice): the workflow
    never holds the zone, only the instants."""

    practice_id: str
    days: list[date]
    clock: time
    # the pre-due reminders' spread (PracticeInput.reminder_spread_minutes) and lead: with a
    # spread, `at_clock` is spread inside each day's window where the debtor lives, and
    # `before` holds each `clock - lead` spread inside its own day's; 0: as before the spread
    spread_minutes: int = 0
    lead_seconds: int = 0


@dataclass
class LocalMomentsResult:
    # per day of the input, in order: `clock` on that day, and the midnight that ends it
    at_clock: list[datetime]
    day_ends: list[datetime]
    # per day, the early reminder's moment (`clock - lead`, spread); empty without a spread
    before: list[datetime] = field(default_factory=list)


@dataclass
class ReminderInput:
    """A pre-due reminder by e-mail and/or SMS: 'before' the due date or 'due_today'."""

    practice_id: str
    idempotency_key: str
    moment: str
    due_date: date
    amount_cents: int
    email: bool = True
    sms: bool = True


@dataclass
class LetterInput:
    practice_id: str
    idempotency_key: str
    kind: str  # reminder_letter, second_letter, legal_notice, formal_demand
    balance_cents: int
    email_copy: bool = True
    pec_copy: bool = False
    text_override: str | None = None
    pay_by: date | None = None  # the formal demand's term
    lawyer_id: str | None = None
    # False when the postal address is known to be wrong: no letter to a stranger's door
    post: bool = True
    # the creditor's own texts of this letter by language (domain.strategy.texts_by_language):
    # the debtor's language picks one, else the standard text of that language; text_override
    # stays the Italian one (older histories carry only it)
    text_overrides: dict[str, str] = field(default_factory=dict)


@dataclass
class SentResult:
    document_id: str | None = None
    deliveries: list[str] = field(default_factory=list)  # e.g. ["post:outbox", "email:outbox"]
    skipped: list[str] = field(default_factory=list)


@dataclass
class OpenTaskInput:
    """A work-list item: a call for the operators, a visit, a trace, an opinion request, an
    authorisation request to the creditor."""

    practice_id: str
    idempotency_key: str
    kind: str  # call, trace, visit, opinion, authorization
    assignee_id: str | None = None
    due_at: datetime | None = None
    attempt: int = 1
    detail: str = ""


@dataclass
class OpenTaskResult:
    task_id: str


@dataclass
class CloseTasksInput:
    practice_id: str
    kind: str | None = None  # None: every open task of the practice
    status: str = "done"  # done or cancelled
    outcome: str = ""


@dataclass
class AssignInput:
    practice_id: str
    idempotency_key: str
    province: str = ""


@dataclass
class AssignResult:
    user_id: str | None
    reason: str = ""
    # the visit is a foreign correspondent's (the debtor lives abroad, in a country the agency
    # sends correspondents to): without one, the visit waits unassigned on the admin's list
    # instead of being skipped. False in the results recorded before correspondents existed.
    correspondent: bool = False


@dataclass
class AssignVisitInput:
    """The admin's choice of the awaited visit's assignee (UpdateName.ASSIGN_VISIT)."""

    practice_id: str
    user_id: str


@dataclass
class AssignVisitResult:
    # an open visit task was found and is now the user's (with the practice's field_agent_id);
    # False: the visit closed meanwhile, nothing was changed
    assigned: bool
    # the user had it already: nothing changed, nobody is told again
    unchanged: bool = False


@dataclass
class NotifyInput:
    """A message to the agency's side (creditor, field agent, lawyer), never to the debtor.

    The activity writes the text from templates/notifications/<template>.*.j2 with the
    practice's reference and names read from the database, so none of them enters the history.
    """

    practice_id: str
    idempotency_key: str
    to: str  # "creditor" or a user id
    template: str  # visit_assigned, opinion_request, authorization_request, authorized, closed
    params: dict[str, str | int | bool | None] = field(default_factory=dict)
    outcome: Outcome | None = None


@dataclass
class RecordJudicialInput:
    """The judicial workflow's timeline events (seq above JUDICIAL_SEQ_BASE) and state, with its
    deadlines, for the practice page and the lawyer's work list."""

    practice_id: str
    events: list[TimelineEvent]
    snapshot: JudicialSnapshot


@dataclass
class ReserveConversationInput:
    """Asks to contact the debtor at `at` (the workflow's now) on `channel`: call or visit (a
    conversation: window, opt-out and the daily/weekly limits across all of the debtor's
    practices) or email or sms (a message: window and opt-out only). Granted, it is recorded in
    contact_log under `idempotency_key`; a retry with the same key returns the same grant."""

    practice_id: str
    idempotency_key: str
    channel: str  # call, visit, email, sms
    at: datetime


@dataclass
class ReserveConversationResult:
    granted: bool
    # refused: the earliest moment a new request may be granted (Europe/Rome); None when it
    # never will on its own (the debtor opted out of the channel)
    next_slot: datetime | None
    reason: str  # "granted", or a fixed phrase naming no person (domain.contact_rules)


@dataclass
class ReleaseConversationInput:
    """Gives back a granted call the debtor did not answer (no answer, wrong number): it stops
    counting against the limits and stays in contact_log as an "attempt". `idempotency_key` is
    the reservation's."""

    practice_id: str
    idempotency_key: str


@dataclass
class ReleaseConversationResult:
    released: bool  # False: no such conversation (never granted, or already released)


@dataclass
class PaymentLine:
    """A payment received, as the workflow knows it (PaymentCmd's fields)."""

    paid_on: date
    amount_cents: int
    reference: str = ""
    invoice_number: str | None = None  # designated by the debtor (art. 1193 c.1 c.c.)


@dataclass
class CostLine:
    """A recorded cost (CostCmd's fields): owed by the debtor from `incurred_on`."""

    incurred_on: date
    amount_cents: int
    kind: str = "legal"  # legal, collection


@dataclass
class ReductionLine:
    """The claim reduced from `on` (a dispute upheld in part): a credit note on principal,
    oldest invoice first."""

    on: date
    amount_cents: int


@dataclass
class StatementInput:
    """What the debtor owes at the end of `at`. The invoices and the debtor's kind come from
    the database, the rates from the shipped history and the admin's rate_periods.
    claim_interest False: no interest and no EUR 40 compensation (principal and recorded costs).
    A day with no rate known fails non-retryably (ApplicationError type "RateUnknown", details
    [rate kind, ISO day]): the admin must add the rate (POST /rates)."""

    practice_id: str
    at: date
    payments: list[PaymentLine] = field(default_factory=list)
    costs: list[CostLine] = field(default_factory=list)
    reductions: list[ReductionLine] = field(default_factory=list)
    claim_filed_on: date | None = None
    claim_interest: bool = False
    # law (art. 1193-1194 c.c.), costs_interest_principal or principal_first (the mandate's)
    allocation: str = "law"


@dataclass
class StatementResult:
    principal_outstanding_cents: int
    interest_outstanding_cents: int
    costs_outstanding_cents: int  # the EUR 40 compensations and the recorded costs
    total_outstanding_cents: int
    overpaid_cents: int = 0  # paid (or reduced) beyond everything owed: owed back
