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
        data={"csrf_token": csrf(taken), **incomplete},
    )
    assert refused.status_code == 422
    shown = re.search(r'id="promised_amount-error">([^<]*)<', refused.text)
    assert shown is not None and shown.group(1) == message.replace("'", "&#39;")

    recorded = await api.http.post(
        f"/console/operator/calls/{task_id}/outcome",
        data={
            "csrf_token": csrf(taken),
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


async def test_an_operator_saves_new_contacts_and_sends_a_plan_from_the_call(api: Api) -> None:
    """Beside the outcome: the new contacts learned on the call (POST /practices/{id}/contacts)
    and a plan agreed on the phone (the field agent's proposal form and handler), each with
    the API's errors next to its fields, then back on the call."""
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
    await log_in(api, user["email"], password)

    async def queued() -> httpx.Response | None:
        page = await api.http.get("/console/operator/calls")
        return page if reference in page.text else None

    page = await eventually(queued, "the call on the operator's page", seconds=60)
    api_queue = (
        await api.http.get("/worklists/calls", headers=api.admin, params={"limit": 200})
    ).json()
    task_id = next(c["id"] for c in api_queue["items"] if c["practice_id"] == pid)
    taken = await api.http.post(
        f"/console/operator/calls/{task_id}/take", data={"csrf_token": csrf(page)}
    )
    assert taken.status_code == 200, taken.text
    token = csrf(taken)

    def shown(page: httpx.Response, field_id: str) -> str | None:
        found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', page.text)
        return found.group(1) if found else None

    # a phone that is no number: the API's message next to it, the outcome form untouched
    bad = await api.http.post(f"/practices/{pid}/contacts", headers=api.admin, json={"phone": "12"})
    assert bad.status_code == 422
    message = next(e["msg"] for e in bad.json()["detail"] if e["loc"][-1] == "phone")
    refused = await api.http.post(
        f"/console/operator/calls/{task_id}/contacts",
        data={"csrf_token": token, "phone": "12", "email": "nuovo@example.it"},
    )
    assert refused.status_code == 422, refused.text
    assert shown(refused, "phone") == message.replace("'", "&#39;")
    assert 'value="nuovo@example.it"' in refused.text
    assert '<details class="new-contacts" open>' in refused.text
    nothing = await api.http.post(
        f"/console/operator/calls/{task_id}/contacts", data={"csrf_token": token}
    )
    assert nothing.status_code == 422
    assert shown(nothing, "contacts") == "give at least one of email, phone, pec, address"

    added = await api.http.post(
        f"/console/operator/calls/{task_id}/contacts",
        data={"csrf_token": token, "phone": "347 999 0000", "pec": "rossi@pec.example.it"},
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/console/operator/calls?call={task_id}&contacts=1"
    back = await api.http.get(added.headers["location"])
    assert f"/console/operator/calls/{task_id}/outcome" in back.text  # still on the call
    debtor = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()["debtor"]
    assert debtor["phone"] == "+393479990000" and debtor["pec"] == "rossi@pec.example.it"
    # another operator does not land on this operator's call
    other, other_password = await person(api, role="operator")
    await log_in(api, other["email"], other_password)
    theirs = await api.http.get(added.headers["location"])
    assert f"/console/operator/calls/{task_id}/outcome" not in theirs.text
    await log_in(api, user["email"], password)

    # a plan not adding up to the balance: the API's message, in the proposal form
    first, second = rome_today() + timedelta(days=10), rome_today() + timedelta(days=40)
    short = {
        "kind": "plan",
        "due_date_0": first.isoformat(),
        "instalment_0": "100.00",
        "due_date_1": second.isoformat(),
        "instalment_1": "100.00",
    }
    api_short = await api.http.post(
        f"/practices/{pid}/proposals",
        headers=api.admin,
        json={
            "kind": "plan",
            "instalments": [
                {"due_date": first.isoformat(), "amount": "100.00"},
                {"due_date": second.isoformat(), "amount": "100.00"},
            ],
        },
    )
    assert api_short.status_code == 422, api_short.text
    message = next(e["msg"] for e in api_short.json()["detail"] if e["loc"][-1] == "instalments")
    page = await api.http.get(f"/console/operator/calls?call={task_id}")
    refused = await api.http.post(
        f"/console/operator/calls/{task_id}/proposal", data={"csrf_token": csrf(page), **short}
    )
    assert refused.status_code == 422, refused.text
    assert shown(refused, "call-instalments") == message.replace("'", "&#39;")
    assert '<details class="proposal" open>' in refused.text
    assert shown(refused, "note") is None  # the outcome form's note: not its error

    plan = {**short, "instalment_0": "625.20", "instalment_1": "625.20"}
    sent = await api.http.post(
        f"/console/operator/calls/{task_id}/proposal", data={"csrf_token": csrf(page), **plan}
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/console/operator/calls?call={task_id}&proposed=1"

    async def in_force() -> Any:
        return (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()["plan"]

    found = await eventually(in_force, "the plan on the practice", seconds=30)
    assert [i["amount"] for i in found["instalments"]] == ["625.20", "625.20"]
