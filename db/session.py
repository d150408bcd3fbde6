"""Engines and sessions. SQLite gets WAL, a busy timeout and foreign keys on every connection;
PostgreSQL (asyncpg) a pool checked before use and recycled, sized for a worker's concurrent
activities plus the API.

Beside the async engine, a synchronous one on the same database (sqlite3, psycopg) for the
worker's hottest write (activities/record.py): a transaction of a few short statements run whole
in one thread costs a fraction of the same statements each handed to aiosqlite's thread and back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # hide_parameters: an error's message (logged) never carries a row's personal data
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        # a server restart or an idle timeout in between must not fail the next activity
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=10,
        max_overflow=20,
    )


def make_side_engine(url: str) -> AsyncEngine:
    """An engine for the short writes a request makes beside its own session (the access log):
    its connections come from a pool of their own, so a request holding its session's connection
    never waits for another from the same pool (200 concurrent reads, each holding one of the 15
    and asking for a 16th, waited on each other until the pool's timeout). SQLite: no pool at
    all, a connection is a file open; PostgreSQL: a small pool whose connections are held for
    one INSERT, never while waiting for anything else."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, hide_parameters=True, poolclass=NullPool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=2,
        max_overflow=8,
    )


T = TypeVar("T")

# each engine's Database, for code that holds a session and needs the database's side engine
_DATABASES: WeakKeyDictionary[Engine, Database] = WeakKeyDictionary()

# The threads of the synchronous engine, and as many connections: its own threads, so a write the
# workflows wait on never queues behind PDFs being drawn in asyncio's default executor
SYNC_THREADS = 4


def to_sync_url(url: str) -> str:
    """The same database through the synchronous drivers (sqlite3, psycopg)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def make_sync_engine(url: str) -> Engine:
    sync_url = to_sync_url(url)
    if sync_url.startswith("sqlite"):
        engine = create_engine(sync_url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        sync_url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=SYNC_THREADS,
        max_overflow=0,
    )


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._side: AsyncEngine | None = None
        _DATABASES[self.engine.sync_engine] = self
        # created on first use (the API never needs them), from the event loop's thread
        self._sync: tuple[Engine, ThreadPoolExecutor] | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def side_session(self) -> AsyncIterator[AsyncSession]:
        """A session on the side engine (make_side_engine), in a transaction committed at the
        end of the block."""
        if self._side is None:
            self._side = make_side_engine(self.url)
        async with AsyncSession(self._side, expire_on_commit=False) as session, session.begin():
            yield session

    async def run_sync(self, fn: Callable[[Engine], T]) -> T:
        """fn(engine) on the synchronous engine, in the database's own threads."""
        if self._sync is None:
            threads = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="db-sync")
            self._sync = (make_sync_engine(self.url), threads)
        engine, threads = self._sync
        return await asyncio.get_running_loop().run_in_executor(threads, fn, engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._side is not None:
            side, self._side = self._side, None
            await side.dispose()
        if self._sync is not None:
            engine, threads = self._sync
            self._sync = None
            threads.shutdown(wait=True)
            engine.dispose()


def database_of(session: AsyncSession) -> Database:
    """The Database whose engine `session` is bound to."""
    bind = session.bind
    if isinstance(bind, AsyncConnection):
        bind = bind.engine
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session is not bound to a Database's engine")
    return _DATABASES[bind.sync_engine]
