"""Allocating a payment to what is owed on its date (art. 1193-1194 c.c.).

The law's order (`AllocationOrder.LAW`, the default):

- Art. 1193 c.1 c.c.: the debtor may say, when paying, which debt the payment is for
  (`Payment.invoice_number`). That invoice is paid first; what exceeds it goes on by the order
  below.
- Recorded costs of the collection (legal and collection costs, not tied to one invoice) come
  before any invoice's principal: art. 1194 c.1 c.c. (interest and costs before capital); among
  themselves by date.
- Art. 1193 c.2 c.c., without a designation, among invoices: first the debts due on the
  payment's date (due date on or before it); among those due, the least secured; among the
  equally secured, the most onerous for the debtor; among the equally onerous, the oldest; and
  pro rata when none of these separates them. The product holds no guarantee on an invoice, and
  all the invoices of one debtor bear interest at the same rate once due (the same kind of
  debtor, the same rate table; `domain.interest`): so the second and third criteria never
  separate two invoices here and the order is decided by the fourth. "Oldest" is the debt that
  arose first: the earlier issue date (the invoice's date), then the earlier due date; invoices
  equal on both share the payment pro rata to what each still owes (largest remainder for the
  odd cents, then invoice number).
- Art. 1194 c.c., within each invoice: its costs (the EUR 40 flat compensation of D.Lgs.
  231/2002 art. 6), then its interest, then its principal (art. 1194 c.2: a payment on account
  of capital and interest goes to interest first).

Orders the creditor may choose instead, agreed in the mandate (the debtor's designation of
art. 1193 c.1 is still honoured first, and art. 1194 still holds within the designated invoice
unless the creditor consented to principal first):

- `AllocationOrder.COSTS_INTEREST_PRINCIPAL`: all costs, then all interest, then all principal,
  each oldest first (by due date, then invoice number as text); recorded costs among the costs
  by their date, after the flat compensation of an invoice due the same day.
- `AllocationOrder.PRINCIPAL_FIRST` (the creditor's consent of art. 1194 c.1): principal, then
  interest, then costs, again oldest first.

Whatever exceeds everything owed on the payment's date stays unallocated (a credit to refund).
This module only splits one payment over open items; `domain.statement` walks the payments in
date order, accruing interest up to each one before allocating it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from domain.costs import CostKind


class AllocationError(ValueError):
    pass


class Bucket(StrEnum):
    COSTS = "costs"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AllocationOrder(StrEnum):
    # the values are Strategy.allocation's: AllocationOrder(strategy.allocation)
    LAW = "law"  # art. 1193-1194 c.c., the default: invoice by invoice, see the module's doc
    # agreed in the mandate: all costs, then all interest, then principal from the oldest
    COSTS_INTEREST_PRINCIPAL = "costs_interest_principal"
    PRINCIPAL_FIRST = "principal_first"  # creditor's consent: principal, interest, then costs


# the order of the buckets: across all items for the creditor's orders, within one invoice for
# the law's (art. 1194)
BUCKET_ORDER: dict[AllocationOrder, tuple[Bucket, ...]] = {
    AllocationOrder.LAW: (Bucket.COSTS, Bucket.INTEREST, Bucket.PRINCIPAL),
    AllocationOrder.COSTS_INTEREST_PRINCIPAL: (Bucket.COSTS, Bucket.INTEREST, Bucket.PRINCIPAL),
    AllocationOrder.PRINCIPAL_FIRST: (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.COSTS),
}


@dataclass(frozen=True)
class Payment:
    """A payment received (the same fields as `domain.practice.PaymentCmd`). `invoice_number`:
    the invoice the debtor said the payment is for (art. 1193 c.1 c.c.), None if not said."""

    paid_on: date
    amount_cents: int
    reference: str = ""
    invoice_number: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount_cents, int) or self.amount_cents <= 0:
            raise AllocationError("a payment must be a positive amount in cents")
        if self.invoice_number is not None and not self.invoice_number.strip():
            raise AllocationError("a designated invoice number must not be blank")


@dataclass(frozen=True)
class OpenItem:
    """Something owed on the payment's date that a payment can go to."""

    bucket: Bucket
    outstanding_cents: int
    since: date  # invoice due date, or the recorded cost's date: older first
    invoice_number: str | None = None  # None for a recorded cost
    cost_index: int | None = None  # index in the recorded costs; None for an invoice's items
    cost_kind: CostKind | None = None  # for the costs bucket
    issued: date | None = None  # the invoice's issue date (art. 1193: the oldest debt)


@dataclass(frozen=True)
class AllocationLine:
    bucket: Bucket
    amount_cents: int
    invoice_number: str | None = None
    cost_index: int | None = None
    cost_kind: CostKind | None = None


@dataclass(frozen=True)
class PaymentAllocation:
    payment: Payment
    lines: list[AllocationLine] = field(default_factory=list)
    unallocated_cents: int = 0

    @property
    def allocated_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    def to_bucket(self, bucket: Bucket) -> int:
        return sum(line.amount_cents for line in self.lines if line.bucket is bucket)


def _order_key(item: OpenItem) -> tuple[date, int, str, int]:
    # an invoice's own items before recorded costs of the same day
    is_recorded = 0 if item.cost_index is None else 1
    return (item.since, is_recorded, item.invoice_number or "", item.cost_index or 0)


def _pay(items: Sequence[OpenItem], remaining: int, lines: list[AllocationLine]) -> int:
    """Pay `items` in the order given, up to `remaining`; returns what is left."""
    for item in items:
        if remaining == 0:
            break
        if item.outstanding_cents <= 0:
            continue
        amount = min(remaining, item.outstanding_cents)
        remaining -= amount
        lines.append(
            AllocationLine(
                bucket=item.bucket,
                amount_cents=amount,
                invoice_number=item.invoice_number,
                cost_index=item.cost_index,
                cost_kind=item.cost_kind,
            )
        )
    return remaining


def _within(items: Sequence[OpenItem], buckets: tuple[Bucket, ...]) -> list[OpenItem]:
    """One invoice's items in the order of art. 1194 (or the creditor's consented order)."""
    return sorted(items, key=lambda i: (buckets.index(i.bucket), _order_key(i)))


def _owed(items: Sequence[OpenItem]) -> int:
    return sum(max(i.outstanding_cents, 0) for i in items)


def _law_invoice_key(items: Sequence[OpenItem], paid_on: date) -> tuple[bool, date, date]:
    """Art. 1193 c.2 c.c.: the due debt first (False sorts first); the least secured and the
    most onerous cannot separate two invoices of one debtor here (no guarantees recorded, one
    rate for all: see the module's doc); then the oldest, the one that arose first."""
    first = items[0]
    due_on = first.since
    return (due_on > paid_on, first.issued or due_on, due_on)


def _pro_rata(
    invoices: list[list[OpenItem]], remaining: int, buckets: tuple[Bucket, ...]
) -> list[AllocationLine]:
    """Art. 1193 c.2 last sentence: invoices no criterion separates share the payment in
    proportion to what each owes; the odd cents go by the largest remainder (then number)."""
    owed = [_owed(items) for items in invoices]
    total = sum(owed)
    shares = [remaining * o // total for o in owed]
    left = remaining - sum(shares)
    by_remainder = sorted(
        range(len(invoices)),
        key=lambda k: (-(remaining * owed[k] % total), invoices[k][0].invoice_number or ""),
    )
    for k in by_remainder[:left]:
        shares[k] += 1
    lines: list[AllocationLine] = []
    for items, share in zip(invoices, shares, strict=True):
        _pay(_within(items, buckets), share, lines)
    return lines


def allocate(
    payment: Payment, items: Sequence[OpenItem], order: AllocationOrder
) -> PaymentAllocation:
    """Split `payment` over `items` in `order` (see the module's doc), the invoice the debtor
    designated first (art. 1193 c.1 c.c.)."""
    order = AllocationOrder(order)
    buckets = BUCKET_ORDER[order]
    remaining = payment.amount_cents
    lines: list[AllocationLine] = []
    rest = list(items)
    if payment.invoice_number is not None:
        designated = [
            i for i in rest if i.cost_index is None and i.invoice_number == payment.invoice_number
        ]
        taken = {id(i) for i in designated}
        rest = [i for i in rest if id(i) not in taken]
        remaining = _pay(_within(designated, buckets), remaining, lines)
    if order is not AllocationOrder.LAW:
        for bucket in buckets:
            ordered = sorted((i for i in rest if i.bucket is bucket), key=_order_key)
            remaining = _pay(ordered, remaining, lines)
        return PaymentAllocation(payment=payment, lines=lines, unallocated_cents=remaining)
    # art. 1194 c.c.: the recorded costs of the collection before any invoice's capital
    recorded = sorted((i for i in rest if i.cost_index is not None), key=_order_key)
    remaining = _pay(recorded, remaining, lines)
    per_invoice: dict[str, list[OpenItem]] = {}
    for item in rest:
        if item.cost_index is None:
            per_invoice.setdefault(item.invoice_number or "", []).append(item)
    groups: dict[tuple[bool, date, date], list[list[OpenItem]]] = {}
    for number in sorted(per_invoice):
        invoice_items = per_invoice[number]
        if _owed(invoice_items):
            groups.setdefault(_law_invoice_key(invoice_items, payment.paid_on), []).append(
                invoice_items
            )
    for key in sorted(groups):
        if remaining == 0:
            break
        group = groups[key]
        if len(group) == 1 or remaining >= sum(_owed(items) for items in group):
            for invoice_items in group:
                remaining = _pay(_within(invoice_items, buckets), remaining, lines)
        else:
            shared = _pro_rata(group, remaining, buckets)
            lines.extend(shared)
            remaining -= sum(line.amount_cents for line in shared)
    return PaymentAllocation(payment=payment, lines=lines, unallocated_cents=remaining)
