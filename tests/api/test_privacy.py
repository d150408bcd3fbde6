"""Personal data that ends, through the API (issue 14): the creditor's retention period, the
debtors' erasure requests (GDPR art. 17) with their decisions, and the access log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from db.models import Practice, utcnow
from domain.calendar import rome_date
from tests.api.helpers import (
    Api,
    Headers,
    error_locs,
    eventually,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)


async def _closed(api: Api, headers: Headers) -> tuple[str, str, Headers]:
    """A practice of a new creditor, withdrawn by it and closed: (practice, creditor, its
    headers)."""
    creditor = await new_creditor(api)
    practice = await hand_over(api, creditor.headers, practice_payload(creditor.id))
    pid = practice["id"]
    withdrawn = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=creditor.headers, json={"reason": "paid to us"}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    async def closed() -> bool:
        async with api.db.session() as session:
            row = await session.get(Practice, pid)
            return row is not None and row.closed_at is not None

    await eventually(closed, "the closure")
    return pid, creditor.id, creditor.headers


async def _request(api: Api, pid: str, headers: Headers, **body: Any) -> dict[str, Any]:
    response = await api.http.post(f"/practices/{pid}/erasure-requests", headers=headers, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_creditor_shortens_its_retention_period(api: Api) -> None:
    creditor = await new_creditor(api)
    other = await new_creditor(api)
    shown = await api.http.get(f"/creditors/{creditor.id}", headers=creditor.headers)
    assert shown.json()["retention_days"] == 3653  # ten years, art. 2220 c.c.
    url = f"/creditors/{creditor.id}/retention"
    saved = await api.http.put(url, headers=creditor.headers, json={"retention_days": 1826})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"creditor_id": creditor.id, "retention_days": 1826}
    shown = await api.http.get(f"/creditors/{creditor.id}", headers=api.admin)
    assert shown.json()["retention_days"] == 1826
    for bad in (0, 3654, "dieci"):
        refused = await api.http.put(url, headers=api.admin, json={"retention_days": bad})
        assert refused.status_code == 422
        assert error_locs(refused) == [["body", "retention_days"]]
    another = await api.http.put(url, headers=other.headers, json={"retention_days": 10})
    assert another.status_code == 403
    _, operator = await new_user(api, "operator")
    assert (
        await api.http.put(url, headers=operator, json={"retention_days": 10})
    ).status_code == 403


async def test_an_erasure_request_is_refused_while_the_practice_is_open(api: Api) -> None:
    creditor = await new_creditor(api)
    pid = (await hand_over(api, creditor.headers, practice_payload(creditor.id)))["id"]
    _, operator = await new_user(api, "operator")
    answer = await _request(api, pid, operator)
    assert answer["decision"] == "refused" and answer["reason"] == "practice_open"
    assert answer["erased"] == [] and "identity" in answer["kept"]
    assert answer["received_on"] == rome_today().isoformat()
    debtor = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()["debtor"]
    assert debtor["email"] == "mario.rossi@example.it"
    # the creditor and the field agent do not record it: the agency's staff do
    url = f"/practices/{pid}/erasure-requests"
    assert (await api.http.post(url, headers=creditor.headers, json={})).status_code == 403
    future = (rome_today() + timedelta(days=1)).isoformat()
    refused = await api.http.post(url, headers=operator, json={"received_on": future})
    assert refused.status_code == 422 and error_locs(refused) == [["body", "received_on"]]
    assert (
        await api.http.post("/practices/nope/erasure-requests", headers=operator, json={})
    ).status_code == 404
    listed = await api.http.get(url, headers=operator)
    assert [r["id"] for r in listed.json()] == [answer["id"]]


async def test_a_closed_practice_keeps_what_the_law_requires_until_its_period_ends(
    api: Api,
) -> None:
    pid, creditor_id, _ = await _closed(api, api.admin)
    answer = await _request(api, pid, api.admin)
    assert answer["decision"] == "partial" and answer["reason"] == "legal_duty"
    assert set(answer["erased"]) == {"contacts", "notes", "debtor_page", "preferences"}
    assert set(answer["kept"]) == {"identity", "address", "documents", "claim_notes"}
    async with api.db.session() as session:
        row = await session.get(Practice, pid)
        assert row is not None and row.closed_at is not None
        assert answer["keep_until"] == rome_date(row.closed_at + timedelta(days=3653)).isoformat()
    practice = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    debtor = practice["debtor"]
    assert (debtor["email"], debtor["phone"], debtor["pec"]) == (None, None, None)
    assert debtor["name"] == "Mario Rossi" and debtor["address"]["city"] == "Milano"
    assert practice["erased_at"] is None
    # the same request again: the same decision, nothing more erased
    again = await _request(api, pid, api.admin)
    assert (again["decision"], again["erased"]) == ("partial", answer["erased"])


async def test_past_its_period_a_request_erases_everything(api: Api) -> None:
    pid, creditor_id, _ = await _closed(api, api.admin)
    saved = await api.http.put(
        f"/creditors/{creditor_id}/retention", headers=api.admin, json={"retention_days": 30}
    )
    assert saved.status_code == 200
    async with api.db.session() as session, session.begin():
        await session.execute(
            update(Practice)
            .where(Practice.id == pid)
            .values(closed_at=utcnow() - timedelta(days=31))
        )
    answer = await _request(api, pid, api.admin)
    assert answer["decision"] == "erased" and answer["reason"] == "no_duty"
    assert answer["kept"] == [] and answer["keep_until"] is None
    practice = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert practice["debtor"]["name"] == "" and practice["debtor"]["tax_code"] is None
    assert practice["reference"] == f"erased-{pid}" and practice["erased_at"] is not None
    assert practice["outcome"] == "withdrawn" and practice["claim"] == "1250.40"
    assert (await api.http.get(f"/practices/{pid}/documents", headers=api.admin)).json() == []
    later = await _request(api, pid, api.admin)
    assert (later["decision"], later["reason"]) == ("erased", "already_erased")
    every = await api.http.get("/erasure-requests", headers=api.admin, params={"limit": 500})
    assert {answer["id"], later["id"]} <= {r["id"] for r in every.json()}
    _, operator = await new_user(api, "operator")
    assert (await api.http.get("/erasure-requests", headers=operator)).status_code == 403


async def test_the_access_log_names_who_read_which_debtor(api: Api) -> None:
    creditor = await new_creditor(api)
    pid = (await hand_over(api, creditor.headers, practice_payload(creditor.id)))["id"]
    operator_id, operator = await new_user(api, "operator")
    assert (await api.http.get(f"/practices/{pid}", headers=operator)).status_code == 200
    assert (await api.http.get(f"/practices/{pid}", headers=creditor.headers)).status_code == 200
    log = await api.http.get("/access-log", headers=api.admin, params={"practice_id": pid})
    assert log.status_code == 200, log.text
    rows = log.json()["items"]
    assert [(r["user_id"], r["role"], r["what"]) for r in rows] == [
        (creditor.user_id, "creditor", "practice"),
        (operator_id, "operator", "practice"),
    ]
    # no personal data in the log: ids, roles, kinds, times
    assert "Rossi" not in log.text and "mario" not in log.text
    by_user = await api.http.get("/access-log", headers=api.admin, params={"user_id": operator_id})
    assert [r["practice_id"] for r in by_user.json()["items"]] == [pid]
    # pages by `before`
    first = await api.http.get(
        "/access-log", headers=api.admin, params={"practice_id": pid, "limit": 1}
    )
    assert first.json()["items"][0]["user_id"] == creditor.user_id
    before = first.json()["next_before"]
    second = await api.http.get(
        "/access-log",
        headers=api.admin,
        params={"practice_id": pid, "limit": 1, "before": before},
    )
    assert second.json()["items"][0]["user_id"] == operator_id
    assert second.json()["next_before"] is None
    today = rome_today()
    dated = await api.http.get(
        "/access-log",
        headers=api.admin,
        params={"practice_id": pid, "from": today.isoformat(), "to": today.isoformat()},
    )
    assert len(dated.json()["items"]) == 2
    yesterday = (today - timedelta(days=1)).isoformat()
    none = await api.http.get(
        "/access-log", headers=api.admin, params={"practice_id": pid, "to": yesterday}
    )
    assert none.json()["items"] == []
    backwards = await api.http.get(
        "/access-log", headers=api.admin, params={"from": today.isoformat(), "to": yesterday}
    )
    assert backwards.status_code == 422 and error_locs(backwards) == [["query", "to"]]
    assert (await api.http.get("/access-log", headers=operator)).status_code == 403


async def test_reading_a_letter_is_logged(api: Api) -> None:
    creditor = await new_creditor(api)
    # overdue: the first letter goes out at once
    payload = practice_payload(creditor.id, due_in_days=-60)
    pid = (await hand_over(api, creditor.headers, payload))["id"]

    async def documents() -> list[dict[str, Any]]:
        response = await api.http.get(f"/practices/{pid}/documents", headers=api.admin)
        found: list[dict[str, Any]] = response.json()
        return found

    document = (await eventually(documents, "a letter"))[0]
    read = await api.http.get(f"/practices/{pid}/documents/{document['id']}", headers=api.admin)
    assert read.status_code == 200
    log = await api.http.get("/access-log", headers=api.admin, params={"practice_id": pid})
    assert [(r["what"], r["target_id"], r["role"]) for r in log.json()["items"]] == [
        ("document", document["id"], "admin")
    ]
