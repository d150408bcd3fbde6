"""OpenTelemetry traces: the API's requests (FastAPI's maintained instrumentation) and Temporal's
TracingInterceptor on the client and the worker, so one trace runs from a request through the
workflow start or update to the activities.

Off by default: only when OTEL_EXPORTER_OTLP_ENDPOINT (the standard variable; the exporter reads
it and its OTEL_EXPORTER_OTLP_* companions itself) is set is a tracer provider built, exporting
by OTLP over HTTP. Otherwise nothing is instrumented and OpenTelemetry's API stays the no-op.

No personal data on a span: the request's span is named by the route template; its URL
attributes are scrubbed of the query string and of the debtor page's token, and the client's
address and user agent are not kept. Temporal's spans name workflows, updates and activities by
type and carry the workflow id (the practice id), never payloads.
"""

from __future__ import annotations

import os
import re
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"

_provider: list[TracerProvider] = []  # the process' one (`recupero run`: the API and the worker)


def tracing_configured() -> bool:
    return bool(os.environ.get(ENDPOINT_VARIABLE, "").strip())


def tracer_provider(service: str) -> TracerProvider | None:
    """The process' exporting provider when OTLP is configured, else None. The first caller's
    `service` names it, unless OTEL_SERVICE_NAME does."""
    if not tracing_configured():
        return None
    if not _provider:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or service
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        _provider.append(provider)
    return _provider[0]


def temporal_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """Temporal's tracing interceptor (client and worker: the worker takes it from the client)."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("recupero.temporal"))]


# attributes (old and stable HTTP semantic conventions) that would carry a query string, the
# debtor page's token, or who the client is
_URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.path")
_CLIENT_ATTRIBUTES = (
    "http.client_ip",
    "client.address",
    "net.peer.ip",
    "net.sock.peer.addr",
    "network.peer.address",
    "http.user_agent",
    "user_agent.original",
)
_DEBTOR_TOKEN = re.compile(r"^/d/[^/]+")


def safe_path(path: str) -> str:
    """The path without its query string, the debtor page's token replaced by its placeholder."""
    return _DEBTOR_TOKEN.sub("/d/{token}", path.split("?", 1)[0])


def _scrub_request(span: Span, scope: dict[str, Any]) -> None:
    if not span.is_recording():
        return
    path = safe_path(str(scope.get("path", "")))
    for name in _URL_ATTRIBUTES:
        span.set_attribute(name, path)
    span.set_attribute("url.query", "")
    for name in _CLIENT_ATTRIBUTES:
        span.set_attribute(name, "")


def instrument_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """Request spans, when a provider exports them (the receive/send sub-spans are left out)."""
    if provider is None:
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        server_request_hook=_scrub_request,
        exclude_spans=["receive", "send"],
        # the scrape would be one span every few seconds
        excluded_urls="/metrics,/health",
    )
