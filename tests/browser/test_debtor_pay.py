"""A debtor pays from a real letter, in Chromium at a phone's size (390x844), against the real
stack with Stripe's API played by tests/stripe_fake.py: the practice handed over through the
API, the worker's reminder letter fetched as a PDF, its QR code decoded from the PDF's image and
found to be the short address printed on it; the page that address opens, the second step with
the codice fiscale, the pay section (card, and bank transfer: its QR code read from the screen
is the EPC transfer of the amount due), Stripe's Checkout page (the fake's:
its Pay button delivers the signed checkout.session.completed webhook to the API, as Stripe
does), the page Stripe sends the payer back to, and the practice closed, paid. axe-core on each
of the debtor's pages."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, expect
from pypdf import PdfReader

from domain.money import as_typed_by_people, parse_euros
from domain.payment_qr import epc_payload
from tests.api.helpers import fast_strategy, practice_payload, unique_tax_code
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_creditor_portal import new_creditor
from tests.browser.test_debtor_page import letter_link
from tests.stripe_fake import FakeStripe, StripeServer
from tests.system.harness import Stack, free_port

SECRET_KEY = "sk_test_browser"
WEBHOOK_SECRET = "whsec_browser"


@pytest.fixture(scope="module")
def stripe_and_port() -> Iterator[tuple[FakeStripe, int]]:
    port = free_port()
    with StripeServer(
        SECRET_KEY,
        webhook_url=f"http://127.0.0.1:{port}/webhooks/stripe",
        webhook_secret=WEBHOOK_SECRET,
        # another site than the API's 127.0.0.1, as checkout.stripe.com is: coming back from
        # it, the browser does not send the page's SameSite=Strict session cookie
        host_name="localhost",
    ) as fake:
        yield fake, port


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, stripe_and_port: tuple[FakeStripe, int]
) -> Iterator[Stack]:
    fake, port = stripe_and_port
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("debtor-pay"),
        api_port=port,
        extra_env={
            "RECUPERO_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "RECUPERO_STRIPE_API_BASE": fake.url,
        },
    )
    with stack.running():
        yield stack


def qr_codes(pdf: bytes) -> list[str]:
    """The texts of the QR codes printed in the PDF: the letters embed them as raster images
    (activities/rendering.py, activities/debtor_link.py), decoded here with ZXing."""
    found: list[str] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


async def first_letter(client: httpx.AsyncClient, practice_id: str) -> bytes:
    documents = (await client.get(f"/practices/{practice_id}/documents")).json()
    pdf = await client.get(f"/practices/{practice_id}/documents/{documents[0]['id']}")
    assert pdf.status_code == 200
    return pdf.content


async def test_a_debtor_goes_from_the_qr_code_on_a_real_letter_to_a_closed_practice(
    stack: Stack, browser: Browser, stripe_and_port: tuple[FakeStripe, int]
) -> None:
    fake, _ = stripe_and_port
    url = f"http://127.0.0.1:{stack.api_port}"
    tax_code = unique_tax_code()
    async with httpx.AsyncClient(base_url=url, headers=stack.admin, timeout=30) as client:
        creditor_id = await new_creditor(client, "Forniture Lombarde S.r.l.")
        saved = await client.put(f"/creditors/{creditor_id}/strategy", json=fast_strategy())
        assert saved.status_code == 200, saved.text
        payload = practice_payload(
            creditor_id, "FT-PAY-1", amounts=("300.00",), tax_code=tax_code, due_in_days=-40
        )
        created = await client.post("/practices", json=payload)
        assert created.status_code == 201, created.text
        practice_id = created.json()["id"]
        printed = await letter_link(client, practice_id)
        codes = qr_codes(await first_letter(client, practice_id))
    # the letter's QR codes: the bank transfer's (EPC) and the page's, the address printed
    # (an image may be drawn more than once: a letter of several pages repeats its footer)
    links = sorted({c for c in codes if c.startswith("http")})
    assert links == [printed], codes
    assert any(c.startswith("BCD\n002\n1\nSCT\n") for c in codes), codes

    context = await browser.new_context(
        locale="it-IT", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        response = await page.goto(links[0])
        assert response is not None and response.status == 200
        assert await axe_violations(page) == []
        await page.get_by_label("Il suo codice fiscale o partita IVA").fill(tax_code)
        await page.get_by_role("button", name="Continua").first.click()
        await page.wait_for_url(re.compile(r"/d/me$"))

        pay = page.get_by_test_id("pay")
        await expect(pay.get_by_role("heading", name="Pagare")).to_be_visible()
        await expect(pay.get_by_test_id("transfer-iban")).to_have_text(
            re.compile(r"^IT\d\d[A-Z0-9]+$")
        )
        await expect(pay.get_by_test_id("transfer-reference")).to_have_text(
            created.json()["reference"]
        )
        amount = page.get_by_label("Importo in euro")
        prefilled = await amount.input_value()
        assert re.fullmatch(r"\d+,\d\d", prefilled), prefilled
        # the transfer's QR code, as a banking app would read it from the screen
        shown = await pay.locator("svg.payment-qr").screenshot()
        read = [c.text for c in zxingcpp.read_barcodes(Image.open(io.BytesIO(shown)))]
        assert read == [
            epc_payload(
                beneficiary="Forniture Lombarde S.r.l.",
                iban=await pay.get_by_test_id("transfer-iban").inner_text(),
                amount_cents=parse_euros(as_typed_by_people(prefilled)),
                remittance=created.json()["reference"],
            )
        ]
        assert await axe_violations(page) == []
        await pay.scroll_into_view_if_needed()
        await screenshot(page, "debtor-pay")

        # an amount out of bounds: said next to the field, in Italian
        await amount.fill("1,00")
        await pay.get_by_role("button", name="Paga con carta").click()
        await expect(page.get_by_test_id("pay-amount-error")).to_contain_text("tra 10,00")
        assert await axe_violations(page) == []

        # the whole balance, typed the Italian way
        await page.get_by_label("Importo in euro").fill(prefilled)
        await page.get_by_role("button", name="Paga con carta").click()
        await page.wait_for_url(re.compile(re.escape(fake.url) + r"/c/pay/cs_test_"))
        await page.get_by_role("button", name="Pay").click()
        await page.wait_for_url(re.compile(r"/d/me/pay/done$"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Pagamento ricevuto")
        await expect(page.get_by_test_id("checkout-status")).to_have_count(0)  # no cookie sent
        assert fake.webhooks_delivered == [200]
        assert await axe_violations(page) == []

        # the webhook booked it: the page says nothing is due (once the workflow closed it)
        await page.get_by_test_id("back-to-page").click()
        await page.wait_for_url(re.compile(r"/d/me$"))
        for _ in range(30):
            if await page.get_by_test_id("nothing-due").count():
                break
            await asyncio.sleep(1)
            await page.reload()
        await expect(page.get_by_test_id("nothing-due")).to_be_visible()
        await expect(page.get_by_test_id("pay-card")).to_have_count(0)
        assert await axe_violations(page) == []
    finally:
        await context.close()

    async with httpx.AsyncClient(base_url=url, headers=stack.admin, timeout=30) as client:
        for _ in range(30):
            view = (await client.get(f"/practices/{practice_id}")).json()
            if view["status"] == "closed":
                break
            await asyncio.sleep(1)
    assert view["status"] == "closed" and view["outcome"] == "paid", view
