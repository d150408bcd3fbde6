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
    designated=st.one_of(st.none(), st.text(alphabet="0123456789", min_size=1, max_size=3)),
)
def test_allocation_never_exceeds_what_was_paid_or_owed(
    items: list[OpenItem], amount: int, order: AllocationOrder, designated: str | None
) -> None:
    payment = Payment(date(2025, 1, 1), amount, invoice_number=designated)
    result = allocate(payment, items, order)
    assert result.allocated_cents + result.unallocated_cents == amount
    assert result.allocated_cents <= amount
    assert all(line.amount_cents > 0 for line in result.lines)
    owed = sum(max(i.outstanding_cents, 0) for i in items)
    assert result.allocated_cents == min(amount, owed)
    if designated is not None or order is AllocationOrder.LAW:
        return  # invoice by invoice: see test_law_buckets_within_each_invoice
    # each bucket is only reached once the buckets before it are cleared
    rank = {bucket: i for i, bucket in enumerate(BUCKET_ORDER[order])}
    ranks = [rank[line.bucket] for line in result.lines]
    assert ranks == sorted(ranks)
    if ranks:  # every bucket before the last one reached was cleared
        last = ranks[-1]
        before = [i for i in items if rank[i.bucket] < last]
        paid_before = sum(x.amount_cents for x in result.lines if rank[x.bucket] < last)
        assert paid_before == sum(i.outstanding_cents for i in before)


@given(
    amounts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**6),  # costs
            st.integers(min_value=0, max_value=10**6),  # interest
            st.integers(min_value=0, max_value=10**7),  # principal
            st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31)),  # due
        ),
        min_size=1,
        max_size=6,
    ),
    amount=st.integers(min_value=1, max_value=10**8),
)
def test_law_buckets_within_each_invoice(
    amounts: list[tuple[int, int, int, date]], amount: int
) -> None:
    """Art. 1194 c.c.: no invoice's principal is paid while its costs or interest are owed, and
    an invoice not yet due is reached only once every due one is cleared (art. 1193 c.2)."""
    paid_on = date(2025, 1, 1)
    items = []
    for n, (costs, interest, principal, due) in enumerate(amounts):
        number = str(n)
        items += [
            OpenItem(Bucket.COSTS, costs, due, invoice_number=number, issued=date(2023, 12, 1)),
            OpenItem(Bucket.INTEREST, interest, due, invoice_number=number),
            OpenItem(Bucket.PRINCIPAL, principal, due, invoice_number=number),
        ]
    result = allocate(Payment(paid_on, amount), items, AllocationOrder.LAW)
    assert result.allocated_cents + result.unallocated_cents == amount
    for n, (costs, interest, _, _) in enumerate(amounts):
        mine = [x for x in result.lines if x.invoice_number == str(n)]
        if any(x.bucket is Bucket.PRINCIPAL for x in mine):
            assert sum(x.amount_cents for x in mine if x.bucket is not Bucket.PRINCIPAL) == (
                costs + interest
            )
    owed_due = sum(c + i + p for c, i, p, due in amounts if due <= paid_on)
    paid_not_due = sum(
        x.amount_cents for x in result.lines if amounts[int(x.invoice_number or 0)][3] > paid_on
    )
    if paid_not_due:
        assert result.allocated_cents - paid_not_due == owed_due


def invoice_items(
    number: str, issued: date, due: date, costs: int, interest: int, principal: int
) -> list[OpenItem]:
    return [
        OpenItem(
            Bucket.COSTS, costs, due, invoice_number=number, issued=issued,
            cost_kind=CostKind.FLAT_COMPENSATION,
        ),
        OpenItem(Bucket.INTEREST, interest, due, invoice_number=number, issued=issued),
        OpenItem(Bucket.PRINCIPAL, principal, due, invoice_number=number, issued=issued),
    ]  # fmt: skip


def test_law_pays_the_oldest_due_invoice_whole_before_the_next() -> None:
    # art. 1194: the recorded legal cost of 150.00 before any capital; then art. 1193 c.2 by
    # invoice: invoice 1 (the older) takes its 40.00, 18.02 of interest and 291.98 of principal;
    # invoice 2 gets nothing while invoice 1 is owed (the mandate's order gave it 40 + 18.94)
    assert summary(AllocationOrder.LAW, 50000) == [
        ("costs", 0, 15000),
        ("costs", "1", 4000),
        ("interest", "1", 1802),
        ("principal", "1", 29198),
    ]
    # 1,300.00: invoice 1 cleared (1,058.02 with its costs), the rest to invoice 2's costs,
    # interest and principal in that order
    assert summary(AllocationOrder.LAW, 130000) == [
        ("costs", 0, 15000),
        ("costs", "1", 4000),
        ("interest", "1", 1802),
        ("principal", "1", 100000),
        ("costs", "2", 4000),
        ("interest", "2", 1894),
        ("principal", "2", 3304),
    ]


def test_the_debtor_designates_the_invoice_paid() -> None:
    # art. 1193 c.1: the debtor pays invoice 2; art. 1194 still holds within it (its 40.00 and
    # 18.94 of interest before its principal); the rest goes on by the law's order
    result = allocate(
        Payment(date(2025, 3, 31), 210000, "CRO 1", invoice_number="2"),
        ITEMS,
        AllocationOrder.LAW,
    )
    assert [
        (x.bucket.value, x.invoice_number or x.cost_index, x.amount_cents) for x in result.lines
    ] == [
        ("costs", "2", 4000),
        ("interest", "2", 1894),
        ("principal", "2", 200000),
        ("costs", 0, 4106),  # what is left: toward the recorded legal cost
    ]
    # the creditor's mandate order does not override the debtor's designation
    mandate = allocate(
        Payment(date(2025, 3, 31), 5000, invoice_number="2"),
        ITEMS,
        AllocationOrder.COSTS_INTEREST_PRINCIPAL,
    )
    assert [(x.invoice_number, x.amount_cents) for x in mandate.lines] == [("2", 4000), ("2", 1000)]


def test_a_due_invoice_before_an_older_one_not_yet_due() -> None:
    paid_on = date(2025, 3, 31)
    items = invoice_items(
        "OLD", date(2025, 1, 1), date(2025, 6, 30), 0, 0, 50000
    ) + invoice_items("NEW", date(2025, 2, 1), date(2025, 2, 28), 4000, 500, 10000)  # fmt: skip
    result = allocate(Payment(paid_on, 20000), items, AllocationOrder.LAW)
    assert [(x.invoice_number, x.bucket.value, x.amount_cents) for x in result.lines] == [
        ("NEW", "costs", 4000),
        ("NEW", "interest", 500),
        ("NEW", "principal", 10000),
        ("OLD", "principal", 5500),
    ]


def test_the_oldest_is_the_debt_that_arose_first() -> None:
    # both due: B was issued first, so it is the older debt although it fell due later
    items = invoice_items(
        "A", date(2025, 2, 1), date(2025, 2, 10), 0, 0, 10000
    ) + invoice_items("B", date(2025, 1, 5), date(2025, 3, 1), 0, 0, 10000)  # fmt: skip
    result = allocate(Payment(date(2025, 3, 31), 15000), items, AllocationOrder.LAW)
    assert [(x.invoice_number, x.amount_cents) for x in result.lines] == [("B", 10000), ("A", 5000)]


def test_pro_rata_when_no_criterion_separates_the_invoices() -> None:
    # same issue and due date: 200.00 shared 1:3 over what each owes (100.00 and 300.00 of
    # principal, 10.00 and 30.00 of interest): 50.00 and 150.00, interest first within each
    items = invoice_items(
        "X", date(2025, 1, 1), date(2025, 1, 31), 0, 1000, 10000
    ) + invoice_items("Y", date(2025, 1, 1), date(2025, 1, 31), 0, 3000, 30000)  # fmt: skip
    result = allocate(Payment(date(2025, 3, 31), 20000), items, AllocationOrder.LAW)
    assert [(x.invoice_number, x.bucket.value, x.amount_cents) for x in result.lines] == [
        ("X", "interest", 1000),
        ("X", "principal", 4000),
        ("Y", "interest", 3000),
        ("Y", "principal", 12000),
    ]
    # an odd cent goes to the largest remainder: 1.01 over 1:1 -> 0.51 to X (the number breaks
    # the tie), 0.50 to Y
    even = invoice_items(
        "Y", date(2025, 1, 1), date(2025, 1, 31), 0, 0, 100
    ) + invoice_items("X", date(2025, 1, 1), date(2025, 1, 31), 0, 0, 100)  # fmt: skip
    odd = allocate(Payment(date(2025, 3, 31), 101), even, AllocationOrder.LAW)
    assert sorted((x.invoice_number, x.amount_cents) for x in odd.lines) == [("X", 51), ("Y", 50)]


@pytest.mark.parametrize(
    ("value", "order"),
    [
        ("law", AllocationOrder.LAW),
        ("costs_interest_principal", AllocationOrder.COSTS_INTEREST_PRINCIPAL),
        ("principal_first", AllocationOrder.PRINCIPAL_FIRST),
    ],
)
def test_strategy_allocation_values_map_to_orders(value: str, order: AllocationOrder) -> None:
    from domain.strategy import Strategy, validate_strategy

    strategy = validate_strategy(Strategy(allocation=value))
    assert AllocationOrder(strategy.allocation) is order
    assert AllocationOrder(Strategy().allocation) is AllocationOrder.LAW
