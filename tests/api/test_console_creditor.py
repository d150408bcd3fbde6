"""The creditor's portal in the console: the portfolio is GET /practices' query (the same
visibility, the same filters), its CSV export, the practice's page and the creditor's actions,
each through the API's own handler with the session's Principal."""

from __future__ import annotations

import csv
import io

from tests.api.helpers import Api, hand_over, new_creditor, practice_payload
from tests.api.test_console_logins import log_in, person


async def test_a_creditor_filters_its_portfolio_and_exports_it(api: Api) -> None:
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    small = await hand_over(api, tenant.headers, practice_payload(tenant.id, amounts=("100.00",)))
    large = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    foreign = await hand_over(api, other.headers, practice_payload(other.id))

    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    landed = await log_in(api, user["email"], password)
    assert landed.headers["location"] == "/console/creditor/practices"

    page = await api.http.get("/console/creditor/practices")
    assert page.status_code == 200, page.text
    assert small["reference"] in page.text and large["reference"] in page.text
    assert foreign["reference"] not in page.text  # visible_practices: its own creditor's only
    assert "1.250,40\xa0€" in page.text and "100,00\xa0€" in page.text

    # the amount range, and the API's answer to the same filter is the same list
    filtered = await api.http.get(
        "/console/creditor/practices", params={"claim_from": "500", "debtor_kind": "consumer"}
    )
    assert large["reference"] in filtered.text and small["reference"] not in filtered.text
    same = await api.http.get("/practices", headers=tenant.headers, params={"claim_from": "500"})
    assert [p["id"] for p in same.json()["items"]] == [large["id"]]

    # a bad bound: the API's 422 message next to its field; an unknown status too
    bad = await api.http.get("/console/creditor/practices", params={"claim_to": "12,5x"})
    assert bad.status_code == 422 and 'id="claim_to-error"' in bad.text
    bad = await api.http.get("/console/creditor/practices", params={"status": "nonsense"})
    assert bad.status_code == 422 and 'id="status-error"' in bad.text
    # another creditor's portfolio, asked by id: the API's refusal
    refused = await api.http.get("/console/creditor/practices", params={"creditor_id": other.id})
    assert refused.status_code == 403

    exported = await api.http.get("/console/creditor/practices.csv", params={"claim_to": "500"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Riferimento", "Debitore", "Tipo debitore"]
    assert [r[0] for r in rows[1:]] == [small["reference"]]
    assert rows[1][1] == "Mario Rossi" and rows[1][2] == "Consumatore" and rows[1][7] == "100,00"
    # nothing more personal than the page shows: no tax code, e-mail, phone or address
    assert "mario.rossi@example.it" not in exported.text and "Via Roma" not in exported.text

    full = await api.http.get("/console/creditor/practices.csv")
    references = [r.split(";")[0] for r in full.text.lstrip("\ufeff").splitlines()[1:]]
    assert sorted(references) == sorted([small["reference"], large["reference"]])


async def test_an_operator_cannot_open_the_portfolio(api: Api) -> None:
    user, password = await person(api, role="operator")
    await log_in(api, user["email"], password)
    for path in ("/console/creditor/practices", "/console/creditor/practices.csv"):
        refused = await api.http.get(path)
        assert refused.status_code == 403, path


async def test_an_admin_sees_any_creditors_portfolio(api: Api) -> None:
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    user, password = await person(api, role="admin")
    await log_in(api, user["email"], password)
    page = await api.http.get("/console/creditor/practices", params={"creditor_id": tenant.id})
    assert page.status_code == 200 and practice["reference"] in page.text
