"""domain.account: reductions of the claim, interest not claimed, and the missing rate's name.

Rates below (shipped): D.Lgs. 231/2002 11.15% January-June 2025; 2025 has 365 days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.account import Account, MissingRate, Reduction, account_at
from domain.allocation import AllocationOrder, Payment
from domain.costs import Cost, CostKind
from domain.practice import DebtorKind, Invoice
from domain.rates import RateKind, RateTable, published_rates
from domain.statement import StatementError

BUSINESS = DebtorKind.BUSINESS
CONSUMER = DebtorKind.CONSUMER
RATES = published_rates()
MANDATE = AllocationOrder.COSTS_INTEREST_PRINCIPAL  # the order agreed in a mandate

INV_1 = Invoice("1", date(2025, 1, 1), date(2025, 1, 31), 100000)  # 1,000.00
INV_2 = Invoice("2", date(2025, 2, 1), date(2025, 2, 28), 200000)  # 2,000.00


def segments(account: Account, number: str) -> list[tuple[date, date, int, int]]:
    (line,) = [x for x in account.statement.invoices if x.number == number]
    return [(s.start, s.end, s.principal_cents, s.amount_cents) for s in line.segments]


def test_a_reduction_is_a_credit_note_on_principal_from_its_date() -> None:
    account = account_at(
        [INV_1], BUSINESS, [], [], [Reduction(date(2025, 3, 31), 20000)], None,
        date(2025, 4, 30), RATES,
    )  # fmt: skip
    # 1 Feb-31 Mar, 59 days on 1,000.00: 1000 x 0.1115 x 59/365 = 18.023287 -> 18.02
    # reduced by 200.00 on 31 March (that day still accrues on 1,000.00)
    # 1-30 Apr, 30 days on 800.00: 800 x 0.1115 x 30/365 = 7.331507 -> 7.33
    assert segments(account, "1") == [
        (date(2025, 2, 1), date(2025, 3, 31), 100000, 1802),
        (date(2025, 4, 1), date(2025, 4, 30), 80000, 733),
    ]
    (line,) = account.statement.invoices
    assert line.principal_cents == 80000  # net of the reduction
    assert line.principal_paid_cents == 0
    assert line.principal_outstanding_cents == 80000
    assert account.reduced_cents == {"1": 20000}
    t = account.statement.totals
    # 800.00 + 25.35 interest + 40.00 compensation
    assert (t.principal_outstanding_cents, t.interest_outstanding_cents) == (80000, 2535)
    assert (t.costs_outstanding_cents, t.total_outstanding_cents) == (4000, 86535)
    assert account.overpaid_cents == 0


def test_a_reduction_goes_oldest_first_on_what_is_still_unpaid() -> None:
    account = account_at(
        [INV_2, INV_1],
        BUSINESS,
        [Payment(date(2025, 3, 31), 50000, "first")],
        [],
        [Reduction(date(2025, 4, 30), 70000)],
        None,
        date(2025, 5, 31),
        RATES,
        MANDATE,
    )
    # 31 March, 500.00 (the mandate's order): 40 + 40 compensation, 18.02 + 18.94 interest,
    #   383.04 to inv 1 (-> 616.96)
    # 30 April: interest 5.65 (inv 1 on 616.96) and 18.33 (inv 2 on 2,000.00) for 1-30 April;
    #   the reduction of 700.00 clears inv 1's 616.96 and takes 83.04 from inv 2 (-> 1,916.96)
    # May, 31 days on 1,916.96: 1916.96 x 0.1115 x 31/365 = 18.153349 -> 18.15
    (applied,) = account.reductions
    assert [(x.invoice_number, x.amount_cents) for x in applied.lines] == [
        ("1", 61696),
        ("2", 8304),
    ]
    assert applied.unapplied_cents == 0
    assert account.reduced_cents == {"1": 61696, "2": 8304}
    first, second = account.statement.invoices
    assert (first.principal_cents, first.principal_paid_cents) == (100000 - 61696, 38304)
    assert first.principal_outstanding_cents == 0
    assert segments(account, "2")[-1] == (date(2025, 5, 1), date(2025, 5, 31), 191696, 1815)
    assert second.principal_outstanding_cents == 191696
    t = account.statement.totals
    assert t.interest_outstanding_cents == 565 + 1833 + 1815
    assert t.total_outstanding_cents == 191696 + 565 + 1833 + 1815


def test_a_reduction_beyond_the_unpaid_principal_is_owed_back() -> None:
    account = account_at(
        [INV_1], CONSUMER, [Payment(date(2025, 2, 10), 100000, "all")], [],
        [Reduction(date(2025, 3, 1), 30000)], None, date(2025, 3, 31), RATES,
        claim_interest=False,
    )  # fmt: skip
    assert account.overpaid_cents == 30000
    assert account.statement.totals.total_outstanding_cents == 0


def test_same_day_reduction_comes_before_the_payment() -> None:
    day = date(2025, 3, 1)
    account = account_at(
        [INV_1], CONSUMER, [Payment(day, 80000, "rest")], [], [Reduction(day, 20000)], None,
        day, RATES, claim_interest=False,
    )  # fmt: skip
    # reduced to 800.00 first, then paid 800.00: nothing left and nothing over
    assert account.statement.totals.total_outstanding_cents == 0
    assert account.overpaid_cents == 0


def test_without_interest_only_principal_and_recorded_costs_and_no_rate_is_needed() -> None:
    cost = Cost(date(2025, 3, 1), 5000, CostKind.COLLECTION)
    account = account_at(
        [INV_1, INV_2],
        BUSINESS,
        [Payment(date(2025, 4, 1), 30000, "p")],
        [cost],
        [],
        None,
        date(2030, 1, 1),  # no rate is known in 2030: none is looked up
        RateTable(),
        MANDATE,
        claim_interest=False,
    )
    t = account.statement.totals
    assert t.interest_accrued_cents == 0 and account.statement.segments == []
    # no EUR 40: the 300.00 pays the 50.00 cost, then 250.00 of inv 1's principal
    assert t.costs_due_cents == 5000 and t.costs_outstanding_cents == 0
    assert t.principal_outstanding_cents == 300000 - 25000
    assert t.total_outstanding_cents == 275000
    assert not account.claim_interest


def test_a_missing_rate_names_its_kind_and_day() -> None:
    with pytest.raises(MissingRate) as caught:
        account_at([INV_1], BUSINESS, [], [], [], None, date(2026, 8, 31), RATES)
    assert caught.value.kind is RateKind.LATE_PAYMENT_231
    assert caught.value.day == date(2026, 7, 1)
    # and through the walk (a reduction present) the same
    with pytest.raises(MissingRate) as caught:
        account_at(
            [INV_1], CONSUMER, [], [], [Reduction(date(2025, 3, 1), 100)], None,
            date(2027, 1, 5), RATES,
        )  # fmt: skip
    assert (caught.value.kind, caught.value.day) == (RateKind.LEGAL, date(2027, 1, 1))


def test_a_reduction_before_the_first_invoice_is_an_error() -> None:
    with pytest.raises(StatementError, match="reduction of 2024-12-01"):
        account_at(
            [INV_1], CONSUMER, [], [], [Reduction(date(2024, 12, 1), 100)], None,
            date(2025, 3, 1), RATES,
        )  # fmt: skip


# --- random practices ----------------------------------------------------------------------

FIRST, LAST = date(2019, 1, 1), date(2026, 6, 30)
days = st.dates(min_value=FIRST, max_value=LAST)


@st.composite
def practices(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment], list[Cost]]:
    invoices = []
    for n in range(draw(st.integers(min_value=1, max_value=3))):
        issue = draw(days)
        due = min(LAST, issue + timedelta(days=draw(st.integers(min_value=0, max_value=120))))
        invoices.append(Invoice(str(n), issue, due, draw(st.integers(0, 10**8))))
    first = min(i.issue_date for i in invoices)
    later = st.dates(min_value=first, max_value=LAST)
    payments = draw(st.lists(st.builds(Payment, later, st.integers(1, 10**8)), max_size=4))
    costs = draw(
        st.lists(
            st.builds(
                Cost,
                later,
                st.integers(1, 10**6),
                st.sampled_from([CostKind.COLLECTION, CostKind.LEGAL]),
            ),
            max_size=2,
        )
    )
    return invoices, payments, costs


@settings(max_examples=100, deadline=None)
@given(practice=practices(), data=st.data())
def test_reductions_keep_the_books_balanced(
    practice: tuple[list[Invoice], list[Payment], list[Cost]], data: st.DataObject
) -> None:
    invoices, payments, costs = practice
    first = min(i.issue_date for i in invoices)
    reductions = data.draw(
        st.lists(
            st.builds(Reduction, st.dates(min_value=first, max_value=LAST), st.integers(1, 10**8)),
            max_size=3,
        )
    )
    at = data.draw(st.dates(min_value=first, max_value=LAST))
    claim = data.draw(st.booleans())
    account = account_at(
        invoices, BUSINESS, payments, costs, reductions, None, at, RATES, claim_interest=claim
    )
    s = account.statement
    t = s.totals
    assert t.total_outstanding_cents == t.total_due_cents - t.total_paid_cents
    reduced_in = sum(r.reduction.amount_cents for r in account.reductions)
    assert reduced_in == sum(account.reduced_cents.values()) + sum(
        r.unapplied_cents for r in account.reductions
    )
    assert t.principal_cents == sum(i.amount_cents for i in invoices) - sum(
        account.reduced_cents.values()
    )
    for line in s.invoices:
        assert 0 <= line.principal_outstanding_cents <= line.principal_cents
        assert line.principal_paid_cents >= 0
    if not claim:
        assert t.interest_accrued_cents == 0 and t.costs_due_cents == sum(
            c.amount_cents for c in costs if c.date <= at
        )
