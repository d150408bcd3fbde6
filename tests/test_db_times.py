"""Deadlines computed in Europe/Rome survive the read model as the same instant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from db.models import Practice
from db.session import Database
from domain.calendar import ROME
from tests.factories import create_creditor, create_practice


async def test_a_rome_deadline_reads_back_as_the_same_instant(database: Database) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    deadline = datetime(2026, 11, 26, 0, 0, tzinfo=ROME)  # midnight in Rome = 23:00 UTC
    async with database.session() as session:
        row = await session.get(Practice, practice.id)
        assert row is not None
        row.next_action_at = deadline
        await session.commit()
    async with database.session() as session:
        stored = await session.scalar(
            select(Practice.next_action_at).where(Practice.id == practice.id)
        )
    assert stored == deadline
    assert stored is not None and stored.tzinfo is not None
    assert stored.astimezone(UTC).hour == 23


async def test_a_naive_time_is_refused(database: Database) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    async with database.session() as session:
        row = await session.get(Practice, practice.id)
        assert row is not None
        row.next_action_at = datetime(2026, 11, 26, 0, 0)
        with pytest.raises(Exception, match="naive datetime"):
            await session.commit()
