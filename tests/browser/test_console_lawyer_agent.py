"""The lawyer's and the field agent's pages in Chromium, on a real stack of their own: a lawyer
logs in and records an opinion, a field agent records a visit outcome on a phone-sized screen
(375x812), axe-core on every page. RECUPERO_SCREENSHOTS=1 saves the README's screenshots."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.api.helpers import fast_strategy, practice_payload, rome_today, unique, vat_number
from tests.browser.conftest import (
    LOCALE,
    SCREENSHOTS,
    TIMEZONE,
    Console,
    accept_invitation,
    axe_violations,
    log_in,
    new_context,
)
from tests.browser.test_console import new_user, unique_email
from tests.system.harness import eventually

# in this stack's database the only field agent is for Belluno, so its visits are theirs
PROVINCE = "BL"
PHONE = {"width": 375, "height": 812}


def screenshots() -> bool:
    """Only when asked: a test run leaves the tree as it found it."""
    return os.environ.get("RECUPERO_SCREENSHOTS") == "1"


def only(*steps: str, **overrides: Any) -> dict[str, Any]:
    strategy = fast_strategy(**overrides)
    for setting in strategy["steps"]:
        setting["enabled"] = setting["step"] in steps or setting["step"] == "authorization"
    return strategy


async def hand_over_practice(
    console: Console, strategy: dict[str, Any], province: str
) -> tuple[str, str]:
    """A creditor with the strategy, and a practice overdue by four months: (id, reference)."""
    admin = console.stack.admin
    async with httpx.AsyncClient(base_url=console.url) as api:
        created = await api.post(
            "/creditors",
            headers=admin,
            json={
                "name": unique("Forniture Dolomiti S.r.l."),
                "vat_number": vat_number(),
                "iban": "IT60X0542811101000000123456",
            },
        )
        assert created.status_code == 201, created.text
        creditor_id = created.json()["id"]
        saved = await api.put(f"/creditors/{creditor_id}/strategy", headers=admin, json=strategy)
        assert saved.status_code == 200, saved.text
        payload = practice_payload(creditor_id, due_in_days=-120, province=province)
        practice = await api.post("/practices", headers=admin, json=payload)
        assert practice.status_code == 201, practice.text
        body: dict[str, Any] = practice.json()
        return body["id"], body["reference"]


async def task_listed(console: Console, worklist: str, reference: str) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=console.url) as api:
            listed = await api.get(
                f"/worklists/{worklist}", headers=console.stack.admin, params={"limit": 200}
            )
        return next((t for t in listed.json()["items"] if t["reference"] == reference), None)

    found: dict[str, Any] = await eventually(find, f"a {worklist} task for {reference}", 90)
    return found


async def court_step(page: Page, court: str, title: str) -> None:
    """The court page once the workflow expects the step titled `title` (its report reaches
    the page a moment after the step before was accepted)."""

    async def shown() -> bool:
        await page.goto(court)
        return await page.get_by_role("heading", name=title, exact=True).count() == 1

    await eventually(shown, f"the form {title!r}", 60, every=1.0)


async def test_a_lawyer_records_an_opinion_and_reads_the_deadlines(
    console: Console, page: Page, browser: Browser
) -> None:
    # the stack's only lawyer: the workflow assigns it the opinion
    email, password = await new_user(browser, console, "Livia Legale", "lawyer")
    pid, reference = await hand_over_practice(
        console,
        only(
            "contact_check",
            "reminder_letter",
            "legal_opinion",
            opinion_timeout="PT300S",
            authorization_timeout="PT600S",
            authorization_reminder_interval="PT300S",
        ),
        "MI",
    )
    await task_listed(console, "opinions", reference)

    await log_in(page, console, email, password)
    await expect(page).to_have_url(console.page_url("/console/lawyer/opinions"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Richieste di parere")
    assert await axe_violations(page) == []
    card = page.get_by_role("region", name=f"Pratica {reference}")
    await expect(card).to_contain_text("Mario Rossi")
    # the form, with the keyboard: the answer missing first, its error next to the question
    await card.get_by_label("Parere", exact=True).fill("Credito documentato, debitore solvibile.")
    await card.get_by_role("button", name=f"Registra il parere sulla pratica {reference}").press(
        "Enter"
    )
    card = page.get_by_role("region", name=f"Pratica {reference}")
    await expect(card.locator(".field-error")).to_be_visible()
    await expect(card.get_by_label("Parere", exact=True)).to_have_value(
        "Credito documentato, debitore solvibile."
    )
    assert await axe_violations(page) == []
    await card.get_by_label("Sì, la consiglio").check()
    await card.get_by_role("button", name=f"Registra il parere sulla pratica {reference}").click()
    await expect(page.get_by_role("status")).to_have_text("Parere registrato.")
    await expect(page.get_by_role("region", name=f"Pratica {reference}")).to_have_count(0)
    # the opinion reached the workflow: the creditor is now asked to authorise
    await task_listed(console, "authorizations", reference)

    # the practice's court page: not in court yet, its statement to download
    court = console.page_url(f"/console/lawyer/practices/{pid}")
    await page.goto(court)
    await expect(page.locator("#stage")).to_have_text("La fase giudiziale non è iniziata")
    assert await axe_violations(page) == []
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Estratto conto (PDF)").click()
    saved = await (await download.value).path()
    assert saved.read_bytes().startswith(b"%PDF")

    # the creditor authorises: the court steps start, and the lawyer records them by clicking
    async with httpx.AsyncClient(base_url=console.url) as api:
        authorised = await api.post(
            f"/practices/{pid}/legal-authorization",
            headers=console.stack.admin,
            json={"authorized": True},
        )
    assert authorised.status_code == 200, authorised.text

    async def in_court() -> bool:
        await page.get_by_role("link", name="In tribunale").click()
        return await page.get_by_role("link", name=reference, exact=True).count() == 1

    await eventually(in_court, "the practice among those in court", 60, every=1.0)
    assert await axe_violations(page) == []
    await page.get_by_role("link", name=reference, exact=True).click()
    await expect(page).to_have_url(court)
    yesterday = (rome_today() - timedelta(days=1)).isoformat()
    await court_step(page, court, "Deposito del ricorso")
    await page.get_by_label("Depositato il").fill(yesterday)
    await page.get_by_label("Tribunale (sede)").fill("Tribunale di Milano")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="Registra: Deposito del ricorso").click()
    await expect(page.get_by_role("status")).to_have_text("Atto registrato.")
    await court_step(page, court, "Decreto emesso")
    await page.get_by_label("Emesso il").fill(yesterday)
    await page.get_by_label("Numero del decreto").fill("1234/2026")
    await page.get_by_role("button", name="Registra: Decreto emesso").click()
    await expect(page.get_by_role("status")).to_have_text("Atto registrato.")
    await court_step(page, court, "Decreto notificato")
    await page.get_by_label("Notificato il").fill(yesterday)
    await page.get_by_role("button", name="Registra: Decreto notificato").click()
    await expect(page.get_by_role("status")).to_have_text("Atto registrato.")
    await court_step(page, court, "Opposizione proposta dal debitore")
    await expect(page.locator("#stage")).to_have_text(
        "Decreto notificato, decorre il termine per l'opposizione"
    )
    # the seat the filing named: its patron saint's day counts in the terms
    await expect(page.get_by_role("definition").filter(has_text="Milano")).to_have_count(1)
    await expect(page.get_by_role("row").filter(has_text="Opposizione al decreto")).to_contain_text(
        "Sant'Ambrogio"
    )
    assert await axe_violations(page) == []

    # the opposition term on the deadlines list, with what to do about it
    await page.get_by_role("link", name="Scadenze").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Scadenze")
    row = page.get_by_role("row").filter(has_text=reference)
    await expect(row).to_contain_text("Opposizione al decreto")
    await expect(row).to_contain_text("art. 641 c.p.c.")
    assert await axe_violations(page) == []
    if screenshots():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "lawyer-deadlines.png"), full_page=True)


async def test_a_field_agent_records_a_visit_outcome_on_a_phone(
    console: Console, browser: Browser
) -> None:
    email, password = unique_email("esattore"), "pw-esattore-belluno"
    admin = await new_context(browser)
    try:
        admin_page = await admin.new_page()
        await log_in(admin_page, console, console.admin_email, console.admin_password)
        await admin_page.goto(console.page_url("/console/admin/users"))
        await admin_page.get_by_label("Nome", exact=True).fill("Ettore Esattore")
        await admin_page.get_by_label("E-mail", exact=True).fill(email)
        await admin_page.get_by_label("Ruolo", exact=True).select_option("field_agent")
        await admin_page.get_by_label(re.compile("^Province")).fill(PROVINCE)
        await admin_page.get_by_role("button", name="Invita", exact=True).click()
        link = (await admin_page.locator("#invitation-link").inner_text()).strip()
    finally:
        await admin.close()
    strategy = only(
        "contact_check", "reminder_letter", "home_visit", visit_outcome_timeout="PT600S"
    )
    pid, reference = await hand_over_practice(console, strategy, PROVINCE)
    # a second visit, whose debtor moved
    moved_pid, moved_reference = await hand_over_practice(console, strategy, PROVINCE)
    await task_listed(console, "visits", reference)
    await task_listed(console, "visits", moved_reference)

    phone = await browser.new_context(
        locale=LOCALE, timezone_id=TIMEZONE, viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.set_default_timeout(15_000)
    try:
        page = await phone.new_page()
        await accept_invitation(page, link, password, None)
        await log_in(page, console, email, password)
        await expect(page).to_have_url(console.page_url("/console/agent/visits"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Visite")
        card = page.get_by_role("region", name="Mario Rossi").filter(has_text=reference)
        await expect(card).to_contain_text("Via Roma 1")
        await expect(card).to_contain_text(reference)
        # one column: nothing wider than the phone's screen
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        assert await axe_violations(page) == []
        if screenshots():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "agent-visits.png"), full_page=True)

        promised = (rome_today() + timedelta(days=7)).isoformat()
        await card.get_by_label("Esito", exact=True).select_option("promise")
        await card.get_by_label("Data promessa (solo promessa)").fill(promised)
        await card.get_by_label("Importo promesso in euro (solo promessa)").fill("600,5x")
        await card.get_by_role("button", name=re.compile("^Registra l'esito della visita")).click()
        card = page.get_by_role("region", name="Mario Rossi").filter(has_text=reference)
        await expect(card.locator(".field-error")).to_be_visible()
        assert await axe_violations(page) == []
        await card.get_by_label("Importo promesso in euro (solo promessa)").fill("600.50")
        await card.get_by_label("Nota", exact=True).fill("Pagherà a fine mese.")
        await card.get_by_role("button", name=re.compile("^Registra l'esito della visita")).click()
        await expect(page.get_by_role("status")).to_have_text("Esito registrato.")
        await expect(page.get_by_role("region").filter(has_text=reference)).to_have_count(0)
        assert await axe_violations(page) == []

        # the other debtor moved: the new address, its CAP wrong first (the error beside it)
        card = page.get_by_role("region", name="Mario Rossi").filter(has_text=moved_reference)
        await card.get_by_label("Esito", exact=True).select_option("moved")
        await card.get_by_label("Via e numero civico").fill("Via Piave 3")
        await card.get_by_label("Comune").fill("Feltre")
        await card.get_by_label("CAP", exact=True).fill("3203")
        await card.get_by_label("Provincia (es. MI)").fill("BL")
        await card.get_by_role("button", name=re.compile("^Registra l'esito della visita")).click()
        card = page.get_by_role("region", name="Mario Rossi").filter(has_text=moved_reference)
        await expect(card.locator(".field-error")).to_have_count(1)
        await expect(card.get_by_label("CAP", exact=True)).to_have_attribute("aria-invalid", "true")
        assert await axe_violations(page) == []
        await card.get_by_label("CAP", exact=True).fill("32032")
        await card.get_by_role("button", name=re.compile("^Registra l'esito della visita")).click()
        await expect(page.get_by_role("status")).to_have_text("Esito registrato.")
        await expect(page.get_by_role("region").filter(has_text=moved_reference)).to_have_count(0)
    finally:
        await phone.close()

    async with httpx.AsyncClient(base_url=console.url) as api:
        moved = (await api.get(f"/practices/{moved_pid}", headers=console.stack.admin)).json()
    assert moved["debtor"]["address"]["street"] == "Via Piave 3"
    assert moved["debtor"]["address"]["postal_code"] == "32032"

    async def promise() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=console.url) as api:
            view = await api.get(f"/practices/{pid}", headers=console.stack.admin)
        found: dict[str, Any] | None = view.json()["promise"]
        return found

    found = await eventually(promise, "the promise on the practice", 30)
    assert found is not None
    assert found["amount"] == "600.50" and found["promised_date"] == promised


async def hand_over_abroad(
    console: Console, strategy: dict[str, Any], address: dict[str, str]
) -> tuple[str, str]:
    """As hand_over_practice, its debtor abroad at `address`: (id, reference)."""
    admin = console.stack.admin
    async with httpx.AsyncClient(base_url=console.url) as api:
        created = await api.post(
            "/creditors",
            headers=admin,
            json={
                "name": unique("Export Alpi S.r.l."),
                "vat_number": vat_number(),
                "iban": "IT60X0542811101000000123456",
            },
        )
        assert created.status_code == 201, created.text
        creditor_id = created.json()["id"]
        saved = await api.put(f"/creditors/{creditor_id}/strategy", headers=admin, json=strategy)
        assert saved.status_code == 200, saved.text
        payload = practice_payload(creditor_id, due_in_days=-120)
        payload["debtor"] = {
            "kind": "consumer",
            "name": "Hans Muster",
            "email": "hans.muster@example.com",
            "address": {"street": "Bahnhofstrasse 1", **address},
        }
        practice = await api.post("/practices", headers=admin, json=payload)
        assert practice.status_code == 201, practice.text
        body: dict[str, Any] = practice.json()
        return body["id"], body["reference"]


async def test_a_foreign_correspondent_records_a_visit_abroad_on_a_phone(
    console: Console, browser: Browser
) -> None:
    """The admin invites a correspondent for Switzerland; a Swiss debtor's visit lands on its
    work list (the field agent's screen), where it records the outcome; a Norwegian debtor's
    visit, which nobody covers, waits on the admin's list with what to do."""
    email, password = unique_email("corrispondente"), "pw-corrispondente-zurigo"
    admin = await new_context(browser)
    try:
        admin_page = await admin.new_page()
        await log_in(admin_page, console, console.admin_email, console.admin_password)
        await admin_page.goto(console.page_url("/console/admin/users"))
        await admin_page.get_by_label("Nome", exact=True).fill("Carla Corrispondente")
        await admin_page.get_by_label("E-mail", exact=True).fill(email)
        await admin_page.get_by_label("Ruolo", exact=True).select_option("correspondent")
        await admin_page.get_by_label(re.compile("^Paesi \\(solo")).fill("IT")
        await admin_page.get_by_role("button", name="Invita", exact=True).click()
        # Italy is no country abroad: the message beside the field
        countries = admin_page.get_by_label(re.compile("^Paesi \\(solo"))
        await expect(countries).to_have_attribute("aria-invalid", "true")
        await expect(admin_page.locator("#countries-error")).to_contain_text("IT non è estero")
        await countries.fill("ch")
        await admin_page.get_by_role("button", name="Invita", exact=True).click()
        link = (await admin_page.locator("#invitation-link").inner_text()).strip()
        row = admin_page.get_by_role("row").filter(has_text="Carla Corrispondente")
        await expect(row).to_contain_text("Corrispondente estero: CH")
        assert await axe_violations(admin_page) == []
    finally:
        await admin.close()
    strategy = only("contact_check", "home_visit", visit_outcome_timeout="PT600S")
    zurich = {"country": "CH", "city": "Zürich", "postal_code": "8001"}
    pid, reference = await hand_over_abroad(console, strategy, zurich)
    oslo = {"country": "NO", "city": "Oslo", "postal_code": "0150"}
    _nobody_pid, nobody_reference = await hand_over_abroad(console, strategy, oslo)
    await task_listed(console, "visits", reference)
    await task_listed(console, "visits", nobody_reference)

    phone = await browser.new_context(
        locale=LOCALE, timezone_id=TIMEZONE, viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.set_default_timeout(15_000)
    try:
        page = await phone.new_page()
        await accept_invitation(page, link, password, None)
        await log_in(page, console, email, password)
        await expect(page).to_have_url(console.page_url("/console/agent/visits"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Visite all'estero")
        card = page.get_by_role("region", name="Hans Muster").filter(has_text=reference)
        await expect(card).to_contain_text("Bahnhofstrasse 1")
        await expect(card).to_contain_text("CH")
        # only its own country's visit
        await expect(page.get_by_role("region").filter(has_text=nobody_reference)).to_have_count(0)
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        assert await axe_violations(page) == []

        # moved, with a new address abroad whose postal code is wrong first (beside the field)
        await card.get_by_label("Esito", exact=True).select_option("moved")
        await card.get_by_label("Via e numero civico").fill("Seestrasse 5")
        await card.get_by_label("Comune").fill("Luzern")
        await card.get_by_label("CAP", exact=True).fill("60")
        await expect(card.get_by_label("Paese (es. CH)")).to_have_value("CH")
        await card.get_by_role("button", name=re.compile("^Registra l'esito della visita")).click()
        card = page.get_by_role("region", name="Hans Muster").filter(has_text=reference)
        await expect(card.get_by_label("CAP", exact=True)).to_have_attribute("aria-invalid", "true")
        assert await axe_violations(page) == []
        await card.get_by_label("CAP", exact=True).fill("6003")
        await card.get_by_label("Nota", exact=True).fill("Trasferito a Lucerna.")
        await card.get_by_role("button", name=re.compile("^Registra l'esito della visita")).click()
        await expect(page.get_by_role("status")).to_have_text("Esito registrato.")
        await expect(page.get_by_role("region").filter(has_text=reference)).to_have_count(0)
    finally:
        await phone.close()

    async with httpx.AsyncClient(base_url=console.url) as api:
        moved = (await api.get(f"/practices/{pid}", headers=console.stack.admin)).json()
    assert moved["debtor"]["address"]["street"] == "Seestrasse 5"
    assert moved["debtor"]["address"]["postal_code"] == "6003"
    assert moved["debtor"]["address"]["country"] == "CH"

    # the admin: the Norwegian visit nobody covers, marked with what to do; then Norway given
    admin = await new_context(browser)
    try:
        admin_page = await admin.new_page()
        await log_in(admin_page, console, console.admin_email, console.admin_password)
        await admin_page.goto(console.page_url("/console/agent/visits"))
        waiting = admin_page.get_by_role("region").filter(has_text=nobody_reference)
        await expect(waiting).to_contain_text(
            "Nessuno assegnato: nessun corrispondente estero copre NO."
        )
        # the notice points at the form below only when there is one: whether a field agent
        # may make it depends on the tests run before on this stack (tests/api's
        # test_visit_assignment.py shows both cases)
        notice = waiting.locator(".unassigned")
        if await waiting.get_by_label("Visita affidata a").count():
            await expect(notice).to_contain_text("Assegna la visita qui sotto")
        else:
            await expect(notice).not_to_contain_text("qui sotto")
            await expect(waiting).to_contain_text("Nessun esattore domiciliare o corrispondente")
        assert await axe_violations(admin_page) == []
        await admin_page.goto(console.page_url("/console/admin/users"))
        field = admin_page.get_by_label("Paesi di Carla Corrispondente")
        await field.fill("CH NO")
        row = admin_page.get_by_role("row").filter(has_text="Carla Corrispondente")
        await row.get_by_role("button", name="Salva i paesi").click()
        notices = admin_page.get_by_role("status")
        await expect(notices.filter(has_text="Paesi salvati.")).to_have_count(1)
        # the Norwegian visit that waited for a correspondent goes to the one now covering NO
        picked = "1 visita in attesa è stata assegnata a questo corrispondente."
        await expect(notices.filter(has_text=picked)).to_have_count(1)
        row = admin_page.get_by_role("row").filter(has_text="Carla Corrispondente")
        await expect(row).to_contain_text("Corrispondente estero: CH NO")
        await admin_page.goto(console.page_url("/console/agent/visits"))
        waiting = admin_page.get_by_role("region").filter(has_text=nobody_reference)
        await expect(waiting).not_to_contain_text("Nessuno assegnato")
        chosen = waiting.get_by_label("Visita affidata a").locator("option:checked")
        await expect(chosen).to_contain_text("Carla Corrispondente")
    finally:
        await admin.close()
