"""The debtor's page after the second step, `/d/me`: the creditor, the invoices, what is due
today with interest and costs in plain words (the statement), the payments booked, the plan if
there is one, the statement's PDF; and "your data" (GDPR art. 15) as a JSON download.

Everything is of the session's one practice (VerifiedDebtor.practice_id), never looked up by
an id from the request."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.debtor.access import (
    PREFIX,
    DebtorRequest,
    VerifiedDebtor,
    clear_session_cookie,
    render,
    request_locale,
)
from api.debtor.statement import practice_with_invoices, statement_today
from api.deps import NowDep, SessionDep, SettingsDep
from api.routers.statement import statement_pdf_response
from api.services import debtor_links
from api.services.debtor_links import DebtorAccess
from api.views import plan_out
from db.models import Creditor, Delivery, Event, Practice, PracticeNote

router = APIRouter(prefix=f"{PREFIX}/me", tags=["debtor"])

# the page's sections, in order: templates included by debtor/page.html with the page's context
# (the second round's actions append theirs: "debtor/_pay.html", ...)
SECTIONS: list[str] = [
    "debtor/_due.html",
    "debtor/_pay.html",
    "debtor/_invoices.html",
    "debtor/_payments.html",
    "debtor/_plan.html",
    "debtor/_your_data.html",
]

# what the sections need beyond the page's context (the actions append theirs, like SECTIONS):
# each is awaited with the request, the session, the access and the practice, and its dict
# merged into the context
ContextProvider = Callable[
    [Request, AsyncSession, DebtorAccess, Practice], Awaitable[dict[str, Any]]
]
CONTEXT: list[ContextProvider] = []


async def page_context(request: Request, db: AsyncSession, access: DebtorAccess) -> dict[str, Any]:
    """The page's context: an action re-renders the page with it (and its form's errors)."""
    practice = await practice_with_invoices(db, access.practice_id)
    creditor = await db.get(Creditor, practice.creditor_id)
    assert creditor is not None
    statement = await statement_today(db, practice)
    context: dict[str, Any] = {
        "access": access,
        "practice": practice,
        "creditor": creditor,
        "statement": statement,
        "plan": plan_out(practice.snapshot or {}),
        "sections": SECTIONS,
    }
    for provider in CONTEXT:
        context.update(await provider(request, db, access, practice))
    return context


@router.get("")
async def page(request: Request, access: VerifiedDebtor, db: SessionDep) -> Response:
    return render(request, "debtor/page.html", await page_context(request, db, access))


@router.get("/statement.pdf")
async def statement_pdf(
    request: Request, access: VerifiedDebtor, db: SessionDep, settings: SettingsDep
) -> Response:
    """Today's statement, in the page's language (request_locale: the one the debtor chose, else
    a debtor abroad's own, else the browser's among the five): the page and its PDF agree."""
    practice = await practice_with_invoices(db, access.practice_id)
    statement = await statement_today(db, practice)
    if statement is None:
        return JSONResponse({"detail": "the statement cannot be made today"}, status_code=409)
    return await statement_pdf_response(
        db, settings, practice, statement, language=request_locale(request)
    )


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "pratica"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/data.json")
async def your_data(access: VerifiedDebtor, db: SessionDep, now: NowDep) -> Response:
    """A copy of what the agency holds about the debtor in this practice (GDPR art. 15): the
    debtor's data and contacts, the invoices, the timeline (payments included, with who acted),
    the notes people wrote and the messages sent (channel, subject, when, status; the address is
    the debtor's own, in "debtor"). Nothing of another practice."""
    practice = await practice_with_invoices(db, access.practice_id)
    creditor = await db.get(Creditor, practice.creditor_id)
    assert creditor is not None
    events = await db.scalars(
        select(Event).where(Event.practice_id == practice.id).order_by(Event.seq)
    )
    notes = await db.scalars(
        select(PracticeNote)
        .where(PracticeNote.practice_id == practice.id)
        .order_by(PracticeNote.created_at)
    )
    deliveries = await db.scalars(
        select(Delivery).where(Delivery.practice_id == practice.id).order_by(Delivery.created_at)
    )
    data: dict[str, Any] = {
        "generated_at": now.isoformat(),
        "controller": {"creditor": creditor.name, "creditor_vat_number": creditor.vat_number},
        "practice": {"reference": practice.reference, "status": practice.status},
        "debtor": {
            "kind": practice.debtor_kind,
            "name": practice.debtor_name,
            "tax_code": practice.debtor_tax_code,
            "vat_number": practice.debtor_vat_number,
            "email": practice.email,
            "phone": practice.phone,
            "pec": practice.pec,
            "address": {
                "street": practice.street,
                "postal_code": practice.postal_code,
                "city": practice.city,
                "province": practice.province,
                "country": practice.country,
                "region": practice.region or "",
                "time_zone": practice.time_zone,
            },
            "language": practice.language,
            "contacts_found_wrong": list(practice.invalid_channels or []),
        },
        "invoices": [
            {
                "number": i.number,
                "issue_date": i.issue_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "amount_cents": i.amount_cents,
            }
            for i in practice.invoices
        ],
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "summary": e.summary, "by": e.actor_kind}
            for e in events
        ],
        "notes": [{"at": n.created_at.isoformat(), "kind": n.kind, "text": n.text} for n in notes],
        "messages": [
            {
                "channel": d.channel,
                "subject": d.subject,
                "created_at": _when(d.created_at),
                "status": d.status,
                "delivery_status": d.delivery_status,
            }
            for d in deliveries
        ],
    }
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="dati-{_safe(practice.reference)}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/logout")
async def logout(request: Request, access: DebtorRequest, db: SessionDep) -> Response:
    if access is not None:
        await debtor_links.end_session(db, access.session.id)
    response = RedirectResponse(f"{PREFIX}/me/bye", status_code=303)
    clear_session_cookie(response, request)
    return response


@router.get("/bye")
async def bye(request: Request, _access: DebtorRequest) -> Response:
    return render(request, "debtor/message.html", {"message": "bye"})
