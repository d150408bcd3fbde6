"""The admin's console pages in-process: creditors, a creditor's strategy (the API's validation,
its messages next to the same fields, the versions, the path preview), rates, the outbox and
the print batch; and the refusals of every other role."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date
from typing import Any

import httpx
import pytest

from tests.api.helpers import Api, new_creditor, rome_today, unique_tax_code, vat_number
from tests.api.test_console_logins import csrf, log_in, person


async def as_role(api: Api, role: str, **extra: Any) -> None:
    """The console's client, logged in as a new user of `role`."""
    user, password = await person(api, role, **extra)
    answer = await log_in(api, user["email"], password)
    assert answer.status_code == 303, answer.text


def field_error(page: httpx.Response, field_id: str) -> str:
    """The text of the error shown next to a field (its aria-describedby target)."""
    found = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page.text
    )
    assert found, f"no error next to {field_id}: " + page.text[:3000]
    return html.unescape(found.group(1))


async def post_form(api: Api, page_url: str, action: str, data: dict[str, Any]) -> httpx.Response:
    page = await api.http.get(page_url)
    assert page.status_code == 200, page.text
    return await api.http.post(action, data={"csrf_token": csrf(page), **data})


CREDITORS = "/console/admin/creditors"


async def test_admin_registers_a_creditor_as_post_creditors_does(api: Api) -> None:
    await as_role(api, "admin")
    vat = vat_number()
    created = await post_form(
        api,
        CREDITORS,
        CREDITORS,
        {
            "name": "Ferramenta Rossi S.r.l.",
            "vat_number": vat,
            "iban": "IT60X0542811101000000123456",
        },
    )
    assert created.status_code == 201, created.text
    assert "Ferramenta Rossi S.r.l." in created.text
    listed = await api.http.get("/creditors", headers=api.admin)
    assert [c["vat_number"] for c in listed.json()].count(vat) == 1
    # the same partita IVA again: the API's 409, next to the field
    again = await post_form(
        api,
        CREDITORS,
        CREDITORS,
        {"name": "Altra", "vat_number": vat, "iban": "IT60X0542811101000000123456"},
    )
    assert again.status_code == 409
    api_answer = await api.http.post(
        "/creditors",
        headers=api.admin,
        json={"name": "Altra", "vat_number": vat, "iban": "IT60X0542811101000000123456"},
    )
    assert api_answer.status_code == 409
    assert field_error(again, "vat_number") == api_answer.json()["detail"]


async def test_creditor_form_errors_are_the_apis_next_to_each_field(api: Api) -> None:
    await as_role(api, "admin")
    bad = {"name": "X", "vat_number": "12345678901", "iban": "IT00X0000000000000000000000"}
    page = await post_form(api, CREDITORS, CREDITORS, bad)
    assert page.status_code == 422
    api_answer = await api.http.post("/creditors", headers=api.admin, json=bad)
    assert api_answer.status_code == 422
    by_field = {item["loc"][-1]: item["msg"] for item in api_answer.json()["detail"]}
    assert set(by_field) == {"vat_number", "iban"}
    for name, message in by_field.items():
        assert field_error(page, name) == message
    assert 'aria-invalid="true" aria-describedby="iban-error"' in page.text


def strategy_form(page: httpx.Response, **changes: str | None) -> dict[str, Any]:
    """The strategy form's fields as the page shows them, with `changes` (None unticks)."""
    data: dict[str, Any] = {}
    for name, value in re.findall(r'<input id="[^"]*" name="([^"]+)" value="([^"]*)"', page.text):
        data[name] = html.unescape(value)
    for name, value in re.findall(
        r'<input id="[^"]*" name="([^"]+)" inputmode="numeric" value="([^"]*)"', page.text
    ):
        data[name] = html.unescape(value)
    for name in re.findall(r'type="checkbox" id="[^"]*" name="([^"]+)"[^>]*? checked', page.text):
        data[name] = "on"
    selected = re.search(r'name="allocation".*?<option value="([^"]+)" selected', page.text, re.S)
    assert selected
    data["allocation"] = selected.group(1)
    other = re.search(
        r'<textarea id="strategy-other" name="other"[^>]*>(.*?)</textarea>', page.text, re.S
    )
    assert other
    data["other"] = html.unescape(other.group(1))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


async def test_a_strategy_the_api_refuses_is_refused_with_the_same_message_by_the_field(
    api: Api,
) -> None:
    tenant = await new_creditor(api)
    await as_role(api, "admin")
    url = f"{CREDITORS}/{tenant.id}/strategy"
    page = await api.http.get(url)
    assert page.status_code == 200
    before = await api.http.get(f"/creditors/{tenant.id}/strategy/versions", headers=api.admin)
    cases = [
        ({"steps.2.wait_after": "15 days"}, "steps.2.wait_after", "steps-2-wait_after"),
        ({"demand_term": "P400D"}, "demand_term", "demand_term"),
        ({"call_attempts": "0"}, "call_attempts", "call_attempts"),
        ({"call_attempts": "tre"}, "call_attempts", "call_attempts"),
        ({"steps.10.enabled": None}, "steps.10.enabled", "steps-10-enabled"),
        ({"trace_timeout": "PT0S"}, "trace_timeout", "trace_timeout"),
        ({"debtor_link_validity": "90 giorni"}, "debtor_link_validity", "debtor_link_validity"),
    ]
    for change, path, field_id in cases:
        data = strategy_form(page, **change)
        refused = await api.http.post(url, data={"csrf_token": csrf(page), **data})
        assert refused.status_code == 422, (change, refused.text[:500])
        # the same strategy through the API
        body = api_body(data)
        answer = await api.http.put(
            f"/creditors/{tenant.id}/strategy", headers=api.admin, json=body
        )
        assert answer.status_code == 422, answer.text
        detail = {
            ".".join(str(p) for p in item["loc"][1:]): item["msg"]
            for item in answer.json()["detail"]
        }
        assert path in detail, detail
        assert field_error(refused, field_id) == detail[path]
        assert "Nothing was saved" in refused.text or "Nulla è stato salvato" in refused.text
    after = await api.http.get(f"/creditors/{tenant.id}/strategy/versions", headers=api.admin)
    assert after.json() == before.json()


def api_body(data: dict[str, Any]) -> dict[str, Any]:
    """The PUT /creditors/{id}/strategy body holding what the form holds."""
    import json

    body: dict[str, Any] = json.loads(data["other"])
    body["steps"] = [
        {
            "step": step,
            "enabled": data.get(f"steps.{i}.enabled") == "on",
            "wait_after": data[f"steps.{i}.wait_after"],
        }
        for i, step in enumerate(STEPS)
    ]
    for name in (
        "call_retry_interval",
        "call_outcome_timeout",
        "trace_timeout",
        "visit_outcome_timeout",
        "opinion_timeout",
        "demand_term",
        "authorization_timeout",
        "debtor_link_validity",
        "allocation",
    ):
        body[name] = data[name]
    body["call_attempts"] = data["call_attempts"]
    body["claim_interest"] = data.get("claim_interest") == "on"
    return body


STEPS = [
    "pre_due_reminders",
    "contact_check",
    "reminder_letter",
    "phone_phase",
    "second_letter",
    "skip_tracing",
    "home_visit",
    "legal_notice",
    "formal_demand",
    "legal_opinion",
    "authorization",
]


async def test_a_json_setting_refused_is_shown_by_the_json_field(api: Api) -> None:
    tenant = await new_creditor(api)
    await as_role(api, "admin")
    url = f"{CREDITORS}/{tenant.id}/strategy"
    page = await api.http.get(url)
    data = strategy_form(page, other='{"letter_texts": {"reminder_letter": "{% if %}"}}')
    refused = await api.http.post(url, data={"csrf_token": csrf(page), **data})
    assert refused.status_code == 422
    answer = await api.http.put(
        f"/creditors/{tenant.id}/strategy", headers=api.admin, json=api_body(data)
    )
    message = answer.json()["detail"][0]["msg"]
    assert field_error(refused, "other") == f"letter_texts.reminder_letter: {message}"
    not_json = strategy_form(page, other="{nope")
    refused = await api.http.post(url, data={"csrf_token": csrf(page), **not_json})
    assert refused.status_code == 422 and field_error(refused, "other").startswith("not JSON")


async def test_admin_saves_a_strategy_sees_its_versions_and_previews_a_path(api: Api) -> None:
    tenant = await new_creditor(api)
    await as_role(api, "admin")
    url = f"{CREDITORS}/{tenant.id}/strategy"
    page = await api.http.get(url)
    # the debtor's link validity among the durations, labelled in Italian
    assert '<label for="strategy-debtor_link_validity">Validità del link' in page.text
    data = strategy_form(
        page,
        demand_term="P20D",
        call_attempts="2",
        debtor_link_validity="P30D",
        **{"steps.2.wait_after": "P10D"},
    )
    saved = await api.http.post(url, data={"csrf_token": csrf(page), **data})
    assert saved.status_code == 303 and saved.headers["location"] == url + "?saved=1"
    stored = await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)
    assert stored.json()["demand_term"] == "P20D" and stored.json()["call_attempts"] == 2
    assert stored.json()["debtor_link_validity"] == "P30D"
    assert stored.json()["steps"][2] == {
        "step": "reminder_letter",
        "enabled": True,
        "wait_after": "P10D",
    }
    versions = (
        await api.http.get(f"/creditors/{tenant.id}/strategy/versions", headers=api.admin)
    ).json()
    assert [v["version"] for v in versions] == [1, 2] and versions[-1]["current"]
    assert versions[-1]["saved_by"]["role"] == "admin"
    shown = await api.http.get(url + "?saved=1")
    assert re.search(r"<td>2 \((current|attuale)\)</td>", shown.text), shown.text
    # the preview: the current strategy's path, with its dates (two calls)
    assert 'id="strategy-path"' in shown.text
    assert len(re.findall(r"\((call|chiamata) \d\)", shown.text)) == 2
    # a preview of an unsaved change saves nothing
    changed = strategy_form(shown, call_attempts="4")
    preview = await api.http.post(url + "/preview", data={"csrf_token": csrf(shown), **changed})
    assert preview.status_code == 200
    assert len(re.findall(r"\((call|chiamata) \d\)", preview.text)) == 4
    again = (
        await api.http.get(f"/creditors/{tenant.id}/strategy/versions", headers=api.admin)
    ).json()
    assert len(again) == 2
    # today's date is shown, the path starts today
    assert rome_today().strftime("%Y") in preview.text


@pytest.mark.parametrize("role", ["creditor", "operator", "lawyer", "field_agent"])
async def test_other_roles_cannot_open_or_use_the_admin_pages(api: Api, role: str) -> None:
    tenant = await new_creditor(api)
    extra: dict[str, Any] = {}
    if role == "creditor":
        extra = {"creditor_id": tenant.id}
    elif role == "field_agent":
        extra = {"provinces": ["MI"]}
    await as_role(api, role, **extra)
    account = await api.http.get("/console/account")
    token = csrf(account)
    for path in (
        CREDITORS,
        f"{CREDITORS}/{tenant.id}/strategy",
        "/console/admin/rates",
        "/console/admin/outbox",
        f"/console/admin/print-batches/{rome_today().isoformat()}",
    ):
        assert (await api.http.get(path)).status_code == 403, path
    for path, data in (
        (
            CREDITORS,
            {"name": "X", "vat_number": vat_number(), "iban": "IT60X0542811101000000123456"},
        ),
        (f"{CREDITORS}/{tenant.id}/strategy", {"demand_term": "P20D"}),
        ("/console/admin/rates", {"kind": "late_payment_231"}),
    ):
        answer = await api.http.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 403, path
    versions = (
        await api.http.get(f"/creditors/{tenant.id}/strategy/versions", headers=api.admin)
    ).json()
    assert len(versions) == 1


# -- rates --------------------------------------------------------------------------------------

RATES = "/console/admin/rates"


async def test_rates_page_highlights_the_missing_periods_health_lists(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    far = date(2099, 3, 1)
    monkeypatch.setattr("api.app.rome_today", lambda: far)
    monkeypatch.setattr("api.console.routes_admin_rates.rome_date", lambda _now: far)
    await as_role(api, "admin")
    page = await api.http.get(RATES)
    assert page.status_code == 200
    health = (await api.http.get("/health")).json()["missing_rates"]
    rows = re.findall(r'<tr class="missing-rate">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page.text)
    assert len(rows) == len(health) and len(health) >= 2
    # the form starts on the first missing period
    first = health[0]
    assert f'name="start" type="date" autocomplete="off" value="{first["start"]}"' in page.text


async def test_admin_adds_a_half_year_rate_as_post_rates_does(api: Api) -> None:
    await as_role(api, "admin")
    form = {
        "kind": "late_payment_231",
        "start": "2071-07-01",
        "end": "2071-12-31",
        "rate": "10.40",
        "source": "",
    }
    # the source is required, with the API's message next to it
    refused = await post_form(api, RATES, RATES, form)
    assert refused.status_code == 422
    api_answer = await api.http.post("/rates", headers=api.admin, json={**form, "end": form["end"]})
    assert api_answer.status_code == 422
    assert field_error(refused, "source") == api_answer.json()["detail"][0]["msg"]
    # a start the act does not allow, next to the start
    wrong = await post_form(api, RATES, RATES, {**form, "start": "2071-08-01", "source": "GU"})
    assert wrong.status_code == 422 and "1 July" in field_error(wrong, "start")
    added = await post_form(
        api, RATES, RATES, {**form, "source": "Comunicato MEF, GU n. 170 del 24-07-2071"}
    )
    assert added.status_code == 201, added.text
    listed = (await api.http.get("/rates?kind=late_payment_231", headers=api.admin)).json()
    mine = [r for r in listed if r["start"] == "2071-07-01"]
    assert len(mine) == 1 and mine[0]["rate"] == "10.4" and mine[0]["origin"] == "admin"
    # the same period again: the API's 409, shown by the start
    again = await post_form(api, RATES, RATES, {**form, "source": "GU"})
    assert again.status_code == 409
    assert "2071-07-01..2071-12-31" in field_error(again, "start")


# -- outbox and print batch -----------------------------------------------------------------------


async def test_outbox_filtered_by_practice_and_the_days_print_batch(api: Api) -> None:
    from tests.api.test_print_batches import letter, rome
    from tests.factories import create_creditor, create_practice

    day = date(2020, 2, 10)
    creditor = await create_creditor(api.db)
    practice = await create_practice(api.db, creditor, debtor_tax_code=unique_tax_code())
    other = await create_practice(api.db, creditor, debtor_tax_code=unique_tax_code())
    await letter(api, practice, "formal_demand", rome(day, 9))
    await letter(api, practice, "reminder_letter", rome(day, 10), channel="email")
    await letter(api, other, "legal_notice", rome(day, 11), tracking_number="RR1IT")
    await as_role(api, "admin")

    page = await api.http.get(f"/console/admin/outbox?practice_id={practice.id}")
    assert page.status_code == 200
    via_api = (await api.http.get(f"/outbox?practice_id={practice.id}", headers=api.admin)).json()
    assert via_api["total"] == 2
    for item in via_api["items"]:
        assert html.escape(item["subject"]) in page.text
    assert other.id not in page.text.replace(f"practice_id={other.id}", "")
    emails = await api.http.get(f"/console/admin/outbox?practice_id={practice.id}&channel=email")
    assert "Sollecito" in emails.text and "Diffida" not in emails.text

    chosen = await api.http.get(f"/console/admin/print-batches?day={day.isoformat()}")
    assert chosen.status_code == 303
    batch_page = await api.http.get(chosen.headers["location"])
    assert batch_page.status_code == 200
    listed = (
        await api.http.get(f"/print-batches/{day.isoformat()}?format=json", headers=api.admin)
    ).json()
    assert listed["total"] == 1  # the posted notice is left out, as the API leaves it out
    assert listed["items"][0]["file"] in batch_page.text
    assert "RR1IT" not in batch_page.text
    everything = await api.http.get(chosen.headers["location"] + "?all=true")
    assert "RR1IT" in everything.text
    # the ZIP: the same bytes GET /print-batches/{day} gives
    zipped = await api.http.get(f"/console/admin/print-batches/{day.isoformat()}/zip")
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    from_api = await api.http.get(f"/print-batches/{day.isoformat()}", headers=api.admin)
    assert zipped.content == from_api.content

    # closed at the cut-off (Monday 10 February 2020, 16:00): the page says so, same letters
    from datetime import time

    from api.services.print_batches import close_batch

    assert "Aperto" in batch_page.text or "Open:" in batch_page.text
    async with api.db.session() as session:
        await close_batch(session, day, time(16, 0), rome(day, 16))
    closed_page = await api.http.get(chosen.headers["location"])
    assert "Chiuso all" in closed_page.text or "Closed at the cut-off" in closed_page.text
    assert listed["items"][0]["file"] in closed_page.text
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert "manifest.csv" in names and listed["items"][0]["file"] in names
    # a day that is no day: the API's 422
    assert (await api.http.get("/console/admin/print-batches/2020-13-01")).status_code == 422


async def test_a_parked_message_shows_why_and_its_next_try(api: Api) -> None:
    """A provider that is down parks the message: the outbox says so and when it is tried
    again, on the console and through GET /outbox (the same service)."""
    from datetime import UTC, datetime

    from db.models import Delivery
    from tests.factories import create_creditor, create_practice

    creditor = await create_creditor(api.db)
    practice = await create_practice(api.db, creditor, debtor_tax_code=unique_tax_code())
    retry_at = datetime(2026, 12, 7, 7, 31, tzinfo=UTC)  # 08:31 in Rome
    async with api.db.session() as session, session.begin():
        session.add(
            Delivery(
                idempotency_key=f"{practice.id}:parked",
                practice_id=practice.id,
                channel="email",
                recipient="mario.rossi@example.com",
                subject="Sollecito",
                status="parked",
                provider="sendgrid",
                retry_reason="provider_unavailable",
                retry_at=retry_at,
            )
        )
    await as_role(api, "admin")
    page = await api.http.get(f"/console/admin/outbox?practice_id={practice.id}")
    assert page.status_code == 200
    assert (
        "in attesa: fornitore non disponibile" in page.text
        or "parked: provider unavailable" in page.text
    )
    assert "08:31" in page.text
    via_api = (await api.http.get(f"/outbox?practice_id={practice.id}", headers=api.admin)).json()
    [item] = via_api["items"]
    assert (item["status"], item["retry_reason"]) == ("parked", "provider_unavailable")
    assert datetime.fromisoformat(item["retry_at"]) == retry_at


async def test_the_print_batch_screen_shows_each_letters_postal_zone_and_service(api: Api) -> None:
    from tests.api.test_print_batches import letter, rome
    from tests.factories import create_creditor, create_practice

    day = date(2020, 2, 11)
    creditor = await create_creditor(api.db)
    berlin = await create_practice(
        api.db,
        creditor,
        debtor_tax_code=unique_tax_code(),
        country="DE",
        province="",
        street="Hauptstraße 5",
        postal_code="10115",
        city="Berlin",
    )
    milano = await create_practice(api.db, creditor, debtor_tax_code=unique_tax_code())
    await letter(api, berlin, "formal_demand", rome(day, 9))
    await letter(api, milano, "formal_demand", rome(day, 10))
    await as_role(api, "admin")
    page = await api.http.get(f"/console/admin/print-batches/{day.isoformat()}")
    assert page.status_code == 200
    zones = re.findall(r'<td class="postal-zone">([^<]*)</td>', page.text)
    services = re.findall(r'<td class="postal-service">([^<]*)</td>', page.text)
    assert zones in (
        ["Zona 1: Europa e bacino del Mediterraneo", "Italia"],
        ["Zone 1: Europe and the Mediterranean basin", "Italy"],
    )
    assert services[0] == "Raccomandata internazionale"
    assert services[1] == "Raccomandata A/R"
