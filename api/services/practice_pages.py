"""Keyset pages of the practices list: GET /practices, the console's portfolio and its CSV export
read the list through these, in one order (newest hand-over first, the id breaking ties).

A page starts after (or ends before) a cursor: an opaque, URL-safe token holding the (created_at,
id) of the row it continues from and the direction. A page is one index range read, however deep
(OFFSET reads and throws away every row before it), and it neither repeats nor skips a practice
when others are handed over meanwhile. The WHERE clause comes from the caller
(practices.practice_filters: the visibility rule and the filters); the indexes it needs are
migration 0010_portfolio_index's."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import invalid
from db.models import Practice

# newest first; the id breaks ties (descending too, so that the pair is one row-value
# comparison an index on (created_at, id) answers as a range)
PRACTICE_ORDER = (Practice.created_at.desc(), Practice.id.desc())
_REVERSED_ORDER = (Practice.created_at.asc(), Practice.id.asc())
# a cursor is small: a direction, an ISO datetime and a 32-character id
MAX_CURSOR_LENGTH = 200


class Direction(StrEnum):
    AFTER = "a"  # the rows after the cursor's in the list's order (the next page)
    BEFORE = "b"  # the rows before it (the previous page)


@dataclass(frozen=True)
class Cursor:
    direction: Direction
    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.direction.value, self.created_at.isoformat(), self.id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def of(cls, direction: Direction, practice: Practice) -> Cursor:
        return cls(direction, practice.created_at, practice.id)


def decode_cursor(text: str, loc: Sequence[str] = ("query", "cursor")) -> Cursor:
    """The cursor of a next/previous link, or a 422 naming `loc` when it is not one."""
    message = "not a cursor of this list: follow the next_cursor or previous_cursor given"
    if len(text) > MAX_CURSOR_LENGTH:
        raise invalid(loc, message)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        direction, created_at, practice_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None or not isinstance(practice_id, str) or not practice_id:
            raise ValueError("naive time or no id")
        return Cursor(Direction(direction), moment.astimezone(UTC), practice_id)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as exc:
        # json.JSONDecodeError is a ValueError; unpacking a wrong shape is a Type/ValueError
        raise invalid(loc, message) from exc


def _beyond(cursor: Cursor) -> ColumnElement[bool]:
    """The rows on the cursor's side of its row, in the list's order."""
    key = tuple_(Practice.created_at, Practice.id)
    mark = tuple_(literal(cursor.created_at, Practice.created_at.type), literal(cursor.id))
    if cursor.direction is Direction.AFTER:
        # the created_at bound alone too: SQLite's planner turns it into the index range start
        return and_(Practice.created_at <= cursor.created_at, key < mark)
    return and_(Practice.created_at >= cursor.created_at, key > mark)


@dataclass(frozen=True)
class KeysetPage:
    practices: list[Practice]
    next_cursor: str | None
    previous_cursor: str | None


async def keyset_page(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    cursor: Cursor | None = None,
) -> KeysetPage:
    """One page of `limit` practices matching `conditions`, continuing from `cursor` (the first
    page without one), with the cursors of the pages on either side (None: no such page). One
    row more than the page is read to know whether another page follows in that direction."""
    query = select(Practice).where(*conditions)
    backwards = cursor is not None and cursor.direction is Direction.BEFORE
    if cursor is not None:
        query = query.where(_beyond(cursor))
    query = query.order_by(*(_REVERSED_ORDER if backwards else PRACTICE_ORDER)).limit(limit + 1)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    if not rows:
        return KeysetPage([], None, None)
    # moving forwards, a previous page exists when we came from one (the cursor's row is before
    # this page); moving backwards, the next page is the one we came from
    has_next = more if not backwards else True
    has_previous = more if backwards else cursor is not None
    return KeysetPage(
        rows,
        Cursor.of(Direction.AFTER, rows[-1]).encode() if has_next else None,
        Cursor.of(Direction.BEFORE, rows[0]).encode() if has_previous else None,
    )


async def offset_page(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], *, limit: int, offset: int
) -> KeysetPage:
    """The API's older pages by offset (still accepted), with the cursor that continues after
    them: a client can switch to cursors from any page."""
    query = select(Practice).where(*conditions).order_by(*PRACTICE_ORDER).limit(limit + 1)
    rows = list(await session.scalars(query.offset(offset)))
    more = len(rows) > limit
    rows = rows[:limit]
    return KeysetPage(
        rows,
        Cursor.of(Direction.AFTER, rows[-1]).encode() if rows and more else None,
        Cursor.of(Direction.BEFORE, rows[0]).encode() if rows and offset > 0 else None,
    )


async def count(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> int:
    """How many practices match: the one part of a page that reads every match, answered from
    the portfolio's covering indexes (a few ms for 50,000 practices: bench/README.md)."""
    every = select(func.count()).select_from(Practice).where(*conditions)
    return await session.scalar(every) or 0


async def every_practice(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], *, batch: int
) -> AsyncIterator[list[Practice]]:
    """Every matching practice in the list's order, `batch` at a time (the CSV export): one
    keyset page after the other, so memory holds one batch, never the whole list."""
    cursor: Cursor | None = None
    while True:
        page = await keyset_page(session, conditions, limit=batch, cursor=cursor)
        if page.practices:
            yield page.practices
        if page.next_cursor is None:
            return
        cursor = Cursor.of(Direction.AFTER, page.practices[-1])
        session.expunge_all()  # the batch's objects are not kept by the identity map
