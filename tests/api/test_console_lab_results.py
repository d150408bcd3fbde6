"""An experiment's results in the console: the admin's experiment page (figures, the chart's
data, the promotion of a challenger as POST .../promote does it), the contacts' unit costs
form, and the creditor's reports showing its experiments."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from tests.api.helpers import Api, error_locs, new_creditor
from tests.api.test_console_admin import CREDITORS, as_role, field_error, post_form
from tests.api.test_lab_results_api import _experiment


def _chart(page: str, experiment_id: str) -> dict[str, Any]:
    found = re.search(rf"id=\"chart-liquidation-{experiment_id}\"[^>]*data-chart='([^']*)'", page)
    assert found, page[:3000]
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return data


async def test_the_admin_reads_and_promotes(api: Api) -> None:
    tenant, experiment_id, _ = await _experiment(api)
    await as_role(api, "admin")
    url = f"{CREDITORS}/{tenant.id}/lab/experiments/{experiment_id}"
    lab = await api.http.get(f"{CREDITORS}/{tenant.id}/lab")
    assert f'href="{url}"' in lab.text
    page = await api.http.get(url)
    assert page.status_code == 200, page.text[:3000]
    text = page.text
    # Italian by default: the figures' labels, the warnings, the chart's data
    assert "Tasso di risoluzione" in text and "Pratiche ancora necessarie" in text
    assert "Troppo presto per leggere i risultati" in text
    assert "Nessuna pratica ha ancora 60 giorni" in text
    chart = _chart(text, experiment_id)
    assert chart["locale"] == "it"
    assert chart["labels"] == ["30 giorni", "60 giorni", "90 giorni", "180 giorni"]
    rates = [arm["rates"] for arm in chart["arms"]]
    assert len(rates) == 2 and all(r[1:] == [None, None, None] for r in rates)
    # the API's figures (one practice paid 100 € of 1,250,40 € at day 10)
    api_body = (
        await api.http.get(
            f"/creditors/{tenant.id}/experiments/{experiment_id}/results", headers=api.admin
        )
    ).json()
    for arm, figures in zip(chart["arms"], api_body["arms"], strict=True):
        h30 = figures["liquidation"][0]
        expected = float(h30["recovered"]) / float(h30["placed"]) if h30["practices"] else None
        assert arm["rates"][0] == expected
    # no inline script: the data is in the attribute, the drawing in the static file
    assert "<script>" not in text and 'src="/static/console-charts.js"' in text

    bad_effect = await api.http.get(url, params={"effect": "60"})
    assert bad_effect.status_code == 422 and field_error(bad_effect, "effect")

    wrong = await post_form(api, url, f"{url}/promote", {"arm": "champion"})
    assert wrong.status_code == 422
    answer = await api.http.post(
        f"/creditors/{tenant.id}/experiments/{experiment_id}/promote",
        headers=api.admin,
        json={"arm": "champion"},
    )
    assert ["body", "arm"] in error_locs(answer)
    assert field_error(wrong, "arm") == answer.json()["detail"][0]["msg"]

    promoted = await post_form(api, url, f"{url}/promote", {"arm": "challenger-1"})
    assert promoted.status_code == 303, promoted.text[:2000]
    shown = await api.http.get(promoted.headers["location"])
    assert "La sfidante è stata promossa" in shown.text
    segments = (await api.http.get(f"/creditors/{tenant.id}/segments", headers=api.admin)).json()
    assert segments["default_strategy"] == "firm"


async def test_contact_costs_form(api: Api) -> None:
    await as_role(api, "admin")
    url = "/console/admin/contact-costs"
    refused = await post_form(
        api, url, url, {"letter": "2,5", "sms": "8", "email": "1", "call": "150"}
    )
    assert refused.status_code == 422 and field_error(refused, "letter")
    saved = await post_form(
        api, url, url, {"letter": "250", "sms": "8", "email": "1", "call": "150"}
    )
    assert saved.status_code == 303
    got = await api.http.get("/settings/contact-costs", headers=api.admin)
    assert got.json() == {"letter": 250, "sms": 8, "email": 1, "call": 150}
    page = await api.http.get(url)
    assert 'value="250"' in page.text


async def test_the_creditor_sees_its_experiments_in_the_reports(api: Api) -> None:
    tenant, experiment_id, _ = await _experiment(api)
    await as_role(api, "creditor", creditor_id=tenant.id)
    page = await api.http.get("/console/creditor/reports")
    assert page.status_code == 200
    assert "Esperimenti di strategia" in page.text
    assert f'id="table-liquidation-{experiment_id}"' in page.text
    assert _chart(page.text, experiment_id)["arms"][0]["label"].startswith("Campione")
    # the CSV from the page's link: the API's, with the console's session
    link = f"/console/creditor/reports/experiments/{tenant.id}/{experiment_id}.csv"
    assert f'href="{link}"' in page.text
    exported = await api.http.get(link)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    from_api = await api.http.get(
        f"/creditors/{tenant.id}/experiments/{experiment_id}/results.csv", headers=api.admin
    )
    assert exported.text == from_api.text
    # the admin's experiment page is not the creditor's
    url = f"{CREDITORS}/{tenant.id}/lab/experiments/{experiment_id}"
    assert (await api.http.get(url)).status_code == 403
    # a creditor without experiments has no such section
    other = await new_creditor(api)
    await as_role(api, "creditor", creditor_id=other.id)
    assert "Esperimenti di strategia" not in (await api.http.get("/console/creditor/reports")).text
    assert (await api.http.get(link)).status_code == 403
