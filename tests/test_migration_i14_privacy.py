"""Migration 0016_i14_privacy on a database with data: practices closed before it get their
closure's time from their "closed" event (or their last update), open ones none; creditors get
the ten-year retention period."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from db.migrate import alembic_config
from db.session import to_sync_url
from tests import pg

BEFORE = "0015_lead_indexes"
CLOSED_AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
UPDATED_AT = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)


def _practice(pid: str, status: str) -> dict[str, object]:
    return {
        "id": pid,
        "creditor_id": "c1",
        "reference": f"R-{pid}",
        "workflow_id": f"practice-{pid}",
        "debtor_kind": "consumer",
        "debtor_name": "Mario Rossi",
        "street": "Via Verdi 12",
        "city": "Milano",
        "postal_code": "20121",
        "province": "MI",
        "country": "IT",
        "invalid_channels": [],
        "claim_cents": 100,
        "balance_cents": 100,
        "paid_cents": 0,
        "status": status,
        "phase": "out_of_court",
        "snapshot": {},
        "snapshot_version": 1,
        "strategy": {},
        "judicial_version": 0,
        "created_at": UPDATED_AT,
        "updated_at": UPDATED_AT,
    }


def test_closed_practices_get_their_closure_time(tmp_path: Path) -> None:
    url = to_sync_url(pg.database_url(tmp_path))
    cfg = alembic_config(url)
    command.upgrade(cfg, BEFORE)
    command.downgrade(cfg, BEFORE)  # a PostgreSQL test database starts at the newest schema
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine, only=["creditors", "practices", "events"])
    creditors, practices, events = (meta.tables[n] for n in ("creditors", "practices", "events"))
    try:
        with engine.begin() as conn:
            conn.execute(
                creditors.insert().values(
                    id="c1",
                    name="Creditore",
                    vat_number="07654320154",
                    iban="IT60X0542811101000000123456",
                    strategy={},
                    created_at=UPDATED_AT,
                )
            )
            for pid, status in (("p1", "closed"), ("p2", "closed"), ("p3", "active")):
                conn.execute(practices.insert().values(_practice(pid, status)))
            for seq, kind in ((1, "started"), (2, "closed")):
                conn.execute(
                    events.insert().values(
                        practice_id="p1",
                        seq=seq,
                        at=CLOSED_AT if kind == "closed" else UPDATED_AT.replace(year=2024),
                        kind=kind,
                        summary=kind,
                        data={},
                    )
                )
        command.upgrade(cfg, "head")
        meta = sa.MetaData()
        meta.reflect(engine, only=["creditors", "practices"])
        with engine.connect() as conn:
            closed = dict(
                conn.execute(sa.select(meta.tables["practices"].c["id", "closed_at"])).all()
            )
            retention = conn.execute(
                sa.select(meta.tables["creditors"].c.retention_days)
            ).scalar_one()

        def utc(value: datetime | None) -> datetime | None:
            if value is None or value.tzinfo is not None:
                return value
            return value.replace(tzinfo=UTC)  # SQLite keeps no offset

        assert {k: utc(v) for k, v in closed.items()} == {
            "p1": CLOSED_AT,
            "p2": UPDATED_AT,
            "p3": None,
        }
        assert retention == 3653
        command.downgrade(cfg, BEFORE)  # and back, for a rollback
    finally:
        engine.dispose()
        pg.drop_database(pg.database_url(tmp_path))
