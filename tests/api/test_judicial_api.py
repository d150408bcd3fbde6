"""The judicial phase at the API: costs, the lawyer's court steps and the creditor's stop are
validated before any workflow is asked (dates in the future, roles, the phase); the practice page
shows the court steps and their deadlines; the lawyer's work list; the timeline's order; the
debtor's residence given to the practice workflow at hand-over.

The court steps' end-to-end paths need the judicial workflow and are in
tests/workflows/test_judicial.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from db.models import Deadline, Event, Practice
from domain.calendar import end_of_rome_day
from domain.judicial import JUDICIAL_SEQ_BASE, Residence
from domain.practice import PracticeInput
from tests.api.helpers import (
    Api,
    error_locs,
    eventually,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)
from tests.api.test_handover_abroad import BERLIN, ZURICH, abroad
from tests.factories import create_creditor, create_practice

TOMORROW = (rome_today() + timedelta(days=1)).isoformat()
YESTERDAY = (rome_today() - timedelta(days=1)).isoformat()


async def row_practice(api: Api, **fields: Any) -> Practice:
    creditor = await create_creditor(api.db)
    return await create_practice(api.db, creditor, **fields)


# --- costs -----------------------------------------------------------------------------------


def cost(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": "120.00",
        "incurred_on": YESTERDAY,
        "kind": "legal",
        "description": "Contributo unificato",
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"incurred_on": TOMORROW}, "incurred_on"),
        ({"kind": "other"}, "kind"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"description": "x" * 2001}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_cost_validation(api: Api, fields: dict[str, Any], loc: str) -> None:
    practice = await row_practice(api)
    response = await api.http.post(
        f"/practices/{practice.id}/costs", headers=api.admin, json=cost(**fields)
    )
    assert response.status_code == 422, response.text
    assert ["body", loc] in error_locs(response)


async def test_cost_roles_and_closed_practices(api: Api) -> None:
    practice = await row_practice(api, status="closed", outcome="paid")
    tenant = await new_creditor(api)
    _, agent = await new_user(api, "field_agent", provinces=["MI"])
    for headers in (tenant.headers, agent):
        response = await api.http.post(
            f"/practices/{practice.id}/costs", headers=headers, json=cost()
        )
        assert response.status_code == 403, response.text
    _, operator = await new_user(api, "operator")
    closed = await api.http.post(f"/practices/{practice.id}/costs", headers=operator, json=cost())
    assert closed.status_code == 409, closed.text


# --- court steps -----------------------------------------------------------------------------

STEPS: list[tuple[str, dict[str, Any], str]] = [
    ("filing", {"filed_on": TOMORROW}, "filed_on"),
    ("decree", {"issued_on": TOMORROW}, "issued_on"),
    ("service", {"served_on": TOMORROW}, "served_on"),
    ("opposition", {"filed_on": TOMORROW}, "filed_on"),
    ("precetto", {"served_on": TOMORROW}, "served_on"),
    ("pignoramento", {"started_on": TOMORROW, "kind": "movable"}, "started_on"),
]
VALID: dict[str, dict[str, Any]] = {
    "filing": {"filed_on": YESTERDAY},
    "decree": {"issued_on": YESTERDAY, "decree_number": "1234/2026"},
    "service": {"served_on": YESTERDAY},
    "opposition": {"filed_on": YESTERDAY},
    "lawsuit": {"outcome": "pending", "next_hearing": TOMORROW},
    "precetto": {"served_on": YESTERDAY, "term_days": 10},
    "pignoramento": {"started_on": YESTERDAY, "kind": "third_party"},
    "pignoramento-outcome": {"outcome": "assigned", "amount": "500.00"},
    "precetto-opposition": {"filed_on": YESTERDAY},
    "precetto-opposition-outcome": {"upheld": False, "resumes_on": YESTERDAY},
}


@pytest.mark.parametrize(("step", "body", "loc"), STEPS)
async def test_court_dates_in_the_future_are_422(
    api: Api, step: str, body: dict[str, Any], loc: str
) -> None:
    practice = await row_practice(api, phase="judicial")
    response = await api.http.post(
        f"/practices/{practice.id}/judicial/{step}", headers=api.admin, json=body
    )
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["body", loc]]


@pytest.mark.parametrize(
    ("step", "body", "loc"),
    [
        ("decree", {"issued_on": YESTERDAY, "opposition_days": 0}, "opposition_days"),
        ("decree", {"issued_on": YESTERDAY, "decree_number": "<script>"}, "decree_number"),
        ("precetto", {"served_on": YESTERDAY, "term_days": 9}, "term_days"),
        ("lawsuit", {"outcome": "settled"}, "outcome"),
        ("pignoramento", {"started_on": YESTERDAY, "kind": "boat"}, "kind"),
        ("pignoramento-outcome", {"outcome": "assigned"}, "amount"),
        ("pignoramento-outcome", {"outcome": "negative", "amount": "5.00"}, "amount"),
        ("pignoramento-outcome", {"outcome": "assigned", "amount": "-5"}, "amount"),
        # the court is one of the tribunals' seats (issue 11 point 7)
        ("filing", {"filed_on": YESTERDAY, "court": "Atlantide"}, "court"),
        ("precetto-opposition-outcome", {"resumes_on": YESTERDAY}, "upheld"),
    ],
)
async def test_court_step_values_are_checked(
    api: Api, step: str, body: dict[str, Any], loc: str
) -> None:
    practice = await row_practice(api, phase="judicial")
    response = await api.http.post(
        f"/practices/{practice.id}/judicial/{step}", headers=api.admin, json=body
    )
    assert response.status_code == 422, response.text
    assert ["body", loc] in error_locs(response)


@pytest.mark.parametrize("step", list(VALID))
async def test_court_steps_need_the_judicial_phase(api: Api, step: str) -> None:
    practice = await row_practice(api, phase="out_of_court")
    response = await api.http.post(
        f"/practices/{practice.id}/judicial/{step}", headers=api.admin, json=VALID[step]
    )
    assert response.status_code == 409, response.text
    assert "judicial phase" in response.json()["detail"]


async def test_court_steps_need_a_running_judicial_workflow(api: Api) -> None:
    # in the judicial phase by the read model, but no judicial workflow was ever started
    practice = await row_practice(api, phase="judicial")
    response = await api.http.post(
        f"/practices/{practice.id}/judicial/filing", headers=api.admin, json=VALID["filing"]
    )
    assert response.status_code == 409, response.text
    assert "not started" in response.json()["detail"]


async def test_only_the_practices_lawyer_records_court_steps(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    _, other = await new_user(api, "lawyer")
    _, operator = await new_user(api, "operator")
    practice = await row_practice(api, phase="out_of_court", lawyer_id=lawyer_id)
    url = f"/practices/{practice.id}/judicial/filing"
    assert (await api.http.post(url, headers=other, json=VALID["filing"])).status_code == 403
    assert (await api.http.post(url, headers=operator, json=VALID["filing"])).status_code == 403
    # the practice's own lawyer gets past the role checks (and meets the phase's 409)
    assert (await api.http.post(url, headers=lawyer, json=VALID["filing"])).status_code == 409


async def test_stopping_the_court_steps(api: Api) -> None:
    practice = await row_practice(api, phase="out_of_court")
    url = f"/practices/{practice.id}/judicial/stop"
    _, operator = await new_user(api, "operator")
    assert (await api.http.post(url, headers=operator, json={})).status_code == 403
    response = await api.http.post(url, headers=api.admin, json={"note": "accordo raggiunto"})
    assert response.status_code == 409, response.text
    assert "judicial phase" in response.json()["detail"]


# --- the practice page, the work list, the timeline --------------------------------------------


async def add_deadline(
    api: Api, practice: Practice, kind: str, last_day: date, lawyer_id: str, status: str = "open"
) -> None:
    async with api.db.session() as session, session.begin():
        session.add(
            Deadline(
                practice_id=practice.id,
                kind=kind,
                start=last_day - timedelta(days=40),
                last_day=last_day,
                ends_at=end_of_rome_day(last_day),
                rule="art. 641 c.p.c.",
                explanation=f"{kind}: 40 days",
                status=status,
                lawyer_id=lawyer_id,
            )
        )


async def test_practice_page_and_deadlines_work_list(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    other_id, _ = await new_user(api, "lawyer")
    today = rome_today()
    practice = await row_practice(
        api,
        phase="judicial",
        lawyer_id=lawyer_id,
        judicial={
            "version": 4,
            "stage": "opposition_term",
            "decree_issued_on": "2026-03-02",
            "decree_served_on": "2026-03-20",
            "assigned_cents": None,
            "lawyer_id": lawyer_id,
            "deadlines": [],
        },
        judicial_version=4,
    )
    await add_deadline(api, practice, "opposition", today + timedelta(days=20), lawyer_id)
    await add_deadline(api, practice, "decree_service", today + timedelta(days=5), lawyer_id, "met")
    await add_deadline(api, practice, "precetto_lapse", today + timedelta(days=3), lawyer_id)
    another = await row_practice(api, phase="judicial", lawyer_id=other_id)
    await add_deadline(api, another, "opposition", today + timedelta(days=1), other_id)

    page = await api.http.get(f"/practices/{practice.id}", headers=api.admin)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["judicial"]["stage"] == "opposition_term"
    assert body["judicial"]["decree_served_on"] == "2026-03-20"
    assert [(d["kind"], d["status"]) for d in body["deadlines"]] == [
        ("precetto_lapse", "open"),
        ("decree_service", "met"),
        ("opposition", "open"),
    ]
    assert body["deadlines"][0]["rule"] == "art. 641 c.p.c."

    mine = await api.http.get("/worklists/deadlines", headers=lawyer)
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert [(i["kind"], i["days_left"]) for i in items] == [
        ("precetto_lapse", 3),
        ("opposition", 20),
    ]
    assert {i["reference"] for i in items} == {practice.reference}
    assert {i["practice_id"] for i in items} == {practice.id}
    spying = await api.http.get(f"/worklists/deadlines?lawyer_id={other_id}", headers=lawyer)
    assert spying.status_code == 403

    theirs = await api.http.get(f"/worklists/deadlines?lawyer_id={other_id}", headers=api.admin)
    assert [i["practice_id"] for i in theirs.json()["items"]] == [another.id]
    everything = await api.http.get("/worklists/deadlines?limit=200", headers=api.admin)
    ids = {i["practice_id"] for i in everything.json()["items"]}
    assert {practice.id, another.id} <= ids
    _, operator = await new_user(api, "operator")
    assert (await api.http.get("/worklists/deadlines", headers=operator)).status_code == 403


async def test_the_timeline_is_in_time_order_across_both_workflows(api: Api) -> None:
    practice = await row_practice(api, phase="judicial")
    base = datetime(2026, 3, 1, 9, tzinfo=UTC)
    async with api.db.session() as session, session.begin():
        for seq, hours, kind in (
            (41, 0, "authorized"),
            (JUDICIAL_SEQ_BASE + 1, 2, "ricorso_filed"),
            (42, 5, "payment_reminder"),
            (JUDICIAL_SEQ_BASE + 2, 9, "decree_issued"),
        ):
            session.add(
                Event(
                    practice_id=practice.id,
                    seq=seq,
                    at=base + timedelta(hours=hours),
                    kind=kind,
                    summary=kind,
                    data={},
                )
            )
    response = await api.http.get(f"/practices/{practice.id}/events", headers=api.admin)
    assert [e["kind"] for e in response.json()] == [
        "authorized",
        "ricorso_filed",
        "payment_reminder",
        "decree_issued",
    ]


ABROAD = {
    "DE": ({"tax_code": "36574261809"}, BERLIN),
    "CH": ({}, ZURICH),
}


@pytest.mark.parametrize(
    ("country", "residence"),
    [("IT", Residence.ITALY), ("DE", Residence.EU), ("CH", Residence.NON_EU)],
)
async def test_hand_over_gives_the_workflow_the_debtors_residence(
    api: Api, country: str, residence: Residence
) -> None:
    tenant = await new_creditor(api)
    payload = practice_payload(tenant.id)
    if country != "IT":  # a debtor of that country, with its own numbers and address
        debtor, address = ABROAD[country]
        payload = abroad(tenant.id, debtor, address)
    created = await hand_over(api, tenant.headers, payload)
    handle = api.temporal.get_workflow_handle(created["workflow_id"])
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (workflow_input,) = await api.temporal.data_converter.decode(
        started.input.payloads, [PracticeInput]
    )
    assert isinstance(workflow_input, PracticeInput)
    assert workflow_input.residence is residence


async def test_a_cost_reaches_the_workflow_and_its_description_stays_a_note(api: Api) -> None:
    tenant = await new_creditor(api)
    created = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    _, operator = await new_user(api, "operator")
    url = f"/practices/{created['id']}"
    today = rome_today().isoformat()
    response = await api.http.post(
        f"{url}/costs",
        headers=operator,
        json=cost(incurred_on=today, amount="35.50", kind="collection"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["balance"] == "1285.90"  # 1,250.40 + 35.50

    notes = await api.http.get(f"{url}/notes", headers=api.admin)
    assert [(n["kind"], n["text"]) for n in notes.json()] == [("cost", "Contributo unificato")]

    async def statement_cost() -> list[dict[str, Any]]:
        body = (await api.http.get(f"{url}/statement", headers=api.admin)).json()
        costs: list[dict[str, Any]] = body["costs"]
        return costs

    costs = await eventually(statement_cost, "the cost in the statement")
    assert costs == [
        {
            "incurred_on": today,
            "kind": "collection",
            "amount": {"due": "35.50", "paid": "0.00", "outstanding": "35.50"},
        }
    ]
    # the workflow's history holds the amount, never the description
    history = await api.temporal.get_workflow_handle(created["workflow_id"]).fetch_history()
    assert b"Contributo unificato" not in history.to_json().encode()
