"""A person's own account: language, and enrolling the TOTP second factor."""

from __future__ import annotations

from typing import Annotated

import pyotp
import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import ConsoleLogin, current_console_login
from api.console import i18n, logins
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import SessionDep

router = APIRouter(tags=["console"])

LoggedIn = Annotated[ConsoleLogin, Depends(current_console_login)]


def _qr_data_uri(uri: str) -> str:
    # an image, not markup in the page: the CSP admits data: images only
    return str(segno.make(uri, error="m").svg_data_uri(scale=4))


@router.get("/account")
async def account(request: Request, _request: ConsoleRequest, login: LoggedIn) -> Response:
    return render(request, "console/account.html", {"enrolment": None, "code_error": False})


@router.post("/account/language")
async def set_language(
    _request: ConsoleRequest,
    login: LoggedIn,
    db: SessionDep,
    locale: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    login.user.locale = locale if locale in i18n.LOCALES else None
    await db.commit()
    return RedirectResponse("/console/account", status_code=303)


def _enrolment(login: ConsoleLogin, secret: str) -> dict[str, str]:
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=login.user.email or login.user.name, issuer_name=logins.TOTP_ISSUER
    )
    return {"secret": secret, "qr": _qr_data_uri(uri)}


@router.post("/account/totp/start")
async def totp_start(request: Request, _request: ConsoleRequest, login: LoggedIn) -> Response:
    enrolment = _enrolment(login, pyotp.random_base32())
    return render(request, "console/account.html", {"enrolment": enrolment, "code_error": False})


@router.post("/account/totp/confirm")
async def totp_confirm(
    request: Request,
    _request: ConsoleRequest,
    login: LoggedIn,
    db: SessionDep,
    secret: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    # the secret comes back from the enrolment form (over this session, CSRF-checked): it is
    # stored only once a code from the authenticator proves the person has it
    if not secret or not logins.code_matches(secret, code):
        enrolment = _enrolment(login, secret or pyotp.random_base32())
        return render(
            request, "console/account.html", {"enrolment": enrolment, "code_error": True}, 422
        )
    login.user.totp_secret = secret
    await db.commit()
    return RedirectResponse("/console/account", status_code=303)
