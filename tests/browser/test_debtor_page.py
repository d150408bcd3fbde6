"""The debtor's page in Chromium at a phone's size (390x844), from a real letter: a practice
handed over through the API to the real stack, its reminder letter rendered by the worker, the
short address read from the letter's PDF (the same address its second QR code encodes), the page
the link alone shows (the creditor and the amount, nothing else), the second step with the
codice fiscale, the page with the amount and the invoices, then in English; axe-core on each
page."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, expect
from pypdf import PdfReader

from tests.api.helpers import fast_strategy, practice_payload, unique_tax_code
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_creditor_portal import new_creditor
from tests.system.harness import Stack, free_port


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # the worker makes the letters' links with the public address: here, the API's own
    port = free_port()
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("debtor"),
        api_port=port,
        extra_env={"RECUPERO_PUBLIC_URL": f"http://127.0.0.1:{port}"},
    )
    with stack.running():
        yield stack


async def letter_link(client: httpx.AsyncClient, practice_id: str, seconds: int = 90) -> str:
    """The short address printed on the practice's first letter, once the worker sent it."""
    for _ in range(seconds):
        documents = (await client.get(f"/practices/{practice_id}/documents")).json()
        if documents:
            pdf = await client.get(f"/practices/{practice_id}/documents/{documents[0]['id']}")
            reader = PdfReader(io.BytesIO(pdf.content))
            text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
            found = re.search(r"http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{32}", text)
            assert found is not None, text
            return found.group(0)
        await asyncio.sleep(1)
    raise AssertionError(f"no letter after {seconds} s")


async def test_a_debtor_opens_the_letters_link_passes_the_second_step_and_sees_what_is_due(
    stack: Stack, browser: Browser
) -> None:
    url = f"http://127.0.0.1:{stack.api_port}"
    tax_code = unique_tax_code()
    async with httpx.AsyncClient(base_url=url, headers=stack.admin, timeout=30) as client:
        creditor_id = await new_creditor(client, "Forniture Lombarde S.r.l.")
        saved = await client.put(f"/creditors/{creditor_id}/strategy", json=fast_strategy())
        assert saved.status_code == 200, saved.text
        payload = practice_payload(
            creditor_id,
            "FT-BROWSER-1",
            amounts=("840.50", "410.00"),
            tax_code=tax_code,
            due_in_days=-40,
        )
        created = await client.post("/practices", json=payload)
        assert created.status_code == 201, created.text
        link = await letter_link(client, created.json()["id"])
    assert link.startswith(f"{url}/d/")

    context = await browser.new_context(
        locale="it-IT", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        response = await page.goto(link)
        assert response is not None and response.status == 200
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        assert response.headers["referrer-policy"] == "no-referrer"
        await expect(page.get_by_test_id("creditor")).to_have_text("Forniture Lombarde S.r.l.")
        await expect(page.get_by_test_id("amount-due")).to_contain_text("€")
        await expect(page.get_by_text("Mario Rossi")).to_have_count(0)
        await expect(page.get_by_text("FT-2026-101")).to_have_count(0)
        assert await axe_violations(page) == []
        await screenshot(page, "debtor-link")

        await page.get_by_label("Il suo codice fiscale o partita IVA").fill(tax_code.lower())
        await page.get_by_role("button", name="Continua").first.click()
        await page.wait_for_url(re.compile(r"/d/me$"))
        await expect(page.get_by_role("heading", level=1)).to_contain_text(
            "La sua posizione con Forniture Lombarde S.r.l."
        )
        await expect(page.get_by_test_id("amount-due")).to_contain_text("€")
        await expect(page.get_by_test_id("invoice")).to_have_count(2)
        await expect(page.get_by_text("FT-2026-101")).to_be_visible()
        await expect(page.get_by_test_id("statement-pdf")).to_be_visible()
        assert await axe_violations(page) == []
        await screenshot(page, "debtor-page")

        # in English, from the switch
        await page.get_by_role("link", name="English").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Your position with")
        assert await axe_violations(page) == []
    finally:
        await context.close()
