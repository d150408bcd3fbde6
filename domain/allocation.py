"""Allocating a payment to what is owed on its date (art. 1193-1194 c.c.).

By default a payment goes first to costs, then to interest, then to principal (art. 1194: the
debtor cannot have it go to principal before interest and costs without the creditor's
consent); within each of those, the oldest invoice first (by due date, then invoice number as
text; art. 1193: the older debt first). Recorded costs take their place among the costs by
their date, after the flat compensation of an invoice due the same day. With the creditor's
consent (`AllocationOrder.PRINCIPAL_FIRST`) a payment goes to principal, then interest, then
costs, again oldest first.

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
    COSTS_INTEREST_PRINCIPAL = "law"  # art. 1194 c.c., the default
    PRINCIPAL_FIRST = "principal_first"  # creditor's consent: principal, interest, then costs


BUCKET_ORDER: dict[AllocationOrder, tuple[Bucket, ...]] = {
    AllocationOrder.COSTS_INTEREST_PRINCIPAL: (Bucket.COSTS, Bucket.INTEREST, Bucket.PRINCIPAL),
    AllocationOrder.PRINCIPAL_FIRST: (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.COSTS),
}


@dataclass(frozen=True)
class Payment:
    """A payment received (the same fields as `domain.practice.PaymentCmd`)."""

    paid_on: date
    amount_cents: int
    reference: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.amount_cents, int) or self.amount_cents <= 0:
            raise AllocationError("a payment must be a positive amount in cents")


@dataclass(frozen=True)
class OpenItem:
    """Something owed on the payment's date that a payment can go to."""

    bucket: Bucket
    outstanding_cents: int
    since: date  # invoice due date, or the recorded cost's date: older first
    invoice_number: str | None = None  # None for a recorded cost
    cost_index: int | None = None  # index in the recorded costs; None for an invoice's items
    cost_kind: CostKind | None = None  # for the costs bucket


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


def allocate(
    payment: Payment, items: Sequence[OpenItem], order: AllocationOrder
) -> PaymentAllocation:
    """Split `payment` over `items`: bucket by bucket in `order`, oldest first in each."""
    order = AllocationOrder(order)
    remaining = payment.amount_cents
    lines: list[AllocationLine] = []
    for bucket in BUCKET_ORDER[order]:
        for item in sorted((i for i in items if i.bucket is bucket), key=_order_key):
            if remaining == 0:
                break
            if item.outstanding_cents <= 0:
                continue
            amount = min(remaining, item.outstanding_cents)
            remaining -= amount
            lines.append(
                AllocationLine(
                    bucket=bucket,
                    amount_cents=amount,
                    invoice_number=item.invoice_number,
                    cost_index=item.cost_index,
                    cost_kind=item.cost_kind,
                )
            )
    return PaymentAllocation(payment=payment, lines=lines, unallocated_cents=remaining)
