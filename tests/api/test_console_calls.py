"""The operator's call queue in the console, on the real worker: the queue is GET
/worklists/calls, taking a call is POST /worklists/calls/{id}/take, the outcome is POST
/practices/{id}/call-outcomes, the same functions with the same refusals."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from tests.api.helpers import (
    Api,
    eventually,
    hand_over,
    new_creditor,
    practice_payload,
    rome_today,
)
from tests.api.test_console_logins import csrf, log_in, person


async def test_an_operator_takes_a_call_and_records_a_promise(api: Api) -> None:
    tenant = await new_creditor(api)
    strategy = await api.http.get(f"/creditors/{tenant.id}/strategy", headers=tenant.headers)
    slow_calls = {**strategy.json(), "call_outcome_timeout": "PT120S"}
    saved = await api.http.put(
        f"/creditors/{tenant.id}/strategy", headers=api.admin, json=slow_calls
    )
    assert saved.status_code == 200
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-45))
    pid, reference = practice["id"], practice["reference"]

    user, password = await person(api, role="operator")
    landed = await log_in(api, user["email"], password)
    assert landed.headers["location"] == "/console/operator/calls"

    async def queued() -> httpx.Response | None:
        page = await api.http.get("/console/operator/calls")
        return page if reference in page.text else None

    page = await eventually(queued, "the call on the operator's page", seconds=60)
    api_queue = (
        await api.http.get("/worklists/calls", headers=api.admin, params={"limit": 200})
    ).json()
    task_id = next(c["id"] for c in api_queue["items"] if c["practice_id"] == pid)
    assert "Mario Rossi" in page.text and "1.250,40\xa0€" in page.text

    taken = await api.http.post(
        f"/console/operator/calls/{task_id}/take", data={"csrf_token": csrf(page)}
    )
    assert taken.status_code == 200, taken.text
    assert 'href="tel:+393331234567"' in taken.text  # no Twilio here: the number to dial

    # a promise without its amount: the API's 422 message, next to the field
    promised = (rome_today() + timedelta(days=5)).isoformat()
    incomplete: dict[str, Any] = {"outcome": "promise", "promised_date": promised}
    api_refusal = await api.http.post(
        f"/practices/{pid}/call-outcomes", headers=api.admin, json=incomplete
    )
    assert api_refusal.status_code == 422
    message = next(
        e["msg"] for e in api_refusal.json()["detail"] if e["loc"][-1] == "promised_amount"
    )
    refused = await api.http.post(
        f"/console/operator/calls/{task_id}/outcome",
        data={"csrf_token": csrf(taken), "practice_id": pid, **incomplete},
    )
    assert refused.status_code == 422
    shown = re.search(r'id="promised_amount-error">([^<]*)<', refused.text)
    assert shown is not None and shown.group(1) == message.replace("'", "&#39;")

    recorded = await api.http.post(
        f"/console/operator/calls/{task_id}/outcome",
        data={
            "csrf_token": csrf(taken),
            "practice_id": pid,
            **incomplete,
            "promised_amount": "1250.40",
            "note": "paga venerdì",
        },
    )
    assert recorded.status_code == 303, recorded.text

    async def gone() -> bool:
        return reference not in (await api.http.get("/console/operator/calls")).text

    await eventually(gone, "the answered call to leave the operator's page", seconds=10)
    notes = (await api.http.get(f"/practices/{pid}/notes", headers=api.admin)).json()
    assert any("paga venerdì" in str(n) and user["id"] in str(n) for n in notes), notes
