"""The workflows the bench compares the product with. Registered only on the bench's own worker.

- `BenchEmpty` starts, waits, answers an update at once and counts signals (no activity, no
  database): the floor of what Temporal costs.
- `BenchParked` does the same work as a practice handed over with nothing to do before its due
  date, and nothing else: it starts, runs one local activity that writes one row to a SQLite
  table (through the product's `Database.run_sync`, the same synchronous engine, pragmas and
  threads as the product's `record_practice`) and parks on a timer ("raw parked"). Its update
  `record` runs the same one-row local activity before it answers ("raw recorded update"), the
  work of a payment without the product's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

if TYPE_CHECKING:  # the workflows' module imports no database code (the sandbox re-imports it)
    from sqlalchemy import Engine

# the product's choices for its record (workflows/practice/effects.py: DB_TIMEOUT, RETRY)
RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
PARK = timedelta(days=300)  # the bench's practices fall due in 300 days

ROWS_TABLE = "bench_rows"
ROWS_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {ROWS_TABLE} ("
    "id INTEGER PRIMARY KEY, workflow_id TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL)"
)


@dataclass(frozen=True)
class RowIn:
    workflow_id: str
    kind: str  # "parked" (the start's row) or "update"
    n: int


@workflow.defn(name="BenchEmpty")
class EmptyWorkflow:
    def __init__(self) -> None:
        self.done = False
        self.pings = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.pings

    @workflow.update(name="ping")
    async def ping(self, n: int) -> int:
        self.pings += 1
        return n

    @workflow.signal(name="poke")
    def poke(self, n: int) -> None:
        self.pings += 1

    @workflow.signal(name="finish")
    def finish(self) -> None:
        self.done = True


@workflow.defn(name="BenchParked")
class ParkedWorkflow:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await self._record("parked", 0)
        # the timer is set in the same workflow task completion that follows the record, as a
        # practice's timer to its due date; "finish" ends it early
        await workflow.wait_condition(lambda: self.done, timeout=PARK)

    @workflow.update(name="record")
    async def record(self, n: int) -> int:
        await self._record("update", n)
        return n

    @workflow.signal(name="finish")
    def finish(self) -> None:
        self.done = True

    async def _record(self, kind: str, n: int) -> None:
        await workflow.execute_local_activity(
            "bench_record",
            RowIn(workflow.info().workflow_id, kind, n),
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )


class RowWriter:
    """The local activity: one row, one transaction, on the product's synchronous engine."""

    def __init__(self, url: str) -> None:
        from db.session import Database  # the product's engines, pragmas and threads

        self.db = Database(url)

    async def create_table(self) -> None:
        from sqlalchemy import text

        def create(engine: Engine) -> None:
            with engine.begin() as conn:
                conn.execute(text(ROWS_SCHEMA))

        await self.db.run_sync(create)

    @activity.defn(name="bench_record")
    async def record(self, row: RowIn) -> None:
        from sqlalchemy import text

        statement = text(
            f"INSERT INTO {ROWS_TABLE} (workflow_id, kind, n) VALUES (:workflow_id, :kind, :n)"
        )

        def write(engine: Engine) -> None:
            with engine.begin() as conn:
                conn.execute(
                    statement, {"workflow_id": row.workflow_id, "kind": row.kind, "n": row.n}
                )

        await self.db.run_sync(write)
