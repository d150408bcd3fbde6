"""The console's foundation in Chromium: logins, invitations, the admin's users page, and the
protections every page must have (CSRF, CSP and framing, escaping, lockout, logout, axe-core,
the keyboard)."""

from __future__ import annotations

import re
import secrets

import httpx
import pyotp
from playwright.async_api import Browser, Dialog, Page, expect

from tests.browser.conftest import (
    MAX_FAILURES,
    Console,
    accept_invitation,
    axe_violations,
    invite,
    log_in,
    new_context,
    screenshot,
)


def unique_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.it"


async def new_user(browser: Browser, console: Console, name: str, role: str) -> tuple[str, str]:
    """Invited by the admin and accepted, in contexts of their own: (e-mail, password)."""
    email, password = unique_email(role), "pw-" + secrets.token_urlsafe(12)
    admin = await new_context(browser)
    invited = await new_context(browser)
    try:
        admin_page = await admin.new_page()
        await log_in(admin_page, console, console.admin_email, console.admin_password)
        link = await invite(admin_page, console, name, email, role)
        await accept_invitation(await invited.new_page(), link, password, None)
    finally:
        await admin.close()
        await invited.close()
    return email, password


async def test_admin_invites_an_operator_who_sets_a_password_and_logs_in(
    console: Console, page: Page, browser: Browser
) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await expect(page).to_have_url(console.page_url("/console/admin/users"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Utenti")
    assert await axe_violations(page) == []

    email = unique_email("operatore")
    link = await invite(page, console, "Olga Operatrice", email, "operator")
    assert link.startswith(console.page_url("/console/invitation/"))
    row = page.get_by_role("row").filter(has_text="Olga Operatrice")
    await expect(row).to_contain_text("Operatore")
    await expect(row).to_contain_text("Invitato")

    operator = await new_context(browser)
    try:
        operator_page = await operator.new_page()
        await operator_page.goto(link)
        await expect(operator_page.get_by_text(f"Accederete come {email}.")).to_be_visible()
        assert await axe_violations(operator_page) == []
        await accept_invitation(operator_page, link, "operatore-password-1", None)
        # the link works once
        await operator_page.goto(link)
        await expect(operator_page.get_by_role("heading", level=1)).to_have_text(
            "Invito non valido"
        )
        assert await axe_violations(operator_page) == []
        await log_in(operator_page, console, email, "operatore-password-1")
        # the operator's main page: the call queue
        await expect(operator_page).to_have_url(console.page_url("/console/operator/calls"))
        await expect(operator_page.get_by_role("heading", level=1)).to_have_text("Chiamate")
        assert await axe_violations(operator_page) == []
        await operator_page.get_by_role("link", name="Profilo").click()
        await expect(operator_page.get_by_text("Olga Operatrice").first).to_be_visible()
        assert await axe_violations(operator_page) == []
        # an operator may not open the admin's pages: the same 403 as the API's role check
        response = await operator_page.goto(console.page_url("/console/admin/users"))
        assert response is not None and response.status == 403
        assert await axe_violations(operator_page) == []
    finally:
        await operator.close()

    # the answer to the invitation, sent again (a reload), invites nobody twice
    await page.reload()
    await expect(page.locator("#email-error")).to_have_text(
        "Un altro utente attivo ha questo indirizzo e-mail."
    )
    await page.goto(console.page_url("/console/admin/users"))
    await expect(page.get_by_role("row").filter(has_text="Olga Operatrice")).to_contain_text(
        "Attivo"
    )
    # the README's picture of the admin's main page
    await screenshot(page, "admin-users")


async def test_an_invitation_form_error_is_the_api_message_next_to_its_field(
    console: Console, page: Page
) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.goto(console.page_url("/console/admin/users"))
    await page.get_by_label("Nome", exact=True).fill("Agente senza zona")
    await page.get_by_label("E-mail", exact=True).fill(unique_email("agente"))
    await page.get_by_label("Ruolo", exact=True).select_option("field_agent")
    await page.get_by_role("button", name="Invita", exact=True).click()
    provinces = page.get_by_label(re.compile("^Province"))
    await expect(provinces).to_have_attribute("aria-invalid", "true")
    # the message of POST /users's 422 for the same field
    async with httpx.AsyncClient(base_url=console.url) as api:
        refused = await api.post(
            "/users",
            headers=console.stack.admin,
            json={"name": "x", "role": "field_agent", "provinces": []},
        )
    assert refused.status_code == 422
    message = next(e["msg"] for e in refused.json()["detail"] if e["loc"][-1] == "provinces")
    await expect(page.locator("#provinces-error")).to_have_text(message)
    assert await axe_violations(page) == []


async def test_a_form_posted_without_its_csrf_token_is_refused(
    console: Console, page: Page
) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.goto(console.page_url("/console/admin/users"))
    before = await page.get_by_role("row").count()
    form = page.locator("form[action='/console/admin/users']")
    await form.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    await page.get_by_label("Nome", exact=True).fill("Senza token")
    await page.get_by_label("E-mail", exact=True).fill(unique_email("csrf"))
    await page.get_by_role("button", name="Invita", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Errore 403")
    assert await axe_violations(page) == []
    # a wrong token is refused too, and nobody was created
    response = await page.request.post(
        console.page_url("/console/admin/users"),
        form={"csrf_token": "forged", "name": "Forged", "email": "f@example.it", "role": "lawyer"},
    )
    assert response.status == 403
    await page.goto(console.page_url("/console/admin/users"))
    assert await page.get_by_role("row").count() == before
    await expect(page.get_by_text("Senza token")).to_have_count(0)


async def test_a_user_named_like_a_script_is_shown_as_text(console: Console, page: Page) -> None:
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    await log_in(page, console, console.admin_email, console.admin_password)
    name = "<script>alert(1)</script>"
    await invite(page, console, name, unique_email("script"), "lawyer")
    await page.goto(console.page_url("/console/admin/users"))
    cell = page.get_by_role("cell", name=name, exact=True)
    await expect(cell).to_have_count(1)
    assert await cell.inner_text() == name
    assert await page.locator("td script").count() == 0
    assert dialogs == []


async def test_pages_send_a_content_security_policy_and_refuse_framing(
    console: Console, page: Page
) -> None:
    for path in ("/console/login", "/console/admin/users", "/static/console.css"):
        response = await page.goto(console.page_url(path))
        assert response is not None
        headers = await response.all_headers()
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    # and the browser does refuse to frame the console
    await page.set_content(f'<iframe src="{console.page_url("/console/login")}"></iframe>')
    frame = page.frames[-1]
    await page.wait_for_timeout(500)
    assert await frame.locator("form").count() == 0


async def test_a_locked_out_user_cannot_log_in(
    console: Console, page: Page, browser: Browser
) -> None:
    email, password = await new_user(browser, console, "Luca Bloccato", "lawyer")
    for _ in range(MAX_FAILURES - 1):
        await log_in(page, console, email, "not-the-password")
        await expect(page.get_by_role("alert")).to_have_text("E-mail o password errate.")
    await log_in(page, console, email, "not-the-password")
    await expect(page.get_by_role("alert")).to_contain_text("l'account è bloccato")
    # the right password no longer opens it while locked
    await log_in(page, console, email, password)
    await expect(page.get_by_role("alert")).to_contain_text("l'account è bloccato")
    await expect(page).to_have_url(console.page_url("/console/login"))
    assert await axe_violations(page) == []


async def test_logout_ends_the_session(console: Console, page: Page) -> None:
    await log_in(page, console, console.admin_email, console.admin_password)
    await expect(page).to_have_url(console.page_url("/console/admin/users"))
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "recupero_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["expires"] > 0
    await page.get_by_role("button", name="Esci").click()
    await expect(page).to_have_url(console.page_url("/console/login"))
    # the old cookie, sent again, opens nothing: the session is gone on the server
    async with httpx.AsyncClient(
        base_url=console.url, cookies={"recupero_session": session["value"]}
    ) as client:
        replay = await client.get("/console/admin/users")
    assert replay.status_code == 303 and replay.headers["location"] == "/console/login"


async def test_login_works_with_the_keyboard_only(console: Console, page: Page) -> None:
    await page.goto(console.page_url("/console/login"))
    assert await axe_violations(page) == []
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Vai al contenuto")).to_be_focused()
    await page.keyboard.press("Tab")  # the brand link
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("E-mail")).to_be_focused()
    await page.keyboard.type(console.admin_email)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password", exact=True)).to_be_focused()
    await page.keyboard.type(console.admin_password)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(console.page_url("/console/admin/users"))


async def test_english_is_offered_by_the_browser_or_the_account(
    console: Console, browser: Browser
) -> None:
    context = await new_context(browser, language="en-GB")
    try:
        page = await context.new_page()
        await page.goto(console.page_url("/console/login"))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        await context.close()


async def test_the_accessibility_check_finds_what_it_should(page: Page) -> None:
    """axe_violations is no rubber stamp: an unlabelled field and an image without text are
    serious/critical violations."""
    await page.set_content(
        '<html lang="it"><head><title>t</title></head><body><main>'
        '<input type="text"><img src="data:,"></main></body></html>'
    )
    found = {v["id"] for v in await axe_violations(page)}
    assert {"label", "image-alt"} <= found


async def test_admin_changes_a_role_then_deactivates_the_user(
    console: Console, page: Page, browser: Browser
) -> None:
    email, password = await new_user(browser, console, "Rita Ruolo", "operator")
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.get_by_label("Nuovo ruolo di Rita Ruolo").select_option("lawyer")
    row = page.get_by_role("row").filter(has_text="Rita Ruolo")
    await row.get_by_role("button", name="Cambia ruolo").click()
    await expect(row).to_contain_text("Avvocato")
    # a new link (a forgotten password): the old password works until the link is used
    await page.get_by_role("button", name="Nuovo link di invito per Rita Ruolo").click()
    link = (await page.locator("#invitation-link").inner_text()).strip()
    person = await new_context(browser)
    try:
        person_page = await person.new_page()
        await person_page.goto(link)
        await person_page.get_by_label("Password (almeno 12 caratteri)").fill("short")
        await person_page.get_by_role("button", name="Imposta la password").click()
        await expect(person_page.locator("#password-error")).to_have_text("Almeno 12 caratteri.")
        assert await axe_violations(person_page) == []
        await accept_invitation(person_page, link, password + "-new", None)
        password += "-new"
    finally:
        await person.close()
    await page.goto(console.page_url("/console/admin/users"))
    await page.get_by_role("button", name="Disattiva Rita Ruolo").click()
    await expect(row).to_contain_text("Disattivato")
    await expect(row.get_by_role("button")).to_have_count(0)
    assert await axe_violations(page) == []
    person = await new_context(browser)
    try:
        person_page = await person.new_page()
        await log_in(person_page, console, email, password)
        await expect(person_page.get_by_role("alert")).to_have_text("E-mail o password errate.")
    finally:
        await person.close()


async def test_pages_load_htmx_and_break_no_rule_of_their_own_policy(
    console: Console, page: Page
) -> None:
    """The vendored htmx runs, and nothing on the pages is refused by the CSP (an inline script
    or style would be, and would show up as a console error)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await log_in(page, console, console.admin_email, console.admin_password)
    for path in ("/console/admin/users", "/console/account", "/console/operator/calls"):
        await page.goto(console.page_url(path))
        assert await page.evaluate("() => typeof window.htmx") == "object"
        body_headers = await page.locator("body").get_attribute("hx-headers")
        assert body_headers is not None and "X-CSRF-Token" in body_headers
    assert errors == []


async def test_two_factor_login_enrolled_and_used_in_the_browser(
    console: Console, page: Page, browser: Browser
) -> None:
    email, password = await new_user(browser, console, "Tea Totp", "lawyer")
    await log_in(page, console, email, password)
    await expect(page).to_have_url(console.page_url("/console/lawyer/opinions"))
    await page.get_by_role("link", name="Profilo").click()
    await page.get_by_role("button", name="Configura l'accesso a due fattori").click()
    await expect(page.get_by_role("img", name="Codice QR della chiave")).to_be_visible()
    assert await axe_violations(page) == []
    secret = (await page.locator("code").inner_text()).strip()
    await page.get_by_label("Codice", exact=True).fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Attiva l'accesso a due fattori").click()
    await expect(page.get_by_text("Attivo: ogni accesso chiede il codice")).to_be_visible()

    await page.get_by_role("button", name="Esci").click()
    await log_in(page, console, email, password)
    await expect(page).to_have_url(console.page_url("/console/login/code"))
    assert await axe_violations(page) == []
    await page.get_by_label("Il codice a 6 cifre").fill("000000")
    await page.get_by_role("button", name="Verifica").click()
    await expect(page.locator("#code-error")).to_have_text("Codice errato.")
    assert await axe_violations(page) == []
    await page.get_by_label("Il codice a 6 cifre").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Verifica").click()
    await expect(page).to_have_url(console.page_url("/console/lawyer/opinions"))
