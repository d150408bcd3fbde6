"""Fixtures of the system tests: a Stack (real Temporal dev server, workers, API as processes)
per test, every process killed in teardown, whatever the test did."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from db.session import Database
from tests.system.harness import Stack

# `make test` runs the suite twice, on SQLite and on PostgreSQL (RECUPERO_TEST_DATABASE); these
# tests run the embedded default (SQLite) whatever it says, so they run in the SQLite pass only
ONLY_ONCE = pytest.mark.skipif(
    os.environ.get("RECUPERO_TEST_DATABASE", "sqlite") != "sqlite",
    reason="the system tests run the SQLite default, in the RECUPERO_TEST_DATABASE=sqlite pass",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/system/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.system)
            item.add_marker(ONLY_ONCE)


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
