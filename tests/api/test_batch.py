"""POST /practices/batch: the bulk hand-over, its all-rows-first validation, idempotent re-runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import WorkflowExecutionStatus

from api.routers.practices import batch_practice_id
from db.models import Practice
from tests.api.helpers import (
    Api,
    hand_over,
    new_creditor,
    practice_payload,
    unique,
    with_change,
)


async def _count(api: Api, creditor_id: str) -> int:
    async with api.db.session() as session:
        count = await session.scalar(
            select(func.count(Practice.id)).where(Practice.creditor_id == creditor_id)
        )
    return int(count or 0)


async def _batch(
    api: Api, headers: dict[str, str], rows: list[dict[str, Any]], **params: Any
) -> httpx.Response:
    return await api.http.post(
        "/practices/batch", headers=headers, json={"practices": rows}, params=params
    )


async def test_a_batch_is_started_and_a_rerun_starts_nothing_twice(api: Api) -> None:
    tenant = await new_creditor(api)
    rows = [practice_payload(tenant.id, unique("BULK")) for _ in range(50)]

    dry = await _batch(api, tenant.headers, rows, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["would_start"] == 50 and dry.json()["started"] == 0
    assert await _count(api, tenant.id) == 0

    first = await _batch(api, tenant.headers, rows)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["started"], body["already_handed_over"], body["failed"]) == (50, 0, 0)
    assert [r["row"] for r in body["practices"]] == list(range(50))
    assert [r["reference"] for r in body["practices"]] == [r["reference"] for r in rows]
    assert await _count(api, tenant.id) == 50
    for result in body["practices"]:
        assert result["status"] == "started"
        assert result["practice_id"] == batch_practice_id(tenant.id, result["reference"])
    for result in body["practices"][:5]:
        shown = await api.http.get(f"/practices/{result['practice_id']}", headers=tenant.headers)
        assert shown.status_code == 200, shown.text
        described = await api.temporal.get_workflow_handle(shown.json()["workflow_id"]).describe()
        assert described.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

    starts = len(api.recorder.started)
    again = await _batch(api, tenant.headers, rows)
    assert again.status_code == 200, again.text
    body2 = again.json()
    assert (body2["started"], body2["already_handed_over"], body2["failed"]) == (0, 50, 0)
    assert [r["practice_id"] for r in body2["practices"]] == [
        r["practice_id"] for r in body["practices"]
    ]
    assert len(api.recorder.started) == starts, "a re-run started a workflow"
    assert await _count(api, tenant.id) == 50


async def test_bad_rows_are_all_listed_and_nothing_is_started(api: Api) -> None:
    tenant = await new_creditor(api)
    rows = [practice_payload(tenant.id, unique("BULK")) for _ in range(10)]
    rows[2] = with_change(rows[2], ("debtor", "tax_code"), "NOT-A-TAX-CODE")
    rows[5] = with_change(rows[5], ("invoices", 0, "amount"), "-3")
    rows[8] = with_change(rows[8], ("reference",), rows[1]["reference"])
    starts = len(api.recorder.started)

    response = await _batch(api, tenant.headers, rows)

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [(d["row"], d["loc"]) for d in detail] == [
        (2, ["debtor", "tax_code"]),
        (5, ["invoices", 0, "amount"]),
        (8, ["reference"]),
    ]
    assert all(d["msg"] for d in detail)
    assert "row 1" in detail[2]["msg"]
    assert len(api.recorder.started) == starts
    assert await _count(api, tenant.id) == 0


async def test_duplicate_invoice_numbers_and_unknown_creditors_are_bad_rows(api: Api) -> None:
    tenant = await new_creditor(api)
    twice = practice_payload(tenant.id, unique("BULK"), amounts=("10.00", "20.00"))
    twice = with_change(twice, ("invoices", 1, "number"), twice["invoices"][0]["number"])
    rows = [practice_payload(tenant.id), twice, practice_payload("0" * 32)]

    response = await _batch(api, api.admin, rows)

    assert response.status_code == 422, response.text
    assert [(d["row"], d["loc"]) for d in response.json()["detail"]] == [
        (1, ["invoices", 1, "number"]),
        (2, ["creditor_id"]),
    ]
    assert await _count(api, tenant.id) == 0


async def test_a_creditor_may_not_hand_over_another_creditors_rows(api: Api) -> None:
    mine, other = await new_creditor(api), await new_creditor(api)
    rows = [practice_payload(mine.id), practice_payload(other.id)]
    starts = len(api.recorder.started)

    response = await _batch(api, mine.headers, rows)

    assert response.status_code == 403, response.text
    assert len(api.recorder.started) == starts
    assert await _count(api, mine.id) == 0
    operator = await api.http.post(
        "/users", headers=api.admin, json={"role": "operator", "name": unique("op")}
    )
    key = operator.json()["key"]
    denied = await _batch(api, {"Authorization": f"Bearer {key}"}, [practice_payload(mine.id)])
    assert denied.status_code == 403


async def test_a_reference_handed_over_singly_is_already_handed_over(api: Api) -> None:
    tenant = await new_creditor(api)
    single = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    rows = [practice_payload(tenant.id, single["reference"]), practice_payload(tenant.id)]

    response = await _batch(api, api.admin, rows)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["started"], body["already_handed_over"]) == (1, 1)
    assert body["practices"][0]["practice_id"] == single["id"]
    assert body["practices"][0]["status"] == "already_handed_over"


async def test_a_workflow_started_before_a_lost_commit_is_kept_on_the_rerun(api: Api) -> None:
    """A run that died between a workflow start and its commit: the re-run finds the workflow
    (WorkflowAlreadyStartedError on the batch id), keeps it and saves the row."""
    from api.routers.practices import new_practice
    from api.schemas import PracticeCreate
    from domain.practice import WORKFLOW_NAME
    from domain.strategy import Strategy

    tenant = await new_creditor(api)
    row = practice_payload(tenant.id, unique("BULK"))
    practice_id = batch_practice_id(tenant.id, row["reference"])
    practice, workflow_input = new_practice(
        PracticeCreate.model_validate(row), tenant.id, Strategy(), practice_id
    )
    await api.temporal.start_workflow(
        WORKFLOW_NAME, workflow_input, id=practice.workflow_id, task_queue=api.settings.task_queue
    )

    response = await _batch(api, tenant.headers, [row])

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["started"], body["already_handed_over"]) == (0, 1)
    assert body["practices"][0]["practice_id"] == practice_id
    assert await _count(api, tenant.id) == 1


async def test_a_row_whose_start_fails_is_taken_back_and_the_others_kept(api: Api) -> None:
    """The batch's rows are committed together, then started: a row whose workflow does not
    start is `failed` with no row left behind, the others are handed over, and a re-run
    starts only the failed one."""
    from temporalio.service import RPCError, RPCStatusCode

    tenant = await new_creditor(api)
    rows = [practice_payload(tenant.id, unique("BULK")) for _ in range(3)]
    api.recorder.fail_next = RPCError("injected", RPCStatusCode.UNAVAILABLE, b"")
    before = len(api.recorder.started)

    response = await _batch(api, tenant.headers, rows)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["started"], body["failed"]) == (2, 1)
    failed = [p for p in body["practices"] if p["status"] == "failed"]
    assert failed[0]["practice_id"] is None and "nothing saved" in failed[0]["detail"]
    assert len(api.recorder.started) - before == 3
    assert await _count(api, tenant.id) == 2

    rerun = (await _batch(api, tenant.headers, rows)).json()
    assert (rerun["started"], rerun["already_handed_over"], rerun["failed"]) == (1, 2, 0)
    assert await _count(api, tenant.id) == 3


async def test_a_reference_taken_during_the_batch_goes_row_by_row(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent hand-over takes one of the batch's references between the batch's check
    and its commit: the one-transaction commit fails on the constraint, writes nothing, and
    the rows are handed over one by one: that one is already_handed_over, the rest started."""
    import api.routers.practices as practices

    tenant = await new_creditor(api)
    rows = [practice_payload(tenant.id, unique("BULK")) for _ in range(3)]
    real_existing = practices._existing_practices

    async def racing_existing(session: Any, bodies: Any) -> Any:
        found = await real_existing(session, bodies)
        await hand_over(api, tenant.headers, rows[1])  # the concurrent request wins the race
        return found

    monkeypatch.setattr(practices, "_existing_practices", racing_existing)
    response = await _batch(api, tenant.headers, rows)
    monkeypatch.undo()

    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["status"] for p in body["practices"]] == [
        "started",
        "already_handed_over",
        "started",
    ]
    assert await _count(api, tenant.id) == 3
