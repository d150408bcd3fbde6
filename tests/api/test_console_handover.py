"""The hand-over in the console: one practice by form (POST /practices' handler, its 422s next to
the form's fields, a form sent twice starts one practice) and many by CSV upload (`recupero
import`'s checks, line and column of every bad line, nothing started then; the good file started
in the background with its progress)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from api.console import routes_handover
from db.models import Practice
from tests.api.helpers import Api, eventually, new_creditor, rome_today, unique, unique_tax_code
from tests.api.test_console_logins import csrf, log_in, person
from tests.test_import_cli import _csv, _good_lines, _line

PAGE = "/console/creditor/handover"


async def _count(api: Api, creditor_id: str) -> int:
    async with api.db.session() as session:
        count = await session.scalar(
            select(func.count(Practice.id)).where(Practice.creditor_id == creditor_id)
        )
    return int(count or 0)


async def _creditor_login(api: Api, creditor_id: str) -> str:
    user, password = await person(api, role="creditor", creditor_id=creditor_id)
    await log_in(api, user["email"], password)
    user_id: str = user["id"]
    return user_id


async def _handed_over_by(api: Api, practice_id: str) -> dict[str, Any]:
    """The actor of the practice's hand-over event, once its workflow recorded it."""

    async def actor() -> dict[str, Any] | None:
        events = await api.http.get(f"/practices/{practice_id}/events", headers=api.admin)
        found = [e["actor"] for e in events.json() if e["kind"] == "handed_over"]
        return found[0] if found else None

    found: dict[str, Any] = await eventually(actor, "the hand-over event")
    return found


def _form(page: httpx.Response, **changes: str) -> dict[str, str]:
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key, page.text[:500]
    data = {
        "csrf_token": csrf(page),
        "key": key.group(1),
        "reference": unique("FORM"),
        "debtor_kind": "consumer",
        "debtor_name": "Mario Rossi",
        "tax_code": unique_tax_code(),
        "vat_number": "",
        "email": "mario.rossi@example.it",
        "phone": "+393331234567",
        "pec": "",
        "street": "Via Roma 1",
        "city": "Milano",
        "postal_code": "20121",
        "province": "MI",
        "invoice_number-0": "FT-1",
        "issue_date-0": (rome_today() - timedelta(days=30)).isoformat(),
        "due_date-0": (rome_today() + timedelta(days=60)).isoformat(),
        "amount-0": "1.250,40",  # the Italian decimal comma
        "invoice_number-1": "FT-2",
        "issue_date-1": (rome_today() - timedelta(days=30)).isoformat(),
        "due_date-1": (rome_today() + timedelta(days=60)).isoformat(),
        "amount-1": "99,60",
        "invoice_number-2": "",
        "issue_date-2": "",
        "due_date-2": "",
        "amount-2": "",
        "action": "hand_over",
    }
    data.update(changes)
    return data


async def test_a_creditor_hands_over_one_practice_by_form_once(api: Api) -> None:
    tenant = await new_creditor(api)
    user_id = await _creditor_login(api, tenant.id)
    page = await api.http.get(PAGE)
    assert page.status_code == 200 and 'href="/console/creditor/handover"' in page.text
    data = _form(page)
    starts = len(api.recorder.started)

    sent = await api.http.post(PAGE, data=data)
    assert sent.status_code == 303, sent.text
    practice_id = sent.headers["location"].rsplit("/", 1)[1]
    shown = await api.http.get("/practices/" + practice_id, headers=tenant.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["reference"] == data["reference"]
    assert shown.json()["claim"] == "1350.00"
    assert len(api.recorder.started) == starts + 1
    # the timeline names who handed it over
    assert await _handed_over_by(api, practice_id) == {
        "kind": "user",
        "id": user_id,
        "role": "creditor",
    }

    # the same form sent again (a double click, a resent POST): the same practice, none new
    again = await api.http.post(PAGE, data=data)
    assert again.status_code == 303 and again.headers["location"] == sent.headers["location"]
    assert await _count(api, tenant.id) == 1
    assert len(api.recorder.started) == starts + 1

    # the same form sent twice at once: one practice, both answers lead to it
    twice = _form(await api.http.get(PAGE))
    first, second = await asyncio.gather(
        api.http.post(PAGE, data=twice), api.http.post(PAGE, data=twice)
    )
    assert first.status_code == second.status_code == 303, (first.text, second.text)
    assert first.headers["location"] == second.headers["location"]
    assert await _count(api, tenant.id) == 2
    assert len(api.recorder.started) == starts + 2

    # a creditor hands over only for itself: another creditor's id in the form is replaced
    other = await new_creditor(api)
    fresh = _form(await api.http.get(PAGE), creditor_id=other.id)
    moved = await api.http.post(PAGE, data=fresh)
    assert moved.status_code == 303
    assert await _count(api, other.id) == 0 and await _count(api, tenant.id) == 3


async def test_the_apis_422_is_shown_next_to_its_field_and_nothing_starts(api: Api) -> None:
    tenant = await new_creditor(api)
    await _creditor_login(api, tenant.id)
    page = await api.http.get(PAGE)
    data = _form(page, **{"amount-1": "12,5x", "postal_code": "201", "tax_code": "NOPE"})
    starts = len(api.recorder.started)

    refused = await api.http.post(PAGE, data=data)

    assert refused.status_code == 422
    for field in ("amount-1", "postal_code", "tax_code"):
        assert f'id="{field}-error"' in refused.text, field
    assert 'id="amount-0-error"' not in refused.text
    # the same message as the API's own 422 for the CAP
    assert "an Italian postal code (CAP) is five digits" in refused.text
    # the form keeps what was typed
    assert 'value="12,5x"' in refused.text and f'value="{data["reference"]}"' in refused.text
    assert await _count(api, tenant.id) == 0 and len(api.recorder.started) == starts

    # an invoice number twice (the hand-over's own check) is shown on its row
    twice = _form(await api.http.get(PAGE), **{"invoice_number-1": "FT-1"})
    refused = await api.http.post(PAGE, data=twice)
    assert refused.status_code == 422 and 'id="invoice_number-1-error"' in refused.text

    # "add an invoice" shows a fourth row, keeping the rest, and starts nothing
    more = await api.http.post(PAGE, data=_form(page, action="add_invoice"))
    assert more.status_code == 200 and 'id="amount-3"' in more.text
    assert await _count(api, tenant.id) == 0


async def test_the_admin_chooses_the_creditor_and_an_operator_is_refused(api: Api) -> None:
    tenant = await new_creditor(api)
    admin, password = await person(api, role="admin")
    await log_in(api, admin["email"], password)
    page = await api.http.get(PAGE)
    assert f'<option value="{tenant.id}"' in page.text
    missing = await api.http.post(PAGE, data=_form(page))  # no creditor chosen
    assert missing.status_code == 422 and 'id="creditor_id-error"' in missing.text
    sent = await api.http.post(PAGE, data=_form(page, creditor_id=tenant.id))
    assert sent.status_code == 303 and await _count(api, tenant.id) == 1

    operator, password = await person(api, role="operator")
    await log_in(api, operator["email"], password)
    for path in (PAGE, PAGE + "/import", PAGE + "/import/template.csv"):
        assert (await api.http.get(path)).status_code == 403, path
    home = await api.http.get("/console/account")
    posted = await api.http.post(PAGE, data={"csrf_token": csrf(home)})
    assert posted.status_code == 403


async def _upload(api: Api, text: str) -> httpx.Response:
    page = await api.http.get(PAGE + "/import")
    return await api.http.post(
        PAGE + "/import",
        data={"csrf_token": csrf(page)},
        files={"file": ("pratiche.csv", text.encode(), "text/csv")},
    )


async def test_a_csv_with_a_bad_line_starts_nothing_then_the_good_one_starts_all(
    api: Api,
) -> None:
    tenant = await new_creditor(api)
    user_id = await _creditor_login(api, tenant.id)
    template = await api.http.get(PAGE + "/import/template.csv")
    assert template.status_code == 200 and template.text.startswith("creditor_id,reference,")
    assert tenant.id in template.text

    lines = _good_lines(tenant.id, 3)  # file lines 2..7
    good = _csv(lines)
    bad_lines = list(lines)
    bad_lines[2] = bad_lines[2].replace('"20121"', '"201"')  # line 4: the CAP
    starts = len(api.recorder.started)

    refused = await _upload(api, _csv(bad_lines))
    assert refused.status_code == 422
    assert re.search(r"<td>4</td><td>postal_code</td><td>[^<]*CAP", refused.text), refused.text
    assert await _count(api, tenant.id) == 0 and len(api.recorder.started) == starts

    routes_handover.JOBS.clear()
    accepted = await _upload(api, good)
    assert accepted.status_code == 303, accepted.text
    progress_page = accepted.headers["location"]
    job_id = progress_page.rsplit("/", 1)[1]
    job = routes_handover.JOBS[job_id]
    assert job.task is not None
    await job.task
    status = await api.http.get(progress_page + "/status")
    assert status.status_code == 200
    assert "3 di 3 pratiche" in status.text
    assert "hx-trigger" not in status.text  # finished: the polling stops
    assert await _count(api, tenant.id) == 3
    assert len(api.recorder.started) == starts + 3
    # the background task acts as the person who uploaded: the timeline names them
    async with api.db.session() as session:
        first = await session.scalar(select(Practice.id).where(Practice.creditor_id == tenant.id))
    assert first is not None
    assert (await _handed_over_by(api, first))["id"] == user_id

    # the same file again: nothing started twice (the batch's idempotency)
    again = await _upload(api, good)
    assert again.status_code == 303
    second = routes_handover.JOBS[again.headers["location"].rsplit("/", 1)[1]]
    assert second.task is not None
    await second.task
    assert (second.started, second.already_handed_over) == (0, 3)
    assert len(api.recorder.started) == starts + 3

    # another creditor's person cannot follow this upload
    other = await new_creditor(api)
    await _creditor_login(api, other.id)
    assert (await api.http.get(progress_page)).status_code == 404


async def test_another_creditors_line_is_refused_as_a_line_error(api: Api) -> None:
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    await _creditor_login(api, tenant.id)
    lines = _good_lines(tenant.id, 2) + [
        _line(other.id, unique("CSV"), unique_tax_code(), "FT-1"),  # line 6
    ]
    starts = len(api.recorder.started)

    refused = await _upload(api, _csv(lines))

    assert refused.status_code == 422
    assert "<td>6</td><td>creditor_id</td>" in refused.text, refused.text
    assert "<td>2</td>" not in refused.text  # its own lines are fine
    assert await _count(api, tenant.id) == 0 and await _count(api, other.id) == 0
    assert len(api.recorder.started) == starts


async def test_a_file_too_large_or_not_text_is_refused_with_a_message(api: Api) -> None:
    tenant = await new_creditor(api)
    await _creditor_login(api, tenant.id)
    page = await api.http.get(PAGE + "/import")
    large = await api.http.post(
        PAGE + "/import",
        data={"csrf_token": csrf(page)},
        files={"file": ("big.csv", b"x" * (routes_handover.MAX_UPLOAD + 1), "text/csv")},
    )
    assert large.status_code == 413 and "5 MB" in large.text
    # announced far larger: refused before the form is read (before its CSRF token even)
    huge = await api.http.post(
        PAGE + "/import",
        files={"file": ("big.csv", b"x" * (routes_handover.MAX_UPLOAD + 100_000), "text/csv")},
    )
    assert huge.status_code == 413 and "5 MB" in huge.text
    binary = await _upload_bytes(api, b"\xff\xfe\x00bad")
    assert binary.status_code == 422 and "UTF-8" in binary.text


async def _upload_bytes(api: Api, content: bytes) -> httpx.Response:
    page = await api.http.get(PAGE + "/import")
    return await api.http.post(
        PAGE + "/import",
        data={"csrf_token": csrf(page)},
        files={"file": ("x.csv", content, "text/csv")},
    )


async def test_the_progress_polls_every_second_until_the_job_is_finished(api: Api) -> None:
    tenant = await new_creditor(api)
    await _creditor_login(api, tenant.id)
    job = routes_handover.Job(total=120, creditor_ids=[tenant.id], done=50)
    routes_handover.JOBS["running-job"] = job
    try:
        page = await api.http.get(PAGE + "/import/running-job")
        assert page.status_code == 200
        assert 'hx-trigger="every 1s"' in page.text
        assert 'max="120" value="50"' in page.text and "50 di 120 pratiche" in page.text
        job.done, job.started = 120, 120
        job.finished_at = 0.0
        status = await api.http.get(PAGE + "/import/running-job/status")
        assert "hx-trigger" not in status.text and "120 avviate" in status.text
    finally:
        del routes_handover.JOBS["running-job"]


def test_finished_jobs_are_forgotten_after_a_day_running_ones_never() -> None:
    jobs = {
        "old": routes_handover.Job(total=1, creditor_ids=[], finished_at=-1e9),
        "recent": routes_handover.Job(total=1, creditor_ids=[], finished_at=1e12),
        "running": routes_handover.Job(total=1, creditor_ids=[]),
    }
    saved = dict(routes_handover.JOBS)
    routes_handover.JOBS.clear()
    routes_handover.JOBS.update(jobs)
    try:
        routes_handover._forget_old_jobs()
        assert sorted(routes_handover.JOBS) == ["recent", "running"]
    finally:
        routes_handover.JOBS.clear()
        routes_handover.JOBS.update(saved)


async def test_a_debtor_abroad_by_form_with_the_countrys_errors_in_italian(api: Api) -> None:
    """Issue 16: the form's country decides the checks; a debtor abroad's refusals are shown
    next to their fields in the reader's language (Italian by default)."""
    tenant = await new_creditor(api)
    await _creditor_login(api, tenant.id)
    page = await api.http.get(PAGE)
    assert '<option value="DE">Germania</option>' in page.text
    assert '<option value="IT" selected>Italia</option>' in page.text
    german = {
        "country": "DE",
        "tax_code": "36574261808",  # a wrong check digit
        "phone": "030 12",
        "street": "Unter den Linden 1",
        "city": "Berlin",
        "postal_code": "10117",
        "province": "MI",
    }
    starts = len(api.recorder.started)
    refused = await api.http.post(PAGE, data=_form(page, **german))
    assert refused.status_code == 422
    shown = {
        name: re.search(rf'id="{name}-error">([^<]*)<', refused.text)
        for name in ("tax_code", "phone", "province")
    }
    assert all(shown.values()), refused.text
    assert shown["tax_code"] and shown["tax_code"].group(1).startswith("Steuer-IdNr non valido: ")
    assert shown["phone"] and shown["phone"].group(1) == "numero di telefono non valido per DE"
    assert shown["province"] and "la provincia italiana è per gli indirizzi in Italia" in (
        shown["province"].group(1).replace("&#39;", "'")
    )
    assert '<option value="DE" selected>' in refused.text  # the form as typed
    assert await _count(api, tenant.id) == 0 and len(api.recorder.started) == starts

    fixed = _form(
        await api.http.get(PAGE),
        **german | {"tax_code": "36574261809", "phone": "030 12345678", "province": ""},
    )
    sent = await api.http.post(PAGE, data=fixed)
    assert sent.status_code == 303, sent.text
    practice_id = sent.headers["location"].rsplit("/", 1)[1]
    shown_practice = (
        await api.http.get(f"/practices/{practice_id}", headers=tenant.headers)
    ).json()
    assert shown_practice["debtor"]["language"] == "de"
    assert shown_practice["debtor"]["phone"] == "+493012345678"
    assert shown_practice["debtor"]["address"]["time_zone"] == "Europe/Berlin"
