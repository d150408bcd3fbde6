"""A command sent again with the same Idempotency-Key is applied once (api/idempotency.py): the
key is the Temporal update's id, and the note it carries is saved once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.helpers import (
    Api,
    Headers,
    Tenant,
    error_locs,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)
from tests.api.test_notes import note_rows, update_inputs

SOON = (rome_today() + timedelta(days=10)).isoformat()


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


@pytest.fixture(scope="module")
async def operator(api: Api) -> Headers:
    return (await new_user(api, "operator"))[1]


async def test_a_repeated_command_is_applied_once(
    api: Api, tenant: Tenant, operator: Headers
) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid, workflow_id = practice["id"], practice["workflow_id"]
    body = {"promised_date": SOON, "amount": "100.00", "note": "NOTE-ONCE"}
    keyed = {**operator, "Idempotency-Key": "9b1f0c2e-promise-1"}
    first = await api.http.post(f"/practices/{pid}/promises", headers=keyed, json=body)
    again = await api.http.post(f"/practices/{pid}/promises", headers=keyed, json=body)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json()
    assert [name for name, _ in await update_inputs(api, workflow_id)] == ["promise"]
    assert await note_rows(api, pid) == 1

    # without a key each is sent; the same key on another command is another command
    for _ in range(2):
        unkeyed = await api.http.post(
            f"/practices/{pid}/promises", headers=operator, json={**body, "note": "NOTE-TWICE"}
        )
        assert unkeyed.status_code == 200, unkeyed.text
    dispute = await api.http.post(
        f"/practices/{pid}/disputes",
        headers={**tenant.headers, "Idempotency-Key": "9b1f0c2e-promise-1"},
        json={"reason": "NOTE-DISPUTE"},
    )
    assert dispute.status_code == 201, dispute.text
    assert [name for name, _ in await update_inputs(api, workflow_id)] == [
        "promise",
        "promise",
        "promise",
        "dispute",
    ]
    assert await note_rows(api, pid) == 4


@pytest.mark.parametrize("key", ["", "has space", "x" * 201])
async def test_a_malformed_key_is_a_422_naming_the_header(
    api: Api, tenant: Tenant, operator: Headers, key: str
) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    response = await api.http.post(
        f"/practices/{practice['id']}/promises",
        headers={**operator, "Idempotency-Key": key},
        json={"promised_date": SOON, "amount": "100.00"},
    )
    assert response.status_code == 422, response.text
    assert ["header", "Idempotency-Key"] in error_locs(response)
    assert await update_inputs(api, practice["workflow_id"]) == []
