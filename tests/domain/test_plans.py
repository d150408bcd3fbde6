"""domain.plans: check_proposal's errors name the field, outside_bounds gives one reason per bound
crossed (and none exactly at a bound), match_payments fills instalments in date order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.plans import (
    MAX_PLAN_INSTALMENTS,
    Instalment,
    PlanBounds,
    ProposalCmd,
    ProposalError,
    ProposalKind,
    check_proposal,
    equal_instalments,
    match_payments,
    outside_bounds,
    schedule,
)

TODAY = date(2026, 11, 24)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def plan(
    *amounts: int, down: int | None = None, dates: list[date] | None = None, start: int = 30
) -> ProposalCmd:
    """A plan of monthly instalments from `start` days on, with an optional down payment today."""
    due = dates or [day(start + 30 * i) for i in range(len(amounts))]
    return ProposalCmd(
        proposal_id="p1",
        kind=ProposalKind.PLAN,
        instalments=[Instalment(d, a) for d, a in zip(due, amounts, strict=True)],
        down_payment=Instalment(TODAY, down) if down is not None else None,
    )


def settlement(cents: int | None, by: date | None = day(15)) -> ProposalCmd:
    return ProposalCmd(
        proposal_id="s1", kind=ProposalKind.SETTLEMENT, settlement_cents=cents, settle_by=by
    )


def error(proposal: ProposalCmd, balance: int) -> ProposalError:
    with pytest.raises(ProposalError) as info:
        check_proposal(proposal, balance, TODAY)
    return info.value


# --- check_proposal ---------------------------------------------------------------------------


def test_a_plan_adding_up_to_the_balance_is_a_deal() -> None:
    check_proposal(plan(40_000, 40_000, 20_000), 100_000, TODAY)
    check_proposal(plan(30_000, 30_000, down=40_000), 100_000, TODAY)


def test_a_plan_due_today_is_not_in_the_past() -> None:
    check_proposal(plan(10_000, dates=[TODAY]), 10_000, TODAY)


def test_a_plan_without_instalments_names_instalments() -> None:
    assert error(plan(), 10_000).field_name == "instalments"
    # a down payment alone is not a plan
    assert error(plan(down=10_000), 10_000).field_name == "instalments"


@pytest.mark.parametrize(
    "dates",
    [
        [day(60), day(30)],  # decreasing
        [day(30), day(30)],  # the same day twice
        [day(30), day(90), day(60)],  # out of order later on
    ],
)
def test_dates_not_increasing_name_instalments(dates: list[date]) -> None:
    amounts = [10_000] * len(dates)
    failure = error(plan(*amounts, dates=dates), sum(amounts))
    assert failure.field_name == "instalments"
    assert "increase" in failure.message


def test_a_down_payment_after_the_first_instalment_is_out_of_order() -> None:
    proposal = plan(10_000, dates=[day(10)])
    proposal.down_payment = Instalment(day(20), 5_000)
    failure = error(proposal, 15_000)
    assert failure.field_name == "instalments"
    assert "increase" in failure.message


def test_amounts_not_adding_up_name_instalments_with_both_totals() -> None:
    failure = error(plan(40_000, 40_000), 100_000)
    assert failure.field_name == "instalments"
    assert "80000" in failure.message and "100000" in failure.message
    # too much is as wrong as too little
    assert error(plan(60_000, 60_000), 100_000).field_name == "instalments"
    # the down payment counts toward the total
    assert error(plan(50_000, 50_000, down=10_000), 100_000).field_name == "instalments"


def test_an_instalment_in_the_past_names_instalments() -> None:
    failure = error(plan(5_000, 5_000, dates=[day(-1), day(30)]), 10_000)
    assert failure.field_name == "instalments"
    assert "past" in failure.message


def test_a_down_payment_in_the_past_names_down_payment() -> None:
    proposal = plan(5_000)
    proposal.down_payment = Instalment(day(-1), 5_000)
    failure = error(proposal, 10_000)
    assert failure.field_name == "down_payment"
    assert "past" in failure.message


@pytest.mark.parametrize("amount", [0, -100])
def test_amounts_must_be_positive(amount: int) -> None:
    assert error(plan(10_000, amount), 10_000 + amount).field_name == "instalments"
    proposal = plan(10_000)
    proposal.down_payment = Instalment(TODAY, amount)
    assert error(proposal, 10_000 + amount).field_name == "down_payment"


def test_a_settlement_below_the_balance_is_a_deal() -> None:
    check_proposal(settlement(99_999), 100_000, TODAY)
    check_proposal(settlement(1, by=TODAY), 100_000, TODAY)


@pytest.mark.parametrize("cents", [100_000, 100_001, 0, -1])
def test_a_settlement_not_below_the_balance_names_settlement(cents: int) -> None:
    failure = error(settlement(cents), 100_000)
    assert failure.field_name == "settlement"


def test_a_settlement_without_amount_or_date_names_settlement() -> None:
    assert error(settlement(80_000, by=None), 100_000).field_name == "settlement"
    assert error(settlement(None), 100_000).field_name == "settlement"


def test_a_settlement_date_in_the_past_names_settle_by() -> None:
    failure = error(settlement(80_000, by=day(-1)), 100_000)
    assert failure.field_name == "settle_by"
    assert "past" in failure.message


def test_the_error_reads_field_colon_message() -> None:
    failure = error(settlement(80_000, by=day(-1)), 100_000)
    assert str(failure) == f"{failure.field_name}: {failure.message}"


def test_schedule_puts_the_down_payment_first() -> None:
    proposal = plan(30_000, 30_000, down=40_000)
    assert [i.amount_cents for i in schedule(proposal)] == [40_000, 30_000, 30_000]
    assert schedule(plan(10_000)) == [Instalment(day(30), 10_000)]


# --- outside_bounds ---------------------------------------------------------------------------

BOUNDS = PlanBounds(
    max_instalments=3,
    min_instalment_cents=5_000,
    max_discount_percent=20,
    min_down_payment_percent=0,
)


def test_within_every_bound_needs_no_approval() -> None:
    assert outside_bounds(plan(10_000, 10_000, 10_000), 30_000, BOUNDS) == []
    assert outside_bounds(settlement(80_000), 100_000, BOUNDS) == []


def test_more_instalments_than_allowed() -> None:
    reasons = outside_bounds(plan(*[10_000] * 4), 40_000, BOUNDS)
    assert reasons == ["more than 3 instalments"]
    # the down payment is not an instalment
    assert outside_bounds(plan(10_000, 10_000, 10_000, down=10_000), 40_000, BOUNDS) == []


def test_an_instalment_below_the_minimum() -> None:
    reasons = outside_bounds(plan(10_000, 4_999), 14_999, BOUNDS)
    assert reasons == ["an instalment below 5000 cents"]
    assert outside_bounds(plan(10_000, 5_000), 15_000, BOUNDS) == []


def test_a_down_payment_below_the_minimum_share() -> None:
    bounds = PlanBounds(min_down_payment_percent=10, min_instalment_cents=1)
    # 10% of 100000 is 10000: exactly at the bound is fine, one cent less is not
    assert outside_bounds(plan(90_000, down=10_000), 100_000, bounds) == []
    assert outside_bounds(plan(90_001, down=9_999), 100_000, bounds) == ["a down payment below 10%"]
    # no down payment at all when one is required
    assert outside_bounds(plan(100_000), 100_000, bounds) == ["a down payment below 10%"]


def test_a_discount_above_the_maximum() -> None:
    # 20% off 100000 is 80000: exactly at the bound is fine, one cent less is not
    assert outside_bounds(settlement(80_000), 100_000, BOUNDS) == []
    assert outside_bounds(settlement(79_999), 100_000, BOUNDS) == ["a discount above 20%"]


def test_every_bound_crossed_is_a_reason() -> None:
    bounds = PlanBounds(max_instalments=1, min_instalment_cents=5_000, min_down_payment_percent=50)
    reasons = outside_bounds(plan(1_000, 1_000, down=100), 2_100, bounds)
    assert reasons == [
        "more than 1 instalments",
        "an instalment below 5000 cents",
        "a down payment below 50%",
    ]


def test_settlements_ignore_the_plan_bounds_and_plans_the_discount() -> None:
    strict = PlanBounds(max_instalments=0, min_instalment_cents=10**9, max_discount_percent=0)
    assert outside_bounds(settlement(100_000 - 1), 100_000, strict) == ["a discount above 0%"]
    loose = PlanBounds(max_discount_percent=0)
    assert outside_bounds(plan(50_000, 50_000), 100_000, loose) == []


# --- match_payments ---------------------------------------------------------------------------

ITEMS = [Instalment(day(0), 10_000), Instalment(day(30), 10_000), Instalment(day(60), 5_000)]


def test_nothing_paid_leaves_every_instalment_due() -> None:
    states = match_payments(ITEMS, 0)
    assert [s.paid_cents for s in states] == [0, 0, 0]
    assert [s.outstanding_cents for s in states] == [10_000, 10_000, 5_000]
    assert [(s.due_date, s.amount_cents) for s in states] == [
        (i.due_date, i.amount_cents) for i in ITEMS
    ]


def test_a_short_payment_leaves_the_rest_of_the_instalment_due() -> None:
    states = match_payments(ITEMS, 7_500)
    assert [s.paid_cents for s in states] == [7_500, 0, 0]
    assert states[0].outstanding_cents == 2_500


def test_an_overpayment_goes_to_the_next_instalment() -> None:
    states = match_payments(ITEMS, 12_000)
    assert [s.paid_cents for s in states] == [10_000, 2_000, 0]
    assert [s.outstanding_cents for s in states] == [0, 8_000, 5_000]


def test_paying_everything_and_more_fills_every_instalment_only() -> None:
    assert [s.paid_cents for s in match_payments(ITEMS, 25_000)] == [10_000, 10_000, 5_000]
    assert [s.paid_cents for s in match_payments(ITEMS, 99_000)] == [10_000, 10_000, 5_000]


def test_no_instalments_no_states() -> None:
    assert match_payments([], 1_000) == []


amounts_st = st.lists(st.integers(min_value=1, max_value=10**9), max_size=24)


@given(amounts=amounts_st, paid=st.integers(min_value=0, max_value=3 * 10**10))
def test_the_paid_shares_add_up_to_what_was_paid_up_to_the_total(
    amounts: list[int], paid: int
) -> None:
    items = [Instalment(day(i), a) for i, a in enumerate(amounts)]
    states = match_payments(items, paid)
    assert sum(s.paid_cents for s in states) == min(paid, sum(amounts))
    assert len(states) == len(items)
    for state, item in zip(states, items, strict=True):
        assert 0 <= state.paid_cents <= item.amount_cents
        assert state.outstanding_cents == item.amount_cents - state.paid_cents
    # instalments fill in date order: once one is short, every later one is untouched
    short = [s.outstanding_cents > 0 for s in states]
    for i, is_short in enumerate(short):
        if is_short:
            assert all(s.paid_cents == 0 for s in states[i + 1 :])
            break


# --- a plan from a number of instalments and a first date (the debtor's page) ------------------


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (
            date(2027, 1, 31),
            [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)],
        ),
        (
            date(2028, 1, 30),
            [date(2028, 1, 30), date(2028, 2, 29), date(2028, 3, 30), date(2028, 4, 30)],
        ),
        (
            date(2026, 11, 15),
            [date(2026, 11, 15), date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15)],
        ),
    ],
)
def test_monthly_dates_keep_the_day_or_the_months_last(first: date, expected: list[date]) -> None:
    assert [i.due_date for i in equal_instalments(4, first, 100_000)] == expected


def test_equal_amounts_with_the_cents_left_on_the_last() -> None:
    assert [i.amount_cents for i in equal_instalments(3, date(2027, 1, 1), 100_000)] == [
        33_333,
        33_333,
        33_334,
    ]


@pytest.mark.parametrize(("count", "balance"), [(0, 1000), (121, 100_000), (5, 4)])
def test_no_plan_names_the_count(count: int, balance: int) -> None:
    with pytest.raises(ProposalError) as exc:
        equal_instalments(count, date(2027, 1, 1), balance)
    assert exc.value.field_name == "instalment_count"


@given(
    st.integers(min_value=1, max_value=MAX_PLAN_INSTALMENTS),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=1, max_value=10**11),
)
def test_equal_instalments_pay_the_balance_on_increasing_dates(
    count: int, first: date, balance: int
) -> None:
    assume(balance >= count)
    items = equal_instalments(count, first, balance)
    assert len(items) == count
    assert sum(i.amount_cents for i in items) == balance
    assert all(i.amount_cents > 0 for i in items)
    # equal but for the last, which carries fewer cents than there are instalments more
    assert len({i.amount_cents for i in items[:-1]}) <= 1
    assert 0 <= items[-1].amount_cents - items[0].amount_cents < count
    dates = [i.due_date for i in items]
    assert dates[0] == first and all(a < b for a, b in zip(dates, dates[1:], strict=False))
    assert all(d.day == first.day or d.day < first.day for d in dates)
    # a plan built this way is a deal the checks accept
    check_proposal(
        ProposalCmd(proposal_id="p", kind=ProposalKind.PLAN, instalments=items), balance, first
    )
