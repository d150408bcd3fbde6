"""The console's protections: security headers on every response, the CSRF check on every unsafe
request, and the cookies.

CSRF: a logged-in person's token is their session's (ConsoleSession.csrf_token); before login
(the login and invitation forms) it is a random value in its own SameSite=Strict cookie, which
the form must repeat (double submit). Forms send it as the field `csrf_token`, HTMX requests as
the header X-CSRF-Token (set once in base.html with hx-headers)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import SESSION_COOKIE, ConsoleLogin, load_console_login
from api.deps import NowDep, SessionDep, SettingsDep

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ANONYMOUS_CSRF_COOKIE = "recupero_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to the responses under `prefixes` (the API's JSON is left alone:
    its Swagger page loads its script from a CDN)."""

    def __init__(
        self,
        app: ASGIApp,
        prefixes: tuple[str, ...],
        headers: tuple[tuple[bytes, bytes], ...] = SECURITY_HEADERS,
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfRefused(Exception):
    """An unsafe request without the right token: the console answers with a 403 page."""


def is_secure(request: Request) -> bool:
    """Cookies get Secure over HTTPS, and always when the product's public address is https
    (behind a TLS-terminating proxy the request itself may arrive as http)."""
    settings = getattr(request.app.state, "settings", None)
    public_url: str = getattr(settings, "public_url", "") or ""
    return request.url.scheme == "https" or public_url.startswith("https://")


async def console_request(
    request: Request, db: SessionDep, settings: SettingsDep, now: NowDep
) -> ConsoleLogin | None:
    """Every console route's dependency: finds the session (if any), fixes the request's CSRF
    token and refuses an unsafe request that does not carry it."""
    login = await load_console_login(db, request, settings, now)
    if login is not None:
        expected = login.session.csrf_token
    else:
        expected = request.cookies.get(ANONYMOUS_CSRF_COOKIE) or ""
        if not expected:
            expected = secrets.token_urlsafe(32)
            request.state.new_anonymous_csrf = expected
    request.state.csrf_token = expected
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.form()  # cached by Starlette: the handler reads it again
            field = form.get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        if not sent or not secrets.compare_digest(sent, expected):
            raise CsrfRefused()
    return login


ConsoleRequest = Annotated[ConsoleLogin | None, Depends(console_request)]


def set_session_cookie(
    response: Response, request: Request, session_id: str, max_age_seconds: int
) -> None:
    # Lax, not Strict: a link to a console page from an e-mail (a practice, a task) opens it
    # logged in; unsafe requests are guarded by the CSRF token, not by the cookie's SameSite
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=is_secure(request), path="/"
    )


def set_anonymous_csrf_cookie(response: Response, request: Request) -> None:
    token = getattr(request.state, "new_anonymous_csrf", None)
    if token:
        response.set_cookie(
            ANONYMOUS_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=is_secure(request),
            path="/console",
        )
