"""A token bucket per provider, shared by every worker process through the database.

A provider's limit is the account's, not a process's: two workers each keeping their own bucket
would send twice the rate. So the bucket is a row of `provider_buckets` (tokens, when they were
last counted, a version), updated by compare-and-swap: a worker reads the row, computes the new
count, and writes it only if the version is still the one it read; otherwise it reads again.
That is the same statement on SQLite and PostgreSQL, holds no lock while Python computes, and a
read that loses the race costs one more read, never a token counted twice.

Times are Unix seconds (floats) from the worker's clock: sub-second arithmetic that no database
rounds. A worker whose clock runs behind finds a refill time in its future and simply waits
until then, so clock skew between hosts can slow the bucket, never let it overspend.

The arithmetic (`take`, `hold`) is pure and takes the time as an argument: the unit tests drive
it with a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from db.models import ProviderBucket
from db.session import Database


@dataclass(frozen=True)
class Rate:
    """per_second tokens come back each second, up to burst; per_second <= 0: no limit."""

    per_second: float
    burst: int = 1

    @property
    def unlimited(self) -> bool:
        return self.per_second <= 0

    @property
    def capacity(self) -> float:
        return float(max(1, self.burst))


@dataclass(frozen=True)
class BucketState:
    tokens: float
    # when `tokens` was counted; in the future while a provider's Retry-After holds the bucket
    counted_at: float


def full(rate: Rate, now: float) -> BucketState:
    return BucketState(rate.capacity, now)


def take(state: BucketState, rate: Rate, now: float) -> tuple[BucketState, float]:
    """One token if there is one: (the new state, 0.0). Otherwise (the state unchanged, the
    seconds until one will be there): nothing is written for a caller that gets nothing."""
    if now < state.counted_at:  # held (Retry-After), or another host's clock runs ahead
        missing = max(0.0, 1.0 - state.tokens)
        return state, (state.counted_at - now) + missing / rate.per_second
    tokens = min(rate.capacity, state.tokens + (now - state.counted_at) * rate.per_second)
    if tokens >= 1.0:
        return BucketState(tokens - 1.0, now), 0.0
    return state, (1.0 - tokens) / rate.per_second


def hold(state: BucketState, until: float) -> BucketState:
    """The provider said "not before `until`" (HTTP 429 with Retry-After): no token until then,
    and an empty bucket afterwards, so the workers do not all come back at once."""
    if until <= state.counted_at and state.tokens == 0.0:
        return state
    return BucketState(0.0, max(until, state.counted_at))


class ProviderLimiter:
    """The shared buckets of the providers named in `rates`; others are not limited."""

    ATTEMPTS = 100  # compare-and-swap rounds before giving up (contention that never ends)

    def __init__(
        self,
        db: Database,
        rates: Mapping[str, Rate],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.rates = dict(rates)
        self.clock = clock

    def rate(self, provider: str) -> Rate | None:
        rate = self.rates.get(provider)
        return None if rate is None or rate.unlimited else rate

    async def try_take(self, provider: str) -> float:
        """0.0 when a token was taken; otherwise the seconds until one will be there."""
        rate = self.rate(provider)
        if rate is None:
            return 0.0
        return await self._change(provider, rate, lambda s, now: take(s, rate, now))

    async def hold(self, provider: str, seconds: float) -> None:
        rate = self.rate(provider)
        if rate is None:
            return
        await self._change(provider, rate, lambda s, now: (hold(s, now + seconds), 0.0))

    async def _change(
        self,
        provider: str,
        rate: Rate,
        change: Callable[[BucketState, float], tuple[BucketState, float]],
    ) -> float:
        for _ in range(self.ATTEMPTS):
            async with self.db.session() as session:
                row = await session.scalar(
                    select(ProviderBucket).where(ProviderBucket.provider == provider)
                )
                current = (
                    None if row is None else (BucketState(row.tokens, row.counted_at), row.version)
                )
            now = self.clock()
            if current is None:
                # created here or by another worker: either way, take from it like everyone else
                await self._create(provider, full(rate, now))
                continue
            state, version = current
            new, wait = change(state, now)
            if new == state:
                return wait
            async with self.db.session() as session, session.begin():
                done = await session.execute(
                    update(ProviderBucket)
                    .where(ProviderBucket.provider == provider, ProviderBucket.version == version)
                    .values(tokens=new.tokens, counted_at=new.counted_at, version=version + 1)
                )
            if cast(CursorResult[Any], done).rowcount == 1:
                return wait
        raise RuntimeError(f"the {provider} bucket stayed contended for {self.ATTEMPTS} rounds")

    async def _create(self, provider: str, state: BucketState) -> None:
        try:
            async with self.db.session() as session, session.begin():
                session.add(
                    ProviderBucket(
                        provider=provider,
                        tokens=state.tokens,
                        counted_at=state.counted_at,
                        version=0,
                    )
                )
        except IntegrityError:
            pass  # another worker created it first: its row is the one
