"""The console in a real browser: Debian's Chromium driven by Playwright (launched by path:
Playwright's own browser download is not used) against the real stack of tests/system (a
Temporal dev server, a worker and `recupero api` as processes), one stack per test module.

The helpers here log people in by clicking, as a person would, so every test starts from the
product's own bootstrap: the admin's one-time link printed by `recupero api`."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.system.harness import Stack

CHROMIUM = os.environ.get("RECUPERO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# the lockout test needs few attempts; the product's default is 5
MAX_FAILURES = 3


@dataclass
class Console:
    stack: Stack
    url: str
    admin_email: str
    admin_password: str

    def page_url(self, path: str) -> str:
        return self.url + path


def printed_admin_invitation(stack: Stack) -> str:
    """The link `recupero api` printed at its first start."""
    for log in sorted(stack.data_dir.glob("*-api.log")):
        found = re.search(r"http://\S+/console/invitation/\S+", log.read_text())
        if found:
            return found.group(0)
    raise AssertionError("recupero api printed no admin invitation link")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("browser"),
        extra_env={"RECUPERO_LOGIN_MAX_FAILURES": str(MAX_FAILURES)},
    )
    with stack.running():
        yield stack


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


# an Italian person's browser: Chromium's date inputs follow the locale (gg/mm/aaaa, not
# mm/dd/yyyy), and "today" in the page's scripts is Rome's, as the server's (domain.calendar)
LOCALE = "it-IT"
TIMEZONE = "Europe/Rome"


async def new_context(browser: Browser, language: str = LOCALE) -> BrowserContext:
    context = await browser.new_context(
        locale=language, timezone_id=TIMEZONE, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await new_context(browser)
    yield context
    await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def accept_invitation(page: Page, link: str, password: str, email: str | None) -> None:
    await page.goto(link)
    if email is not None:
        await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password (almeno 12 caratteri)").fill(password)
    await page.get_by_label("Ripetete la password").fill(password)
    await page.get_by_role("button", name="Imposta la password").click()
    await page.wait_for_url(re.compile(r"/console/login\?welcome=1$"))


async def log_in(page: Page, console: Console, email: str, password: str) -> None:
    await page.goto(console.page_url("/console/login"))
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Accedi").click()


@pytest.fixture(scope="module")
async def console(stack: Stack, browser: Browser) -> AsyncIterator[Console]:
    """The stack with its admin set up through the printed link."""
    url = f"http://127.0.0.1:{stack.api_port}"
    link = printed_admin_invitation(stack)
    assert link.startswith(url + "/console/invitation/"), link
    password = "admin-" + secrets.token_urlsafe(12)
    context = await new_context(browser)
    try:
        await accept_invitation(await context.new_page(), link, password, "admin@example.it")
    finally:
        await context.close()
    yield Console(stack=stack, url=url, admin_email="admin@example.it", admin_password=password)


async def invite(page: Page, console: Console, name: str, email: str, role: str) -> str:
    """As the logged-in admin: invites a user, returns the one-time link the page shows."""
    await page.goto(console.page_url("/console/admin/users"))
    await page.get_by_label("Nome", exact=True).fill(name)
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Ruolo", exact=True).select_option(role)
    await page.get_by_role("button", name="Invita", exact=True).click()
    link = await page.locator("#invitation-link").inner_text()
    return link.strip()


async def screenshot(page: Page, name: str) -> None:
    """The README's pictures (docs/screenshots/<name>.png), taken only when asked for with
    RECUPERO_SCREENSHOTS=1: their content changes from run to run (random e-mails, dates), and
    an ordinary `make test` must leave the work tree as it found it."""
    if os.environ.get("RECUPERO_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page. Loaded with CDP's evaluate,
    which the page's Content-Security-Policy does not govern (a <script> tag would be refused,
    as it should)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
