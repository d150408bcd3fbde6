"""An experiment's results in Chromium: a 90/10 experiment started through the API, practices
handed over in it, then the admin opens the experiment from the strategy lab and finds the
liquidation chart by arm drawn by Chart.js (under the page's Content-Security-Policy, its data
in the canvas's data-chart attribute) beside its table, the warnings that it is too early to
read, and the same chart on the creditor's reports; axe-core on both pages."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import Console, axe_violations, log_in
from tests.browser.test_creditor_portal import hand_over, new_creditor


async def drawn(page: Page, canvas_id: str) -> bool:
    await page.wait_for_load_state("load")
    result: bool = await page.evaluate(
        "(id) => Chart.getChart(document.getElementById(id)) !== undefined", canvas_id
    )
    return result


async def test_the_admin_reads_an_experiment(console: Console, page: Page) -> None:
    suffix = secrets.token_hex(3).upper()
    today = datetime.now(ZoneInfo("Europe/Rome")).date()
    async with httpx.AsyncClient(base_url=console.url, headers=console.stack.admin) as api:
        name = f"Forniture Lab {suffix} S.r.l."
        creditor_id = await new_creditor(api, name)
        strategy = (await api.get(f"/creditors/{creditor_id}/strategy")).json()
        saved = await api.put(f"/creditors/{creditor_id}/strategies/firm", json=strategy)
        assert saved.status_code == 200, saved.text
        created = await api.post(
            f"/creditors/{creditor_id}/experiments",
            json={
                "segment": "default",
                "champion": {"strategy": "default", "share": 90},
                "challengers": [{"strategy": "firm", "share": 10}],
                "start": today.isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        experiment_id = created.json()["id"]
        for n in range(3):
            await hand_over(api, creditor_id, f"LAB-{suffix}-{n}", "400.00")

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await log_in(page, console, console.admin_email, console.admin_password)
    await page.goto(console.page_url(f"/console/admin/creditors/{creditor_id}/lab"))
    await page.get_by_role("link", name="Risultati dell'esperimento in default").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Risultati degli esperimenti di {name}"
    )
    canvas = f"chart-liquidation-{experiment_id}"
    assert await drawn(page, canvas)
    table = page.locator(f"#table-arms-{experiment_id}")
    await expect(table.get_by_role("row").filter(has_text="Pratiche affidate")).to_contain_text("3")
    await expect(page.get_by_text("Troppo presto per leggere i risultati")).to_be_visible()
    liquidation = page.locator(f"#table-liquidation-{experiment_id}")
    await expect(liquidation.get_by_role("columnheader", name="180 giorni")).to_be_visible()
    assert await axe_violations(page) == []

    # the same figures on the creditor's reports (the admin chooses the creditor)
    await page.goto(console.page_url(f"/console/creditor/reports?creditor_id={creditor_id}"))
    await expect(page.get_by_role("heading", name="Esperimenti di strategia")).to_be_visible()
    assert await drawn(page, canvas)
    assert await axe_violations(page) == []
    assert errors == []
