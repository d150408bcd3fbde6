"""API keys, roles and the admin key bootstrap."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import ADMIN_KEY_FILE, ensure_admin_key, hash_key, new_key
from db.migrate import upgrade
from db.models import User
from db.session import Database
from tests.api.conftest import make_settings
from tests.api.helpers import Api, bearer, new_creditor, new_user


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rk_not-a-real-key"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ],
    ids=["missing", "unknown", "empty", "not-bearer"],
)
async def test_missing_or_unknown_key_is_401(api: Api, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/practices"), ("GET", "/users"), ("POST", "/creditors")):
        response = await api.http.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


async def test_health_needs_no_key(api: Api) -> None:
    response = await api.http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "temporal")} == {
        "status": "ok",
        "database": True,
        "temporal": True,
    }
    assert isinstance(body["missing_rates"], list)  # listed, never a cause of 503


async def test_roles_are_enforced(api: Api) -> None:
    tenant = await new_creditor(api)
    _, operator = await new_user(api, "operator")
    _, lawyer = await new_user(api, "lawyer")
    _, agent = await new_user(api, "field_agent", provinces=["MI"])
    forbidden = [
        (operator, "POST", "/creditors"),
        (tenant.headers, "GET", "/users"),
        (tenant.headers, "POST", "/users"),
        (lawyer, "GET", "/creditors"),
        (agent, "GET", "/outbox"),
        (tenant.headers, "GET", "/worklists/calls"),
        (operator, "GET", "/worklists/authorizations"),
        (operator, "GET", "/worklists/end-decisions"),
        (agent, "POST", "/practices"),
        (operator, "PUT", f"/creditors/{tenant.id}/strategy"),
    ]
    for headers, method, path in forbidden:
        response = await api.http.request(method, path, headers=headers, json={})
        assert response.status_code == 403, (method, path, response.text)
    # and the same keys do work where their role is allowed
    assert (await api.http.get("/worklists/calls", headers=operator)).status_code == 200
    assert (await api.http.get("/worklists/opinions", headers=lawyer)).status_code == 200
    assert (await api.http.get("/worklists/visits", headers=agent)).status_code == 200
    end = await api.http.get("/worklists/end-decisions", headers=tenant.headers)
    assert end.status_code == 200 and end.json()["items"] == []
    assert (
        await api.http.get(f"/creditors/{tenant.id}", headers=tenant.headers)
    ).status_code == 200


async def test_users_list_never_shows_keys(api: Api) -> None:
    _, headers = await new_user(api, "operator")
    key = headers["Authorization"].removeprefix("Bearer ")
    response = await api.http.get("/users", headers=api.admin)
    assert response.status_code == 200
    text = response.text
    assert key not in text and hash_key(key) not in text
    assert all("key" not in u and "key_hash" not in u for u in response.json())
    assert any(u["id"] == "admin" and u["role"] == "admin" for u in response.json())


async def test_admin_key_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, admin_key="")
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        key = await ensure_admin_key(db, settings)
        assert key is not None and key.startswith("rk_")
        path = tmp_path / ADMIN_KEY_FILE
        assert path.read_text().strip() == key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # a restart reuses the file and does not echo the key again
        assert await ensure_admin_key(db, settings) is None
        assert path.read_text().strip() == key
        async with db.session() as session:
            admins = (await session.scalars(select(User).where(User.role == "admin"))).all()
        assert [(a.id, a.key_hash) for a in admins] == [("admin", hash_key(key))]
    finally:
        await db.dispose()


async def test_admin_key_from_settings_wins_and_rotates(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    first, second = new_key(), new_key()
    settings = make_settings(tmp_path, admin_key=first)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        assert await ensure_admin_key(db, settings) is None
        assert not (tmp_path / ADMIN_KEY_FILE).exists()
    finally:
        await db.dispose()

    # the app's lifespan does the same on start; a changed key replaces the old one
    rotated = make_settings(tmp_path, admin_key=second, database_url=settings.database_url)
    app = create_app(rotated, temporal_client=temporal_env.client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/users", headers=bearer(second))).status_code == 200
        assert (await http.get("/users", headers=bearer(first))).status_code == 401
