"""GET /metrics: who may read it, requests labelled by route template, business gauges."""

from __future__ import annotations

import dataclasses

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from tests.api.helpers import Api, bearer, hand_over, new_creditor, practice_payload


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def reads(text: str) -> float:
    one = {"route": "/practices/{practice_id}", "method": "GET", "status": "2xx"}
    return sum(v for labels, v in samples(text, "recupero_http_requests_total") if labels == one)


async def scrape(api: Api) -> str:
    response = await api.http.get("/metrics", headers=api.admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_are_not_public(api: Api) -> None:
    assert (await api.http.get("/metrics")).status_code == 401
    assert (await api.http.get("/metrics", headers=bearer("rk_unknown"))).status_code == 401
    tenant = await new_creditor(api)
    assert (await api.http.get("/metrics", headers=tenant.headers)).status_code == 403
    await scrape(api)


async def test_a_metrics_token_reads_them_without_an_api_key(api: Api) -> None:
    settings = dataclasses.replace(api.settings, metrics_token="scrape-secret-0123456789")
    app = create_app(settings, temporal_client=api.temporal)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/metrics", headers=bearer("scrape-secret-0"))).status_code == 401
        ok = await http.get("/metrics", headers=bearer("scrape-secret-0123456789"))
        assert ok.status_code == 200
        assert samples(ok.text, "recupero_conversations_reserved_today")
        # the admin's key still works
        assert (await http.get("/metrics", headers=api.admin)).status_code == 200


async def test_requests_are_labelled_by_route_template_and_practices_counted(api: Api) -> None:
    first = await scrape(api)
    before = sum(value for _, value in samples(first, "recupero_practices"))
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    practice_id = practice["id"]
    assert (await api.http.get(f"/practices/{practice_id}", headers=tenant.headers)).is_success
    assert (await api.http.get("/no/such/path")).status_code == 404

    text = await scrape(api)
    assert practice_id not in text  # ids are never labels
    requests = samples(text, "recupero_http_requests_total")
    # the api fixture is the session's: other tests may have read practices before
    assert reads(text) == reads(first) + 1
    assert any(
        labels == {"route": "unmatched", "method": "GET", "status": "4xx"} for labels, _ in requests
    )
    assert any(
        labels["route"] == "/practices/{practice_id}"
        for labels, _ in samples(text, "recupero_http_request_duration_seconds_count")
    )
    after = sum(value for _, value in samples(text, "recupero_practices"))
    assert after == before + 1
    phases = {labels["phase"] for labels, _ in samples(text, "recupero_practices")}
    assert "pre_due" in phases
