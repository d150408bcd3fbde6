"""`GET /metrics` in Prometheus' text format (prometheus-client).

Two parts:
- the requests, counted and timed by a small ASGI middleware, labelled by the ROUTE TEMPLATE
  (`/practices/{practice_id}`, never the concrete path: ids would be one series each), the
  method and the status class (2xx, 4xx...);
- the business gauges, computed at scrape time from the read model by a handful of grouped
  COUNTs (practices by phase and status, the unsent outbox by channel, the open tasks by work
  list, the conversations reserved today).

Who may read it: a bearer token, either RECUPERO_METRICS_TOKEN (what a Prometheus scrape config
carries, compared in constant time, no database read) or an admin's API key. Never public: the
counts say how much business the agency has.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import _check_role, current_principal
from api.deps import SessionDep, get_settings
from api.roles import Role
from api.schemas import rome_today
from db.models import ConversationDay, Delivery, Practice, Task

UNMATCHED = "unmatched"  # a path no route knows (scanners): one series, not one per path
# deliveries written and not (yet) sent; parked: waiting for a provider that is down or busy
UNSENT = ("pending", "outbox", "parked")


def route_template(scope: Scope) -> str:
    """The template of the route that served the request, set on the scope by the router."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "recupero_http_requests",
            "HTTP requests served, by route template, method and status class",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "recupero_http_request_duration_seconds",
            "Time to serve a request, by route template and method",
            ["route", "method"],
            registry=registry,
        )


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: the body streams through untouched)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started is a 500 to the client

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(route, method, f"{status // 100}xx").inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)


class _Families(Collector):
    """The business gauges of one scrape, computed before (the SQL is async, collect() is not)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def business_gauges(session: SessionDep) -> list[Metric]:
    """Grouped counts on indexed columns (practices: the covering portfolio index; tasks: status,
    kind), each one query."""
    practices = GaugeMetricFamily(
        "recupero_practices", "Practices by phase and status", labels=["phase", "status"]
    )
    for phase, status, count in await session.execute(
        select(Practice.phase, Practice.status, func.count()).group_by(
            Practice.phase, Practice.status
        )
    ):
        practices.add_metric([phase, status], count)
    outbox = GaugeMetricFamily(
        "recupero_outbox_unsent",
        "Messages written and not sent yet (the outbox a person works, those pending, and those "
        "parked while their provider is down or busy)",
        labels=["channel"],
    )
    for channel, count in await session.execute(
        select(Delivery.channel, func.count())
        .where(Delivery.status.in_(UNSENT))
        .group_by(Delivery.channel)
    ):
        outbox.add_metric([channel], count)
    tasks = GaugeMetricFamily(
        "recupero_tasks_open", "Open work-list items by list (task kind)", labels=["list"]
    )
    for kind, count in await session.execute(
        select(Task.kind, func.count()).where(Task.status == "open").group_by(Task.kind)
    ):
        tasks.add_metric([kind], count)
    conversations = GaugeMetricFamily(
        "recupero_conversations_reserved_today",
        "Conversations with debtors reserved for today's date in Rome (the contact limits' rows)",
    )
    reserved = await session.scalar(
        select(func.count()).select_from(ConversationDay).where(ConversationDay.day == rome_today())
    )
    conversations.add_metric([], reserved or 0)
    return [practices, outbox, tasks, conversations]


_bearer = HTTPBearer(auto_error=False)


async def metrics_reader(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """RECUPERO_METRICS_TOKEN when it is set and matches; otherwise an admin's API key (401
    without a known key, 403 for another role)."""
    token = get_settings(request).metrics_token
    if token and credentials is not None:
        if hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            return
    _check_role(await current_principal(session, credentials), frozenset({Role.ADMIN}))


def install(app: FastAPI) -> None:
    registry = CollectorRegistry(auto_describe=True)
    app.add_middleware(MetricsMiddleware, metrics=RequestMetrics(registry))

    @app.get(
        "/metrics",
        tags=["health"],
        include_in_schema=False,
        dependencies=[Depends(metrics_reader)],
    )
    async def metrics(session: SessionDep) -> Response:
        """Prometheus text format: the requests, then the business gauges."""
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Families(await business_gauges(session)))
        body = generate_latest(registry) + generate_latest(scrape)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
