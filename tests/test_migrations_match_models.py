"""The Alembic migrations build exactly the schema db/models.py describes (the console's
0009_console added columns and tables by hand): a model change without its migration, or a
migration that differs from its model, fails here."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from db.migrate import upgrade
from db.models import Base


def test_the_migrated_schema_is_the_models(tmp_path: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
