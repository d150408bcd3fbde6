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

from api.console.security import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware
from api.debtor import routes_contacts, routes_dispute, routes_link, routes_page, routes_propose
from api.debtor.access import DebtorCsrfRefused, DebtorSessionRequired, render

# the token is in the address: no Referer may carry it anywhere; the page is nobody's search hit
DEBTOR_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-robots-tag", b"noindex, nofollow"),
)

# the page's own routes first: /d/me... before /d/{token}
ROUTES = (routes_page, routes_propose, routes_dispute, routes_contacts, routes_link)


def install(app: FastAPI) -> None:
    for module in ROUTES:
        app.include_router(module.router, include_in_schema=False)
    app.add_middleware(SecurityHeadersMiddleware, prefixes=("/d/",), headers=DEBTOR_HEADERS)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        return render(request, "debtor/message.html", {"message": "csrf"}, 403)

    async def session_required(request: Request, exc: Exception) -> Response:
        return render(request, "debtor/message.html", {"message": "session"}, 401)

    app.add_exception_handler(DebtorCsrfRefused, csrf_refused)
    app.add_exception_handler(DebtorSessionRequired, session_required)
