"""What a debtor owes on a given day: principal, interest and costs, due / paid / outstanding.

`statement_at` walks the payments in date order (same-day payments in the order given). Before
each payment it accrues interest on every invoice up to and including the payment's date, on
the principal then still unpaid; then it allocates the payment (`domain.allocation`) to what is
owed that day. After the last payment it accrues up to `at`. Interest conventions (days, day
count, rounding per segment) are in `domain.interest`; costs in `domain.costs`.

A payment may designate one of the invoices (art. 1193 c.1 c.c.); naming another is a
StatementError. Payments after `at` and recorded costs dated after `at` are left out. The EUR
40 compensation (business debtors only) is due for an invoice still unpaid at the end of its
due date.

`walk` is the one walk behind `statement_at` and `domain.account.account_at`, which adds to it
reductions of the claim (a credit note on principal, before the same day's payments) and a
practice that claims no interest (nothing accrues, no compensation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.allocation import (
    AllocationOrder,
    Bucket,
    OpenItem,
    Payment,
    PaymentAllocation,
    allocate,
)
from domain.costs import Cost, CostKind, flat_compensation_cents
from domain.interest import DAY_COUNT, InterestSegment, accrue
from domain.practice import DebtorKind, Invoice
from domain.rates import RateTable


class StatementError(ValueError):
    pass


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    issue_date: date
    due_date: date
    principal_cents: int
    principal_paid_cents: int
    principal_outstanding_cents: int
    interest_accrued_cents: int
    interest_paid_cents: int
    interest_outstanding_cents: int
    compensation_due_cents: int  # the EUR 40 flat compensation (business debtors, late invoices)
    compensation_paid_cents: int
    compensation_outstanding_cents: int
    total_outstanding_cents: int
    segments: list[InterestSegment] = field(default_factory=list)


@dataclass(frozen=True)
class CostLine:
    index: int  # position in the costs given to statement_at
    date: date
    kind: CostKind
    description: str
    amount_cents: int
    paid_cents: int
    outstanding_cents: int


@dataclass(frozen=True)
class Totals:
    principal_cents: int
    principal_paid_cents: int
    principal_outstanding_cents: int
    interest_accrued_cents: int
    interest_paid_cents: int
    interest_outstanding_cents: int
    costs_due_cents: int  # flat compensations + recorded costs
    costs_paid_cents: int
    costs_outstanding_cents: int
    total_due_cents: int
    total_paid_cents: int  # allocated; excludes any unallocated surplus
    total_outstanding_cents: int
    unallocated_cents: int  # paid beyond everything owed: a credit to the debtor


@dataclass(frozen=True)
class Statement:
    at: date
    debtor_kind: DebtorKind
    claim_filed_on: date | None
    allocation: AllocationOrder
    day_count: str
    invoices: list[InvoiceLine]
    costs: list[CostLine]  # recorded costs dated up to `at`
    payments: list[PaymentAllocation]  # payments up to `at`, in the order allocated
    totals: Totals

    @property
    def segments(self) -> list[InterestSegment]:
        """Every interest segment, invoice by invoice (oldest first), in date order."""
        return [s for line in self.invoices for s in line.segments]


@dataclass(frozen=True)
class Reduction:
    """The claim reduced by `amount_cents` from `on` (a dispute upheld in part)."""

    on: date
    amount_cents: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount_cents, int) or self.amount_cents <= 0:
            raise StatementError("a reduction must be a positive amount in cents")


@dataclass(frozen=True)
class ReductionLine:
    invoice_number: str
    amount_cents: int


@dataclass(frozen=True)
class AppliedReduction:
    reduction: Reduction
    lines: list[ReductionLine] = field(default_factory=list)
    unapplied_cents: int = 0  # beyond the principal still unpaid: owed back to the debtor


@dataclass(frozen=True)
class Walked:
    """What the walk found: the statement, and the reductions as they were applied."""

    statement: Statement
    reductions: list[AppliedReduction]
    reduced_cents: dict[str, int]  # per invoice number


@dataclass
class _InvoiceState:
    invoice: Invoice
    principal_outstanding: int
    accrued_through: date  # interest is accounted for up to and including this day
    late: bool = False  # unpaid at the end of the due date: the flat compensation is due
    interest_accrued: int = 0
    interest_paid: int = 0
    compensation_paid: int = 0
    reduced: int = 0  # principal taken off by reductions of the claim
    segments: list[InterestSegment] = field(default_factory=list)


def _validate(invoices: Sequence[Invoice], at: date) -> None:
    if not invoices:
        raise StatementError("a statement needs at least one invoice")
    numbers = [inv.number for inv in invoices]
    if len(set(numbers)) != len(numbers):
        raise StatementError("invoice numbers must be unique within a statement")
    for inv in invoices:
        if not isinstance(inv.amount_cents, int) or inv.amount_cents < 0:
            raise StatementError(f"invoice {inv.number}: amount must be cents, not negative")
    first = min(inv.issue_date for inv in invoices)
    if at < first:
        raise StatementError(
            f"statement date {at.isoformat()} is before the first invoice ({first.isoformat()})"
        )


def check_designation(payment: Payment, invoices: Mapping[str, object]) -> None:
    """Art. 1193 c.1 c.c.: the debtor may designate one of the debts owed, not another one."""
    if payment.invoice_number is not None and payment.invoice_number not in invoices:
        raise StatementError(
            f"payment {payment.reference or payment.paid_on.isoformat()} designates invoice "
            f"{payment.invoice_number}, which is not one of the practice's invoices"
        )


def statement_at(
    invoices: Sequence[Invoice],
    debtor_kind: DebtorKind,
    payments: Sequence[Payment],
    costs: Sequence[Cost],
    claim_filed_on: date | None,
    at: date,
    rates: RateTable,
    allocation: AllocationOrder = AllocationOrder.LAW,
) -> Statement:
    """The debtor's position at the end of day `at`.

    Raises StatementError for bad input (no invoices, `at` before the first invoice, a payment
    before the first invoice) and RateUnknown when principal is outstanding on a day with no
    rate known."""
    return walk(
        invoices, debtor_kind, payments, costs, (), claim_filed_on, at, rates, allocation, True
    ).statement


def walk(
    invoices: Sequence[Invoice],
    debtor_kind: DebtorKind,
    payments: Sequence[Payment],
    costs: Sequence[Cost],
    reductions: Sequence[Reduction],
    claim_filed_on: date | None,
    at: date,
    rates: RateTable,
    allocation: AllocationOrder,
    claim_interest: bool,
) -> Walked:
    """The one walk behind statement_at and domain.account.account_at: payments and reductions
    in date order (reductions before payments on the same day, each in the order given);
    interest and the flat compensation only when `claim_interest`."""
    debtor_kind = DebtorKind(debtor_kind)
    allocation = AllocationOrder(allocation)
    _validate(invoices, at)
    first_issue = min(inv.issue_date for inv in invoices)
    compensation = flat_compensation_cents(debtor_kind) if claim_interest else 0

    states = [
        _InvoiceState(inv, inv.amount_cents, accrued_through=inv.due_date)
        for inv in sorted(invoices, key=lambda i: (i.due_date, i.number))
    ]
    by_number = {s.invoice.number: s for s in states}
    cost_paid = [0] * len(costs)

    def accrue_to(day: date) -> None:
        for state in states:
            if day <= state.accrued_through:
                continue
            if state.accrued_through <= state.invoice.due_date < day:
                state.late = state.principal_outstanding > 0
            if claim_interest:
                segments = accrue(
                    state.principal_outstanding,
                    state.accrued_through + timedelta(days=1),
                    day,
                    debtor_kind=debtor_kind,
                    claim_filed_on=claim_filed_on,
                    rates=rates,
                    invoice_number=state.invoice.number,
                )
                state.segments.extend(segments)
                state.interest_accrued += sum(s.amount_cents for s in segments)
            state.accrued_through = day

    def open_items(day: date) -> list[OpenItem]:
        items: list[OpenItem] = []
        for state in states:
            number, due = state.invoice.number, state.invoice.due_date
            issued = state.invoice.issue_date
            if state.late and compensation:
                items.append(
                    OpenItem(
                        Bucket.COSTS,
                        compensation - state.compensation_paid,
                        due,
                        invoice_number=number,
                        cost_kind=CostKind.FLAT_COMPENSATION,
                        issued=issued,
                    )
                )
            items.append(
                OpenItem(
                    Bucket.INTEREST,
                    state.interest_accrued - state.interest_paid,
                    due,
                    invoice_number=number,
                    issued=issued,
                )
            )
            items.append(
                OpenItem(
                    Bucket.PRINCIPAL,
                    state.principal_outstanding,
                    due,
                    invoice_number=number,
                    issued=issued,
                )
            )
        for index, cost in enumerate(costs):
            if cost.date <= day:
                items.append(
                    OpenItem(
                        Bucket.COSTS,
                        cost.amount_cents - cost_paid[index],
                        cost.date,
                        cost_index=index,
                        cost_kind=cost.kind,
                    )
                )
        return items

    def reduce(reduction: Reduction) -> AppliedReduction:
        """A credit note on principal, oldest invoice first (domain.account)."""
        remaining = reduction.amount_cents
        lines: list[ReductionLine] = []
        for state in states:
            take = min(remaining, state.principal_outstanding)
            if take <= 0:
                continue
            state.principal_outstanding -= take
            state.reduced += take
            remaining -= take
            lines.append(ReductionLine(state.invoice.number, take))
        return AppliedReduction(reduction, lines, remaining)

    def pay(payment: Payment) -> PaymentAllocation:
        result = allocate(payment, open_items(payment.paid_on), allocation)
        for line in result.lines:
            if line.cost_index is not None:
                cost_paid[line.cost_index] += line.amount_cents
                continue
            assert line.invoice_number is not None
            state = by_number[line.invoice_number]
            if line.bucket is Bucket.PRINCIPAL:
                state.principal_outstanding -= line.amount_cents
            elif line.bucket is Bucket.INTEREST:
                state.interest_paid += line.amount_cents
            else:
                state.compensation_paid += line.amount_cents
        return result

    # reductions before payments on the same day; each kind in the order given
    moves: list[tuple[date, int, int, Payment | Reduction]] = [
        (r.on, 0, i, r) for i, r in enumerate(reductions) if r.on <= at
    ] + [(p.paid_on, 1, i, p) for i, p in enumerate(payments) if p.paid_on <= at]
    moves.sort(key=lambda m: (m[0], m[1], m[2]))

    allocations: list[PaymentAllocation] = []
    applied: list[AppliedReduction] = []
    for day, _, _, move in moves:
        what = "payment" if isinstance(move, Payment) else "reduction"
        if day < first_issue:
            raise StatementError(
                f"{what} of {day.isoformat()} is before the first invoice "
                f"({first_issue.isoformat()})"
            )
        if isinstance(move, Payment):
            check_designation(move, by_number)
        accrue_to(day)
        if isinstance(move, Reduction):
            applied.append(reduce(move))
        else:
            allocations.append(pay(move))
    accrue_to(at)

    lines = [_invoice_line(state, compensation) for state in states]
    cost_lines = [
        CostLine(
            index=index,
            date=cost.date,
            kind=cost.kind,
            description=cost.description,
            amount_cents=cost.amount_cents,
            paid_cents=cost_paid[index],
            outstanding_cents=cost.amount_cents - cost_paid[index],
        )
        for index, cost in enumerate(costs)
        if cost.date <= at
    ]
    statement = Statement(
        at=at,
        debtor_kind=debtor_kind,
        claim_filed_on=claim_filed_on,
        allocation=allocation,
        day_count=DAY_COUNT,
        invoices=lines,
        costs=cost_lines,
        payments=allocations,
        totals=_totals(lines, cost_lines, allocations),
    )
    reduced = {s.invoice.number: s.reduced for s in states if s.reduced}
    return Walked(statement, applied, reduced)


def _invoice_line(state: _InvoiceState, compensation: int) -> InvoiceLine:
    inv = state.invoice
    principal = inv.amount_cents - state.reduced  # net of reductions of the claim
    compensation_due = compensation if state.late else 0
    principal_outstanding = state.principal_outstanding
    interest_outstanding = state.interest_accrued - state.interest_paid
    compensation_outstanding = compensation_due - state.compensation_paid
    return InvoiceLine(
        number=inv.number,
        issue_date=inv.issue_date,
        due_date=inv.due_date,
        principal_cents=principal,
        principal_paid_cents=principal - principal_outstanding,
        principal_outstanding_cents=principal_outstanding,
        interest_accrued_cents=state.interest_accrued,
        interest_paid_cents=state.interest_paid,
        interest_outstanding_cents=interest_outstanding,
        compensation_due_cents=compensation_due,
        compensation_paid_cents=state.compensation_paid,
        compensation_outstanding_cents=compensation_outstanding,
        total_outstanding_cents=(
            principal_outstanding + interest_outstanding + compensation_outstanding
        ),
        segments=list(state.segments),
    )


def _totals(
    lines: list[InvoiceLine], costs: list[CostLine], allocations: list[PaymentAllocation]
) -> Totals:
    principal = sum(x.principal_cents for x in lines)
    principal_paid = sum(x.principal_paid_cents for x in lines)
    interest = sum(x.interest_accrued_cents for x in lines)
    interest_paid = sum(x.interest_paid_cents for x in lines)
    costs_due = sum(x.compensation_due_cents for x in lines) + sum(c.amount_cents for c in costs)
    costs_paid = sum(x.compensation_paid_cents for x in lines) + sum(c.paid_cents for c in costs)
    due = principal + interest + costs_due
    paid = principal_paid + interest_paid + costs_paid
    return Totals(
        principal_cents=principal,
        principal_paid_cents=principal_paid,
        principal_outstanding_cents=principal - principal_paid,
        interest_accrued_cents=interest,
        interest_paid_cents=interest_paid,
        interest_outstanding_cents=interest - interest_paid,
        costs_due_cents=costs_due,
        costs_paid_cents=costs_paid,
        costs_outstanding_cents=costs_due - costs_paid,
        total_due_cents=due,
        total_paid_cents=paid,
        total_outstanding_cents=due - paid,
        unallocated_cents=sum(a.unallocated_cents for a in allocations),
    )
