"""Reading practices: the tenant boundary, territories, lists, timeline, documents."""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    Api,
    Tenant,
    assign_directly,
    error_locs,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
)


@pytest.fixture(scope="module")
async def two_tenants(api: Api) -> tuple[Tenant, Tenant]:
    return await new_creditor(api), await new_creditor(api)


async def test_creditor_b_cannot_see_or_touch_creditor_a_practice(
    api: Api, two_tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = two_tenants
    practice = await hand_over(api, a.headers, practice_payload(a.id))
    pid = practice["id"]

    assert (await api.http.get(f"/practices/{pid}", headers=a.headers)).status_code == 200
    for method, path, body in (
        ("GET", f"/practices/{pid}", None),
        ("GET", f"/practices/{pid}/events", None),
        ("GET", f"/practices/{pid}/documents", None),
        (
            "POST",
            f"/practices/{pid}/payments",
            {"amount": "1.00", "paid_on": "2026-01-01", "reference": "x"},
        ),
        ("POST", f"/practices/{pid}/withdrawal", {"reason": "not mine"}),
        ("POST", f"/practices/{pid}/contacts", {"phone": "+393339999999"}),
    ):
        response = await api.http.request(method, path, headers=b.headers, json=body)
        assert response.status_code == 403, (method, path, response.text)

    listed = await api.http.get("/practices", headers=b.headers)
    assert listed.status_code == 200
    assert pid not in {p["id"] for p in listed.json()["items"]}
    assert all(p["creditor_id"] == b.id for p in listed.json()["items"])
    by_reference = await api.http.get(
        "/practices", headers=b.headers, params={"reference": practice["reference"]}
    )
    assert by_reference.json()["total"] == 0
    asked = await api.http.get("/practices", headers=b.headers, params={"creditor_id": a.id})
    assert asked.status_code == 403

    mine = await api.http.get(
        "/practices", headers=a.headers, params={"reference": practice["reference"]}
    )
    assert [p["id"] for p in mine.json()["items"]] == [pid]
    assert mine.json()["items"][0]["debtor_name"] == "Mario Rossi"
    # the practice is untouched by B's attempts
    after = (await api.http.get(f"/practices/{pid}", headers=a.headers)).json()
    assert after["status"] == "active" and after["debtor"]["phone"] == "+393331234567"


async def test_unknown_practice_is_404(api: Api) -> None:
    for path in (
        "/practices/nope",
        "/practices/nope/events",
        "/practices/nope/documents",
        "/practices/nope/documents/x",
    ):
        assert (await api.http.get(path, headers=api.admin)).status_code == 404, path
    response = await api.http.post(
        "/practices/nope/disputes", headers=api.admin, json={"reason": "x"}
    )
    assert response.status_code == 404


async def test_a_field_agent_sees_the_debtors_of_its_visits_only(
    api: Api, two_tenants: tuple[Tenant, Tenant]
) -> None:
    """Issue 11, point 11: its visits' debtors, not every practice of its provinces."""
    a, _ = two_tenants
    visited = await hand_over(api, a.headers, practice_payload(a.id, province="MI"))
    neighbour = await hand_over(api, a.headers, practice_payload(a.id, province="MI"))
    agent_id, agent = await new_user(api, "field_agent", provinces=["MI", "MB"])
    await assign_directly(api, visited["id"], field_agent_id=agent_id)

    seen = await api.http.get(f"/practices/{visited['id']}", headers=agent)
    assert seen.status_code == 200
    assert seen.json()["debtor"]["name"] == "Mario Rossi"
    # in its province, but not its visit: nothing
    assert (await api.http.get(f"/practices/{neighbour['id']}", headers=agent)).status_code == 403
    assert (
        await api.http.get(f"/practices/{neighbour['id']}/documents", headers=agent)
    ).status_code == 403

    listed = (await api.http.get("/practices", headers=agent, params={"limit": 200})).json()
    assert [p["id"] for p in listed["items"]] == [visited["id"]]
    assert listed["total"] == 1


async def test_a_lawyer_sees_the_practices_assigned_to_it_the_operator_all(
    api: Api, two_tenants: tuple[Tenant, Tenant]
) -> None:
    """Issue 11, point 11: a lawyer sees its practices, not every creditor's debtors."""
    a, b = two_tenants
    pa = await hand_over(api, a.headers, practice_payload(a.id))
    pb = await hand_over(api, b.headers, practice_payload(b.id))
    _, operator = await new_user(api, "operator")
    for practice in (pa, pb):
        got = await api.http.get(f"/practices/{practice['id']}", headers=operator)
        assert got.status_code == 200
        assert got.json()["debtor"]["name"] == "Mario Rossi"
    filtered = await api.http.get("/practices", headers=operator, params={"creditor_id": b.id})
    assert {p["creditor_id"] for p in filtered.json()["items"]} == {b.id}

    lawyer_id, lawyer = await new_user(api, "lawyer")
    await assign_directly(api, pa["id"], lawyer_id=lawyer_id)
    got = await api.http.get(f"/practices/{pa['id']}", headers=lawyer)
    assert got.status_code == 200
    assert got.json()["debtor"]["name"] == "Mario Rossi"
    assert (await api.http.get(f"/practices/{pb['id']}", headers=lawyer)).status_code == 403
    listed = (await api.http.get("/practices", headers=lawyer, params={"limit": 200})).json()
    assert [p["id"] for p in listed["items"]] == [pa["id"]]

    # the lawyer who took the court steps over sees the practice too
    other_id, other = await new_user(api, "lawyer")
    await assign_directly(api, pb["id"], judicial={"lawyer_id": other_id})
    assert (await api.http.get(f"/practices/{pb['id']}", headers=other)).status_code == 200
    listed = (await api.http.get("/practices", headers=other, params={"limit": 200})).json()
    assert [p["id"] for p in listed["items"]] == [pb["id"]]


async def test_list_filters_and_pagination(api: Api) -> None:
    tenant = await new_creditor(api)
    created = [await hand_over(api, tenant.headers, practice_payload(tenant.id)) for _ in range(3)]
    first = await api.http.get("/practices", headers=tenant.headers, params={"limit": 2})
    body = first.json()
    assert body["total"] == 3 and body["limit"] == 2 and body["offset"] == 0
    assert len(body["items"]) == 2
    rest = await api.http.get(
        "/practices", headers=tenant.headers, params={"limit": 2, "offset": 2}
    )
    ids = [p["id"] for p in body["items"]] + [p["id"] for p in rest.json()["items"]]
    # newest first, each exactly once
    assert ids == [p["id"] for p in reversed(created)]

    filtered = await api.http.get(
        "/practices",
        headers=tenant.headers,
        params={"status": "active", "phase": "pre_due", "creditor_id": tenant.id},
    )
    assert filtered.json()["total"] == 3
    none = await api.http.get("/practices", headers=tenant.headers, params={"outcome": "paid"})
    assert none.json()["total"] == 0

    too_many = await api.http.get("/practices", headers=tenant.headers, params={"limit": 500})
    assert too_many.status_code == 422 and ["query", "limit"] in error_locs(too_many)
    bad_status = await api.http.get("/practices", headers=tenant.headers, params={"status": "x"})
    assert bad_status.status_code == 422 and ["query", "status"] in error_locs(bad_status)
    negative = await api.http.get("/practices", headers=tenant.headers, params={"offset": -1})
    assert negative.status_code == 422 and ["query", "offset"] in error_locs(negative)
