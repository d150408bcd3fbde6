"""The creditor's portal in Chromium: a creditor invited by the admin logs in, finds the
practices handed over through the API in its portfolio, filters them, opens one, records a
payment received directly, exports the list as CSV; another creditor's practice is the 403
page; axe-core on every page."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import secrets
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Browser, Page, expect

from tests.api.helpers import practice_payload, vat_number
from tests.api.test_paths import only
from tests.browser.conftest import (
    Console,
    accept_invitation,
    axe_violations,
    log_in,
    new_context,
    screenshot,
)


async def new_creditor(client: httpx.AsyncClient, name: str) -> str:
    created = await client.post(
        "/creditors",
        json={
            "name": name,
            "vat_number": vat_number(),
            "iban": "IT60X0542811101000000123456",
            "email": "amministrazione@example.it",
        },
    )
    assert created.status_code == 201, created.text
    creditor_id: str = created.json()["id"]
    return creditor_id


async def hand_over(
    client: httpx.AsyncClient, creditor_id: str, reference: str, amount: str
) -> str:
    payload = practice_payload(creditor_id, reference, amounts=(amount,))
    created = await client.post("/practices", json=payload)
    assert created.status_code == 201, created.text
    practice_id: str = created.json()["id"]
    return practice_id


async def invite_creditor(page: Page, console: Console, creditor_id: str, email: str) -> str:
    """As the logged-in admin: a creditor user of that creditor; the one-time link."""
    await page.goto(console.page_url("/console/admin/users"))
    await page.get_by_label("Nome", exact=True).fill("Carla Creditrice")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Ruolo", exact=True).select_option("creditor")
    await page.get_by_label("Creditore (solo per gli utenti creditori)").select_option(creditor_id)
    await page.get_by_role("button", name="Invita", exact=True).click()
    return (await page.locator("#invitation-link").inner_text()).strip()


async def creditor_user(browser: Browser, console: Console, page: Page, creditor_id: str) -> None:
    """A user of that creditor, invited by the admin, who accepts and logs in on `page`."""
    email = f"creditore-{secrets.token_hex(4)}@example.it"
    password = "pw-" + secrets.token_urlsafe(12)
    admin = await new_context(browser)
    try:
        admin_page = await admin.new_page()
        await log_in(admin_page, console, console.admin_email, console.admin_password)
        link = await invite_creditor(admin_page, console, creditor_id, email)
    finally:
        await admin.close()
    await accept_invitation(page, link, password, None)
    await log_in(page, console, email, password)


async def test_a_creditor_follows_its_practices_and_records_a_direct_payment(
    console: Console, page: Page, browser: Browser
) -> None:
    suffix = secrets.token_hex(3).upper()
    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        ours = await new_creditor(api, f"Forniture Lombarde {suffix} S.r.l.")
        theirs = await new_creditor(api, f"Altro Creditore {suffix} S.p.A.")
        large_ref, small_ref = f"FT-{suffix}-1", f"FT-{suffix}-2"
        large = await hand_over(api, ours, large_ref, "1250.40")
        await hand_over(api, ours, small_ref, "90.00")
        foreign = await hand_over(api, theirs, f"FT-{suffix}-X", "500.00")

    # the creditor lands on its portfolio: its two practices, not the other creditor's
    await creditor_user(browser, console, page, ours)
    await expect(page).to_have_url(console.page_url("/console/creditor/practices"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pratiche")
    await expect(page.get_by_role("heading", name="2 pratiche")).to_be_visible()
    rows = page.get_by_role("row")
    await expect(rows.filter(has_text=large_ref)).to_contain_text("1.250,40\xa0€")
    await expect(rows.filter(has_text=small_ref)).to_contain_text("90,00\xa0€")
    await expect(page.get_by_text(f"FT-{suffix}-X")).to_have_count(0)
    assert await axe_violations(page) == []
    await screenshot(page, "creditor-portfolio")

    # filtered by amount: only the large one
    await page.get_by_label("Importo da (euro)").fill("500")
    await page.get_by_label("Tipo di debitore").select_option("consumer")
    await page.get_by_role("button", name="Filtra").click()
    await expect(page.get_by_role("heading", name="1 pratica")).to_be_visible()
    await expect(page.get_by_role("link", name=small_ref)).to_have_count(0)
    assert await axe_violations(page) == []

    # the CSV of the filtered list
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Esporta CSV").click()
    download = await downloading.value
    text = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    exported = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert exported[0][0] == "Riferimento" and [r[0] for r in exported[1:]] == [large_ref]
    assert exported[1][7] == "1250,40"

    # the practice's page, and a payment received directly
    await page.get_by_role("link", name=large_ref).click()
    await expect(page).to_have_url(console.page_url(f"/console/practices/{large}"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Pratica {large_ref}")
    assert await axe_violations(page) == []
    today = datetime.now(ZoneInfo("Europe/Rome")).date().isoformat()
    await page.get_by_label("Importo in euro").fill("250 euro")
    await page.get_by_label("Pagato il").fill(today)
    await page.get_by_label("Riferimento bancario (CRO/TRN) o numero di ricevuta").fill("CRO 42")
    await page.get_by_role("button", name="Registra il pagamento").click()
    # not an amount: the API's message, next to the field
    await expect(page.locator("#amount-error")).to_be_visible()
    assert await axe_violations(page) == []
    # written the Italian way, with a decimal comma
    await page.get_by_label("Importo in euro").fill("250,40")
    await page.get_by_role("button", name="Registra il pagamento").click()
    await expect(page.get_by_role("status")).to_have_text("Pagamento registrato.")
    facts = page.locator("dl.facts")
    await expect(facts).to_contain_text("1.000,00\xa0€")
    await expect(facts).to_contain_text("250,40\xa0€")
    assert await axe_violations(page) == []

    # the decisions page (nothing waits yet)
    await page.get_by_role("link", name="Decisioni").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Decisioni che vi aspettano")
    assert await axe_violations(page) == []

    # another creditor's practice: the 403 page, which names nothing of it
    response = await page.goto(console.page_url(f"/console/practices/{foreign}"))
    assert response is not None and response.status == 403
    await expect(page.get_by_text(re.compile(f"FT-{suffix}-X"))).to_have_count(0)
    assert await axe_violations(page) == []


async def test_a_creditor_authorises_legal_action_from_its_decisions(
    console: Console, page: Page, browser: Browser
) -> None:
    suffix = secrets.token_hex(3).upper()
    strategy = only(
        "contact_check", authorization_timeout="PT600S", authorization_reminder_interval="PT300S"
    )
    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        creditor_id = await new_creditor(api, f"Legale Lombarda {suffix} S.r.l.")
        saved = await api.put(f"/creditors/{creditor_id}/strategy", json=strategy)
        assert saved.status_code == 200, saved.text
        reference = f"AUT-{suffix}"
        payload = practice_payload(creditor_id, reference, due_in_days=-90)
        created = await api.post("/practices", json=payload)
        assert created.status_code == 201, created.text
        practice_id = created.json()["id"]

    await creditor_user(browser, console, page, creditor_id)
    await page.get_by_role("link", name="Decisioni").click()
    task = page.locator("form.task").filter(has_text=reference)
    for _ in range(60):  # the workflow reaches the authorisation step within seconds
        if await task.count():
            break
        await asyncio.sleep(1)
        await page.reload()
    await expect(task).to_contain_text("1.250,40\xa0€")
    assert await axe_violations(page) == []
    await task.get_by_label("Nota (facoltativa)").fill("procedete")
    await task.get_by_role("button", name="Autorizza l'azione legale").click()
    await expect(page.get_by_role("status")).to_have_text(
        "La vostra decisione sull'azione legale è registrata."
    )
    await expect(page.locator("form.task").filter(has_text=reference)).to_have_count(0)

    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        notes = (await api.get(f"/practices/{practice_id}/notes")).json()
    assert [(n["kind"], n["text"]) for n in notes] == [("legal_authorization", "procedete")]
    await page.goto(console.page_url(f"/console/practices/{practice_id}"))
    await expect(page.locator(".notes")).to_contain_text("procedete")
    assert await axe_violations(page) == []
