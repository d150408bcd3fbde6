"""The strategy lab's simulator (issue 15) on the time-skipping test server, with the real
practice workflows: the same inputs give the same numbers, and a challenger that reaches the
debtors sooner is paid sooner by the same simulated debtors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.testservice.v1 import LockTimeSkippingRequest
from temporalio.testing import WorkflowEnvironment

from domain.simulation import load_model
from domain.strategy import Strategy, validate_strategy
from simulator import Planned, Run, SimulatedWorld, load_strategy, simulate, table
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
async def test_chunks_give_the_numbers_of_one_run(
    champion: Run, capfd: pytest.CaptureFixture[str]
) -> None:
    """A portfolio simulated in chunks, each on a test server of its own in a process of its
    own (as a 10,000-practice run is: bench/README.md), gives the numbers of one run: the
    practices never meet and each one's draws are keyed by its number. The SDK core's log lines
    stay off stdout, where the figures go (they broke the bench's JSON)."""
    capfd.readouterr()
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
    printed = capfd.readouterr()
    assert "temporalio_sdk_core" not in printed.out
    assert "temporalio_sdk_core" in printed.err  # the test server's missing capability, told


@pytest.mark.timeout(600)
async def test_retried_activities_neither_lose_nor_double_a_command(
    champion: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy day an activity can pass its deadline after its command reached the workflow
    (the first 10,000-practice run saw hundreds). Here 15 contacts' activities fail on their
    first attempt after their steps were settled, and 15 steps fail right after their update was
    accepted, as if the answer were lost: the retries draw nothing again, and a step sent again
    is the same update (its id), never a second one. A dispute's resolution and a promise's
    payment still come, and the numbers are those of a run without failures."""
    failed: set[str] = set()

    def fail_once(kind: str) -> None:
        info = activity.info()
        if info.attempt == 1 and sum(k.startswith(kind) for k in failed) < 15:
            failed.add(f"{kind}:{info.workflow_id}:{info.activity_id}")
            raise RuntimeError("the activity's answer was lost")

    contact, update = SimulatedWorld._run, SimulatedWorld._update

    async def contact_lost(self: SimulatedWorld, pid: str, planned: Planned) -> None:
        await contact(self, pid, planned)
        fail_once("contact")

    async def update_lost(self: SimulatedWorld, pid: str, name: str, cmd: Any, key: str) -> bool:
        accepted = await update(self, pid, name, cmd, key)
        fail_once("step")
        return accepted

    monkeypatch.setattr(SimulatedWorld, "_run", contact_lost)
    monkeypatch.setattr(SimulatedWorld, "_update", update_lost)
    again = await run(validate_strategy(Strategy()))
    assert sum(k.startswith("contact") for k in failed) == 15
    assert sum(k.startswith("step") for k in failed) == 15
    assert again.refused == 0
    assert again.results == champion.results
    assert again.kpis == champion.kpis


@pytest.mark.timeout(600)
async def test_a_stalled_clock_is_given_back_and_the_numbers_hold(
    champion: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Java test server sometimes keeps a time-skipping lock nothing holds, and a simulated
    day then lasts a real day (a 10,000-practice run, bench/README.md). Here the lock is taken
    and never given back on day 20, as the server did: the watchdog sees no activity for its
    stall time, gives the lock back, and the run ends with the numbers of a run without it."""
    from simulator import _sleep as sleep

    days = 0

    async def leaky(env: WorkflowEnvironment, duration: timedelta) -> None:
        nonlocal days
        days += 1
        if days == 20:
            await env.client.test_service.lock_time_skipping(LockTimeSkippingRequest())
        await sleep(env, duration)

    monkeypatch.setattr("simulator._sleep", leaky)
    stalled = await simulate(
        validate_strategy(Strategy()),
        MODEL,
        SIZE,
        3,
        venv_binary("temporal-test-server"),
        stall=5.0,
    )
    assert stalled.stalls == 1
    assert stalled.results == champion.results
    assert stalled.kpis == champion.kpis
