"""Request and response models of the judicial phase, the statement of account and the rates.

Same conventions as api/schemas.py: amounts are decimal strings in euros, requests refuse
unknown fields, a value's own checks live in validators so a 422 names the field. The dates of
what happened in court (filed, issued, served, started) cannot be in the future.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from api.schemas import MAX_AHEAD, Euros, Note, RequestModel, _euros, rome_today
from domain.court_seats import find_seat
from domain.eu_procedures import EU_COURT_STATES
from domain.judicial import LawsuitOutcome, SeizureKind, SeizureOutcome
from domain.judicial_eu import EuDecision, EuProcedure
from domain.rates import RateKind

# --- shared field types ------------------------------------------------------------------------

EARLIEST = date(2000, 1, 1)


def _happened(value: date) -> date:
    if value > rome_today():
        raise ValueError("cannot be in the future (Europe/Rome)")
    if value < EARLIEST:
        raise ValueError(f"cannot be before {EARLIEST.isoformat()}")
    return value


PastDate = Annotated[
    date,
    AfterValidator(_happened),
    Field(description="When it happened; not in the future.", examples=["2026-11-20"]),
]


# --- costs -------------------------------------------------------------------------------------


class CostIn(RequestModel):
    amount: Euros
    incurred_on: PastDate
    kind: Literal["legal", "collection"] = Field(
        description="legal (court fees, the lawyer's fees) or collection (the agency's costs)."
    )
    description: Note = ""


# --- judicial commands -------------------------------------------------------------------------


def _court(value: str) -> str:
    value = value.strip()
    if value and find_seat(value) is None:
        raise ValueError("not the seat of an Italian tribunal (e.g. Milano, Roma, Reggio Emilia)")
    seat = find_seat(value)
    return seat.tribunal if seat is not None else ""


class FilingIn(RequestModel):
    filed_on: PastDate
    court: Annotated[str, AfterValidator(_court)] = Field(
        default="",
        max_length=80,
        description='The tribunal the ricorso was filed with, by its seat ("Milano" or '
        '"Tribunale di Milano"): the patron saint\'s day of the seat is a holiday for the terms '
        "there (art. 155 c.p.c.). Omitted: not known, no local holiday applied.",
        examples=["Milano"],
    )


class DecreeIn(RequestModel):
    issued_on: PastDate
    opposition_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="The term the judge set for opposition; omitted: the law's default for "
        "the debtor's residence (40 days in Italy, 50 in the EU, 60 elsewhere; art. 641 "
        "c.p.c.). The workflow checks it against the range the law allows.",
    )
    decree_number: str = Field(
        default="",
        max_length=40,
        pattern=r"^[A-Za-z0-9/ .\-]*$",
        description="The court's number of the decree, e.g. 1234/2026.",
        examples=["1234/2026"],
    )


class ServiceIn(RequestModel):
    served_on: PastDate


class OppositionIn(RequestModel):
    filed_on: PastDate


def _hearing(value: date | None) -> date | None:
    if value is not None and not (EARLIEST <= value <= rome_today() + MAX_AHEAD):
        raise ValueError("not a plausible hearing date")
    return value


class LawsuitIn(RequestModel):
    outcome: LawsuitOutcome = Field(
        description="pending (the lawsuit goes on), won (the decree is confirmed), lost."
    )
    next_hearing: Annotated[date | None, AfterValidator(_hearing)] = Field(
        default=None, description="The next hearing; may be in the future."
    )


class PrecettoIn(RequestModel):
    served_on: PastDate
    term_days: int = Field(
        default=10, ge=10, le=365, description="Term to pay; art. 480 c.p.c.: at least 10 days."
    )


class PrecettoOppositionIn(RequestModel):
    filed_on: PastDate


class PrecettoOppositionOutcomeIn(RequestModel):
    upheld: bool = Field(description="true: the precetto is void and a new one is needed.")
    resumes_on: PastDate = Field(
        description="Rejected: the day the 90-day lapse resumes (art. 627 c.p.c.: the judgment "
        "rejecting the opposition became final, or the appeal judgment was communicated). "
        "Upheld: the day of the judgment."
    )


class PignoramentoIn(RequestModel):
    started_on: PastDate
    kind: SeizureKind = Field(
        default=SeizureKind.THIRD_PARTY,
        description="movable (mobiliare), real_estate (immobiliare), third_party (presso terzi: "
        "wages, accounts).",
    )


class PignoramentoOutcomeIn(RequestModel):
    outcome: SeizureOutcome = Field(description="assigned (an amount to the creditor) or negative.")
    amount: Annotated[str | None, Field(default=None, validate_default=True)] = None

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str | None, info: ValidationInfo) -> str | None:
        outcome = info.data.get("outcome")
        if outcome == SeizureOutcome.ASSIGNED and value is None:
            raise ValueError("required when the outcome is assigned")
        if outcome is not None and outcome != SeizureOutcome.ASSIGNED and value is not None:
            raise ValueError("only an assignment has an amount")
        return None if value is None else _euros(value)


class StopJudicialIn(RequestModel):
    note: Note = ""


# --- deadlines work list -----------------------------------------------------------------------


class DeadlineTask(BaseModel):
    id: str
    practice_id: str
    reference: str
    kind: str
    start: date
    last_day: date
    ends_at: datetime
    rule: str
    explanation: str
    status: str
    lawyer_id: str | None
    days_left: int = Field(description="Days from today (Europe/Rome) to the last day.")


# --- rates -------------------------------------------------------------------------------------

_RATE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3})?$")


def _rate(value: str) -> str:
    if not _RATE.match(value):
        raise ValueError(
            'a percentage per year as a decimal string with at most three decimals, e.g. "10.15"'
        )
    return value


class RateIn(RequestModel):
    kind: RateKind = Field(
        description="legal (art. 1284 c.c., set yearly by decree) or late_payment_231 (D.Lgs. "
        "231/2002: the ECB reference rate in force on 1 January / 1 July + 8 points, per "
        "half-year)."
    )
    start: date = Field(
        description="First day: 1 January for the legal rate; 1 January or 1 July for the "
        "late-payment rate.",
        examples=["2026-07-01"],
    )
    end: date | None = Field(
        default=None,
        description="Last day, inclusive: 31 December (the legal rate), 30 June or 31 December "
        "(the late-payment rate). Omitted: open-ended; a later period would overlap it, so "
        "delete it and add it again with its end before adding the next one.",
        examples=["2026-12-31"],
    )
    rate: Annotated[str, AfterValidator(_rate)] = Field(
        description="Percent per year as applied: for late_payment_231 the reference rate plus "
        "8 points.",
        examples=["10.15"],
    )
    source: str = Field(
        min_length=1,
        max_length=500,
        description="The act that published it (decree or MEF communication, Gazzetta Ufficiale "
        "issue).",
        examples=["Comunicato MEF, GU n. 170 del 24-07-2026 (reference rate 2.15%)"],
    )

    @field_validator("start")
    @classmethod
    def _start(cls, value: date, info: ValidationInfo) -> date:
        kind = info.data.get("kind")
        if kind == RateKind.LEGAL and (value.month, value.day) != (1, 1):
            raise ValueError("the legal rate is set per calendar year: start on 1 January")
        if kind == RateKind.LATE_PAYMENT_231 and (value.month, value.day) not in ((1, 1), (7, 1)):
            raise ValueError(
                "the late-payment rate is set per half-year: start on 1 January or 1 July"
            )
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return None
        start = info.data.get("start")
        if start is not None and value < start:
            raise ValueError(f"ends before it starts ({start.isoformat()})")
        kind = info.data.get("kind")
        if kind == RateKind.LEGAL and (value.month, value.day) != (12, 31):
            raise ValueError("the legal rate is set per calendar year: end on 31 December")
        if kind == RateKind.LATE_PAYMENT_231 and (value.month, value.day) not in (
            (6, 30),
            (12, 31),
        ):
            raise ValueError(
                "the late-payment rate is set per half-year: end on 30 June or 31 December"
            )
        return value

    def rate_decimal(self) -> Decimal:
        return Decimal(self.rate)


class RateOut(BaseModel):
    id: str | None = Field(description="Null for the shipped history (it cannot be deleted).")
    kind: RateKind
    start: date
    end: date | None
    rate: str = Field(description="Percent per year.", examples=["10.15"])
    source: str
    origin: Literal["shipped", "admin"] = Field(
        description="shipped: the history in the code (domain/rate_history.py); admin: added "
        "with POST /rates."
    )
    created_at: datetime | None = None


# --- statement of account ----------------------------------------------------------------------


class Amounts(BaseModel):
    due: str = Field(examples=["1000.00"])
    paid: str = Field(examples=["250.00"])
    outstanding: str = Field(examples=["750.00"])


class StatementInvoice(BaseModel):
    number: str
    issue_date: date
    due_date: date
    principal: Amounts = Field(description="Due: the invoice net of reductions.")
    reduced: str = Field(description="Reductions of the claim (disputes upheld in part).")
    interest: Amounts = Field(description="Interest claimed (zero when not claimed).")
    compensation: Amounts = Field(
        description="The EUR 40 flat compensation (art. 6 D.Lgs. 231/2002), business debtors "
        "only, when interest is claimed."
    )
    total_outstanding: str


class StatementCost(BaseModel):
    incurred_on: date
    kind: str = Field(description="legal or collection.")
    amount: Amounts


class AllocationOut(BaseModel):
    bucket: Literal["costs", "interest", "principal"]
    invoice_number: str | None = Field(description="Null for a recorded cost.")
    cost_kind: str | None = Field(
        description="For costs: flat_compensation_231, legal or collection."
    )
    amount: str


class StatementPayment(BaseModel):
    paid_on: date
    amount: str
    reference: str
    designated_invoice: str | None = Field(
        default=None,
        description="The invoice the debtor said the payment is for (art. 1193 c.1 c.c.).",
    )
    allocation: list[AllocationOut]
    unallocated: str = Field(description="Beyond everything owed that day: owed back.")


class ReductionApplied(BaseModel):
    invoice_number: str
    amount: str


class StatementReduction(BaseModel):
    on: date
    amount: str
    applied: list[ReductionApplied]
    unapplied: str = Field(description="Beyond the principal still unpaid: owed back.")


class RateSegment(BaseModel):
    """A run of days of one invoice at one rate on one principal."""

    invoice_number: str
    start: date = Field(description="First day accrued.")
    end: date = Field(description="Last day accrued, inclusive.")
    days: int
    principal: str
    rate_kind: RateKind
    rate: str = Field(description="Percent per year.", examples=["10.15"])
    year_days: int = Field(description="365, or 366 in a leap year (actual/actual).")
    amount: str
    source: str = Field(description="The act that set the rate.")
    claimed: bool = Field(
        description="False: what the law gives, shown for information; the practice does not "
        "claim interest, so it is not in the amounts due."
    )


class StatementTotals(BaseModel):
    principal: Amounts
    interest: Amounts
    costs: Amounts = Field(description="Flat compensations and recorded costs.")
    total: Amounts
    overpaid: str = Field(description="Paid or reduced beyond everything owed: owed back.")


class InterestNotClaimed(BaseModel):
    """What claiming interest would add, when the practice does not claim it (for information:
    none of it is in the amounts due)."""

    interest: str = Field(description="Interest the law gives up to the statement's date.")
    compensation: str = Field(description="EUR 40 per late invoice (business debtors).")
    total_outstanding_if_claimed: str


class StatementOut(BaseModel):
    practice_id: str
    reference: str
    at: date = Field(description="The statement is at the end of this day (Europe/Rome).")
    debtor_kind: str
    interest_claimed: bool = Field(
        description="True when the creditor's strategy claims interest or the practice is in "
        "the judicial phase. False: principal and recorded costs only (no interest, no EUR 40)."
    )
    allocation: str = Field(
        description="law (art. 1193-1194 c.c.: invoice by invoice, each one's costs and "
        "interest before its principal), costs_interest_principal or principal_first (agreed "
        "in the mandate)."
    )
    claim_filed_on: date | None = Field(
        description="The court claim's filing: from that day a consumer's interest runs at the "
        "late-payment rate (art. 1284 c. 4 c.c.)."
    )
    day_count: str
    invoices: list[StatementInvoice]
    costs: list[StatementCost]
    payments: list[StatementPayment]
    reductions: list[StatementReduction]
    interest_segments: list[RateSegment] = Field(
        description="The rate segments interest was computed on, invoice by invoice; claimed "
        "false when the practice does not claim interest."
    )
    totals: StatementTotals
    interest_not_claimed: InterestNotClaimed | None = Field(
        default=None,
        description="Only when interest is not claimed and the law's interest can be computed.",
    )
    notes: list[str] = Field(default_factory=list)


# --- the EU path (issue 16: domain/eu_procedures.py, workflows/judicial_eu.py) -----------------


def _court_country(value: str) -> str:
    code = value.strip().upper()
    if code not in EU_COURT_STATES:
        raise ValueError(
            "an EU member state's ISO code, not Denmark (art. 2(3) Reg. 1896/2006 and 861/2007)"
        )
    return code


class EuApplicationIn(RequestModel):
    procedure: EuProcedure
    filed_on: PastDate
    court_country: Annotated[str, AfterValidator(_court_country)] = Field(
        max_length=2,
        description="The member state of the court form A was lodged with (ISO 3166-1).",
        examples=["DE"],
    )
    court: str = Field(
        default="", max_length=120, description="The court's name.", examples=["AG Wedding"]
    )


class EuIssuedIn(RequestModel):
    issued_on: PastDate


class EuServiceIn(RequestModel):
    served_on: PastDate


class EuResponseIn(RequestModel):
    filed_on: PastDate


class EuDecisionIn(RequestModel):
    decision: EuDecision
    decided_on: PastDate


class EuChoiceOut(BaseModel):
    """Which EU procedure the practice may take (domain.eu_procedures.choose_procedure)."""

    eligible: list[EuProcedure] = Field(
        description="Empty: none (the debtor in Italy, Denmark or outside the EU)."
    )
    recommended: EuProcedure | None
    court_country: str | None = Field(description="The member state whose courts are seised.")
    forum: str = Field(description="The rule giving that state's courts jurisdiction.")
    alternatives: list[str] = Field(
        description="Other member states whose courts may hear it (art. 7(1) Reg. 1215/2012)."
    )
    reasons: list[str]
    principal: str = Field(description="The claim's value for the small claims limit.")
