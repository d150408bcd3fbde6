"""Closing the day's print batch at the agency's cut-off, and reading a closed batch.

The scheduled PrintCutoffWorkflow (workflows/scheduled.py) calls `close_due_batches` at the
cut-off of every working day: the post letters written since the previous working day's cut-off
are fixed in print_batch_items, in the order they were written, so the list the mail house
downloads no longer changes; a letter written later belongs to the next working day's window.
GET /print-batches/{day} and the console list a closed day from these rows, an open day (today
before the cut-off, or a day from before batches existed) as the day's letters so far.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, PrintBatch, PrintBatchItem
from domain.calendar import rome_date
from domain.print_days import batch_window, days_due

log = logging.getLogger(__name__)


async def close_batch(session: AsyncSession, day: date, cutoff: time, now: datetime) -> PrintBatch:
    """Closes `day`'s batch (committed), or returns it when it is closed already: a retried or
    concurrent closing finds the first one's row (the day is unique) and adds nothing."""
    existing = await session.scalar(select(PrintBatch).where(PrintBatch.day == day))
    if existing is not None:
        return existing
    start, end = batch_window(day, cutoff)
    batched = exists().where(PrintBatchItem.delivery_id == Delivery.id)
    ids = (
        await session.scalars(
            select(Delivery.id)
            .where(
                Delivery.channel == "post",
                Delivery.created_at >= start,
                Delivery.created_at < end,
                ~batched,
            )
            .order_by(Delivery.created_at, Delivery.id)
        )
    ).all()
    batch = PrintBatch(day=day, window_start=start, cutoff_at=end, closed_at=now, total=len(ids))
    session.add(batch)
    await session.flush()
    session.add_all(
        PrintBatchItem(batch_id=batch.id, position=position, delivery_id=delivery_id)
        for position, delivery_id in enumerate(ids, start=1)
    )
    try:
        await session.commit()
    except IntegrityError:
        # another worker closed the day (or took one of its letters) in the meantime
        await session.rollback()
        found = await session.scalar(select(PrintBatch).where(PrintBatch.day == day))
        if found is None:
            raise
        return found
    log.info("print batch %s closed: %d letters", day.isoformat(), len(ids))
    return batch


async def close_due_batches(session: AsyncSession, now: datetime, cutoff: time) -> list[PrintBatch]:
    """Closes every working day's batch whose cut-off has passed at `now` and that is not closed
    yet (domain.print_days.days_due: a run late after a weekend or an outage closes each missed
    day in order), and returns them."""
    last = await session.scalar(
        select(func.max(PrintBatch.day)).where(PrintBatch.day <= rome_date(now))
    )
    return [await close_batch(session, day, cutoff, now) for day in days_due(now, cutoff, last)]


async def closed_batch(session: AsyncSession, day: date) -> PrintBatch | None:
    return await session.scalar(select(PrintBatch).where(PrintBatch.day == day))
