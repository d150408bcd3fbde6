"""The admin assigns or reassigns a home visit (issue 16), on the real worker: POST
/practices/{id}/visit/assignee and the console's form on the visit list call one service
(api/services/visits.py); a correspondent made, or given countries, takes the visits that
waited for one of them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.console import routes_agent_visits
from api.console.i18n import refusal_text
from api.services.visits import DOES_NOT_COVER, NO_SUCH_USER, NOT_A_VISITOR
from tests.api.helpers import Api, error_locs, eventually, hand_over, new_creditor
from tests.api.test_console_lawyer import alert, shown_error
from tests.api.test_console_logins import csrf, log_in, person
from tests.api.test_correspondents import VISIT_ONLY, abroad, events, visit_of
from workflows.practice.steps import VISIT_ASSIGNED_BY_ADMIN

# countries no other test gives a correspondent (the test database is shared): the waiting
# visits here are only this file's
TOKYO = {"country": "JP", "city": "Tokyo", "postal_code": "100-0001", "region": "Tokyo"}
JOHANNESBURG = {"country": "ZA", "city": "Johannesburg", "postal_code": "2001", "region": "Gauteng"}
BANGKOK = {"country": "TH", "city": "Bangkok", "postal_code": "10200", "region": "Bangkok"}
NAIROBI = {"country": "KE", "city": "Nairobi", "postal_code": "00100"}


def assign(api: Api, practice_id: str, user_id: Any, headers: dict[str, str] | None = None) -> Any:
    return api.http.post(
        f"/practices/{practice_id}/visit/assignee",
        headers=headers if headers is not None else api.admin,
        json={"user_id": user_id},
    )


def bearer(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {user['key']}"}


async def test_the_admin_assigns_and_reassigns_a_waiting_visit(api: Api) -> None:
    tenant = await new_creditor(api, VISIT_ONLY)
    other = await new_creditor(api, VISIT_ONLY)
    korea, _ = await person(api, role="correspondent", countries=["KR"])
    agent, _ = await person(api, role="field_agent", provinces=["MI"])
    operator, _ = await person(api, role="operator")
    gone, _ = await person(api, role="field_agent", provinces=["MI"])
    assert (await api.http.post(f"/users/{gone['id']}/deactivate", headers=api.admin)).is_success
    practice = await hand_over(api, tenant.headers, abroad(tenant.id, TOKYO))
    pid = practice["id"]
    task = await visit_of(api, pid, unassigned="true")
    assert task["assignee_id"] is None

    assert (await assign(api, "no-such-practice", agent["id"])).status_code == 404
    # the admin only; another creditor's practice is outside the boundary before the role
    for who in (tenant.headers, bearer(operator), bearer(agent)):
        refused = await assign(api, pid, agent["id"], who)
        assert refused.status_code == 403, refused.text
    assert (await assign(api, pid, agent["id"], other.headers)).status_code == 403

    for user_id, message in (
        ("no-such-user", NO_SUCH_USER),
        (gone["id"], NO_SUCH_USER),
        (operator["id"], NOT_A_VISITOR),
        (korea["id"], DOES_NOT_COVER),  # Korea's correspondent, a debtor in Japan
    ):
        wrong = await assign(api, pid, user_id)
        assert wrong.status_code == 422, wrong.text
        assert error_locs(wrong) == [["body", "user_id"]]
        assert wrong.json()["detail"][0]["msg"] == message
    empty = await assign(api, pid, "")
    assert empty.status_code == 422 and error_locs(empty) == [["body", "user_id"]]
    assert (await visit_of(api, pid))["assignee_id"] is None  # nothing half-written

    done = await assign(api, pid, agent["id"])
    assert done.status_code == 200, done.text
    assert done.json()["accepted"] is True and done.json()["message"] == "home visit assigned"
    assert (await visit_of(api, pid))["assignee_id"] == agent["id"]
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["field_agent_id"] == agent["id"]
    # the agent sees the visit on its own list now, and may report it
    mine = await api.http.get("/worklists/visits", headers=bearer(agent), params={"limit": 200})
    assert pid in {t["practice_id"] for t in mine.json()["items"]}

    # reassigned to a correspondent who now covers Japan
    changed = await api.http.put(
        f"/users/{korea['id']}/countries", headers=api.admin, json={"countries": ["KR", "JP"]}
    )
    assert changed.status_code == 200 and changed.json()["visits_assigned"] == 0  # assigned
    again = await assign(api, pid, korea["id"])
    assert again.status_code == 200 and again.json()["accepted"] is True
    assert (await visit_of(api, pid))["assignee_id"] == korea["id"]
    assert (await api.http.get(f"/practices/{pid}", headers=bearer(agent))).status_code == 403
    summaries = [e["summary"] for e in await events(api, pid) if e["kind"] == "visit_assigned"]
    assert summaries == [VISIT_ASSIGNED_BY_ADMIN] * 2

    reported = await api.http.post(
        f"/practices/{pid}/visit-outcomes", headers=bearer(korea), json={"outcome": "refused"}
    )
    assert reported.status_code == 200, reported.text

    async def over() -> Any:
        return "visit_outcome" in [e["kind"] for e in await events(api, pid)] or None

    await eventually(over, "the visit's outcome", seconds=30)
    late = await assign(api, pid, agent["id"])
    assert late.status_code == 409, late.text
    assert late.json()["detail"] == "no visit outcome is expected now"


async def test_a_correspondent_made_or_given_a_country_takes_its_waiting_visits(
    api: Api,
) -> None:
    tenant = await new_creditor(api, VISIT_ONLY)
    in_za = await hand_over(api, tenant.headers, abroad(tenant.id, JOHANNESBURG))
    in_th = await hand_over(api, tenant.headers, abroad(tenant.id, BANGKOK))
    for practice in (in_za, in_th):
        assert (await visit_of(api, practice["id"], unassigned="true"))["assignee_id"] is None

    made = await api.http.post(
        "/users",
        headers=api.admin,
        json={"name": "Thandi", "role": "correspondent", "countries": ["ZA"]},
    )
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["visits_assigned"] == 1
    assert (await visit_of(api, in_za["id"]))["assignee_id"] == user["id"]
    assert (await visit_of(api, in_th["id"]))["assignee_id"] is None

    changed = await api.http.put(
        f"/users/{user['id']}/countries", headers=api.admin, json={"countries": ["ZA", "TH"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["visits_assigned"] == 1
    assert (await visit_of(api, in_th["id"]))["assignee_id"] == user["id"]
    mine = await api.http.get("/worklists/visits", headers=bearer(user), params={"limit": 200})
    assert {t["practice_id"] for t in mine.json()["items"]} == {in_za["id"], in_th["id"]}
    notices = [e for e in await events(api, in_th["id"]) if e["kind"] == "visit_assigned"]
    assert [e["summary"] for e in notices] == [VISIT_ASSIGNED_BY_ADMIN]
    assert "TH" not in notices[0]["summary"].split()  # no country in the history
    # nothing left waiting: the same countries again assign nothing
    same = await api.http.put(
        f"/users/{user['id']}/countries", headers=api.admin, json={"countries": ["TH", "ZA"]}
    )
    assert same.status_code == 200 and same.json()["visits_assigned"] == 0


def options(page: Any, select_id: str) -> list[str]:
    found = re.search(rf'<select id="{re.escape(select_id)}"[^>]*>(.*?)</select>', page.text, re.S)
    assert found is not None, page.text[:2000]
    return re.findall(r'<option value="([^"]*)"', found.group(1))


async def nobody_may(_session: object, _countries: object) -> dict[str, list[object]]:
    """`eligible_by_practice` on an agency with no active visitor for any of them."""
    return {}


async def test_the_admin_assigns_a_visit_on_the_console(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await new_creditor(api, VISIT_ONLY)
    practice = await hand_over(api, tenant.headers, abroad(tenant.id, NAIROBI))
    pid = practice["id"]
    task = await visit_of(api, pid, unassigned="true")
    field = f"v{task['id']}-assignee"
    agent, _ = await person(api, role="field_agent", provinces=["TO"])
    admin, password = await person(api, role="admin")
    await log_in(api, admin["email"], password)
    # waiting, with someone who may make it: the notice points at the form below
    waiting = await api.http.get("/console/agent/visits")
    assert "Assegna la visita qui sotto, invita un corrispondente per KE" in waiting.text
    assert agent["id"] in options(waiting, field)
    # with nobody who may make it there is no form below, and the notice says what is left
    with monkeypatch.context() as patched:
        patched.setattr(routes_agent_visits.visit_service, "eligible_by_practice", nobody_may)
        alone = await api.http.get("/console/agent/visits")
    assert "Invita un corrispondente per KE" in alone.text
    assert "Assegna la visita qui sotto" not in alone.text and f'id="{field}"' not in alone.text
    kenya, _ = await person(api, role="correspondent", countries=["KE"])  # takes it at once
    assert (await visit_of(api, pid))["assignee_id"] == kenya["id"]
    morocco, _ = await person(api, role="correspondent", countries=["MA"])

    page = await api.http.get("/console/agent/visits")
    assert page.status_code == 200, page.text
    choices = options(page, field)
    # the eligible active visitors: any field agent, the correspondents of Kenya only
    assert choices[0] == "" and {kenya["id"], agent["id"]} <= set(choices)
    assert morocco["id"] not in choices
    assert f'<option value="{kenya["id"]}" selected>' in page.text
    assert 'hx-post="/console/agent/visits/' + pid + '/assignee"' in page.text

    # a correspondent of another country sent anyway: the API's message next to the field
    refused = await api.http.post(
        f"/console/agent/visits/{pid}/assignee",
        data={"csrf_token": csrf(page), "user_id": morocco["id"]},
    )
    assert refused.status_code == 422
    assert shown_error(refused, field) == refusal_text("it", DOES_NOT_COVER).replace("'", "&#39;")
    assert refusal_text("it", DOES_NOT_COVER) != DOES_NOT_COVER  # in Italian
    nobody = await api.http.post(
        f"/console/agent/visits/{pid}/assignee", data={"csrf_token": csrf(page), "user_id": ""}
    )
    assert nobody.status_code == 422 and shown_error(nobody, field)
    # without the CSRF token nothing happens
    forged = await api.http.post(f"/console/agent/visits/{pid}/assignee", data={"user_id": "x"})
    assert forged.status_code == 403

    done = await api.http.post(
        f"/console/agent/visits/{pid}/assignee",
        data={"csrf_token": csrf(page), "user_id": agent["id"]},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/console/agent/visits?assigned=1"
    assert (await visit_of(api, pid))["assignee_id"] == agent["id"]
    shown = await api.http.get(done.headers["location"])
    assert f'<option value="{agent["id"]}" selected>' in shown.text

    # the visit over: the workflow's 409 in the alert, in Italian
    reported = await api.http.post(
        f"/practices/{pid}/visit-outcomes", headers=bearer(agent), json={"outcome": "refused"}
    )
    assert reported.status_code == 200, reported.text

    async def over() -> Any:
        return "visit_outcome" in [e["kind"] for e in await events(api, pid)] or None

    await eventually(over, "the visit's outcome", seconds=30)
    late = await api.http.post(
        f"/console/agent/visits/{pid}/assignee",
        data={"csrf_token": csrf(shown), "user_id": kenya["id"]},
    )
    assert late.status_code == 409
    assert alert(late) == refusal_text("it", "no visit outcome is expected now")

    # a field agent has no such form, and may not send it
    agent_user, agent_password = await person(api, role="field_agent", provinces=["TO"])
    await log_in(api, agent_user["email"], agent_password)
    theirs = await api.http.get("/console/agent/visits")
    assert "/assignee" not in theirs.text
