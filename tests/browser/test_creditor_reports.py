"""The creditor's reports in Chromium: practices handed over and paid through the API, then the
creditor opens "Report" and finds the three charts drawn by Chart.js (the vendored file, under
the page's Content-Security-Policy) with their tables in Italian; the admin chooses the same
creditor; axe-core on the pages."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from babel.dates import format_date
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Console, axe_violations, log_in, new_context, screenshot
from tests.browser.test_creditor_portal import creditor_user, hand_over, new_creditor

CHARTS = ("chart-recovered", "chart-statuses", "chart-cohorts")


async def drawn(page: Page) -> list[bool]:
    """Which of the page's canvases Chart.js has a chart on, once the page's deferred scripts
    ran (a heading is visible before them: on a busy machine they come later)."""
    await page.wait_for_load_state("load")
    result: list[bool] = await page.evaluate(
        "(ids) => ids.map((id) => Chart.getChart(document.getElementById(id)) !== undefined)",
        list(CHARTS),
    )
    return result


async def pay(api: httpx.AsyncClient, practice_id: str, amount: str, on: date) -> None:
    answer = await api.post(
        f"/practices/{practice_id}/payments",
        json={"amount": amount, "paid_on": on.isoformat(), "reference": f"CRO {on}"},
    )
    assert answer.status_code == 200, answer.text


async def test_a_creditor_reads_its_reports_with_charts(
    console: Console, page: Page, browser: Browser
) -> None:
    suffix = secrets.token_hex(3).upper()
    today = datetime.now(ZoneInfo("Europe/Rome")).date()
    earlier = today - timedelta(days=40)
    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        name = f"Forniture Report {suffix} S.r.l."
        creditor_id = await new_creditor(api, name)
        large = await hand_over(api, creditor_id, f"REP-{suffix}-1", "1250.40")
        small = await hand_over(api, creditor_id, f"REP-{suffix}-2", "90.00")
        await pay(api, large, "1000.00", today)
        await pay(api, small, "90.00", earlier)  # paid in full: closed, outcome "paid"

        figures: dict[str, Any] = {}
        for _ in range(60):  # the workflows write the payments into the read model
            figures = (await api.get(f"/reports/creditors/{creditor_id}/monthly")).json()
            if figures["by_outcome"]["paid"] == 1 and len(figures["recovered_by_month"]) >= 2:
                break
            await asyncio.sleep(0.5)
        assert figures["by_outcome"]["paid"] == 1, figures

    errors: list[str] = []  # the browser's console: a refused script or style would show here
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await creditor_user(browser, console, page, creditor_id)
    await page.get_by_role("link", name="Report", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Report")
    assert await drawn(page) == [True, True, True]

    recovered = page.locator("#table-recovered")
    this_month = format_date(today, "LLLL y", locale="it")
    await expect(recovered.get_by_role("row").filter(has_text=this_month)).to_contain_text(
        "1.000,00\xa0€"
    )
    await expect(
        recovered.get_by_role("row").filter(has_text=format_date(earlier, "LLLL y", locale="it"))
    ).to_contain_text("90,00\xa0€")
    await expect(recovered.locator("tfoot")).to_contain_text("1.090,00\xa0€")
    statuses = page.locator("#table-statuses")
    await expect(statuses.get_by_role("row").filter(has_text="Saldata")).to_contain_text("1")
    cohort = page.locator("#table-cohorts").get_by_role("row").filter(has_text=this_month)
    await expect(cohort).to_contain_text("1.340,40\xa0€")  # placed: both handed over today
    await expect(cohort).to_contain_text("81,3%")  # 1.090,00 of 1.340,40
    assert await axe_violations(page) == []
    assert errors == []
    await screenshot(page, "creditor-reports")

    # a period that starts today: the payment of 40 days ago is left out
    await page.get_by_label("Dal").fill(today.isoformat())
    await page.get_by_role("button", name="Mostra").click()
    await expect(recovered.locator("tfoot")).to_contain_text("1.000,00\xa0€")
    assert await drawn(page) == [True, True, True]

    # the admin chooses the creditor
    admin = await new_context(browser)
    try:
        admin_page = await admin.new_page()
        await log_in(admin_page, console, console.admin_email, console.admin_password)
        await admin_page.goto(console.page_url("/console/creditor/reports"))
        prompt = admin_page.get_by_text("Scegli un creditore per vederne i report.")
        await expect(prompt).to_be_visible()
        assert await axe_violations(admin_page) == []
        await admin_page.get_by_label("Creditore").select_option(creditor_id)
        await admin_page.get_by_role("button", name="Mostra").click()
        await expect(admin_page.get_by_role("heading", level=1)).to_have_text(f"Report: {name}")
        assert await drawn(admin_page) == [True, True, True]
        assert await axe_violations(admin_page) == []
    finally:
        await admin.close()
