"""The ledger of practices recorded before it existed, built once from their timeline events.

Before migration 0019 the read model had no `ledger_lines`: the statement parsed payments, costs
and reductions back from the events' data. The migration runs `backfill_ledger` once, with the
same reading of the events the statement used, so every statement and report stays what it was;
from then on the workflow hands the typed lines to the record activity (domain/ledger.py). It
adds only the lines of events that have none (keyed by the event's seq), so running it again
adds nothing: `recupero backfill-ledger` does, for events an old worker recorded after the
migration ran (a deploy that migrated before stopping the old workers).

The tables are described here as migration 0019 made them, not through db/models.py: the
migration must keep working as the models change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from db.models import UTCDateTime
from domain.actor import ActorKind
from domain.calendar import rome_date
from domain.costs import CostKind
from domain.ledger import LedgerEntry, LedgerKind, LedgerLine, cost, payment, reduction, write_off

log = logging.getLogger(__name__)

_events = sa.table(
    "events",
    sa.column("practice_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("at", UTCDateTime()),
    sa.column("kind", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("actor_kind", sa.String()),
)
_practices = sa.table("practices", sa.column("id", sa.String()), sa.column("snapshot", sa.JSON()))
_ledger = sa.table(
    "ledger_lines",
    sa.column("practice_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("at", UTCDateTime()),
    sa.column("kind", sa.String()),
    sa.column("day", sa.Date()),
    sa.column("amount_cents", sa.BigInteger()),
    sa.column("reference", sa.Text()),
    sa.column("invoice_number", sa.Text()),
    sa.column("cost_kind", sa.String()),
    sa.column("actor_kind", sa.String()),
)

# the events that record money: a payment, a cost, a dispute upheld in part, and the closures
# that wrote the rest off (the creditor's write-off, a settlement paid)
MONEY_EVENTS = ("payment", "cost", "dispute_resolved", "end_decision", "closed")

_PRACTICES_AT_ONCE = 500


class MalformedEvent(ValueError):
    """An event whose data is not what its kind records (the statement refused it too)."""


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedEvent(f"{key} is not an amount in cents")
    return value


def _date(data: Mapping[str, Any], key: str) -> date:
    try:
        return date.fromisoformat(str(data[key]))
    except (KeyError, ValueError) as exc:
        raise MalformedEvent(f"{key} is not a date") from exc


def line_of(
    kind: str, data: Mapping[str, Any], at: datetime, written_off_cents: int
) -> LedgerLine | None:
    """The money one event records, read as the statement read it before the ledger; None
    when it records none. `written_off_cents`: the practice's (its snapshot's), which the
    closing events did not carry."""
    if kind == "payment":
        invoice = data.get("invoice_number")
        return payment(
            _date(data, "paid_on"),
            _int(data, "amount_cents"),
            str(data.get("reference") or ""),
            str(invoice) if invoice else None,
        )
    if kind == "cost":
        name = str(data.get("cost_kind") or data.get("kind") or "legal")
        try:
            CostKind(name)
        except ValueError as exc:
            raise MalformedEvent("unknown cost kind") from exc
        return cost(_date(data, "incurred_on"), _int(data, "amount_cents"), name)
    if kind == "dispute_resolved" and data.get("reduce_by_cents"):
        on = _date(data, "resolved_on") if "resolved_on" in data else rome_date(at)
        return reduction(on, _int(data, "reduce_by_cents"))
    closing = (kind == "end_decision" and data.get("decision") == "write_off") or (
        kind == "closed" and data.get("outcome") == "settled"
    )
    if closing and written_off_cents > 0:
        return write_off(rome_date(at), written_off_cents)
    return None


def entries_from_events(
    events: Iterable[Mapping[str, Any]], snapshot: Mapping[str, Any] | None
) -> list[LedgerEntry]:
    """The ledger entries of one practice's events (rows with seq, at, kind, data, actor_kind,
    in timeline order). Malformed events are left out, and logged (ids only)."""
    written = (snapshot or {}).get("written_off_cents")
    written_off = written if isinstance(written, int) and not isinstance(written, bool) else 0
    entries: list[LedgerEntry] = []
    for event in events:
        try:
            line = line_of(event["kind"], event["data"] or {}, event["at"], written_off)
        except MalformedEvent as exc:
            log.warning(
                "event %s (%s) left out of the ledger: %s", event["seq"], event["kind"], exc
            )
            continue
        if line is None:
            continue
        if line.kind == LedgerKind.WRITE_OFF:
            written_off = 0  # once: the first closure stands
        actor = event["actor_kind"]
        entries.append(
            LedgerEntry(event["seq"], event["at"], line, ActorKind(actor) if actor else None)
        )
    return entries


def _rows(practice_id: str, entries: Sequence[LedgerEntry]) -> list[dict[str, Any]]:
    return [
        {
            "practice_id": practice_id,
            "seq": e.seq,
            "at": e.at,
            "kind": e.line.kind.value,
            "day": e.line.on,
            "amount_cents": e.line.amount_cents,
            "reference": e.line.reference,
            "invoice_number": e.line.invoice_number,
            "cost_kind": e.line.cost_kind,
            "actor_kind": e.actor_kind.value if e.actor_kind else None,
        }
        for e in entries
    ]


def backfill_ledger(conn: Connection) -> int:
    """Adds the ledger lines of the money events that have none; returns how many. A few
    hundred practices at a time, so a large read model is never held in memory at once."""
    has_line = (
        sa.select(sa.literal(1))
        .where(_ledger.c.practice_id == _events.c.practice_id, _ledger.c.seq == _events.c.seq)
        .exists()
    )
    pending = ~has_line & _events.c.kind.in_(MONEY_EVENTS)
    practice_ids = list(
        conn.execute(
            sa.select(_events.c.practice_id).where(pending).distinct().order_by("practice_id")
        ).scalars()
    )
    added = 0
    for start in range(0, len(practice_ids), _PRACTICES_AT_ONCE):
        chunk = practice_ids[start : start + _PRACTICES_AT_ONCE]
        snapshots: dict[str, Any] = {
            pid: snapshot
            for pid, snapshot in conn.execute(
                sa.select(_practices.c.id, _practices.c.snapshot).where(_practices.c.id.in_(chunk))
            )
        }
        # a practice written off already (by a line the workflow wrote) is not written off again
        written_off = set(
            conn.execute(
                sa.select(_ledger.c.practice_id).where(
                    _ledger.c.practice_id.in_(chunk), _ledger.c.kind == "write_off"
                )
            ).scalars()
        )
        events: dict[str, list[Mapping[str, Any]]] = {pid: [] for pid in chunk}
        for row in conn.execute(
            sa.select(
                _events.c.practice_id,
                _events.c.seq,
                _events.c.at,
                _events.c.kind,
                _events.c.data,
                _events.c.actor_kind,
            )
            .where(pending, _events.c.practice_id.in_(chunk))
            .order_by(_events.c.practice_id, _events.c.at, _events.c.seq)
        ).mappings():
            events[row["practice_id"]].append(dict(row))
        rows: list[dict[str, Any]] = []
        for pid in chunk:
            snapshot = snapshots.get(pid)
            if pid in written_off:
                snapshot = {**(snapshot or {}), "written_off_cents": 0}
            rows += _rows(pid, entries_from_events(events[pid], snapshot))
        if rows:
            conn.execute(sa.insert(_ledger), rows)
        added += len(rows)
    return added
