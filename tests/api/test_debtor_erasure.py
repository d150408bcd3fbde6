"""The debtor asks, on its own page, to erase its personal data (GDPR art. 17): refused while
the position is open (the page says why), carried out as far as the law allows once closed,
and the page closes with it."""

from __future__ import annotations

from typing import Any

from db.models import Practice
from tests.api.helpers import Api, eventually
from tests.api.test_debtor_actions import on_the_page
from tests.api.test_debtor_page import csrf


async def _requests(api: Api, pid: str) -> list[dict[str, Any]]:
    listed = await api.http.get(f"/practices/{pid}/erasure-requests", headers=api.admin)
    assert listed.status_code == 200
    found: list[dict[str, Any]] = listed.json()
    return found


async def test_the_debtor_asks_while_open_and_is_told_why_not(api: Api) -> None:
    pid, token = await on_the_page(api)
    unticked = await api.http.post("/d/me/erasure-request", data={"csrf_token": token})
    assert unticked.status_code == 422 and 'id="confirm-error"' in unticked.text
    assert await _requests(api, pid) == []
    asked = await api.http.post(
        "/d/me/erasure-request", data={"csrf_token": token, "confirm": "yes"}
    )
    assert asked.status_code == 303
    page = await api.http.get(asked.headers["location"])
    assert 'data-testid="erasure-refused"' in page.text and "17(3)(e)" in page.text
    [recorded] = await _requests(api, pid)
    assert recorded["decision"] == "refused"
    assert recorded["recorded_by"] == {"kind": "debtor", "id": None, "role": None}


async def test_once_closed_the_request_erases_the_contacts_and_the_page(api: Api) -> None:
    pid, _ = await on_the_page(api)
    withdrawn = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=api.admin, json={"reason": "saldato"}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    async def closed() -> bool:
        async with api.db.session() as session:
            row = await session.get(Practice, pid)
            return row is not None and row.closed_at is not None

    await eventually(closed, "the closure")
    token = csrf(await api.http.get("/d/me"))
    answer = await api.http.post(
        "/d/me/erasure-request", data={"csrf_token": token, "confirm": "yes"}
    )
    assert answer.status_code == 200, answer.text
    [recorded] = await _requests(api, pid)
    assert (recorded["decision"], recorded["recorded_by"]["kind"]) == ("partial", "debtor")
    debtor = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()["debtor"]
    assert debtor["email"] is None and debtor["phone"] is None
    # the page went with the data
    assert (await api.http.get("/d/me")).status_code != 200
