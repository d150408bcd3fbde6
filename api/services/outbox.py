"""The outbox: deliveries, newest first, filtered by practice and channel. GET /outbox and the
console's outbox page call this."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery


async def deliveries(
    session: AsyncSession,
    *,
    practice_id: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Delivery], int]:
    """One page of deliveries, newest first, and how many match in all."""
    conditions = []
    if practice_id is not None:
        conditions.append(Delivery.practice_id == practice_id)
    if channel is not None:
        conditions.append(Delivery.channel == channel)
    total = await session.scalar(select(func.count(Delivery.id)).where(*conditions)) or 0
    rows = await session.scalars(
        select(Delivery)
        .where(*conditions)
        .order_by(Delivery.created_at.desc(), Delivery.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
