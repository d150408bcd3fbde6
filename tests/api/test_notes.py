"""Notes and reasons people give with their commands are personal data ("spoke with his
wife..."): the API keeps them in `practice_notes`, shows them at GET /practices/{id}/notes, and
never sends them, nor any contact value, to the workflow, whose history outlives the agency's
deletion."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from api import schemas as api_schemas
from db.models import Practice, PracticeNote
from tests.api.helpers import (
    Api,
    Headers,
    Tenant,
    assign_directly,
    error_locs,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
    with_change,
)

SOON = (rome_today() + timedelta(days=10)).isoformat()


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


@pytest.fixture(scope="module")
async def operator(api: Api) -> tuple[str, Headers]:
    return await new_user(api, "operator")


async def notes(api: Api, practice_id: str, headers: Headers) -> list[dict[str, Any]]:
    response = await api.http.get(f"/practices/{practice_id}/notes", headers=headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def note_rows(api: Api, practice_id: str) -> int:
    async with api.db.session() as session:
        count = await session.scalar(
            select(func.count(PracticeNote.id)).where(PracticeNote.practice_id == practice_id)
        )
    return int(count or 0)


async def history(api: Api, workflow_id: str) -> bytes:
    """Every event of the workflow's history in protobuf form: payloads appear as raw bytes."""
    fetched = await api.temporal.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in fetched.events)


async def update_inputs(api: Api, workflow_id: str) -> list[tuple[str, Any]]:
    """(update name, decoded argument without its actor) of every update the workflow
    accepted."""
    fetched = await api.temporal.get_workflow_handle(workflow_id).fetch_history()
    inputs = []
    for event in fetched.events:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            payloads = request.input.args.payloads
            argument = json.loads(payloads[0].data)
            # every command names its sender (issue 11 point 10) by id and role only
            actor = argument.pop("actor", None)
            assert actor is not None and set(actor) == {"kind", "id", "role"}, actor
            inputs.append((request.input.name, argument))
    return inputs


async def test_notes_are_kept_in_the_database_and_never_reach_the_workflow(
    api: Api, tenant: Tenant, operator: tuple[str, Headers]
) -> None:
    operator_id, operator_headers = operator
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid, workflow_id = practice["id"], practice["workflow_id"]
    texts = {
        "promise": "NOTE-PROMISE spoke with his wife, salary on the 27th",
        "dispute": "NOTE-DISPUTE says the goods never arrived",
        "dispute_resolution": "NOTE-RESOLUTION delivery note signed by him",
        "withdrawal": "NOTE-WITHDRAWAL settled with us directly",
    }
    sent: list[tuple[Headers, str, dict[str, Any], int]] = [
        (
            operator_headers,
            "promises",
            {"promised_date": SOON, "amount": "100.00", "note": texts["promise"]},
            200,
        ),
        (tenant.headers, "disputes", {"reason": texts["dispute"]}, 201),
    ]
    for headers, path, body, code in sent:
        response = await api.http.post(f"/practices/{pid}/{path}", headers=headers, json=body)
        assert response.status_code == code, (path, response.text)
    dispute_id = response.json()["dispute_id"]
    resolved = await api.http.post(
        f"/practices/{pid}/disputes/{dispute_id}/resolution",
        headers=tenant.headers,
        json={"upheld": False, "note": texts["dispute_resolution"]},
    )
    assert resolved.status_code == 200, resolved.text
    # an empty note is no note
    paid = await api.http.post(
        f"/practices/{pid}/promises",
        headers=operator_headers,
        json={"promised_date": SOON, "amount": "50.00", "note": "   "},
    )
    assert paid.status_code == 200, paid.text
    withdrawn = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=tenant.headers, json={"reason": texts["withdrawal"]}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "closed"

    # the creditor reads its own practice's notes, oldest first, with who wrote them
    listed = await notes(api, pid, tenant.headers)
    assert [(n["kind"], n["text"], n["author_id"]) for n in listed] == [
        ("promise", texts["promise"], operator_id),
        ("dispute", texts["dispute"], tenant.user_id),
        ("dispute_resolution", texts["dispute_resolution"], tenant.user_id),
        ("withdrawal", texts["withdrawal"], tenant.user_id),
    ]
    moments = [datetime.fromisoformat(n["created_at"]) for n in listed]
    assert moments == sorted(moments) and all(m.utcoffset() == timedelta(0) for m in moments)
    assert len({n["id"] for n in listed}) == 4
    assert await notes(api, pid, api.admin) == listed

    # the workflow heard the decisions only
    recorded = await history(api, workflow_id)
    for text in texts.values():
        assert text.encode() not in recorded, text
    inputs = await update_inputs(api, workflow_id)
    assert [name for name, _ in inputs] == [
        "promise",
        "dispute",
        "dispute_resolution",
        "promise",
        "withdrawal",
    ]
    for name, argument in inputs:
        assert not {"note", "reason"} & set(argument), (name, argument)
    assert inputs[1][1] == {"dispute_id": dispute_id}
    assert inputs[2][1]["upheld"] is False and inputs[2][1].get("reduce_by_cents") is None


async def test_notes_follow_the_practice_access_rules(api: Api, tenant: Tenant) -> None:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    opened = await api.http.post(
        f"/practices/{pid}/disputes", headers=tenant.headers, json={"reason": "NOTE-ACCESS"}
    )
    assert opened.status_code == 201, opened.text
    other = await new_creditor(api)
    theirs = await api.http.get(f"/practices/{pid}/notes", headers=other.headers)
    assert theirs.status_code == 403
    assert (await api.http.get("/practices/nope/notes", headers=api.admin)).status_code == 404
    assert (await api.http.get(f"/practices/{pid}/notes")).status_code == 401
    # a lawyer reads the notes of the practices assigned to it (api.access), not the others
    lawyer_id, lawyer = await new_user(api, "lawyer")
    assert (await api.http.get(f"/practices/{pid}/notes", headers=lawyer)).status_code == 403
    await assign_directly(api, pid, after="dispute_opened", lawyer_id=lawyer_id)
    assert [n["text"] for n in await notes(api, pid, lawyer)] == ["NOTE-ACCESS"]


async def test_a_refused_command_leaves_no_note(
    api: Api, tenant: Tenant, operator: tuple[str, Headers]
) -> None:
    _, operator_headers = operator
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    # nothing waits for these in the pre-due phase, and no letter has gone yet
    for path, body in (
        ("call-outcomes", {"outcome": "refused", "note": "NOTE-409"}),
        ("visit-outcomes", {"outcome": "refused", "note": "NOTE-409"}),
        ("trace-results", {"found": False, "note": "NOTE-409"}),
        ("legal-opinion", {"recommend_action": True, "note": "NOTE-409"}),
        ("legal-authorization", {"authorized": True, "note": "NOTE-409"}),
        ("letter-returned", {"note": "NOTE-409"}),
    ):
        response = await api.http.post(f"/practices/{pid}/{path}", headers=api.admin, json=body)
        assert response.status_code == 409, (path, response.text)
    too_much = await api.http.post(
        f"/practices/{pid}/promises",
        headers=operator_headers,
        json={"promised_date": SOON, "amount": "5000.00", "note": "NOTE-422"},
    )
    assert too_much.status_code == 422, too_much.text
    assert ["body", "amount"] in error_locs(too_much)
    rejected_with_reduction = await api.http.post(
        f"/practices/{pid}/disputes/{'0' * 32}/resolution",
        headers=tenant.headers,
        json={"upheld": False, "reduce_by": "10.00", "note": "NOTE-422"},
    )
    assert rejected_with_reduction.status_code == 422
    assert error_locs(rejected_with_reduction) == [["body", "reduce_by"]]

    first = await api.http.post(
        f"/practices/{pid}/disputes", headers=tenant.headers, json={"reason": "NOTE-FIRST"}
    )
    assert first.status_code == 201, first.text
    again = await api.http.post(
        f"/practices/{pid}/disputes", headers=tenant.headers, json={"reason": "NOTE-AGAIN"}
    )
    assert again.status_code == 409
    assert [n["text"] for n in await notes(api, pid, api.admin)] == ["NOTE-FIRST"]
    assert await note_rows(api, pid) == 1


async def test_a_promised_date_the_workflow_finds_past_is_a_422_on_promised_date(
    api: Api, tenant: Tenant, operator: tuple[str, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API and the workflow disagree on 'today' (a request just before midnight reaching
    the worker after it): the workflow's refusal names the field, and the 422 points at it."""
    _, operator_headers = operator
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    yesterday = rome_today() - timedelta(days=1)
    monkeypatch.setattr(api_schemas, "rome_today", lambda: yesterday - timedelta(days=1))
    body = {"promised_date": yesterday.isoformat(), "amount": "100.00", "note": "NOTE-PAST"}
    response = await api.http.post(
        f"/practices/{pid}/promises", headers=operator_headers, json=body
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "promised_date"]], detail
    assert detail[0]["type"] == "invalid_command"
    assert await note_rows(api, pid) == 0
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["status"] == "active" and view["promise"] is None


async def test_trace_result_sends_channel_names_and_keeps_values_and_note_here(
    api: Api, tenant: Tenant, operator: tuple[str, Headers]
) -> None:
    """A debtor without a phone whose letter comes back: skip tracing is asked for; its result
    reaches the workflow as channel names, the new details and the note stay in the database."""
    operator_id, operator_headers = operator
    strategy = fast_strategy(trace_timeout="PT120S")
    for setting in strategy["steps"]:
        setting["enabled"] = setting["step"] in (
            "contact_check",
            "reminder_letter",
            "skip_tracing",
            "authorization",
        )
        if setting["step"] == "reminder_letter":
            setting["wait_after"] = "PT5S"
    creditor = await new_creditor(api, strategy)
    payload = with_change(practice_payload(creditor.id, due_in_days=-60), ("debtor", "phone"), None)
    practice = await hand_over(api, creditor.headers, payload)
    pid, workflow_id = practice["id"], practice["workflow_id"]

    async def letter_sent() -> bool:
        events = await api.http.get(f"/practices/{pid}/events", headers=api.admin)
        return any(e["kind"] == "letter_sent" for e in events.json())

    await eventually(letter_sent, "the reminder letter", seconds=60)
    returned = await api.http.post(
        f"/practices/{pid}/letter-returned",
        headers=operator_headers,
        json={"note": "NOTE-RETURNED moved away, says the porter"},
    )
    assert returned.status_code == 200, returned.text

    async def tracing() -> bool:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        return view["waiting_for"] == "skip tracing result"

    await eventually(tracing, "the practice to wait for skip tracing", seconds=60)
    found = await api.http.post(
        f"/practices/{pid}/trace-results",
        headers=operator_headers,
        json={
            "found": True,
            "phone": "+393478765432",
            "address": {
                "street": "Via Po 22",
                "city": "Torino",
                "postal_code": "10123",
                "province": "TO",
            },
            "note": "NOTE-TRACE found through the registry office",
        },
    )
    assert found.status_code == 200, found.text

    async with api.db.session() as session:
        row = await session.get(Practice, pid)
        assert row is not None
        assert (row.phone, row.street, row.province) == ("+393478765432", "Via Po 22", "TO")
        assert "address" not in (row.invalid_channels or [])
    assert [(n["kind"], n["text"], n["author_id"]) for n in await notes(api, pid, api.admin)] == [
        ("letter_returned", "NOTE-RETURNED moved away, says the porter", operator_id),
        ("trace_result", "NOTE-TRACE found through the registry office", operator_id),
    ]

    recorded = await history(api, workflow_id)
    for value in ("NOTE-", "8765432", "Via Po", "Torino", "10123"):
        assert value.encode() not in recorded, value
    inputs = dict(await update_inputs(api, workflow_id))
    assert inputs["trace_result"] == {"found": True, "found_channels": ["phone", "address"]}
    assert inputs["letter_returned"] == {}
