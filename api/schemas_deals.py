"""Request and response models of deals (repayment plans and settlements), closures that are not
payment, and the creditor's report.

Same conventions as api/schemas.py: amounts are decimal strings in euros, requests refuse unknown
fields, a value's own checks live in validators so a 422 names the field. Whether a proposal can
be a deal at all (dates increasing and not past, amounts adding up to the balance, a settlement
below it) depends on the practice's current balance, so the endpoint checks it with
domain.plans.check_proposal and answers a 422 naming the field the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from api.schemas import (
    MAX_AHEAD,
    CommandResultOut,
    Euros,
    Note,
    RequestModel,
    _euros,
    _optional,
    rome_today,
)
from domain.plans import MAX_PLAN_INSTALMENTS, ClosureReason, ProposalKind

MAX_INSTALMENTS = MAX_PLAN_INSTALMENTS


def _not_too_far(value: date | None) -> date | None:
    # the plan's workflow sleeps until these dates: years ahead is a typo, not a plan
    if value is not None and value > rome_today() + MAX_AHEAD:
        raise ValueError("the date is more than ten years ahead")
    return value


DealDate = Annotated[
    date,
    AfterValidator(_not_too_far),
    Field(description="Not in the past (Europe/Rome).", examples=["2026-12-31"]),
]


class InstalmentIn(RequestModel):
    due_date: DealDate
    amount: Euros


class ProposalIn(RequestModel):
    """A repayment plan (piano di rientro) or a settlement for less (saldo e stralcio).

    - plan: `instalments` (dates increasing, not in the past) and an optional `down_payment`
      (paid first, before the first instalment); the amounts, down payment included, add up to
      the practice's current balance exactly.
    - settlement: `amount` below the current balance, paid by `settle_by`.

    Within the creditor's bounds (its strategy's `plan_bounds`) the deal is in force at once;
    otherwise it waits for the creditor's decision (POST .../proposals/{id}/decision).
    """

    kind: ProposalKind = Field(description="plan or settlement.")
    instalment_count: int | None = Field(
        default=None,
        validate_default=True,
        ge=1,
        le=MAX_INSTALMENTS,
        description="A plan given as a number of equal monthly instalments for the current "
        "balance (the cents left over on the last), from `first_due_date`, the day of the month "
        "kept (a 31st falls on the last day of shorter months); instead of `instalments`.",
        examples=[6],
    )
    first_due_date: Annotated[date | None, AfterValidator(_not_too_far)] = Field(
        default=None,
        validate_default=True,
        description="The first instalment's date of a plan given by `instalment_count`.",
        examples=["2026-12-31"],
    )
    instalments: list[InstalmentIn] = Field(
        default_factory=list,
        validate_default=True,
        max_length=MAX_INSTALMENTS,
        description="A plan's instalments (at least one); not allowed for a settlement.",
        examples=[[{"due_date": "2026-12-31", "amount": "300.00"}]],
    )
    down_payment: InstalmentIn | None = Field(
        default=None,
        validate_default=True,
        description="A plan's down payment (acconto), due before the first instalment; not "
        "allowed for a settlement.",
    )
    amount: Annotated[str | None, AfterValidator(_optional(_euros))] = Field(
        default=None,
        validate_default=True,
        description="A settlement's amount in euros, below the balance; required for a "
        "settlement, not allowed for a plan.",
        examples=["800.00"],
    )
    settle_by: date | None = Field(
        default=None,
        validate_default=True,
        description="The last day to pay a settlement; required for a settlement, not allowed "
        "for a plan.",
        examples=["2026-12-15"],
    )
    note: Note = ""

    @field_validator("instalment_count")
    @classmethod
    def _plan_count(cls, value: int | None, info: ValidationInfo) -> object:
        if value is not None and info.data.get("kind") == ProposalKind.SETTLEMENT:
            raise ValueError("a settlement has no instalments")
        return value

    @field_validator("first_due_date")
    @classmethod
    def _plan_first_date(cls, value: date | None, info: ValidationInfo) -> object:
        if "instalment_count" not in info.data:
            return value  # the count was refused already
        counted = info.data["instalment_count"] is not None
        if counted and value is None:
            raise ValueError("required with instalment_count")
        if not counted and value is not None:
            raise ValueError("only with instalment_count")
        return value

    @field_validator("instalments")
    @classmethod
    def _plan_instalments(cls, value: list[InstalmentIn], info: ValidationInfo) -> object:
        kind = info.data.get("kind")
        counted = info.data.get("instalment_count") is not None
        if kind == ProposalKind.PLAN and counted and value:
            raise ValueError("give the instalments or instalment_count, not both")
        if kind == ProposalKind.PLAN and not value and not counted:
            if "instalment_count" not in info.data:
                return value  # the count was refused already
            raise ValueError(
                "a plan needs at least one instalment (or instalment_count and first_due_date)"
            )
        if kind == ProposalKind.SETTLEMENT and value:
            raise ValueError("a settlement has no instalments")
        return value

    @field_validator("down_payment")
    @classmethod
    def _plan_down_payment(cls, value: InstalmentIn | None, info: ValidationInfo) -> object:
        if value is not None and info.data.get("kind") == ProposalKind.SETTLEMENT:
            raise ValueError("a settlement has no down payment")
        if value is not None and info.data.get("instalment_count") is not None:
            raise ValueError("a plan by instalment_count has no down payment")
        return value

    @field_validator("amount")
    @classmethod
    def _settlement_amount(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == ProposalKind.SETTLEMENT and value is None:
            raise ValueError("required for a settlement")
        if kind == ProposalKind.PLAN and value is not None:
            raise ValueError("a plan's amounts are its instalments")
        return value

    @field_validator("settle_by")
    @classmethod
    def _settlement_date(cls, value: date | None, info: ValidationInfo) -> date | None:
        kind = info.data.get("kind")
        if kind == ProposalKind.SETTLEMENT and value is None:
            raise ValueError("required for a settlement")
        if kind == ProposalKind.PLAN and value is not None:
            raise ValueError("a plan's dates are its instalments")
        return _not_too_far(value)


class ScheduledInstalment(BaseModel):
    due_date: date
    amount: str = Field(examples=["208.40"])


class ProposalOut(CommandResultOut):
    proposal_id: str = Field(description="Needed for the creditor's decision.")
    within_bounds: bool = Field(
        description="True: within the creditor's bounds, the deal is in force at once. False: it "
        "waits for the creditor's decision (`reasons` say why)."
    )
    reasons: list[str] = Field(
        description="The creditor's bounds the proposal is outside of; empty when within.",
        examples=[["more than 12 instalments"]],
    )
    schedule: list[ScheduledInstalment] = Field(
        default_factory=list,
        description="A plan's dates and amounts, the down payment first (as built from "
        "instalment_count); empty for a settlement.",
    )
    answer_by: date | None = Field(
        default=None,
        description="Outside the bounds: the last day the creditor has to decide (Europe/Rome; "
        "unanswered by then the proposal is refused, the strategy's proposal_timeout). Null "
        "when the deal is in force at once.",
    )


class ProposalDecisionIn(RequestModel):
    approved: bool = Field(description="True puts the deal in force; false refuses it.")
    note: Note = ""


class ClosureIn(RequestModel):
    reason: ClosureReason = Field(
        description="deceased (the debtor died), insolvency (a procedura concorsuale: the "
        "creditor files its claim with the receiver), unable_to_pay (nothing can be recovered). "
        "The practice closes with this outcome and contact stops."
    )
    note: Note = ""


# --- the creditor's report ---------------------------------------------------------------------


class SettledOut(BaseModel):
    count: int = Field(description="Practices closed as settled (saldo e stralcio paid).")
    paid: str = Field(description="Paid on those practices, in euros.", examples=["800.00"])


class PlansOut(BaseModel):
    """Repayment plans, from each practice's latest deal (settlements not counted)."""

    active: int = Field(description="Plans running (on time or late).")
    on_time: int = Field(description="Running plans with no instalment overdue.")
    late: int = Field(description="Running plans with an instalment past its grace (warned).")
    broken: int = Field(description="Plans broken: collection resumed.")


class ProposedOnlineOut(BaseModel):
    proposed: int = Field(description="Proposed by the debtors on their page in the period.")
    accepted: int = Field(
        description="Of those, accepted: within the creditor's bounds, or approved since."
    )


class SelfServiceOut(BaseModel):
    """What the debtors did on their own page (issue 13): the timeline's events whose actor is
    the debtor. Payments count by the day paid, proposals and disputes by the day made, on any
    of the creditor's practices (whenever handed over)."""

    payments: int = Field(description="Payments made online (card payments booked).")
    paid: str = Field(description="Their amount, in euros.", examples=["450.00"])
    plans: ProposedOnlineOut
    settlements: ProposedOnlineOut
    disputes: int = Field(description="Disputes opened by the debtors on their page.")


class CreditorReportOut(BaseModel):
    creditor_id: str
    from_: date | None = Field(
        serialization_alias="from", description="First day of hand-over counted, if given."
    )
    to: date | None = Field(description="Last day of hand-over counted, if given.")
    practices: int = Field(description="Practices handed over in the period.")
    by_status: dict[str, int] = Field(description="Practices by status (every status listed).")
    by_outcome: dict[str, int] = Field(
        description="Closed practices by outcome (every outcome listed)."
    )
    recovered: str = Field(description="Paid on these practices, in euros.", examples=["1250.40"])
    settled: SettledOut
    written_off: str = Field(
        description="Given up on settled practices, in euros.", examples=["200.00"]
    )
    plans: PlansOut
    online: SelfServiceOut


class MonthRecoveredOut(BaseModel):
    month: str = Field(description="Calendar month, YYYY-MM.", examples=["2026-03"])
    recovered: str = Field(description="Paid in the month, in euros.", examples=["1250.40"])
    payments: int = Field(description="Payments made in the month.")


class CohortOut(BaseModel):
    month: str = Field(description="Month of hand-over (Europe/Rome), YYYY-MM.")
    practices: int = Field(description="Practices handed over in the month.")
    placed: str = Field(description="Their invoices' total, in euros.", examples=["10000.00"])
    recovered: str = Field(description="Paid on them to date, in euros.", examples=["2534.00"])
    share: str | None = Field(
        description="recovered / placed, a ratio with four decimals; null if nothing placed.",
        examples=["0.2534"],
    )


class CreditorChartsOut(BaseModel):
    creditor_id: str
    from_: date | None = Field(
        serialization_alias="from", description="First day of the period (Europe/Rome), if given."
    )
    to: date | None = Field(description="Last day of the period (Europe/Rome), if given.")
    recovered_by_month: list[MonthRecoveredOut] = Field(
        description="Payments by the month they were paid (paid in the period)."
    )
    by_status: dict[str, int] = Field(
        description="Practices handed over in the period by status (every status listed)."
    )
    by_outcome: dict[str, int] = Field(
        description="Closed practices handed over in the period by outcome (every outcome listed)."
    )
    cohorts: list[CohortOut] = Field(
        description="By month of hand-over in the period: placed, recovered to date, share."
    )
    online: SelfServiceOut
