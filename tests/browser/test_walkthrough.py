"""The README's walk-through ("Walk-through in the console"), done by clicking: the admin
registers a creditor and gives it a strategy of seconds-long waits, invites the creditor's user
and an operator; the creditor hands a practice over by form; the reminder letter goes out; the
operator takes the call and records a promise; the creditor records the payments and the
practice closes as paid, every action on its timeline with who took it.

The API runs with its clock inside the contact hours (tests/browser/api_in_contact_hours.py):
the operator's queue follows the contact rules, and CI runs at night and on Sundays too."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.api.helpers import in_contact_hours, rome_today, vat_number
from tests.browser.conftest import (
    MAX_FAILURES,
    Console,
    accept_invitation,
    axe_violations,
    log_in,
    new_context,
    screenshot,
)
from tests.system.harness import Stack

# the steps this walk-through keeps (the authorisation cannot be switched off; it is never
# reached here)
KEPT_STEPS = ("Lettera di sollecito", "Telefonate", "Autorizzazione del mandante")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("walkthrough"),
        extra_env={"RECUPERO_LOGIN_MAX_FAILURES": str(MAX_FAILURES)},
        api_module="tests.browser.api_in_contact_hours",
    )
    with stack.running():
        yield stack


async def reload_until(page: Page, locator: Locator, what: str, seconds: int = 60) -> None:
    """Reloads the page until `locator` is there: the workflow moves on its own clock."""
    for _ in range(seconds):
        if await locator.count():
            return
        await asyncio.sleep(1)
        await page.reload()
    raise AssertionError(f"{what}: not there after {seconds} s")


async def invited(
    admin: Page, browser: Browser, console: Console, name: str, role: str, creditor: str | None
) -> tuple[BrowserContext, Page]:
    """The admin invites `name` on the Users page; the person opens the link in a browser of
    their own, sets a password and logs in: their context and page."""
    email = f"{role}-{secrets.token_hex(4)}@example.it"
    password = "pw-" + secrets.token_urlsafe(12)
    await admin.get_by_role("link", name="Utenti").click()
    await admin.get_by_label("Nome", exact=True).fill(name)
    await admin.get_by_label("E-mail", exact=True).fill(email)
    await admin.get_by_label("Ruolo", exact=True).select_option(role)
    if creditor is not None:
        await admin.get_by_label("Creditore (solo per gli utenti creditori)").select_option(
            label=creditor
        )
    await admin.get_by_role("button", name="Invita", exact=True).click()
    link = (await admin.locator("#invitation-link").inner_text()).strip()
    context = await new_context(browser)
    page = await context.new_page()
    await accept_invitation(page, link, password, None)
    await log_in(page, console, email, password)
    return context, page


async def test_one_practice_from_hand_over_to_payment_by_clicking(
    console: Console, page: Page, browser: Browser
) -> None:
    suffix = secrets.token_hex(3).upper()
    creditor_name = f"Forniture Lombarde {suffix} S.r.l."
    reference = f"FT-ROSSI-{suffix}"

    # 1. the admin registers the creditor (mandante) ...
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.get_by_role("link", name="Mandanti").click()
    await page.get_by_label("Nome", exact=True).fill(creditor_name)
    await page.get_by_label("Partita IVA", exact=True).fill(vat_number())
    await page.get_by_label("IBAN", exact=True).fill("IT60X0542811101000000123456")
    await page.get_by_role("button", name="Registra", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text(f"{creditor_name} è registrato")

    # 2. ... with a strategy of seconds-long waits, so the walk-through moves while you watch
    await page.get_by_role("link", name="Impostate la sua strategia").click()
    for step in await page.locator("#edit-title ~ form tbody tr").all():
        name = (await step.get_by_role("rowheader").inner_text()).strip()
        enabled = step.get_by_role("checkbox")
        if name in KEPT_STEPS:
            await enabled.check()
        else:
            await enabled.uncheck()
    await page.get_by_label("Attesa dopo Lettera di sollecito").fill("PT5S")
    await page.get_by_label("Attesa dopo Telefonate").fill("PT5S")
    await page.get_by_label("Tentativi di chiamata (1-20)").fill("2")
    await page.get_by_label("Tra un tentativo di chiamata e l'altro").fill("PT5S")
    await page.get_by_label("Tempo per registrare l'esito di una chiamata").fill("PT10M")
    await page.get_by_role("button", name="Salva come nuova versione").click()
    await expect(page.get_by_role("status")).to_be_visible()
    assert await axe_violations(page) == []

    # 3. the creditor's user and an operator, invited by the admin
    creditor_context, creditor = await invited(
        page, browser, console, "Carla Creditrice", "creditor", creditor_name
    )
    operator_context, operator = await invited(
        page, browser, console, "Olga Operatrice", "operator", None
    )
    try:
        # 4. the creditor hands the practice over by form: its workflow starts at once
        await creditor.get_by_role("link", name="Affida", exact=True).click()
        await creditor.get_by_label("Vostro riferimento").fill(reference)
        await creditor.get_by_label("Tipo di debitore").select_option("consumer")
        await creditor.get_by_label("Nome o ragione sociale").fill("Mario Rossi")
        await creditor.get_by_label("Codice fiscale").fill("RSSMRA85T10A562S")
        await creditor.get_by_label("E-mail", exact=True).fill("mario.rossi@example.it")
        await creditor.get_by_label("Telefono", exact=True).fill("+393331234567")
        await creditor.get_by_label("Via e numero civico").fill("Via Roma 1")
        await creditor.get_by_label("Comune").fill("Milano")
        await creditor.get_by_label("CAP").fill("20121")
        await creditor.get_by_label("Provincia (es. MI)").fill("MI")
        today = rome_today()
        await creditor.get_by_label("Numero fattura, riga 1").fill("FT-2026-101")
        await creditor.get_by_label("Data di emissione, riga 1").fill(
            (today - timedelta(days=60)).isoformat()
        )
        await creditor.get_by_label("Scadenza, riga 1").fill(
            (today - timedelta(days=30)).isoformat()
        )
        await creditor.get_by_label("Importo in euro, riga 1").fill("1.250,40")
        await creditor.get_by_role("button", name="Affida", exact=True).click()
        await expect(creditor.get_by_role("heading", level=1)).to_have_text(f"Pratica {reference}")
        practice_url = creditor.url
        facts = creditor.locator("dl.facts").first
        await expect(facts).to_contain_text("1.250,40\xa0€")
        assert await axe_violations(creditor) == []

        # 5. a moment later the reminder letter went out: its PDF on the practice's page
        letters = creditor.locator("section[aria-labelledby=documents-title] a")
        await reload_until(creditor, letters, "the reminder letter")

        # 6. the call is on the operator's queue (it refreshes itself); the operator takes it,
        # dials the number shown, and records a promise to pay part of it in ten days
        await operator.get_by_role("link", name="Chiamate").click()
        take = operator.get_by_role("button", name=f"Prendi la chiamata della pratica {reference}")
        await expect(take).to_be_visible(timeout=60_000)
        assert await axe_violations(operator) == []
        await take.click()
        await expect(operator.locator("#dial")).to_have_text("+393331234567")
        await screenshot(operator, "operator-calls")
        promised = (in_contact_hours().date() + timedelta(days=10)).isoformat()
        await operator.get_by_label("Esito").select_option("promise")
        await operator.get_by_label("Data promessa (solo promessa)").fill(promised)
        await operator.get_by_label("Importo promesso in euro (solo promessa)").fill("250,40")
        await operator.get_by_label("Nota", exact=True).fill("paga la prima parte a fine mese")
        await operator.get_by_role("button", name="Registra l'esito").click()
        await expect(operator.get_by_role("status")).to_have_text("Esito registrato.")
        assert await axe_violations(operator) == []

        # the creditor sees the promise on the practice
        await creditor.goto(practice_url)
        await reload_until(
            creditor, creditor.get_by_text("250,40\xa0€ ·"), "the promise on the practice", 30
        )

        # 7. the promised part arrives, then the rest: the practice closes as paid
        for amount in ("250,40", "1.000,00"):
            await creditor.get_by_label("Importo in euro").fill(amount)
            await creditor.get_by_label("Pagato il").fill(today.isoformat())
            await creditor.get_by_label("Riferimento bancario (CRO/TRN) o numero di ricevuta").fill(
                f"CRO-{amount}"
            )
            await creditor.get_by_role("button", name="Registra il pagamento").click()
            await expect(creditor.get_by_role("status")).to_have_text("Pagamento registrato.")
        await reload_until(
            creditor, creditor.get_by_text(re.compile("Chiusa: Saldata")), "closed", 30
        )
        await expect(facts).to_contain_text("0,00\xa0€")

        # 8. everything it did, with who did it
        timeline = creditor.locator("section[aria-labelledby=timeline-title]")
        await expect(timeline).to_contain_text("Olga Operatrice")
        await expect(timeline).to_contain_text("Carla Creditrice")
        assert await axe_violations(creditor) == []
    finally:
        await creditor_context.close()
        await operator_context.close()
