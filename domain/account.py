"""The practice's account: `domain.statement` plus what a practice adds to it.

- Whether interest is claimed at all. Out of court a creditor may collect only the principal
  and the recorded costs (`Strategy.claim_interest` False): then nothing accrues and no EUR 40
  compensation is added, and no rate is ever looked up.
- Reductions of the claim: a dispute upheld in part (`DisputeResolutionCmd.reduce_by_cents`)
  works as a credit note on principal dated the day it was decided, oldest invoice first (by due
  date, then number, like payments), on the principal then still unpaid. Like a payment on the
  same day, the reduced principal still accrues on that day and stops from the next one; on a
  day with both, the reduction comes first. A reduction larger than the principal still unpaid
  is owed back to the debtor (`overpaid_cents`), with any payment beyond what is owed.
- A missing rate names its day and kind (`MissingRate`), for the admin who must add it.

`account_at` calls `statement_at` whenever it can (interest claimed, no reductions) and walks
the same way itself otherwise, with the same conventions; `InvoiceLine.principal_cents` is then
the invoice's amount net of its reductions (`Account.reduced_cents` has them per invoice).
"""

from __future__ import annotations

from collections.abc import Sequence
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
from domain.rates import RateKind, RatePeriod, RateTable, RateUnknown
from domain.statement import (
    CostLine,
    InvoiceLine,
    Statement,
    StatementError,
    Totals,
    check_designation,
    statement_at,
)


class MissingRate(RateUnknown):
    """No rate of `kind` is known for `day`: the admin must add the published one."""

    def __init__(self, kind: RateKind, day: date, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.day = day


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
class Account:
    statement: Statement
    claim_interest: bool
    reductions: list[AppliedReduction] = field(default_factory=list)
    reduced_cents: dict[str, int] = field(default_factory=dict)  # per invoice number

    @property
    def overpaid_cents(self) -> int:
        """Paid beyond everything owed, plus reductions beyond the principal left to reduce."""
        return self.statement.totals.unallocated_cents + sum(
            r.unapplied_cents for r in self.reductions
        )


class _Tracing(RateTable):
    """Delegates to a table and remembers which kind and day had no rate."""

    def __init__(self, inner: RateTable) -> None:
        super().__init__()
        self.inner = inner

    def period_on(self, kind: RateKind, day: date) -> RatePeriod:
        try:
            return self.inner.period_on(kind, day)
        except RateUnknown as exc:
            raise MissingRate(RateKind(kind), day, str(exc)) from exc


def account_at(
    invoices: Sequence[Invoice],
    debtor_kind: DebtorKind,
    payments: Sequence[Payment],
    costs: Sequence[Cost],
    reductions: Sequence[Reduction],
    claim_filed_on: date | None,
    at: date,
    rates: RateTable,
    allocation: AllocationOrder = AllocationOrder.LAW,
    *,
    claim_interest: bool = True,
) -> Account:
    """The practice's position at the end of day `at`.

    Raises StatementError for bad input (see `statement_at`; a reduction before the first
    invoice too) and MissingRate when interest is claimed and principal is outstanding on a day
    with no rate known."""
    tracing = _Tracing(rates)
    if claim_interest and not reductions:
        statement = statement_at(
            invoices, debtor_kind, payments, costs, claim_filed_on, at, tracing, allocation
        )
        return Account(statement=statement, claim_interest=True)
    return _walk(
        invoices,
        DebtorKind(debtor_kind),
        payments,
        costs,
        reductions,
        claim_filed_on,
        at,
        tracing,
        AllocationOrder(allocation),
        claim_interest,
    )


@dataclass
class _State:
    invoice: Invoice
    principal_outstanding: int
    accrued_through: date
    late: bool = False
    interest_accrued: int = 0
    interest_paid: int = 0
    compensation_paid: int = 0
    reduced: int = 0
    segments: list[InterestSegment] = field(default_factory=list)


def _walk(
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
) -> Account:
    """statement_at's walk, with reductions among the payments and interest optional."""
    if not invoices:
        raise StatementError("a statement needs at least one invoice")
    numbers = [inv.number for inv in invoices]
    if len(set(numbers)) != len(numbers):
        raise StatementError("invoice numbers must be unique within a statement")
    for inv in invoices:
        if not isinstance(inv.amount_cents, int) or inv.amount_cents < 0:
            raise StatementError(f"invoice {inv.number}: amount must be cents, not negative")
    first_issue = min(inv.issue_date for inv in invoices)
    if at < first_issue:
        raise StatementError(
            f"statement date {at.isoformat()} is before the first invoice "
            f"({first_issue.isoformat()})"
        )
    compensation = flat_compensation_cents(debtor_kind) if claim_interest else 0

    states = [
        _State(inv, inv.amount_cents, accrued_through=inv.due_date)
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

    # reductions before payments on the same day; each kind in the order given
    events: list[tuple[date, int, int, Payment | Reduction]] = [
        (r.on, 0, i, r) for i, r in enumerate(reductions) if r.on <= at
    ] + [(p.paid_on, 1, i, p) for i, p in enumerate(payments) if p.paid_on <= at]
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    allocations: list[PaymentAllocation] = []
    applied: list[AppliedReduction] = []
    for day, _, _, event in events:
        what = "payment" if isinstance(event, Payment) else "reduction"
        if day < first_issue:
            raise StatementError(
                f"{what} of {day.isoformat()} is before the first invoice "
                f"({first_issue.isoformat()})"
            )
        accrue_to(day)
        if isinstance(event, Reduction):
            remaining = event.amount_cents
            reduction_lines: list[ReductionLine] = []
            for state in states:
                take = min(remaining, state.principal_outstanding)
                if take <= 0:
                    continue
                state.principal_outstanding -= take
                state.reduced += take
                remaining -= take
                reduction_lines.append(ReductionLine(state.invoice.number, take))
            applied.append(AppliedReduction(event, reduction_lines, remaining))
            continue
        check_designation(event, by_number)
        result = allocate(event, open_items(day), allocation)
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
        allocations.append(result)
    accrue_to(at)

    lines = [_line(state, compensation) for state in states]
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
    return Account(
        statement=statement,
        claim_interest=claim_interest,
        reductions=applied,
        reduced_cents={s.invoice.number: s.reduced for s in states if s.reduced},
    )


def _line(state: _State, compensation: int) -> InvoiceLine:
    inv = state.invoice
    principal = inv.amount_cents - state.reduced
    compensation_due = compensation if state.late else 0
    interest_outstanding = state.interest_accrued - state.interest_paid
    compensation_outstanding = compensation_due - state.compensation_paid
    return InvoiceLine(
        number=inv.number,
        issue_date=inv.issue_date,
        due_date=inv.due_date,
        principal_cents=principal,
        principal_paid_cents=principal - state.principal_outstanding,
        principal_outstanding_cents=state.principal_outstanding,
        interest_accrued_cents=state.interest_accrued,
        interest_paid_cents=state.interest_paid,
        interest_outstanding_cents=interest_outstanding,
        compensation_due_cents=compensation_due,
        compensation_paid_cents=state.compensation_paid,
        compensation_outstanding_cents=compensation_outstanding,
        total_outstanding_cents=(
            state.principal_outstanding + interest_outstanding + compensation_outstanding
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
