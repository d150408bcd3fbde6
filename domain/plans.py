"""Deals with the debtor (seeds 001, 003): a repayment plan (piano di rientro) or a settlement for
less (saldo e stralcio), checked against the creditor's bounds, and the matching of payments to a
plan's instalments. Pure code: the workflows and the API use it alike."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from domain.actor import Actor


class ProposalKind(StrEnum):
    PLAN = "plan"
    SETTLEMENT = "settlement"


class ClosureReason(StrEnum):
    """Ends that are not payment: contact stops, the creditor is told."""

    DECEASED = "deceased"
    INSOLVENCY = "insolvency"  # procedura concorsuale: the creditor files with the receiver
    UNABLE_TO_PAY = "unable_to_pay"


@dataclass
class Instalment:
    due_date: date
    amount_cents: int


@dataclass
class PlanBounds:
    """What a creditor accepts without being asked (Strategy.plan_bounds)."""

    max_instalments: int = 12
    min_instalment_cents: int = 5000
    max_discount_percent: int = 20  # a settlement for at least 80% of the balance
    min_down_payment_percent: int = 0


@dataclass
class ProposalCmd:
    """A plan (instalments, with an optional down payment as the first one) or a settlement (a
    lump sum below the balance by a date), from an operator, a field agent or the debtor's side."""

    proposal_id: str
    kind: ProposalKind
    instalments: list[Instalment] = field(default_factory=list)
    down_payment: Instalment | None = None
    settlement_cents: int | None = None
    settle_by: date | None = None
    source: str = "operator"
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class ProposalDecisionCmd:
    proposal_id: str
    approved: bool
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


@dataclass
class ClosureCmd:
    reason: ClosureReason
    actor: Actor | None = None  # who sent it (domain.actor): ids and roles only


class ProposalError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


def schedule(proposal: ProposalCmd) -> list[Instalment]:
    """The plan's dates and amounts, the down payment first."""
    return ([proposal.down_payment] if proposal.down_payment else []) + list(proposal.instalments)


# the longest plan the API takes (api.schemas_deals.MAX_INSTALMENTS): ten years of months
MAX_PLAN_INSTALMENTS = 120


def monthly_date(first: date, months: int) -> date:
    """`first` moved on by `months` calendar months, keeping its day: a 31st falls on the last
    day of a shorter month (31 January, 28/29 February, 31 March, 30 April...), and each date
    is computed from `first`, never from the one before, so the day comes back when it can."""
    index = first.month - 1 + months
    year, month = first.year + index // 12, index % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def equal_instalments(count: int, first_due: date, balance_cents: int) -> list[Instalment]:
    """A plan of `count` monthly instalments from `first_due` paying `balance_cents`: equal
    amounts, the cents left over on the last, so they add up to the balance exactly. A
    ProposalError names the field ("instalment_count") when no such plan exists."""
    if not 1 <= count <= MAX_PLAN_INSTALMENTS:
        raise ProposalError("instalment_count", f"between 1 and {MAX_PLAN_INSTALMENTS} instalments")
    if balance_cents < count:
        raise ProposalError(
            "instalment_count", "more instalments than cents to pay: every one must be positive"
        )
    each = balance_cents // count
    amounts = [each] * (count - 1) + [balance_cents - each * (count - 1)]
    return [Instalment(monthly_date(first_due, n), amount) for n, amount in enumerate(amounts)]


def check_proposal(proposal: ProposalCmd, balance_cents: int, today: date) -> None:
    """Raises ProposalError naming the field when the proposal cannot be a deal at all."""
    if proposal.kind == ProposalKind.PLAN:
        items = schedule(proposal)
        if not proposal.instalments:
            raise ProposalError("instalments", "a plan needs at least one instalment")
        previous: date | None = None
        for i, item in enumerate(items):
            where = "down_payment" if proposal.down_payment and i == 0 else "instalments"
            if item.amount_cents <= 0:
                raise ProposalError(where, "every amount must be positive")
            if item.due_date < today:
                raise ProposalError(where, "a due date is in the past")
            if previous is not None and item.due_date <= previous:
                raise ProposalError(where, "due dates must increase")
            previous = item.due_date
        total = sum(i.amount_cents for i in items)
        if total != balance_cents:
            raise ProposalError(
                "instalments",
                f"the amounts add up to {total} cents, the balance is {balance_cents}",
            )
        return
    if proposal.settlement_cents is None or proposal.settle_by is None:
        raise ProposalError("settlement", "a settlement needs an amount and a date")
    if not 0 < proposal.settlement_cents < balance_cents:
        raise ProposalError("settlement", "a settlement is for less than the balance")
    if proposal.settle_by < today:
        raise ProposalError("settle_by", "the date is in the past")


def outside_bounds(proposal: ProposalCmd, balance_cents: int, bounds: PlanBounds) -> list[str]:
    """Why the creditor must approve it (empty: accepted at once)."""
    reasons: list[str] = []
    if proposal.kind == ProposalKind.PLAN:
        if len(proposal.instalments) > bounds.max_instalments:
            reasons.append(f"more than {bounds.max_instalments} instalments")
        if any(i.amount_cents < bounds.min_instalment_cents for i in proposal.instalments):
            reasons.append(f"an instalment below {bounds.min_instalment_cents} cents")
        down = proposal.down_payment.amount_cents if proposal.down_payment else 0
        if down * 100 < bounds.min_down_payment_percent * balance_cents:
            reasons.append(f"a down payment below {bounds.min_down_payment_percent}%")
    else:
        assert proposal.settlement_cents is not None
        discount = balance_cents - proposal.settlement_cents
        if discount * 100 > bounds.max_discount_percent * balance_cents:
            reasons.append(f"a discount above {bounds.max_discount_percent}%")
    return reasons


@dataclass
class InstalmentState:
    due_date: date
    amount_cents: int
    paid_cents: int

    @property
    def outstanding_cents(self) -> int:
        return self.amount_cents - self.paid_cents


def match_payments(items: list[Instalment], paid_cents: int) -> list[InstalmentState]:
    """Payments toward the plan fill the instalments in date order: a short payment leaves the
    rest of that instalment due, an overpayment goes to the next."""
    states: list[InstalmentState] = []
    left = paid_cents
    for item in items:
        share = min(left, item.amount_cents)
        left -= share
        states.append(InstalmentState(item.due_date, item.amount_cents, share))
    return states


PLAN_WORKFLOW_NAME = "PlanWorkflow"
PLAN_PAYMENT_SIGNAL = "plan_payment"  # practice -> plan: a payment toward the plan
PLAN_PROGRESS_SIGNAL = "plan_progress"  # plan -> practice: reminders, warnings, the end
PLAN_PAUSE_SIGNAL = "plan_pause"  # practice -> plan: a dispute suspends it, its end resumes it


def plan_workflow_id(practice_id: str, proposal_id: str) -> str:
    return f"practice-{practice_id}-plan-{proposal_id}"


@dataclass
class PlanState:
    """What a plan's run hands to the next one when it continues as new (workflows/plan.py): the
    instalment the next run starts at (1-based; every one before it is settled: paid, reminded,
    warned) and what the plan has learnt from the practice's signals."""

    next_instalment: int
    paid_cents: int = 0
    warned: bool = False
    suspended: bool = False
    shift_days: int = 0  # the days disputes moved the dates still ahead


@dataclass
class PlanInput:
    practice_id: str
    parent_workflow_id: str
    proposal_id: str
    instalments: list[Instalment]
    reminder_lead: str = "P3D"
    grace: str = "P5D"
    email: bool = True
    sms: bool = True
    # None: the plan runs in one history (the plans started before continue-as-new existed, and a
    # parent that cancels it through its child handle, which would miss a continued run: see
    # docs/ARCHITECTURE.md "Continue-as-new"). A number: a run continues as new at the next
    # instalment once its history has that many events, or when the server suggests it.
    history_bound: int | None = None
    state: PlanState | None = None  # None: the first run


@dataclass
class PlanPause:
    """A dispute opened (suspended) or ended (resumed, the remaining dates moved by
    `shift_days`, the creditor's rule: see domain/pauses.py)."""

    suspended: bool
    shift_days: int = 0


@dataclass
class PlanProgress:
    kind: str  # plan_reminder, plan_warning, plan_kept, plan_broken
    instalment: int  # 1-based
    due_date: date
    outstanding_cents: int
