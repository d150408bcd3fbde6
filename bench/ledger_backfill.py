"""Recupero bench: migration 0019's backfill of the ledger (db/ledger_backfill.py) on a SQLite
read model recorded before it. A script that prints figures, not a test.

    .venv/bin/python bench/ledger_backfill.py --practices 20000

It migrates a fresh SQLite read model to 0018 (the schema before the ledger), inserts the
practices' rows and their timeline in bulk (per practice: the hand-over, two letters' events, two
payments, a cost; one practice in ten closed settled, with its written-off sum in the snapshot),
then times `alembic upgrade head` (the ledger's table, its indexes and the backfill) and a second
`backfill_ledger` run (which finds every line there).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402

from db.ledger_backfill import backfill_ledger  # noqa: E402
from db.migrate import alembic_config  # noqa: E402


def fill(engine: sa.Engine, practices: int) -> int:
    creditor = secrets.token_hex(16)
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    meta = sa.MetaData()
    meta.reflect(engine, only=["creditors", "practices", "events"])
    creditors, rows, events = (meta.tables[n] for n in ("creditors", "practices", "events"))
    with engine.begin() as conn:
        conn.execute(
            creditors.insert().values(
                id=creditor,
                name="Creditore",
                vat_number="00743110157",
                iban="IT60X0542811101000000123456",
                strategy={},
                strategy_version=0,
                created_at=start,
            )
        )
        written = 0
        for first in range(0, practices, 2000):
            practice_rows: list[dict[str, Any]] = []
            event_rows: list[dict[str, Any]] = []
            for n in range(first, min(first + 2000, practices)):
                pid = secrets.token_hex(16)
                at = start + timedelta(minutes=n)
                settled = n % 10 == 0
                practice_rows.append(
                    {
                        "id": pid,
                        "creditor_id": creditor,
                        "reference": f"B-{n:07d}",
                        "workflow_id": f"practice-bench-{n}",
                        "debtor_kind": "consumer",
                        "debtor_name": f"Mario Rossi {n}",
                        "street": "Via Roma 1",
                        "city": "Milano",
                        "postal_code": "20100",
                        "province": "MI",
                        "country": "IT",
                        "claim_cents": 100_000,
                        "balance_cents": 0 if settled else 60_000,
                        "paid_cents": 40_000,
                        "status": "closed" if settled else "active",
                        "phase": "out_of_court",
                        "snapshot": {"written_off_cents": 60_000} if settled else {},
                        "snapshot_version": 1,
                        "strategy": {},
                        "invalid_channels": [],
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                day = at.date()
                timeline: list[tuple[str, dict[str, Any]]] = [
                    ("handed_over", {}),
                    ("reminder_letter", {"letter": 1}),
                    (
                        "payment",
                        {"amount_cents": 20_000, "paid_on": day.isoformat(), "reference": f"R{n}a"},
                    ),
                    ("demand_letter", {"letter": 2}),
                    (
                        "payment",
                        {"amount_cents": 20_000, "paid_on": day.isoformat(), "reference": f"R{n}b"},
                    ),
                    (
                        "cost",
                        {
                            "amount_cents": 1_500,
                            "incurred_on": day.isoformat(),
                            "cost_kind": "legal",
                        },
                    ),
                ]
                if settled:
                    timeline.append(("closed", {"outcome": "settled"}))
                for seq, (kind, data) in enumerate(timeline, start=1):
                    event_rows.append(
                        {
                            "practice_id": pid,
                            "seq": seq,
                            "at": at + timedelta(seconds=seq),
                            "kind": kind,
                            "summary": kind,
                            "data": data,
                            "actor_kind": "system",
                        }
                    )
            conn.execute(rows.insert(), practice_rows)
            conn.execute(events.insert(), event_rows)
            written += len(event_rows)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'recupero.db'}"
        cfg = alembic_config(url)
        command.upgrade(cfg, "0018_i16_abroad")
        engine = sa.create_engine(url)
        began = time.perf_counter()
        events = fill(engine, args.practices)
        took = time.perf_counter() - began
        print(f"{args.practices} practices, {events} events inserted in {took:.1f} s")
        began = time.perf_counter()
        command.upgrade(cfg, "head")
        took = time.perf_counter() - began
        with engine.connect() as conn:
            lines = conn.scalar(sa.text("SELECT count(*) FROM ledger_lines"))
        print(f"upgrade to head (table, indexes, backfill): {took:.2f} s, {lines} ledger lines")
        began = time.perf_counter()
        with engine.begin() as conn:
            again = backfill_ledger(conn)
        print(f"backfill again: {again} lines added in {time.perf_counter() - began:.2f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
