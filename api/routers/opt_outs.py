"""A debtor's refusal of a channel (call, e-mail, SMS), recorded on one practice and kept for the
debtor (codice fiscale or partita IVA), so it holds for all of its practices and creditors.

It is data, not a command: the workflow hears of it when it asks to contact the debtor
(activity reserve_conversation), and the operators' call queue stops showing the debtor's calls
at once. Letters by post are the legal minimum and cannot be refused (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.access import load_practice
from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import OptOutIn, OptOutOut
from db.contact_log import practice_debtor_key
from db.models import DebtorOptOut

router = APIRouter(
    prefix="/practices/{practice_id}/opt-outs",
    tags=["opt-outs"],
    responses={
        403: {"description": "Wrong role, or another creditor's practice."},
        404: {"description": "Unknown practice."},
        422: {"description": "A channel that cannot be refused (post) or is unknown."},
    },
)

Recorder = Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)]


def _out(row: DebtorOptOut) -> OptOutOut:
    return OptOutOut(channel=row.channel, created_at=row.created_at, practice_id=row.practice_id)


async def _existing(session: SessionDep, key: str, channel: str) -> DebtorOptOut | None:
    found: DebtorOptOut | None = await session.scalar(
        select(DebtorOptOut).where(DebtorOptOut.debtor_key == key, DebtorOptOut.channel == channel)
    )
    return found


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OptOutOut,
    responses={200: {"description": "The debtor had already opted out of this channel."}},
)
async def record_opt_out(
    practice_id: str,
    body: OptOutIn,
    session: SessionDep,
    principal: Recorder,
    response: Response,
) -> OptOutOut:
    """Records that the debtor of this practice refuses `channel`: from now on no practice of
    the same debtor (same codice fiscale or partita IVA) contacts it that way. 201 when new,
    200 when it was already recorded."""
    practice = await load_practice(session, principal, practice_id)
    key = practice_debtor_key(practice)
    existing = await _existing(session, key, body.channel)
    if existing is not None:
        response.status_code = status.HTTP_200_OK
        return _out(existing)
    row = DebtorOptOut(
        debtor_key=key, channel=body.channel, practice_id=practice.id, author_id=principal.id
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        # recorded concurrently by someone else: the same answer as a repeat
        await session.rollback()
        winner = await _existing(session, key, body.channel)
        if winner is None:
            raise
        response.status_code = status.HTTP_200_OK
        return _out(winner)
    return _out(row)


@router.get("", response_model=list[OptOutOut])
async def list_opt_outs(
    practice_id: str, session: SessionDep, principal: Recorder
) -> list[OptOutOut]:
    """The channels the debtor of this practice refused, wherever they were recorded."""
    practice = await load_practice(session, principal, practice_id)
    rows = await session.scalars(
        select(DebtorOptOut)
        .where(DebtorOptOut.debtor_key == practice_debtor_key(practice))
        .order_by(DebtorOptOut.created_at, DebtorOptOut.channel)
    )
    # recorded on another creditor's practice: the channel and date only
    return [
        _out(r)
        if r.practice_id == practice.id or principal.role != Role.CREDITOR
        else OptOutOut(channel=r.channel, created_at=r.created_at, practice_id=None)
        for r in rows
    ]
