"""Practices: the hand-over, the lists, one practice, its timeline and its letters.

The commands people send a practice (payments, outcomes...) are in practice_commands.py.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.access import can_see_personal_data, load_practice, visible_practices
from api.auth import Principal, Role, require
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import conflict, forbidden, invalid, not_found, unavailable
from api.schemas import (
    DocumentOut,
    EventOut,
    NoteKind,
    NoteOut,
    Page,
    PracticeCreate,
    PracticeOut,
    PracticeSummary,
    rome_today,
)
from api.strategies import strategy_from_json, strategy_to_json
from api.views import practice_out, practice_summary
from db.models import (
    Creditor,
    Deadline,
    Document,
    Event,
    InvoiceRow,
    Practice,
    PracticeNote,
    new_id,
)
from domain.countries import residence_for_country
from domain.money import parse_euros
from domain.practice import (
    WORKFLOW_NAME,
    Channels,
    DebtorKind,
    Invoice,
    Outcome,
    Phase,
    PracticeInput,
    Status,
    workflow_id_for,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/practices", tags=["practices"])

AnyUser = Annotated[Principal, require(*Role)]
HandOver = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]


def _duplicate_reference(reference: str) -> Exception:
    return conflict(f"this creditor already has a practice with reference {reference!r}")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PracticeOut,
    responses={
        403: {"description": "A creditor user handing over for another creditor."},
        404: {"description": "Unknown creditor_id."},
        409: {"description": "The creditor already has a practice with this reference."},
        422: {"description": "Bad input; `loc` names the field."},
        503: {"description": "The workflow could not be started; nothing was saved."},
    },
)
async def hand_over(
    body: PracticeCreate,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    principal: HandOver,
) -> PracticeOut:
    """Hands over one debtor's unpaid invoices (affido) and starts the practice's workflow.

    The practice row and its workflow exist together or not at all: the row is written in a
    transaction that commits only after the workflow has started, and a workflow whose row
    could not be committed is terminated. An unknown creditor is a 404 (the creditor is a
    resource named in the body, not a malformed value).
    """
    if principal.role == Role.CREDITOR and body.creditor_id != principal.creditor_id:
        raise forbidden("a creditor user hands over practices only for its own creditor")
    first_at: dict[str, int] = {}
    for i, inv in enumerate(body.invoices):
        if inv.number in first_at:
            raise invalid(
                ["body", "invoices", i, "number"],
                f"invoice number {inv.number!r} also appears at invoices[{first_at[inv.number]}]",
            )
        first_at[inv.number] = i

    creditor = await session.get(Creditor, body.creditor_id)
    if creditor is None:
        raise not_found("creditor")
    taken = await session.scalar(
        select(Practice.id).where(
            Practice.creditor_id == body.creditor_id, Practice.reference == body.reference
        )
    )
    if taken is not None:
        raise _duplicate_reference(body.reference)

    strategy = strategy_from_json(creditor.strategy)
    invoices = [
        Invoice(
            number=inv.number,
            issue_date=inv.issue_date,
            due_date=inv.due_date,
            amount_cents=parse_euros(inv.amount),
        )
        for inv in body.invoices
    ]
    total = sum(inv.amount_cents for inv in invoices)
    # due today is not late yet: the practice starts with the reminders on the due date
    today = rome_today()
    phase = Phase.PRE_DUE if any(inv.due_date >= today for inv in invoices) else Phase.OUT_OF_COURT
    practice_id = new_id()
    workflow_id = workflow_id_for(practice_id)
    debtor, address = body.debtor, body.debtor.address
    practice = Practice(
        id=practice_id,
        creditor_id=creditor.id,
        reference=body.reference,
        workflow_id=workflow_id,
        debtor_kind=debtor.kind.value,
        debtor_name=debtor.name,
        debtor_tax_code=debtor.tax_code,
        debtor_vat_number=debtor.vat_number,
        email=debtor.email,
        phone=debtor.phone,
        pec=debtor.pec,
        street=address.street,
        city=address.city,
        postal_code=address.postal_code,
        province=address.province,
        country=address.country,
        invalid_channels=[],
        claim_cents=total,
        balance_cents=total,
        paid_cents=0,
        status=Status.ACTIVE.value,
        phase=phase.value,
        snapshot={},
        snapshot_version=0,
        strategy=strategy_to_json(strategy),
        invoices=[
            InvoiceRow(
                number=inv.number,
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                amount_cents=inv.amount_cents,
            )
            for inv in invoices
        ],
    )
    session.add(practice)
    try:
        await session.flush()
    except IntegrityError as exc:
        # a concurrent hand-over with the same reference won the race
        await session.rollback()
        raise _duplicate_reference(body.reference) from exc

    workflow_input = PracticeInput(
        practice_id=practice_id,
        creditor_id=creditor.id,
        debtor_kind=DebtorKind(debtor.kind),
        province=address.province,
        invoices=invoices,
        strategy=strategy,
        channels=Channels(
            email=debtor.email is not None,
            phone=debtor.phone is not None,
            pec=debtor.pec is not None,
            address=True,
        ),
        residence=residence_for_country(address.country),
    )
    try:
        await temporal.start_workflow(
            WORKFLOW_NAME,
            workflow_input,
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except Exception as exc:
        # whatever went wrong, the row must not outlive the failed start
        await session.rollback()
        log.warning("practice %s: workflow start failed (%s)", practice_id, type(exc).__name__)
        raise unavailable(
            "the practice's workflow could not be started; nothing was saved"
        ) from exc

    try:
        await session.commit()
    except Exception as exc:
        await session.rollback()
        log.error(
            "practice %s: commit failed after the workflow started; terminating it", practice_id
        )
        try:
            await temporal.get_workflow_handle(workflow_id).terminate(
                reason="hand-over not saved: the database commit failed"
            )
        except Exception:
            log.exception("practice %s: could not terminate workflow %s", practice_id, workflow_id)
        raise unavailable("the practice could not be saved; nothing was kept, retry") from exc
    log.info("practice %s handed over for creditor %s", practice_id, creditor.id)
    return practice_out(practice, principal)


@router.get("", response_model=Page[PracticeSummary])
async def list_practices(
    session: SessionDep,
    principal: AnyUser,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    phase: Phase | None = None,
    creditor_id: str | None = None,
    reference: str | None = None,
    outcome: Outcome | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[PracticeSummary]:
    """Practices the caller may see, newest first: a creditor its own, a field agent those of
    its territory and its visits, the other roles all."""
    if (
        principal.role == Role.CREDITOR
        and creditor_id is not None
        and creditor_id != principal.creditor_id
    ):
        raise forbidden("a creditor user sees only its own creditor's practices")
    conditions = [visible_practices(principal)]
    if status_ is not None:
        conditions.append(Practice.status == status_.value)
    if phase is not None:
        conditions.append(Practice.phase == phase.value)
    if creditor_id is not None:
        conditions.append(Practice.creditor_id == creditor_id)
    if reference is not None:
        conditions.append(Practice.reference == reference)
    if outcome is not None:
        conditions.append(Practice.outcome == outcome.value)
    total = await session.scalar(select(func.count(Practice.id)).where(*conditions)) or 0
    rows = await session.scalars(
        select(Practice)
        .where(*conditions)
        .order_by(Practice.created_at.desc(), Practice.id)
        .limit(limit)
        .offset(offset)
    )
    return Page[PracticeSummary](
        items=[practice_summary(p, principal) for p in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{practice_id}",
    response_model=PracticeOut,
    responses={403: {"description": "Another creditor's practice."}, 404: {}},
)
async def get_practice(practice_id: str, session: SessionDep, principal: AnyUser) -> PracticeOut:
    practice = await load_practice(session, principal, practice_id, with_invoices=True)
    deadlines = await session.scalars(
        select(Deadline)
        .where(Deadline.practice_id == practice_id)
        .order_by(Deadline.last_day, Deadline.kind, Deadline.start)
    )
    return practice_out(practice, principal, list(deadlines))


@router.get("/{practice_id}/events", response_model=list[EventOut])
async def list_events(practice_id: str, session: SessionDep, principal: AnyUser) -> list[EventOut]:
    """The timeline, oldest first (by time, then sequence: the court steps' events are numbered
    from 1,000,000). Summaries never carry the debtor's personal data."""
    await load_practice(session, principal, practice_id)
    rows = await session.scalars(
        select(Event).where(Event.practice_id == practice_id).order_by(Event.at, Event.seq)
    )
    return [
        EventOut(
            seq=e.seq,
            at=e.at,
            kind=e.kind,
            summary=e.summary,
            data=dict(e.data or {}),
        )
        for e in rows
    ]


@router.get("/{practice_id}/notes", response_model=list[NoteOut])
async def list_notes(practice_id: str, session: SessionDep, principal: AnyUser) -> list[NoteOut]:
    """The notes and reasons people gave with their commands (a call's note, a dispute's
    reason...), oldest first. Notes often speak of the debtor's life, so they are shown to those
    who may see the debtor's personal data (a field agent: only on its assigned practices)."""
    practice = await load_practice(session, principal, practice_id)
    if not can_see_personal_data(principal, practice):
        raise forbidden("the notes of this practice are not available to this user")
    rows = await session.scalars(
        select(PracticeNote)
        .where(PracticeNote.practice_id == practice_id)
        .order_by(PracticeNote.created_at, PracticeNote.id)
    )
    return [
        NoteOut(
            id=n.id,
            kind=NoteKind(n.kind),
            text=n.text,
            author_id=n.author_id,
            created_at=n.created_at,
        )
        for n in rows
    ]


async def _documents_practice(
    session: SessionDep, principal: Principal, practice_id: str
) -> Practice:
    practice = await load_practice(session, principal, practice_id)
    # letters print the debtor's name and address
    if not can_see_personal_data(principal, practice):
        raise forbidden("the letters of this practice are not available to this user")
    return practice


@router.get("/{practice_id}/documents", response_model=list[DocumentOut])
async def list_documents(
    practice_id: str, session: SessionDep, principal: AnyUser
) -> list[DocumentOut]:
    await _documents_practice(session, principal, practice_id)
    rows = await session.execute(
        # the content is left out: a list should not pull every PDF into memory
        select(
            Document.id,
            Document.kind,
            Document.filename,
            Document.media_type,
            func.length(Document.content),
            Document.created_at,
        )
        .where(Document.practice_id == practice_id)
        .order_by(Document.created_at, Document.id)
    )
    return [
        DocumentOut(
            id=r[0],
            kind=r[1],
            filename=r[2],
            media_type=r[3],
            size=r[4] or 0,
            created_at=r[5],
        )
        for r in rows
    ]


@router.get(
    "/{practice_id}/documents/{document_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The letter."}},
)
async def get_document(
    practice_id: str, document_id: str, session: SessionDep, principal: AnyUser
) -> Response:
    await _documents_practice(session, principal, practice_id)
    document = await session.get(Document, document_id)
    if document is None or document.practice_id != practice_id:
        raise not_found("document")
    filename = "".join(c for c in document.filename if c.isascii() and c not in '"\\\r\n')
    return Response(
        content=document.content,
        media_type=document.media_type or "application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename or document.id}"'},
    )
