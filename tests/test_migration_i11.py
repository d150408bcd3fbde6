"""Migration 0008_i11_money on a database with data: a strategy a creditor saved before versions
were kept becomes its version 1; events and practices written before have no actor / version."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from db.migrate import alembic_config
from db.session import to_sync_url
from tests import pg


def test_a_saved_strategy_becomes_version_1(tmp_path: Path) -> None:
    url = to_sync_url(pg.database_url(tmp_path))
    cfg = alembic_config(url)
    command.upgrade(cfg, "0007")
    command.downgrade(cfg, "0007")  # a PostgreSQL test database starts at the newest schema
    engine = sa.create_engine(url)
    creditors = sa.table(
        "creditors",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("vat_number", sa.String),
        sa.column("iban", sa.String),
        sa.column("email", sa.String),
        sa.column("strategy", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    try:
        with engine.begin() as conn:
            for n, strategy in ((1, {"allocation": "principal_first"}), (2, {})):
                conn.execute(
                    creditors.insert().values(
                        id=f"c{n}",
                        name=f"Creditore {n}",
                        vat_number=f"0765432015{n}",
                        iban="IT60X0542811101000000123456",
                        email=f"c{n}@example.it",
                        strategy=strategy,
                        created_at=sa.func.now(),
                    )
                )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            versions = conn.execute(
                sa.text("SELECT creditor_id, version, strategy FROM strategy_versions")
            ).all()
            current = dict(
                conn.execute(sa.text("SELECT id, strategy_version FROM creditors")).all()
            )
        assert [(v[0], v[1]) for v in versions] == [("c1", 1)]
        assert current == {"c1": 1, "c2": 0}  # c2 never saved one: the defaults
        command.downgrade(cfg, "0007")  # and back, for a rollback
    finally:
        engine.dispose()
        pg.drop_database(pg.database_url(tmp_path))
