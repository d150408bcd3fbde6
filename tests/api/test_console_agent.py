"""The field agent's visits in the console, on the real worker: the list is GET
/worklists/visits (a field agent gets the visits assigned to it, so only their addresses), the
outcome POST /practices/{id}/visit-outcomes; the same functions with the same refusals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from api.console.i18n import refusal_text
from api.deps import get_now
from domain.calendar import ROME
from tests.api.helpers import Api, eventually, hand_over, new_creditor, practice_payload, rome_today
from tests.api.test_console_lawyer import alert, api_message, shown_error
from tests.api.test_console_logins import csrf, log_in, person
from tests.api.test_paths import only

# Belluno: no other test has a field agent there, so the first one is assigned
PROVINCE = "BL"


async def test_a_field_agent_records_a_visit_outcome_and_a_colleague_sees_no_address(
    api: Api,
) -> None:
    tenant = await new_creditor(
        api, only("contact_check", "reminder_letter", "home_visit", visit_outcome_timeout="PT120S")
    )
    agent, password = await person(api, role="field_agent", provinces=[PROVINCE])
    payload = practice_payload(tenant.id, due_in_days=-120, province=PROVINCE)
    payload["debtor"]["address"]["street"] = "Via Feltre 9"
    practice = await hand_over(api, tenant.headers, payload)
    pid, reference = practice["id"], practice["reference"]

    async def visit() -> Any:
        listed = await api.http.get("/worklists/visits", headers=api.admin, params={"limit": 200})
        return next((t for t in listed.json()["items"] if t["practice_id"] == pid), None)

    task = await eventually(visit, "the home visit", seconds=60)
    assert task["assignee_id"] == agent["id"]

    landed = await log_in(api, agent["email"], password)
    assert landed.headers["location"] == "/console/agent/visits"
    page = await api.http.get("/console/agent/visits")
    assert page.status_code == 200, page.text
    assert reference in page.text and "Via Feltre 9" in page.text and "Mario Rossi" in page.text
    assert 'name="viewport" content="width=device-width' in page.text

    # a colleague of the same territory: neither the visit nor its address (the API's list)
    colleague, colleague_password = await person(api, role="field_agent", provinces=[PROVINCE])
    await log_in(api, colleague["email"], colleague_password)
    theirs = await api.http.get("/console/agent/visits")
    assert theirs.status_code == 200
    assert reference not in theirs.text and "Via Feltre 9" not in theirs.text
    stolen = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={"csrf_token": csrf(theirs), "outcome": "refused"},
    )
    assert stolen.status_code == 403  # the API's: only the assigned agent reports
    # an operator does not open the page
    operator, operator_password = await person(api, role="operator")
    await log_in(api, operator["email"], operator_password)
    assert (await api.http.get("/console/agent/visits")).status_code == 403

    await log_in(api, agent["email"], password)
    page = await api.http.get("/console/agent/visits")
    promised = (rome_today() + timedelta(days=7)).isoformat()
    # a promise without its amount: the API's 422 message, next to the field
    message = await api_message(
        await api.http.post(
            f"/practices/{pid}/visit-outcomes",
            headers=api.admin,
            json={"outcome": "promise", "promised_date": promised},
        ),
        "promised_amount",
    )
    refused = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={"csrf_token": csrf(page), "outcome": "promise", "promised_date": promised},
    )
    assert refused.status_code == 422
    assert shown_error(refused, f"v{task['id']}-promised_amount") == message

    recorded = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={
            "csrf_token": csrf(page),
            "outcome": "promise",
            "promised_date": promised,
            "promised_amount": "600.00",
            "note": "pagherà in due rate",
        },
    )
    assert recorded.status_code == 303, recorded.text

    async def promise() -> Any:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        return view["promise"]

    found = await eventually(promise, "the promise on the practice", seconds=30)
    assert found == {"promised_date": promised, "amount": "600.00", "source": "visit"}
    after = await api.http.get("/console/agent/visits")
    assert reference not in after.text  # the visit is done

    # reported again: the API's refusal (the visit is no longer expected), in the alert
    again = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={"csrf_token": csrf(page), "outcome": "refused"},
    )
    api_again = await api.http.post(
        f"/practices/{pid}/visit-outcomes", headers=api.admin, json={"outcome": "refused"}
    )
    assert again.status_code == api_again.status_code, (again.text[-500:], api_again.text)
    assert alert(again) == refusal_text("it", api_again.json()["detail"]).replace("'", "&#39;")


async def test_a_field_agent_sends_a_plan_agreed_at_the_door(api: Api) -> None:
    # Sondrio: no other test has a field agent there, so this one is assigned
    tenant = await new_creditor(
        api, only("contact_check", "reminder_letter", "home_visit", visit_outcome_timeout="PT120S")
    )
    agent, password = await person(api, role="field_agent", provinces=["SO"])
    practice = await hand_over(
        api, tenant.headers, practice_payload(tenant.id, due_in_days=-120, province="SO")
    )
    pid = practice["id"]

    async def visit() -> Any:
        listed = await api.http.get("/worklists/visits", headers=api.admin, params={"limit": 200})
        return next((t for t in listed.json()["items"] if t["practice_id"] == pid), None)

    task = await eventually(visit, "the home visit", seconds=60)
    await log_in(api, agent["email"], password)
    page = await api.http.get("/console/agent/visits")
    first, second = rome_today() + timedelta(days=10), rome_today() + timedelta(days=40)

    # a settlement above the balance: the API's 422 message, next to the amount
    settle = {"kind": "settlement", "amount": "2000.00", "settle_by": first.isoformat()}
    message = await api_message(
        await api.http.post(f"/practices/{pid}/proposals", headers=api.admin, json=settle),
        "amount",
    )
    refused = await api.http.post(
        f"/console/agent/visits/{pid}/proposal", data={"csrf_token": csrf(page), **settle}
    )
    assert refused.status_code == 422, refused.text
    assert shown_error(refused, f"v{task['id']}-amount") == message, re.findall(
        "field-error.*", refused.text
    )
    assert 'value="2000.00"' in refused.text and '<details class="proposal" open>' in refused.text

    # a note longer than the API takes: its 422, never a note cut short
    long_note = {**settle, "amount": "900.00", "note": "x" * 2001}
    message = await api_message(
        await api.http.post(f"/practices/{pid}/proposals", headers=api.admin, json=long_note),
        "note",
    )
    refused = await api.http.post(
        f"/console/agent/visits/{pid}/proposal", data={"csrf_token": csrf(page), **long_note}
    )
    assert refused.status_code == 422, refused.text
    assert shown_error(refused, f"v{task['id']}-proposal-note") == message

    # a plan in two instalments adding up to the balance (1250.40)
    plan = {
        "kind": "plan",
        "due_date_0": first.isoformat(),
        "instalment_0": "625.20",
        "due_date_1": second.isoformat(),
        "instalment_1": "625.20",
        "note": "due rate concordate alla visita",
    }
    sent = await api.http.post(
        f"/console/agent/visits/{pid}/proposal", data={"csrf_token": csrf(page), **plan}
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/console/agent/visits?proposed=1"

    async def in_force() -> Any:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        return view["plan"]

    found = await eventually(in_force, "the plan on the practice", seconds=30)
    assert [(i["due_date"], i["amount"]) for i in found["instalments"]] == [
        (first.isoformat(), "625.20"),
        (second.isoformat(), "625.20"),
    ]
    notes = (await api.http.get(f"/practices/{pid}/notes", headers=api.admin)).json()
    assert any("due rate concordate" in str(n) and agent["id"] in str(n) for n in notes), notes


async def test_a_field_agent_reports_a_debtor_who_moved_with_the_new_address(api: Api) -> None:
    """moved with the new address: the API's validation next to each field, then the address
    replaced on the practice once the workflow accepted it; the workflow, its events and the
    timeline get only that there is one."""
    # Trento: no other test has a field agent there, so this one is assigned
    tenant = await new_creditor(
        api,
        only(
            "contact_check",
            "reminder_letter",
            "home_visit",
            "legal_notice",
            visit_outcome_timeout="PT120S",
        ),
    )
    agent, password = await person(api, role="field_agent", provinces=["TN"])
    practice = await hand_over(
        api, tenant.headers, practice_payload(tenant.id, due_in_days=-120, province="TN")
    )
    pid = practice["id"]

    async def visit() -> Any:
        listed = await api.http.get("/worklists/visits", headers=api.admin, params={"limit": 200})
        return next((t for t in listed.json()["items"] if t["practice_id"] == pid), None)

    task = await eventually(visit, "the home visit", seconds=60)
    await log_in(api, agent["email"], password)
    page = await api.http.get("/console/agent/visits")
    assert f'id="v{task["id"]}-new_street"' in page.text  # the fields, without JavaScript
    new = {
        "new_street": "Via Piave 3",
        "new_city": "Rovereto",
        "new_postal_code": "3806",
        "new_province": "TN",
    }
    bad_cap = {"street": "Via Piave 3", "city": "Rovereto", "postal_code": "3806"}
    message = await api_message(
        await api.http.post(
            f"/practices/{pid}/visit-outcomes",
            headers=api.admin,
            json={"outcome": "moved", "new_address": {**bad_cap, "province": "TN"}},
        ),
        "postal_code",
    )
    refused = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={"csrf_token": csrf(page), "outcome": "moved", **new},
    )
    assert refused.status_code == 422, refused.text
    assert shown_error(refused, f"v{task['id']}-new_postal_code") == message
    assert shown_error(refused, f"v{task['id']}-new_street") is None
    assert 'value="Rovereto"' in refused.text  # as typed
    # an address with another outcome: the API's refusal, next to the fieldset
    wrong = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={"csrf_token": csrf(page), "outcome": "refused", **new, "new_postal_code": "38068"},
    )
    assert wrong.status_code == 422
    assert (
        shown_error(wrong, f"v{task['id']}-new_address")
        == "Value error, only a debtor who moved has a new address"
    )

    recorded = await api.http.post(
        f"/console/agent/visits/{pid}/outcome",
        data={"csrf_token": csrf(page), "outcome": "moved", **new, "new_postal_code": "38068"},
    )
    assert recorded.status_code == 303, recorded.text

    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["debtor"]["address"] == {
        "street": "Via Piave 3",
        "city": "Rovereto",
        "postal_code": "38068",
        "province": "TN",
        "country": "IT",
        # an Italian address's region and zone (debtors abroad, issue 16)
        "region": "",
        "time_zone": "Europe/Rome",
    }

    async def events() -> Any:
        listed = await api.http.get(f"/practices/{pid}/events", headers=api.admin)
        found = listed.json()
        return found if any(e["kind"] == "visit_new_address" for e in found) else None

    timeline = await eventually(events, "the new address on the timeline", seconds=30)
    assert "Via Piave" not in str(timeline) and "Rovereto" not in str(timeline)
    outcome = next(e for e in timeline if e["kind"] == "visit_outcome")
    assert outcome["data"]["outcome"] == "moved"
    assert next(e for e in timeline if e["kind"] == "visit_new_address")["data"]["address"]


async def test_why_a_visit_must_wait_is_said_in_the_pages_language(api: Api) -> None:
    """On a Sunday no visit is allowed: the list says from when, and why, in Italian (the
    contact rules' reason is English in the API's answer)."""
    tenant = await new_creditor(
        api, only("contact_check", "reminder_letter", "home_visit", visit_outcome_timeout="PT120S")
    )
    agent, password = await person(api, role="field_agent", provinces=["VB"])
    payload = practice_payload(tenant.id, due_in_days=-120, province="VB")
    practice = await hand_over(api, tenant.headers, payload)

    async def visit() -> Any:
        listed = await api.http.get("/worklists/visits", headers=api.admin, params={"limit": 200})
        return next((t for t in listed.json()["items"] if t["practice_id"] == practice["id"]), None)

    await eventually(visit, "the home visit", seconds=60)
    app = api.app
    # Sunday 6 December 2026, 11:00 in Rome
    app.dependency_overrides[get_now] = lambda: datetime(2026, 12, 6, 11, 0, tzinfo=ROME)
    # (tests/api/conftest.py puts the suite's clock back after the test)
    await log_in(api, agent["email"], password)
    page = await api.http.get("/console/agent/visits")
    assert page.status_code == 200, page.text
    assert practice["reference"] in page.text
    assert "fuori dagli orari di contatto" in page.text
    assert "outside the contact hours" not in page.text
