"""The debtor's own actions in Chromium at a phone's size (390x844), against the real stack,
each practice reached from the link printed on its first letter (tests/browser/
test_debtor_page.py): a plan inside the creditor's bounds that starts with its schedule; one
outside them that waits for the creditor by a date; a dispute with a PDF; a wrong second step
locked after the allowed attempts; an expired and a revoked link. axe-core on every page; the
forms are filled through their labels, one sent from the keyboard."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from api.services import debtor_links
from db.models import DebtorLink
from db.session import Database
from tests.api.helpers import fast_strategy, practice_payload, rome_today, unique_tax_code
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_creditor_portal import new_creditor
from tests.browser.test_debtor_page import letter_link
from tests.system.harness import Stack, free_port
from tests.test_evidence import tiny_pdf


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # the worker makes the letters' links with the public address: here, the API's own
    port = free_port()
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("debtor-actions"),
        api_port=port,
        extra_env={"RECUPERO_PUBLIC_URL": f"http://127.0.0.1:{port}"},
    )
    with stack.running():
        yield stack


@pytest.fixture(scope="module")
async def admin(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    url = f"http://127.0.0.1:{stack.api_port}"
    async with httpx.AsyncClient(base_url=url, headers=stack.admin, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def creditor_id(admin: httpx.AsyncClient) -> str:
    creditor = await new_creditor(admin, "Forniture Lombarde S.r.l.")
    # the first letter in seconds, then an hour before the next step: one link per practice
    strategy = fast_strategy()
    for step in strategy["steps"]:
        if step["step"] not in ("pre_due_reminders", "contact_check"):
            step["wait_after"] = "PT1H"
    saved = await admin.put(f"/creditors/{creditor}/strategy", json=strategy)
    assert saved.status_code == 200, saved.text
    return creditor


async def practice_and_link(admin: httpx.AsyncClient, creditor_id: str) -> tuple[str, str, str]:
    """A practice of its own debtor: its id, its letter's link and the debtor's tax code."""
    tax_code = unique_tax_code()
    payload = practice_payload(
        creditor_id, amounts=("840.50", "410.00"), tax_code=tax_code, due_in_days=-40
    )
    created = await admin.post("/practices", json=payload)
    assert created.status_code == 201, created.text
    practice_id = created.json()["id"]
    return practice_id, await letter_link(admin, practice_id), tax_code


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        locale="it-IT", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    yield context
    await context.close()


async def signed_in(phone: BrowserContext, link: str, tax_code: str) -> Page:
    page = await phone.new_page()
    await page.goto(link)
    await page.get_by_label("Il suo codice fiscale o partita IVA").fill(tax_code)
    await page.get_by_role("button", name="Continua").first.click()
    await page.wait_for_url(re.compile(r"/d/me$"))
    assert await axe_violations(page) == []
    return page


async def practice(admin: httpx.AsyncClient, practice_id: str) -> dict[str, Any]:
    response = await admin.get(f"/practices/{practice_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_plan_inside_the_bounds_starts_with_its_schedule(
    admin: httpx.AsyncClient, creditor_id: str, phone: BrowserContext
) -> None:
    practice_id, link, tax_code = await practice_and_link(admin, creditor_id)
    page = await signed_in(phone, link, tax_code)
    # the creditor's bounds in plain words, before choosing
    await expect(
        page.get_by_text("Il creditore accetta subito fino a 12 rate mensili")
    ).to_be_visible()
    await page.get_by_label("Un piano a rate mensili").check()
    await page.get_by_label("Numero di rate mensili").fill("3")
    first = rome_today() + timedelta(days=7)
    await page.get_by_label("Data della prima rata").fill(first.isoformat())
    await screenshot(page, "debtor-propose")
    # sent from the keyboard: Enter in the form's last field of the plan
    await page.get_by_label("Data della prima rata").press("Enter")
    await expect(page.get_by_test_id("proposal-started")).to_be_visible()
    await expect(page.get_by_role("heading", name="Il suo piano di rientro")).to_be_visible()
    await expect(page.locator("#plan-title ~ table tbody tr")).to_have_count(3)
    assert await axe_violations(page) == []
    plan = (await practice(admin, practice_id))["plan"]
    assert plan["state"] == "active" and len(plan["instalments"]) == 3


async def test_a_settlement_outside_the_bounds_waits_for_the_creditor(
    admin: httpx.AsyncClient, creditor_id: str, phone: BrowserContext
) -> None:
    practice_id, link, tax_code = await practice_and_link(admin, creditor_id)
    page = await signed_in(phone, link, tax_code)
    await page.get_by_label("Un saldo e stralcio: un importo minore pagato in una volta").check()
    # first a wrong amount: the message next to the field, in Italian
    await page.get_by_label("Importo che offre (euro)").fill("molto poco")
    await page.get_by_label("Lo pagherà entro il").fill(
        (rome_today() + timedelta(days=5)).isoformat()
    )
    await page.get_by_role("button", name="Invia la proposta").click()
    await expect(page.locator("#amount-error")).to_contain_text("Inserisca un importo in euro")
    await expect(page.get_by_label("Importo che offre (euro)")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert await axe_violations(page) == []
    await page.get_by_label("Un saldo e stralcio: un importo minore pagato in una volta").check()
    await page.get_by_label("Importo che offre (euro)").fill("600,00")
    await page.get_by_label("Lo pagherà entro il").fill(
        (rome_today() + timedelta(days=5)).isoformat()
    )
    await page.get_by_role("button", name="Invia la proposta").click()
    waiting = page.get_by_test_id("proposal-waiting")
    await expect(waiting).to_contain_text("risponderà entro il")
    await expect(waiting).to_contain_text(str(rome_today().year))
    assert await axe_violations(page) == []
    # in the creditor's decisions
    listed = await admin.get("/practices", params={"status": "paused_proposal"})
    assert listed.status_code == 200, listed.text
    assert practice_id in [p["id"] for p in listed.json()["items"]]
    assert (await practice(admin, practice_id))["plan"]["state"] == "awaiting_approval"


async def test_a_dispute_with_a_pdf_stores_it_and_stops_contact(
    admin: httpx.AsyncClient, creditor_id: str, phone: BrowserContext
) -> None:
    practice_id, link, tax_code = await practice_and_link(admin, creditor_id)
    page = await signed_in(phone, link, tax_code)
    await page.get_by_label("Perché lo contesta?").fill("La fattura FT-2026-101 è già pagata.")
    await page.get_by_label(re.compile("Documenti \\(facoltativi\\)")).set_input_files(
        [{"name": "ricevuta.pdf", "mimeType": "application/pdf", "buffer": tiny_pdf()}]
    )
    await page.get_by_role("button", name="Invia la contestazione").click()
    await expect(page.get_by_test_id("disputed")).to_contain_text("Non la contatteremo")
    assert await axe_violations(page) == []
    assert (await practice(admin, practice_id))["status"] == "paused_dispute"
    documents = (await admin.get(f"/practices/{practice_id}/documents")).json()
    assert "ricevuta.pdf" in [d["filename"] for d in documents if d["kind"] == "dispute_evidence"]


async def test_a_wrong_second_step_locks_the_link_and_says_until_when(
    admin: httpx.AsyncClient, creditor_id: str, phone: BrowserContext
) -> None:
    _, link, tax_code = await practice_and_link(admin, creditor_id)
    page = await phone.new_page()
    await page.goto(link)
    for _ in range(debtor_links.MAX_FAILURES):
        await page.get_by_label("Il suo codice fiscale o partita IVA").fill("RSSMRA80A01H501U")
        await page.get_by_role("button", name="Continua").first.click()
    await expect(page.get_by_test_id("locked")).to_contain_text("bloccato fino")
    assert await axe_violations(page) == []
    # the right answer is no use now: no field to give it
    await page.goto(link)
    await expect(page.get_by_test_id("locked")).to_be_visible()
    await expect(page.get_by_label("Il suo codice fiscale o partita IVA")).to_have_count(0)
    assert tax_code not in await page.content()


async def test_an_expired_and_a_revoked_link_do_not_open(
    stack: Stack, admin: httpx.AsyncClient, creditor_id: str, phone: BrowserContext
) -> None:
    revoked_id, revoked_link, _ = await practice_and_link(admin, creditor_id)
    expired_id, expired_link, _ = await practice_and_link(admin, creditor_id)
    answer = await admin.post(f"/practices/{revoked_id}/debtor-links/revoke")
    assert answer.status_code == 200, answer.text
    db = Database(stack.database_url)
    try:
        async with db.session() as session:
            await session.execute(
                update(DebtorLink)
                .where(DebtorLink.practice_id == expired_id)
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
            await session.commit()
    finally:
        await db.engine.dispose()
    page = await phone.new_page()
    for link in (revoked_link, expired_link):
        response = await page.goto(link)
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Questo collegamento non funziona"
        )
        await expect(page.get_by_label("Il suo codice fiscale o partita IVA")).to_have_count(0)
        assert await axe_violations(page) == []
