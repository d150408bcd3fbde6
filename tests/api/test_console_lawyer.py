"""The lawyer's pages in the console, on the real worker: the opinion requests are GET
/worklists/opinions and the opinion POST /practices/{id}/legal-opinion, the deadlines GET
/worklists/deadlines, the court steps GET /practices/{id} and POST
/practices/{id}/judicial/<step>; the same functions with the same refusals."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.console import logins
from api.console.i18n import refusal_text
from db.models import User
from tests.api.helpers import Api, eventually, hand_over, new_creditor, practice_payload, rome_today
from tests.api.test_console_logins import csrf, log_in, person
from tests.api.test_judicial_api import add_deadline, row_practice
from tests.api.test_paths import only

TOMORROW = (rome_today() + timedelta(days=1)).isoformat()
YESTERDAY = (rome_today() - timedelta(days=1)).isoformat()


def shown_error(page: httpx.Response, field_id: str) -> str | None:
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', page.text)
    return found.group(1) if found else None


def alert(page: httpx.Response) -> str:
    found = re.search(r'role="alert"><p>([^<]*)</p>', page.text)
    assert found is not None, page.text[:2000]
    return found.group(1)


async def password_for(api: Api, user_id: str) -> tuple[dict[str, Any], str]:
    """An existing user with a new password, set through a new one-time invitation."""
    async with api.db.session() as session:
        row = await session.get(User, user_id)
        assert row is not None
        token = await logins.invite(session, api.settings, row, datetime.now(UTC))
        # a user made through the API without an e-mail chooses one on the invitation's page
        email = row.email or f"lawyer-{secrets.token_hex(4)}@example.it"
        user = {"id": row.id, "email": email}
    password = "pw-" + secrets.token_urlsafe(12)
    page = await api.http.get(f"/console/invitation/{token}")
    form = {"csrf_token": csrf(page), "password": password, "confirm": password}
    accepted = await api.http.post(
        f"/console/invitation/{token}", data=form if row.email else {**form, "email": email}
    )
    assert accepted.status_code == 303, accepted.text
    return user, password


async def api_message(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    message: str = next(e["msg"] for e in response.json()["detail"] if e["loc"][-1] == field)
    # the API's message, in the page's language (Italian) when the catalogue has it
    return refusal_text("it", message).replace("'", "&#39;")


async def test_a_lawyer_records_an_opinion(api: Api) -> None:
    tenant = await new_creditor(
        api,
        only(
            "contact_check",
            "reminder_letter",
            "legal_opinion",
            opinion_timeout="PT120S",
            authorization_timeout="PT300S",
            authorization_reminder_interval="PT120S",
        ),
    )
    # a lawyer registered before the hand-over, so the workflow has one to choose from
    await person(api, role="lawyer")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-90))
    pid, reference = practice["id"], practice["reference"]

    async def opinion_task() -> Any:
        listed = await api.http.get("/worklists/opinions", headers=api.admin, params={"limit": 200})
        items = listed.json()["items"]
        return next((t for t in items if t["practice_id"] == pid and t["assignee_id"]), None)

    task = await eventually(opinion_task, "the opinion request", seconds=60)
    # the lawyer the workflow chose (the least loaded of the module's): a password of their
    # own through a new invitation, as the admin's Users page gives one. A hand-made
    # assignment instead would race the workflow's read-model writes, which carry its choice
    lawyer, password = await password_for(api, task["assignee_id"])
    landed = await log_in(api, lawyer["email"], password)
    assert landed.headers["location"] == "/console/lawyer/opinions"
    page = await api.http.get("/console/lawyer/opinions")
    assert page.status_code == 200, page.text
    assert reference in page.text and "Mario Rossi" in page.text and "1.250,40\xa0€" in page.text

    # no answer to the question: the API's 422 message, next to the field
    message = await api_message(
        await api.http.post(f"/practices/{pid}/legal-opinion", headers=api.admin, json={}),
        "recommend_action",
    )
    refused = await api.http.post(
        f"/console/lawyer/opinions/{pid}", data={"csrf_token": csrf(page), "note": "manca"}
    )
    assert refused.status_code == 422
    assert shown_error(refused, f"{task['id']}-recommend_action") == message
    assert "manca" in refused.text  # what was typed is kept

    recorded = await api.http.post(
        f"/console/lawyer/opinions/{pid}",
        data={
            "csrf_token": csrf(page),
            "recommend_action": "true",
            "note": "credito documentato",
        },
    )
    assert recorded.status_code == 303, recorded.text
    assert recorded.headers["location"] == "/console/lawyer/opinions?recorded=1"

    async def authorization() -> Any:
        listed = await api.http.get("/worklists/authorizations", headers=tenant.headers)
        return next((t for t in listed.json()["items"] if t["practice_id"] == pid), None)

    await eventually(authorization, "the creditor's authorisation request", seconds=30)
    notes = (await api.http.get(f"/practices/{pid}/notes", headers=api.admin)).json()
    assert any("credito documentato" in str(n) and lawyer["id"] in str(n) for n in notes), notes
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    assert any((e.get("actor") or {}).get("id") == lawyer["id"] for e in events), events

    # the same workflow refusal as the API's, in the alert: the opinion was given
    page = await api.http.get("/console/lawyer/opinions")
    again = await api.http.post(
        f"/console/lawyer/opinions/{pid}",
        data={"csrf_token": csrf(page), "recommend_action": "true"},
    )
    api_again = await api.http.post(
        f"/practices/{pid}/legal-opinion", headers=api.admin, json={"recommend_action": True}
    )
    assert again.status_code == api_again.status_code == 409, (again.text, api_again.text)
    assert alert(again) == refusal_text("it", api_again.json()["detail"]).replace("'", "&#39;")


async def test_the_lawyers_pages_are_refused_to_other_roles(api: Api) -> None:
    practice = await row_practice(api, phase="judicial")
    operator, operator_password = await person(api, role="operator")
    agent, agent_password = await person(api, role="field_agent", provinces=["MI"])
    for user, password in ((operator, operator_password), (agent, agent_password)):
        await log_in(api, user["email"], password)
        for path in (
            "/console/lawyer/opinions",
            "/console/lawyer/deadlines",
            "/console/lawyer/practices",
            f"/console/lawyer/practices/{practice.id}",
            f"/console/lawyer/practices/{practice.id}/statement.pdf",
        ):
            response = await api.http.get(path)
            assert response.status_code == 403, (user["role"], path, response.status_code)
        page = await api.http.get("/console/account")
        posted = await api.http.post(
            f"/console/lawyer/practices/{practice.id}/steps/filing",
            data={"csrf_token": csrf(page), "filed_on": YESTERDAY},
        )
        assert posted.status_code == 403
        opinion = await api.http.post(
            f"/console/lawyer/opinions/{practice.id}",
            data={"csrf_token": csrf(page), "recommend_action": "true"},
        )
        assert opinion.status_code == 403


async def test_the_deadlines_nearest_first_overdue_marked_only_ones_own(api: Api) -> None:
    lawyer, password = await person(api, role="lawyer")
    other, _ = await person(api, role="lawyer")
    today = rome_today()
    mine = await row_practice(api, phase="judicial", lawyer_id=lawyer["id"])
    theirs = await row_practice(api, phase="judicial", lawyer_id=other["id"])
    await add_deadline(api, mine, "opposition", today + timedelta(days=20), lawyer["id"])
    await add_deadline(api, mine, "precetto_lapse", today - timedelta(days=2), lawyer["id"])
    await add_deadline(api, mine, "decree_service", today + timedelta(days=3), lawyer["id"])
    await add_deadline(api, mine, "precetto_term", today, lawyer["id"], status="met")
    await add_deadline(api, theirs, "opposition", today + timedelta(days=1), other["id"])

    await log_in(api, lawyer["email"], password)
    page = await api.http.get("/console/lawyer/deadlines")
    assert page.status_code == 200, page.text
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td>", page.text)
    assert [overdue != "" for overdue in rows] == [True, False, False]
    # the terms the creditor must meet are shown at their safe last day, and say so
    assert page.text.count("(ultimo giorno prudenziale)") == 2
    # the nearest last day first, as the API's list, and what to file for each
    api_list = await api.http.get(
        "/worklists/deadlines", headers=api.admin, params={"lawyer_id": lawyer["id"]}
    )
    kinds = [d["kind"] for d in api_list.json()["items"]]
    assert kinds == ["precetto_lapse", "decree_service", "opposition"]
    positions = [
        page.text.index(text)
        for text in ("Perenzione del precetto", "Notifica del decreto", "Opposizione al decreto")
    ]
    assert positions == sorted(positions)
    assert "scaduto da 2 giorni" in page.text and "tra 3 giorni" in page.text
    assert "Avviare il pignoramento entro questo giorno" in page.text
    assert theirs.reference not in page.text
    assert f'href="/console/lawyer/practices/{mine.id}"' in page.text


async def test_the_court_steps_page_and_its_forms(api: Api) -> None:
    lawyer, password = await person(api, role="lawyer")
    other, other_password = await person(api, role="lawyer")
    practice = await row_practice(
        api,
        phase="judicial",
        lawyer_id=lawyer["id"],
        judicial={"version": 1, "stage": "awaiting_filing", "lawyer_id": lawyer["id"]},
        judicial_version=1,
    )
    await add_deadline(
        api, practice, "decree_service", rome_today() + timedelta(days=30), lawyer["id"]
    )
    url = f"/console/lawyer/practices/{practice.id}"

    closed = await row_practice(api, phase="judicial", status="closed", outcome="paid")
    out_of_court = await row_practice(api, phase="out_of_court")

    await log_in(api, lawyer["email"], password)
    # found among the practices in court before it has any term
    listed = await api.http.get("/console/lawyer/practices")
    assert listed.status_code == 200, listed.text
    assert f'href="{url}">{practice.reference}<' in listed.text
    assert closed.reference not in listed.text and out_of_court.reference not in listed.text
    page = await api.http.get(url)
    assert page.status_code == 200, page.text
    assert "Da depositare" in page.text and "Notifica del decreto" in page.text
    assert 'action="' + url + '/steps/filing"' in page.text
    assert f'href="{url}/statement.pdf"' in page.text
    assert '<option value="Tribunale di Milano">' in page.text  # the seats to choose from

    # a date in the future and an unknown seat: the API's messages, next to their fields
    for body, field in (
        ({"filed_on": TOMORROW}, "filed_on"),
        ({"filed_on": YESTERDAY, "court": "Atlantide"}, "court"),
    ):
        message = await api_message(
            await api.http.post(
                f"/practices/{practice.id}/judicial/filing", headers=api.admin, json=body
            ),
            field,
        )
        refused = await api.http.post(
            f"{url}/steps/filing", data={"csrf_token": csrf(page), **body}
        )
        assert refused.status_code == 422, refused.text
        assert shown_error(refused, f"filing-{field}") == message

    # valid, but no court steps are running for this practice: the API's 409, in the alert
    valid = {"filed_on": YESTERDAY, "court": "Tribunale di Milano"}
    api_refusal = await api.http.post(
        f"/practices/{practice.id}/judicial/filing", headers=api.admin, json=valid
    )
    assert api_refusal.status_code == 409
    refused = await api.http.post(f"{url}/steps/filing", data={"csrf_token": csrf(page), **valid})
    assert refused.status_code == 409
    assert alert(refused) == refusal_text("it", api_refusal.json()["detail"])
    assert 'value="Tribunale di Milano"' in refused.text  # kept for the next try

    assert (
        await api.http.post(f"{url}/steps/nothing", data={"csrf_token": csrf(page)})
    ).status_code == 404

    # the statement of account, as the API prints it
    pdf = await api.http.get(f"{url}/statement.pdf")
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    # another lawyer: the API's 403 on the steps
    await log_in(api, other["email"], other_password)
    page = await api.http.get("/console/account")
    stolen = await api.http.post(f"{url}/steps/filing", data={"csrf_token": csrf(page), **valid})
    assert stolen.status_code == 403, re.findall(r"role=.alert.*", stolen.text)


async def test_each_page_is_refused_exactly_when_the_api_refuses_its_list(api: Api) -> None:
    """Every role against the console's lists and the API's work lists they show. (The court
    pages read GET /practices, open to every role at the API: they are the lawyer's work place,
    refused to the others by the role check, see test_the_lawyers_pages_are_refused_...)"""
    tenant = await new_creditor(api)
    pairs = {
        "/console/lawyer/opinions": "/worklists/opinions",
        "/console/lawyer/deadlines": "/worklists/deadlines",
        "/console/agent/visits": "/worklists/visits",
    }
    roles: list[tuple[str, dict[str, Any]]] = [
        ("admin", {}),
        ("operator", {}),
        ("lawyer", {}),
        ("field_agent", {"provinces": ["MI"]}),
        ("creditor", {"creditor_id": tenant.id}),
    ]
    for role, extra in roles:
        user, password = await person(api, role=role, **extra)
        created = await api.http.post(
            "/users",
            headers=api.admin,
            json={"name": "Chiave", "role": role, "email": f"k-{user['email']}", **extra},
        )
        assert created.status_code == 201, created.text
        key = {"Authorization": f"Bearer {created.json()['key']}"}
        await log_in(api, user["email"], password)
        for page, endpoint in pairs.items():
            console_status = (await api.http.get(page)).status_code
            api_status = (await api.http.get(endpoint, headers=key)).status_code
            assert (console_status == 403) == (api_status == 403), (role, page, api_status)
            assert console_status in (200, 403), (role, page, console_status)


@pytest.mark.parametrize(
    ("stage", "step", "body", "field"),
    [
        (
            "awaiting_decree",
            "decree",
            {"issued_on": YESTERDAY, "opposition_days": "0"},
            "opposition_days",
        ),
        ("awaiting_service", "service", {"served_on": TOMORROW}, "served_on"),
        ("opposition_term", "opposition", {"filed_on": TOMORROW}, "filed_on"),
        ("decree_final", "precetto", {"served_on": YESTERDAY, "term_days": "9"}, "term_days"),
        ("precetto_term", "precetto-opposition", {"filed_on": TOMORROW}, "filed_on"),
        ("awaiting_pignoramento", "pignoramento", {"started_on": TOMORROW}, "started_on"),
        ("pignoramento", "pignoramento-outcome", {"outcome": "assigned"}, "amount"),
        (
            "lawsuit",
            "lawsuit",
            {"outcome": "pending", "next_hearing": "1900-01-01"},
            "next_hearing",
        ),
        (
            "precetto_opposed",
            "precetto-opposition-outcome",
            {"upheld": "false", "resumes_on": TOMORROW},
            "resumes_on",
        ),
    ],
)
async def test_each_court_step_form_shows_the_api_s_422_next_to_its_field(
    api: Api, stage: str, step: str, body: dict[str, str], field: str
) -> None:
    lawyer, password = await person(api, role="lawyer")
    practice = await row_practice(
        api,
        phase="judicial",
        lawyer_id=lawyer["id"],
        judicial={"version": 1, "stage": stage, "lawyer_id": lawyer["id"]},
        judicial_version=1,
    )
    url = f"/console/lawyer/practices/{practice.id}"
    await log_in(api, lawyer["email"], password)
    page = await api.http.get(url)
    assert page.status_code == 200, page.text
    assert f'action="{url}/steps/{step}"' in page.text  # the form the stage expects
    as_json: dict[str, Any] = {
        k: (int(v) if k.endswith("_days") else v == "true" if k == "upheld" else v)
        for k, v in body.items()
    }
    message = await api_message(
        await api.http.post(
            f"/practices/{practice.id}/judicial/{step}", headers=api.admin, json=as_json
        ),
        field,
    )
    refused = await api.http.post(f"{url}/steps/{step}", data={"csrf_token": csrf(page), **body})
    assert refused.status_code == 422, refused.text
    assert shown_error(refused, f"{step}-{field}") == message
