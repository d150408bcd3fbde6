"""Two worker processes on one task queue, one of them SIGKILLed in the middle: every practice
still walks on, and every letter and e-mail copy exists exactly once."""

from __future__ import annotations

import httpx

from db.session import Database
from tests.system.harness import Stack, duplicate_deliveries, eventually
from tests.system.product import (
    api_over,
    creditor,
    hand_over_many,
    letters_done,
    message_deliveries,
    steps_started,
)

PRACTICES = 20
# an activity in flight on the killed worker is retried when its start-to-close timeout (2 min
# for sends) runs out: the survivors need that long at most, plus the waits of the strategy
AFTER_KILL = 240.0


async def test_two_workers_one_killed(stack: Stack, stack_db: Database) -> None:
    doomed = stack.start_worker()
    stack.start_worker()
    base = stack.start_api()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        api = api_over(http, stack, stack_db)
        tenant = await creditor(api)
        ids = await hand_over_many(api, tenant, PRACTICES)

        async def some_letters_out() -> bool:
            seen = await message_deliveries(stack_db, ids)
            posted = [p for (p, step, ch) in seen if step == "reminder_letter" and ch == "post"]
            return len(posted) >= 5

        await eventually(some_letters_out, "the first reminder letters", seconds=90)
        stack.kill_worker(doomed)
        assert doomed.returncode == -9

        await eventually(
            lambda: letters_done(stack_db, ids, "second_letter"),
            "every practice's second letter and its e-mail copy",
            seconds=AFTER_KILL,
            every=2.0,
        )

    assert await duplicate_deliveries(stack_db) == []
    seen = await message_deliveries(stack_db, ids)
    for practice_id in ids:
        for step in ("reminder_letter", "second_letter"):
            for channel in ("post", "email"):
                assert seen[(practice_id, step, channel)] == 1, (practice_id, step, channel)
    started = await steps_started(stack_db, ids)
    for practice_id in ids:
        for step in ("contact_check", "reminder_letter", "phone_phase", "second_letter"):
            assert started[(practice_id, step)] == 1, (practice_id, step, started)
