"""One trace from an API request through the workflow update to an activity, with the in-memory
exporter of OpenTelemetry's SDK standing in for OTLP; and no personal data on any span."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.deps import get_now
from api.observe import tracing
from db.migrate import upgrade
from db.session import Database
from tests.api.conftest import make_settings
from tests.api.helpers import (
    Api,
    StartRecorder,
    eventually,
    hand_over,
    in_contact_hours,
    new_creditor,
    practice_payload,
    rome_today,
)
from worker import build_worker


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def api(
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    spans: InMemorySpanExporter,
) -> AsyncIterator[Api]:
    """The conftest harness, with a tracer provider exporting to memory on the app, the client
    and the worker (the worker takes the interceptor from its client)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    settings = make_settings(tmp_path_factory.mktemp("tracing"))
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    config = temporal_env.client.config()
    config["interceptors"] = tracing.temporal_interceptors(provider)
    client = Client(**config)
    try:
        app = create_app(settings, temporal_client=client, tracer_provider=provider)
        app.dependency_overrides[get_now] = in_contact_hours
        async with (
            build_worker(client, db, settings),
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://recupero.test"
            ) as http,
        ):
            yield Api(
                http=http,
                settings=settings,
                db=db,
                temporal=client,
                recorder=StartRecorder(),
                admin={"Authorization": f"Bearer {settings.admin_key}"},
            )
    finally:
        provider.shutdown()
        await db.dispose()


def descends_from(
    span: ReadableSpan, ancestor: ReadableSpan, by_id: dict[int, ReadableSpan]
) -> bool:
    current: ReadableSpan | None = span
    while current is not None and current.parent is not None:
        if current.parent.span_id == ancestor.context.span_id:
            return True
        current = by_id.get(current.parent.span_id)
    return False


async def test_one_trace_from_the_request_through_the_update_to_an_activity(
    api: Api, spans: InMemorySpanExporter
) -> None:
    tenant = await new_creditor(api)
    payload = practice_payload(tenant.id)
    practice = await hand_over(api, tenant.headers, payload)
    pid = practice["id"]
    spans.clear()
    paid = await api.http.post(
        f"/practices/{pid}/payments",
        headers=tenant.headers,
        json={"amount": "1250.40", "paid_on": rome_today().isoformat(), "reference": "CRO-T"},
    )
    assert paid.status_code == 200, paid.text

    def request_span() -> ReadableSpan | None:
        return next(
            (
                s
                for s in spans.get_finished_spans()
                if s.name == "POST /practices/{practice_id}/payments"
            ),
            None,
        )

    request = await eventually(lambda: _value(request_span()), "the request's span")
    by_id: dict[int, ReadableSpan] = {}

    def handled() -> tuple[ReadableSpan, ReadableSpan, list[ReadableSpan]] | None:
        """The client's update span under the request, the workflow's HandleUpdate span linked
        to it, and the activities the workflow ran from then on, in the workflow's trace."""
        finished = spans.get_finished_spans()
        by_id.update({s.context.span_id: s for s in finished})
        update = next((s for s in finished if s.name == "StartWorkflowUpdate:payment"), None)
        handler = next((s for s in finished if s.name == "HandleUpdate:payment"), None)
        if update is None or handler is None or handler.start_time is None:
            return None
        after = handler.start_time
        activities = [
            s
            for s in finished
            if s.name.startswith("RunActivity:")
            and s.context.trace_id == handler.context.trace_id
            and (s.start_time or 0) >= after
        ]
        # the full payment closes the practice: its work-list tasks are closed by an activity
        closing = any(a.name == "RunActivity:close_tasks" for a in activities)
        return (update, handler, activities) if closing else None

    update, handler, activities = await eventually(
        lambda: _value(handled()), "the update handled and an activity run"
    )
    # the request's trace holds the client's update call...
    assert update.context.trace_id == request.context.trace_id
    assert descends_from(update, request, by_id)
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/practices/{practice_id}/payments"
    # ...Temporal's TracingInterceptor runs the handler in the workflow's own trace (the one the
    # hand-over started), linked to the caller's span: the update is followed across the link
    assert [link.context.span_id for link in handler.links] == [update.context.span_id]
    assert all(
        a.attributes and a.attributes["temporalWorkflowID"] == f"practice-{pid}" for a in activities
    )

    # no personal data on any span: the debtor's name, tax code, contacts, street
    debtor: dict[str, Any] = payload["debtor"]
    secrets = [debtor[k] for k in ("name", "tax_code", "email", "phone")]
    secrets.append(debtor["address"]["street"])
    for span in spans.get_finished_spans():
        text = span.to_json()
        for secret in secrets:
            assert secret not in text, (span.name, secret)


async def _value(value: Any) -> Any:
    return value
