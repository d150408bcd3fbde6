"""Changing a user's role and deactivating one (PUT /users/{id}/role, POST .../deactivate): the
functions the console's users page calls too (api/services/users.py)."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Api


async def _user(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.http.post("/users", headers=api.admin, json={"name": "Ugo", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_deactivated_user_key_stops_working(api: Api) -> None:
    user = await _user(api, role="operator")
    headers = {"Authorization": f"Bearer {user['key']}"}
    assert (await api.http.get("/worklists/calls", headers=headers)).status_code == 200
    response = await api.http.post(f"/users/{user['id']}/deactivate", headers=api.admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert (await api.http.get("/worklists/calls", headers=headers)).status_code == 401


async def test_role_change_moves_what_the_key_may_do(api: Api) -> None:
    user = await _user(api, role="lawyer")
    headers = {"Authorization": f"Bearer {user['key']}"}
    assert (await api.http.get("/users", headers=headers)).status_code == 403
    response = await api.http.put(
        f"/users/{user['id']}/role", headers=api.admin, json={"role": "admin"}
    )
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert (await api.http.get("/users", headers=headers)).status_code == 200


async def test_role_changes_that_are_refused(api: Api) -> None:
    lawyer = await _user(api, role="lawyer")
    to_agent = await api.http.put(
        f"/users/{lawyer['id']}/role", headers=api.admin, json={"role": "field_agent"}
    )
    assert to_agent.status_code == 422
    assert to_agent.json()["detail"][0]["loc"] == ["body", "role"]
    bootstrap = await api.http.post("/users/admin/deactivate", headers=api.admin)
    assert bootstrap.status_code == 422
    assert bootstrap.json()["detail"][0]["loc"] == ["path", "user_id"]
    assert (await api.http.post("/users/nobody/deactivate", headers=api.admin)).status_code == 404
    not_admin = await api.http.post(
        f"/users/{lawyer['id']}/deactivate",
        headers={"Authorization": f"Bearer {lawyer['key']}"},
    )
    assert not_admin.status_code == 403
