"""Paying from the debtor's page over HTTP (api/debtor/routes_pay.py): without Stripe keys the
card option is absent and a forged card form is refused with a message; with them the form
starts a Stripe Checkout (the fake, tests/stripe_fake.py) with the debtor's amount, an amount
out of bounds is said next to the field, a double click (the same one-time key) is one
checkout; the bank transfer shows the IBAN, the amount and the EPC QR code of that transfer."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import segno

from api.app import create_app
from api.services import card_payments
from domain.payment_qr import epc_payload
from tests.api.helpers import Api
from tests.api.test_debtor_page import csrf, practice_with_link
from tests.stripe_fake import FakeStripe, StripeServer

SECRET_KEY = "sk_test_debtor_page"
WEBHOOK_SECRET = "whsec_debtor_page"
IBAN = "IT60X0542811101000000123456"  # tests.api.helpers.new_creditor's


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with StripeServer(SECRET_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
async def paying(api: Api, fake_stripe: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    """The same database and Temporal as `api`, with Stripe keys and the fake's address."""
    settings = dataclasses.replace(
        api.settings,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=fake_stripe.url,
    )
    app = create_app(settings, temporal_client=api.temporal)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://recupero.test"
        ) as http,
    ):
        yield http


async def signed_in(http: httpx.AsyncClient, token: str, tax_code: str) -> httpx.Response:
    """The debtor's page after the second step with the codice fiscale."""
    http.cookies.clear()
    link = await http.get(f"/d/{token}")
    entered = await http.post(
        f"/d/{token}/identity", data={"csrf_token": csrf(link), "tax_code": tax_code}
    )
    assert entered.status_code == 303, entered.text
    page = await http.get("/d/me")
    assert page.status_code == 200, page.text
    return page


def one_time_key(page: httpx.Response) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_without_stripe_keys_there_is_no_card_option_and_a_forged_form_is_refused(
    api: Api,
) -> None:
    _, token, tax_code = await practice_with_link(api)
    page = await signed_in(api.http, token, tax_code)
    assert 'data-testid="pay-transfer"' in page.text
    assert 'data-testid="pay-card"' not in page.text
    assert "/d/me/pay/card" not in page.text
    assert "form-action 'self';" in page.headers["content-security-policy"]
    forged = await api.http.post(
        "/d/me/pay/card", data={"csrf_token": csrf(page), "amount": "100,00", "key": "k"}
    )
    assert forged.status_code == 409
    assert 'data-testid="pay-refused"' in forged.text


async def test_the_card_form_starts_one_checkout_for_the_amount_typed_the_italian_way(
    api: Api, paying: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    body, token, tax_code = await practice_with_link(api)  # 1250.40 due
    page = await signed_in(paying, token, tax_code)
    assert 'data-testid="pay-card"' in page.text
    assert 'value="1250,40"' in page.text  # prefilled with the balance due today
    english = await paying.get("/d/me", headers={"Accept-Language": "en"})
    assert 'value="1250.40"' in english.text, english.text
    policy = page.headers["content-security-policy"]
    assert f"form-action 'self' https://checkout.stripe.com {fake_stripe.url};" in policy
    key = one_time_key(page)
    before = len(fake_stripe.checkout_requests())
    form = {"csrf_token": csrf(page), "amount": "1.000,00", "key": key}
    first = await paying.post("/d/me/pay/card", data=form)
    again = await paying.post("/d/me/pay/card", data=form)  # a double click
    assert first.status_code == again.status_code == 303, first.text
    assert first.headers["location"] == again.headers["location"]
    assert first.headers["location"].startswith(f"{fake_stripe.url}/c/pay/cs_test_")
    sent = fake_stripe.checkout_requests()[before:]
    # the second click asks Stripe nothing: one request, one session, the same page for both
    assert [r["line_items[0][price_data][unit_amount]"] for r in sent] == ["100000"]
    assert [s["url"] for s in fake_stripe.sessions.values()].count(first.headers["location"]) == 1
    assert sent[0]["success_url"].endswith("/d/me/pay/done")
    assert sent[0]["cancel_url"].endswith("/d/me/pay/cancelled")
    # the page Stripe sends the payer back to books nothing: the checkout is still waiting
    done = await paying.get("/d/me/pay/done")
    assert done.status_code == 200
    assert 'data-testid="checkout-status"' in done.text
    assert "1.000,00" in done.text
    # back from Stripe's site the SameSite=Strict cookie is not sent: the same page, no state
    cookies = dict(paying.cookies)
    paying.cookies.clear()
    for path in ("/d/me/pay/done", "/d/me/pay/cancelled"):
        without = await paying.get(path)
        assert without.status_code == 200, without.text
        assert 'data-testid="checkout-status"' not in without.text
        assert 'href="/d/me"' in without.text
    paying.cookies.update(cookies)
    async with api.db.session() as session:
        rows = await card_payments.checkouts_of(session, body["id"])
    assert [(r.amount_cents, r.status, r.started_by_kind) for r in rows] == [
        (100000, "started", "debtor")
    ]


async def test_an_amount_out_of_bounds_or_not_an_amount_is_said_next_to_the_field(
    api: Api, paying: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    _, token, tax_code = await practice_with_link(api)
    page = await signed_in(paying, token, tax_code)
    before = len(fake_stripe.checkout_requests())
    for typed in ("5,00", "1.300,00"):
        refused = await paying.post(
            "/d/me/pay/card",
            data={"csrf_token": csrf(page), "amount": typed, "key": one_time_key(page)},
        )
        assert refused.status_code == 422
        error = re.search(r'data-testid="pay-amount-error">\s*([^<]+)', refused.text)
        assert error is not None, refused.text
        assert "10,00" in error.group(1) and "1.250,40" in error.group(1)
        assert f'value="{typed}"' in refused.text  # what the debtor typed stays in the field
        assert 'aria-invalid="true"' in refused.text
    junk = await paying.post(
        "/d/me/pay/card",
        data={"csrf_token": csrf(page), "amount": "mille", "key": one_time_key(page)},
    )
    assert junk.status_code == 422 and 'data-testid="pay-amount-error"' in junk.text
    assert len(fake_stripe.checkout_requests()) == before  # Stripe was asked nothing


async def test_the_bank_transfer_shows_the_iban_the_amount_and_its_epc_qr_code(
    api: Api,
) -> None:
    body, token, tax_code = await practice_with_link(api)
    page = await signed_in(api.http, token, tax_code)
    assert IBAN in page.text
    assert re.search(r'data-testid="transfer-amount">1\.250,40\s*€<', page.text), page.text
    assert f'data-testid="transfer-reference">{body["reference"]}<' in page.text
    name = re.search(r'data-testid="transfer-beneficiary">([^<]+)<', page.text)
    assert name is not None and name.group(1).startswith("Forniture Lombarde S.r.l.")
    payload = epc_payload(
        beneficiary=name.group(1),
        iban=IBAN,
        amount_cents=125040,
        remittance=body["reference"],
    )
    assert payload.splitlines()[7] == "EUR1250.40"
    code = segno.make(payload, error="m", micro=False, boost_error=False, encoding="utf-8")
    svg = code.svg_inline(scale=5, border=4, title="EPC QR", svgclass="payment-qr", omitsize=True)
    assert svg in page.text


async def test_stripe_refusing_is_a_message_on_the_page_not_an_error(
    api: Api, paying: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    _, token, tax_code = await practice_with_link(api)
    page = await signed_in(paying, token, tax_code)
    key = fake_stripe.secret_key
    fake_stripe.secret_key = "sk_test_another_account"  # Stripe answers 401 to ours
    try:
        refused = await paying.post(
            "/d/me/pay/card",
            data={"csrf_token": csrf(page), "amount": "100,00", "key": one_time_key(page)},
        )
    finally:
        fake_stripe.secret_key = key
    assert refused.status_code == 503
    assert 'data-testid="pay-refused"' in refused.text
    assert 'data-testid="pay-transfer"' in refused.text  # the transfer is still offered
