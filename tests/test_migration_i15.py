"""Migration 0017_i15_segments on a database with data: the strategy versions saved so far become
the creditor's `default` named strategy; practices handed over before have no segment."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from db.migrate import alembic_config
from db.session import to_sync_url
from tests import pg


def test_saved_versions_become_the_default_strategy(tmp_path: Path) -> None:
    url = to_sync_url(pg.database_url(tmp_path))
    cfg = alembic_config(url)
    command.upgrade(cfg, "0016_i14_privacy")
    command.downgrade(cfg, "0016_i14_privacy")  # a PostgreSQL test database starts at the newest
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO creditors (id, name, vat_number, iban, email, strategy, "
                    "strategy_version, created_at) VALUES ('c1', 'Creditore', '07654320151', "
                    "'IT60X0542811101000000123456', NULL, '{}', 2, CURRENT_TIMESTAMP)"
                )
            )
            for version in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO strategy_versions (creditor_id, version, strategy, saved_at)"
                        " VALUES ('c1', :v, '{}', CURRENT_TIMESTAMP)"
                    ),
                    {"v": version},
                )
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            rows = conn.execute(
                sa.text("SELECT name, version FROM strategy_versions ORDER BY version")
            ).all()
            assert [tuple(r) for r in rows] == [("default", 1), ("default", 2)]
            # a second name may reuse the numbers now
            conn.execute(
                sa.text(
                    "INSERT INTO strategy_versions (creditor_id, name, version, strategy, "
                    "saved_at) VALUES ('c1', 'gentle', 1, '{}', CURRENT_TIMESTAMP)"
                )
            )
        command.downgrade(cfg, "0016_i14_privacy")  # and back: the default versions stay
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM strategy_versions")).scalars()
            assert sorted(versions) == [1, 2]
    finally:
        engine.dispose()
        pg.drop_database(pg.database_url(tmp_path))
