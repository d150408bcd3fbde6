"""Request-scoped dependencies: the database session, the Temporal client, the settings, the
clock.

All three are created once by the app's lifespan and kept on `app.state`; handlers reach them
only through these functions so tests and the CLI can hand in their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from config import Settings
from db.session import Database


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # One session per request, shared by the auth dependency and the handler (FastAPI caches it),
    # so a handler's rollback also discards anything auth touched.
    async with get_database(request).session() as session:
        yield session


def get_now() -> datetime:
    """The current moment, aware. A dependency so tests can put the API at a chosen time
    (`app.dependency_overrides[get_now]`): what the operators may do depends on the hour."""
    return datetime.now(UTC)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
