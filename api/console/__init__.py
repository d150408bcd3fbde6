"""The web console: server-rendered pages for people, in the same app as the API.

Conventions (read before adding a role's pages):
- one routes module per area (`routes_<area>.py`), its `router` added in `install()` below;
  every route takes its Principal from `console_require(...)` (api/auth.py), the same role check
  as the API's `require(...)`, and acts through the same service function as the API's router
  (api/services/), never a copy of its rules;
- every page renders with `templating.render()`, which adds the CSRF token, the locale, the
  translations and the user to the template's context; templates extend `console/base.html`;
- every form has `{{ csrf_field() }}`; HTMX requests carry the token in the header that base.html
  sets with `hx-headers` (security.CSRF_HEADER); unsafe methods without it are a 403 page;
- no inline script or style (the Content-Security-Policy forbids them): behaviour comes from
  HTMX attributes, styles from static/console.css;
- texts in `{% trans %}`/`_()` and the catalogues in locale/ (`make messages`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.console import (
    errors,
    routes_account,
    routes_admin_creditors,
    routes_admin_outbox,
    routes_admin_privacy,
    routes_admin_rates,
    routes_admin_users,
    routes_agent_visits,
    routes_auth,
    routes_creditor,
    routes_creditor_reports,
    routes_handover,
    routes_lawyer,
    routes_operator_calls,
    routes_practice,
)
from api.console.security import SecurityHeadersMiddleware

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
PREFIX = "/console"


def install(app: FastAPI) -> None:
    """Adds the console's routes, its static files, its security headers and error pages."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        routes_auth,
        routes_account,
        routes_admin_users,
        routes_admin_creditors,
        routes_admin_rates,
        routes_admin_outbox,
        routes_admin_privacy,
        routes_operator_calls,
        routes_creditor,
        routes_handover,
        routes_creditor_reports,
        routes_practice,
        routes_lawyer,
        routes_agent_visits,
    ):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.add_middleware(SecurityHeadersMiddleware, prefixes=(PREFIX, "/static"))
    errors.install(app, PREFIX)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        """A person opening the product's address lands in the console."""
        return RedirectResponse(f"{PREFIX}/", status_code=307)
