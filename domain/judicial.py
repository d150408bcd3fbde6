"""The court steps (DOMAIN.md steps 12 to 14) as the judicial workflow sees them: its input, the
lawyer's commands, and what it reports. Like domain/practice.py: no personal data, defaults on
every field added later."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.actor import Actor
from domain.court_calendar import Deadline
from domain.judicial_eu import EuView

JUDICIAL_WORKFLOW_NAME = "JudicialWorkflow"
# timeline events of the judicial workflow share the practice's timeline: their sequence numbers
# live above this base so they never collide with the practice workflow's own
JUDICIAL_SEQ_BASE = 1_000_000


def judicial_workflow_id(practice_id: str) -> str:
    return f"practice-{practice_id}-judicial"


class Residence(StrEnum):
    """Where the debtor lives: it sets the service and opposition terms (artt. 641, 644)."""

    ITALY = "italy"
    EU = "eu"
    NON_EU = "non_eu"


class Stage(StrEnum):
    AWAITING_FILING = "awaiting_filing"  # the lawyer files the ricorso
    AWAITING_DECREE = "awaiting_decree"  # the judge issues the decreto ingiuntivo
    AWAITING_SERVICE = "awaiting_service"  # to be served within 60 (90) days or it lapses
    OPPOSITION_TERM = "opposition_term"  # the debtor may oppose within the term
    LAWSUIT = "lawsuit"  # opposed: ordinary proceedings the lawyer updates
    DECREE_FINAL = "decree_final"  # enforceable: the precetto may be served
    PRECETTO_TERM = "precetto_term"  # no enforcement before the term (art. 480)
    AWAITING_PIGNORAMENTO = "awaiting_pignoramento"  # before the precetto lapses (art. 481)
    PRECETTO_OPPOSED = "precetto_opposed"  # the lapse is suspended until the opposition ends
    PIGNORAMENTO = "pignoramento"  # seizure under way
    DONE = "done"
    STOPPED = "stopped"  # a payment, a settlement or the creditor stopped the court steps
    # the EU path (workflows/judicial_eu.py, domain/eu_procedures.py)
    EU_AWAITING_ISSUE = "eu_awaiting_issue"  # form A lodged: the court issues the EPO
    EU_AWAITING_SERVICE = "eu_awaiting_service"  # the court serves the order / the claim
    EU_RESPONSE_TERM = "eu_response_term"  # 30 days to oppose (EPO) or answer (small claims)
    EU_AWAITING_DECISION = "eu_awaiting_decision"  # enforceability (EPO) or judgment (ESCP)
    EU_ORDINARY = "eu_ordinary"  # an opposed EPO goes on as ordinary proceedings (art. 17)


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"  # the precetto's lapse while an opposition to it runs (art. 481 c. 2)


class JudicialUpdate:
    FILING = "judicial_filing"  # FilingCmd
    DECREE = "judicial_decree"  # DecreeCmd
    SERVICE = "judicial_service"  # ServiceCmd
    OPPOSITION = "judicial_opposition"  # OppositionCmd
    LAWSUIT = "judicial_lawsuit"  # LawsuitUpdateCmd
    PRECETTO = "judicial_precetto"  # PrecettoCmd
    PIGNORAMENTO = "judicial_pignoramento"  # PignoramentoCmd
    PIGNORAMENTO_OUTCOME = "judicial_pignoramento_outcome"  # PignoramentoOutcomeCmd
    PRECETTO_OPPOSITION = "judicial_precetto_opposition"  # PrecettoOppositionCmd
    PRECETTO_OPPOSITION_OUTCOME = (
        "judicial_precetto_opposition_outcome"  # PrecettoOppositionOutcomeCmd
    )


JUDICIAL_STATE_QUERY = "judicial_state"
CLAIM_FILED_SIGNAL = "claim_filed"  # child -> practice: consumers' interest switches rate
# child -> practice, with the outcome, as the court steps end: sent only by court steps started
# with a history bound, whose parent follows docs/ARCHITECTURE.md "Continue-as-new" (a parent's
# run that continued as new holds no handle on the child and is never told of its end otherwise)
JUDICIAL_ENDED_SIGNAL = "judicial_ended"


@dataclass
class FilingCmd:
    filed_on: date
    # the tribunal the ricorso was filed with ("Milano": domain.court_seats); its seat's patron
    # saint's day is a holiday for the terms there. Empty: not known, no local holiday applied.
    court: str = ""
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class DecreeCmd:
    issued_on: date
    # the term the judge set for opposition; None: the law's default for the debtor's residence
    opposition_days: int | None = None
    decree_number: str = ""
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class ServiceCmd:
    served_on: date
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class OppositionCmd:
    filed_on: date
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


class LawsuitOutcome(StrEnum):
    PENDING = "pending"
    WON = "won"  # the decree is confirmed: enforcement may go on
    LOST = "lost"


@dataclass
class LawsuitUpdateCmd:
    outcome: LawsuitOutcome = LawsuitOutcome.PENDING
    next_hearing: date | None = None
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class PrecettoCmd:
    served_on: date
    term_days: int = 10  # art. 480: not less than ten days
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class PrecettoOppositionCmd:
    """The debtor opposed the precetto (artt. 615, 617 c.p.c.): its 90-day lapse is suspended
    from `filed_on` (art. 481 c. 2 c.p.c.)."""

    filed_on: date
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class PrecettoOppositionOutcomeCmd:
    """How the opposition to the precetto ended. `upheld`: the precetto is void, a new one is
    needed. Rejected: the lapse resumes from `resumes_on` (art. 627 c.p.c.: the day the judgment
    rejecting it became final, or the appeal judgment was communicated) for the days left."""

    upheld: bool
    resumes_on: date
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


class SeizureKind(StrEnum):
    MOVABLE = "movable"  # pignoramento mobiliare
    REAL_ESTATE = "real_estate"  # immobiliare
    THIRD_PARTY = "third_party"  # presso terzi: wages, accounts


@dataclass
class PignoramentoCmd:
    started_on: date
    kind: SeizureKind = SeizureKind.THIRD_PARTY
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


class SeizureOutcome(StrEnum):
    ASSIGNED = "assigned"  # the judge assigned an amount to the creditor
    NEGATIVE = "negative"  # nothing found


@dataclass
class PignoramentoOutcomeCmd:
    outcome: SeizureOutcome
    amount_cents: int | None = None
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class DeadlineView:
    kind: str  # decree_service, opposition, precetto_term, precetto_lapse
    last_day: date
    ends_at: datetime
    rule: str  # the law it comes from, e.g. "art. 641 c.p.c."
    explanation: str
    status: DeadlineStatus = DeadlineStatus.OPEN
    start: date | None = None
    # a term the creditor must meet is shown at its safe last day (`last_day`); the rule's own
    # reading may run later: the lapse is declared only after it (None: the same day)
    law_last_day: date | None = None
    law_ends_at: datetime | None = None


@dataclass
class JudicialState:
    """What a run of the court steps hands to the next one when it continues as new
    (workflows/judicial.py): the stage it stopped at, waiting for the lawyer's next act
    (awaiting_filing, lawsuit or decree_final), and everything the run had learnt. The timeline's
    numbering and the read model's version go on from where the run left them."""

    stage: Stage
    seq: int
    version: int
    deadlines: list[DeadlineView] = field(default_factory=list)
    filed_on: date | None = None
    court: str = ""
    decree: DecreeCmd | None = None
    service_deadline: Deadline | None = None
    served_on: date | None = None
    opposition_filed_on: date | None = None
    lawsuit: LawsuitUpdateCmd | None = None
    final_on: date | None = None
    precetto: PrecettoCmd | None = None
    enforcement_from: date | None = None
    precetto_lapse: Deadline | None = None


@dataclass
class JudicialInput:
    practice_id: str
    parent_workflow_id: str
    lawyer_id: str | None = None
    residence: Residence = Residence.ITALY
    # days before each deadline the lawyer is reminded
    reminder_days: list[int] = field(default_factory=lambda: [10, 3, 1])
    # None: the court steps run in one history (those started before continue-as-new existed,
    # and a parent that cancels them through its child handle, which would miss a continued run:
    # see docs/ARCHITECTURE.md "Continue-as-new"). A number: a run continues as new where it
    # waits for the lawyer's next act once its history has that many events, or when the server
    # suggests it.
    history_bound: int | None = None
    state: JudicialState | None = None  # None: the first run


@dataclass
class JudicialSnapshot:
    version: int
    stage: Stage
    deadlines: list[DeadlineView] = field(default_factory=list)
    filed_on: date | None = None
    decree_issued_on: date | None = None
    decree_served_on: date | None = None
    opposition_filed_on: date | None = None
    final_on: date | None = None
    precetto_served_on: date | None = None
    enforcement_from: date | None = None
    pignoramento_started_on: date | None = None
    outcome: str | None = None
    assigned_cents: int | None = None
    lawyer_id: str | None = None
    court: str = ""  # the tribunal's seat the filing named ("" not known)
    eu: EuView | None = None  # the EU path's steps (None: the Italian decreto ingiuntivo)
