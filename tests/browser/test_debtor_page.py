"""The debtor's page in Chromium at a phone's size (390x844): a practice handed over through the
API, its link, the page the link alone shows (the creditor and the amount, nothing else), the
second step with the codice fiscale, the page with the amount and the invoices; axe-core on
each page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from playwright.async_api import Browser, expect

from api.services import debtor_links
from db.models import Practice
from db.session import Database
from tests.api.helpers import practice_payload, unique_tax_code
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_creditor_portal import new_creditor
from tests.system.harness import Stack


async def test_a_debtor_opens_the_link_passes_the_second_step_and_sees_what_is_due(
    stack: Stack, browser: Browser
) -> None:
    url = f"http://127.0.0.1:{stack.api_port}"
    tax_code = unique_tax_code()
    async with httpx.AsyncClient(base_url=url, headers=stack.admin, timeout=30) as client:
        creditor_id = await new_creditor(client, "Forniture Lombarde S.r.l.")
        payload = practice_payload(
            creditor_id, "FT-BROWSER-1", amounts=("840.50", "410.00"), tax_code=tax_code
        )
        created = await client.post("/practices", json=payload)
        assert created.status_code == 201, created.text
        practice_id = created.json()["id"]
    # the link as a letter carries it (issued in the activity; read here from the database)
    db = Database(stack.database_url)
    try:
        async with db.session() as session:
            practice = await session.get(Practice, practice_id)
            assert practice is not None
            _, token = await debtor_links.issue(session, practice, datetime.now(UTC))
    finally:
        await db.dispose()

    context = await browser.new_context(
        locale="it-IT", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        response = await page.goto(f"{url}/d/{token}")
        assert response is not None and response.status == 200
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        await expect(page.get_by_test_id("creditor")).to_have_text("Forniture Lombarde S.r.l.")
        await expect(page.get_by_test_id("amount-due")).to_contain_text("1.250,50")
        await expect(page.get_by_text("Mario Rossi")).to_have_count(0)
        await expect(page.get_by_text("FT-2026-101")).to_have_count(0)
        assert await axe_violations(page) == []

        await page.get_by_label("Il suo codice fiscale o partita IVA").fill(tax_code.lower())
        await page.get_by_role("button", name="Continua").first.click()
        await page.wait_for_url(re.compile(r"/d/me$"))
        await expect(page.get_by_role("heading", level=1)).to_contain_text(
            "La sua posizione con Forniture Lombarde S.r.l."
        )
        await expect(page.get_by_test_id("amount-due")).to_contain_text("1.250,50")
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
