"""What the debtor's page shows of the practice: the statement of account the API and the
console compute (api.routers.statement.statement_of, one code path), and the amount due today."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.routers.statement import statement_of
from api.schemas_judicial import StatementOut
from db.models import Practice
from domain.money import parse_euros


async def practice_with_invoices(db: AsyncSession, practice_id: str) -> Practice:
    practice = await db.scalar(
        select(Practice).where(Practice.id == practice_id).options(selectinload(Practice.invoices))
    )
    assert practice is not None  # a link's and a session's foreign key
    return practice


async def statement_today(db: AsyncSession, practice: Practice) -> StatementOut | None:
    """Today's statement; None when it cannot be made (no rate known yet for a recent day, no
    invoices): the page then shows the amount the practice's workflow keeps."""
    if "invoices" not in practice.__dict__:
        practice = await practice_with_invoices(db, practice.id)
    try:
        return await statement_of(db, practice, None)
    except HTTPException:
        return None


async def amount_due_today(db: AsyncSession, practice: Practice) -> int:
    """In cents: the statement's total outstanding today, else the workflow's balance."""
    if practice.status == "closed":
        return 0
    statement = await statement_today(db, practice)
    if statement is None:
        return practice.balance_cents
    return parse_euros(statement.totals.total.outstanding, allow_zero=True)
