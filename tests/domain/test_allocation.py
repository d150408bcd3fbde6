"""domain.allocation: one payment over the items owed on its date (art. 1193-1194 c.c.)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import (
    BUCKET_ORDER,
    AllocationError,
    AllocationOrder,
    Bucket,
    OpenItem,
    Payment,
    allocate,
)
from domain.costs import CostKind

OLD, NEW = date(2025, 1, 31), date(2025, 2, 28)
ITEMS = [
    # deliberately out of order: allocation sorts them
    OpenItem(Bucket.PRINCIPAL, 200000, NEW, invoice_number="2"),
    OpenItem(Bucket.INTEREST, 1894, NEW, invoice_number="2"),
    OpenItem(Bucket.COSTS, 4000, NEW, invoice_number="2", cost_kind=CostKind.FLAT_COMPENSATION),
    OpenItem(Bucket.PRINCIPAL, 100000, OLD, invoice_number="1"),
    OpenItem(Bucket.INTEREST, 1802, OLD, invoice_number="1"),
    OpenItem(Bucket.COSTS, 4000, OLD, invoice_number="1", cost_kind=CostKind.FLAT_COMPENSATION),
    OpenItem(Bucket.COSTS, 15000, NEW, cost_index=0, cost_kind=CostKind.LEGAL),
]


def summary(order: AllocationOrder, amount: int) -> list[tuple[str, str | int | None, int]]:
    result = allocate(Payment(date(2025, 3, 31), amount), ITEMS, order)
    return [
        (line.bucket.value, line.invoice_number or line.cost_index, line.amount_cents)
        for line in result.lines
    ]


def test_costs_then_interest_then_principal_oldest_first() -> None:
    # 500.00: compensations 40 + 40 (oldest invoice first), the legal cost of 150 (its date is the
    # newer due date, after that day's compensation), interest 18.02 + 18.94, then 500 - 80 -
    # 150 - 36.96 = 233.04 to the older invoice's principal
    assert summary(AllocationOrder.COSTS_INTEREST_PRINCIPAL, 50000) == [
        ("costs", "1", 4000),
        ("costs", "2", 4000),
        ("costs", 0, 15000),
        ("interest", "1", 1802),
        ("interest", "2", 1894),
        ("principal", "1", 23304),
    ]


def test_principal_first_when_the_creditor_agrees() -> None:
    # 1,500.00: 1,000.00 clears invoice 1's principal, 500.00 goes to invoice 2's
    assert summary(AllocationOrder.PRINCIPAL_FIRST, 150000) == [
        ("principal", "1", 100000),
        ("principal", "2", 50000),
    ]
    # 3,100.00: all principal (3,000.00), then interest 18.02 + 18.94, then 63.04 of costs
    assert summary(AllocationOrder.PRINCIPAL_FIRST, 310000) == [
        ("principal", "1", 100000),
        ("principal", "2", 200000),
        ("interest", "1", 1802),
        ("interest", "2", 1894),
        ("costs", "1", 4000),
        ("costs", "2", 2304),
    ]


def test_surplus_stays_unallocated() -> None:
    owed = sum(i.outstanding_cents for i in ITEMS)
    # the strategy's string works as the order
    result = allocate(Payment(date(2025, 3, 31), owed + 123), ITEMS, "law")  # type: ignore[arg-type]
    assert result.allocated_cents == owed
    assert result.unallocated_cents == 123
    assert result.to_bucket(Bucket.PRINCIPAL) == 300000


def test_same_day_ties_break_on_invoice_number() -> None:
    items = [
        OpenItem(Bucket.PRINCIPAL, 100, OLD, invoice_number="B"),
        OpenItem(Bucket.PRINCIPAL, 100, OLD, invoice_number="A"),
    ]
    result = allocate(Payment(OLD, 150), items, AllocationOrder.COSTS_INTEREST_PRINCIPAL)
    assert [(x.invoice_number, x.amount_cents) for x in result.lines] == [("A", 100), ("B", 50)]


@pytest.mark.parametrize("amount", [0, -1])
def test_payment_must_be_positive(amount: int) -> None:
    with pytest.raises(AllocationError):
        Payment(date(2025, 1, 1), amount)


item_strategy = st.builds(
    OpenItem,
    bucket=st.sampled_from(list(Bucket)),
    outstanding_cents=st.integers(min_value=0, max_value=10**9),
    since=st.dates(min_value=date(2019, 1, 1), max_value=date(2026, 12, 31)),
    invoice_number=st.text(alphabet="0123456789", min_size=1, max_size=3),
)


@given(
    items=st.lists(item_strategy, max_size=12),
    amount=st.integers(min_value=1, max_value=10**10),
    order=st.sampled_from(list(AllocationOrder)),
)
def test_allocation_never_exceeds_what_was_paid_or_owed(
    items: list[OpenItem], amount: int, order: AllocationOrder
) -> None:
    result = allocate(Payment(date(2025, 1, 1), amount), items, order)
    assert result.allocated_cents + result.unallocated_cents == amount
    assert result.allocated_cents <= amount
    assert all(line.amount_cents > 0 for line in result.lines)
    owed = sum(i.outstanding_cents for i in items)
    assert result.allocated_cents == min(amount, owed)
    # each bucket is only reached once the buckets before it are cleared
    rank = {bucket: i for i, bucket in enumerate(BUCKET_ORDER[order])}
    ranks = [rank[line.bucket] for line in result.lines]
    assert ranks == sorted(ranks)
    if ranks:  # every bucket before the last one reached was cleared
        last = ranks[-1]
        before = [i for i in items if rank[i.bucket] < last]
        paid_before = sum(x.amount_cents for x in result.lines if rank[x.bucket] < last)
        assert paid_before == sum(i.outstanding_cents for i in before)


@pytest.mark.parametrize(
    ("value", "order"),
    [
        ("law", AllocationOrder.COSTS_INTEREST_PRINCIPAL),
        ("principal_first", AllocationOrder.PRINCIPAL_FIRST),
    ],
)
def test_strategy_allocation_values_map_to_orders(value: str, order: AllocationOrder) -> None:
    from domain.strategy import Strategy, validate_strategy

    strategy = validate_strategy(Strategy(allocation=value))
    assert AllocationOrder(strategy.allocation) is order
    assert Strategy().allocation == AllocationOrder.COSTS_INTEREST_PRINCIPAL
