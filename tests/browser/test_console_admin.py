"""The admin's pages in Chromium: registering a creditor, editing its strategy (a bad value shown
next to its field, then fixed), the path preview, adding a rate, the outbox and the print batch;
axe-core on each page."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import httpx
from babel.dates import format_date
from playwright.async_api import Page, expect

from domain.calendar import rome_date
from tests.api.helpers import practice_payload, vat_number
from tests.browser.conftest import SCREENSHOTS, Console, axe_violations, log_in


async def test_admin_registers_a_creditor_edits_its_strategy_and_previews_the_path(
    console: Console, page: Page
) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.get_by_role("link", name="Mandanti").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mandanti")
    assert await axe_violations(page) == []

    # a bad IBAN first: the API's message next to it
    vat = vat_number()
    await page.get_by_label("Nome", exact=True).fill("Ferramenta Bianchi S.p.A.")
    await page.get_by_label("Partita IVA", exact=True).fill(vat)
    await page.get_by_label("IBAN", exact=True).fill("IT00X0000000000000000000000")
    await page.get_by_role("button", name="Registra").click()
    await expect(page.locator("#iban-error")).not_to_be_empty()
    await expect(page.get_by_label("IBAN", exact=True)).to_have_attribute("aria-invalid", "true")
    assert await axe_violations(page) == []
    await page.get_by_label("IBAN", exact=True).fill("IT60X0542811101000000123456")
    await page.get_by_role("button", name="Registra").click()
    await expect(page.get_by_role("status")).to_contain_text("Ferramenta Bianchi S.p.A.")
    row = page.get_by_role("row").filter(has_text="Ferramenta Bianchi S.p.A.")
    await expect(row).to_contain_text(vat)

    # its strategy: a demand term the API refuses, shown next to its field, nothing saved
    await page.get_by_role("link", name="Impostate la sua strategia").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Strategia di Ferramenta Bianchi S.p.A."
    )
    assert await axe_violations(page) == []
    term = page.get_by_label("Termine di pagamento della diffida")
    await term.fill("P400D")
    await page.get_by_role("button", name="Salva come nuova versione").click()
    await expect(page.locator("#demand_term-error")).to_have_text(
        "must be longer than zero and at most 365 days"
    )
    await expect(term).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("alert")).to_contain_text("Nulla è stato salvato")
    assert await axe_violations(page) == []

    # fixed: saved as version 1, and the path of the saved strategy with today's date
    await term.fill("P20D")
    await page.get_by_label("Tentativi di chiamata (1-20)").fill("2")
    await page.get_by_role("button", name="Salva come nuova versione").click()
    await expect(page.get_by_role("status")).to_have_text("Salvata come versione 1.")
    await expect(page.get_by_label("Termine di pagamento della diffida")).to_have_value("P20D")
    path = page.locator("#strategy-path tbody tr")
    today = rome_date(datetime.now(UTC))
    await expect(path.first).to_contain_text(format_date(today, "medium", locale="it"))
    await expect(page.locator("#strategy-path")).to_contain_text("chiamata 2")
    await expect(page.locator("#strategy-path")).not_to_contain_text("chiamata 3")
    versions = page.get_by_role("row").filter(has_text="(attuale)")
    await expect(versions).to_contain_text("P20D")
    assert await axe_violations(page) == []
    if os.environ.get("RECUPERO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "admin-strategy.png"), full_page=True)

    # a preview of a change, not saved
    await page.get_by_label("Tentativi di chiamata (1-20)").fill("3")
    await page.get_by_role("button", name="Anteprima del percorso").click()
    await expect(
        page.get_by_role("heading", name="Percorso di questa strategia (non salvata)")
    ).to_be_visible()
    await expect(page.locator("#strategy-path")).to_contain_text("chiamata 3")
    await page.goto(page.url.replace("/preview", ""))
    await expect(page.get_by_label("Tentativi di chiamata (1-20)")).to_have_value("2")


async def test_admin_adds_a_half_year_rate_and_sees_the_outbox_and_print_batch(
    console: Console, page: Page
) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.get_by_role("link", name="Tassi").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tassi di interesse")
    assert await axe_violations(page) == []
    await page.get_by_label("Tipo").select_option("late_payment_231")
    await page.get_by_label("Primo giorno").fill("2072-01-01")
    await page.get_by_label("Ultimo giorno").fill("2072-06-30")
    await page.get_by_label("Tasso, percentuale annua (es. 10.15)").fill("10.15")
    # the source is required by POST /rates: refused without it, next to it
    await page.get_by_label("Fonte: l'atto nella Gazzetta Ufficiale").fill("")
    await page.get_by_role("button", name="Aggiungi il tasso").click()
    await expect(page.locator("#source-error")).not_to_be_empty()
    assert await axe_violations(page) == []
    await page.get_by_label("Fonte: l'atto nella Gazzetta Ufficiale").fill(
        "Comunicato MEF, GU n. 20 del 25-01-2072"
    )
    await page.get_by_role("button", name="Aggiungi il tasso").click()
    await expect(page.get_by_role("status")).to_contain_text("1 gen 2072")
    row = page.get_by_role("row").filter(has_text="Comunicato MEF, GU n. 20 del 25-01-2072")
    await expect(row).to_contain_text("10.15%")
    await expect(row).to_contain_text("l'amministratore")

    await page.get_by_role("link", name="Posta in uscita").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Posta in uscita")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="Mostra le lettere da spedire").click()
    await expect(page).to_have_url(re.compile(r"/console/admin/print-batches/\d{4}-\d{2}-\d{2}$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Lotto di stampa del")
    assert await axe_violations(page) == []


async def test_admin_reads_the_access_log_and_requests_and_shortens_a_retention(
    console: Console, page: Page
) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.get_by_role("link", name="Registro degli accessi").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Registro degli accessi")
    assert await axe_violations(page) == []
    await page.get_by_label("Dal", exact=True).fill("2030-01-02")
    await page.get_by_label("Al", exact=True).fill("2030-01-01")
    await page.get_by_role("button", name="Filtra").click()
    await expect(page.locator("#to-error")).not_to_be_empty()
    await expect(page.get_by_label("Al", exact=True)).to_have_attribute("aria-invalid", "true")
    assert await axe_violations(page) == []

    await page.get_by_role("link", name="Richieste di cancellazione").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Richieste di cancellazione")
    assert await axe_violations(page) == []

    await page.get_by_role("link", name="Mandanti").click()
    await page.get_by_label("Nome", exact=True).fill("Conservazione Breve S.r.l.")
    await page.get_by_label("Partita IVA", exact=True).fill(vat_number())
    await page.get_by_label("IBAN", exact=True).fill("IT60X0542811101000000123456")
    await page.get_by_role("button", name="Registra").click()
    await page.get_by_role(
        "link", name="Conservazione dei dati personali: Conservazione Breve S.r.l."
    ).click()
    days = page.get_by_label("Giorni di conservazione dopo la chiusura")
    await expect(days).to_have_value("3653")
    assert await axe_violations(page) == []
    await days.fill("4000")
    await page.get_by_role("button", name="Salva").click()
    await expect(page.locator("#retention_days-error")).not_to_be_empty()
    await expect(days).to_have_attribute("aria-invalid", "true")
    assert await axe_violations(page) == []
    await days.fill("1826")
    await page.get_by_role("button", name="Salva").click()
    await expect(page.get_by_role("status")).to_have_text("Il periodo di conservazione è salvato.")
    await expect(days).to_have_value("1826")


async def test_admin_records_a_debtors_erasure_request_on_the_practice_page(
    console: Console, page: Page
) -> None:
    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        created = await api.post(
            "/creditors",
            json={
                "name": "Cancellazioni S.r.l.",
                "vat_number": vat_number(),
                "iban": "IT60X0542811101000000123456",
            },
        )
        assert created.status_code == 201, created.text
        practice = await api.post("/practices", json=practice_payload(created.json()["id"]))
        assert practice.status_code == 201, practice.text
        pid = practice.json()["id"]
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.goto(console.page_url(f"/console/practices/{pid}"))
    section = page.get_by_role("region", name="Richieste di cancellazione (art. 17 GDPR)")
    await expect(section).to_be_visible()
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="Registra la richiesta").click()
    await expect(page.get_by_role("status")).to_contain_text("La richiesta di cancellazione")
    # open: refused, and the page says why
    await expect(section).to_contain_text("Respinta")
    await expect(section).to_contain_text("17(3)(e)")
    assert await axe_violations(page) == []
    await page.get_by_role("link", name="Registro degli accessi").click()
    await page.get_by_label("Id della pratica").fill(pid)
    await page.get_by_role("button", name="Filtra").click()
    await expect(page.locator("tbody tr")).to_have_count(2)  # the page, before and after
    await expect(page.locator("tbody")).to_contain_text("Pagina della pratica")
    assert await axe_violations(page) == []
