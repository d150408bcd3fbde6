"""A rate nobody added is impossible to overlook (issue 11 point 14): GET /health lists it (still
200), the API says it when it starts, and the statement's 409 says how to add it."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from temporalio.client import Client

from api.app import create_app
from config import Settings
from tests.api.conftest import Api

# No legal rate for 2099 nor late-payment rate for its first half will ever be shipped now.
FAR = date(2099, 3, 1)


async def test_health_lists_the_missing_rate_periods_and_stays_200(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.app.rome_today", lambda: FAR)
    response = await api.http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    missing = {(m["kind"], m["start"], m["end"]): m["how_to_add"] for m in body["missing_rates"]}
    assert ("legal", "2099-01-01", "2099-12-31") in missing
    late = missing[("late_payment_231", "2099-01-01", "2099-06-30")]
    assert late.startswith("POST /rates") and '"start": "2099-01-01"' in late
    assert ("late_payment_231", "2099-07-01", "2099-12-31") not in missing  # not begun yet


async def test_the_api_startup_log_names_a_missing_rate(
    api: Api,
    api_settings: Settings,
    app_client: Client,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("api.app.rome_today", lambda: FAR)
    app = create_app(api_settings, temporal_client=app_client)
    with caplog.at_level(logging.WARNING, logger="api.app"):
        async with app.router.lifespan_context(app):
            pass
    said = [r.getMessage() for r in caplog.records if r.name == "api.app"]
    assert any(
        "late_payment_231" in m and "2099-01-01..2099-06-30" in m and "POST /rates" in m
        for m in said
    ), said


async def test_the_statement_409_says_how_to_add_the_rate(api: Api) -> None:
    from tests.api.test_statement import business_example

    practice = await business_example(api)
    response = await api.http.get(
        f"/practices/{practice.id}/statement", headers=api.admin, params={"at": "2026-08-31"}
    )
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert '"kind": "late_payment_231"' in detail
    assert '"end": "2026-12-31"' in detail  # the whole half-year of the first day missing
    assert "Gazzetta" in detail
