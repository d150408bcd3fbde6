"""The debtor's page over HTTP (api/debtor): the link alone shows only the creditor and the
amount; the second step by codice fiscale or by a one-time code through the outbox; the lockout;
the session's expiry; one practice per session; the headers; the admin's list and revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from api.services import debtor_links
from db.models import ContactLog, DebtorLink, DebtorSession, Delivery, Practice
from tests.api.helpers import Api, hand_over, new_creditor, practice_payload, unique_tax_code

# every page carries the token for HTMX (a locked link's page has no form)
TOKEN = re.compile(r"X-CSRF-Token&#34;: &#34;([^&]+)&#34;")


def csrf(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def practice_with_link(api: Api, **payload: Any) -> tuple[dict[str, Any], str, str]:
    """A practice handed over through the API, its link's token, and the debtor's tax code."""
    creditor = await new_creditor(api)
    tax_code = unique_tax_code()
    body = await hand_over(
        api, creditor.headers, practice_payload(creditor.id, tax_code=tax_code, **payload)
    )
    async with api.db.session() as session:
        practice = await session.get(Practice, body["id"])
        assert practice is not None
        _, token = await debtor_links.issue(session, practice, datetime.now(UTC))
    return body, token, tax_code


async def enter(api: Api, token: str, tax_code: str) -> httpx.Response:
    api.http.cookies.clear()
    page = await api.http.get(f"/d/{token}")
    assert page.status_code == 200, page.text
    return await api.http.post(
        f"/d/{token}/identity", data={"csrf_token": csrf(page), "tax_code": tax_code}
    )


def assert_debtor_headers(response: httpx.Response) -> None:
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_the_link_alone_shows_only_the_creditor_and_the_amount(api: Api) -> None:
    body, token, tax_code = await practice_with_link(api)
    api.http.cookies.clear()
    page = await api.http.get(f"/d/{token}")
    assert page.status_code == 200
    assert_debtor_headers(page)
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "1.250,40" in page.text  # the amount due today
    async with api.db.session() as session:
        practice = await session.get(Practice, body["id"])
        assert practice is not None
    assert "Forniture Lombarde" in page.text  # the creditor
    for hidden in ("Mario Rossi", tax_code, practice.reference, "FT-2026-101", "Via Roma"):
        assert hidden not in page.text
    # the contacts offered for a code are masked
    assert "mario.rossi@example.it" not in page.text and "m•••@e•••.it" in page.text
    # behind the second step without a session: nothing
    assert (await api.http.get("/d/me")).status_code == 401
    assert (await api.http.get("/d/me/data.json")).status_code == 401


async def test_an_unknown_a_revoked_and_an_expired_link_look_the_same(api: Api) -> None:
    body, token, _ = await practice_with_link(api)
    api.http.cookies.clear()
    unknown = await api.http.get("/d/" + "A" * 32)
    assert unknown.status_code == 404
    assert_debtor_headers(unknown)
    revoked = await api.http.post(f"/practices/{body['id']}/debtor-links/revoke", headers=api.admin)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 1}
    gone = await api.http.get(f"/d/{token}")
    assert gone.status_code == 404
    _, other, _ = await practice_with_link(api)
    async with api.db.session() as session:
        link = await session.scalar(
            select(DebtorLink).where(DebtorLink.token_hash == debtor_links.token_hash(other))
        )
        assert link is not None
        link.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        await session.commit()
    expired = await api.http.get(f"/d/{other}")
    assert expired.status_code == 404
    # the same page but for the address it links back to (the language switch)
    pages = {
        r.text.replace(t, "TOKEN")
        for r, t in ((unknown, "A" * 32), (gone, token), (expired, other))
    }
    assert len(pages) == 1
    assert "This link does not work" in gone.text or "Questo collegamento non funziona" in gone.text


async def test_the_tax_code_opens_the_page_of_this_practice_only(api: Api) -> None:
    body, token, tax_code = await practice_with_link(api)
    _, other_token, other_tax_code = await practice_with_link(api, amounts=("77.70",))
    entered = await enter(api, token, tax_code.lower())
    assert entered.status_code == 303 and entered.headers["location"] == "/d/me"
    cookie = entered.headers["set-cookie"]
    assert "recupero_debtor=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Path=/d" in cookie
    page = await api.http.get("/d/me")
    assert page.status_code == 200, page.text
    assert_debtor_headers(page)
    # the link again, with the session: straight to the page
    again = await api.http.get(f"/d/{token}")
    assert again.status_code == 303 and again.headers["location"] == "/d/me"
    # another practice's link with this session: its own second step, nothing of this one
    other = await api.http.get(f"/d/{other_token}")
    assert other.status_code == 200 and "FT-2026-101" not in other.text
    assert "FT-2026-101" in page.text and "1.250,40" in page.text
    assert "77,70" not in page.text
    data = await api.http.get("/d/me/data.json")
    assert data.status_code == 200
    copy = data.json()
    assert copy["debtor"]["tax_code"] == tax_code
    assert [i["number"] for i in copy["invoices"]] == ["FT-2026-101"]
    assert other_tax_code not in data.text
    pdf = await api.http.get("/d/me/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # this practice's tax code on another practice's link opens nothing
    wrong = await enter(api, other_token, tax_code)
    assert wrong.status_code == 401
    # a visit is never a contact
    async with api.db.session() as session:
        contacts = await session.scalar(
            select(func.count()).select_from(ContactLog).where(ContactLog.practice_id == body["id"])
        )
    assert contacts == 0


async def test_five_wrong_answers_lock_the_link_and_say_until_when(api: Api) -> None:
    _, token, tax_code = await practice_with_link(api)
    for _ in range(5):
        refused = await enter(api, token, "RSSMRA80A01H501U")
        assert refused.status_code == 401
    assert 'data-testid="locked"' in refused.text
    # locked: the right answer too is refused, the page still says until when
    still = await enter(api, token, tax_code)
    assert still.status_code == 401 and 'data-testid="locked"' in still.text


async def test_a_one_time_code_through_the_outbox_opens_the_page(api: Api) -> None:
    body, token, _ = await practice_with_link(api)
    api.http.cookies.clear()
    page = await api.http.get(f"/d/{token}")
    sent = await api.http.post(
        f"/d/{token}/code/send", data={"csrf_token": csrf(page), "channel": "email"}
    )
    assert sent.status_code == 303
    async with api.db.session() as session:
        delivery = await session.scalar(
            select(Delivery).where(
                Delivery.practice_id == body["id"], Delivery.idempotency_key.like("debtor-code:%")
            )
        )
        assert delivery is not None and delivery.status == "outbox"
        assert delivery.recipient == "mario.rossi@example.it"
        code = re.search(r"\b(\d{6})\b", delivery.body)
        assert code is not None
        contacts = await session.scalar(
            select(func.count()).select_from(ContactLog).where(ContactLog.practice_id == body["id"])
        )
        assert contacts == 0  # asked for by the debtor: not a contact
    form = await api.http.get(f"/d/{token}?code=sent")
    entered = await api.http.post(
        f"/d/{token}/code", data={"csrf_token": csrf(form), "code": code.group(1)}
    )
    assert entered.status_code == 303 and entered.headers["location"] == "/d/me"
    assert (await api.http.get("/d/me")).status_code == 200


async def test_a_session_ends_after_thirty_idle_minutes_and_on_sign_out(api: Api) -> None:
    _, token, tax_code = await practice_with_link(api)
    await enter(api, token, tax_code)
    page = await api.http.get("/d/me")
    assert page.status_code == 200
    session_id = api.http.cookies.get("recupero_debtor")
    async with api.db.session() as session:
        row = await session.get(DebtorSession, session_id)
        assert row is not None
        row.last_seen_at = row.last_seen_at - timedelta(minutes=31)
        await session.commit()
    assert (await api.http.get("/d/me")).status_code == 401
    await enter(api, token, tax_code)
    page = await api.http.get("/d/me")
    out = await api.http.post("/d/me/logout", data={"csrf_token": csrf(page)})
    assert out.status_code == 303
    assert (await api.http.get("/d/me")).status_code == 401


async def test_forms_without_the_csrf_token_are_refused(api: Api) -> None:
    _, token, tax_code = await practice_with_link(api)
    api.http.cookies.clear()
    await api.http.get(f"/d/{token}")
    refused = await api.http.post(f"/d/{token}/identity", data={"tax_code": tax_code})
    assert refused.status_code == 403
    assert_debtor_headers(refused)


async def test_links_are_listed_without_tokens_for_the_creditor_only(api: Api) -> None:
    body, token, _ = await practice_with_link(api)
    listed = await api.http.get(f"/practices/{body['id']}/debtor-links", headers=api.admin)
    assert listed.status_code == 200
    [link] = listed.json()
    assert link["works"] is True and token not in listed.text
    assert set(link) == {"id", "created_at", "expires_at", "revoked_at", "locked_until", "works"}
    stranger = await new_creditor(api)
    forbidden = await api.http.get(
        f"/practices/{body['id']}/debtor-links", headers=stranger.headers
    )
    assert forbidden.status_code == 403
    refused = await api.http.post(
        f"/practices/{body['id']}/debtor-links/revoke", headers=stranger.headers
    )
    assert refused.status_code == 403
