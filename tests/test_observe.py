"""The logging config's pieces (api/observe/logs.py) and tracing's default (off)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi import FastAPI

from api.observe import logs, tracing


def record(
    name: str, msg: str, args: tuple[object, ...] = (), **extra: object
) -> logging.LogRecord:
    rec = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_the_access_line_loses_the_query_the_debtor_token_and_the_client() -> None:
    rec = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        ("93.41.2.7:5123", "GET", "/d/tok_SECRET123/pay?email=mario.rossi@example.it", "1.1", 200),
    )
    assert logs.AccessLine().filter(rec)
    line = rec.getMessage()
    assert line == '- - "GET /d/{token}/pay HTTP/1.1" 200'


def test_a_json_line_carries_the_ids_of_the_workflow() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter("json"))
    handler.addFilter(logs.ContextIds())
    handler.handle(
        record("activities.letters", "letter %s rendered", ("doc1",), workflow_id="judicial-p1")
    )
    line = json.loads(stream.getvalue())
    assert line["message"] == "letter doc1 rendered"
    assert (line["level"], line["logger"]) == ("INFO", "activities.letters")
    assert (line["workflow_id"], line["practice_id"]) == ("judicial-p1", "p1")


def test_a_text_line_ends_with_the_ids() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter("text"))
    handler.addFilter(logs.ContextIds())
    handler.addFilter(logs._TextIds())
    handler.handle(record("recupero", "paid", practice_id="p9"))
    assert stream.getvalue().rstrip().endswith("recupero paid practice=p9")


@pytest.mark.parametrize(
    ("workflow_id", "practice_id"),
    [("practice-abc", "abc"), ("judicial-abc", "abc"), ("plan-abc-prop1", "abc"), ("x", None)],
)
def test_the_practice_of_a_workflow(workflow_id: str, practice_id: str | None) -> None:
    assert logs.practice_of_workflow(workflow_id) == practice_id


def test_a_wrong_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECUPERO_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit, match="json or text"):
        logs.log_format("json")
    monkeypatch.setenv("RECUPERO_LOG_FORMAT", "text")
    assert logs.log_format("json") == "text"
    monkeypatch.delenv("RECUPERO_LOG_FORMAT")
    assert logs.log_format("json") == "json"


def test_tracing_is_off_without_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.tracer_provider("recupero-api") is None
    assert tracing.temporal_interceptors(None) == []
    app = FastAPI()
    tracing.instrument_app(app, None)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


def test_a_safe_path() -> None:
    assert tracing.safe_path("/d/abc/documents/1?x=y") == "/d/{token}/documents/1"
    assert tracing.safe_path("/practices/p1?q=Rossi") == "/practices/p1"


async def test_a_request_line_carries_the_practice_of_its_route() -> None:
    import httpx

    app = FastAPI()
    app.add_middleware(logs.RequestContext)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter("json"))
    handler.addFilter(logs.ContextIds())
    logger = logging.getLogger("tests.observe.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @app.get("/practices/{practice_id}/notes")
    async def notes(practice_id: str) -> dict[str, str]:
        logger.info("notes read")
        return {}

    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            assert (await http.get("/practices/p42/notes")).status_code == 200
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert (line["practice_id"], line["workflow_id"]) == ("p42", "practice-p42")


def test_tracing_is_on_with_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "recupero-test")
    monkeypatch.setattr(tracing, "_provider", [])
    provider = tracing.tracer_provider("recupero-api")
    assert provider is not None and tracing.tracer_provider("recupero-worker") is provider
    assert provider.resource.attributes["service.name"] == "recupero-test"
    assert len(tracing.temporal_interceptors(provider)) == 1
    app = FastAPI()
    tracing.instrument_app(app, provider)
    assert getattr(app, "_is_instrumented_by_opentelemetry", False)
    provider.shutdown()
