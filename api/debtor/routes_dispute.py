"""The debtor disputes the debt: POST /d/me/dispute (multipart: a reason and up to five PDF,
JPEG or PNG documents of at most 10 MB each), through api.services.disputes.open_dispute as
the API's POST /practices/{id}/disputes/with-documents, the debtor as the actor. Contact
stops at once while the creditor examines it.

A bad file refuses everything (nothing stored, nothing sent) with its message next to the
field. The form's one-time key is the dispute's id: a retry that finds the dispute it opened
on the timeline shows it and stores nothing again (a second dispute while one is open is
refused by the workflow anyway)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.debtor import actions
from api.debtor.access import PREFIX, VerifiedDebtor
from api.debtor.actions import N_
from api.debtor.routes_page import CONTEXT
from api.debtor.statement import practice_with_invoices
from api.deps import SessionDep, TemporalDep
from api.services import disputes
from api.services.debtor_links import DebtorAccess
from api.services.evidence import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES, EvidenceFile
from db.models import Practice
from domain.actor import Actor, ActorKind
from domain.practice import Status

router = APIRouter(prefix=f"{PREFIX}/me", tags=["debtor"])

FORM = "dispute"
REASON_MISSING = N_("Tell us why you dispute what is asked (up to 2000 characters).")
BAD_FILES = N_(
    "Each document must be a PDF, JPEG or PNG file of at most 10 MB, and at most 5 of them. "
    "Nothing was sent: choose the files again."
)


async def _context(
    request: Request, db: AsyncSession, access: DebtorAccess, practice: Practice
) -> dict[str, Any]:
    return {
        "dispute_key": actions.one_time_key(),
        "disputed": practice.status == Status.PAUSED_DISPUTE,
        "max_evidence_files": MAX_EVIDENCE_FILES,
    }


@router.post("/dispute")
async def dispute(
    request: Request,
    access: VerifiedDebtor,
    db: SessionDep,
    temporal: TemporalDep,
    key: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006
) -> Response:
    values = {"reason": reason}

    async def refused(errors: dict[str, str], status_code: int = 422) -> Response:
        return await actions.page_with_errors(
            request, db, access, FORM, errors, values, status_code
        )

    if not actions.valid_key(key):
        return await refused({"form": actions.EXPIRED_FORM}, 400)
    practice = await practice_with_invoices(db, access.practice_id)
    if await actions.event_with(db, practice.id, "dispute_opened", dispute_id=key):
        return actions.done(FORM, "dispute-title")  # a retry: the first one was opened
    if actions.is_closed(practice):
        return await refused({"form": actions.CLOSED}, 409)
    errors: dict[str, str] = {}
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        errors["reason"] = REASON_MISSING
    # a browser sends an empty part when no file is chosen
    chosen = [f for f in files if f.filename]
    if len(chosen) > MAX_EVIDENCE_FILES:
        errors["files"] = BAD_FILES
    if errors:
        return await refused(errors)
    received = [
        # one byte more than allowed is enough to refuse a file as too big without reading it
        EvidenceFile(filename=f.filename or "", content=await f.read(MAX_EVIDENCE_BYTES + 1))
        for f in chosen
    ]
    try:
        await disputes.open_dispute(
            db,
            temporal,
            practice,
            reason=reason,
            files=received,
            author_id=None,
            actor=Actor(ActorKind.DEBTOR),
            dispute_id=key,
        )
    except RequestValidationError:
        # check_evidence named a file: nothing was sent or stored
        return await refused({"files": BAD_FILES})
    except HTTPException as exc:
        if await actions.event_with(db, practice.id, "dispute_opened", dispute_id=key):
            return actions.done(FORM, "dispute-title")
        return await refused({"form": actions.refusal(exc)}, exc.status_code)
    return actions.done(FORM, "dispute-title")


actions.add_section("debtor/_dispute.html")
CONTEXT.append(_context)
