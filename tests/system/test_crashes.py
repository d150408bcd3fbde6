"""Crashes: the Temporal dev server and the API, each SIGKILLed (no goodbye) and started again on
the same data. (Workers killed in the middle of sends: test_workers.py.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Practice
from db.session import Database
from tests.api.helpers import practice_payload, rome_today
from tests.system.harness import Stack, eventually
from tests.system.product import (
    api_over,
    assert_exactly_once,
    creditor,
    hand_over_many,
    letters_done,
    steps_started,
)

pytestmark = pytest.mark.timeout(300)


async def test_temporal_server_killed_and_restarted(stack: Stack, stack_db: Database) -> None:
    """The dev server dies while every practice sits in a PT5S timer after its reminder letter;
    restarted on the same --db-filename, no practice is lost and the timers still fire."""
    stack.start_worker()
    base = stack.start_api()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        api = api_over(http, stack, stack_db)
        tenant = await creditor(api, reminder_wait="PT5S")
        ids = await hand_over_many(api, tenant, 5)
        await eventually(
            lambda: letters_done(stack_db, ids, "reminder_letter"), "the reminder letters", 90
        )
        started = await steps_started(stack_db, ids)
        assert not any(started[(p, "phone_phase")] for p in ids), "killed too late"
        stack.kill_temporal()
        await asyncio.sleep(2)
        stack.start_temporal()

        client = await stack.client()
        for practice_id in ids:
            state = await eventually(
                lambda p=practice_id: client.get_workflow_handle(f"practice-{p}").query("state"),
                f"practice {practice_id} answering after the restart",
            )
            assert state["status"] == "active", state
        await eventually(
            lambda: letters_done(stack_db, ids, "second_letter"),
            "the second letters after the restart",
            seconds=120,
            every=1.0,
        )
        # the API (same process, same client) works against the restarted server
        for practice_id in ids:
            shown = await http.get(f"/practices/{practice_id}", headers=tenant.headers)
            assert shown.status_code == 200, shown.text
    await assert_exactly_once(stack_db, ids)


async def test_api_restarted(stack: Stack, stack_db: Database) -> None:
    """The API is SIGKILLed in the middle of concurrent hand-overs and started again: what it
    acknowledged is there with its workflow, a retried hand-over is either created or a 409
    (never twice), and commands work on every practice."""
    stack.start_worker()
    base = stack.start_api()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        api = api_over(http, stack, stack_db)
        tenant = await creditor(api, reminder_wait="PT1H")
        before = await hand_over_many(api, tenant, 3)
        payloads = [practice_payload(tenant.id, due_in_days=-30) for _ in range(30)]

        async def post(payload: dict[str, object]) -> int | None:
            try:
                response = await http.post("/practices", headers=tenant.headers, json=payload)
            except httpx.TransportError:
                return None
            return response.status_code

        posting = [asyncio.create_task(post(p)) for p in payloads]
        await asyncio.sleep(0.3)
        stack.kill_api()
        first = await asyncio.gather(*posting)
        assert all(code in (201, 503, None) for code in first), first
        assert None in first, "the API was killed too late to cut a hand-over"
        stack.start_api()

        retried = []
        for payload, code in zip(payloads, first, strict=True):
            if code != 201:
                response = await http.post("/practices", headers=tenant.headers, json=payload)
                assert response.status_code in (201, 409), response.text
                retried.append(response.status_code)

        references = [p["reference"] for p in payloads]
        async with stack_db.session() as session:
            rows = (
                await session.execute(
                    select(Practice.reference, func.count())
                    .where(Practice.creditor_id == tenant.id)
                    .group_by(Practice.reference)
                )
            ).all()
        counts = dict(rows)
        assert all(counts.get(r) == 1 for r in references), counts
        async with stack_db.session() as session:
            ids = list(
                (
                    await session.scalars(
                        select(Practice.id).where(Practice.creditor_id == tenant.id)
                    )
                ).all()
            )
        assert set(before) <= set(ids) and len(ids) == 3 + len(payloads)

        client = await stack.client()
        wanted = sorted(f"practice-{p}" for p in ids)

        async def running() -> list[str]:
            return sorted(
                [
                    w.id
                    async for w in client.list_workflows(
                        f"TaskQueue = '{stack.task_queue}' AND WorkflowType = 'PracticeWorkflow' "
                        "AND ExecutionStatus = 'Running'"
                    )
                ]
            )

        # every row has its workflow (a hand-over cut between its commit and its start is
        # started by the restarted API's sweep), and no workflow runs without a row
        async def all_running() -> bool:
            return await running() == wanted

        await eventually(all_running, "a workflow for every row", seconds=60)
        assert await running() == wanted

        async def all_recorded() -> bool:
            async with stack_db.session() as session:
                unrecorded = await session.scalar(
                    select(func.count())
                    .select_from(Practice)
                    .where(Practice.creditor_id == tenant.id, Practice.snapshot_version == 0)
                )
            return unrecorded == 0

        await eventually(all_recorded, "every workflow's first record", seconds=60)

        # commands still work on all of them, through the restarted API
        paid_on = rome_today().isoformat()
        for practice_id in ids:
            paid = await http.post(
                f"/practices/{practice_id}/payments",
                headers=tenant.headers,
                json={"amount": "10.00", "paid_on": paid_on, "reference": f"CRO-{practice_id}"},
            )
            assert paid.status_code == 200, paid.text
        for practice_id in ids:
            shown = await http.get(f"/practices/{practice_id}", headers=tenant.headers)
            assert shown.status_code == 200
            assert shown.json()["balance"] == "1240.40", shown.json()
