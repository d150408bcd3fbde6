"""The court deadlines work list: GET /worklists/deadlines.

A lawyer sees the open deadlines of its own practices, the admin every open deadline (or one
lawyer's, with ?lawyer_id=); the nearest last day first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.errors import forbidden
from api.schemas import MAX_OFFSET, Page, rome_today
from api.schemas_judicial import DeadlineTask
from db.models import Deadline, Practice
from domain.judicial import DeadlineStatus

router = APIRouter(prefix="/worklists", tags=["work lists"])


@router.get("/deadlines", response_model=Page[DeadlineTask])
async def deadlines(
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.LAWYER)],
    lawyer_id: Annotated[str | None, Query(description="Admin only: one lawyer's.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[DeadlineTask]:
    """Open court terms, the nearest last day first, each with its rule and how it was
    counted. A term runs out at the end of its last day (Europe/Rome)."""
    where = [Deadline.status == DeadlineStatus.OPEN.value]
    if principal.role == Role.LAWYER:
        if lawyer_id is not None and lawyer_id != principal.id:
            raise forbidden("a lawyer sees only its own deadlines")
        where.append(Deadline.lawyer_id == principal.id)
    elif lawyer_id is not None:
        where.append(Deadline.lawyer_id == lawyer_id)
    total = await session.scalar(select(func.count(Deadline.id)).where(*where)) or 0
    rows = await session.execute(
        select(Deadline, Practice.reference)
        .join(Practice, Practice.id == Deadline.practice_id)
        .where(*where)
        .order_by(Deadline.last_day, Deadline.ends_at, Deadline.id)
        .limit(limit)
        .offset(offset)
    )
    today = rome_today()
    items = [
        DeadlineTask(
            id=d.id,
            practice_id=d.practice_id,
            reference=reference,
            kind=d.kind,
            start=d.start,
            last_day=d.last_day,
            ends_at=d.ends_at,
            rule=d.rule,
            explanation=d.explanation,
            status=d.status,
            lawyer_id=d.lawyer_id,
            days_left=(d.last_day - today).days,
        )
        for d, reference in rows
    ]
    return Page[DeadlineTask](items=items, total=total, limit=limit, offset=offset)
