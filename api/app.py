"""The FastAPI application: `create_app()`; `uvicorn --factory api.app:create_app` serves it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text
from temporalio.client import Client

from api import console, debtor
from api.auth import ensure_admin_key
from api.deps import get_database, get_temporal
from api.handover import SEARCH_ATTRIBUTES, register_search_attributes
from api.observe import logs, metrics, tracing
from api.routers import (
    card_payments,
    contact_preferences,
    creditors,
    deadlines,
    deals,
    debtor_links,
    deliveries,
    judicial,
    lab,
    opt_outs,
    outbox,
    practice_commands,
    practices,
    print_batches,
    privacy,
    rates,
    reports,
    statement,
    users,
    webhooks,
    worklists,
)
from api.routers import settings as settings_router
from api.schemas import HealthOut, MissingRateOut, rome_today
from api.services.rates import missing_rates
from config import Settings, connect_temporal, load_settings
from db.session import Database
from domain.rates import MissingPeriod

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = timedelta(seconds=3)

DESCRIPTION = """
Debt collection (recupero crediti) for Italian collection agencies. One practice (pratica) is
one debtor's unpaid invoices for one creditor, run by a durable workflow.

**Authentication**: every request carries `Authorization: Bearer rk_...`, except `/health` and
the providers' callbacks `/webhooks/sendgrid` and `/webhooks/twilio` (verified by the provider's
signature instead).
Roles: admin, creditor (its own practices only), operator, field_agent (its territory),
lawyer, correspondent (a foreign correspondent: the visits of its countries' debtors). A
missing or unknown key is a 401, a role that may not do something a 403.

**Amounts** are decimal strings in euros (`"1250.40"`), never JSON numbers.

**Errors**: 404 unknown resource, 403 another creditor's practice, 409 duplicate reference or a
practice that is closed or not waiting for this command, 422 bad input with `loc` naming the
field, 503 when the workflow service is unreachable.
"""


def create_app(
    settings: Settings | None = None,
    temporal_client: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The API. Its lifespan opens the database and (unless one is given) the Temporal client
    once, keeps both on `app.state`, and makes sure the admin key works. Requests are traced
    with `tracer_provider`, by default the OTLP one when OTEL_EXPORTER_OTLP_ENDPOINT is set
    (api/observe/tracing.py), else not at all."""
    settings = settings or load_settings()
    tracer_provider = tracer_provider or tracing.tracer_provider("recupero-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        try:
            client = temporal_client or await connect_temporal(
                settings, interceptors=tracing.temporal_interceptors(tracer_provider)
            )
            await ensure_admin_key(db, settings)
            try:
                added = await register_search_attributes(client, settings.temporal_namespace)
            except Exception as exc:  # noqa: BLE001 - said loudly, the API still serves
                # a practice in an experiment cannot start without them (503 on its hand-over)
                log.error(
                    "could not register the search attributes %s (%s): add them with "
                    "`temporal operator search-attribute create`",
                    ", ".join(k.name for k in SEARCH_ATTRIBUTES),
                    type(exc).__name__,
                )
            else:
                if added:
                    log.info("search attributes registered: %s", ", ".join(added))
            # a rate nobody added refuses every statement that needs it: say so at startup too
            for gap in await _missing_rates(db):
                log.warning(
                    "no %s rate is known for %s..%s: statements needing it are refused (409);"
                    " add it with %s",
                    gap.kind.value,
                    gap.start.isoformat(),
                    gap.end.isoformat(),
                    gap.how_to_add,
                )
            app.state.settings = settings
            app.state.db = db
            app.state.temporal = client
            # the stranded hand-over sweep is a Temporal Schedule the workers run (schedules.py)
            yield
        finally:
            await db.dispose()

    app = FastAPI(
        title="Recupero API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    for module in (
        creditors,
        lab,
        users,
        practices,
        practice_commands,
        card_payments,
        deals,
        debtor_links,
        opt_outs,
        contact_preferences,
        judicial,
        statement,
        worklists,
        deadlines,
        rates,
        reports,
        outbox,
        print_batches,
        privacy,
        deliveries,
        webhooks,
        settings_router,
    ):
        app.include_router(module.router)
    # the web console for people (pages, static files, their security headers)
    console.install(app)
    # the debtor's own page behind every letter, e-mail and SMS (/d/{token})
    debtor.install(app)
    # the request's practice id for the logs (api/observe/logs.py)
    app.add_middleware(logs.RequestContext)
    # GET /metrics and the request counts (added last: the outermost middleware times it all)
    metrics.install(app)
    tracing.instrument_app(app, tracer_provider)

    @app.get("/health", tags=["health"], response_model=HealthOut)
    async def health(request: Request) -> JSONResponse:
        """No authentication. 200 when the database and Temporal answer, 503 otherwise.
        `missing_rates` lists the rate periods begun and not known (the statements needing them
        are refused until an admin adds them); they do not make the service unhealthy."""
        database_ok, temporal_ok = await asyncio.gather(
            _database_answers(get_database(request)), _temporal_answers(get_temporal(request))
        )
        ok = database_ok and temporal_ok
        gaps = await _missing_rates(get_database(request)) if database_ok else []
        body = HealthOut(
            status="ok" if ok else "degraded",
            database=database_ok,
            temporal=temporal_ok,
            missing_rates=[
                MissingRateOut(kind=g.kind, start=g.start, end=g.end, how_to_add=g.how_to_add)
                for g in gaps
            ],
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)

    return app


async def _missing_rates(db: Database) -> list[MissingPeriod]:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT.total_seconds()), db.session() as session:
            return await missing_rates(session, rome_today())
    except Exception as exc:
        log.warning("rates: the rate table cannot be read (%s)", type(exc).__name__)
        return []


async def _database_answers(db: Database) -> bool:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT.total_seconds()), db.session() as session:
            await session.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        log.warning("health: database not answering (%s)", type(exc).__name__)
        return False


async def _temporal_answers(client: Client) -> bool:
    try:
        return await client.service_client.check_health(timeout=HEALTH_TIMEOUT)
    except Exception as exc:
        log.warning("health: Temporal not answering (%s)", type(exc).__name__)
        return False
