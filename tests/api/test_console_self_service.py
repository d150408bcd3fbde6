"""The console's side of the debtor's self-service (issue 13) on the practice page: the links
to the debtor's page and revoking them (the API's GET/POST /practices/{id}/debtor-links), a card
payment link an operator sends (POST /practices/{id}/card-checkouts, only when Stripe's keys
are set) with the practice's card checkouts, and what the debtor wrote or sent (a note without
an author, dispute evidence among the documents)."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.services import debtor_links
from db.models import CardPayment, DebtorLink, Document, Practice, PracticeNote
from tests.api.helpers import Api, hand_over, new_creditor, practice_payload
from tests.api.test_console_admin import as_role, field_error
from tests.api.test_console_logins import csrf, person
from tests.stripe_fake import FakeStripe, StripeServer

SECRET_KEY = "sk_test_console"


def page_of(practice_id: str) -> str:
    return f"/console/practices/{practice_id}"


async def _links(api: Api, practice_id: str) -> list[DebtorLink]:
    async with api.db.session() as session:
        return await debtor_links.links_of(session, practice_id)


async def test_the_creditor_sees_the_debtors_links_and_revokes_them(api: Api) -> None:
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    now = datetime.now(UTC)
    async with api.db.session() as session:
        row = await session.get(Practice, pid)
        assert row is not None
        _old, old_token = await debtor_links.issue(session, row, now - timedelta(days=2))
        link, token = await debtor_links.issue(session, row, now)
        locked = await session.get(DebtorLink, link.id)
        assert locked is not None
        locked.locked_until = now + timedelta(minutes=15)
        # what the debtor sent from the page: a reason without an author, a document
        session.add(PracticeNote(practice_id=pid, author_id=None, kind="dispute", text="Pagato"))
        session.add(
            Document(
                practice_id=pid,
                idempotency_key=f"{pid}:evidence:1",
                kind="dispute_evidence",
                filename="ricevuta-bonifico.pdf",
                content=b"%PDF-1.4",
            )
        )
        await session.commit()

    await as_role(api, "creditor", creditor_id=tenant.id)
    page = await api.http.get(page_of(pid))
    assert page.status_code == 200, page.text
    text = page.text
    table = text[text.index('id="table-links"') : text.index("</table>", text.index("table-links"))]
    assert table.count("<tr>") == 3  # the header and two links
    assert "Bloccato fino al" in table and "<td>sì</td>" in table
    # never a token: only their hashes are stored, and none is shown
    assert token not in text and old_token not in text
    assert "Revoca tutti i link" in text
    # the debtor's note and document
    assert '<h2 id="documents-title">Documenti</h2>' in text
    assert "ricevuta-bonifico.pdf" in text
    notes = text[text.index('id="notes-title"') :]
    assert "il debitore</span><br>Pagato" in notes
    # card payments are off in these tests: no form that could not work
    assert 'action="/console/practices/' + pid + '/card-checkouts"' not in text

    # without the tick nothing is revoked, the message next to the box
    revoke = f"{page_of(pid)}/debtor-links/revoke"
    refused = await api.http.post(revoke, data={"csrf_token": csrf(page)})
    assert refused.status_code == 422
    assert field_error(refused, "revoke_confirm") == "Spuntate la casella per revocare i link."
    assert all(link.revoked_at is None for link in await _links(api, pid))

    done = await api.http.post(revoke, data={"csrf_token": csrf(page), "confirm": "yes"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{page_of(pid)}?done=links_revoked"
    assert all(link.revoked_at is not None for link in await _links(api, pid))
    after = await api.http.get(done.headers["location"])
    assert "I link alla pagina del debitore sono revocati." in after.text
    assert 'action="' + revoke + '"' not in after.text  # nothing left to revoke
    assert "<td>no</td>" in after.text

    # an operator sees neither the links nor the form (the API's roles: admin and creditor)
    await as_role(api, "operator")
    operator = await api.http.get(page_of(pid))
    assert operator.status_code == 200
    assert 'id="table-links"' not in operator.text
    forbidden = await api.http.post(revoke, data={"csrf_token": csrf(operator), "confirm": "yes"})
    assert forbidden.status_code == 403


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with StripeServer(SECRET_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
async def console_with_cards(api: Api, fake_stripe: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    """A console client of an app with Stripe's keys (the same database and Temporal)."""
    settings = dataclasses.replace(
        api.settings,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret="whsec_console",
        stripe_api_base=fake_stripe.url,
        public_url="https://recupero.example.it",
    )
    app = create_app(settings, temporal_client=api.temporal)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            # https: with an https public address the console's cookies are Secure
            transport=httpx.ASGITransport(app=app),
            base_url="https://recupero.test",
        ) as http,
    ):
        yield http


async def test_an_operator_sends_a_card_payment_link_and_sees_its_status(
    api: Api, console_with_cards: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    http = console_with_cards
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    user, password = await person(api, role="operator")
    login = await http.get("/console/login")
    landed = await http.post(
        "/console/login",
        data={"csrf_token": csrf(login), "email": user["email"], "password": password},
    )
    assert landed.status_code == 303, landed.text

    page = await http.get(page_of(pid))
    assert page.status_code == 200, page.text
    assert "Invia un link di pagamento con carta" in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    action = f"{page_of(pid)}/card-checkouts"

    # below the smallest partial payment: the API's 422 next to the form's amount
    low = await http.post(
        action, data={"csrf_token": csrf(page), "key": key.group(1), "checkout_amount": "5,00"}
    )
    assert low.status_code == 422, low.text
    assert "10,00" in field_error(low, "checkout_amount")
    assert 'value="5,00"' in low.text

    before = len(fake_stripe.sessions)
    form = {"csrf_token": csrf(page), "key": key.group(1), "checkout_amount": "1.000,50"}
    made = await http.post(action, data=form)
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert location.startswith(f"{page_of(pid)}?done=checkout&checkout=")
    checkout_id = location.rsplit("=", 1)[1]
    # the same form sent again (a double click): the same checkout, no second Stripe session
    again = await http.post(action, data=form)
    assert again.headers["location"] == location
    assert len(fake_stripe.sessions) == before + 1
    # the same form with another amount (the browser's back button): the API's 409, and the
    # form shown again has a new key for a new link
    reused = await http.post(action, data={**form, "checkout_amount": "20,00"})
    assert reused.status_code == 409 and 'role="alert"' in reused.text
    fresh = re.search(r'name="key" value="([^"]+)"', reused.text)
    assert fresh and fresh.group(1) != key.group(1)
    async with api.db.session() as session:
        rows = list(
            await session.scalars(select(CardPayment).where(CardPayment.practice_id == pid))
        )
    assert [(r.id, r.amount_cents, r.started_by_kind) for r in rows] == [
        (checkout_id, 100_050, "user")
    ]

    shown = await http.get(location)
    url = re.search(r'<input id="checkout-url" value="([^"]+)" readonly', shown.text)
    assert url and html.unescape(url.group(1)) == rows[0].checkout_url
    assert "1.000,50\xa0€" in shown.text
    assert '<td data-status="started">Avviato: non ancora pagato' in shown.text

    # Stripe reported another amount: the admin sees it is to be looked at
    async with api.db.session() as session:
        stored = await session.get(CardPayment, checkout_id)
        assert stored is not None
        stored.status = "mismatch"
        await session.commit()
    mismatch = await http.get(page_of(pid))
    assert '<td data-status="mismatch">Importo non corrispondente' in mismatch.text
