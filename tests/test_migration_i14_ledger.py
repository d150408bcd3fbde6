"""Migration 0022_i14_ledger on a database with data: the practices recorded before the ledger
get their lines from their events once (db/ledger_backfill.py), so their statements and the
creditor's report charts are what they were; running the backfill again adds nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import cli
from api.services.reports import MonthRecovered, SelfService, creditor_charts
from db.ledger import practice_ledger
from db.ledger_backfill import backfill_ledger
from db.migrate import alembic_config, upgrade
from db.models import LedgerRow, Practice
from db.session import Database, to_sync_url
from domain.account import Reduction
from domain.allocation import Payment
from domain.costs import Cost, CostKind
from tests import pg
from tests.factories import create_creditor, create_practice, invoice


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=UTC)


async def test_the_ledger_of_older_practices_is_built_from_their_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg.database_url(tmp_path)
    upgrade(url)
    db = Database(url)
    sync_url = to_sync_url(url)
    cfg = alembic_config(sync_url)
    engine = sa.create_engine(sync_url)
    try:
        creditor = await create_creditor(db)
        rows = [invoice("FT-1", date(2025, 12, 1), date(2025, 12, 31), 100_000)]
        practice = await create_practice(
            db,
            creditor,
            invoices=rows,
            status="closed",
            outcome="settled",
            snapshot={"written_off_cents": 12_000},
        )
        other = await create_practice(db, creditor)
        # the read model as it was before the ledger
        command.downgrade(cfg, "0021_i16_correspondents")
        events = sa.table(
            "events",
            sa.column("practice_id", sa.String),
            sa.column("seq", sa.Integer),
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("kind", sa.String),
            sa.column("summary", sa.Text),
            sa.column("data", sa.JSON),
            sa.column("actor_kind", sa.String),
        )

        def row(pid: str, seq: int, when: datetime, kind: str, actor: str, **data: Any) -> Any:
            return {
                "practice_id": pid,
                "seq": seq,
                "at": when,
                "kind": kind,
                "summary": kind,
                "data": data,
                "actor_kind": actor,
            }

        with engine.begin() as conn:
            conn.execute(
                events.insert(),
                [
                    row(practice.id, 1, at(1), "handed_over", "user"),
                    row(
                        practice.id,
                        2,
                        at(2),
                        "payment",
                        "debtor",
                        amount_cents=30_000,
                        paid_on="2026-02-01",
                        reference="CARD-1",
                        invoice_number="FT-1",
                        balance_cents=70_000,
                    ),
                    row(
                        practice.id,
                        3,
                        at(3),
                        "cost",
                        "user",
                        amount_cents=2_000,
                        incurred_on="2026-02-03",
                        cost_kind="legal",
                    ),
                    row(
                        practice.id,
                        4,
                        at(4, 23),  # 5 February in Rome
                        "dispute_resolved",
                        "user",
                        dispute_id="d",
                        upheld=True,
                        reduce_by_cents=10_000,
                    ),
                    row(
                        practice.id,
                        5,
                        at(10),
                        "payment",
                        "user",
                        amount_cents=50_000,
                        paid_on="2026-03-02",
                        reference="CRO-2",
                    ),
                    row(practice.id, 6, at(10), "closed", "system", outcome="settled"),
                    row(other.id, 1, at(1), "handed_over", "user"),
                ],
            )
        command.upgrade(cfg, "head")

        async with db.session() as session:
            lines = list(
                await session.scalars(
                    select(LedgerRow).order_by(LedgerRow.practice_id, LedgerRow.seq)
                )
            )
            loaded = await session.scalar(
                select(Practice)
                .where(Practice.id == practice.id)
                .options(selectinload(Practice.invoices))
            )
            assert loaded is not None
            ledger = await practice_ledger(session, loaded)
            charts = await creditor_charts(session, creditor.id, None, None)
        assert [
            (r.practice_id, r.seq, r.kind, r.day, r.amount_cents, r.actor_kind) for r in lines
        ] == [
            (practice.id, 2, "payment", date(2026, 2, 1), 30_000, "debtor"),
            (practice.id, 3, "cost", date(2026, 2, 3), 2_000, "user"),
            (practice.id, 4, "reduction", date(2026, 2, 5), 10_000, "user"),
            (practice.id, 5, "payment", date(2026, 3, 2), 50_000, "user"),
            (practice.id, 6, "write_off", date(2026, 2, 10), 12_000, "system"),
        ]
        assert lines[0].at == at(2) and lines[0].reference == "CARD-1"
        # the statement's inputs, as the events' data gave them before
        assert ledger.payments == [
            Payment(date(2026, 2, 1), 30_000, "CARD-1", "FT-1"),
            Payment(date(2026, 3, 2), 50_000, "CRO-2", None),
        ]
        assert ledger.costs == [Cost(date(2026, 2, 3), 2_000, CostKind.LEGAL)]
        assert ledger.reductions == [Reduction(date(2026, 2, 5), 10_000)]
        # and the report charts
        assert charts.recovered_by_month == [
            MonthRecovered(date(2026, 2, 1), 30_000, 1),
            MonthRecovered(date(2026, 3, 1), 50_000, 1),
        ]
        assert charts.self_service == SelfService(payments=1, paid_cents=30_000)

        with engine.begin() as conn:  # once: a second run finds every line there
            assert backfill_ledger(conn) == 0
            # an event an old worker recorded after the migration: `recupero backfill-ledger`
            conn.execute(sa.delete(LedgerRow.__table__).where(LedgerRow.seq == 5))
        monkeypatch.setenv("RECUPERO_DATABASE_URL", url)
        cli.main(["backfill-ledger"])
        assert "1 ledger line(s) added" in capsys.readouterr().out
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(LedgerRow.__table__)) == 5
        command.downgrade(cfg, "0021_i16_correspondents")  # and back, for a rollback
        with engine.connect() as conn:
            assert "ledger_lines" not in sa.inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
        await db.dispose()
        pg.drop_database(url)
