"""The admin's personal data pages: the debtors' erasure requests with their decisions (GET
/erasure-requests' data), the access log (GET /access-log's, with its filters and pages) and a
creditor's retention period (PUT /creditors/{id}/retention). They call the API's handlers and
services (api/routers/privacy.py, api/services/erasure.py, api/services/access_log.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import field_errors, optional
from api.console.i18n import N_
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.deps import SessionDep
from api.routers import privacy
from api.schemas_privacy import AccessLogOut, RetentionIn
from api.services import creditors as creditors_service
from db.models import RETENTION_MAX_DAYS, Creditor, Practice, User

router = APIRouter(prefix="/admin", tags=["console"])

Admin = Annotated[Principal, console_require(Role.ADMIN)]
PAGE_SIZE = 50


async def _names(db: SessionDep, user_ids: set[str]) -> dict[str, str]:
    """The users' names for the tables (the rows keep ids only)."""
    if not user_ids:
        return {}
    rows = await db.execute(select(User.id, User.name).where(User.id.in_(sorted(user_ids))))
    return {user_id: name for user_id, name in rows}


async def _references(db: SessionDep, practice_ids: set[str]) -> dict[str, str]:
    if not practice_ids:
        return {}
    rows = await db.execute(
        select(Practice.id, Practice.reference).where(Practice.id.in_(sorted(practice_ids)))
    )
    return {practice_id: reference for practice_id, reference in rows}


@router.get("/erasure-requests")
async def erasure_requests_page(
    request: Request,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    rows = await privacy.list_erasure_requests(
        session=db, _admin=admin, limit=PAGE_SIZE + 1, offset=offset
    )
    shown = rows[:PAGE_SIZE]
    return render(
        request,
        "console/admin_erasure_requests.html",
        {
            "requests": shown,
            "users": await _names(db, {r.recorded_by.id for r in shown if r.recorded_by.id}),
            "references": await _references(db, {r.practice_id for r in shown}),
            "offset": offset,
            "page_size": PAGE_SIZE,
            "more": len(rows) > PAGE_SIZE,
        },
    )


@router.get("/access-log")
async def access_log_page(
    request: Request,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    practice_id: Annotated[str, Query(max_length=32)] = "",
    user_id: Annotated[str, Query(max_length=64)] = "",
    from_: Annotated[str, Query(alias="from", max_length=10)] = "",
    to: Annotated[str, Query(max_length=10)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    filters = {
        "practice_id": practice_id.strip(),
        "user_id": user_id.strip(),
        "from": from_,
        "to": to,
    }
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(filters[name]) if filters[name] else None
        except ValueError:
            errors[name] = i18n.translate(request_locale(request), N_("Not a date."))
            days[name] = None
    items: list[AccessLogOut] = []
    next_before = None
    if not errors:
        try:
            page = await privacy.get_access_log(
                session=db,
                _admin=admin,
                practice_id=optional(practice_id),
                user_id=optional(user_id),
                from_=days["from"],
                to=days["to"],
                before=before,
                limit=PAGE_SIZE,
            )
        except RequestValidationError as exc:  # the API's 422 (to before from), at its field
            errors = field_errors(exc)
        else:
            items, next_before = page.items, page.next_before
    return render(
        request,
        "console/admin_access_log.html",
        {
            "entries": items,
            "users": await _names(db, {e.user_id for e in items}),
            "references": await _references(db, {e.practice_id for e in items}),
            "filters": filters,
            "errors": errors,
            "next_before": next_before,
        },
        422 if errors else 200,
    )


async def _retention_page(
    request: Request,
    creditor: Creditor,
    *,
    value: str | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "console/admin_retention.html",
        {
            "creditor": creditor,
            "value": str(creditor.retention_days) if value is None else value,
            "maximum": RETENTION_MAX_DAYS,
            "errors": errors or {},
            "saved": saved,
        },
        status_code,
    )


def _retention_url(creditor_id: str) -> str:
    return f"/console/admin/creditors/{creditor_id}/retention"


@router.get("/creditors/{creditor_id}/retention")
async def retention_page(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    saved: bool = False,
) -> Response:
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    return await _retention_page(request, creditor, saved=saved)


@router.post("/creditors/{creditor_id}/retention")
async def save_retention(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    retention_days: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """PUT /creditors/{id}/retention's check and save."""
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    try:
        body = RetentionIn.model_validate({"retention_days": retention_days.strip()})
    except ValidationError as exc:
        return await _retention_page(
            request, creditor, value=retention_days, errors=field_errors(exc), status_code=422
        )
    await creditors_service.set_retention(db, creditor, body.retention_days)
    return RedirectResponse(_retention_url(creditor.id) + "?saved=1", status_code=303)
