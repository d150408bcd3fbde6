"""The API against the real thing: a Temporal dev server, a migrated database (SQLite or
PostgreSQL, tests/pg.py), the real worker (PracticeWorkflow and its activities) and the app with
its lifespan, over ASGI.

Everything is session-scoped (starting the dev server takes seconds); tests stay independent by
creating their own creditors, users and references.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import new_key
from api.deps import get_now
from config import Settings, load_settings
from db.migrate import upgrade
from db.session import Database
from domain.contact_rules import next_window_start
from tests import pg
from tests.api.helpers import Api, StartRecorder, in_contact_hours
from tests.conftest import venv_binary
from worker import build_worker


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    base = load_settings()
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": pg.database_url(data_dir) if "database_url" not in overrides else "",
        "task_queue": f"api-tests-{uuid.uuid4().hex[:8]}",
        "admin_key": new_key(),
        # the dev server runs in real time: contacts are judged as if it were contact hours
        "contact_clock": next_window_start,
        # no provider credentials: every message goes to the outbox
        "sendgrid_api_key": "",
        "twilio_account_sid": "",
        "twilio_auth_token": "",
        # the rows tests write without a workflow are not stranded hand-overs: tests that want
        # the sweep call it themselves
        "stranded_after_seconds": 0,
    }
    values.update(overrides)
    return dataclasses.replace(base, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def api_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="session")
async def api_db(api_settings: Settings) -> AsyncIterator[Database]:
    upgrade(api_settings.database_url)
    db = Database(api_settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def recorder() -> StartRecorder:
    return StartRecorder()


@pytest.fixture(scope="session")
async def app_client(temporal_env: WorkflowEnvironment, recorder: StartRecorder) -> Client:
    """The client the app uses: the dev server's, with a recorder of workflow starts, so a test
    can assert that a refused hand-over never even tried to start one."""
    config = temporal_env.client.config()
    config["interceptors"] = [*config.get("interceptors", []), recorder]
    return Client(**config)


@pytest.fixture(scope="session")
async def api(
    temporal_env: WorkflowEnvironment,
    app_client: Client,
    api_settings: Settings,
    api_db: Database,
    recorder: StartRecorder,
) -> AsyncIterator[Api]:
    worker = build_worker(temporal_env.client, api_db, api_settings)
    app = create_app(api_settings, temporal_client=app_client)
    app.dependency_overrides[get_now] = in_contact_hours
    async with (
        worker,
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://recupero.test"
        ) as http,
    ):
        yield Api(
            http=http,
            settings=api_settings,
            db=api_db,
            temporal=temporal_env.client,
            recorder=recorder,
            admin={"Authorization": f"Bearer {api_settings.admin_key}"},
        )


@pytest.fixture(autouse=True)
def _restore_overrides(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test leaves the shared app's dependency overrides as it found them: a test that
    puts the API's clock on a chosen Sunday must not leave the suite's later tests there (the
    session's app is shared; one such leak made the call queue empty and an expired link work
    for every test after it, on a CI run)."""
    if "api" not in request.fixturenames:
        yield
        return
    api: Api = request.getfixturevalue("api")
    app = api.app
    saved = dict(app.dependency_overrides)
    yield
    app.dependency_overrides.clear()
    app.dependency_overrides.update(saved)
