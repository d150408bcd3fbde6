"""Foreign correspondents (issue 16, debtors abroad), on the real worker: the admin gives a
correspondent its countries; the home visit of a debtor outside the EU goes to the correspondent
covering its country, with the field agent's work list, outcomes and access; without one it
waits unassigned on the admin's list; a debtor in another EU country goes to a correspondent only
where the agency gave one that country. The pre-due reminders follow the debtor's clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.routers.worklists import NO_CORRESPONDENT
from tests.api.helpers import (
    Api,
    error_locs,
    eventually,
    hand_over,
    new_creditor,
    practice_payload,
    rome_today,
)
from tests.api.test_console_logins import person
from tests.api.test_paths import only
from workflows.practice.steps import VISIT_UNASSIGNED

# countries no other test gives a correspondent (the test database is shared): each test's
# debtors go to the correspondents it made, or to nobody
LONDON = {"country": "GB", "city": "London", "postal_code": "SW1A 2AA"}
REYKJAVIK = {"country": "IS", "city": "Reykjavík", "postal_code": "101"}
OSLO = {"country": "NO", "city": "Oslo", "postal_code": "0150"}
COPENHAGEN = {"country": "DK", "city": "København", "postal_code": "1050"}
STOCKHOLM = {"country": "SE", "city": "Stockholm", "postal_code": "111 22"}
NEW_YORK = {
    "country": "US",
    "city": "New York",
    "postal_code": "10001",
    "region": "NY",
    "time_zone": "America/New_York",
}
VISIT_ONLY = only("contact_check", "home_visit", visit_outcome_timeout="PT300S")


def abroad(creditor_id: str, address: dict[str, Any], due_in_days: int = -120) -> dict[str, Any]:
    payload = practice_payload(creditor_id, due_in_days=due_in_days)
    payload["debtor"] = {
        "kind": "consumer",
        "name": "Debtor Abroad",
        "email": "debtor@example.com",
        "address": {"street": "Main street 1", **address},
    }
    return payload


async def visit_of(api: Api, practice_id: str, **params: Any) -> Any:
    async def find() -> Any:
        listed = await api.http.get(
            "/worklists/visits", headers=api.admin, params={"limit": 200, **params}
        )
        assert listed.status_code == 200, listed.text
        return next((t for t in listed.json()["items"] if t["practice_id"] == practice_id), None)

    return await eventually(find, f"the home visit of {practice_id}", seconds=60)


async def events(api: Api, practice_id: str) -> list[dict[str, Any]]:
    response = await api.http.get(f"/practices/{practice_id}/events", headers=api.admin)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def events_of(api: Api, practice_id: str, kind: str) -> list[dict[str, Any]]:
    """The practice's events of `kind`, waiting for the first: a step's timeline event is
    written at the practice's next write, a moment after the task it opened."""

    async def found() -> Any:
        return [e for e in await events(api, practice_id) if e["kind"] == kind] or None

    listed: list[dict[str, Any]] = await eventually(found, f"a {kind} event", seconds=60)
    return listed


async def test_the_admin_gives_a_correspondent_its_countries(api: Api) -> None:
    def create(role: str, **extra: Any) -> Any:
        return api.http.post(
            "/users",
            headers=api.admin,
            json={"name": "Kim", "role": role, "email": "kim@example.com", **extra},
        )

    missing = await create("correspondent")
    assert missing.status_code == 422 and error_locs(missing) == [["body", "countries"]]
    for countries in (["IT"], ["XX"], ["CH", "zz"]):
        wrong = await create("correspondent", countries=countries)
        assert wrong.status_code == 422, wrong.text
        assert error_locs(wrong) == [["body", "countries"]]
    agent = await create("field_agent", provinces=["MI"], countries=["CH"])
    assert agent.status_code == 422 and error_locs(agent) == [["body", "countries"]]

    made = await create("correspondent", countries=["us", "CH", "US"])
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["role"] == "correspondent" and user["countries"] == ["CH", "US"]
    assert user["provinces"] == []

    changed = await api.http.put(
        f"/users/{user['id']}/countries", headers=api.admin, json={"countries": ["br"]}
    )
    assert changed.status_code == 200 and changed.json()["countries"] == ["BR"]
    for body in ({"countries": []}, {"countries": ["IT"]}, {}):
        refused = await api.http.put(f"/users/{user['id']}/countries", headers=api.admin, json=body)
        assert refused.status_code == 422 and error_locs(refused) == [["body", "countries"]]
    unknown = await api.http.put(
        "/users/no-such-user/countries", headers=api.admin, json={"countries": ["CH"]}
    )
    assert unknown.status_code == 404
    operator, _ = await person(api, role="operator")
    not_theirs = await api.http.put(
        f"/users/{operator['id']}/countries", headers=api.admin, json={"countries": ["CH"]}
    )
    assert not_theirs.status_code == 422 and error_locs(not_theirs) == [["body", "countries"]]
    # a correspondent is made with its countries: no role change into it; out of it, none left
    into = await api.http.put(
        f"/users/{operator['id']}/role", headers=api.admin, json={"role": "correspondent"}
    )
    assert into.status_code == 422
    out = await api.http.put(
        f"/users/{user['id']}/role", headers=api.admin, json={"role": "operator"}
    )
    assert out.status_code == 200 and out.json()["countries"] == []
    listed = await api.http.get("/users", headers=api.admin, params={"role": "operator"})
    assert {u["id"] for u in listed.json()} >= {user["id"], operator["id"]}


async def test_a_debtor_outside_the_eu_goes_to_the_correspondent_of_its_country(
    api: Api,
) -> None:
    tenant = await new_creditor(api, VISIT_ONLY)
    london, _ = await person(api, role="correspondent", countries=["GB"])
    iceland, _ = await person(api, role="correspondent", countries=["IS", "FO"])
    agent, _ = await person(api, role="field_agent", provinces=["MI"])

    in_london = await hand_over(api, tenant.headers, abroad(tenant.id, LONDON))
    in_iceland = await hand_over(api, tenant.headers, abroad(tenant.id, REYKJAVIK))
    gb_visit = await visit_of(api, in_london["id"])
    is_visit = await visit_of(api, in_iceland["id"])
    assert gb_visit["assignee_id"] == london["id"] and gb_visit["unassigned_reason"] is None
    assert is_visit["assignee_id"] == iceland["id"]
    assert gb_visit["address"]["country"] == "GB"
    view = (await api.http.get(f"/practices/{in_london['id']}", headers=api.admin)).json()
    assert view["field_agent_id"] == london["id"]
    assigned = await events_of(api, in_london["id"], "visit_assigned")
    assert assigned[0]["summary"].startswith("Home visit assigned to a foreign correspondent")

    # the work list and the access of a field agent: its own visits only
    key = {"Authorization": f"Bearer {london['key']}"}
    mine = await api.http.get("/worklists/visits", headers=key)
    assert mine.status_code == 200
    assert [t["practice_id"] for t in mine.json()["items"]] == [in_london["id"]]
    assert (await api.http.get(f"/practices/{in_london['id']}", headers=key)).status_code == 200
    other = await api.http.get(f"/practices/{in_iceland['id']}", headers=key)
    assert other.status_code == 403
    for someone in (iceland, agent):
        theirs = {"Authorization": f"Bearer {someone['key']}"}
        refused = await api.http.post(
            f"/practices/{in_london['id']}/visit-outcomes",
            headers=theirs,
            json={"outcome": "refused"},
        )
        assert refused.status_code == 403, refused.text
    # nor another's work lists: a correspondent is no operator
    assert (await api.http.get("/worklists/calls", headers=key)).status_code == 403

    promised = (rome_today() + timedelta(days=7)).isoformat()
    recorded = await api.http.post(
        f"/practices/{in_london['id']}/visit-outcomes",
        headers=key,
        json={"outcome": "promise", "promised_date": promised, "promised_amount": "600.00"},
    )
    assert recorded.status_code == 200, recorded.text

    async def promise() -> Any:
        shown = (await api.http.get(f"/practices/{in_london['id']}", headers=key)).json()
        return shown["promise"]

    found = await eventually(promise, "the promise on the practice", seconds=30)
    assert found == {"promised_date": promised, "amount": "600.00", "source": "visit"}


async def test_without_a_correspondent_the_visit_waits_on_the_admins_list(api: Api) -> None:
    tenant = await new_creditor(api, VISIT_ONLY)
    await person(api, role="correspondent", countries=["IS"])  # not Norway's
    practice = await hand_over(api, tenant.headers, abroad(tenant.id, OSLO))
    pid = practice["id"]
    task = await visit_of(api, pid, unassigned="true")
    assert task["assignee_id"] is None
    assert task["unassigned_reason"] == NO_CORRESPONDENT % {"country": "NO"}

    summary = (await events_of(api, pid, "visit_unassigned"))[0]["summary"]
    assert "step_skipped" not in [e["kind"] for e in await events(api, pid)]
    assert summary == VISIT_UNASSIGNED and "NO" not in summary.split()  # no country in history
    # an assigned visit is not on the unassigned list
    listed = await api.http.get(
        "/worklists/visits", headers=api.admin, params={"unassigned": "true", "limit": 200}
    )
    assert all(t["assignee_id"] is None for t in listed.json()["items"])

    # a correspondent covering Norway later takes the next visits; this one the admin reports
    recorded = await api.http.post(
        f"/practices/{pid}/visit-outcomes", headers=api.admin, json={"outcome": "not_found"}
    )
    assert recorded.status_code == 200, recorded.text

    async def done() -> Any:
        kinds = [e["kind"] for e in await events(api, pid)]
        return "visit_outcome" in kinds or None

    await eventually(done, "the visit's outcome", seconds=30)


async def test_a_debtor_in_the_eu_goes_to_a_correspondent_only_where_the_agency_sent_one(
    api: Api,
) -> None:
    tenant = await new_creditor(api, VISIT_ONLY)
    sweden, _ = await person(api, role="correspondent", countries=["SE"])
    in_stockholm = await hand_over(api, tenant.headers, abroad(tenant.id, STOCKHOLM))
    in_copenhagen = await hand_over(api, tenant.headers, abroad(tenant.id, COPENHAGEN))
    se_visit = await visit_of(api, in_stockholm["id"])
    assert se_visit["assignee_id"] == sweden["id"]

    # Denmark, in the EU, nobody covers it: as before correspondents, the visit is skipped
    found = await events_of(api, in_copenhagen["id"], "step_skipped")
    assert found[0]["summary"].startswith("Home visit skipped: no field agent covers")
    listed = await api.http.get("/worklists/visits", headers=api.admin, params={"limit": 200})
    assert in_copenhagen["id"] not in {t["practice_id"] for t in listed.json()["items"]}


async def test_the_pre_due_reminders_wait_for_the_debtors_own_morning(api: Api) -> None:
    tenant = await new_creditor(
        api, only("pre_due_reminders", "reminder_letter", pre_due_reminder_lead="P3D")
    )
    practice = await hand_over(api, tenant.headers, abroad(tenant.id, NEW_YORK, due_in_days=20))
    due = rome_today() + timedelta(days=20)
    lead = timedelta(days=3)  # the strategy's default pre_due_reminder_lead
    expected = datetime.combine(due, time(9, 0), tzinfo=ZoneInfo("America/New_York")) - lead

    async def next_action() -> Any:
        shown = (await api.http.get(f"/practices/{practice['id']}", headers=api.admin)).json()
        return shown["next_action_at"]

    at = await eventually(next_action, "the first reminder's moment", seconds=30)
    # 09:00 in New York (15:00 in Rome), plus the practice's offset of up to the contact spread
    # (RECUPERO_CONTACT_SPREAD_MINUTES, 120 by default): the reminders are not all at 09:00:00
    moment = datetime.fromisoformat(at)
    assert expected <= moment < expected + timedelta(minutes=120)
