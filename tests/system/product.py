"""What the system tests do with the product: a creditor with seconds-long waits, practices due
in the past (collection starts at once), and the read model's view of what happened."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from config import load_settings
from db.models import Delivery, Event
from db.session import Database
from domain.strategy import STEP_ORDER, Step
from tests.api.helpers import Api, Tenant, hand_over, new_creditor, practice_payload
from tests.system.harness import Stack, duplicate_deliveries

LETTER_STEPS = ("reminder_letter", "second_letter")


def strategy(reminder_wait: str = "PT2S", second_letter_wait: str = "PT1H") -> dict[str, Any]:
    """Contact check, the reminder letter (post + e-mail copy) and its wait, one call nobody
    answers within 3 s, the second letter (post + e-mail copy), then a long wait: the
    practices stop there."""
    waits = {
        Step.CONTACT_CHECK: "PT0S",
        Step.REMINDER_LETTER: reminder_wait,
        Step.PHONE_PHASE: "PT1S",
        Step.SECOND_LETTER: second_letter_wait,
        Step.AUTHORIZATION: "PT1H",
    }
    return {
        "steps": [
            {"step": s.value, "enabled": s in waits, "wait_after": waits.get(s, "PT0S")}
            for s in STEP_ORDER
        ],
        "call_attempts": 1,
        "call_retry_interval": "PT1S",
        "call_outcome_timeout": "PT3S",
        "letter_texts": {},
    }


def api_over(http: httpx.AsyncClient, stack: Stack, db: Database) -> Api:
    """The API tests' helpers (new_creditor, hand_over) only need the HTTP client and the key."""
    return Api(
        http=http,
        settings=load_settings(),
        db=db,
        temporal=None,  # type: ignore[arg-type]
        recorder=None,  # type: ignore[arg-type]
        admin=stack.admin,
    )


async def creditor(api: Api, **strategy_args: Any) -> Tenant:
    return await new_creditor(api, strategy(**strategy_args))


async def hand_over_many(api: Api, tenant: Tenant, count: int) -> list[str]:
    """`count` practices, due a month ago, handed over one after the other (ids in order)."""
    ids = []
    for _ in range(count):
        body = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-30))
        ids.append(body["id"])
    return ids


async def message_deliveries(
    db: Database, practice_ids: list[str]
) -> Counter[tuple[str, str, str]]:
    """(practice, step, channel) -> rows, for letters' post and e-mail rows."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Delivery.practice_id, Delivery.idempotency_key, Delivery.channel).where(
                    Delivery.practice_id.in_(practice_ids)
                )
            )
        ).all()
    return Counter((p, key.split(":")[1], channel) for p, key, channel in rows if p)


async def letters_done(db: Database, practice_ids: list[str], step: str) -> bool:
    """Every practice has the step's letter by post and its e-mail copy."""
    seen = await message_deliveries(db, practice_ids)
    return all(seen[(p, step, "post")] and seen[(p, step, "email")] for p in practice_ids)


async def steps_started(db: Database, practice_ids: list[str]) -> Counter[tuple[str, str]]:
    """(practice, step) -> how many times the timeline says the step started."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Event.practice_id, Event.data).where(
                    Event.practice_id.in_(practice_ids), Event.kind == "step_started"
                )
            )
        ).all()
    return Counter((p, str(data.get("step"))) for p, data in rows)


WALK = ("contact_check", "reminder_letter", "phone_phase", "second_letter")


async def assert_exactly_once(db: Database, ids: list[str]) -> None:
    """No duplicate delivery anywhere; each practice's letters and e-mail copies once each, and
    each step of the walk started once."""
    assert await duplicate_deliveries(db) == []
    seen = await message_deliveries(db, ids)
    started = await steps_started(db, ids)
    for practice_id in ids:
        for step in LETTER_STEPS:
            for channel in ("post", "email"):
                assert seen[(practice_id, step, channel)] == 1, (practice_id, step, channel)
        for step in WALK:
            assert started[(practice_id, step)] == 1, (practice_id, step, started)
