"""The providers' shared token bucket (activities/rate_limit.py): the arithmetic on a fake
clock, the row shared through the database (SQLite or PostgreSQL, RECUPERO_TEST_DATABASE), and
Retry-After as the channels read it. Sends across real worker processes:
tests/test_provider_limits.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from activities.channels import outage_delay, retry_after_seconds
from activities.rate_limit import BucketState, ProviderLimiter, Rate, full, hold, take
from db.session import Database

RATE = Rate(per_second=2.0, burst=3)


def test_a_full_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    state = full(RATE, now=100.0)
    for _ in range(3):
        state, wait = take(state, RATE, now=100.0)
        assert wait == 0.0
    empty = state
    state, wait = take(state, RATE, now=100.0)
    assert state == empty  # nothing taken, nothing written
    assert wait == pytest.approx(0.5)
    state, wait = take(state, RATE, now=100.25)
    assert wait == pytest.approx(0.25)
    state, wait = take(state, RATE, now=100.5)
    assert wait == 0.0
    assert state.tokens == pytest.approx(0.0)


def test_the_bucket_never_holds_more_than_its_burst() -> None:
    state = BucketState(tokens=0.0, counted_at=0.0)
    taken = 0
    state, wait = take(state, RATE, now=3600.0)  # an hour idle: still only 3 at once
    while wait == 0.0:
        taken += 1
        state, wait = take(state, RATE, now=3600.0)
    assert taken == 3


def test_any_window_gets_at_most_burst_plus_rate_times_its_length() -> None:
    """Callers asking every 10 ms for 10 s: no second of it gets more than burst + rate."""
    state = full(RATE, now=0.0)
    granted: list[float] = []
    for tick in range(1000):
        now = tick / 100
        state, wait = take(state, RATE, now)
        if wait == 0.0:
            granted.append(now)
    for start in granted:
        in_window = [t for t in granted if start <= t < start + 1.0]
        assert len(in_window) <= RATE.burst + RATE.per_second
    assert len(granted) == pytest.approx(3 + 2.0 * 9.99, abs=1)


def test_a_hold_empties_the_bucket_until_the_providers_time() -> None:
    state = full(RATE, now=10.0)
    held = hold(state, until=15.0)
    assert held == BucketState(0.0, 15.0)
    _, wait = take(held, RATE, now=11.0)
    assert wait == pytest.approx(4.0 + 0.5)  # the hold, then a token's refill
    _, wait = take(held, RATE, now=15.5)
    assert wait == 0.0
    # a shorter hold after a longer one does not shorten it
    assert hold(held, until=12.0) == held


def test_a_clock_behind_the_last_writers_waits_instead_of_spending() -> None:
    state = BucketState(tokens=2.0, counted_at=50.0)
    assert take(state, RATE, now=49.0) == (state, pytest.approx(1.0))


def test_an_unlimited_provider_is_not_counted() -> None:
    assert Rate(0.0).unlimited


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 12, 7, 8, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Mon, 07 Dec 2026 08:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 07 Dec 2026 07:59:00 GMT", now) == 0.0
    assert retry_after_seconds("999999", now) == 3600.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
    assert retry_after_seconds("nan", now) is None


def test_an_outage_backs_off_doubling_up_to_two_minutes() -> None:
    assert [outage_delay(n) for n in (1, 2, 3, 8, 9, 50)] == [1, 2, 4, 120, 120, 120]


# --- the bucket in the database -----------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_two_limiters_on_one_database_share_the_bucket(database: Database) -> None:
    """Two workers' limiters (each its own engine, as two processes have) spend one bucket."""
    other = Database(database.url)
    try:
        clock = Clock(1000.0)
        first = ProviderLimiter(database, {"sendgrid": RATE}, clock)
        second = ProviderLimiter(other, {"sendgrid": RATE}, clock)
        waits = [await limiter.try_take("sendgrid") for limiter in (first, second, first, second)]
        assert waits[:3] == [0.0, 0.0, 0.0]
        assert waits[3] == pytest.approx(0.5)
        clock.now += 0.5
        assert await second.try_take("sendgrid") == 0.0
        assert await first.try_take("sendgrid") == pytest.approx(0.5)
        # another provider has its own bucket; one without a rate is not limited
        assert await first.try_take("twilio") == 0.0
    finally:
        await other.dispose()


async def test_concurrent_takes_never_spend_a_token_twice(database: Database) -> None:
    """Many takes racing on two engines at one instant: exactly the burst gets a token."""
    other = Database(database.url)
    try:
        clock = Clock(500.0)
        rate = Rate(per_second=1.0, burst=5)
        limiters = [
            ProviderLimiter(database, {"twilio": rate}, clock),
            ProviderLimiter(other, {"twilio": rate}, clock),
        ]
        waits = await asyncio.gather(*(limiters[i % 2].try_take("twilio") for i in range(20)))
        assert sum(1 for w in waits if w == 0.0) == 5
    finally:
        await other.dispose()


async def test_a_hold_stops_every_limiter_until_it_ends(database: Database) -> None:
    clock = Clock(0.0)
    limiter = ProviderLimiter(database, {"twilio": RATE}, clock)
    assert await limiter.try_take("twilio") == 0.0
    await limiter.hold("twilio", 30.0)
    assert await limiter.try_take("twilio") == pytest.approx(30.5)
    clock.now = 30.5
    assert await limiter.try_take("twilio") == 0.0
