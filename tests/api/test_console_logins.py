"""The console's logins in-process (the browser tests cover the pages; these the rules that
need the clock or the database): idle and absolute session timeouts, the TOTP second factor,
sessions ending on deactivation, unsafe requests without the CSRF token."""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import pyotp
from sqlalchemy import func, select

from api.console import logins
from api.deps import get_settings
from db.models import ConsoleSession, User
from tests.api.helpers import Api

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def person(api: Api, role: str = "operator", **extra: Any) -> tuple[dict[str, Any], str]:
    """A user created through the API and given a password through their invitation link."""
    email = f"{role}-{secrets.token_hex(4)}@example.it"
    created = await api.http.post(
        "/users", headers=api.admin, json={"name": "Pia", "role": role, "email": email, **extra}
    )
    assert created.status_code == 201, created.text
    user: dict[str, Any] = created.json()
    async with api.db.session() as session:
        row = await session.get(User, user["id"])
        assert row is not None
        token = await logins.invite(session, api.settings, row, datetime.now(UTC))
    password = "pw-" + secrets.token_urlsafe(12)
    page = await api.http.get(f"/console/invitation/{token}")
    accepted = await api.http.post(
        f"/console/invitation/{token}",
        data={"csrf_token": csrf(page), "password": password, "confirm": password},
    )
    assert accepted.status_code == 303, accepted.text
    return user, password


async def log_in(api: Api, email: str, password: str) -> httpx.Response:
    api.http.cookies.clear()
    page = await api.http.get("/console/login")
    return await api.http.post(
        "/console/login", data={"csrf_token": csrf(page), "email": email, "password": password}
    )


async def test_idle_and_absolute_timeouts_end_a_session(api: Api) -> None:
    user, password = await person(api)
    for expired in (
        {"last_seen_at": datetime(2000, 1, 1, tzinfo=UTC)},  # idle
        {"expires_at": datetime(2000, 1, 1, tzinfo=UTC)},  # absolute, however active
    ):
        answer = await log_in(api, user["email"], password)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/operator/calls"
        assert (await api.http.get("/console/account")).status_code == 200
        session_id = api.http.cookies["recupero_session"]
        async with api.db.session() as session:
            row = await session.get(ConsoleSession, session_id)
            assert row is not None
            for name, value in expired.items():
                setattr(row, name, value)
            await session.commit()
        gone = await api.http.get("/console/account")
        assert gone.status_code == 303 and gone.headers["location"] == "/console/login"
        async with api.db.session() as session:
            assert await session.get(ConsoleSession, session_id) is None


async def test_two_factor_login_once_enrolled(api: Api) -> None:
    user, password = await person(api, role="admin")
    await log_in(api, user["email"], password)
    started = await api.http.post(
        "/console/account/totp/start",
        data={"csrf_token": csrf(await api.http.get("/console/account"))},
    )
    secret_found = re.search(r'name="secret" value="([A-Z2-7]+)"', started.text)
    assert secret_found, started.text
    secret = secret_found.group(1)
    wrong = await api.http.post(
        "/console/account/totp/confirm",
        data={"csrf_token": csrf(started), "secret": secret, "code": "000000"},
    )
    assert wrong.status_code == 422
    confirmed = await api.http.post(
        "/console/account/totp/confirm",
        data={"csrf_token": csrf(started), "secret": secret, "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 303

    half = await log_in(api, user["email"], password)
    assert half.headers["location"] == "/console/login/code"
    half_id = api.http.cookies["recupero_session"]
    # the password alone opens nothing
    assert (await api.http.get("/console/admin/users")).headers["location"] == "/console/login"
    code_page = await api.http.get("/console/login/code")
    refused = await api.http.post(
        "/console/login/code", data={"csrf_token": csrf(code_page), "code": "000000"}
    )
    assert refused.status_code == 401
    passed = await api.http.post(
        "/console/login/code",
        data={"csrf_token": csrf(code_page), "code": pyotp.TOTP(secret).now()},
    )
    assert passed.status_code == 303 and passed.headers["location"] == "/console/admin/users"
    assert api.http.cookies["recupero_session"] != half_id  # a new id once fully logged in
    assert (await api.http.get("/console/admin/users")).status_code == 200


async def test_deactivation_ends_the_console_sessions(api: Api) -> None:
    user, password = await person(api, role="lawyer")
    await log_in(api, user["email"], password)
    assert (await api.http.get("/console/account")).status_code == 200
    lawyer_cookie = api.http.cookies["recupero_session"]
    response = await api.http.post(f"/users/{user['id']}/deactivate", headers=api.admin)
    assert response.status_code == 200
    async with api.db.session() as session:
        left = await session.scalar(
            select(func.count()).where(ConsoleSession.user_id == user["id"])
        )
    assert left == 0
    api.http.cookies.clear()
    api.http.cookies.set("recupero_session", lawyer_cookie)
    assert (await api.http.get("/console/account")).status_code == 303
    assert (await log_in(api, user["email"], password)).status_code == 401


async def test_unsafe_console_requests_need_the_token(api: Api) -> None:
    user, password = await person(api, role="admin")
    await log_in(api, user["email"], password)
    account = await api.http.get("/console/account")
    for headers, data in (
        ({}, {"locale": "en"}),
        ({"X-CSRF-Token": "forged"}, {"locale": "en"}),
        ({}, {"locale": "en", "csrf_token": csrf(account) + "x"}),
    ):
        refused = await api.http.post("/console/account/language", headers=headers, data=data)
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
    # the HTMX way: the token in the header
    accepted = await api.http.post(
        "/console/account/language", headers={"X-CSRF-Token": csrf(account)}, data={"locale": "en"}
    )
    assert accepted.status_code == 303
    assert "Log out" in (await api.http.get("/console/account")).text


async def test_the_e_mail_logs_in_whatever_its_case(api: Api) -> None:
    mixed = f"Mario.Rossi-{secrets.token_hex(3)}@Example.IT"
    user, password = await person(api, role="lawyer", email=mixed)
    assert user["email"] == mixed.replace("Example.IT", "example.it")  # the API keeps the case
    answer = await log_in(api, f"  {mixed.lower()} ", password)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/lawyer/opinions"


async def test_the_products_address_opens_the_console(api: Api) -> None:
    api.http.cookies.clear()
    root = await api.http.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/console/"
    home = await api.http.get("/console/")
    assert home.status_code == 303 and home.headers["location"] == "/console/login"


async def test_two_factor_can_be_made_a_must_for_admins_and_creditors(api: Api) -> None:
    admin, admin_password = await person(api, role="admin")
    lawyer, lawyer_password = await person(api, role="lawyer")
    app = api.http._transport.app  # type: ignore[attr-defined]  # the app under test
    app.dependency_overrides[get_settings] = lambda: dataclasses.replace(
        api.settings, two_factor_required=True
    )
    try:
        await log_in(api, admin["email"], admin_password)
        sent = await api.http.get("/console/admin/users")
        assert sent.status_code == 303
        assert sent.headers["location"] == "/console/account?two_factor=required"
        account = await api.http.get(sent.headers["location"])
        assert account.status_code == 200 and "richiede l'accesso a due fattori" in account.text
        # a lawyer is not held: the rule is for the roles that act for money
        await log_in(api, lawyer["email"], lawyer_password)
        assert (await api.http.get("/console/account")).status_code == 200
    finally:
        del app.dependency_overrides[get_settings]
    await log_in(api, admin["email"], admin_password)
    assert (await api.http.get("/console/admin/users")).status_code == 200
