"""Error pages: under the console's prefix an HTTP error, a refused CSRF token or a missing login
is an HTML page (or the login page), not the API's JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import EnrolmentRequired, LoginRequired
from api.console.security import CsrfRefused
from api.console.templating import render


def install(app: FastAPI, prefix: str) -> None:
    async def login_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"{prefix}/login", status_code=303)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        return render(request, "console/error.html", {"status": 403, "csrf": True}, 403)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith(prefix):
            return await http_exception_handler(request, exc)
        return render(
            request,
            "console/error.html",
            {"status": exc.status_code, "csrf": False},
            exc.status_code,
        )

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith(prefix):
            return await request_validation_exception_handler(request, exc)
        # the API's 422 messages, as a page (a form's own errors are shown next to its fields)
        messages = [str(error.get("msg", "")) for error in exc.errors()]
        return render(
            request,
            "console/error.html",
            {"status": 422, "csrf": False, "messages": messages},
            422,
        )

    app.add_exception_handler(RequestValidationError, invalid)

    async def enrolment_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"{prefix}/account?two_factor=required", status_code=303)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(EnrolmentRequired, enrolment_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
