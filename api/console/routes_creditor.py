"""The creditor's portal: the portfolio (filters, pages, CSV export) and the decisions waiting
for the creditor. An admin sees the same for any creditor.

The list is GET /practices' own query (practices.list_practices, and practices.practice_filters
for the export): what a creditor may see is api/access.py's visible_practices, never a copy."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.access import console_practice_boundary
from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import attempt, field_errors, optional
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import DatabaseDep, SessionDep, TemporalDep
from api.routers import deals, practice_commands, practices, worklists
from api.schemas import (
    AuthorizationIn,
    DisputeResolutionIn,
    PracticeOut,
    PracticeSummary,
)
from api.schemas_deals import ProposalDecisionIn
from api.services import access_log, practice_pages
from api.views import practice_out, practice_summary
from db.models import Creditor, Practice
from domain.practice import DebtorKind, Outcome, Phase, Status

router = APIRouter(prefix="/creditor", tags=["console"])
# another's practice is the 403 page before the form is read, as the API answers
PracticeBoundary = Depends(console_practice_boundary)

Creditors = Annotated[Principal, console_require(Role.ADMIN, Role.CREDITOR)]
PAGE_SIZE = 50
# rows read per query while streaming the export (keyset: the list's own order)
EXPORT_BATCH = 500


class PortfolioFilters(BaseModel):
    """The portfolio form's fields as GET /practices takes them (empty = not filtered)."""

    model_config = ConfigDict(extra="ignore")

    status: Status | None = None
    phase: Phase | None = None
    outcome: Outcome | None = None
    debtor_kind: DebtorKind | None = None
    handed_over_from: date | None = None
    handed_over_to: date | None = None
    claim_from: str | None = Field(default=None, max_length=20)
    claim_to: str | None = Field(default=None, max_length=20)
    creditor_id: str | None = Field(default=None, max_length=100)

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of practices.practice_filters / list_practices."""
        values = self.model_dump()
        values["status_"] = values.pop("status")
        return values


def _read_filters(request: Request) -> tuple[PortfolioFilters, dict[str, str], dict[str, str]]:
    """The filters of the query string, the form's values as typed, and the field errors."""
    names = PortfolioFilters.model_fields
    typed = {name: request.query_params.get(name, "")[:100] for name in names}
    try:
        filters = PortfolioFilters.model_validate(
            {name: optional(value) for name, value in typed.items()}
        )
    except ValidationError as exc:
        return PortfolioFilters(), typed, field_errors(exc)
    return filters, typed, {}


@router.get("/practices")
async def portfolio(
    request: Request, _r: ConsoleRequest, principal: Creditors, db: SessionDep
) -> Response:
    filters, typed, errors = _read_filters(request)
    cursor = request.query_params.get("cursor") or None
    page = None
    if not errors:
        try:
            page = await practices.list_practices(
                session=db,
                principal=principal,
                limit=PAGE_SIZE,
                offset=0,
                cursor=cursor,
                **filters.arguments(),
            )
        except RequestValidationError as exc:
            errors = field_errors(exc)
    creditors = []
    if principal.role == Role.ADMIN:
        creditors = list(await db.scalars(select(Creditor).order_by(Creditor.name)))
    query = {name: value for name, value in typed.items() if value}
    return render(
        request,
        "console/creditor_practices.html",
        {
            "page": page,
            "form": typed,
            "query": query,
            "errors": errors,
            "creditors": creditors,
            "creditor_names": {c.id: c.name for c in creditors},
            "statuses": list(Status),
            "phases": list(Phase),
            "outcomes": list(Outcome),
            "debtor_kinds": list(DebtorKind),
            "names": i18n.PRACTICE_VALUES,
        },
        422 if errors else 200,
    )


# Italian headings: the file is for the creditor's own office (and Excel's Italian settings:
# semicolons, decimal commas)
CSV_COLUMNS = (
    "Riferimento",
    "Debitore",
    "Tipo debitore",
    "Provincia",
    "Stato",
    "Fase",
    "Esito",
    "Importo affidato",
    "Pagato",
    "Saldo",
    "Prossimo passo",
    "Data prossimo passo",
    "Affidata il",
)


def _csv_row(item: PracticeSummary) -> list[str]:
    def name(value: str | None) -> str:
        return i18n.translate("it", i18n.PRACTICE_VALUES.get(value, value)) if value else ""

    def euros(text: str) -> str:
        return format_decimal(Decimal(text), format="0.00", locale="it")

    return [
        item.reference,
        item.debtor_name or "",
        name(item.debtor_kind.value),
        item.province,
        name(item.status.value),
        name(item.phase.value),
        name(item.outcome),
        euros(item.claim),
        euros(item.paid),
        euros(item.balance),
        name(item.next_step),
        item.next_action_at.astimezone(i18n.ROME).date().isoformat() if item.next_action_at else "",
        item.created_at.astimezone(i18n.ROME).date().isoformat(),
    ]


@router.get("/practices.csv")
async def portfolio_csv(
    request: Request,
    _r: ConsoleRequest,
    principal: Creditors,
    db: SessionDep,
    database: DatabaseDep,
) -> Response:
    """The filtered portfolio, every page, as CSV: the page's columns (the same summaries, the
    same personal data), streamed in keyset batches so a large portfolio is never in memory."""
    filters, _typed, errors = _read_filters(request)
    try:
        if errors:
            raise RequestValidationError([])
        conditions = practices.practice_filters(principal, **filters.arguments())
    except RequestValidationError:
        return await portfolio(request, _r, principal, db)  # the page, with the field errors

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        buffer.write("\ufeff")  # a BOM: Excel reads the file as UTF-8 (accents in names)
        writer.writerow(CSV_COLUMNS)
        async with database.session() as session:
            batches = practice_pages.every_practice(session, conditions, batch=EXPORT_BATCH)
            async for batch in batches:
                for practice in batch:
                    writer.writerow(_csv_row(practice_summary(practice, principal)))
                # logged before the rows leave: one access per exported practice, one INSERT
                await access_log.record_access(
                    session, principal, access_log.What.EXPORT, [p.id for p in batch]
                )
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():  # the headings of an empty export
            yield buffer.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="pratiche.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- the decisions waiting for the creditor ------------------------------------------------------

TASKS_PAGE = "/console/creditor/tasks"
TASKS_SHOWN = 50


async def _waiting(db: SessionDep, principal: Principal, status: Status) -> list[PracticeOut]:
    """The practices paused on the creditor's decision (a dispute, a proposal outside the
    bounds), through the list's own visibility rule, as GET /practices/{id} shows them."""
    conditions = practices.practice_filters(principal, status_=status)
    rows = await db.scalars(
        select(Practice)
        .options(selectinload(Practice.invoices))
        .where(*conditions)
        .order_by(Practice.updated_at, Practice.id)
        .limit(TASKS_SHOWN)
    )
    return [practice_out(p, principal) for p in rows]


async def _tasks(
    request: Request,
    db: SessionDep,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db.expunge_all()  # after a refused command: read the lists afresh
    authorizations = await worklists.authorizations(
        session=db, principal=principal, limit=TASKS_SHOWN, offset=0
    )
    disputes = [
        p for p in await _waiting(db, principal, Status.PAUSED_DISPUTE) if p.open_dispute_id
    ]
    proposals = [
        p
        for p in await _waiting(db, principal, Status.PAUSED_PROPOSAL)
        if p.plan is not None and p.plan.state == "awaiting_approval"
    ]
    return render(
        request,
        "console/creditor_tasks.html",
        {
            "authorizations": authorizations,
            "disputes": disputes,
            "proposals": proposals,
            "errors": errors or {},
            "refusal": refusal,
            "form": form or {},
        },
        status_code,
    )


@router.get("/tasks")
async def tasks_page(
    request: Request, _r: ConsoleRequest, principal: Creditors, db: SessionDep
) -> Response:
    return await _tasks(request, db, principal)


async def _decide(
    request: Request,
    db: SessionDep,
    principal: Principal,
    practice_id: str,
    form: dict[str, str],
    call: Callable[[], Awaitable[object]],
    done: str,
) -> Response:
    """Runs the API's handler: back to the list when accepted; its 422s next to the fields of
    this practice's form (ids `<field>-<practice id>`), its 409s in the alert."""
    refused = await attempt(call)
    if refused:
        # a field's error next to this practice's form: ids `<field>-<practice id>`
        errors = {f"{name}-{practice_id}": msg for name, msg in refused.errors.items()}
        return await _tasks(
            request,
            db,
            principal,
            errors=errors,
            refusal=refused.message,
            form=form,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"{TASKS_PAGE}?done={done}", status_code=303)


@router.post("/tasks/{practice_id}/authorization", dependencies=[PracticeBoundary])
async def authorization(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Creditors,
    db: SessionDep,
    temporal: TemporalDep,
    authorized: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Authorise or decline legal action: POST /practices/{id}/legal-authorization."""

    async def call() -> object:
        body = AuthorizationIn.model_validate({"authorized": optional(authorized), "note": note})
        return await practice_commands.record_authorization(
            practice_id=practice_id, body=body, session=db, temporal=temporal, principal=principal
        )

    form = {"practice_id": practice_id, "note": note}
    return await _decide(request, db, principal, practice_id, form, call, "authorization")


@router.post("/tasks/{practice_id}/dispute", dependencies=[PracticeBoundary])
async def dispute(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Creditors,
    db: SessionDep,
    temporal: TemporalDep,
    dispute_id: Annotated[str, Form(max_length=100)],
    upheld: Annotated[str, Form(max_length=10)] = "",
    reduce_by: Annotated[str, Form(max_length=50)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Resolve a dispute: POST /practices/{id}/disputes/{dispute_id}/resolution."""

    async def call() -> object:
        body = DisputeResolutionIn.model_validate(
            {"upheld": optional(upheld), "reduce_by": optional(reduce_by), "note": note}
        )
        return await practice_commands.resolve_dispute(
            practice_id=practice_id,
            dispute_id=dispute_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
        )

    form = {"practice_id": practice_id, "upheld": upheld, "reduce_by": reduce_by, "note": note}
    return await _decide(request, db, principal, practice_id, form, call, "dispute")


@router.post("/tasks/{practice_id}/proposal", dependencies=[PracticeBoundary])
async def proposal(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Creditors,
    db: SessionDep,
    temporal: TemporalDep,
    proposal_id: Annotated[str, Form(max_length=100)],
    approved: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Approve or refuse a proposal outside the bounds: POST
    /practices/{id}/proposals/{proposal_id}/decision."""

    async def call() -> object:
        body = ProposalDecisionIn.model_validate({"approved": optional(approved), "note": note})
        return await deals.decide_proposal(
            practice_id=practice_id,
            proposal_id=proposal_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
        )

    form = {"practice_id": practice_id, "note": note}
    return await _decide(request, db, principal, practice_id, form, call, "proposal")
