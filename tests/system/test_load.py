"""A bounded load on loopback: 200 concurrent hand-overs, then 200 concurrent payments (two at
once on each of 100 practices) through the API process. No 5xx, no lost update: once quiet,
the read model shows for every practice exactly what its workflow reports."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from db.models import Practice
from db.session import Database
from domain.practice import STATE_QUERY
from tests.api.helpers import practice_payload, rome_today
from tests.system.harness import Stack, eventually
from tests.system.product import api_over, creditor

pytestmark = pytest.mark.timeout(300)

HANDOVERS = 200
PAID_PRACTICES = 100  # each gets two payments at once: 200 payments
CLAIM = Decimal("1250.40")


async def test_load(stack: Stack, stack_db: Database) -> None:
    stack.start_worker()
    base = stack.start_api()
    limits = httpx.Limits(max_connections=HANDOVERS, max_keepalive_connections=HANDOVERS)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        api = api_over(http, stack, stack_db)
        tenant = await creditor(api)

        started = time.monotonic()
        # due in two months: the practices wait quietly in the pre-due phase
        handed = await asyncio.gather(
            *(
                http.post("/practices", headers=tenant.headers, json=practice_payload(tenant.id))
                for _ in range(HANDOVERS)
            )
        )
        handover_seconds = time.monotonic() - started
        assert [r.status_code for r in handed] == [201] * HANDOVERS, [
            (r.status_code, r.text) for r in handed if r.status_code != 201
        ]
        ids = [r.json()["id"] for r in handed]

        paid_on = rome_today().isoformat()
        payments = [
            (practice_id, f"{n + 1}.{k:02d}", f"CRO-{n}-{k}")
            for n, practice_id in enumerate(ids[:PAID_PRACTICES])
            for k in (1, 2)
        ]
        started = time.monotonic()
        paid = await asyncio.gather(
            *(
                http.post(
                    f"/practices/{practice_id}/payments",
                    headers=tenant.headers,
                    json={"amount": amount, "paid_on": paid_on, "reference": reference},
                )
                for practice_id, amount, reference in payments
            )
        )
        payment_seconds = time.monotonic() - started
        assert [r.status_code for r in paid] == [200] * len(payments), [
            (r.status_code, r.text) for r in paid if r.status_code != 200
        ]
        print(
            f"\n{HANDOVERS} hand-overs in {handover_seconds:.1f}s, "
            f"{len(payments)} payments in {payment_seconds:.1f}s"
        )

        expected = {practice_id: CLAIM for practice_id in ids}
        for practice_id, amount, _ in payments:
            expected[practice_id] -= Decimal(amount)

        client = await stack.client()

        async def consistent() -> list[str]:
            states = await asyncio.gather(
                *(client.get_workflow_handle(f"practice-{p}").query(STATE_QUERY) for p in ids)
            )
            async with stack_db.session() as session:
                rows = {
                    row.id: row
                    for row in (
                        await session.scalars(select(Practice).where(Practice.id.in_(ids)))
                    ).all()
                }
            wrong = []
            for practice_id, state in zip(ids, states, strict=True):
                row = rows[practice_id]
                cents = int(expected[practice_id] * 100)
                if not (
                    state["balance_cents"] == cents
                    and row.balance_cents == cents
                    and row.snapshot_version == state["version"]
                ):
                    wrong.append(practice_id)
            return [] if wrong else ["all consistent"]

        await eventually(consistent, "the read model to match every workflow", seconds=60)

    # and the API says the same (a fresh client: uvicorn closes keep-alive connections idle
    # for 5 s, and reusing one it is closing is a client-side ReadError, not the API's)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as fresh:
        shown = await asyncio.gather(
            *(fresh.get(f"/practices/{p}", headers=tenant.headers) for p in ids)
        )
        for practice_id, response in zip(ids, shown, strict=True):
            assert response.status_code == 200
            assert Decimal(response.json()["balance"]) == expected[practice_id]
