"""Engines and sessions. SQLite gets WAL, a busy timeout and foreign keys on every connection;
PostgreSQL (asyncpg) a pool checked before use and recycled, sized for a worker's concurrent
activities plus the API.

Beside the async engine, a synchronous one on the same database (sqlite3, psycopg) for the
worker's hottest write (activities/record.py): a transaction of a few short statements run whole
in one thread costs a fraction of the same statements each handed to aiosqlite's thread and back.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        # a server restart or an idle timeout in between must not fail the next activity
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=10,
        max_overflow=20,
    )


def to_sync_url(url: str) -> str:
    """The same database through the synchronous drivers (sqlite3, psycopg)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def make_sync_engine(url: str) -> Engine:
    sync_url = to_sync_url(url)
    if sync_url.startswith("sqlite"):
        engine = create_engine(sync_url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        sync_url, pool_pre_ping=True, pool_recycle=1800, pool_size=5, max_overflow=10
    )


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @functools.cached_property
    def sync_engine(self) -> Engine:
        """Created on first use: the API never needs it."""
        return make_sync_engine(self.url)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if "sync_engine" in self.__dict__:
            self.sync_engine.dispose()
