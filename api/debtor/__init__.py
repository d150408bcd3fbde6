"""The debtor's own page (issue 13): `/d/{token}` from a letter, an e-mail or an SMS.

Conventions for adding to it (the actions: pay, propose, dispute, preferences):
- one routes module per action (`routes_<action>.py`) with its `router`, added to ROUTES below;
  its routes take `VerifiedDebtor` (api/debtor/access.py): `.practice_id` is the one practice
  the debtor may see or act on, and the request then acts as the debtor (domain.actor kind
  "debtor", named by api.auth.calling_actor() on every command), through the same service
  functions as the API;
- a section on the page: append its template (templates/debtor/_<name>.html) to
  `routes_page.SECTIONS`; it is included in templates/debtor/page.html with the page's context
  (practice, creditor, statement, plan, access, csrf_field);
- templates extend `debtor/base.html` (blocks `title` and `content`); every form has
  `{{ csrf_field() }}`; no inline script or style (the console's CSP); texts in `_()`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console.security import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware
from api.debtor import (
    routes_contacts,
    routes_dispute,
    routes_erasure,
    routes_link,
    routes_page,
    routes_pay,
    routes_propose,
)
from api.debtor.access import DebtorCsrfRefused, DebtorSessionRequired, render
from config import Settings

# the token is in the address: no Referer may carry it anywhere; the page is nobody's search hit
# (the Content-Security-Policy is set per request by DebtorCsp: it depends on the settings)
DEBTOR_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-robots-tag", b"noindex, nofollow"),
)

# the page's own routes first: /d/me... before /d/{token}
ROUTES = (
    routes_page,
    routes_pay,
    routes_propose,
    routes_dispute,
    routes_contacts,
    routes_erasure,
    routes_link,
)


def debtor_csp(settings: Settings | None) -> str:
    """The console's policy, except that the pay form may lead to Stripe's Checkout: Chromium
    applies form-action to the redirect that follows a form, so with `form-action 'self'` the
    303 to checkout.stripe.com would be blocked. Only when card payments are on."""
    origins = routes_pay.checkout_origins(settings)
    if not origins:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(origins)
    )


class DebtorCsp:
    """Adds the debtor pages' Content-Security-Policy (debtor_csp) under /d/."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/d/"):
            await self.app(scope, receive, send)
            return
        settings = getattr(scope["app"].state, "settings", None)
        policy = (b"content-security-policy", debtor_csp(settings).encode())

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), policy]
            await send(message)

        await self.app(scope, receive, send_with_policy)


def install(app: FastAPI) -> None:
    for module in ROUTES:
        app.include_router(module.router, include_in_schema=False)
    app.add_middleware(SecurityHeadersMiddleware, prefixes=("/d/",), headers=DEBTOR_HEADERS)
    app.add_middleware(DebtorCsp)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        return render(request, "debtor/message.html", {"message": "csrf"}, 403)

    async def session_required(request: Request, exc: Exception) -> Response:
        return render(request, "debtor/message.html", {"message": "session"}, 401)

    app.add_exception_handler(DebtorCsrfRefused, csrf_refused)
    app.add_exception_handler(DebtorSessionRequired, session_required)
