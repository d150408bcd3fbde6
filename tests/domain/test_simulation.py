"""The simulator's pure half: the behaviour model's file, the seeded answers, the portfolio and
the figures (domain/simulation.py, domain/simulation_kpis.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.practice import DebtorKind
from domain.simulation import Behaviour, ModelError, Move, answer, load_model, portfolio
from domain.simulation_kpis import Costs, Payment, PracticeResult, kpis


def test_a_model_names_its_wrong_field() -> None:
    with pytest.raises(ModelError) as wrong:
        load_model('{"segments": {"business": {"pay": 1.5}}}')
    assert wrong.value.field == "segments.business.pay"
    with pytest.raises(ModelError) as unknown:
        load_model('{"default": {"speed": 1}}')
    assert unknown.value.field == "default.speed"
    with pytest.raises(ModelError) as kind:
        load_model('{"segments": {"martian": {}}}')
    assert kind.value.field == "segments.martian"
    with pytest.raises(ModelError) as bounds:
        load_model('{"min_cents": 9000, "max_cents": 100}')
    assert bounds.value.field == "max_cents"
    with pytest.raises(ModelError):
        load_model("{not json")
    model = load_model('{"segments": {"business": {"pay": 0.5}}, "horizon_days": 90}')
    assert model.behaviour(DebtorKind.BUSINESS).pay == 0.5
    assert model.behaviour(DebtorKind.CONSUMER) == Behaviour()
    assert model.horizon_days == 90


def test_an_answer_depends_only_on_seed_practice_and_contact() -> None:
    behaviour = Behaviour(reach=0.5, pay=0.2, promise=0.2, plan=0.2, dispute=0.1)
    first = [answer(behaviour, 9, n, c, True) for n in range(50) for c in range(1, 6)]
    # drawn again in another order: the same answers
    again = {(n, c): answer(behaviour, 9, n, c, True) for c in range(5, 0, -1) for n in range(50)}
    assert first == [again[(n, c)] for n in range(50) for c in range(1, 6)]
    moves = {a.move for a in first}
    assert moves == set(Move)
    assert [answer(behaviour, 10, n, 1, True) for n in range(50)] != first[::5]
    # a letter is no conversation: nobody to reach, nothing to promise
    letters = {answer(behaviour, 9, n, 1, False).move for n in range(200)}
    assert letters == {Move.PAY, Move.DISPUTE, Move.NOTHING}
    certain = Behaviour(reach=1, pay=1)
    assert answer(certain, 1, 1, 1, True).move == Move.PAY


def test_the_portfolio_is_the_seeds() -> None:
    model = load_model('{"business_share": 0.5, "min_cents": 1000, "max_cents": 2000}')
    one = portfolio(model, 100, 5, date(2040, 1, 9))
    assert one == portfolio(model, 100, 5, date(2040, 1, 9))
    assert one != portfolio(model, 100, 6, date(2040, 1, 9))
    assert {d.kind for d in one} == set(DebtorKind)
    assert all(1000 <= i.amount_cents <= 2000 for d in one for i in d.invoices)
    assert all(i.due_date < date(2040, 1, 9) for d in one for i in d.invoices)


def test_the_figures() -> None:
    start = date(2040, 1, 9)
    results = [
        PracticeResult(
            start,
            10_000,
            [Payment(date(2040, 1, 19), 4_000), Payment(date(2040, 3, 9), 6_000)],
            {"letter": 2, "call": 3},
            "paid",
        ),
        PracticeResult(start, 30_000, [Payment(date(2040, 5, 8), 3_000)], {"visit": 1}),
        PracticeResult(start, 60_000, [], {"letter": 4}, "returned"),
    ]
    costs = Costs(
        cents={"letter": 150, "call": 100, "visit": 3000}, minutes={"call": 4, "visit": 60}
    )
    figures = kpis(results, costs)
    assert figures.claimed_cents == 100_000 and figures.recovered_cents == 13_000
    assert figures.liquidation == {
        30: Decimal("0.0400"),  # day 10
        60: Decimal("0.1000"),  # day 60 (2040 is a leap year): within 60 days
        90: Decimal("0.1000"),
        180: Decimal("0.1300"),  # day 120
    }
    assert figures.cure_rate == Decimal("0.3333")
    assert figures.median_days_to_first_payment == Decimal("65.0")  # days 10 and 120
    assert figures.contacts == {"letter": 6, "email": 0, "reminder": 0, "call": 3, "visit": 1}
    assert figures.cost_cents == 6 * 150 + 3 * 100 + 3000
    assert figures.cost_minutes == 3 * 4 + 60
    assert figures.cost_per_euro_recovered == Decimal("0.3231")
    assert figures.outcomes == {"open": 1, "paid": 1, "returned": 1}
    assert kpis([], costs).cost_per_euro_recovered is None
