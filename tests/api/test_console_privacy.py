"""The console's personal data pages in-process (issue 14): a debtor's erasure request recorded
on the practice's page, the admin's list of requests, the access log (the console's own reads
written to it) and a creditor's retention period."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from db.models import AccessLogEntry, Creditor
from tests.api.helpers import Api, hand_over, new_creditor, practice_payload, rome_today
from tests.api.test_console_admin import as_role, field_error, post_form


async def _log_of(api: Api, practice_id: str) -> list[tuple[str, str]]:
    async with api.db.session() as session:
        rows = await session.execute(
            select(AccessLogEntry.role, AccessLogEntry.what)
            .where(AccessLogEntry.practice_id == practice_id)
            .order_by(AccessLogEntry.id)
        )
        return [(role, what) for role, what in rows]


async def test_an_operator_records_an_erasure_request_on_the_practice_page(api: Api) -> None:
    creditor = await new_creditor(api)
    pid = (await hand_over(api, creditor.headers, practice_payload(creditor.id)))["id"]
    await as_role(api, "operator")
    url = f"/console/practices/{pid}"
    page = await api.http.get(url)
    assert page.status_code == 200
    assert 'action="/console/practices/' + pid + '/erasure-requests"' in page.text
    # the page read the debtor's data: logged with the operator's role
    assert await _log_of(api, pid) == [("operator", "practice")]
    tomorrow = (rome_today() + timedelta(days=1)).isoformat()
    refused = await post_form(api, url, f"{url}/erasure-requests", {"received_on": tomorrow})
    assert refused.status_code == 422
    assert field_error(refused, "received_on")
    done = await post_form(api, url, f"{url}/erasure-requests", {"received_on": ""})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=erasure")
    shown = await api.http.get(done.headers["location"])
    listed = await api.http.get(f"/practices/{pid}/erasure-requests", headers=api.admin)
    assert [r["decision"] for r in listed.json()] == ["refused"]
    assert "17(3)(e)" in shown.text  # the ground, in the page's language


async def test_the_admin_reads_the_requests_and_the_access_log(api: Api) -> None:
    creditor = await new_creditor(api)
    pid = (await hand_over(api, creditor.headers, practice_payload(creditor.id)))["id"]
    recorded = await api.http.post(f"/practices/{pid}/erasure-requests", headers=api.admin, json={})
    assert recorded.status_code == 201
    assert (await api.http.get(f"/practices/{pid}", headers=creditor.headers)).status_code == 200
    await as_role(api, "admin")
    requests = await api.http.get("/console/admin/erasure-requests")
    assert requests.status_code == 200
    assert f'href="/console/practices/{pid}"' in requests.text
    log = await api.http.get("/console/admin/access-log", params={"practice_id": pid})
    assert log.status_code == 200
    rows = re.findall(r"<tr>\s*<td>", log.text)
    assert len(rows) == 1  # the creditor's read (the admin's API request read no debtor data)
    assert "Mario Rossi" not in log.text
    bad = await api.http.get("/console/admin/access-log", params={"from": "ieri"})
    assert bad.status_code == 422 and field_error(bad, "from")
    backwards = await api.http.get(
        "/console/admin/access-log",
        params={"from": rome_today().isoformat(), "to": "2000-01-01"},
    )
    assert backwards.status_code == 422 and field_error(backwards, "to")
    await as_role(api, "operator")
    assert (await api.http.get("/console/admin/access-log")).status_code == 403
    assert (await api.http.get("/console/admin/erasure-requests")).status_code == 403


async def test_the_admin_sets_a_creditors_retention_period(api: Api) -> None:
    creditor = await new_creditor(api)
    await as_role(api, "admin")
    url = f"/console/admin/creditors/{creditor.id}/retention"
    for bad in ("0", "3654", "dieci"):
        refused = await post_form(api, url, url, {"retention_days": bad})
        assert refused.status_code == 422
        api_answer = await api.http.put(
            f"/creditors/{creditor.id}/retention",
            headers=api.admin,
            json={"retention_days": bad},
        )
        assert api_answer.status_code == 422
        assert field_error(refused, "retention_days") == api_answer.json()["detail"][0]["msg"]
    saved = await post_form(api, url, url, {"retention_days": "1826"})
    assert saved.status_code == 303
    async with api.db.session() as session:
        row = await session.get(Creditor, creditor.id)
        assert row is not None and row.retention_days == 1826
    listed = await api.http.get("/console/admin/creditors")
    assert f'href="{url}"' in listed.text


async def test_a_csv_export_logs_every_exported_practice(api: Api) -> None:
    creditor = await new_creditor(api)
    first = (await hand_over(api, creditor.headers, practice_payload(creditor.id)))["id"]
    second = (await hand_over(api, creditor.headers, practice_payload(creditor.id)))["id"]
    await as_role(api, "creditor", creditor_id=creditor.id)
    export = await api.http.get("/console/creditor/practices.csv")
    assert export.status_code == 200 and "Mario Rossi" in export.text
    assert await _log_of(api, first) == [("creditor", "export")]
    assert await _log_of(api, second) == [("creditor", "export")]
