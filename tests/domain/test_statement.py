"""domain.statement: the debtor's position on a day, walked payment by payment, by hand.

Rates used below (shipped in domain.rate_history): D.Lgs. 231/2002 11.15% for January-June
2025, 10.15% for July-December 2025; legal rate 2% for 2025. 2025 has 365 days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.allocation import AllocationOrder, Bucket, Payment
from domain.costs import FLAT_COMPENSATION_CENTS, Cost, CostError, CostKind
from domain.practice import DebtorKind, Invoice
from domain.rates import RateUnknown, published_rates
from domain.statement import Statement, StatementError, statement_at

BUSINESS = DebtorKind.BUSINESS
CONSUMER = DebtorKind.CONSUMER
RATES = published_rates()
MANDATE = AllocationOrder.COSTS_INTEREST_PRINCIPAL  # the order agreed in a mandate

INV_1 = Invoice("1", date(2025, 1, 1), date(2025, 1, 31), 100000)  # 1,000.00
INV_2 = Invoice("2", date(2025, 2, 1), date(2025, 2, 28), 200000)  # 2,000.00
TWO = [INV_2, INV_1]  # out of order on purpose: the oldest due date goes first
PAYMENTS = [
    Payment(date(2025, 4, 30), 100000, "second"),
    Payment(date(2025, 3, 31), 50000, "first"),
]


def lines(statement: Statement, number: str) -> list[tuple[date, date, int]]:
    (line,) = [x for x in statement.invoices if x.number == number]
    return [(s.start, s.end, s.amount_cents) for s in line.segments]


def allocated(statement: Statement) -> list[list[tuple[str, str | int | None, int]]]:
    return [
        [(x.bucket.value, x.invoice_number or x.cost_index, x.amount_cents) for x in p.lines]
        for p in statement.payments
    ]


def test_two_invoices_partial_payments_costs_interest_principal() -> None:
    # the order agreed in the mandate (all costs, all interest, then principal oldest first)
    s = statement_at(
        TWO, BUSINESS, PAYMENTS, [], None, date(2025, 5, 31), RATES, MANDATE
    )  # fmt: skip
    # Payment 1, 31 March 2025, 500.00. Interest up to and including 31 March:
    #   inv 1: 1 Feb-31 Mar, 59 days: 1000 x 0.1115 x 59/365 = 18.023287 -> 18.02
    #   inv 2: 1-31 Mar, 31 days:      2000 x 0.1115 x 31/365 = 18.939726 -> 18.94
    #   costs: 40.00 + 40.00 (both invoices unpaid at the end of their due date)
    #   500.00 -> 40 + 40 costs, 18.02 + 18.94 interest, 383.04 to inv 1's principal (-> 616.96)
    # Payment 2, 30 April 2025, 1,000.00. Interest 1-30 April, 30 days:
    #   inv 1: 616.96 x 0.1115 x 30/365 = 5.654058 -> 5.65
    #   inv 2: 2000 x 0.1115 x 30/365 = 18.328767 -> 18.33
    #   1,000.00 -> 5.65 + 18.33 interest, 616.96 clears inv 1, 359.06 to inv 2 (-> 1,640.94)
    # At 31 May 2025, interest 1-31 May, 31 days:
    #   inv 1: nothing (no principal left)
    #   inv 2: 1640.94 x 0.1115 x 31/365 = 15.539481 -> 15.54
    assert allocated(s) == [
        [
            ("costs", "1", 4000),
            ("costs", "2", 4000),
            ("interest", "1", 1802),
            ("interest", "2", 1894),
            ("principal", "1", 38304),
        ],
        [
            ("interest", "1", 565),
            ("interest", "2", 1833),
            ("principal", "1", 61696),
            ("principal", "2", 35906),
        ],
    ]
    assert [p.payment.reference for p in s.payments] == ["first", "second"]
    assert lines(s, "1") == [
        (date(2025, 2, 1), date(2025, 3, 31), 1802),
        (date(2025, 4, 1), date(2025, 4, 30), 565),
    ]
    assert lines(s, "2") == [
        (date(2025, 3, 1), date(2025, 3, 31), 1894),
        (date(2025, 4, 1), date(2025, 4, 30), 1833),
        (date(2025, 5, 1), date(2025, 5, 31), 1554),
    ]
    first, second = s.invoices
    assert (first.number, second.number) == ("1", "2")
    assert first.principal_outstanding_cents == 0
    assert first.interest_accrued_cents == 1802 + 565
    assert first.interest_outstanding_cents == 0
    assert first.compensation_due_cents == 4000 and first.compensation_outstanding_cents == 0
    assert first.total_outstanding_cents == 0
    assert second.principal_paid_cents == 35906
    assert second.principal_outstanding_cents == 164094
    assert second.interest_accrued_cents == 1894 + 1833 + 1554
    assert second.interest_outstanding_cents == 1554
    assert second.total_outstanding_cents == 164094 + 1554
    t = s.totals
    assert (t.principal_cents, t.principal_paid_cents, t.principal_outstanding_cents) == (
        300000,
        135906,
        164094,
    )
    assert (t.interest_accrued_cents, t.interest_paid_cents, t.interest_outstanding_cents) == (
        7648,
        6094,
        1554,
    )
    assert (t.costs_due_cents, t.costs_paid_cents, t.costs_outstanding_cents) == (8000, 8000, 0)
    # 3,000.00 + 76.48 + 80.00 due, 1,500.00 paid, 1,656.48 outstanding
    assert (t.total_due_cents, t.total_paid_cents, t.total_outstanding_cents) == (
        315648,
        150000,
        165648,
    )
    assert t.unallocated_cents == 0
    assert len(s.segments) == 5


def test_principal_first_option() -> None:
    s = statement_at(
        TWO, BUSINESS, PAYMENTS, [], None, date(2025, 5, 31), RATES, AllocationOrder.PRINCIPAL_FIRST
    )
    # Payment 1, 31 March: interest as above (18.02, 18.94); 500.00 all to inv 1's principal
    #   (-> 500.00 left)
    # Payment 2, 30 April: inv 1: 500 x 0.1115 x 30/365 = 4.582191 -> 4.58; inv 2: 18.33;
    #   1,000.00 -> 500.00 clears inv 1's principal, 500.00 to inv 2's (-> 1,500.00)
    # 31 May: inv 2: 1500 x 0.1115 x 31/365 = 14.204795 -> 14.20
    assert allocated(s) == [
        [("principal", "1", 50000)],
        [("principal", "1", 50000), ("principal", "2", 50000)],
    ]
    assert lines(s, "1") == [
        (date(2025, 2, 1), date(2025, 3, 31), 1802),
        (date(2025, 4, 1), date(2025, 4, 30), 458),
    ]
    assert lines(s, "2")[-1] == (date(2025, 5, 1), date(2025, 5, 31), 1420)
    t = s.totals
    assert t.principal_outstanding_cents == 150000
    # interest 18.02 + 4.58 + 18.94 + 18.33 + 14.20 = 74.07, none paid
    assert (t.interest_accrued_cents, t.interest_outstanding_cents) == (7407, 7407)
    assert (t.costs_due_cents, t.costs_outstanding_cents) == (8000, 8000)
    assert t.total_outstanding_cents == 150000 + 7407 + 8000


def test_business_owes_40_per_late_invoice_consumer_none() -> None:
    at = date(2025, 3, 31)
    business = statement_at(TWO, BUSINESS, [], [], None, at, RATES)
    assert [x.compensation_due_cents for x in business.invoices] == [4000, 4000]
    assert business.totals.costs_due_cents == 2 * FLAT_COMPENSATION_CENTS
    consumer = statement_at(TWO, CONSUMER, [], [], None, at, RATES)
    assert [x.compensation_due_cents for x in consumer.invoices] == [0, 0]
    assert consumer.totals.costs_due_cents == 0
    # consumer interest at the legal 2%:
    #   inv 1, 59 days: 1000 x 0.02 x 59/365 = 3.232877 -> 3.23
    #   inv 2, 31 days: 2000 x 0.02 x 31/365 = 3.397260 -> 3.40
    assert [x.interest_accrued_cents for x in consumer.invoices] == [323, 340]


def test_no_compensation_for_an_invoice_not_yet_due_or_paid_on_time() -> None:
    # on its due date an invoice is not late
    s = statement_at([INV_1], BUSINESS, [], [], None, date(2025, 1, 31), RATES)
    assert s.totals.costs_due_cents == 0 and s.totals.interest_accrued_cents == 0
    # paid in full on the due date: no interest, no compensation, ever
    paid = [Payment(date(2025, 1, 31), 100000)]
    s = statement_at([INV_1], BUSINESS, paid, [], None, date(2025, 12, 31), RATES)
    assert s.totals.total_due_cents == 100000
    assert s.totals.total_outstanding_cents == 0


def test_one_day_late_business_payment() -> None:
    # paid in full one day late (1 February): 1 day of interest, 1000 x 0.1115 x 1/365 =
    # 0.305479 -> 0.31, and the 40.00 compensation. 1,000.00 goes to 40.00 costs, 0.31
    # interest and 959.69 principal: 40.31 of principal stays outstanding, and accrues again
    # from 2 February: to 28 February, 27 days: 40.31 x 0.1115 x 27/365 = 0.332475 -> 0.33
    paid = [Payment(date(2025, 2, 1), 100000)]
    s = statement_at([INV_1], BUSINESS, paid, [], None, date(2025, 2, 28), RATES)
    assert allocated(s) == [
        [("costs", "1", 4000), ("interest", "1", 31), ("principal", "1", 95969)]
    ]
    (line,) = s.invoices
    assert line.principal_outstanding_cents == 4031
    assert [seg.amount_cents for seg in line.segments] == [31, 33]
    assert line.total_outstanding_cents == 4031 + 33


def test_recorded_costs_are_due_from_their_date() -> None:
    costs = [
        Cost(date(2025, 3, 1), 15000, CostKind.LEGAL, "ricorso per decreto ingiuntivo"),
        Cost(date(2025, 6, 1), 2500, CostKind.COLLECTION, "visura"),  # after the payment
        Cost(date(2026, 1, 1), 9900, CostKind.COLLECTION, "after at"),  # after `at`
    ]
    paid = [Payment(date(2025, 3, 31), 25000)]
    s = statement_at([INV_1], BUSINESS, paid, costs, None, date(2025, 6, 30), RATES)
    # 31 March, the law's order: the recorded legal cost 150.00 first (art. 1194 c.c.: costs
    # before capital), then invoice 1's compensation 40.00 and interest 18.02 (as in the
    # two-invoice case), then 41.98 of its principal
    assert allocated(s) == [
        [
            ("costs", 0, 15000),
            ("costs", "1", 4000),
            ("interest", "1", 1802),
            ("principal", "1", 4198),
        ]
    ]
    assert [(c.index, c.paid_cents, c.outstanding_cents) for c in s.costs] == [
        (0, 15000, 0),
        (1, 0, 2500),
    ]
    assert s.totals.costs_due_cents == 4000 + 15000 + 2500
    assert s.totals.costs_outstanding_cents == 2500


def test_consumer_switches_to_231_on_filing_in_a_statement() -> None:
    # 5,000.00 consumer invoice due 31 March 2025, claim filed 15 May 2025:
    # 1 April-14 May, 44 days at 2%: 5000 x 0.02 x 44/365 = 12.054795 -> 12.05
    # 15-31 May, 17 days at 11.15%: 5000 x 0.1115 x 17/365 = 25.965753 -> 25.97
    inv = Invoice("C1", date(2025, 3, 1), date(2025, 3, 31), 500000)
    s = statement_at([inv], CONSUMER, [], [], date(2025, 5, 15), date(2025, 5, 31), RATES)
    assert [(x.rate_kind.value, x.days, x.amount_cents) for x in s.segments] == [
        ("legal", 44, 1205),
        ("late_payment_231", 17, 2597),
    ]
    assert s.totals.total_outstanding_cents == 500000 + 1205 + 2597


def test_overpayment_is_reported_not_allocated() -> None:
    paid = [Payment(date(2025, 1, 31), 100100)]
    s = statement_at([INV_1], BUSINESS, paid, [], None, date(2025, 3, 1), RATES)
    assert s.totals.unallocated_cents == 100
    assert s.totals.total_paid_cents == 100000
    assert s.totals.total_outstanding_cents == 0


def test_payments_after_at_are_left_out() -> None:
    s = statement_at(TWO, BUSINESS, PAYMENTS, [], None, date(2025, 4, 15), RATES)
    assert [p.payment.reference for p in s.payments] == ["first"]


def test_date_before_the_first_invoice_is_an_error() -> None:
    with pytest.raises(StatementError, match="before the first invoice"):
        statement_at(TWO, BUSINESS, [], [], None, date(2024, 12, 31), RATES)


def test_payment_before_the_first_invoice_is_an_error() -> None:
    with pytest.raises(StatementError, match="payment"):
        statement_at(
            TWO, BUSINESS, [Payment(date(2024, 12, 1), 100)], [], None, date(2025, 3, 1), RATES
        )


@pytest.mark.parametrize(
    ("invoices", "message"),
    [
        ([], "at least one invoice"),
        ([INV_1, Invoice("1", date(2025, 1, 1), date(2025, 2, 1), 5)], "unique"),
        ([Invoice("X", date(2025, 1, 1), date(2025, 2, 1), -5)], "negative"),
    ],
)
def test_bad_invoices_are_errors(invoices: list[Invoice], message: str) -> None:
    with pytest.raises(StatementError, match=message):
        statement_at(invoices, BUSINESS, [], [], None, date(2025, 3, 1), RATES)


def test_no_rate_known_is_an_error_not_zero() -> None:
    # business interest for July 2026: the second half of 2026 is not shipped
    inv = Invoice("9", date(2026, 5, 1), date(2026, 5, 31), 100000)
    with pytest.raises(RateUnknown, match="2026-07-01"):
        statement_at([inv], BUSINESS, [], [], None, date(2026, 7, 15), RATES)
    # a fully paid invoice needs no rate afterwards
    paid = [Payment(date(2026, 5, 31), 100000)]
    s = statement_at([inv], BUSINESS, paid, [], None, date(2027, 6, 1), RATES)
    assert s.totals.total_outstanding_cents == 0


def test_recording_the_flat_compensation_is_refused() -> None:
    with pytest.raises(CostError):
        Cost(date(2025, 1, 1), 4000, CostKind.FLAT_COMPENSATION, "double")
    with pytest.raises(CostError):
        Cost(date(2025, 1, 1), 0, CostKind.LEGAL, "zero")


def test_statement_survives_the_temporal_data_converter() -> None:
    costs = [Cost(date(2025, 3, 1), 15000, CostKind.LEGAL, "ricorso")]
    s = statement_at(TWO, BUSINESS, PAYMENTS, costs, None, date(2025, 5, 31), RATES)
    converter = pydantic_data_converter.payload_converter
    (payload,) = converter.to_payloads([s])
    (back,) = converter.from_payloads([payload], [Statement])
    assert back == s
    assert back.segments[0].rate == s.segments[0].rate


# --- properties ------------------------------------------------------------------------------

FIRST, LAST = date(2019, 1, 1), date(2026, 6, 30)  # every day here has both rates shipped
days = st.dates(min_value=FIRST, max_value=LAST)


@st.composite
def practices(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment], list[Cost]]:
    invoices = []
    for n in range(draw(st.integers(min_value=1, max_value=3))):
        issue = draw(days)
        due = min(LAST, issue + timedelta(days=draw(st.integers(min_value=0, max_value=120))))
        amount = draw(st.integers(min_value=0, max_value=10**8))
        invoices.append(Invoice(str(n), issue, due, amount))
    first = min(i.issue_date for i in invoices)
    later = st.dates(min_value=first, max_value=LAST)
    payments = draw(
        st.lists(st.builds(Payment, later, st.integers(min_value=1, max_value=10**8)), max_size=4)
    )
    costs = draw(
        st.lists(
            st.builds(
                Cost,
                later,
                st.integers(min_value=1, max_value=10**6),
                st.sampled_from([CostKind.COLLECTION, CostKind.LEGAL]),
                st.just("cost"),
            ),
            max_size=2,
        )
    )
    return invoices, payments, costs


@settings(max_examples=200, deadline=None)
@given(
    practice=practices(),
    kind=st.sampled_from(list(DebtorKind)),
    filed=st.none() | days,
    order=st.sampled_from(list(AllocationOrder)),
    data=st.data(),
)
def test_statement_properties(
    practice: tuple[list[Invoice], list[Payment], list[Cost]],
    kind: DebtorKind,
    filed: date | None,
    order: AllocationOrder,
    data: st.DataObject,
) -> None:
    invoices, payments, costs = practice
    first = min(i.issue_date for i in invoices)
    at1 = data.draw(st.dates(min_value=first, max_value=LAST))
    at2 = data.draw(st.dates(min_value=at1, max_value=LAST))
    s1 = statement_at(invoices, kind, payments, costs, filed, at1, RATES, order)
    s2 = statement_at(invoices, kind, payments, costs, filed, at2, RATES, order)
    for s in (s1, s2):
        t = s.totals
        # total outstanding = due - paid, bucket by bucket and overall
        assert t.total_outstanding_cents == t.total_due_cents - t.total_paid_cents
        assert t.total_due_cents == t.principal_cents + t.interest_accrued_cents + t.costs_due_cents
        assert t.total_outstanding_cents == (
            t.principal_outstanding_cents + t.interest_outstanding_cents + t.costs_outstanding_cents
        )
        assert t.total_outstanding_cents == sum(
            x.total_outstanding_cents for x in s.invoices
        ) + sum(c.outstanding_cents for c in s.costs)
        # nothing is paid beyond what is due, nor allocated beyond what was paid
        for x in s.invoices:
            assert 0 <= x.principal_outstanding_cents <= x.principal_cents
            assert 0 <= x.interest_outstanding_cents
            assert 0 <= x.compensation_outstanding_cents
            if x.principal_cents == 0:  # zero principal accrues zero interest
                assert x.interest_accrued_cents == 0 and x.segments == []
            if kind is DebtorKind.CONSUMER:
                assert x.compensation_due_cents == 0
        for c in s.costs:
            assert 0 <= c.outstanding_cents <= c.amount_cents
        for p in s.payments:
            assert p.allocated_cents + p.unallocated_cents == p.payment.amount_cents
            assert all(line.amount_cents > 0 for line in p.lines)
        paid_in = sum(p.payment.amount_cents for p in s.payments)
        assert t.total_paid_cents + t.unallocated_cents == paid_in
        assert sum(p.to_bucket(Bucket.PRINCIPAL) for p in s.payments) == t.principal_paid_cents
    # interest is monotonic in the date (same payments)
    assert s1.totals.interest_accrued_cents <= s2.totals.interest_accrued_cents
    for a, b in zip(s1.invoices, s2.invoices, strict=True):
        assert a.interest_accrued_cents <= b.interest_accrued_cents


def test_a_recorded_cost_command_becomes_a_cost() -> None:
    from domain.practice import CostCmd

    cmd = CostCmd(amount_cents=15000, incurred_on=date(2025, 3, 1), kind="collection")
    cost = Cost(cmd.incurred_on, cmd.amount_cents, CostKind(cmd.kind))
    s = statement_at([INV_1], CONSUMER, [], [cost], None, date(2025, 3, 31), RATES)
    assert s.totals.costs_due_cents == 15000
    assert s.costs[0].kind is CostKind.COLLECTION
