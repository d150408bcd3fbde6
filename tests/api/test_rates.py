"""GET/POST/DELETE /rates: the shipped history listed, the admin's periods added, overlaps and
malformed periods refused. Periods added here are in 2031 and later so they do not change the
statements other tests compute (and none is added for 2026)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, error_locs, new_user


def rate(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "late_payment_231",
        "start": "2031-01-01",
        "end": "2031-06-30",
        "rate": "10.5",
        "source": "Comunicato MEF, GU n. 12 del 16-01-2031 (reference rate 2.50%)",
    }
    body.update(fields)
    return body


async def test_the_shipped_history_is_listed_to_any_user(api: Api) -> None:
    _, operator = await new_user(api, "operator")
    response = await api.http.get("/rates", headers=operator)
    assert response.status_code == 200, response.text
    rows = response.json()
    legal_2026 = [r for r in rows if r["kind"] == "legal" and r["start"] == "2026-01-01"]
    assert legal_2026 == [
        {
            "id": None,
            "kind": "legal",
            "start": "2026-01-01",
            "end": "2026-12-31",
            "rate": "1.6",
            "source": legal_2026[0]["source"],
            "origin": "shipped",
            "created_at": None,
        }
    ]
    assert "GU n. 289" in legal_2026[0]["source"]
    late = [r for r in rows if r["kind"] == "late_payment_231" and r["start"] == "2026-01-01"]
    assert [(r["rate"], r["end"], r["origin"]) for r in late] == [
        ("10.15", "2026-06-30", "shipped")
    ]
    assert "8.00 points" in late[0]["source"]
    # sorted by kind, then start
    assert rows == sorted(rows, key=lambda r: (r["kind"], r["start"]))
    only_legal = await api.http.get("/rates", headers=operator, params={"kind": "legal"})
    assert {r["kind"] for r in only_legal.json()} == {"legal"}
    assert (await api.http.get("/rates")).status_code == 401


async def test_the_admin_adds_a_period_and_overlaps_are_refused(api: Api) -> None:
    added = await api.http.post("/rates", headers=api.admin, json=rate())
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["origin"] == "admin" and body["id"] and body["rate"] == "10.5"
    listed = await api.http.get("/rates", headers=api.admin)
    assert body["id"] in {r["id"] for r in listed.json()}

    again = await api.http.post(
        "/rates", headers=api.admin, json=rate(start="2031-01-01", end=None, rate="9")
    )
    assert again.status_code == 409, again.text
    assert "2031-01-01..2031-06-30" in again.json()["detail"]
    assert body["id"] in again.json()["detail"]

    shipped = await api.http.post(
        "/rates",
        headers=api.admin,
        json=rate(kind="legal", start="2026-01-01", end="2026-12-31", rate="1.6"),
    )
    assert shipped.status_code == 409, shipped.text
    assert "2026-01-01..2026-12-31" in shipped.json()["detail"]
    assert "shipped" in shipped.json()["detail"]

    # the other kind on the same days does not overlap
    legal = await api.http.post(
        "/rates", headers=api.admin, json=rate(kind="legal", end="2031-12-31", rate="2.25")
    )
    assert legal.status_code == 201, legal.text

    # deleted, the period can be added again with a correction
    deleted = await api.http.delete(f"/rates/{body['id']}", headers=api.admin)
    assert deleted.status_code == 204
    assert (await api.http.delete(f"/rates/{body['id']}", headers=api.admin)).status_code == 404
    corrected = await api.http.post("/rates", headers=api.admin, json=rate(rate="10.25"))
    assert corrected.status_code == 201, corrected.text


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"rate": "abc"}, "rate"),
        ({"rate": "-1"}, "rate"),
        ({"rate": "10.1234"}, "rate"),
        ({"rate": 10.5}, "rate"),
        ({"kind": "usury"}, "kind"),
        ({"start": "2032-03-01", "end": "2032-06-30"}, "start"),
        ({"start": "2032-07-01", "end": "2032-03-31"}, "end"),
        ({"start": "2032-07-01", "end": "2032-09-30"}, "end"),
        ({"kind": "legal", "start": "2032-07-01", "end": "2032-12-31"}, "start"),
        ({"source": ""}, "source"),
        ({"start": "not a date"}, "start"),
    ],
)
async def test_malformed_periods_are_422(api: Api, fields: dict[str, Any], loc: str) -> None:
    response = await api.http.post("/rates", headers=api.admin, json=rate(**fields))
    assert response.status_code == 422, response.text
    assert ["body", loc] in error_locs(response)


async def test_only_the_admin_adds_or_deletes(api: Api) -> None:
    _, lawyer = await new_user(api, "lawyer")
    body = rate(start="2033-01-01", end="2033-06-30")
    assert (await api.http.post("/rates", headers=lawyer, json=body)).status_code == 403
    assert (await api.http.delete("/rates/whatever", headers=lawyer)).status_code == 403
