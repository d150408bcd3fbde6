"""Card payments through Stripe Checkout (api/services/card_payments.py): the pay-by-link API,
and the webhook that books a payment once, against a local server standing in for Stripe's API
(tests/stripe_fake.py) and webhooks signed the way Stripe signs them."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.services import card_payments
from db.models import CardPayment
from domain.actor import user as user_actor
from tests.api.helpers import (
    Api,
    Tenant,
    error_locs,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)
from tests.stripe_fake import FakeStripe, StripeServer, session_event, sign

SECRET_KEY = "sk_test_recupero"
WEBHOOK_SECRET = "whsec_recupero_test"
PUBLIC_URL = "https://recupero.example.it"


@dataclass
class Paying:
    http: httpx.AsyncClient
    stripe: FakeStripe
    settings: Any


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with StripeServer(SECRET_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
async def paying(api: Api, fake_stripe: FakeStripe) -> AsyncIterator[Paying]:
    """The same database and Temporal as `api`, with Stripe keys and the fake's address."""
    settings = dataclasses.replace(
        api.settings,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=fake_stripe.url,
        public_url=PUBLIC_URL,
    )
    app = create_app(settings, temporal_client=api.temporal)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://recupero.test"
        ) as http,
    ):
        yield Paying(http=http, stripe=fake_stripe, settings=settings)


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


async def new_practice(api: Api, tenant: Tenant, amount: str = "1250.40") -> str:
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, amounts=(amount,)))
    return str(practice["id"])


async def checkout(
    paying: Paying, tenant: Tenant, pid: str, body: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    return await paying.http.post(
        f"/practices/{pid}/card-checkouts", headers=tenant.headers | headers, json=body or {}
    )


async def webhook(paying: Paying, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await paying.http.post("/webhooks/stripe", content=payload, headers=headers)


async def view(api: Api, pid: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    return body


async def payments(api: Api, pid: str) -> list[dict[str, Any]]:
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    return [e for e in events if e["kind"] == "payment"]


async def row(api: Api, checkout_id: str) -> CardPayment:
    async with api.db.session() as session:
        found = await session.get(CardPayment, checkout_id)
        assert found is not None
        return found


async def started(paying: Paying, tenant: Tenant, pid: str, amount: str) -> dict[str, Any]:
    response = await checkout(paying, tenant, pid, {"amount": amount})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the checkout --------------------------------------------------------------------------------


async def test_a_checkout_asks_stripe_for_the_amount_with_ids_only(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant)
    before = len(paying.stripe.checkout_requests())
    response = await checkout(paying, tenant, pid)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["amount"] == "1250.40"  # all that is due today by default
    assert body["status"] == "started"
    (sent,) = paying.stripe.checkout_requests()[before:]
    assert sent["mode"] == "payment"
    assert sent["line_items[0][price_data][currency]"] == "eur"
    assert sent["line_items[0][price_data][unit_amount]"] == "125040"
    assert sent["line_items[0][quantity]"] == "1"
    reference = (await view(api, pid))["reference"]
    assert sent["line_items[0][price_data][product_data][name]"] == f"Pratica {reference}"
    assert sent["metadata[practice_id]"] == pid
    assert sent["client_reference_id"] == body["id"] == sent["metadata[card_payment_id]"]
    assert sent["success_url"] == sent["cancel_url"] == f"{PUBLIC_URL}/"
    # nothing about the debtor: no name, tax code, e-mail or phone
    values = " ".join(sent.values())
    assert "Rossi" not in values and "@" not in values and "+39" not in values
    session = paying.stripe.sessions[(await row(api, body["id"])).stripe_session_id]
    assert body["url"] == session["url"]
    listed = (
        await paying.http.get(f"/practices/{pid}/card-checkouts", headers=tenant.headers)
    ).json()
    assert [(c["id"], c["amount"], c["status"]) for c in listed] == [
        (body["id"], "1250.40", "started")
    ]


async def test_a_retry_with_the_same_key_makes_one_session(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant)
    before = len(paying.stripe.sessions)
    first = await checkout(paying, tenant, pid, {"amount": "100.00"}, **{"Idempotency-Key": "k1"})
    again = await checkout(paying, tenant, pid, {"amount": "100.00"}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert first.json() == again.json()
    assert len(paying.stripe.sessions) == before + 1
    async with api.db.session() as session:
        rows = (
            await session.scalars(select(CardPayment).where(CardPayment.practice_id == pid))
        ).all()
    assert len(rows) == 1
    other = await checkout(paying, tenant, pid, {"amount": "90.00"}, **{"Idempotency-Key": "k1"})
    assert other.status_code == 409, other.text


async def test_the_service_retry_reaches_stripe_with_the_same_idempotency_key(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    """A row lost between Stripe's answer and our commit: the retry asks Stripe again with the
    same Idempotency-Key, and Stripe answers the same session."""
    pid = await new_practice(api, tenant)
    before = len(paying.stripe.sessions)

    async def start() -> card_payments.Checkout:
        async with api.db.session() as session:
            return await card_payments.start_checkout(
                session,
                paying.settings,
                pid,
                5000,
                success_url=f"{PUBLIC_URL}/ok",
                cancel_url=f"{PUBLIC_URL}/no",
                actor=user_actor("u1", "operator"),
                idempotency_key="page-visit-1",
            )

    first = await start()
    async with api.db.session() as session:
        await session.delete(await session.get(CardPayment, first.id))
        await session.commit()
    second = await start()
    assert (second.id, second.url) == (first.id, first.url)
    assert len(paying.stripe.sessions) == before + 1
    keys = [k for _, p, k in paying.stripe.requests if p.get("client_reference_id") == first.id]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0] is not None


async def test_amounts_outside_the_bounds_are_422_naming_amount(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant)
    before = len(paying.stripe.requests)
    for amount in ("9.99", "1250.41"):
        response = await checkout(paying, tenant, pid, {"amount": amount})
        assert response.status_code == 422, response.text
        assert error_locs(response) == [["body", "amount"]]
    assert len(paying.stripe.requests) == before
    assert (await checkout(paying, tenant, pid, {"amount": "10.00"})).status_code == 201
    # less than 10 euros due: the whole of it is the least
    small = await new_practice(api, tenant, "7.50")
    assert (await checkout(paying, tenant, small, {"amount": "5.00"})).status_code == 422
    assert (await checkout(paying, tenant, small, {"amount": "7.50"})).status_code == 201


async def test_card_payments_are_off_without_keys(api: Api, paying: Paying, tenant: Tenant) -> None:
    assert not card_payments.card_payments_on(api.settings)
    pid = await new_practice(api, tenant)
    before = len(paying.stripe.requests)
    response = await api.http.post(
        f"/practices/{pid}/card-checkouts", headers=tenant.headers, json={}
    )
    assert response.status_code == 409, response.text
    assert "card payments are off" in response.json()["detail"]
    with pytest.raises(card_payments.CardPaymentsOff):
        async with api.db.session() as session:
            await card_payments.start_checkout(
                session,
                api.settings,
                pid,
                None,
                success_url=f"{PUBLIC_URL}/ok",
                cancel_url=f"{PUBLIC_URL}/no",
                actor=card_payments.DEBTOR,
            )
    assert len(paying.stripe.requests) == before  # nothing asked Stripe
    # and a webhook without the secret configured books nothing
    refused = await api.http.post(
        "/webhooks/stripe",
        content=b"{}",
        headers={"Stripe-Signature": sign(b"{}", WEBHOOK_SECRET)},
    )
    assert refused.status_code == 400


async def test_roles_and_closed_practices(api: Api, paying: Paying, tenant: Tenant) -> None:
    pid = await new_practice(api, tenant)
    _, lawyer = await new_user(api, "lawyer")
    refused = await paying.http.post(f"/practices/{pid}/card-checkouts", headers=lawyer, json={})
    assert refused.status_code == 403
    other = await new_creditor(api)
    assert (await checkout(paying, other, pid)).status_code == 403
    _, operator = await new_user(api, "operator")
    made = await paying.http.post(
        f"/practices/{pid}/card-checkouts", headers=operator, json={"amount": "20.00"}
    )
    assert made.status_code == 201, made.text
    paid = await api.http.post(
        f"/practices/{pid}/payments",
        headers=tenant.headers,
        json={"amount": "1250.40", "paid_on": rome_today().isoformat(), "reference": "CRO-X"},
    )
    assert paid.status_code == 200, paid.text
    closed = await checkout(paying, tenant, pid)
    assert closed.status_code == 409
    assert closed.json()["detail"] == "the practice is closed"


# --- the webhook ---------------------------------------------------------------------------------


async def test_a_signed_completed_checkout_books_the_payment_once(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant)
    made = await started(paying, tenant, pid, "250.40")
    session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
    payload = session_event("checkout.session.completed", session, payment_intent="pi_123")
    response = await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))
    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "booked"}
    practice = await view(api, pid)
    assert (practice["balance"], practice["paid"]) == ("1000.00", "250.40")
    (paid,) = await payments(api, pid)
    assert paid["data"]["reference"] == "Stripe pi_123"
    assert paid["data"]["amount_cents"] == 25040
    assert paid["actor"] == {"kind": "debtor", "id": None, "role": None}
    booked = await row(api, made["id"])
    assert (booked.status, booked.stripe_payment_intent) == ("paid", "pi_123")
    assert booked.paid_at is not None
    # Stripe delivers it again, and again re-signed later: booked once
    for again in (payload, payload):
        repeat = await webhook(paying, again, sign(again, WEBHOOK_SECRET))
        assert repeat.status_code == 200, repeat.text
        assert repeat.json() == {"outcome": "already_booked"}
    assert len(await payments(api, pid)) == 1
    assert (await view(api, pid))["balance"] == "1000.00"


async def test_a_second_delivery_racing_the_first_is_refused_by_the_workflow(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    """The row still says started (the first delivery booked it but its answer was lost): the
    workflow's reference guard refuses the second, which is read as already booked."""
    pid = await new_practice(api, tenant)
    made = await started(paying, tenant, pid, "100.00")
    session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
    payload = session_event("checkout.session.completed", session, payment_intent="pi_race")
    assert (await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))).status_code == 200
    async with api.db.session() as db:
        found = await db.get(CardPayment, made["id"])
        assert found is not None
        found.status = "started"
        await db.commit()
    again = await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))
    assert again.json() == {"outcome": "already_booked"}
    assert len(await payments(api, pid)) == 1
    assert (await row(api, made["id"])).status == "paid"


async def test_the_whole_balance_by_card_closes_the_practice(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant, "80.00")
    made = await started(paying, tenant, pid, "80.00")
    session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
    payload = session_event("checkout.session.completed", session, payment_intent="pi_all")
    assert (await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))).status_code == 200
    practice = await view(api, pid)
    assert (practice["status"], practice["balance"]) == ("closed", "0.00")


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=deadbeef",
        "wrong secret",
        "old timestamp",
        "another body",
    ],
)
async def test_unsigned_or_badly_signed_webhooks_are_400_and_book_nothing(
    api: Api, paying: Paying, tenant: Tenant, signature: str | None
) -> None:
    pid = await new_practice(api, tenant)
    made = await started(paying, tenant, pid, "50.00")
    session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
    payload = session_event("checkout.session.completed", session, payment_intent="pi_bad")
    header = {
        "wrong secret": sign(payload, "whsec_someone_else"),
        "old timestamp": sign(payload, WEBHOOK_SECRET, int(time.time()) - 301),
        "another body": sign(payload.replace(b"5000", b"5001"), WEBHOOK_SECRET),
    }.get(signature or "", signature)
    response = await webhook(paying, payload, header)
    assert response.status_code == 400, response.text
    assert await payments(api, pid) == []
    assert (await row(api, made["id"])).status == "started"


async def test_an_amount_or_currency_that_does_not_match_books_nothing(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant)
    for changes in ({"amount_total": 4000}, {"currency": "usd"}):
        made = await started(paying, tenant, pid, "50.00")
        session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
        payload = session_event(
            "checkout.session.completed", session, payment_intent="pi_mismatch", **changes
        )
        response = await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))
        assert response.status_code == 200, response.text
        assert response.json() == {"outcome": "mismatch"}
        assert (await row(api, made["id"])).status == "mismatch"
    assert await payments(api, pid) == []
    assert (await view(api, pid))["balance"] == "1250.40"
    listed = (await paying.http.get(f"/practices/{pid}/card-checkouts", headers=api.admin)).json()
    assert {c["status"] for c in listed} == {"mismatch"}
    assert all(c["detail"] for c in listed)


async def test_an_expired_checkout_is_marked_and_unknown_events_ignored(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant)
    made = await started(paying, tenant, pid, "50.00")
    session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
    payload = session_event("checkout.session.expired", session)
    response = await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))
    assert response.json() == {"outcome": "expired"}
    assert (await row(api, made["id"])).status == "expired"
    other = session_event("customer.created", session)
    ignored = await webhook(paying, other, sign(other, WEBHOOK_SECRET))
    assert (ignored.status_code, ignored.json()) == (200, {"outcome": "ignored"})
    not_ours = session_event(
        "checkout.session.completed", session | {"id": "cs_not_ours"}, payment_intent="pi_x"
    )
    stranger = await webhook(paying, not_ours, sign(not_ours, WEBHOOK_SECRET))
    assert (stranger.status_code, stranger.json()) == (200, {"outcome": "ignored"})
    assert await payments(api, pid) == []


async def test_a_card_payment_for_a_practice_closed_meanwhile_is_refused_for_refund(
    api: Api, paying: Paying, tenant: Tenant
) -> None:
    pid = await new_practice(api, tenant, "60.00")
    made = await started(paying, tenant, pid, "60.00")
    paid = await api.http.post(
        f"/practices/{pid}/payments",
        headers=tenant.headers,
        json={"amount": "60.00", "paid_on": rome_today().isoformat(), "reference": "CRO-B"},
    )
    assert paid.status_code == 200, paid.text
    session = paying.stripe.sessions[(await row(api, made["id"])).stripe_session_id]
    payload = session_event("checkout.session.completed", session, payment_intent="pi_late")
    response = await webhook(paying, payload, sign(payload, WEBHOOK_SECRET))
    assert response.json() == {"outcome": "refused"}
    assert (await row(api, made["id"])).status == "refused"
    assert [p["data"]["reference"] for p in await payments(api, pid)] == ["CRO-B"]
