"""The console's Jinja2 environment (autoescaped, with the i18n extension) and `render()`, the
only way a console page is produced: it puts the CSRF token, the language and the logged-in
user into every template's context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from api.auth import ConsoleLogin
from api.console import i18n
from api.console.security import CSRF_FIELD, CSRF_HEADER, set_anonymous_csrf_cookie

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
# the real callables come with each render's context (the request's language)
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def request_locale(request: Request) -> str:
    login: ConsoleLogin | None = getattr(request.state, "console_login", None)
    preference = login.user.locale if login is not None else None
    return i18n.negotiate(preference, request.headers.get("accept-language"))


def page_values(request: Request, language: i18n.Language) -> dict[str, Any]:
    """What every page's template gets, the console's and the debtor's: the request, the
    language's gettext callables, and the request's CSRF token as a form field and as the
    header HTMX sends."""
    token: str = getattr(request.state, "csrf_token", "")

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)

    return {
        "request": request,
        "lang": language,
        "gettext": language.gettext,
        "ngettext": language.ngettext,
        "_": language.gettext,
        "csrf_field": csrf_field,
        # hx-headers on <body>: every HTMX request sends the token (escaped for the attribute)
        "csrf_headers": escape(json.dumps({CSRF_HEADER: token})),
    }


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    language = i18n.language(request_locale(request))
    login: ConsoleLogin | None = getattr(request.state, "console_login", None)
    values = page_values(request, language)
    values |= {
        "role_names": {
            role: i18n.translate(language.code, name) for role, name in i18n.ROLE_NAMES.items()
        },
        "user": login.user if login is not None and login.session.verified else None,
    }
    values.update(context or {})
    # the API's refusals, as the form shows them, in the page's language
    refusal = values.get("refusal")
    if isinstance(refusal, str):
        values["refusal"] = i18n.refusal_text(language.code, refusal)
    errors = values.get("errors")
    if isinstance(errors, dict):
        values["errors"] = {
            name: i18n.refusal_text(language.code, text) if isinstance(text, str) else text
            for name, text in errors.items()
        }
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # pages carry personal data and tokens
    set_anonymous_csrf_cookie(response, request)
    return response
