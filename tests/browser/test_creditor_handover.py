"""The hand-over in Chromium: a creditor hands over one practice with the form, by keyboard
(every field found by its label, Enter sends it), then uploads a CSV with a bad line, sees its
line and column, uploads the corrected file and watches the progress bar reach the end; axe-core
on every new page."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import httpx
from playwright.async_api import Browser, Page, expect

from api.csv_import import COLUMNS
from tests.api.helpers import rome_today, unique_tax_code
from tests.browser.conftest import Console, axe_violations, screenshot
from tests.browser.test_creditor_portal import creditor_user, new_creditor


def _csv_line(creditor_id: str, reference: str, tax_code: str, number: str, **changes: str) -> str:
    values = {
        "creditor_id": creditor_id,
        "reference": reference,
        "debtor_kind": "consumer",
        "debtor_name": "Lucia Bianchi",
        "tax_code": tax_code,
        "vat_number": "",
        "email": "lucia.bianchi@example.it",
        "phone": "",
        "pec": "",
        "street": "Via Dante 3",
        "city": "Torino",
        "postal_code": "10121",
        "province": "TO",
        "country": "IT",
        "invoice_number": number,
        "issue_date": (rome_today() - timedelta(days=20)).isoformat(),
        "due_date": (rome_today() + timedelta(days=40)).isoformat(),
        "amount": "300.00",
    }
    values.update(changes)
    return ",".join(values[c] for c in COLUMNS)


async def test_a_creditor_hands_over_by_form_and_by_csv(
    console: Console, page: Page, browser: Browser
) -> None:
    suffix = secrets.token_hex(3).upper()
    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        ours = await new_creditor(api, f"Ferramenta Piemonte {suffix} S.r.l.")
    await creditor_user(browser, console, page, ours)

    # one practice by form, from the menu's entry, with the keyboard
    await page.get_by_role("link", name="Affida", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Affida una pratica")
    assert await axe_violations(page) == []
    reference = f"AFF-{suffix}"
    issued = (rome_today() - timedelta(days=30)).isoformat()
    due = (rome_today() + timedelta(days=60)).isoformat()
    await page.get_by_label("Vostro riferimento").fill(reference)
    # one more invoice row, in place (HTMX), keeping what was typed
    await page.get_by_role("button", name="Aggiungete una fattura").click()
    await expect(page.get_by_label("Numero fattura, riga 4")).to_be_focused()
    await expect(page.get_by_label("Vostro riferimento")).to_have_value(reference)
    await page.get_by_label("Tipo di debitore").select_option("consumer")
    await page.get_by_label("Nome o ragione sociale").fill("Mario Rossi")
    await page.get_by_label("Codice fiscale").fill(unique_tax_code())
    await page.get_by_label("E-mail", exact=True).fill("mario.rossi@example.it")
    await page.get_by_label("Via e numero civico").fill("Via Roma 1")
    await page.get_by_label("Comune").fill("Milano")
    await page.get_by_label("CAP").fill("20121")
    await page.get_by_label("Provincia (es. MI)").fill("MI")
    await page.get_by_label("Numero fattura, riga 1").fill("FT-1")
    await page.get_by_label("Data di emissione, riga 1").fill(issued)
    await page.get_by_label("Scadenza, riga 1").fill(due)
    amount = page.get_by_label("Importo in euro, riga 1")
    await amount.fill("1.250,40")
    await screenshot(page, "creditor-handover")
    await amount.press("Enter")  # the form's one submit button: the hand-over
    await expect(page).to_have_url(re.compile(r"/console/practices/[0-9a-f]{32}$"))
    await expect(page.get_by_text(reference).first).to_be_visible()
    await expect(page.get_by_text("1.250,40\xa0€").first).to_be_visible()

    # many by CSV: a bad line is shown with its line and column, nothing started
    await page.get_by_role("link", name="Affida", exact=True).click()
    await page.get_by_role("link", name="Affida più pratiche da un file CSV").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Affidamento da file CSV")
    assert await axe_violations(page) == []
    header = ",".join(COLUMNS)
    good = [_csv_line(ours, f"CSV-{suffix}-{n}", unique_tax_code(), "FT-1") for n in range(1, 4)]
    bad = list(good)
    bad[1] = _csv_line(ours, f"CSV-{suffix}-2", unique_tax_code(), "FT-1", postal_code="101")
    file = page.get_by_label("File CSV (al massimo 5 MB)")
    await file.set_input_files(
        files=[
            {
                "name": "pratiche.csv",
                "mimeType": "text/csv",
                "buffer": ("\n".join([header, *bad]) + "\n").encode(),
            }
        ]
    )
    await page.get_by_role("button", name="Controlla e affida").click()
    await expect(
        page.get_by_role("heading", name="1 errore: nessuna pratica è stata affidata")
    ).to_be_visible()
    row = page.get_by_role("row").filter(has_text="postal_code")
    await expect(row.get_by_role("cell").nth(0)).to_have_text("3")
    await expect(row.get_by_role("cell").nth(1)).to_have_text("postal_code")
    assert await axe_violations(page) == []
    await screenshot(page, "creditor-import-errors")

    # corrected: the progress bar runs to the end
    await page.get_by_label("File CSV (al massimo 5 MB)").set_input_files(
        files=[
            {
                "name": "pratiche.csv",
                "mimeType": "text/csv",
                "buffer": ("\n".join([header, *good]) + "\n").encode(),
            }
        ]
    )
    await page.get_by_role("button", name="Controlla e affida").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Affidamento da file CSV")
    await expect(page.get_by_text("3 di 3 pratiche")).to_be_visible(timeout=20_000)
    await expect(page.locator("progress")).to_have_attribute("value", "3")
    await expect(
        page.get_by_text("Fatto: 3 avviate, 0 già affidate, 0 non riuscite.")
    ).to_be_visible()
    assert await axe_violations(page) == []
    await screenshot(page, "creditor-import-progress")
    await page.get_by_role("link", name="Vedi le pratiche affidate oggi").click()
    await expect(page.get_by_role("heading", name="4 pratiche")).to_be_visible()
