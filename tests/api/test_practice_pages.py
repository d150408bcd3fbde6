"""The practices list by cursor (keyset pages, api/services/practice_pages.py): GET /practices
and the console's portfolio walk every matching practice exactly once, forwards and backwards,
while practices are handed over meanwhile; a cursor that is not one is a 422 naming `cursor`; a
cursor never lets anyone out of their own practices."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.console import routes_creditor
from db.models import Creditor
from tests.api.helpers import Api, Headers, error_locs, new_creditor
from tests.api.test_console_logins import log_in, person
from tests.factories import create_practice

# a fixed moment: several practices share each created_at, so the id must break the ties
BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def seed(api: Api, creditor_id: str, count: int, **overrides: Any) -> list[dict[str, Any]]:
    """`count` practices straight in the read model, three per hand-over moment, every third
    paused on a promise; as (id, created_at, status) dicts."""
    async with api.db.session() as session:
        creditor = await session.get(Creditor, creditor_id)
    assert creditor is not None
    made = []
    for n in range(count):
        practice = await create_practice(
            api.db,
            creditor,
            created_at=BASE + timedelta(minutes=n // 3),
            status="paused_promise" if n % 3 == 0 else "active",
            **overrides,
        )
        made.append(
            {"id": practice.id, "created_at": practice.created_at, "status": practice.status}
        )
    return made


def newest_first(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]


async def walk(
    api: Api, headers: Headers, params: dict[str, Any], direction: str = "next_cursor"
) -> tuple[list[list[str]], dict[str, Any]]:
    """Every page from the one `params` asks, following `direction`; the pages' ids and the
    last answer."""
    pages = []
    while True:
        answer = await api.http.get("/practices", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append([p["id"] for p in body["items"]])
        if body[direction] is None:
            return pages, body
        params = {**params, "cursor": body[direction]}


async def test_a_cursor_walks_every_filtered_practice_once_both_ways(api: Api) -> None:
    tenant = await new_creditor(api)
    rows = await seed(api, tenant.id, 14)
    # another creditor's practices at the very same moments, interleaved with ours by id
    other = await new_creditor(api)
    await seed(api, other.id, 6)

    expected = newest_first([r for r in rows if r["status"] == "active"])  # 9 of 14
    pages, last = await walk(api, tenant.headers, {"status": "active", "limit": 2})
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    assert sum(pages, []) == expected
    assert last["total"] == 9 and last["next_cursor"] is None

    # backwards from the last page: the same pages, in reverse, and no previous before the first
    back, first = await walk(
        api,
        tenant.headers,
        {"status": "active", "limit": 2, "cursor": last["previous_cursor"]},
        direction="previous_cursor",
    )
    assert back == pages[-2::-1]
    assert first["previous_cursor"] is None

    # unfiltered: all 14, none of the other creditor's
    everything, _ = await walk(api, tenant.headers, {"limit": 5})
    assert sum(everything, []) == newest_first(rows)


async def test_pages_are_stable_while_practices_are_handed_over(api: Api) -> None:
    tenant = await new_creditor(api)
    rows = await seed(api, tenant.id, 6)
    first = (await api.http.get("/practices", headers=tenant.headers, params={"limit": 3})).json()
    # newer practices arrive between two pages: by offset the next page would repeat a row
    newer = await create_practice(
        api.db, await _creditor(api, tenant.id), created_at=BASE + timedelta(days=1)
    )
    rest, _ = await walk(api, tenant.headers, {"limit": 3, "cursor": first["next_cursor"]})
    walked = [p["id"] for p in first["items"]] + sum(rest, [])
    assert walked == newest_first(rows)
    by_offset = await api.http.get(
        "/practices", headers=tenant.headers, params={"limit": 3, "offset": 3}
    )
    assert by_offset.json()["items"][0]["id"] == walked[2]  # the repeat a cursor avoids
    # an offset page gives the cursor that continues after it
    assert newer.id not in walked
    after_offset = await api.http.get(
        "/practices",
        headers=tenant.headers,
        params={"limit": 3, "cursor": by_offset.json()["next_cursor"]},
    )
    assert [p["id"] for p in after_offset.json()["items"]] == walked[5:]


async def _creditor(api: Api, creditor_id: str) -> Creditor:
    async with api.db.session() as session:
        creditor = await session.get(Creditor, creditor_id)
    assert creditor is not None
    return creditor


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        _token({"a": 1}),
        _token(["x", "2026-03-01T09:00:00+00:00", "abc"]),  # no such direction
        _token(["a", "2026-03-01T09:00:00", "abc"]),  # a naive time
        _token(["a", "yesterday", "abc"]),
        _token(["a", "2026-03-01T09:00:00+00:00", 5]),
        "A" * 201,
    ],
)
async def test_a_malformed_cursor_is_a_422_naming_it(api: Api, cursor: str) -> None:
    answer = await api.http.get("/practices", headers=api.admin, params={"cursor": cursor})
    assert answer.status_code == 422, answer.text
    assert ["query", "cursor"] in error_locs(answer)


async def test_a_cursor_with_an_offset_is_a_422(api: Api) -> None:
    tenant = await new_creditor(api)
    await seed(api, tenant.id, 3)
    first = (await api.http.get("/practices", headers=tenant.headers, params={"limit": 1})).json()
    both = await api.http.get(
        "/practices",
        headers=tenant.headers,
        params={"cursor": first["next_cursor"], "offset": 1},
    )
    assert both.status_code == 422 and ["query", "cursor"] in error_locs(both)


async def test_a_cursor_never_shows_another_creditors_practices(api: Api) -> None:
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    theirs = await seed(api, other.id, 6)
    ours = await seed(api, tenant.id, 4)
    # the other creditor's cursor, used by us: a position in the list, our practices only
    page = (await api.http.get("/practices", headers=other.headers, params={"limit": 2})).json()
    assert {p["id"] for p in page["items"]} <= {r["id"] for r in theirs}
    borrowed, _ = await walk(api, tenant.headers, {"limit": 2, "cursor": page["next_cursor"]})
    shown = sum(borrowed, [])
    assert shown and set(shown) <= {r["id"] for r in ours}
    # and asking for the other creditor by id with a cursor is still the 403
    refused = await api.http.get(
        "/practices",
        headers=tenant.headers,
        params={"creditor_id": other.id, "cursor": page["next_cursor"]},
    )
    assert refused.status_code == 403


NEXT = re.compile(r'href="\?([^"]*)" rel="next"')
PREVIOUS = re.compile(r'href="\?([^"]*)" rel="prev"')
REFERENCE = re.compile(r'<a href="/console/practices/([0-9a-f]{32})">')


async def test_the_console_portfolio_pages_by_cursor(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_creditor, "PAGE_SIZE", 2)
    tenant = await new_creditor(api)
    rows = await seed(api, tenant.id, 7)
    other = await new_creditor(api)
    await seed(api, other.id, 3)
    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)

    expected = newest_first([r for r in rows if r["status"] == "active"])  # 4 of 7
    query, pages = "status=active", []
    while True:
        page = await api.http.get(f"/console/creditor/practices?{query}")
        assert page.status_code == 200, page.text
        pages.append(REFERENCE.findall(page.text))
        assert (PREVIOUS.search(page.text) is None) == (len(pages) == 1)
        found = NEXT.search(page.text)
        if found is None:
            break
        query = found.group(1).replace("&amp;", "&")
        # a cursor, not an offset; the filters stay with it
        assert "cursor=" in query and "offset" not in query and "status=active" in query
    assert sum(pages, []) == expected and len(pages) == 2
    back = PREVIOUS.search(page.text)
    assert back is not None
    previous = await api.http.get(
        f"/console/creditor/practices?{back.group(1).replace('&amp;', '&')}"
    )
    assert REFERENCE.findall(previous.text) == pages[0]

    broken = await api.http.get("/console/creditor/practices", params={"cursor": "nonsense"})
    assert broken.status_code == 422 and 'id="cursor-error"' in broken.text
