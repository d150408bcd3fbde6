"""Fixtures of the system tests: a Stack (real Temporal dev server, workers, API as processes)
per test, every process killed in teardown, whatever the test did."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from db.session import Database
from tests.system.harness import Stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(data_dir=tmp_path)
    try:
        stack.migrate()
        stack.start_temporal()
        yield stack
    finally:
        stack.close()


@pytest.fixture
async def stack_db(stack: Stack) -> AsyncIterator[Database]:
    db = Database(stack.database_url)
    yield db
    await db.dispose()
