"""Login (password, then the TOTP code when enrolled), logout, accepting an invitation, and the
home page that sends each role to its main page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import SESSION_COOKIE, ConsoleLogin, Role
from api.console import logins
from api.console.security import ConsoleRequest, clear_session_cookie, set_session_cookie
from api.console.templating import render
from api.deps import NowDep, SessionDep, SettingsDep
from api.schemas import UserCreate
from db.models import User

router = APIRouter(tags=["console"])

# each role's main page; a role without its pages yet lands on its account page
MAIN_PAGES: dict[Role, str] = {
    Role.ADMIN: "/console/admin/users",
    Role.OPERATOR: "/console/operator/calls",
    Role.CREDITOR: "/console/creditor/practices",
    Role.LAWYER: "/console/lawyer/opinions",
    Role.FIELD_AGENT: "/console/agent/visits",
    Role.FOREIGN_CORRESPONDENT: "/console/agent/visits",
}
ACCOUNT_PAGE = "/console/account"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def main_page(user: User) -> str:
    return MAIN_PAGES.get(Role(user.role), ACCOUNT_PAGE)


@router.get("/")
async def home(login: ConsoleRequest) -> Response:
    if login is None or not login.session.verified:
        return see_other("/console/login")
    return see_other(main_page(login.user))


@router.get("/login")
async def login_page(request: Request, login: ConsoleRequest) -> Response:
    if login is not None and login.session.verified:
        return see_other(main_page(login.user))
    return render(request, "console/login.html", {"email": "", "error": None})


def _logged_in(request: Request, url: str, session_id: str, hours: int) -> RedirectResponse:
    response = see_other(url)
    set_session_cookie(response, request, session_id, hours * 3600)
    return response


@router.post("/login")
async def login_submit(
    request: Request,
    _login: ConsoleRequest,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    result = await logins.log_in(db, settings, email, password, now)
    if result.session is not None:
        user = await db.get(User, result.session.user_id)
        assert user is not None
        url = main_page(user) if result.outcome == logins.LoginOutcome.OK else "/console/login/code"
        return _logged_in(request, url, result.session.id, settings.session_absolute_hours)
    error = "locked" if result.outcome == logins.LoginOutcome.LOCKED else "wrong"
    return render(
        request,
        "console/login.html",
        {"email": email, "error": error, "lockout_minutes": settings.login_lockout_minutes},
        401,
    )


def _half_login(login: ConsoleLogin | None) -> ConsoleLogin | None:
    """The session between the password and the TOTP code, if that is where the person is."""
    return login if login is not None and not login.session.verified else None


@router.get("/login/code")
async def code_page(request: Request, login: ConsoleRequest) -> Response:
    if _half_login(login) is None:
        return see_other("/console/login")
    return render(request, "console/login_code.html", {"error": False})


@router.post("/login/code")
async def code_submit(
    request: Request,
    login: ConsoleRequest,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    half = _half_login(login)
    if half is None:
        return see_other("/console/login")
    session = await logins.verify_second_factor(db, settings, half.session, half.user, code, now)
    if session is not None:
        return _logged_in(
            request, main_page(half.user), session.id, settings.session_absolute_hours
        )
    return render(request, "console/login_code.html", {"error": True}, 401)


@router.post("/logout")
async def logout(request: Request, login: ConsoleRequest, db: SessionDep) -> Response:
    if login is not None:
        await logins.end_session(db, login.session.id)
    elif request.cookies.get(SESSION_COOKIE):
        await logins.end_session(db, request.cookies[SESSION_COOKIE])
    response = see_other("/console/login")
    clear_session_cookie(response, request)
    return response


@router.get("/invitation/{token}")
async def invitation_page(
    request: Request, token: str, _login: ConsoleRequest, db: SessionDep, now: NowDep
) -> Response:
    found = await logins.open_invitation(db, token, now)
    if found is None:
        return render(request, "console/invitation_invalid.html", {}, 404)
    _, user = found
    return render(
        request,
        "console/invitation.html",
        {"invited": user, "token": token, "errors": {}, "email": user.email or ""},
    )


@router.post("/invitation/{token}")
async def invitation_submit(
    request: Request,
    token: str,
    _login: ConsoleRequest,
    db: SessionDep,
    now: NowDep,
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    found = await logins.open_invitation(db, token, now)
    if found is None:
        return render(request, "console/invitation_invalid.html", {}, 404)
    invitation, user = found
    errors: dict[str, str] = {}
    normalized_email: str | None = None
    if user.email is None:
        try:  # the API's e-mail rule, not a copy of it
            normalized_email = UserCreate(role=Role.ADMIN, name="-", email=email).email
        except ValidationError as exc:
            errors["email"] = str(exc.errors()[0]["msg"])
        if not email.strip():
            errors["email"] = "required"
    if len(password) < logins.MIN_PASSWORD_LENGTH:
        errors["password"] = "too_short"
    elif password != confirm:
        errors["confirm"] = "mismatch"
    if errors:
        return render(
            request,
            "console/invitation.html",
            {"invited": user, "token": token, "errors": errors, "email": email},
            422,
        )
    await logins.accept_invitation(db, invitation, user, password, normalized_email, now)
    return see_other("/console/login?welcome=1")
