"""The strategy lab's simulator (issue 15) on the time-skipping test server, with the real
practice workflows: the same inputs give the same numbers, and a challenger that reaches the
debtors sooner is paid sooner by the same simulated debtors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain.simulation import load_model
from domain.strategy import Strategy, validate_strategy
from simulator import Run, load_strategy, simulate, table
from tests.conftest import venv_binary

ROOT = Path(__file__).resolve().parent.parent
MODEL = load_model((ROOT / "bench/simulation/model.json").read_text())
SIZE = 40


async def run(strategy: Strategy, seed: int = 3) -> Run:
    return await simulate(strategy, MODEL, SIZE, seed, venv_binary("temporal-test-server"))


@pytest.fixture(scope="module")
async def champion() -> Run:
    return await run(validate_strategy(Strategy()))


@pytest.mark.timeout(600)
async def test_the_same_inputs_give_the_same_numbers(champion: Run) -> None:
    again = await run(validate_strategy(Strategy()))
    assert again.kpis == champion.kpis
    assert again.results == champion.results
    assert champion.refused == again.refused == 0
    assert champion.drift < timedelta(hours=12)
    # the run did something worth repeating: payments, contacts of every kind, closures
    assert champion.kpis.recovered_cents > 0
    assert all(n > 0 for kind, n in champion.kpis.contacts.items() if kind != "reminder")
    assert champion.kpis.outcomes.get("paid", 0) > 0
    # and another seed is other debtors
    other = await run(validate_strategy(Strategy()), seed=4)
    assert other.kpis != champion.kpis


@pytest.mark.timeout(600)
async def test_a_challenger_that_reaches_debtors_sooner_is_paid_sooner(champion: Run) -> None:
    challenger = await run(load_strategy(str(ROOT / "bench/simulation/challenger.json")))
    assert challenger.refused == 0
    ours, theirs = champion.kpis, challenger.kpis
    assert theirs.liquidation[30] > ours.liquidation[30]
    assert theirs.median_days_to_first_payment is not None
    assert ours.median_days_to_first_payment is not None
    assert theirs.median_days_to_first_payment < ours.median_days_to_first_payment
    printed = table(("default", "challenger"), (champion, challenger))
    assert "liquidation at 30 days" in printed and f"{theirs.liquidation[30] * 100:.2f}%" in printed


@pytest.mark.timeout(600)
async def test_chunks_give_the_numbers_of_one_run(champion: Run) -> None:
    """A portfolio simulated in chunks, each on a test server of its own in a process of its
    own (as a 10,000-practice run is: bench/README.md), gives the numbers of one run: the
    practices never meet and each one's draws are keyed by its number."""
    chunked = await simulate(
        validate_strategy(Strategy()),
        MODEL,
        SIZE,
        3,
        venv_binary("temporal-test-server"),
        chunk=15,  # 15, 15 and 10 practices
        jobs=2,
    )
    assert chunked.results == champion.results
    assert chunked.kpis == champion.kpis
    assert chunked.refused == 0
