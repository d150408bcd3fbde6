"""Who read which debtor's personal data, and when (GDPR art. 5(2) and 32: the agency can show
who saw a debtor's data): `record_access` is the one writer, called by the handlers that hand
out a debtor's data (the practice's detail, which the console's practice page calls too; a
document; a statement; the CSV export, one row per exported practice). `entries` reads the log
for GET /access-log and the admin's page.

The log holds ids, roles, a kind and a time, never the data read. It is written on a session of
its own and committed at once: the reading request's own transaction (a GET never commits) and
its failures do not decide whether the read is logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from db.models import AccessLogEntry, utcnow
from db.session import database_of


class What(StrEnum):
    PRACTICE = "practice"  # the practice's detail with the debtor (API, console page)
    DOCUMENT = "document"  # a letter's PDF or a dispute's evidence
    STATEMENT = "statement"  # the statement PDF (it prints the debtor's name and address)
    EXPORT = "export"  # the portfolio's CSV export


async def record_access(
    session: AsyncSession,
    principal: Principal,
    what: What,
    practice_ids: Iterable[str],
    target_id: str | None = None,
) -> None:
    """One row per practice read, in one INSERT, committed on a session of its own on the
    database's side engine (db/session.py: not the request's pool, which the request's own
    session holds a connection of)."""
    at = utcnow()
    rows = [
        {
            "at": at,
            "user_id": principal.id,
            "role": principal.role.value,
            "practice_id": practice_id,
            "what": what.value,
            "target_id": target_id,
        }
        for practice_id in practice_ids
    ]
    if not rows:
        return
    async with database_of(session).side_session() as own:
        await own.execute(insert(AccessLogEntry), rows)


@dataclass(frozen=True)
class AccessPage:
    items: list[AccessLogEntry]
    # the id to pass as `before` for the next (older) page; None on the last page
    next_before: int | None


async def entries(
    session: AsyncSession,
    *,
    practice_id: str | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> AccessPage:
    """Newest first, paged by id (keyset: `before` is the last id of the previous page), so a
    deep page costs what the first does while reads keep being logged."""
    query = select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(limit + 1)
    if practice_id:
        query = query.where(AccessLogEntry.practice_id == practice_id)
    if user_id:
        query = query.where(AccessLogEntry.user_id == user_id)
    if since is not None:
        query = query.where(AccessLogEntry.at >= since)
    if until is not None:
        query = query.where(AccessLogEntry.at < until)
    if before is not None:
        query = query.where(AccessLogEntry.id < before)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return AccessPage(rows, rows[-1].id if more and rows else None)
