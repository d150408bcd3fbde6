"""Commands to a practice's workflow, on the real server and worker."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from sqlalchemy import update
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.errors import _rejection
from db.models import Practice
from domain.practice import RejectionType
from tests.api.helpers import (
    Api,
    Tenant,
    assign_directly,
    error_locs,
    eventually,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)

SOON = (rome_today() + timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


@pytest.fixture(scope="module")
async def operator(api: Api) -> dict[str, str]:
    return (await new_user(api, "operator"))[1]


def payment(amount: str, reference: str = "CRO-1", paid_on: str | None = None) -> dict[str, Any]:
    return {
        "amount": amount,
        "paid_on": paid_on or rome_today().isoformat(),
        "reference": reference,
    }


async def get(api: Api, practice_id: str) -> dict[str, Any]:
    response = await api.http.get(f"/practices/{practice_id}", headers=api.admin)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def settled(api: Api, practice_id: str) -> dict[str, Any]:
    """The practice once its workflow sleeps (pre-due: until the first reminder), so nothing
    changes on its own while a test compares before and after."""

    async def sleeping() -> dict[str, Any] | None:
        view = await get(api, practice_id)
        return view if view["next_action_at"] is not None else None

    result: dict[str, Any] = await eventually(sleeping, "the workflow to sleep")
    return result


async def event_kinds(api: Api, practice_id: str) -> list[str]:
    response = await api.http.get(f"/practices/{practice_id}/events", headers=api.admin)
    return [e["kind"] for e in response.json()]


async def test_partial_payment_lowers_the_balance(api: Api, tenant: Tenant) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    response = await api.http.post(
        f"/practices/{pid}/payments", headers=tenant.headers, json=payment("250.40")
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "accepted": True,
        "message": "partial payment recorded",
        "balance": "1000.00",
        "status": "active",
    }
    # the workflow's record activity has written the read model before the update returned
    view = await get(api, pid)
    assert (view["balance"], view["paid"], view["claim"]) == ("1000.00", "250.40", "1250.40")
    assert "payment" in await event_kinds(api, pid)


async def test_a_payment_may_name_the_invoice_it_pays(api: Api, tenant: Tenant) -> None:
    """Art. 1193 c.1 c.c.: the debtor says which invoice; one not on the practice is a 422
    before anything reaches the workflow."""
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    (number,) = [i["number"] for i in practice["invoices"]]
    wrong = await api.http.post(
        f"/practices/{pid}/payments",
        headers=tenant.headers,
        json=payment("10.00", "CRO-W") | {"invoice_number": "FT-NOT-OURS"},
    )
    assert wrong.status_code == 422, wrong.text
    assert error_locs(wrong) == [["body", "invoice_number"]]
    named = await api.http.post(
        f"/practices/{pid}/payments",
        headers=tenant.headers,
        json=payment("10.00", "CRO-N") | {"invoice_number": number},
    )
    assert named.status_code == 200, named.text
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    (paid,) = [e for e in events if e["kind"] == "payment"]
    assert (paid["data"]["reference"], paid["data"]["invoice_number"]) == ("CRO-N", number)


async def test_events_name_who_caused_them(api: Api, tenant: Tenant) -> None:
    """Point 10: a command's events name the user who sent it (id and role, no name); what the
    workflow does by itself names the system."""
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    paid = await api.http.post(
        f"/practices/{pid}/payments", headers=tenant.headers, json=payment("10.00", "CRO-T")
    )
    assert paid.status_code == 200, paid.text
    operator_id, operator = await new_user(api, "operator")
    cost = await api.http.post(
        f"/practices/{pid}/costs",
        headers=operator,
        json={"amount": "5.00", "incurred_on": rome_today().isoformat(), "kind": "collection"},
    )
    assert cost.status_code == 200, cost.text
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["payment"]["actor"] == {
        "kind": "user",
        "id": tenant.user_id,
        "role": "creditor",
    }
    assert by_kind["cost"]["actor"] == {"kind": "user", "id": operator_id, "role": "operator"}
    # the hand-over names who handed it over; the steps it starts are the workflow's own
    assert by_kind["handed_over"]["actor"] == {
        "kind": "user",
        "id": tenant.user_id,
        "role": "creditor",
    }
    started = [e for e in events if e["kind"] not in ("payment", "cost", "handed_over")]
    assert started and all(e["actor"] == {"kind": "system", "id": None, "role": None}
                           for e in started)  # fmt: skip
    assert "Mario" not in json.dumps([e["actor"] for e in events])


async def test_consumer_credit_forbearance_and_debt_advice_notice(api: Api, tenant: Tenant) -> None:
    """Point 15: the hand-over marks consumer credit; the creditor records a forbearance
    measure and an operator sends the debt-advice notice letter; a practice that is not
    consumer credit refuses both (409)."""
    payload = practice_payload(tenant.id) | {"consumer_credit": True}
    practice = await hand_over(api, tenant.headers, payload)
    pid = practice["id"]
    assert practice["consumer_credit"] is True
    offered = await api.http.post(
        f"/practices/{pid}/forbearance",
        headers=tenant.headers,
        json={"measure": "payment_holiday", "offered_on": rome_today().isoformat(),
              "note": "tre mesi di sospensione"},
    )  # fmt: skip
    assert offered.status_code == 200, offered.text
    bad = await api.http.post(
        f"/practices/{pid}/forbearance",
        headers=tenant.headers,
        json={"measure": "amnesty", "offered_on": rome_today().isoformat()},
    )
    assert bad.status_code == 422 and error_locs(bad) == [["body", "measure"]]
    operator_id, operator = await new_user(api, "operator")
    notice = await api.http.post(f"/practices/{pid}/debt-advice-notice", headers=operator)
    assert notice.status_code == 200, notice.text
    again = await api.http.post(f"/practices/{pid}/debt-advice-notice", headers=operator)
    assert again.status_code == 409, again.text
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["forbearance_measures"] == ["payment_holiday"]
    assert view["debt_advice_sent_on"] == rome_today().isoformat()
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    (measure,) = [e for e in events if e["kind"] == "forbearance_offered"]
    assert measure["data"]["measure"] == "payment_holiday"
    assert measure["actor"] == {"kind": "user", "id": tenant.user_id, "role": "creditor"}
    (letter,) = [
        e
        for e in events
        if e["kind"] == "letter_sent" and e["data"]["letter"] == "debt_advice_notice"
    ]
    assert letter["actor"] == {"kind": "user", "id": operator_id, "role": "operator"}

    plain = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    assert plain["consumer_credit"] is False
    refused = await api.http.post(
        f"/practices/{plain['id']}/forbearance",
        headers=tenant.headers,
        json={"measure": "payment_holiday", "offered_on": rome_today().isoformat()},
    )
    assert refused.status_code == 409, refused.text


async def test_full_payment_closes_the_practice_as_paid(
    api: Api, tenant: Tenant, operator: dict[str, str]
) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    first = await api.http.post(
        f"/practices/{pid}/payments", headers=operator, json=payment("1000.00", "CRO-A")
    )
    assert first.status_code == 200, first.text
    rest = await api.http.post(
        f"/practices/{pid}/payments", headers=operator, json=payment("250.40", "CRO-B")
    )
    assert rest.status_code == 200, rest.text
    assert rest.json()["balance"] == "0.00" and rest.json()["status"] == "closed"

    async def closed() -> dict[str, Any] | None:
        view = await get(api, pid)
        return view if view["status"] == "closed" else None

    view = await eventually(closed, "the practice to close")
    assert view["outcome"] == "paid" and view["balance"] == "0.00" and view["paid"] == "1250.40"
    listed = await api.http.get(
        "/practices", headers=tenant.headers, params={"outcome": "paid", "status": "closed"}
    )
    assert pid in {p["id"] for p in listed.json()["items"]}

    # closed in the read model: refused before anything reaches Temporal
    again = await api.http.post(
        f"/practices/{pid}/payments", headers=operator, json=payment("1.00", "CRO-C")
    )
    assert again.status_code == 409, again.text
    withdraw = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=tenant.headers, json={"reason": "late"}
    )
    assert withdraw.status_code == 409


async def test_closed_workflow_is_409_even_if_the_read_model_lags(api: Api, tenant: Tenant) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid, workflow_id = practice["id"], practice["workflow_id"]
    done = await api.http.post(
        f"/practices/{pid}/withdrawal",
        headers=tenant.headers,
        json={"reason": "paid the creditor directly"},
    )
    assert done.status_code == 200 and done.json()["status"] == "closed"
    handle = api.temporal.get_workflow_handle(workflow_id)

    async def completed() -> bool:
        status = (await handle.describe()).status
        return status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED

    await eventually(completed, "the workflow to complete")
    assert (await get(api, pid))["outcome"] == "withdrawn"
    # pretend the read model missed the closure: Temporal's answer must still be a 409
    async with api.db.session() as session:
        await session.execute(update(Practice).where(Practice.id == pid).values(status="active"))
        await session.commit()
    for path, body in (
        ("payments", payment("1.00")),
        ("contacts", {"email": "nuovo@example.it"}),
        ("disputes", {"reason": "x"}),
    ):
        response = await api.http.post(f"/practices/{pid}/{path}", headers=api.admin, json=body)
        assert response.status_code == 409, (path, response.text)
    # and the refused contact change was not written
    async with api.db.session() as session:
        row = await session.get(Practice, pid)
        assert row is not None and row.email == "mario.rossi@example.it"


async def test_workflow_refusals_map_to_409_and_422(
    api: Api, tenant: Tenant, operator: dict[str, str]
) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]

    too_much = await api.http.post(
        f"/practices/{pid}/payments", headers=operator, json=payment("2000.00")
    )
    assert too_much.status_code == 422, too_much.text
    assert ["body", "amount"] in error_locs(too_much)

    ok = await api.http.post(
        f"/practices/{pid}/payments", headers=operator, json=payment("10.00", "CRO-X")
    )
    assert ok.status_code == 200
    same_reference = await api.http.post(
        f"/practices/{pid}/payments", headers=operator, json=payment("10.00", "CRO-X")
    )
    assert same_reference.status_code == 409

    # nothing is waiting for these in the pre-due phase
    for path, body in (
        ("call-outcomes", {"outcome": "no_answer"}),
        ("trace-results", {"found": False}),
        ("legal-opinion", {"recommend_action": True}),
        ("legal-authorization", {"authorized": True}),
        ("letter-returned", {}),
        ("end-decision", {"decision": "watch"}),  # the court steps have not even started
    ):
        response = await api.http.post(f"/practices/{pid}/{path}", headers=api.admin, json=body)
        assert response.status_code == 409, (path, response.text)

    assert (await get(api, pid))["balance"] == "1240.40"


async def test_trace_result_refused_writes_no_contacts(api: Api, tenant: Tenant) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    response = await api.http.post(
        f"/practices/{practice['id']}/trace-results",
        headers=api.admin,
        json={"found": True, "phone": "+393470000000", "email": "trovato@example.it"},
    )
    assert response.status_code == 409, response.text
    view = await get(api, practice["id"])
    assert view["debtor"]["phone"] == "+393331234567"
    assert view["debtor"]["email"] == "mario.rossi@example.it"


# a debtor's new address, as a field agent reports it with a visit outcome "moved"
NEW_ADDRESS = {"street": "Via Piave 3", "city": "Belluno", "postal_code": "32100", "province": "BL"}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        (
            "payments",
            {"amount": "0", "paid_on": "2026-01-01", "reference": "r"},
            ["body", "amount"],
        ),
        (
            "payments",
            {"amount": "-5", "paid_on": "2026-01-01", "reference": "r"},
            ["body", "amount"],
        ),
        (
            "payments",
            {"amount": "5.00", "paid_on": "2999-01-01", "reference": "r"},
            ["body", "paid_on"],
        ),
        ("payments", {"amount": "5.00", "paid_on": "2026-01-01"}, ["body", "reference"]),
        ("promises", {"promised_date": "2020-01-01", "amount": "5.00"}, ["body", "promised_date"]),
        ("promises", {"promised_date": SOON, "amount": "5,00"}, ["body", "amount"]),
        ("promises", {"promised_date": "2999-01-01", "amount": "5.00"}, ["body", "promised_date"]),
        (
            "call-outcomes",
            {"outcome": "promise", "promised_amount": "5.00"},
            ["body", "promised_date"],
        ),
        (
            "call-outcomes",
            {"outcome": "promise", "promised_date": SOON},
            ["body", "promised_amount"],
        ),
        (
            "call-outcomes",
            {"outcome": "refused", "promised_date": SOON},
            ["body", "promised_date"],
        ),
        ("call-outcomes", {"outcome": "hung_up"}, ["body", "outcome"]),
        ("visit-outcomes", {"outcome": "no_answer"}, ["body", "outcome"]),
        (
            "visit-outcomes",
            {"outcome": "refused", "new_address": NEW_ADDRESS},
            ["body", "new_address"],
        ),
        (
            "visit-outcomes",
            {"outcome": "moved", "new_address": {**NEW_ADDRESS, "postal_code": "3210"}},
            ["body", "new_address", "postal_code"],
        ),
        ("trace-results", {"found": True}, ["body", "found"]),
        ("trace-results", {"found": False, "phone": "+393470000000"}, ["body", "phone"]),
        ("trace-results", {"found": True, "phone": "123"}, ["body", "phone"]),
        ("disputes", {"reason": ""}, ["body", "reason"]),
        ("disputes/abc/resolution", {"upheld": False, "reduce_by": "10.00"}, ["body", "reduce_by"]),
        ("disputes/abc/resolution", {"upheld": True, "reduce_by": "0"}, ["body", "reduce_by"]),
        ("legal-opinion", {}, ["body", "recommend_action"]),
        ("legal-authorization", {"authorized": "maybe"}, ["body", "authorized"]),
        ("end-decision", {"decision": "forget"}, ["body", "decision"]),
        ("contacts", {}, ["body"]),
        ("contacts", {"email": "not-an-email"}, ["body", "email"]),
        (
            "contacts",
            {
                "address": {
                    "street": "Via Po 2",
                    "city": "Torino",
                    "postal_code": "10100",
                    "province": "TT",
                }
            },
            ["body", "address", "province"],
        ),
    ],
)
async def test_bad_command_input_is_422_and_changes_nothing(
    api: Api, tenant: Tenant, path: str, body: dict[str, Any], loc: list[str | int]
) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    before = await settled(api, practice["id"])
    events = await event_kinds(api, practice["id"])
    response = await api.http.post(
        f"/practices/{practice['id']}/{path}", headers=api.admin, json=body
    )
    assert response.status_code == 422, response.text
    assert loc in error_locs(response), response.json()
    after = await get(api, practice["id"])
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert await event_kinds(api, practice["id"]) == events


async def test_command_roles(api: Api, tenant: Tenant, operator: dict[str, str]) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    await settled(api, pid)
    _, agent = await new_user(api, "field_agent", provinces=["MI"])
    _, lawyer = await new_user(api, "lawyer")
    refused = [
        (agent, "payments", payment("1.00")),
        (lawyer, "payments", payment("1.00")),
        (tenant.headers, "call-outcomes", {"outcome": "no_answer"}),
        (operator, "withdrawal", {"reason": "x"}),
        (operator, "legal-authorization", {"authorized": True}),
        (operator, "end-decision", {"decision": "write_off"}),
        (tenant.headers, "letter-returned", {}),
        (operator, "legal-opinion", {"recommend_action": True}),
        # in the territory, but not the agent assigned to the visit
        (agent, "visit-outcomes", {"outcome": "not_found"}),
    ]
    for headers, path, body in refused:
        response = await api.http.post(f"/practices/{pid}/{path}", headers=headers, json=body)
        assert response.status_code == 403, (path, response.text)
    assert (await get(api, pid))["balance"] == "1250.40"


async def test_promise_dispute_and_resolution(
    api: Api, tenant: Tenant, operator: dict[str, str]
) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    promised = (rome_today() + timedelta(days=10)).isoformat()
    promise = await api.http.post(
        f"/practices/{pid}/promises",
        headers=operator,
        json={"promised_date": promised, "amount": "500.00"},
    )
    assert promise.status_code == 200, promise.text
    assert promise.json()["status"] == "paused_promise"
    view = await get(api, pid)
    assert view["promise"] == {"promised_date": promised, "amount": "500.00", "source": "operator"}

    opened = await api.http.post(
        f"/practices/{pid}/disputes",
        headers=tenant.headers,
        json={"reason": "merce mai consegnata"},
    )
    assert opened.status_code == 201, opened.text
    dispute_id = opened.json()["dispute_id"]
    assert len(dispute_id) == 32 and opened.json()["status"] == "paused_dispute"
    assert (await get(api, pid))["open_dispute_id"] == dispute_id

    second = await api.http.post(
        f"/practices/{pid}/disputes", headers=operator, json={"reason": "again"}
    )
    assert second.status_code == 409
    wrong = await api.http.post(
        f"/practices/{pid}/disputes/{'0' * 32}/resolution",
        headers=tenant.headers,
        json={"upheld": False},
    )
    assert wrong.status_code == 409
    partial = await api.http.post(
        f"/practices/{pid}/disputes/{dispute_id}/resolution",
        headers=tenant.headers,
        json={"upheld": True, "reduce_by": "250.40", "note": "one item was damaged"},
    )
    assert partial.status_code == 200, partial.text
    # the promise the dispute suspended is in charge again (domain/pauses.py), its date moved by
    # the days the dispute lasted (none here)
    assert partial.json()["balance"] == "1000.00"
    assert partial.json()["status"] == "paused_promise"
    view = await get(api, pid)
    assert view["claim"] == "1000.00" and view["open_dispute_id"] is None
    assert view["promise"]["promised_date"] == promised


async def test_contacts_update_the_row_after_the_workflow_accepts(api: Api, tenant: Tenant) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    agent_id, agent = await new_user(api, "field_agent", provinces=["MI"])
    # the agent of the practice's visit (api.access: an agent sees its visits' debtors)
    await assign_directly(api, pid, field_agent_id=agent_id)
    response = await api.http.post(
        f"/practices/{pid}/contacts",
        headers=agent,
        json={
            "phone": "347 123 4567",
            "pec": "mario.rossi@pec.example.it",
            "address": {
                "street": "Via Torino 5",
                "city": "Monza",
                "postal_code": "20900",
                "province": "mb",
            },
        },
    )
    assert response.status_code == 200, response.text
    debtor = (await get(api, pid))["debtor"]
    assert debtor["phone"] == "+393471234567"
    assert debtor["pec"] == "mario.rossi@pec.example.it"
    assert debtor["address"] == {
        "street": "Via Torino 5",
        "city": "Monza",
        "postal_code": "20900",
        "province": "MB",
        "country": "IT",
        # an Italian address's region and zone (debtors abroad, issue 16)
        "region": "",
        "time_zone": "Europe/Rome",
    }
    assert debtor["invalid_channels"] == []
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    update_event = next(e for e in events if e["kind"] == "contacts_updated")
    # the timeline names the channels, never the values
    assert "347" not in update_event["summary"] and "Torino" not in update_event["summary"]
    assert update_event["data"]["pec"] is True and update_event["data"]["phone"] is True
    # the workflow heard the channel names only, never the values
    history = await api.temporal.get_workflow_handle(practice["workflow_id"]).fetch_history()
    recorded = b"".join(event.SerializeToString() for event in history.events)
    for value in (b"3471234567", b"pec.example.it", b"Via Torino", b"Monza", b"20900"):
        assert value not in recorded, value
    accepted = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    # and who sent it: the agent's id and role (point 10), no name
    agent_actor = {"kind": "user", "id": agent_id, "role": "field_agent"}
    assert [(i.name, json.loads(i.args.payloads[0].data)) for i in accepted] == [
        ("contacts", {"changed": ["phone", "pec", "address"], "actor": agent_actor})
    ]


@pytest.mark.parametrize(
    ("details", "fallback", "loc"),
    [
        (("promised_date",), ["body", "amount"], ("body", "promised_date")),
        (("promised_date",), ["body", "promised_amount"], ("body", "promised_date")),
        (("promised_amount",), ["body"], ("body", "promised_amount")),
        (("reduce_by",), ["body"], ("body", "reduce_by")),
        ((), ["body", "amount"], ("body", "amount")),
    ],
)
def test_a_workflow_refusal_points_the_422_at_the_field_it_names(
    details: tuple[str, ...], fallback: list[str], loc: tuple[str, ...]
) -> None:
    refusal = ApplicationError("refused", *details, type=RejectionType.INVALID)
    error = _rejection(WorkflowUpdateFailedError(refusal), fallback)
    assert isinstance(error, RequestValidationError)
    assert [e["loc"] for e in error.errors()] == [loc]


async def test_overdue_practice_reaches_the_call_queue_with_a_letter(
    api: Api, operator: dict[str, str]
) -> None:
    """The out-of-court path on the real worker: contact check, reminder letter (a PDF in the
    outbox), then a call in the operators' work list, answered with a promise, then paid."""
    tenant = await new_creditor(api)
    strategy = await api.http.get(f"/creditors/{tenant.id}/strategy", headers=tenant.headers)
    slow_calls = {**strategy.json(), "call_outcome_timeout": "PT120S"}
    saved = await api.http.put(
        f"/creditors/{tenant.id}/strategy", headers=api.admin, json=slow_calls
    )
    assert saved.status_code == 200
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-45))
    pid = practice["id"]

    async def queued_call() -> dict[str, Any] | None:
        calls = (
            await api.http.get("/worklists/calls", headers=operator, params={"limit": 200})
        ).json()
        return next((c for c in calls["items"] if c["practice_id"] == pid), None)

    call = await eventually(queued_call, "a call in the operators' queue", seconds=60)
    assert call["debtor_name"] == "Mario Rossi" and call["phone"] == "+393331234567"
    assert call["reference"] == practice["reference"] and call["attempt"] == 1

    documents = (await api.http.get(f"/practices/{pid}/documents", headers=tenant.headers)).json()
    letter = next(d for d in documents if d["kind"] == "reminder_letter")
    pdf = await api.http.get(f"/practices/{pid}/documents/{letter['id']}", headers=tenant.headers)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) == letter["size"]

    outbox = (await api.http.get("/outbox", headers=api.admin, params={"practice_id": pid})).json()
    assert outbox["total"] >= 1
    assert {d["channel"] for d in outbox["items"]} >= {"post"}
    assert all(d["status"] == "outbox" for d in outbox["items"])
    by_channel = (
        await api.http.get(
            "/outbox", headers=api.admin, params={"practice_id": pid, "channel": "post"}
        )
    ).json()
    assert {d["channel"] for d in by_channel["items"]} == {"post"}

    promised = (rome_today() + timedelta(days=5)).isoformat()
    outcome = await api.http.post(
        f"/practices/{pid}/call-outcomes",
        headers=operator,
        json={"outcome": "promise", "promised_date": promised, "promised_amount": "1250.40"},
    )
    assert outcome.status_code == 200, outcome.text

    # the answered call leaves the queue: the workflow closes its task right after answering
    # (an activity of its own, so a moment after the 200)
    async def call_gone() -> bool:
        return await queued_call() is None

    await eventually(call_gone, "the answered call to leave the queue", seconds=10)

    paid = await api.http.post(
        f"/practices/{pid}/payments", headers=tenant.headers, json=payment("1250.40", "CRO-FULL")
    )
    assert paid.status_code == 200 and paid.json()["status"] == "closed"
