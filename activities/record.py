"""record_practice: the workflow's timeline, ledger and state written to the read model.

Events and ledger lines are keyed by the workflow's own sequence numbers and the snapshot carries
a version, so retries, a replayed workflow and out-of-order attempts all converge on the newest
state.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from temporalio import activity

from activities.context import CONTACT_COLUMNS, ActivityContext, PracticeNotFound
from db.models import Event, LedgerRow, Practice
from domain.activity_io import ActivityName, RecordInput
from domain.ledger import LedgerEntry
from domain.practice import Channels, PracticeSnapshot, Status, TimelineEvent

log = logging.getLogger(__name__)

_SNAPSHOT = TypeAdapter(PracticeSnapshot)

# Two attempts of the same record can race on the events' unique key; the loser starts over
# and finds the winner's rows.
_ATTEMPTS = 3


def snapshot_json(snapshot: PracticeSnapshot) -> dict[str, Any]:
    """The whole snapshot as JSON data: dates and datetimes as ISO strings, enums as values."""
    data: dict[str, Any] = _SNAPSHOT.dump_python(snapshot, mode="json")
    return data


_PRACTICES = cast(Table, Practice.__table__)
_EVENTS = cast(Table, Event.__table__)
_LEDGER = cast(Table, LedgerRow.__table__)
# what invalid_channels reads of a practice row
_CONTACT_READ = ("invalid_channels", *CONTACT_COLUMNS.values())


def invalid_channels(practice: Any, channels: Channels, *, closed: bool = False) -> list[str]:
    """The channels the practice has a value for that the workflow no longer trusts; once the
    practice is closed also those the read model already marks wrong (a delivery report on a
    closed practice is recorded although the workflow refuses it: a later snapshot of the closed
    workflow must not wipe that mark)."""
    marked = set(practice.invalid_channels or ()) if closed else set()
    return [
        channel
        for channel, column in CONTACT_COLUMNS.items()
        if (getattr(practice, column) or "").strip()
        and (not getattr(channels, channel) or channel in marked)
    ]


def _value(enum_or_none: Any) -> Any:
    return getattr(enum_or_none, "value", enum_or_none)


def add_new_events(conn: Connection, practice_id: str, events: Sequence[TimelineEvent]) -> int:
    """Adds the timeline events not stored yet: a retried write, or one racing its twin, adds
    nothing twice, since the workflow numbered them. Returns how many were new.

    Core statements on a synchronous connection, not ORM objects: every command a practice takes
    writes here, and the ORM's unit of work was most of this write's CPU in the worker. From an
    AsyncSession: `await session.run_sync(lambda s: add_new_events(s.connection(), ...))`."""
    seqs = [e.seq for e in events]
    if not seqs:
        return 0
    known = set(
        conn.execute(
            select(Event.seq).where(Event.practice_id == practice_id, Event.seq.in_(seqs))
        ).scalars()
    )
    fresh = {e.seq: e for e in events if e.seq not in known}
    if fresh:
        conn.execute(
            insert(_EVENTS),
            [
                {
                    "practice_id": practice_id,
                    "seq": e.seq,
                    "at": e.at,
                    "kind": e.kind,
                    "summary": e.summary,
                    "data": dict(e.data),
                    "actor_kind": _value(e.actor.kind) if e.actor else None,
                    "actor_id": e.actor.id if e.actor else None,
                    "actor_role": e.actor.role if e.actor else None,
                }
                for e in fresh.values()
            ],
        )
    return len(fresh)


def ledger_row(practice_id: str, entry: LedgerEntry) -> dict[str, Any]:
    line = entry.line
    return {
        "practice_id": practice_id,
        "seq": entry.seq,
        "at": entry.at,
        "kind": _value(line.kind),
        "day": line.on,
        "amount_cents": line.amount_cents,
        "reference": line.reference,
        "invoice_number": line.invoice_number,
        "cost_kind": line.cost_kind,
        "actor_kind": _value(entry.actor_kind),
    }


def add_new_lines(conn: Connection, practice_id: str, entries: Sequence[LedgerEntry]) -> int:
    """Adds the ledger lines not stored yet (keyed, as their events, by the workflow's seq: a
    retried or racing write adds nothing twice). Returns how many were new."""
    seqs = [e.seq for e in entries]
    if not seqs:
        return 0
    known = set(
        conn.execute(
            select(LedgerRow.seq).where(
                LedgerRow.practice_id == practice_id, LedgerRow.seq.in_(seqs)
            )
        ).scalars()
    )
    fresh = [ledger_row(practice_id, e) for e in entries if e.seq not in known]
    if fresh:
        conn.execute(insert(_LEDGER), fresh)
    return len(fresh)


class RecordActivities(ActivityContext):
    @activity.defn(name=ActivityName.RECORD)
    async def record_practice(self, input: RecordInput) -> None:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                # the whole transaction in one thread, on the synchronous engine: it is the
                # write every command and every step makes (db/session.py)
                inserted, updated = await self.db.run_sync(
                    functools.partial(self._record, input=input)
                )
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
                continue
            log.info(
                "practice %s recorded: %d new events, snapshot v%d %s",
                input.practice_id,
                inserted,
                input.snapshot.version,
                "applied" if updated else "already superseded",
            )
            return

    def _record(self, engine: Engine, input: RecordInput) -> tuple[int, bool]:
        snapshot = input.snapshot
        with engine.begin() as conn:
            # locked: the marks of invalid_channels are read here and written below, and a
            # delivery report may mark one in between (PostgreSQL; SQLite has one writer anyway)
            contacts = conn.execute(
                select(*(_PRACTICES.c[c] for c in _CONTACT_READ))
                .where(_PRACTICES.c.id == input.practice_id)
                .with_for_update()
            ).one_or_none()
            if contacts is None:
                raise PracticeNotFound(input.practice_id)
            fresh = add_new_events(conn, input.practice_id, input.events)
            add_new_lines(conn, input.practice_id, input.ledger)
            # The version check is in the WHERE clause, so two attempts racing with different
            # snapshots cannot let the older one win even if both read the same row first.
            result = conn.execute(
                update(_PRACTICES)
                .where(
                    _PRACTICES.c.id == input.practice_id,
                    _PRACTICES.c.snapshot_version < snapshot.version,
                )
                .values(
                    status=_value(snapshot.status),
                    phase=_value(snapshot.phase),
                    outcome=_value(snapshot.outcome),
                    balance_cents=snapshot.balance_cents,
                    paid_cents=snapshot.paid_cents,
                    claim_cents=snapshot.claim_cents,
                    current_step=snapshot.current_step,
                    next_step=snapshot.next_step,
                    next_action_at=snapshot.next_action_at,
                    waiting_for=snapshot.waiting_for,
                    field_agent_id=snapshot.field_agent_id,
                    lawyer_id=snapshot.lawyer_id,
                    snapshot=snapshot_json(snapshot),
                    snapshot_version=snapshot.version,
                    invalid_channels=invalid_channels(
                        contacts, snapshot.channels, closed=snapshot.status == Status.CLOSED
                    ),
                )
            )
            # the retention period counts from the closure (api/services/erasure.py), on the
            # workflow's clock; the first closure stands, as in the workflow
            closed = [e.at for e in input.events if e.kind == "closed"]
            if closed:
                conn.execute(
                    update(_PRACTICES)
                    .where(_PRACTICES.c.id == input.practice_id, _PRACTICES.c.closed_at.is_(None))
                    .values(closed_at=min(closed))
                )
        return fresh, result.rowcount == 1
