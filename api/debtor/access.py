"""Who is on the debtor's page, and the page's protections.

- `DebtorRequest`: every /d/ route's dependency; finds the debtor's session (if any), fixes the
  request's CSRF token (the session's, or before the second step a random value in its own
  SameSite=Strict cookie, repeated by the form: double submit) and refuses an unsafe request
  without it (DebtorCsrfRefused: a 403 page).
- `VerifiedDebtor`: a route behind the second step takes it; it gives the DebtorAccess
  (`.practice_id`: the one practice the session opens) and makes the request act as the debtor
  (`domain.actor` kind "debtor": api.auth.calling_actor() names it on every command sent).
  Without a session the debtor is sent to a page saying to open the link again.
- `render()`: the debtor's pages (templates/debtor/, their own base), in the debtor's language
  (Italian, English, German, French or Spanish: request_locale).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.auth import act_as
from api.console import i18n
from api.console.security import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, is_secure
from api.console.templating import environment, page_values
from api.deps import NowDep, SessionDep
from api.services import debtor_links
from api.services.debtor_links import DebtorAccess
from db.models import Practice
from domain.actor import Actor, ActorKind

PREFIX = "/d"
SESSION_COOKIE = "recupero_debtor"  # never the console's cookie
CSRF_COOKIE = "recupero_debtor_csrf"
LANG_COOKIE = "recupero_debtor_lang"
DEBTOR = Actor(ActorKind.DEBTOR)


class DebtorCsrfRefused(Exception):
    """An unsafe request on /d/ without the right token."""


class DebtorSessionRequired(Exception):
    """A page behind the second step opened without a working session."""


def act_as_debtor() -> Actor:
    """Makes the current request's commands name the debtor as their actor (call it in a
    dependency or at the top of a route, before sending a command)."""
    act_as(DEBTOR)
    return DEBTOR


async def debtor_request(request: Request, db: SessionDep, now: NowDep) -> DebtorAccess | None:
    access = await debtor_links.load_session(db, request.cookies.get(SESSION_COOKIE, ""), now)
    if access is not None:
        expected = access.session.csrf_token
    else:
        expected = request.cookies.get(CSRF_COOKIE) or ""
        if not expected:
            expected = secrets.token_urlsafe(32)
            request.state.new_debtor_csrf = expected
    request.state.csrf_token = expected
    request.state.debtor_access = access
    if access is not None:
        # the page speaks the debtor's language (request_locale)
        request.state.debtor_language = await db.scalar(
            select(Practice.language).where(Practice.id == access.practice_id)
        )
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.form()
            field = form.get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        if not sent or not secrets.compare_digest(sent, expected):
            raise DebtorCsrfRefused()
    return access


DebtorRequest = Annotated[DebtorAccess | None, Depends(debtor_request)]


async def verified_debtor(access: DebtorRequest) -> DebtorAccess:
    if access is None:
        raise DebtorSessionRequired()
    act_as_debtor()
    return access


VerifiedDebtor = Annotated[DebtorAccess, Depends(verified_debtor)]


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    # Strict: the session never rides on a request another site started; bound to /d only
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=debtor_links.IDLE_MINUTES * 60 * 48,  # the server ends it long before
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path=PREFIX,
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=is_secure(request), path=PREFIX
    )


def request_locale(request: Request) -> str:
    """The language the debtor chose on the page; else a debtor abroad's own (the practice's
    `language`, from the country by default: the one the letters are written in, whatever the
    browser says); else the browser's, else Italian. An Italian debtor's "it" is the default,
    not a choice, so the browser's language may still turn the page into English, as before."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in i18n.DEBTOR_LOCALES:
        return str(chosen)
    own = getattr(request.state, "debtor_language", None)
    if own != i18n.DEFAULT_LOCALE and own in i18n.DEBTOR_LOCALES:
        return str(own)
    return i18n.negotiate(None, request.headers.get("accept-language"), i18n.DEBTOR_LOCALES)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    language = i18n.language(request_locale(request))
    settings = getattr(request.app.state, "settings", None)
    values = page_values(request, language)
    values |= {
        "here": request.url.path,
        # the agency's name heads the page: never "debt collection" (Garante, 30 November 2005)
        "agency_name": getattr(settings, "agency_name", ""),
        "agency_phone": getattr(settings, "agency_phone", ""),
    }
    values.update(context or {})
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    new_csrf = getattr(request.state, "new_debtor_csrf", None)
    if new_csrf:
        response.set_cookie(
            CSRF_COOKIE,
            new_csrf,
            httponly=True,
            samesite="strict",
            secure=is_secure(request),
            path=PREFIX,
        )
    return response
