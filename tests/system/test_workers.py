"""Many workers, crashes of workers: two worker processes on one task queue, one of them
SIGKILLed in the middle of the letters; then the survivor too is SIGKILLed at random moments
while letters are being rendered and written, a fresh worker started each time. Every practice
still walks on, no step runs twice, every letter and e-mail copy exists exactly once.

(One test for both: an activity in flight on a killed worker comes back only when its
start-to-close timeout runs out, 2 minutes for sends, and that wait is the test's cost.)"""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from db.session import Database
from tests.system.harness import Stack, eventually
from tests.system.product import (
    api_over,
    assert_exactly_once,
    creditor,
    hand_over_many,
    letters_done,
    message_deliveries,
)

pytestmark = pytest.mark.timeout(420)

PRACTICES = 20
# sends in flight on a killed worker are retried after their 2-minute start-to-close timeout
AFTER_KILLS = 300.0


async def test_workers_killed(stack: Stack, stack_db: Database) -> None:
    doomed = stack.start_worker()
    survivor = stack.start_worker()
    base = stack.start_api()
    rng = random.Random()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        api = api_over(http, stack, stack_db)
        tenant = await creditor(api)
        ids = await hand_over_many(api, tenant, PRACTICES)

        async def letters_out(n: int) -> bool:
            seen = await message_deliveries(stack_db, ids)
            return sum(1 for (_, step, ch) in seen if ch == "post") >= n

        await eventually(lambda: letters_out(5), "the first reminder letters", seconds=90)
        stack.kill_worker(doomed)
        assert doomed.returncode == -9

        # the other worker carries on alone, then dies at random moments while it sends
        for n in (10, 20):
            await eventually(lambda n=n: letters_out(n), f"{n} letters", seconds=180)
            await asyncio.sleep(rng.uniform(0.1, 2.0))
            stack.kill_worker(survivor)
            survivor = stack.start_worker()

        await eventually(
            lambda: letters_done(stack_db, ids, "second_letter"),
            "every practice's second letter and its e-mail copy",
            seconds=AFTER_KILLS,
            every=2.0,
        )
    await assert_exactly_once(stack_db, ids)
