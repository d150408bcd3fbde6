"""record_judicial: the judicial workflow's timeline, state and deadlines written to the read model.

Like record_practice: events are keyed by (practice, seq) so a retried or replayed write adds
nothing twice (the judicial workflow numbers its events from JUDICIAL_SEQ_BASE, above the
practice workflow's own); the snapshot carries a version and an older one never replaces a newer
one. The deadlines follow the snapshot that is applied, in the same transaction: one row per
(practice, kind, start) with its status and the lawyer, and an open deadline the newest snapshot
no longer lists is marked cancelled (the snapshot lists every deadline the court steps counted).
"""

from __future__ import annotations

import logging
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, load_practice
from activities.record import add_new_events
from db.models import Deadline, Practice, utcnow
from domain.activity_io import ActivityName, RecordJudicialInput
from domain.judicial import JUDICIAL_SEQ_BASE, DeadlineStatus, JudicialSnapshot

log = logging.getLogger(__name__)

_SNAPSHOT = TypeAdapter(JudicialSnapshot)
_ATTEMPTS = 3


def judicial_json(snapshot: JudicialSnapshot) -> dict[str, Any]:
    data: dict[str, Any] = _SNAPSHOT.dump_python(snapshot, mode="json")
    return data


class JudicialActivities(ActivityContext):
    @activity.defn(name=ActivityName.RECORD_JUDICIAL)
    async def record_judicial(self, input: RecordJudicialInput) -> None:
        low = [e.seq for e in input.events if e.seq < JUDICIAL_SEQ_BASE]
        if low:
            raise ApplicationError(
                f"judicial events are numbered from {JUDICIAL_SEQ_BASE}; got {low[0]}",
                type="InvalidInput",
                non_retryable=True,
            )
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                inserted, applied = await self._record_judicial(input)
            except IntegrityError:
                # two attempts raced on an event's or a deadline's unique key: start over
                if attempt == _ATTEMPTS:
                    raise
                continue
            log.info(
                "practice %s judicial record: %d new events, snapshot v%d %s",
                input.practice_id,
                inserted,
                input.snapshot.version,
                "applied" if applied else "already superseded",
            )
            return

    async def _record_judicial(self, input: RecordJudicialInput) -> tuple[int, bool]:
        snapshot = input.snapshot
        async with self.db.session() as session, session.begin():
            await load_practice(session, input.practice_id)
            fresh = await session.run_sync(
                lambda sync: add_new_events(sync.connection(), input.practice_id, input.events)
            )
            # the version check is in the WHERE clause: of two racing attempts the older
            # snapshot cannot win, and the row lock it takes orders the deadlines' writes too
            result = await session.execute(
                update(Practice)
                .where(
                    Practice.id == input.practice_id,
                    Practice.judicial_version < snapshot.version,
                )
                .values(judicial=judicial_json(snapshot), judicial_version=snapshot.version)
                .execution_options(synchronize_session=False)
            )
            applied = cast(CursorResult[Any], result).rowcount == 1
            if applied:
                await _upsert_deadlines(session, input.practice_id, snapshot)
        return fresh, applied


async def _upsert_deadlines(
    session: AsyncSession, practice_id: str, snapshot: JudicialSnapshot
) -> None:
    rows = {
        (row.kind, row.start): row
        for row in await session.scalars(
            select(Deadline).where(Deadline.practice_id == practice_id)
        )
    }
    listed: set[tuple[str, object]] = set()
    now = utcnow()
    for view in snapshot.deadlines:
        # a deadline without its start is keyed by its last day
        start = view.start or view.last_day
        key = (view.kind, start)
        listed.add(key)
        row = rows.get(key)
        if row is None:
            row = Deadline(practice_id=practice_id, kind=view.kind, start=start)
            session.add(row)
            rows[key] = row
        row.last_day = view.last_day
        row.ends_at = view.ends_at
        row.rule = view.rule
        row.explanation = view.explanation
        row.status = DeadlineStatus(view.status).value
        row.lawyer_id = snapshot.lawyer_id
        row.updated_at = now
    for key, row in rows.items():
        if key not in listed and row.status == DeadlineStatus.OPEN.value:
            row.status = DeadlineStatus.CANCELLED.value
            row.updated_at = now
